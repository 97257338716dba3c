# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from odoo import api, fields, models
from odoo.fields import Command


class CabinetMatterAdd(models.TransientModel):
    _name = 'cabinet.matter.add'
    _description = "Add Tickets to a Matter"

    matter_id = fields.Many2one('cabinet.matter', required=True, domain="[('state', '=', 'open')]")
    ticket_ids = fields.Many2many('cabinet.ticket', string="Tickets", required=True)

    @api.model
    def default_get(self, fields):
        values = super().default_get(fields)
        if self.env.context.get('active_model') == 'cabinet.ticket' and 'ticket_ids' in fields:
            # the selected tickets, as the user may read them
            tickets = self.env['cabinet.ticket'].browse(self.env.context.get('active_ids') or [])
            values['ticket_ids'] = [Command.set(tickets._filtered_access('read').ids)]
        return values

    def action_apply(self):
        self.ensure_one()
        # the user's own rights on the tickets (write) and on the matter (read, open) apply
        self.ticket_ids.write({'matter_id': self.matter_id.id})
        return self.matter_id._get_records_action()
