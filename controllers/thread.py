# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from odoo.addons.portal.controllers.thread import PortalThreadController


class CabinetThreadController(PortalThreadController):
    def _prepare_message_data(self, post_data, *, thread, **kwargs):
        """``/mail/message/post`` posts in sudo whatever message type and subtype the client asked
        for: on a ticket, a requester (a client, or an employee who does not handle it) posts a
        public comment only (``cabinet.ticket._posts_as_requester``)."""
        values = super()._prepare_message_data(post_data, thread=thread, **kwargs)
        if kwargs.get('from_create') and thread._name == 'cabinet.ticket' and thread:
            if thread._posts_as_requester():
                values.update(thread._requester_post_values())
        return values
