# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
import logging
import uuid

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import MissingError, UserError
from odoo.tools import consteq, plaintext2html

from odoo.addons.portal.utils import validate_thread_with_hash_pid

_logger = logging.getLogger(__name__)


class CabinetTicket(models.Model):
    """Ways into a ticket from the portal (session, signed link, access token) and what the party does
    there: close, reopen."""

    _inherit = 'cabinet.ticket'

    # Portal: the plain token opens the ticket without password; only staff may read it. Made with
    # the ticket (the first notification would write it right after: a query and a write less)
    access_token = fields.Char(
        groups='base.group_user', compute='_compute_access_token', store=True, precompute=True, readonly=False
    )

    def _compute_access_token(self):
        for ticket in self:
            ticket.access_token = ticket.access_token or str(uuid.uuid4())

    def write(self, vals):
        new_requester = self.filtered(lambda t: t.partner_id.id != vals['partner_id']) if 'partner_id' in vals else None
        res = super().write(vals)
        if new_requester:
            new_requester._rotate_access_token()  # the former requester's links die
        return res

    def _compute_access_url(self):
        super()._compute_access_url()
        for ticket in self:
            ticket.access_url = f'/my/tickets/{ticket.id}'

    @api.model
    def _portal_reopen_days(self):
        """Days after closing during which the party may reopen a ticket from the portal
        (setting ``cabinet_helpdesk.portal_reopen_days``, 30 by default, 0 = never)."""
        return self.env['ir.config_parameter']._cabinet_get_setting('cabinet_helpdesk.portal_reopen_days')

    def _portal_can_reopen(self):
        """Whether the party may still reopen this closed ticket from the portal."""
        self.ensure_one()
        if not self.is_closed or not self.closed_date or self.anonymized or not self.active:
            return False
        deadline = self.closed_date + relativedelta(days=self._portal_reopen_days())
        return fields.Datetime.now() <= deadline

    @api.model
    def _portal_create(self, name, description, category, attachments):
        """File the current portal user's request (checked by the portal form): their own party
        is the ticket's, the privacy notice they were shown is recorded, the files they sent come
        with a first message. Return the new ticket, in sudo.

        :param str name: subject
        :param str description: plain text, as typed
        :param category: ``cabinet.category`` the user chose among those offered, or empty
        :param list attachments: ``(file name, content)`` of the files sent
        """
        partner = self.env.user.partner_id
        if not partner.cabinet_privacy_ack_date:
            # sudo: the user records their own acknowledgement on their own contact
            partner.sudo().cabinet_privacy_ack_date = fields.Datetime.now()
        ticket_vals = {
            'name': name,
            'description': plaintext2html(description),
            'partner_id': partner.id,
            'channel': 'portal',
        }
        if category:
            ticket_vals['category_id'] = category.id
            if category.team_id:
                ticket_vals['team_id'] = category.team_id.id
        # sudo: portal users may not create tickets through the ORM; the party is the user's own
        ticket_sudo = self.sudo().create(ticket_vals)
        if attachments:
            # created pending, as the user's own uploads, then linked to the ticket by message_post;
            # HTML and SVG files are stored as plain text so they are never served as pages
            attachments_sudo = (
                self.env['ir.attachment']
                .sudo()
                .with_context(attachments_mime_plainxml=True)
                .create(
                    [
                        {
                            'name': name,
                            'raw': content,
                            'res_model': 'mail.compose.message',
                            'res_id': 0,
                        }
                        for name, content in attachments
                    ]
                )
            )
            ticket_sudo.message_post(
                body=self.env._("Documents sent with the request."),
                author_id=partner.id,
                attachment_ids=attachments_sudo.ids,
                message_type='comment',
                subtype_xmlid='mail.mt_comment',
            )
        return ticket_sudo

    def _portal_close(self, author, reason=None):
        """Close the ticket at the party's request and record why, in a message signed by ``author``.
        Return the access token of the satisfaction rating the party may now give."""
        self.ensure_one()
        reason = (reason or '').strip()
        if reason:
            body = self.env._("Closed by the client: %(reason)s", reason=reason)
        else:
            body = self.env._("Closed by the client.")
        # posted while the ticket is open: a message on a closed ticket would reopen it
        self.message_post(body=body, author_id=author.id, message_type='comment', subtype_xmlid='mail.mt_comment')
        # sudo: a protected field, kept by this method and the change of stage
        self.sudo().closed_by_party = True
        self.action_close()
        return self._rating_get_access_token(partner=author)

    def _portal_reopen(self, author, reason=None):
        """Reopen the ticket at the party's request, back to the first open stage of its team."""
        self.ensure_one()
        if not self._portal_can_reopen():
            raise UserError(self.env._("This ticket can no longer be reopened: please file a new request instead."))
        stage = self._reopen_stage()
        if not stage:
            raise UserError(self.env._("No open stage is configured: create a stage that is not closing."))
        self.write({'stage_id': stage.id})
        reason = (reason or '').strip()
        if reason:
            body = self.env._("Reopened by the client: %(reason)s", reason=reason)
        else:
            body = self.env._("Reopened by the client.")
        self.message_post(body=body, author_id=author.id, message_type='comment', subtype_xmlid='mail.mt_comment')

    # Ways into a ticket from the portal, and how they end. Three, and no other:
    #
    # 1. a session whose user the record rules let read the ticket (the party's contacts, the
    #    agent while its mandate covers the ticket: the rules are evaluated at each request);
    #    that user acts in their own name;
    # 2. a link signed for one partner (``pid`` + ``hash``, sent in notifications): it opens the
    #    ticket only while that partner may follow it now (``_filter_allowed_partners``:
    #    party, mandate dates and scope), and that partner acts in their own name when the
    #    visitor has no session;
    # 3. the plain access token: it lets one read the ticket, never act on it, since it names
    #    nobody. Only staff may read it; links carry it only for the requester (and staff); it
    #    is renewed whenever someone's access ends (mandate revoked, expired, narrowed or
    #    re-dated, contact leaving the party, requester changed), which also voids every signed
    #    link, the signature being derived from it.
    #
    # ``_get_thread_with_access`` (chatter, attachments, avatars) and the portal controller
    # (page, close, reopen, rating) both decide through ``_portal_access``.

    @api.model
    def _portal_access(self, ticket_id, access_token=None, pid=None, hash=None):
        """Decide whether the current visitor may open ticket ``ticket_id``, and as whom.

        :param int ticket_id: the ticket asked for
        :param str access_token: plain access token given with the request, if any
        :param pid: partner id of a signed link, if any
        :param str hash: signature of that link, if any
        :return: ``(ticket_sudo, author)``: the ticket in sudo, or an empty recordset when
            refused; the partner acting on it, or an empty recordset when the visitor may only
            read
        """
        ticket = self.browse(ticket_id)
        user = self.env.user
        # the access check reads the ticket (or finds it missing): no existence check before it
        if not user._is_public() and ticket.has_access('read'):
            return ticket.sudo(), user.partner_id
        ticket_sudo = ticket.sudo().exists()
        if not ticket_sudo:
            return self.browse(), self.env['res.partner']
        return ticket_sudo._link_access(access_token=access_token, pid=pid, hash=hash)

    def _link_access(self, access_token=None, pid=None, hash=None):
        """Access given by a link to a visitor whom the record rules do not let read this ticket
        (see ``_portal_access``). A signed link whose partner may no longer see the
        ticket is refused, whatever else the link carries. Call it on a ``sudo()`` record."""
        self.ensure_one()
        nobody = self.env['res.partner']
        if pid or hash:
            partner = self._signed_partner(pid, hash)
            if not partner:
                return self.browse(), nobody
            # someone logged in under another name does not act as the link's partner
            return self, partner if self.env.user._is_public() else nobody
        if isinstance(access_token, str) and self.access_token and consteq(self.access_token, access_token):
            return self, nobody
        return self.browse(), nobody

    def _signed_partner(self, pid, hash):
        """The partner a signed link was made for, when its signature is right and that partner
        may follow this ticket now; an empty recordset otherwise."""
        self.ensure_one()
        nobody = self.env['res.partner']
        try:
            pid = int(pid)
        except (TypeError, ValueError):
            return nobody
        if not isinstance(hash, str) or not self.access_token or self.anonymized:
            return nobody
        if not validate_thread_with_hash_pid(self, hash, pid):
            return nobody
        # a partner that no longer exists is found out by the rule reading it
        try:
            return self._filter_allowed_partners(self.env['res.partner'].browse(pid))
        except MissingError:
            return nobody

    @api.model
    def _get_thread_with_access(self, thread_id, *, mode='read', hash=None, pid=None, token=None, **kwargs):
        """Thread access of the mail and portal routes: the record rules first, then a link as
        ``_link_access`` decides, for reading (and posting, which needs read access on
        tickets; the portal controller also asks for a partner to post as) but never for more."""
        thread = super()._get_thread_with_access(thread_id, mode=mode, **kwargs)
        if thread or mode != 'read':
            return thread
        ticket_sudo = self.browse(thread_id).sudo().exists()
        if not ticket_sudo:
            return self.browse()
        return ticket_sudo._link_access(access_token=token, pid=pid, hash=hash)[0]

    def _sign_token(self, pid):
        # sudo: the signature derives from the access token, which only staff may read; the
        # signature itself goes only into links made for ``pid``
        return super(CabinetTicket, self.sudo())._sign_token(pid)

    def _get_share_url(self, redirect=False, signup_partner=False, pid=None, share_token=True):
        """Links carry the plain access token only for staff and for the requester, the one person
        it is meant for. A portal user opens their tickets with their session; anyone else gets
        a link signed for them, checked against their current allowance at each use."""
        self.ensure_one()
        if share_token and not self.env.su and not self.env.user._is_internal():
            share_token = False
        elif share_token and pid and int(pid) != self.sudo().partner_id.id:
            share_token, redirect, signup_partner = False, False, False
        return super()._get_share_url(
            redirect=redirect, signup_partner=signup_partner, pid=pid, share_token=share_token
        )

    def _rotate_access_token(self):
        """Give the tickets a new access token: every link handed out before, plain or signed,
        stops working. Tickets without a token yet keep none (one is made when needed)."""
        # sudo: the token is readable by staff only; the caller ended someone's access
        for ticket in self.sudo().filtered('access_token'):
            ticket.access_token = str(uuid.uuid4())
