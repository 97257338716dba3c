# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from odoo import models
from odoo.tools import SQL


class PrivacyLookupWizard(models.TransientModel):
    _inherit = 'privacy.lookup.wizard'

    def _get_query(self):
        """Also find the messages and attachments of the person's tickets.

        The generic lookup finds the tickets themselves (``partner_id`` references the person) and
        the messages the person wrote; the staff's answers and the documents on those tickets are
        about the person too.
        """
        query = super()._get_query()
        ticket_ids = SQL("SELECT id FROM cabinet_ticket WHERE partner_id IN (SELECT id FROM indirect_references)")
        return SQL(
            """
            %(query)s
            UNION ALL
            SELECT %(message_model_id)s AS res_model_id, id AS res_id, TRUE AS is_active
              FROM mail_message
             WHERE model = %(ticket_model)s
               AND res_id IN (%(ticket_ids)s)
               AND (author_id IS NULL OR author_id NOT IN (SELECT id FROM indirect_references))
            UNION ALL
            SELECT %(attachment_model_id)s AS res_model_id, id AS res_id, TRUE AS is_active
              FROM ir_attachment
             WHERE res_model = %(ticket_model)s
               AND res_id IN (%(ticket_ids)s)
            """,
            query=query,
            message_model_id=self.env['ir.model']._get_id('mail.message'),
            attachment_model_id=self.env['ir.model']._get_id('ir.attachment'),
            ticket_model='cabinet.ticket',
            ticket_ids=ticket_ids,
        )
