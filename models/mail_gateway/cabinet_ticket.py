# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
import logging
import re
from email.errors import HeaderMissingRequiredValue, HeaderParseError, InvalidHeaderDefect, MessageError
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.policy import SMTP

from odoo import SUPERUSER_ID, api, fields, models
from odoo.tools import email_normalize
from odoo.tools.mail import decode_message_header, email_normalize_all

from ..const import (
    ADDRESS_LIKE,
    AUTOMATED_HEADERS,
    AUTOMATED_PRECEDENCES,
    AUTOMATED_SENDERS,
)

_logger = logging.getLogger(__name__)


class CabinetTicket(models.Model):
    """Tickets from email: routing, diversion of other parties, sender identity, acknowledgement,
    attachment limit, unreadable and automated mail, emails to qualify."""

    _inherit = 'cabinet.ticket'

    # Mail gateway and coordination
    partner_to_qualify = fields.Boolean(
        string="Party to Qualify",
        copy=False,
        index=True,
        help="The requester was created from an unknown email sender: check who they are and their party "
        "type, then mark the party as checked.",
    )
    email_message_id = fields.Char(
        string="Opening Email Message-ID",
        readonly=True,
        copy=False,
        export_string_translation=False,
        help="Message-ID of the email that opened the ticket.",
    )

    # The same email delivered twice at once (a mail transfer agent retrying a slow delivery, two
    # incoming servers on one mailbox) opens one ticket per team: the second delivery waits for
    # the first, then fails on this index and is delivered again later, when the gateway knows the
    # email and ignores it.
    _email_message_team_uniq = models.UniqueIndex(
        '(email_message_id, COALESCE(team_id, 0)) WHERE email_message_id IS NOT NULL'
    )

    def _notify_get_reply_to_batch(self, defaults=None, author_ids=None):
        """Replies go back to the ticket: through the team's alias when it has one (the thread
        headers bring the reply to this ticket), else the company's catchall (Odoo's default,
        computed only for the tickets whose team has no alias)."""
        if not self:
            return super()._notify_get_reply_to_batch(defaults=defaults, author_ids=author_ids)
        # sudo: the team's alias address is not personal data and is printed in every mail
        alias_emails = {ticket.id: ticket.team_id.alias_email for ticket in self.sudo()}
        others = self.filtered(lambda ticket: not alias_emails[ticket.id])
        reply_to = {}
        if others:
            reply_to = super(CabinetTicket, others)._notify_get_reply_to_batch(
                defaults=None if defaults is None else {key: defaults[key] for key in others.ids},
                author_ids=None if author_ids is None else {key: author_ids[key] for key in others.ids},
            )
        for ticket in self - others:
            reply_to[ticket.id] = self._notify_get_reply_to_formatted_email(
                alias_emails[ticket.id], author_id=(author_ids or {}).get(ticket.id, False)
            )
        return reply_to

    @api.model
    def message_new(self, msg_dict, custom_values=None):
        """Open a ticket for the sender of an email written to a team alias.

        The requester is the contact the routing found for the sender's address (see
        ``_mail_routes``), or a new partner of party type *other* whose ticket is flagged
        ``partner_to_qualify``. An email the routing could not attribute for certain (no or
        malformed sender, several senders, an address shared by several parties) or could not
        read arrives with the reason in ``custom_values`` and is kept as a ``cabinet.mail.pending``
        record (returned instead of a ticket, so the gateway posts the email there) for a person
        to qualify: never a ticket without a sure requester. Cc and Bcc addresses never reach
        this point (see ``mail_thread.py``).
        """
        values = dict(custom_values or {})
        diverted_from = self.browse(values.pop('cabinet_diverted_from_id', False))
        pending_reason = values.pop('cabinet_mail_pending_reason', False)
        raw_from = values.pop('cabinet_mail_raw_from', None)
        # the original of an unreadable email is its only copy: it is kept whatever its size
        refused = [] if pending_reason == 'unreadable' else self._mail_refuse_attachments(msg_dict)
        requester, created = self.env['res.partner'], False
        if not pending_reason:
            requester, created = self._mail_find_requester(msg_dict)
        if not requester:
            pending = self.env['cabinet.mail.pending']._create_from_mail(
                msg_dict, values, refused, reason=pending_reason, email_from=raw_from
            )
            if diverted_from:
                diverted_from._mail_note_to_qualify(pending)
            return pending
        msg_dict['author_id'] = requester.id
        values.update(
            {
                'name': values.get('name')
                or (msg_dict.get('subject') or '').strip()
                or self.env._("Email without subject"),
                'partner_id': requester.id,
                'channel': 'email',
                'partner_to_qualify': created,
                'email_message_id': msg_dict.get('message_id') or False,
            }
        )
        # the sender's address is the requester's: never write it onto the partner (email_from is related)
        ticket = super().message_new(dict(msg_dict, email_from=False), values)
        if diverted_from:
            diverted_from._mail_note_diverted(ticket.number)
        if refused:
            ticket._mail_note_refused(refused)
        if not self.env.context.get('cabinet_mail_automated'):
            ticket._mail_send_acknowledgement(refused)
        return ticket

    def message_update(self, msg_dict, update_vals=None):
        """Let a reply of the ticket's party (or of the firm's staff) enter the ticket.

        Replies from anyone else never get here: the routing sent them to a new ticket of their
        own (``_mail_divert_other_parties``). Attachments over the size limit are
        refused: a note says so on the ticket and the sender is told, unless the reply is an
        automated one.
        """
        refused = self._mail_refuse_attachments(msg_dict)
        result = super().message_update(msg_dict, update_vals=update_vals)
        if refused:
            self._mail_note_refused(refused)
            author = self.env['res.partner'].browse(msg_dict.get('author_id'))
            if author and not self.env.context.get('cabinet_mail_automated'):
                self._mail_tell_refused(author, refused)
        return result

    def action_mark_party_qualified(self):
        self.write({'partner_to_qualify': False})

    @api.model
    def _mail_routes(self, message, message_dict, routes):
        """Apply the gateway's rules to the routes of one incoming email (the routing hook
        ``mail.thread.message_route`` calls this when a route leads to tickets).

        Once a route points at a ticket, the gateway posts the email on it whatever
        ``message_new`` or ``message_update`` do: the sender is therefore decided here, once,
        for new tickets and replies alike.

        - An email that could not be read (see ``mail.thread.message_process``), or whose sender
          is not usable (``_mail_usable_sender``) or is an address of several parties
          (``_mail_sender_partner``), is kept as an email to qualify: it neither opens a
          ticket for a guessed party nor enters a ticket's thread.
        - Otherwise the sender's contact becomes the author (``author_id``), chosen here rather
          than by Odoo's lookup, and a reply from outside the ticket's party opens a ticket of its
          own (``_mail_divert_other_parties``).
        - One email opens at most one ticket, even when written to several team aliases
          (``_mail_one_new_ticket``).

        :param message: the incoming ``email.message.EmailMessage``
        :param dict message_dict: the parsed email; ``author_id`` is set or cleared here
        :param list routes: routes ``(model, thread_id, custom_values, user_id, alias)``
        :return: the routes to process
        :rtype: list
        """
        if self.env.context.get('cabinet_mail_unreadable'):
            reason = 'unreadable'
        else:
            sender, reason = self._mail_usable_sender(message, message_dict)
            if not reason:
                partner, ambiguous = self._mail_sender_partner(sender)
                reason = ambiguous and 'ambiguous'
                message_dict['author_id'] = partner.id
        if reason:
            _logger.info(
                "Email with Message-Id %s kept for a person to qualify: %s", message_dict.get('message_id'), reason
            )
            message_dict['author_id'] = False
            routes = self._mail_keep_to_qualify(message, routes, reason)
        else:
            routes = self._mail_divert_other_parties(message_dict, routes)
        return self._mail_one_new_ticket(message, routes)

    @api.model
    def _mail_usable_sender(self, message, message_dict):
        """Decide whether the From header of an incoming email names one sender for certain.

        It does when there is one From header, parsing to exactly one mailbox, without structural
        defect, whose display name shows no other address than the mailbox's own
        (``"anna@alpha.example" <mallory@evil.example>`` shows Anna's address but is Mallory's),
        and whose address is the one Odoo read (``message_dict['email_from']``). Anything else (no
        sender, garbage, several addresses) is not attributed to anyone.

        :param message: the incoming ``email.message.EmailMessage``
        :param dict message_dict: the parsed email
        :return: ``(normalized email, False)`` for a usable sender, else ``(False, reason)``
            with reason ``missing``, ``malformed`` or ``several``
        :rtype: tuple
        """
        try:
            headers = message.get_all('From') or []
            if len(headers) > 1:
                return False, 'several'
            if not headers or not str(headers[0]).strip():
                return False, 'missing'
            header = headers[0]
            if not hasattr(header, 'groups'):
                header = SMTP.header_factory('From', str(header))
            mailboxes = [mailbox for group in header.groups for mailbox in group.addresses]
            defects = [
                defect
                for defect in header.defects
                if isinstance(defect, (InvalidHeaderDefect, HeaderMissingRequiredValue))
            ]
        except (LookupError, TypeError, ValueError, AttributeError, MessageError):
            return False, 'malformed'
        if len(mailboxes) > 1:
            return False, 'several'
        if not mailboxes or defects:
            return False, 'malformed'
        # header bytes that are not ASCII come back as surrogates: read them as UTF-8
        display_name, addr_spec = (
            value.encode('utf-8', 'surrogateescape').decode('utf-8', 'replace')
            for value in (mailboxes[0].display_name or '', mailboxes[0].addr_spec or '')
        )
        sender = email_normalize(addr_spec)
        if not sender or any(
            email_normalize(shown.strip("'()[],;:")) != sender for shown in ADDRESS_LIKE.findall(display_name)
        ):
            return False, 'malformed'
        if sender != email_normalize(message_dict.get('email_from') or ''):
            return False, 'malformed'
        return sender, False

    @api.model
    def _mail_sender_partner(self, address):
        """The contact behind the sender address ``address`` of an incoming email.

        An address is ambiguous when contacts of different parties (commercial partners; the
        firm's internal users count as one side) have it: anyone may write any address on their
        own contact, so such an email is never attributed to one of them silently. Among contacts
        of the same party, the one with a user account is preferred, then the oldest.

        :param str address: normalized address
        :return: ``(partner, ambiguous)``; an empty partner when nobody has the address or when
            it is ambiguous
        :rtype: tuple
        """
        partners = self.env['mail.thread']._cabinet_mail_address_partners(address)
        sides = {'staff' if not partner.partner_share else partner.commercial_partner_id.id for partner in partners}
        if len(sides) > 1:
            return self.env['res.partner'], True
        return partners.sorted(lambda partner: not partner.user_ids)[:1].sudo(False), False

    @api.model
    def _mail_keep_to_qualify(self, message, routes, reason):
        """Turn the routes of ``routes`` to tickets into routes keeping the email to qualify
        (``cabinet.mail.pending``), for the same team, run as the gateway's own user rather than
        as a user guessed from the sender's address. A reply on a ticket's thread gets an internal
        note there naming only the email to qualify.

        :param str reason: why the email is kept (a ``cabinet.mail.pending`` reason)
        :return: the routes to process
        :rtype: list
        """
        raw_from = self._mail_raw_from(message)
        result = []
        for route in routes:
            model, thread_id, custom_values, _user_id, alias = route
            if model != self._name:
                result.append(route)
                continue
            values = dict(custom_values or {})
            if thread_id:
                ticket = self.browse(thread_id)
                values = {
                    'team_id': ticket.team_id.id,
                    'company_id': ticket.company_id.id,
                    'cabinet_diverted_from_id': ticket.id,
                }
            values.update(cabinet_mail_pending_reason=reason, cabinet_mail_raw_from=raw_from)
            result.append((model, False, values, self.env.uid, alias))
        return result

    @api.model
    def _mail_raw_from(self, message):
        """The From header(s) of ``message`` as sent, encoded words decoded: Python's parsed
        value keeps only what it could read as addresses, hiding what made the sender unusable."""
        values = []
        for name, value in message.raw_items():
            if name.lower() != 'from':
                continue
            value = re.sub(r'\r?\n(?=[ \t])', '', str(value)).encode('utf-8', 'surrogateescape')
            value = value.decode('utf-8', 'replace')
            try:
                value = str(make_header(decode_header(value)))
            except (LookupError, UnicodeError, ValueError, HeaderParseError):
                _logger.debug("From header kept undecoded: %r", value)
            values.append(value.strip())
        return ', '.join(value for value in values if value)

    @api.model
    def _mail_one_new_ticket(self, message, routes):
        """Keep one route opening a ticket among ``routes``: an email written to several team
        aliases is one need, it opens one ticket and gets one acknowledgement. The alias kept is
        the first one in the To header, then in Cc (then any other route, in routing order). The
        same email reaching the gateway again through another alias's mailbox is ignored by the
        gateway (same Message-Id).

        :return: the routes to process
        :rtype: list
        """
        creating = [route for route in routes if route[0] == self._name and not route[1]]
        if len(creating) < 2:
            return routes
        recipients = [
            address
            for header in ('To', 'Cc')
            for address in email_normalize_all(decode_message_header(message, header, separator=','))
        ]

        def position(route):
            alias = route[4]
            for index, address in enumerate(recipients):
                if alias and (
                    address == alias.alias_full_name
                    or (alias.alias_incoming_local and address.split('@', 1)[0] == alias.alias_name)
                ):
                    return index
            return len(recipients)

        kept = min(creating, key=position)
        _logger.info(
            "Email with Message-Id %s written to %s team aliases: one ticket, through %s",
            message.get('Message-Id'),
            len(creating),
            kept[4].alias_full_name,
        )
        return [route for route in routes if route is kept or route not in creating]

    @api.model
    def _mail_divert_other_parties(self, message_dict, routes):
        """Turn the routes of ``routes`` that would add an email to an existing ticket into
        routes creating a new ticket (same team) when the sender is outside the ticket's party.

        This is part of the routing (``_mail_routes``) rather than ``message_update``:
        once a route points at a ticket, the gateway posts the email on it whatever
        ``message_update`` does. The sender (``message_dict['author_id']``, found by the
        routing) may write on the ticket when they are a contact of the ticket's party or an
        internal user; anyone else, an unknown address included, gets a ticket of their own and
        the original ticket an internal note naming only the new ticket's number.

        :param dict message_dict: parsed email
        :param list routes: routes ``(model, thread_id, custom_values, user_id, alias)``
        :return: the routes to process
        :rtype: list
        """
        author = self.env['res.partner'].browse(message_dict.get('author_id'))
        result = []
        for route in routes:
            model, thread_id, _custom_values, user_id, alias = route
            if model != self._name or not thread_id:
                result.append(route)
                continue
            ticket = self.browse(thread_id)
            if author and ticket._mail_author_allowed(author):
                result.append(route)
                continue
            _logger.info(
                "Email with Message-Id %s replies to ticket %s from outside its party: opening a new ticket",
                message_dict.get('message_id'),
                ticket.id,
            )
            result.append(
                (
                    model,
                    False,
                    {
                        'team_id': ticket.team_id.id,
                        'company_id': ticket.company_id.id,
                        'cabinet_diverted_from_id': ticket.id,
                    },
                    user_id,
                    alias,
                )
            )
        return result

    def _mail_author_allowed(self, partner):
        """Whether ``partner`` may write on this ticket by email: a contact of its party, the
        agent of an active mandate covering it, or the firm's staff."""
        self.ensure_one()
        return bool(self._filter_allowed_partners(partner))

    @api.model
    def _detect_loop_sender_domain(self, email_from_normalized):
        """Tickets opened by the sender of an incoming email, for Odoo's loop detection: those
        opened by email for the contacts having the address (already looked up by the routing),
        rather than a search of the requesters' addresses by pattern. Tickets the firm filed for
        them (phone, portal, staff) are not a mail loop, however many."""
        partners = self.env['mail.thread']._cabinet_mail_address_partners(email_from_normalized)
        return [('partner_id', 'in', partners.ids), ('channel', '=', 'email')]

    @api.model
    def _mail_is_automated(self, message, message_dict):
        """Whether an incoming email was sent by a machine (auto-reply, bounce, bulk or list
        mail, mailer daemon): such emails never get an acknowledgement nor any other answer.

        :param message: the incoming ``email.message.EmailMessage``
        :param dict message_dict: its parsed values
        :rtype: bool
        """
        if message_dict.get('is_bounce'):
            return True
        auto_submitted = (message.get('Auto-Submitted') or '').strip().lower()
        if auto_submitted and not auto_submitted.startswith('no'):
            return True
        if (message.get('Precedence') or '').strip().lower() in AUTOMATED_PRECEDENCES:
            return True
        if any(message.get(header) for header in AUTOMATED_HEADERS):
            return True
        suppress = (message.get('X-Auto-Response-Suppress') or '').lower()
        if 'all' in suppress or 'autoreply' in suppress:
            return True
        sender = email_normalize(message_dict.get('email_from') or '') or ''
        return sender.split('@', 1)[0] in AUTOMATED_SENDERS

    @api.model
    def _mail_find_requester(self, msg_dict):
        """Find the requester of a new ticket from the sender of ``msg_dict``: the author the
        routing found (``_mail_routes``), else the contact having the address, else a new
        partner of party type *other* for an unknown address.

        :return: ``(partner, created)``; an empty partner when the sender is missing or
            malformed, or when the address belongs to several parties
        :rtype: tuple
        """
        email_from = msg_dict.get('email_from') or ''
        sender = email_normalize(email_from)
        if not sender:
            return self.env['res.partner'], False
        if msg_dict.get('author_id'):
            return self.env['res.partner'].browse(msg_dict['author_id']), False
        partner, ambiguous = self._mail_sender_partner(sender)
        if partner or ambiguous:
            return partner, False
        partner = self._partner_find_from_emails_single(
            [email_from], additional_values={sender: {'party_type': 'other'}}
        )
        return partner, bool(partner)

    @api.model
    def _max_attachment_size_mb(self):
        """Largest file accepted with a request, in MB (``cabinet_helpdesk.max_attachment_size_mb``)."""
        return self.env['ir.config_parameter']._cabinet_get_setting('cabinet_helpdesk.max_attachment_size_mb')

    @api.model
    def _mail_refuse_attachments(self, msg_dict):
        """Take the attachments over the size limit out of ``msg_dict``.

        :return: ``(file name, size in MB)`` of each refused attachment
        :rtype: list
        """
        limit = self._max_attachment_size_mb() * 1024 * 1024
        kept, refused = [], []
        for attachment in msg_dict.get('attachments') or []:
            content = attachment[1]
            if isinstance(content, EmailMessage):
                size = len(content.as_bytes())
            elif isinstance(content, str):
                size = len(content.encode('utf-8', errors='replace'))
            else:
                size = len(content or b'')
            if size > limit:
                refused.append((attachment[0] or 'attachment', round(size / 1024 / 1024, 1)))
            else:
                kept.append(attachment)
        if refused:
            msg_dict['attachments'] = kept
        return refused

    def _mail_bot(self):
        """This ticket as OdooBot, to post the gateway's own messages: as OdooBot is inactive,
        the requester is notified even when the gateway runs as their own user."""
        return self.with_user(SUPERUSER_ID)

    def _mail_send_acknowledgement(self, refused=()):
        """Send the acknowledgement of the ticket's team (if it sends any) to the requester only.

        The template is rendered once, in the requester's language, and posted as OdooBot in the
        name of the firm (the company's contact, when the template sends from its address) to the
        requester alone: no composer, no lookup of the sender address, no other recipient whatever
        the template says. Its attachments and reports come along, as copies.
        """
        self.ensure_one()
        if self.team_id and not self.team_id.use_acknowledgement:
            return
        template = self.team_id.acknowledgement_template_id or self.env['mail.template'].browse(
            self.env['ir.model.data']._xmlid_to_res_id(
                'cabinet_helpdesk.mail_template_ticket_acknowledgement', raise_if_not_found=False
            )
        )
        requester = self.partner_id
        if not template or not requester.email_normalized:
            return
        ticket = self._mail_bot().with_context(
            cabinet_refused_attachments=", ".join(name for name, _size in refused),
            cabinet_max_attachment_size_mb=self._max_attachment_size_mb(),
        )
        values = template.with_env(ticket.env)._generate_template(
            ticket.ids,
            (
                'attachment_ids',
                'body_html',
                'email_from',
                'lang',
                'mail_server_id',
                'reply_to',
                'report_template_ids',
                'scheduled_date',
                'subject',
            ),
        )[self.id]
        email_from = values.get('email_from') or False
        # the author is the firm's contact when the template sends from the firm's address (its
        # own, else its mail domain's), or the gateway's own: known here, not looked up by address
        sender = email_normalize(email_from) if email_from else False
        company = self.company_id.sudo()
        senders = {
            email_normalize(company.email_formatted or ''): company.partner_id,
            ticket.env.user.partner_id.email_normalized: ticket.env.user.partner_id,
        }
        author = senders.get(sender) if sender else None
        # the template's own files stay with it: the message gets copies, as the composer makes
        attachments = self.env['ir.attachment'].browse(values.get('attachment_ids') or [])
        attachment_ids = [
            attachment.copy({'res_model': 'mail.compose.message', 'res_id': 0}).id for attachment in attachments.sudo()
        ]
        ticket.message_post(
            body=values.get('body_html') or '',
            subject=values.get('subject') or False,
            email_from=email_from,
            author_id=author.id if author else None,
            partner_ids=requester.ids,
            attachment_ids=attachment_ids,
            attachments=values.get('attachments') or [],
            mail_server_id=values.get('mail_server_id') or False,
            message_type='auto_comment',
            subtype_xmlid='mail.mt_note',
            email_layout_xmlid='mail.mail_notification_light',
            email_add_signature=False,  # the template signs, as with the composer
            force_email_lang=values.get('lang') or False,
            mail_auto_delete=template.auto_delete,
            scheduled_date=values.get('scheduled_date') or False,
            **({'reply_to': values['reply_to']} if values.get('reply_to') else {}),
        )

    def _mail_note_diverted(self, reference):
        """Note on this ticket that an email of its thread went elsewhere, naming only where."""
        self.ensure_one()
        self._mail_bot().message_post(
            body=self.env._(
                "An email arriving on this ticket's thread came from outside its party. It was not added "
                "here: it is handled separately as %(reference)s.",
                reference=reference,
            ),
            message_type='notification',
            subtype_xmlid='mail.mt_note',
        )

    def _mail_note_to_qualify(self, pending):
        """Note on this ticket that an email of its thread was kept to qualify, naming only it."""
        self.ensure_one()
        self._mail_bot().message_post(
            body=self.env._(
                "An email arriving on this ticket's thread was not added here: its sender could not be "
                "identified for certain, or it could not be read. It is kept as email to qualify #%(pending)s "
                "until a person checks it.",
                pending=pending.id,
            ),
            message_type='notification',
            subtype_xmlid='mail.mt_note',
        )

    def _mail_note_refused(self, refused):
        self.ensure_one()
        self._mail_bot().message_post(
            body=self.env._(
                "Attachments refused because they exceed %(limit)s MB: %(files)s. The email itself was "
                "kept and the sender was asked to send them another way.",
                limit=self._max_attachment_size_mb(),
                files=", ".join(f"{name} ({size} MB)" for name, size in refused),
            ),
            message_type='notification',
            subtype_xmlid='mail.mt_note',
        )

    def _mail_tell_refused(self, partner, refused):
        """Tell ``partner``, the sender of a reply, which attachments were refused."""
        self.ensure_one()
        self._mail_bot().message_post(
            body=self.env._(
                "We received your message on ticket %(number)s, but not these attachments, which exceed "
                "%(limit)s MB: %(files)s. Please send them in smaller parts, or add them from your "
                "customer portal.",
                number=self.number,
                limit=self._max_attachment_size_mb(),
                files=", ".join(name for name, _size in refused),
            ),
            author_id=self.company_id.partner_id.id,
            partner_ids=partner.ids,
            message_type='auto_comment',
            subtype_xmlid='mail.mt_note',
            email_layout_xmlid='mail.mail_notification_light',
        )
