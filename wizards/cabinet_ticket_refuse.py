# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from odoo import fields, models


class CabinetTicketRefuse(models.TransientModel):
    _name = 'cabinet.ticket.refuse'
    _description = "Refuse Requests"

    ticket_ids = fields.Many2many('cabinet.ticket', string="Requests", required=True)
    reason = fields.Text(required=True, help="Posted in each request: its requester reads it.")

    def action_refuse(self):
        self.ensure_one()
        self.ticket_ids.action_refuse(self.reason)
        return {'type': 'ir.actions.act_window_close'}
