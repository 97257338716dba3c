# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from odoo import api, models
from odoo.fields import Domain


class MailMessage(models.Model):
    """A requester is a requester, staff or not, on every path to ``mail.message``:

    - the internal notes and events of a ticket are kept from an employee who only requested it
      (``cabinet.ticket._requester_only_domain``), as Odoo keeps them from portal users
      (``_get_search_domain_share``): ``_search`` (chatter loading, ``search_read``, a ticket's
      ``message_ids``) adds a condition evaluated in the same query, and
      ``_get_forbidden_access`` (read, write or delete by id) costs one query for internal users;
    - like a client, such a requester changes or deletes only their own messages on the ticket;
    - a message a requester (client or employee) creates directly on a ticket is a public
      comment, as when they post (``cabinet.ticket.message_post``).
    """

    _inherit = 'mail.message'

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su:
            self._cabinet_force_requester_comments(vals_list)
        return super().create(vals_list)

    @api.model
    def _search(self, domain, offset=0, limit=None, order=None, *, bypass_access=False, **kwargs):
        if not (self.env.su or bypass_access) and self.env.user._is_internal():
            domain = Domain(domain) & self._cabinet_requester_visible_domain()
        return super()._search(domain, offset, limit, order, bypass_access=bypass_access, **kwargs)

    def _get_forbidden_access(self, operation):
        forbidden = super()._get_forbidden_access(operation)
        allowed = self - forbidden
        # creating is settled by create itself: a requester's message is a public comment
        if allowed and operation != 'create' and self.env.user._is_internal():
            hidden = ~self._cabinet_requester_visible_domain()
            if operation in ('write', 'unlink'):
                # like a client, a requester changes or deletes only their own messages
                hidden |= self._cabinet_requester_messages_domain() & Domain(
                    'author_id', '!=', self.env.user.partner_id.id
                )
            # sudo: a search by ids with the current user's requester condition, nothing more
            forbidden += self.browse(
                self.sudo().with_context(active_test=False)._search(Domain('id', 'in', allowed.ids) & hidden)
            )
        return forbidden

    @api.model
    def _cabinet_requester_messages_domain(self):
        """Messages of the tickets the current user requested without handling them."""
        Ticket = self.env['cabinet.ticket'].sudo().with_context(active_test=False)
        requested = Ticket._search(Ticket._requester_only_domain(self.env.user))
        return Domain('model', '=', Ticket._name) & Domain('res_id', 'in', requested)

    @api.model
    def _cabinet_requester_visible_domain(self):
        """Messages the current (internal) user may see as far as tickets are concerned: any
        message but the internal ones (internal flag, internal subtype or no subtype) of the tickets
        they requested without handling them."""
        return ~self._cabinet_requester_messages_domain() | self._get_search_domain_share()

    @api.model
    def _cabinet_force_requester_comments(self, vals_list):
        """Make the messages of ``vals_list`` a requester creates on a ticket public comments."""
        Ticket = self.env['cabinet.ticket']
        ticket_ids = {vals['res_id'] for vals in vals_list if vals.get('model') == Ticket._name and vals.get('res_id')}
        if not ticket_ids:
            return
        requested_ids = {ticket.id for ticket in Ticket.browse(ticket_ids) if ticket._posts_as_requester()}
        if not requested_ids:
            return
        forced = dict(Ticket._requester_post_values())
        forced['subtype_id'] = self.env['ir.model.data']._xmlid_to_res_id(forced.pop('subtype_xmlid'))
        for vals in vals_list:
            if vals.get('model') == Ticket._name and vals.get('res_id') in requested_ids:
                vals.update(forced)
