# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from odoo import models
from odoo.tools.mail import email_normalize_all

from ..models.party_rule.cabinet_party_thread import is_party_thread


class MailComposeMessage(models.TransientModel):
    _inherit = 'mail.compose.message'

    def _prepare_mail_values(self, res_ids):
        """Mass mailing on threads of one party (``cabinet.party.thread``, e.g. tickets): each mail
        goes to its record's party only. The composer's recipients and the template's To/Cc are
        checked against each record's follower rule and refused when someone else is in them
        (comment mode is checked by ``message_post``)."""
        mail_values_all = super()._prepare_mail_values(res_ids)
        if self.composition_mode != 'mass_mail' or not is_party_thread(self.env, self.model):
            return mail_values_all
        for ticket in self.env[self.model].browse(list(mail_values_all)):
            values = mail_values_all[ticket.id]
            partner_ids = [
                command[1]
                for command in values.get('recipient_ids') or []
                if isinstance(command, (list, tuple)) and command[0] == 4
            ]
            partners = self.env['res.partner'].browse(partner_ids)
            ticket._enforce_allowed_partners(partners)
            emails = email_normalize_all(f"{values.get('email_to') or ''},{values.get('email_cc') or ''}")
            found, unknown = ticket._partners_from_emails(emails)
            if unknown:
                ticket._refuse_addresses(unknown)
            if emails:
                values['recipient_ids'] = list(values.get('recipient_ids') or []) + [
                    (4, partner.id) for partner in found.values() if partner.id not in partner_ids
                ]
                values.update(email_to=False, email_cc=False)
        return mail_values_all
