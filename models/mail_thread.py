# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
import codecs
import logging

from odoo import api, models

_logger = logging.getLogger(__name__)


class MailThread(models.AbstractModel):
    """Mail gateway rules of the helpdesk, applied where the gateway decides.

    The gateway runs on ``mail.thread`` itself (``message_process``), not on the target model:
    routing and posting therefore cannot be changed from ``cabinet.ticket``. These overrides act
    only on routes to ``cabinet.ticket`` (the unknown-charset fallback excepted, which is a plain
    parsing fix) and delegate the decisions to ticket methods:

    - ``message_route``: a reply on a ticket's thread from outside its party becomes a new
      ticket (``cabinet.ticket._cabinet_mail_divert_other_parties``);
    - ``_message_route_process``: Cc, Bcc and other To addresses are dropped before the email is
      posted on a ticket, so they are never linked as recipients (``partner_ids``), never stored
      for "reply all" (``incoming_email_to/cc``) and never written to; automated emails are
      flagged (``cabinet_mail_automated``) so that nothing answers them, and the follower rule
      drops outsiders quietly (``cabinet_mail_gateway``) instead of failing the whole email.
    """

    _inherit = 'mail.thread'

    @api.model
    def message_route(self, message, message_dict, model=None, thread_id=None, custom_values=None):
        routes = super().message_route(
            message, message_dict, model=model, thread_id=thread_id, custom_values=custom_values
        )
        if any(route[0] == 'cabinet.ticket' and route[1] for route in routes):
            routes = self.env['cabinet.ticket']._cabinet_mail_divert_other_parties(message_dict, routes)
        return routes

    @api.model
    def _message_route_process(self, message, message_dict, routes):
        ticket_routes = [route for route in routes or () if route[0] == 'cabinet.ticket']
        if not ticket_routes:
            return super()._message_route_process(message, message_dict, routes)
        thread_id = False
        other_routes = [route for route in routes if route[0] != 'cabinet.ticket']
        if other_routes:
            thread_id = super()._message_route_process(message, dict(message_dict), other_routes)
        ticket_dict = {
            key: value
            for key, value in message_dict.items()
            if key not in ('partner_ids', 'cc_filtered', 'to_filtered')
        }
        automated = self.env['cabinet.ticket']._cabinet_mail_is_automated(message, message_dict)
        # cabinet_mail_gateway: outsiders met on the way are dropped and logged, not refused with an error
        gateway = self.with_context(cabinet_mail_gateway=True, cabinet_mail_automated=automated)
        return super(MailThread, gateway)._message_route_process(message, ticket_dict, ticket_routes) or thread_id

    def _message_parse_extract_payload(self, message, message_dict, save_original=False):
        """Read text parts declared in a charset Python does not know as UTF-8, or as
        Windows-1252 when they are not valid UTF-8, instead of failing on the whole email."""
        for part in message.walk():
            charset = part.get_param('charset')
            if part.get_content_maintype() != 'text' or not isinstance(charset, str):
                continue
            try:
                codecs.lookup(charset)
            except LookupError:
                payload = part.get_payload(decode=True) or b''
                try:
                    payload.decode('utf-8')
                    fallback = 'utf-8'
                except UnicodeDecodeError:
                    fallback = 'windows-1252'
                _logger.info(
                    "Email %s: unknown charset %r read as %s", message_dict.get('message_id'), charset, fallback
                )
                part.set_param('charset', fallback)
        return super()._message_parse_extract_payload(message, message_dict, save_original=save_original)
