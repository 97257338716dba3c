# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from odoo import api, fields, models
from odoo.exceptions import UserError


class CabinetRetentionPolicy(models.Model):
    _name = 'cabinet.retention.policy'
    _description = "Retention Policy"
    _order = 'period_months, name'

    name = fields.Char(required=True, translate=True)
    active = fields.Boolean(default=True)
    period_months = fields.Integer(
        required=True, default=60, help="How long a closed ticket is kept, counted from its closing date."
    )
    action = fields.Selection(
        [('anonymize', "Anonymize"), ('delete', "Delete")],
        required=True,
        default='anonymize',
        help="Anonymize keeps the ticket for statistics without any personal data; delete removes it.",
    )
    legal_reference = fields.Char(
        translate=True, help="The law or rule that sets this period, e.g. a limitation period."
    )
    category_ids = fields.One2many('cabinet.category', 'retention_policy_id', string="Request Types")

    _period_positive = models.Constraint('CHECK (period_months > 0)', "A retention period lasts at least one month.")

    @api.ondelete(at_uninstall=False)
    def _unlink_except_in_use(self):
        if (
            self.env['cabinet.category']
            .with_context(active_test=False)
            .search_count([('retention_policy_id', 'in', self.ids)], limit=1)
        ):
            raise UserError(self.env._("This policy is still used by a request type."))
