# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from odoo import api, fields, models


class IrAttachment(models.Model):
    """Matters: a ticket's document shows its ticket and party in the matter's document list."""

    _inherit = 'ir.attachment'

    cabinet_ticket_id = fields.Many2one(
        'cabinet.ticket', string="Ticket", compute='_compute_cabinet_ticket_id', export_string_translation=False
    )
    cabinet_party_id = fields.Many2one(
        'res.partner', string="Party", compute='_compute_cabinet_ticket_id', export_string_translation=False
    )

    @api.depends_context('uid')
    @api.depends('res_model', 'res_id')
    def _compute_cabinet_ticket_id(self):
        ticket_ids = {att.res_id for att in self if att.res_model == 'cabinet.ticket' and att.res_id}
        # only tickets the user may read are named
        readable = self.env['cabinet.ticket']._readable_ids(ticket_ids)
        for attachment in self:
            ticket = self.env['cabinet.ticket']
            if attachment.res_model == 'cabinet.ticket' and attachment.res_id in readable:
                ticket = ticket.browse(attachment.res_id)
            attachment.cabinet_ticket_id = ticket
            attachment.cabinet_party_id = ticket.commercial_partner_id
