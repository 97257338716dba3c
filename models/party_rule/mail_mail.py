# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from odoo import api, models

from .cabinet_party_thread import is_party_thread


class MailMail(models.Model):
    _inherit = 'mail.mail'

    @api.model_create_multi
    def create(self, vals_list):
        """Outgoing mail of a thread of one party (``cabinet.party.thread``, e.g. a ticket) goes
        to its party only: no Cc, no Cc/Bcc header, and no recipient outside the follower rule,
        whatever created the mail."""
        mails = super().create(vals_list)
        party_mails = mails.filtered(lambda mail: mail.res_id and is_party_thread(self.env, mail.model))
        for model in dict.fromkeys(party_mails.mapped('model')):
            self.env[model]._restrict_outgoing_mails(
                party_mails.filtered(lambda mail, model=model: mail.model == model).sudo()
            )
        # a coordination's thread is internal: its mail goes to the staff who may read it only
        coordination_mails = mails.filtered(lambda mail: mail.model == 'cabinet.coordination' and mail.res_id)
        if coordination_mails:
            self.env['cabinet.coordination']._restrict_outgoing_mails(coordination_mails.sudo())
        return mails
