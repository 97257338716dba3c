# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from odoo import models


class MailMessage(models.Model):
    _inherit = 'mail.message'

    # The same email delivered twice at once to a ticket's thread (a mail transfer agent retrying
    # a slow delivery, two incoming servers on one mailbox) is posted once: the second delivery
    # waits for the first, then fails on this index and is delivered again later, when the
    # gateway knows the email and ignores it (as ``cabinet.ticket._email_message_team_uniq`` for
    # the email opening a ticket).
    _cabinet_ticket_email_uniq = models.UniqueIndex(
        "(res_id, message_id) WHERE model = 'cabinet.ticket' AND message_type = 'email' AND message_id IS NOT NULL"
    )
