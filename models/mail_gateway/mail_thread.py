# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
import codecs
import email
import logging
import re
import traceback
from email.errors import MessageError
from email.message import EmailMessage
from xmlrpc import client as xmlrpclib

from odoo import api, models
from odoo.tools import email_normalize

from ..transaction_memo import transaction_memo

_logger = logging.getLogger(__name__)

# Errors Python's email package or Odoo's parsing raise on an email they cannot read: a charset
# naming a codec that is not a text encoding (zlib, rot13, hex...), parts nested too deep...
UNREADABLE_EMAIL_ERRORS = (
    LookupError,
    RecursionError,
    UnicodeError,
    ValueError,
    TypeError,
    AttributeError,
    MessageError,
)
# Headers of an unreadable email that describe its body, replaced by those of the kept copy
BODY_HEADERS = (b'content-type', b'content-transfer-encoding', b'content-disposition', b'mime-version')
# Key, in the cursor's cache, of what the gateway learnt while routing the email it processes
GATEWAY_RUN = 'cabinet_mail_gateway_run'


class MailThread(models.AbstractModel):
    """Mail gateway rules of the helpdesk, applied where the gateway decides.

    The gateway runs on ``mail.thread`` itself (``message_process``), not on the target model:
    routing and posting therefore cannot be changed from ``cabinet.ticket``. These overrides act
    only on routes to ``cabinet.ticket`` (the reading fixes excepted: the unknown-charset
    fallback and the copy kept of an unreadable email) and delegate the decisions to ticket
    methods:

    - ``message_process``: an email Python cannot read (a charset that is not a text encoding,
      parts nested too deep) is processed as a readable copy carrying the original as an
      attachment; on a route to tickets it is kept as an email to qualify, never lost;
    - ``message_route``: the sender is decided once for new tickets and replies: an unreadable
      email, a missing or malformed sender, several senders or an address of several parties
      are kept to qualify; a reply on a ticket's thread from outside its party becomes a new
      ticket; one email opens one ticket however many team aliases it was written to
      (``cabinet.ticket._mail_routes``);
    - ``_message_route_process``: Cc, Bcc and other To addresses are dropped before the email is
      posted on a ticket, so they are never linked as recipients (``partner_ids``), never stored
      for "reply all" (``incoming_email_to/cc``) and never written to; automated emails are
      flagged (``cabinet_mail_automated``) so that nothing answers them, and the follower rule
      drops outsiders quietly (``cabinet_mail_gateway``) instead of failing the whole email.

    While one email is routed, the contacts having its sender's address are searched once
    (``_cabinet_mail_address_partners``) and reused by every step that needs them: resetting
    the bounce counter, the user the route runs as and the author Odoo's routing checks (for
    routes to tickets, the sender ``cabinet.ticket._mail_sender_partner`` decides), and the
    ticket's own rules. The Cc and other recipients of an email going to tickets are not looked
    up at all: they are dropped before posting.
    """

    _inherit = 'mail.thread'

    @api.model
    def message_process(
        self, model, message, custom_values=None, save_original=False, strip_attachments=False, thread_id=None
    ):
        """Process an incoming email; one that cannot be read is processed as a readable copy
        (``_cabinet_mail_readable_copy``) instead of failing: an incoming mail server marks a
        failed email as read, which loses it. Only errors raised while reading the email, before
        anything is written, are handled so (``_cabinet_mail_raised_reading``); any other error
        is raised as usual."""
        if isinstance(message, xmlrpclib.Binary):
            message = bytes(message.data)
        if isinstance(message, str):
            message = message.encode('utf-8')
        with transaction_memo(self.env.cr, GATEWAY_RUN, {}):
            try:
                return super().message_process(
                    model,
                    message,
                    custom_values=custom_values,
                    save_original=save_original,
                    strip_attachments=strip_attachments,
                    thread_id=thread_id,
                )
            except UNREADABLE_EMAIL_ERRORS as error:
                if self.env.context.get('cabinet_mail_unreadable') or not self._cabinet_mail_raised_reading(error):
                    raise
                _logger.warning("Incoming email could not be read (%r): processing a copy keeping the original", error)
                # the copy is read by the same gateway, the original attached whatever the server settings
                return super(MailThread, self.with_context(cabinet_mail_unreadable=True)).message_process(
                    model,
                    self._cabinet_mail_readable_copy(message, error),
                    custom_values=custom_values,
                    thread_id=thread_id,
                )

    @api.model
    def _cabinet_mail_address_partners(self, address):
        """The active contacts having the normalized address ``address``, oldest first, searched
        once while the gateway routes an email (the same search on every step of the routing),
        afresh otherwise and once the email is being posted (a new contact may then exist).

        :param str address: normalized email address
        :return: ``res.partner`` recordset, in sudo
        """
        run = self.env.cr.cache.get(GATEWAY_RUN)
        key = ('partners', address)
        # sudo: matching an address to contacts to decide who wrote; nothing is shown
        Partner = self.env['res.partner'].sudo()
        if run is not None and key in run:
            return Partner.browse(run[key])
        partners = Partner.search([('email_normalized', '=', address)], order='id')
        if run is not None and not run.get('posting'):
            run[key] = partners.ids
        return partners

    @api.model
    def _routing_reset_bounce(self, email_message, message_dict):
        """As Odoo does, an email received from an address resets its bounce counter on every
        model having one; the contacts having it are those the routing looks up anyway."""
        address = email_normalize(message_dict['email_from'])
        if not address:
            return
        registry = self.env.registry
        blacklist_class = registry['mail.thread.blacklist']
        for model_name, model_class in registry.items():
            if (
                model_name == 'mail.thread.blacklist'
                or model_class._abstract
                or not issubclass(model_class, blacklist_class)
            ):
                continue
            if model_name == 'res.partner':
                bounced = self._cabinet_mail_address_partners(address).filtered(lambda p: p.message_bounce > 0)
            else:
                bounced = (
                    self.env[model_name].sudo().search([('message_bounce', '>', 0), ('email_normalized', '=', address)])
                )
            bounced._message_reset_bounce(address)

    @api.model
    def _mail_find_user_for_gateway(self, email_value, alias=None):
        """On a team's alias, the route runs as the user of the sender's contact as the
        ticket's routing finds it (``cabinet.ticket._mail_sender_partner``): none for an address
        of several parties."""
        if not (
            alias
            and self.env.cr.cache.get(GATEWAY_RUN) is not None
            and alias.sudo().alias_model_id.id == self.env['ir.model']._get_id('cabinet.ticket')
        ):
            return super()._mail_find_user_for_gateway(email_value, alias=alias)
        address = email_normalize(email_value)
        if not address:
            return self.env['res.users']
        partner, _ambiguous = self.env['cabinet.ticket']._mail_sender_partner(address)
        # sudo: the sender's user is looked up to run the route, as Odoo does (an internal user
        # first, as ``res.partner.main_user_id``)
        users = partner.sudo().user_ids
        return (users.filtered(lambda user: not user.share) or users)[:1]

    @api.model
    def _routing_check_route(self, message, message_dict, route, raise_exception=True):
        """On a route to tickets through an alias, the author whose alias contact settings are
        checked is the sender's contact as the ticket's routing finds it: it is not looked up a
        second time."""
        if (
            route
            and route[0] == 'cabinet.ticket'
            and route[4]
            and not message_dict.get('author_id')
            and self.env.cr.cache.get(GATEWAY_RUN) is not None
        ):
            Ticket = self.env['cabinet.ticket']
            sender, reason = Ticket._mail_usable_sender(message, message_dict)
            if not reason:
                partner, _ambiguous = Ticket._mail_sender_partner(sender)
                if partner:
                    message_dict['author_id'] = partner.id
        return super()._routing_check_route(message, message_dict, route, raise_exception=raise_exception)

    def _message_parse_post_process(self, message, message_dict, routes):
        """Routes to tickets only: the author is the one the routing decided
        (``cabinet.ticket._mail_routes``) and the recipients are dropped before posting, so
        nobody is looked up for them."""
        if routes and all(route[0] == 'cabinet.ticket' for route in routes):
            return {'author_id': message_dict.get('author_id'), 'partner_ids': []}
        return super()._message_parse_post_process(message, message_dict, routes)

    @api.model
    def message_route(self, message, message_dict, model=None, thread_id=None, custom_values=None):
        routes = super().message_route(
            message, message_dict, model=model, thread_id=thread_id, custom_values=custom_values
        )
        if any(route[0] == 'cabinet.ticket' for route in routes):
            routes = self.env['cabinet.ticket']._mail_routes(message, message_dict, routes)
        return routes

    @api.model
    def _message_route_process(self, message, message_dict, routes):
        run = self.env.cr.cache.get(GATEWAY_RUN)
        if run is not None:
            run['posting'] = True  # contacts may be created from now on: no more cached lookups
            for key in [key for key in run if isinstance(key, tuple) and key[0] == 'partners']:
                del run[key]
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
        automated = self.env['cabinet.ticket']._mail_is_automated(message, message_dict)
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

    @api.model
    def _cabinet_mail_raised_reading(self, error):
        """Whether ``error`` was raised while the email was read (Python building the message
        tree, or ``message_parse``), that is before the gateway wrote anything."""
        return any(
            frame.f_code is email.message_from_bytes.__code__ or frame.f_code.co_name == 'message_parse'
            for frame, _lineno in traceback.walk_tb(error.__traceback__)
        )

    @api.model
    def _cabinet_mail_readable_copy(self, raw, error):
        """A readable email standing for the unreadable email ``raw``: the same headers (sender,
        recipients, subject, Message-Id, references, so that it is routed and deduplicated as the
        original would be), a short text saying what happened and the original, as received, in
        the attachment ``original_email.eml``.

        :param bytes raw: the email as received
        :param Exception error: what made it unreadable
        :rtype: bytes
        """
        headers, kept = re.split(rb'\r?\n\r?\n', raw, maxsplit=1)[0].splitlines(), []
        skip = False
        for line in headers:
            if not line[:1].isspace():
                skip = line.split(b':', 1)[0].strip().lower() in BODY_HEADERS
            if not skip:
                kept.append(line)
        content = EmailMessage()
        content.set_content(
            self.env._(
                "This email could not be read (%(error)s). It is kept as received in the attached file "
                "original_email.eml: open it with an email program to see who sent it and what it says.",
                error=type(error).__name__,
            )
        )
        content.add_attachment(raw, maintype='application', subtype='octet-stream', filename='original_email.eml')
        return b'\n'.join(kept) + b'\n' + content.as_bytes()

    def _cabinet_filtered_readable(self, user):
        """Return the records of ``self`` that ``user`` may read with their own rights (access
        rights and record rules, in all of their companies), whoever runs the code: whom to
        notify, remind or assign is decided on the rights of that person, not on those of the
        person or scheduled action at work.

        Also works on records not saved yet (``new`` records, e.g. a ticket as a create or a
        write will leave it). Once the rules of ``user`` are cached, it runs no query but the
        ones loading the fields the rules look at, which the records of ``self`` share.

        :param user: ``res.users`` record
        :return: subset of ``self``, in the environment of ``self``
        """
        if not self or not user:
            return self.browse()
        user_env = self.env(user=user.id, su=False, context=dict(self.env.context, allowed_company_ids=[]))
        if all(self._ids):
            return self.with_env(user_env)._filtered_access('read').with_env(self.env)
        # records not saved yet: the access rights and rules the ORM applies to saved ones
        if not user_env['ir.model.access'].check(self._name, 'read', raise_exception=False):
            return self.browse()
        domain = user_env['ir.rule']._compute_domain(self._name, 'read')
        if not domain:
            return self
        return self.sudo().with_context(active_test=False).filtered_domain(domain).with_env(self.env)

    @api.model
    def _cabinet_readable_fnames(self, user):
        """Names of the fields the record rules of ``user`` on this model look at, with those
        they are computed from: records agreeing on all of them are readable by ``user`` alike
        (see ``_cabinet_filtered_readable``). ``None`` when that is not known, e.g. a rule looks at
        a field computed from nothing.

        :param user: ``res.users`` record
        :rtype: frozenset or None
        """
        user_env = self.env(user=user.id, su=False, context=dict(self.env.context, allowed_company_ids=[]))
        todo = list(self.with_env(user_env)._cabinet_rule_fnames())
        fnames = set()
        while todo:
            fname = todo.pop()
            if fname in fnames or fname == 'id':
                continue
            field = self._fields.get(fname)
            if field is None:
                return None
            fnames.add(fname)
            if field.compute or field.related:
                depends = self.pool.field_depends[field]
                if not depends:
                    return None
                todo.extend(path.split('.')[0] for path in depends)
        return frozenset(fnames)

    @api.model
    def _cabinet_rule_fnames(self):
        """Names of the fields of this model the current user's record rules for reading filter
        on (the first field of each condition).

        :rtype: set
        """
        domain = self.env['ir.rule']._compute_domain(self._name, 'read')
        return {condition.field_expr.split('.', 1)[0] for condition in domain.iter_conditions()}

    def _cabinet_staff_readers(self, partners, known_users=None):
        """Return the partners of ``partners`` having an internal user who may read this record
        with their own rights (see ``_cabinet_filtered_readable``); the current user's partner is
        kept, as they act on the record.

        :param partners: ``res.partner`` recordset of internal users' partners
        :param known_users: ``res.users`` whose partners may be among ``partners``: their user is
            then not looked up
        :return: subset of ``partners``
        """
        self.ensure_one()
        current = self.env.user
        known_by_partner = {user.partner_id: user for user in (known_users or ()) if not user.share}
        readers = set()
        for partner in partners:
            if partner == current.partner_id and current._is_internal():
                readers.add(partner.id)
                continue
            known = known_by_partner.get(partner)
            if known and self._cabinet_filtered_readable(known):
                readers.add(partner.id)
                continue
            # sudo: which internal users a partner has is read to decide, nothing is shown
            users = partner.sudo().user_ids.filtered(lambda user: not user.share)
            if any(self._cabinet_filtered_readable(user) for user in users - (known or users.browse())):
                readers.add(partner.id)
        return partners.filtered(lambda p: p.id in readers)
