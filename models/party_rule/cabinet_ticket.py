# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
import ast
import logging
from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.fields import Command, Domain
from odoo.tools.mail import email_normalize_all

_logger = logging.getLogger(__name__)


class CabinetTicket(models.Model):
    """The party rule on tickets: who may follow a ticket, receive its messages and mails (its party's
    contacts, the agent of a mandate covering it, staff who may read it), and the mandate it is filed under."""

    _name = 'cabinet.ticket'
    _inherit = ['cabinet.party.thread', 'cabinet.ticket']

    # The rule: external followers and recipients of a ticket are contacts of its party, or the
    # agent party (and its contacts) of an active mandate of that party covering the ticket's
    # request type today; internal users may follow when they may read the ticket. A person who
    # adds anyone else gets a UserError naming the rule; an email or a scheduled action drops
    # them and logs it. The last lines of defence (mail.followers, notification recipients,
    # outgoing mail.mail) always drop.

    # Mandate: an agent files for the party; the ticket stays the party's (the principal's)
    mandate_id = fields.Many2one(
        'cabinet.mandate',
        index=True,
        tracking=True,
        copy=False,
        check_company=True,
        domain="[('principal_id.commercial_partner_id', '=', commercial_partner_id), ('state', '=', 'active')]",
        help="Set when the request comes from an agent acting under a mandate of the party. The requester "
        "stays the party (the principal) or one of its contacts; the agent's contact is the acting agent.",
    )
    agent_partner_id = fields.Many2one(
        'res.partner',
        string="Acting Agent",
        index='btree_not_null',
        tracking=True,
        copy=False,
        domain="[('party_type', '=', 'agent')]",
        help="The agent's contact who filed the request for the party. Follows the ticket while the mandate "
        "lasts; the mandate is found automatically when exactly one active mandate covers the request.",
    )
    mandate_agent_ids = fields.Many2many(
        'res.partner',
        string="Agents Under Mandate",
        compute='_compute_mandate_agent_ids',
        search='_search_mandate_agent_ids',
        compute_sudo=True,
        export_string_translation=False,
        help="The agent party of the mandate this ticket is filed under, while that mandate covers it "
        "(in force today, request type in its scope). Its portal users read the ticket.",
    )

    @api.depends('mandate_id', 'category_id', 'commercial_partner_id')
    def _compute_mandate_agent_ids(self):
        for ticket in self:
            mandate = ticket.mandate_id
            if mandate and mandate._covers(ticket.commercial_partner_id, ticket.category_id):
                ticket.mandate_agent_ids = mandate.agent_id.commercial_partner_id
            else:
                ticket.mandate_agent_ids = False

    def _search_mandate_agent_ids(self, operator, value):
        """Tickets whose mandate, held by one of the agent parties ``value``, covers them today
        (``cabinet.mandate._covers``): the portal record rule of agents.

        The mandates in force are few and looked up here, each giving a condition on the ticket's
        own columns (mandate, party, request type), which the database answers from its indexes
        together with the rule on the user's own party. The record rules being cached, a change of
        a mandate clears that cache (see ``cabinet.mandate``).
        """
        if operator != 'in':
            return NotImplemented
        party_ids = [party_id for party_id in value if isinstance(party_id, int)]
        if not party_ids:
            return Domain.FALSE
        today = fields.Date.context_today(self)
        domains = []
        for mandate_id, principal_party_id, category_ids in self.env['cabinet.mandate']._live_mandates_of_agents(
            tuple(sorted(party_ids)), today
        ):
            domain = Domain('mandate_id', '=', mandate_id) & Domain('commercial_partner_id', '=', principal_party_id)
            if category_ids:
                domain &= Domain('category_id', 'in', list(category_ids))
            domains.append(domain)
        return Domain.OR(domains)

    @api.constrains('mandate_id', 'agent_partner_id')
    def _check_mandate_id(self):
        for ticket in self.filtered('mandate_id'):
            mandate = ticket.mandate_id
            if mandate.principal_id.commercial_partner_id != ticket.commercial_partner_id:
                raise ValidationError(
                    self.env._(
                        "Ticket %(number)s belongs to %(party)s, but mandate %(mandate)s was given by another party. "
                        "A ticket filed under a mandate belongs to the principal: choose the principal or one of its "
                        "contacts as requester and the agent's contact as acting agent.",
                        number=ticket.number,
                        party=ticket.commercial_partner_id.display_name,
                        mandate=mandate.name,
                    )
                )
            if not mandate._covers(ticket.commercial_partner_id, ticket.category_id):
                raise ValidationError(
                    self.env._(
                        "Mandate %(mandate)s does not allow acting on ticket %(number)s: it must be active, valid "
                        "today and cover the request type %(category)s.",
                        mandate=mandate.name,
                        number=ticket.number,
                        category=ticket.category_id.display_name or self.env._("(none)"),
                    )
                )
            agent = mandate.agent_id.commercial_partner_id
            if ticket.agent_partner_id and ticket.agent_partner_id.commercial_partner_id != agent:
                raise ValidationError(
                    self.env._(
                        "%(contact)s does not belong to %(agent)s, the agent of mandate %(mandate)s.",
                        contact=ticket.agent_partner_id.display_name,
                        agent=agent.display_name,
                        mandate=mandate.name,
                    )
                )

    @api.constrains('category_id', 'partner_id')
    def _check_mandate_scope(self):
        """A ticket whose mandate is still active keeps within the mandate's scope."""
        for ticket in self.filtered(lambda t: t.mandate_id.state == 'active'):
            if not ticket.mandate_id._covers(ticket.commercial_partner_id, ticket.category_id):
                raise ValidationError(
                    self.env._(
                        "Ticket %(number)s is filed under mandate %(mandate)s, which does not cover this party or "
                        "request type: remove the mandate first or keep the ticket within its scope.",
                        number=ticket.number,
                        mandate=ticket.mandate_id.name,
                    )
                )

    def _filter_allowed_partners(self, partners):
        """Return the subset of ``partners`` that may follow this ticket or receive its messages:
        partners of internal users who may read the ticket (with their own rights; the current
        user always may), contacts of the ticket's party (same commercial partner), and the agent
        party and contacts of an active mandate of the party that covers the ticket's request
        type today.

        :param partners: ``res.partner`` recordset to filter
        :return: the allowed subset, in the environment of ``partners``
        """
        self.ensure_one()
        if not partners or (partners == self.env.user.partner_id and self.env.user._is_internal()):
            return partners
        # sudo: only the partners' party, share flag and users and the party's mandates are read,
        # to decide; nothing but a subset of the given partners is returned
        party = self.sudo().commercial_partner_id
        partners_sudo = partners.sudo()
        staff = partners_sudo.filtered(lambda p: not p.partner_share)
        # the assignee is the usual staff follower: their user is known without a query
        allowed_ids = set(self._cabinet_staff_readers(staff, known_users=self.sudo().user_id).ids) if staff else set()
        allowed_ids.update(
            partner.id for partner in partners_sudo - staff if party and partner.commercial_partner_id == party
        )
        outsiders = partners_sudo.filtered(lambda p: p.id not in allowed_ids and p.partner_share)
        if outsiders and party:
            agents = self._mandate_agents()
            allowed_ids.update(p.id for p in outsiders if p.commercial_partner_id in agents)
        return partners.filtered(lambda p: p.id in allowed_ids)

    def _mandate_agents(self):
        """Agent parties whose active mandate lets them follow this ticket today."""
        self.ensure_one()
        ticket_sudo = self.sudo()
        Mandate = self.env['cabinet.mandate'].sudo()
        return Mandate.search(
            Mandate._covering_domain(
                ticket_sudo.commercial_partner_id,
                ticket_sudo.category_id,
                company=ticket_sudo.company_id,
            )
        ).agent_id.commercial_partner_id

    def _enforce_allowed_partners(self, partners, message_type=None, what=None):
        """Return the allowed subset of ``partners`` (see ``_filter_allowed_partners``).
        When someone is not allowed, raise a UserError if a person asked for it, or drop them and
        log it when an email or a scheduled action did.

        :param partners: ``res.partner`` recordset asked to follow or receive the ticket
        :param str message_type: type of the message being posted, if any
        :param str what: what was asked, for the log ("follower", "recipient")
        """
        self.ensure_one()
        allowed = self._filter_allowed_partners(partners)
        refused = partners - allowed
        if not refused:
            return allowed
        if self._mail_driven(message_type):
            _logger.info(
                "Ticket %s: ignored %s %s outside its party (partner ids %s)",
                self.id,
                len(refused),
                what or "recipient(s)",
                refused.ids,
            )
            return allowed
        staff = refused.sudo().filtered(lambda p: not p.partner_share)
        if staff:
            raise UserError(
                self.env._(
                    "%(names)s may not follow or receive ticket %(number)s: they cannot read it. Only staff who "
                    "may read a ticket (its team, or the handling team of a confidential request type) follow it.",
                    names=", ".join(staff.mapped('display_name')),
                    number=self.number,
                )
            )
        raise UserError(
            self.env._(
                "%(names)s may not follow or receive ticket %(number)s. Only contacts of its party "
                "(%(party)s), the agent of an active mandate of that party covering the request type, and the "
                "firm's staff may: each party has its own ticket, without copies to others.",
                names=", ".join(refused.sudo().mapped('display_name')),
                number=self.number,
                party=self.sudo().commercial_partner_id.display_name,
            )
        )

    def _refuse_addresses(self, emails, message_type=None):
        """Refuse bare email addresses that belong to no allowed partner of this ticket: UserError
        for a person, log for an email or a scheduled action (the addresses are then dropped)."""
        self.ensure_one()
        if self._mail_driven(message_type):
            _logger.info("Ticket %s: ignored %s email address(es) outside its party", self.id, len(emails))
            return
        raise UserError(
            self.env._(
                "%(emails)s may not receive ticket %(number)s: only contacts of its party, the agent of an active "
                "mandate of that party and the firm's staff may, and no copies are sent to other addresses.",
                emails=", ".join(emails),
                number=self.number,
            )
        )

    def _partners_from_emails(self, emails):
        """Map each email of ``emails`` to an allowed partner of this ticket having it, if any.

        :param list emails: normalized emails
        :return: dict email -> res.partner (allowed), and the list of emails without one
        """
        self.ensure_one()
        if not emails:
            return {}, []
        # sudo: matching addresses to partners to decide; only allowed partners come out
        candidates = self.env['res.partner'].sudo().search([('email_normalized', 'in', list(emails))])
        allowed = self._filter_allowed_partners(candidates)
        party = self.sudo().commercial_partner_id
        found = {}
        for partner in allowed.sorted(lambda p: (p.commercial_partner_id != party, p.id)):
            found.setdefault(partner.email_normalized, partner)
        return found, [email for email in emails if email not in found]

    def _sync_mandate(self):
        """Find the mandate of tickets an agent filed for the party (exactly one active mandate of
        the agent for the party must cover the request) and make the acting agent follow."""
        Mandate = self.env['cabinet.mandate'].sudo()
        for ticket in self:
            agent = ticket.agent_partner_id.commercial_partner_id
            if not ticket.mandate_id:
                mandates = Mandate.search(
                    Mandate._covering_domain(
                        ticket.commercial_partner_id, ticket.category_id, company=ticket.company_id
                    )
                    & Domain('agent_id.commercial_partner_id', '=', agent.id),
                    limit=2,
                )
                if len(mandates) != 1:
                    raise ValidationError(
                        self.env._(
                            "%(agent)s can act for %(party)s only under a mandate: %(count)s active mandates cover "
                            "this request. Register and activate the mandate, or choose it on the ticket.",
                            agent=agent.display_name,
                            party=ticket.commercial_partner_id.display_name,
                            count=len(mandates) and self.env._("several") or self.env._("no"),
                        )
                    )
                ticket.mandate_id = mandates
            if ticket.mandate_id._covers(ticket.commercial_partner_id, ticket.category_id) and (
                ticket.agent_partner_id not in ticket.message_partner_ids
            ):
                ticket.message_subscribe(partner_ids=ticket.agent_partner_id.ids)

    @api.model_create_multi
    def create(self, vals_list):
        tickets = super().create(vals_list)
        tickets.filtered('agent_partner_id')._sync_mandate()
        return tickets

    def write(self, vals):
        res = super().write(vals)
        if vals.keys() & {'agent_partner_id', 'partner_id', 'category_id'}:
            self.filtered('agent_partner_id')._sync_mandate()
        return res

    def _message_compute_real_author(self, author_id):
        """As Odoo decides, without checking at each message that OdooBot's contact still exists
        (the gateway and the scheduler post as the inactive OdooBot): the author of the message,
        unless inactive or OdooBot, when the current user is inactive."""
        if self.env.user.active or not author_id:
            return super()._message_compute_real_author(author_id)
        author = self.env['res.partner'].browse(author_id)
        if author.active and author.id != self.env['ir.model.data']._xmlid_to_res_id('base.partner_root'):
            return author
        return self.env['res.partner']

    def _notify_get_recipients(self, message, msg_vals=False, **kwargs):
        """Last line of defence: whoever asked, only allowed partners are notified, and staff
        only when they may read the ticket with their own rights (whatever they follow)."""
        recipients_data = super()._notify_get_recipients(message, msg_vals=msg_vals, **kwargs)
        if len(self) != 1 or not recipients_data:
            return recipients_data
        recipients_data = self._drop_requester_from_internal(message, msg_vals or {}, recipients_data)
        shared_ids = [r['id'] for r in recipients_data if r['id'] and r['share']]
        allowed_ids = set(self._filter_allowed_partners(self.env['res.partner'].browse(shared_ids)).ids)
        Users = self.env['res.users']
        staff_uids = {r['uid'] for r in recipients_data if r['id'] and not r['share'] and r['uid']}
        reader_uids = {uid for uid in staff_uids if self._cabinet_filtered_readable(Users.browse(uid))}
        emails_only = [r['email_normalized'] for r in recipients_data if not r['id']]
        allowed_emails = set(self._partners_from_emails(emails_only)[0]) if emails_only else set()
        kept = [
            r
            for r in recipients_data
            if (r['id'] and (r['id'] in allowed_ids if r['share'] else r['uid'] in reader_uids))
            or (not r['id'] and r['email_normalized'] in allowed_emails)
        ]
        if len(kept) != len(recipients_data):
            _logger.info(
                "Ticket %s: message %s not sent to %s recipient(s) outside its party or unable to read it",
                self.id,
                message.id,
                len(recipients_data) - len(kept),
            )
        return kept

    def _restrict_outgoing_mails(self, mails):
        """Last line of defence on outgoing ``mail.mail`` of tickets: no Cc, no Cc/Bcc header, and
        recipients limited to allowed partners. Addresses of allowed partners in To/Cc become
        partner recipients; any other address is dropped and logged.

        :param mails: ``mail.mail`` records (sudo) whose ``model`` is ``cabinet.ticket``
        """
        # sudo: outgoing mails are technical records created in sudo by the notification process;
        # only the tickets' party and mandates are read, to decide
        tickets = self.browse(mails.mapped('res_id')).sudo()
        # the ticket is known to exist when its party is already read (a mail of its notification)
        existing = self.browse()
        if unknown := tickets.filtered(lambda ticket: 'commercial_partner_id' not in ticket._cache):
            existing = unknown.exists()
        for mail in mails:
            ticket = tickets.browse(mail.res_id)
            if ticket not in existing and 'commercial_partner_id' not in ticket._cache:
                continue
            vals = {}
            emails = email_normalize_all(f"{mail.email_to or ''},{mail.email_cc or ''}")
            recipients = mail.recipient_ids
            allowed = ticket._filter_allowed_partners(recipients)
            if emails:
                found, unknown = ticket._partners_from_emails(emails)
                allowed |= self.env['res.partner'].sudo().browse([p.id for p in found.values()])
                vals.update(email_to=False, email_cc=False)
                if unknown:
                    _logger.info(
                        "Ticket %s: mail %s not sent to %s address(es) outside its party",
                        ticket.id,
                        mail.id,
                        len(unknown),
                    )
            if set(allowed.ids) != set(recipients.ids):
                vals['recipient_ids'] = [Command.set(allowed.ids)]
                if recipients - allowed:
                    _logger.info(
                        "Ticket %s: mail %s not sent to %s partner(s) outside its party",
                        ticket.id,
                        mail.id,
                        len(recipients - allowed),
                    )
            if mail.headers:
                try:
                    headers = ast.literal_eval(mail.headers)
                except (ValueError, SyntaxError):
                    headers = None
                if not isinstance(headers, dict):
                    vals['headers'] = False
                elif any(key.lower() in ('cc', 'bcc', 'x-msg-to-add') for key in headers):
                    vals['headers'] = repr(
                        {
                            key: value
                            for key, value in headers.items()
                            if key.lower() not in ('cc', 'bcc', 'x-msg-to-add')
                        }
                    )
            if vals:
                mail.write(vals)

    @api.model
    def _release_contacts(self, former_parties):
        """Contacts changed party: links to the tickets they could open stop working, and they
        stop following the tickets they may no longer follow.

        :param dict former_parties: ``{contact: former party}`` (res.partner records)
        """
        contacts = self.env['res.partner'].union(*former_parties)
        parties = self.env['res.partner'].union(*former_parties.values())
        # sudo: the contacts' access ends on tickets the caller may not read
        followers = (
            self.env['mail.followers']
            .sudo()
            .search([('res_model', '=', self._name), ('partner_id', 'in', contacts.ids)])
        )
        tickets = (
            self.sudo()
            .with_context(active_test=False)
            .search(
                Domain('commercial_partner_id', 'in', parties.ids)
                | Domain('partner_id', 'in', contacts.ids)
                | Domain('agent_partner_id', 'in', contacts.ids)
                | Domain('id', 'in', followers.mapped('res_id'))
            )
        )
        tickets._rotate_access_token()
        followed = defaultdict(lambda: self.env['res.partner'])
        for follower in followers:
            followed[follower.res_id] |= follower.partner_id
        for ticket in tickets.filtered(lambda t: t.id in followed):
            removed = followed[ticket.id] - ticket._filter_allowed_partners(followed[ticket.id])
            if removed:
                ticket.message_unsubscribe(partner_ids=removed.ids)
                _logger.info("Ticket %s: %s contact(s) who left its party no longer follow it", ticket.id, len(removed))
