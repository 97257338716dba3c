# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from odoo import api, fields, models

SWITCH_STATES = [('off', "Off"), ('on', "On")]


class CabinetAnalyticsLog(models.Model):
    """Audit trail of the works-council switch ``cabinet_helpdesk.individual_analytics``.

    One row each time per-employee analytics are turned on or off, by any path (settings page,
    system parameters, code). Rows are written by the system only; nobody edits or deletes them.
    """

    _name = 'cabinet.analytics.log'
    _description = "Per-Employee Analytics Log"
    _order = 'date desc, id desc'
    _rec_name = 'date'

    date = fields.Datetime(required=True, readonly=True, default=fields.Datetime.now, index=True)
    user_id = fields.Many2one(
        'res.users',
        string="Changed By",
        required=True,
        readonly=True,
        ondelete='restrict',
        default=lambda self: self.env.user,
    )
    old_value = fields.Selection(SWITCH_STATES, string="Before", required=True, readonly=True)
    new_value = fields.Selection(SWITCH_STATES, string="After", required=True, readonly=True)

    @api.depends('new_value')
    def _compute_display_name(self):
        for log in self:
            log.display_name = (
                self.env._("Per-employee analytics turned on")
                if log.new_value == 'on'
                else self.env._("Per-employee analytics turned off")
            )

    @api.model
    def _log_switch(self, old_value, new_value):
        """Record that per-employee analytics went from ``old_value`` to ``new_value``.

        :param bool old_value: whether they were on before the change
        :param bool new_value: whether they are on after it
        """
        return self.sudo().create(
            {
                'user_id': self.env.user.id,
                'old_value': 'on' if old_value else 'off',
                'new_value': 'on' if new_value else 'off',
            }
        )
