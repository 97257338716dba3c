# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from odoo import api, fields, models, tools
from odoo.exceptions import UserError
from odoo.fields import Domain


class CabinetStage(models.Model):
    _name = 'cabinet.stage'
    _description = "Ticket Stage"
    _order = 'sequence, id'

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    description = fields.Text(translate=True, help="What this stage means, shown to staff.")
    fold = fields.Boolean(string="Folded in Kanban", help="Folded in the kanban view when empty.")
    is_closed = fields.Boolean(
        string="Closing Stage", help="Tickets in this stage are closed: their need is answered or abandoned."
    )
    team_ids = fields.Many2many(
        'cabinet.team',
        'cabinet_stage_team_rel',
        'stage_id',
        'team_id',
        string="Teams",
        help="Teams that use this stage. Leave empty to share it with every team.",
    )
    mail_template_id = fields.Many2one(
        'mail.template',
        string="Email Template",
        domain=[('model', '=', 'cabinet.ticket')],
        help="Sent to the ticket's party when the ticket enters this stage.",
    )
    ticket_count = fields.Integer(compute='_compute_ticket_count')

    def _compute_ticket_count(self):
        counts = dict(self.env['cabinet.ticket']._read_group([('stage_id', 'in', self.ids)], ['stage_id'], ['__count']))
        for stage in self:
            stage.ticket_count = counts.get(stage, 0)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_used(self):
        if (
            self.env['cabinet.ticket']
            .with_context(active_test=False)
            .search_count([('stage_id', 'in', self.ids)], limit=1)
        ):
            raise UserError(
                self.env._("Tickets are still in this stage. Move them to another stage or archive the stage.")
            )

    @api.model_create_multi
    def create(self, vals_list):
        stages = super().create(vals_list)
        self.env.registry.clear_cache()  # _team_stage_ids
        return stages

    def write(self, vals):
        res = super().write(vals)
        if vals.keys() & {'team_ids', 'active', 'sequence'}:
            self.env.registry.clear_cache()  # _team_stage_ids
        return res

    def unlink(self):
        res = super().unlink()
        self.env.registry.clear_cache()  # _team_stage_ids
        return res

    @api.model
    @tools.ormcache('team_id')
    def _team_stage_ids(self, team_id):
        """Ids of the active stages the team ``team_id`` uses (the shared ones and its own), in
        order; without team (``False``), of the shared ones. Read once and cached: every list of
        tickets offers the stages of each team on its page."""
        domain = Domain('team_ids', '=', False)
        if team_id:
            domain |= Domain('team_ids', 'in', [team_id])
        # sudo: stage configuration, the same for everyone, whatever the caller's context
        return tuple(self.sudo().with_context(active_test=True).search(domain, order='sequence, id').ids)
