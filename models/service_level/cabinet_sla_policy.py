# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from odoo import api, fields, models, tools

from ..const import PRIORITIES


class CabinetSlaPolicy(models.Model):
    _name = 'cabinet.sla.policy'
    _description = "Service Level Policy"
    _order = 'sequence, id'
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    team_id = fields.Many2one('cabinet.team', required=True, index=True, check_company=True)
    company_id = fields.Many2one(related='team_id.company_id', store=True, index=True)
    category_ids = fields.Many2many(
        'cabinet.category', string="Request Types", help="Leave empty to apply to every request type."
    )
    priority = fields.Selection(
        PRIORITIES,
        string="Minimum Priority",
        default='0',
        required=True,
        help="Applies to tickets of this priority or higher.",
    )
    response_hours = fields.Float(
        default=8.0, help="Working hours of the team's calendar to send a first answer to the party."
    )
    resolve_hours = fields.Float(default=40.0, help="Working hours of the team's calendar to close the ticket.")
    at_risk_percent = fields.Integer(
        string="At Risk Share (%)",
        default=20,
        help="A pending deadline is at risk when less than this share of its window is left; whoever "
        "handles the ticket is then warned once.",
    )
    escalate_to_id = fields.Many2one(
        'res.users',
        domain=[('share', '=', False)],
        help="Warned when a ticket under this policy breaches its deadlines; the team leader otherwise.",
    )

    _hours_positive = models.Constraint(
        'CHECK (response_hours >= 0 AND resolve_hours >= 0)', "Service level hours cannot be negative."
    )
    _at_risk_percent_range = models.Constraint(
        'CHECK (at_risk_percent BETWEEN 1 AND 99)', "The at risk share must be between 1 and 99 percent."
    )

    @api.model_create_multi
    def create(self, vals_list):
        policies = super().create(vals_list)
        self.env.registry.clear_cache()  # _team_policy_ids
        return policies

    def write(self, vals):
        res = super().write(vals)
        if vals.keys() & {'team_id', 'active'}:
            self.env.registry.clear_cache()  # _team_policy_ids
        return res

    def unlink(self):
        res = super().unlink()
        self.env.registry.clear_cache()  # _team_policy_ids
        return res

    @api.model
    @tools.ormcache('team_ids')
    def _team_policy_ids(self, team_ids):
        """The ids of the active service levels of the teams ``team_ids`` (a sorted tuple), looked
        up once for all the tickets of these teams created since the last change of a policy.

        :rtype: tuple
        """
        # sudo: as the computation of a ticket's service level, which this serves
        return tuple(self.sudo().with_context(active_test=True).search([('team_id', 'in', list(team_ids))]).ids)
