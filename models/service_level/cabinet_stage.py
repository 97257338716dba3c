# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from odoo import fields, models


class CabinetStage(models.Model):
    _inherit = 'cabinet.stage'

    sla_paused = fields.Boolean(
        string="Pauses Service Levels",
        help="The working time a ticket spends in this stage (e.g. waiting for the party) does not count "
        "toward its service level deadlines: they move by that time when the ticket leaves the stage.",
    )
    sla_excluded = fields.Boolean(
        string="Not Counted in Service Levels",
        help="Tickets closed in this stage (cancelled, withdrawn, refused) are neither met nor breached: "
        "they are left out of the service level figures.",
    )

    def write(self, vals):
        res = super().write(vals)
        if vals.keys() & {'sla_paused', 'is_closed'}:
            # the tickets already in the stage start or end their pause now
            self.env['cabinet.ticket'].with_context(active_test=False).search(
                [('stage_id', 'in', self.ids)]
            )._sla_update_pause()
        return res
