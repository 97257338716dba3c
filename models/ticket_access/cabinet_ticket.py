# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
import logging

from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.fields import Domain

_logger = logging.getLogger(__name__)

# Fields only the code that owns them sets, as superuser after its own checks.
PROTECTED_FIELDS = frozenset(
    {
        # the party follows the requester; lifecycle and numbering are kept by create and write
        'commercial_partner_id',
        # the record rules read these copies of the request type's flag and handling team
        'is_confidential',
        'category_team_id',
        'is_closed',
        'closed_date',
        'number',
        'access_token',
        # the mail gateway's: set by hand, it would make the gateway refuse a real email carrying it
        'email_message_id',
        # GDPR: from the request type and the retention policy
        'legal_basis',
        'retention_date',
        'anonymized',
        # service levels and reminders: kept by the scheduled actions and the first answer
        'sla_response_deadline',
        'sla_resolve_deadline',
        'sla_status',
        'sla_next_check',
        'first_response_date',
        'escalation_level',
        'reminder_sent_date',
        'deadline_reminder_date',
        # pause of the service levels: kept by the change of stage
        'sla_paused_since',
        'sla_paused_hours',
        'sla_response_paused_hours',
        'sla_at_risk_warned',
        'closed_by_party',
        # thread and ratings: written through message_post, message_subscribe and ratings only
        'message_ids',
        'website_message_ids',
        'message_follower_ids',
        'rating_ids',
        'rating_last_value',
    }
)
# What a requester who does not handle their ticket may still change, while it is new.
REQUESTER_EDITABLE_FIELDS = frozenset({'name', 'description'})


class CabinetTicket(models.Model):
    """Protected fields and requesters: who may change what on a ticket, checked in create/write
    whatever the path; the handling staff; the tickets a user may read."""

    _inherit = 'cabinet.ticket'

    # Copies of the request type's confidentiality and handling team, kept by the ORM when the
    # request type changes: the record rules filter on them without joining request types and
    # teams, so that the indexes below serve them (security/ir_rules.xml)
    is_confidential = fields.Boolean(
        related='category_id.confidential',
        store=True,
        precompute=True,
        export_string_translation=False,
        help="The request type is confidential: the ticket stays with its requester and the type's handling team.",
    )
    category_team_id = fields.Many2one(
        related='category_id.team_id',
        string="Handling Team of the Request Type",
        store=True,
        precompute=True,
        export_string_translation=False,
    )

    # the rules' OR of "team, no team, assignee, requester, approver, confidential of the
    # handling team" runs as a BitmapOr of single-column indexes; these are the two missing
    _category_team_confidential_idx = models.Index('(category_team_id) WHERE is_confidential IS TRUE')
    # the lists of tickets under these rules: the default order (``_order``), walked until a page
    # of readable tickets is found, and the open tickets (the default filter), counted and grouped
    # by team and stage without reading the closed ones
    _priority_id_idx = models.Index('(priority DESC, id DESC)')
    _open_team_stage_idx = models.Index('(team_id, stage_id) WHERE is_closed IS NOT TRUE')
    # the groups by team and stage and the count of the list, whatever the filter on closing: the
    # columns the rules read (company, confidentiality, handling team, assignee, requester,
    # approval) are in the index, so that they are counted by an index-only scan, without reading
    # the tickets (``_rule_field_names``)
    _rules_team_stage_idx = models.Index(
        '(team_id, stage_id) INCLUDE (is_closed, company_id, is_confidential, category_team_id, user_id, '
        'partner_id, approval_state, approver_id) WHERE active IS TRUE'
    )

    # One owner per rule, checked in create/write whatever the path (form, RPC, import, wizard):
    # protected fields are set by their owning code as superuser only; the requester is changed
    # by the handling staff only, within the party (managers move tickets between parties, with
    # a note); a requester who does not handle their ticket edits its subject and description
    # while it is new, and nothing else. No context key changes any of this.

    @api.model
    def search_fetch(self, domain, field_names=None, offset=0, limit=None, order=None):
        # a read of the records found (the list's web_search_read, search_read) checks them against
        # the record rules in Python: fetch the columns the rules read with the fields asked, or
        # that check reads every other column of the page in a second query (a plain search, which
        # fetches no field, stays so)
        if field_names and not self.env.su:
            field_names = [*field_names, *(self._rule_field_names() - set(field_names))]
        return super().search_fetch(domain, field_names, offset=offset, limit=limit, order=order)

    @api.model
    def default_get(self, fields):
        self._check_protected_defaults(fields)
        return super().default_get(fields)

    @api.model_create_multi
    def create(self, vals_list):
        self._check_protected_defaults(self._protected_fields())
        for vals in vals_list:
            self._check_protected_fields(vals)
        return super().create(vals_list)

    def write(self, vals):
        self._check_protected_fields(vals)
        self._check_requester_write(vals)
        party_moves = self._check_partner_change(vals)
        res = super().write(vals)
        if party_moves:
            self._log_party_moves(party_moves)
        return res

    def message_post(self, **kwargs):
        if not self.env.su and self and self._posts_as_requester():
            kwargs.update(self._requester_post_values())
        return super().message_post(**kwargs)

    @api.model
    def _protected_fields(self):
        """Fields of tickets only the code that owns them may set, as superuser (``self.env.su``)
        after its own checks: create and write set the number and closing date, the scheduled
        actions the service level and reminder fields, the retention the GDPR fields, the mail
        and rating methods the thread; stored related and computed fields follow their source."""
        return PROTECTED_FIELDS & self._fields.keys()

    def _refuse_protected(self, fnames):
        """Raise the AccessError naming the protected fields ``fnames`` someone tried to set."""
        labels = sorted(f"{self._fields[fname]._description_string(self.env)} ({fname})" for fname in fnames)
        raise AccessError(
            self.env._(
                "%(fields)s cannot be set on a ticket by hand: the helpdesk keeps these fields itself "
                "(party, number, closing date, service levels, retention, thread).",
                fields=", ".join(labels),
            )
        )

    def _check_protected_fields(self, vals):
        """Refuse ``vals`` (of create or write) setting a protected field, unless the owning code
        runs as superuser."""
        if self.env.su:
            return
        if protected := vals.keys() & self._protected_fields():
            self._refuse_protected(protected)

    @api.model
    def _check_protected_defaults(self, fnames):
        """Refuse default values of protected fields given by the context (``default_<field>``)
        or by user-defined defaults (``ir.default``): create would otherwise take them."""
        if self.env.su:
            return
        # the defaults given are few, the fields asked for many (all those a new ticket leaves out)
        ir_defaults = self.env['ir.default']._get_model_defaults(self._name)
        given = {key[8:] for key in self.env.context if key.startswith('default_')}.union(ir_defaults)
        if given and (given := self._protected_fields().intersection(given).intersection(fnames)):
            self._refuse_protected(given)

    @api.model
    def _handled_domain(self, user):
        """Domain of the tickets ``user`` handles (the *handling staff*): as a helpdesk user,
        the tickets of the teams they belong to or lead, those assigned to them, those without
        team and the confidential ones of the request types their team handles, which they did not
        request themselves; as a manager, every ticket but the confidential ones of a
        request type whose team they are not in. A plain employee handles none."""
        if not user.has_group('cabinet_helpdesk.group_cabinet_user'):
            return Domain.FALSE
        domain = (
            Domain('team_id.member_ids', 'in', user.ids)
            | Domain('team_id.leader_id', '=', user.id)
            | Domain('user_id', '=', user.id)
            | (Domain('team_id', '=', False) & Domain('partner_id', '!=', user.partner_id.id))
            | (
                Domain('category_id.confidential', '=', True)
                & (
                    Domain('category_id.team_id.member_ids', 'in', user.ids)
                    | Domain('category_id.team_id.leader_id', '=', user.id)
                )
                & Domain('partner_id', '!=', user.partner_id.id)
            )
        )
        if user.has_group('cabinet_helpdesk.group_cabinet_manager'):
            domain |= (
                Domain('category_id', '=', False)
                | Domain('category_id.confidential', '=', False)
                | Domain('category_id.team_id.member_ids', 'in', user.ids)
                | Domain('category_id.team_id.leader_id', '=', user.id)
            )
        return domain

    @api.model
    def _requester_only_domain(self, user):
        """Domain of the tickets ``user`` requested without handling them: for these, they are a
        requester like a client (public messages only, no internal notes)."""
        return Domain('partner_id', '=', user.partner_id.id) & ~self._handled_domain(user)

    def _filter_handled(self, user=None):
        """Return the tickets of ``self`` handled by ``user`` (default: the current user), as
        ``_handled_domain`` says, without a query per ticket.

        :param user: ``res.users`` record; without it, the current user, every ticket being
            handled in superuser mode
        """
        if user is None:
            if self.env.su:
                return self
            user = self.env.user
        if user._is_superuser():
            return self
        if not user.has_group('cabinet_helpdesk.group_cabinet_user'):
            return self.browse()
        manager = user.has_group('cabinet_helpdesk.group_cabinet_manager')

        def handled(ticket_sudo):
            team = ticket_sudo.team_id
            if user in team.member_ids or user in (team.leader_id | ticket_sudo.user_id):
                return True
            if not team and ticket_sudo.partner_id != user.partner_id:
                return True
            category = ticket_sudo.category_id
            return manager and (
                not category.confidential or user in category.team_id.member_ids | category.team_id.leader_id
            )

        # sudo: team membership and request type flags are read to decide, nothing is returned
        return self.filtered(lambda ticket: handled(ticket.sudo()))

    def _changed_fields(self, vals):
        """Names of the fields of ``vals`` that would change at least one ticket of ``self``
        (relational lists always count as a change)."""
        changed = set()
        for fname, value in vals.items():
            field = self._fields.get(fname)
            if not field or field.type in ('one2many', 'many2many'):
                changed.add(fname)
                continue
            for ticket in self:
                if field.convert_to_record(field.convert_to_cache(value, ticket), ticket) != ticket[fname]:
                    changed.add(fname)
                    break
        return changed

    def _check_requester_write(self, vals):
        """A user writing a ticket they requested without handling it may edit its subject and
        description while it is new, nothing else: raise an AccessError naming what they may not
        change. (Record rules give a user who does not handle a ticket write access to it only
        when they requested it.)"""
        if self.env.su:
            return
        requested = self.filtered(lambda ticket: ticket.partner_id == self.env.user.partner_id)
        requested -= requested._filter_handled()
        if not requested:
            return
        changed = requested._changed_fields(vals)
        if refused := changed - REQUESTER_EDITABLE_FIELDS:
            labels = sorted(
                self._fields[fname]._description_string(self.env) for fname in refused if fname in self._fields
            )
            raise AccessError(
                self.env._(
                    "You requested %(numbers)s: you may follow it, answer it and withdraw it, but not change "
                    "%(fields)s. The team handling it does.",
                    numbers=", ".join(requested.mapped('number')),
                    fields=", ".join(labels or refused),
                )
            )
        if changed and (started := requested.filtered(lambda ticket: not ticket.is_new)):
            raise AccessError(
                self.env._(
                    "Ticket %(numbers)s is already being handled: its subject and description can no longer be "
                    "changed. Add what you have to say as a message.",
                    numbers=", ".join(started.mapped('number')),
                )
            )

    def _check_partner_change(self, vals):
        """Check a change of requester (``partner_id`` in ``vals``): only the handling staff may
        change it, to another contact of the same party; only a helpdesk manager may move a ticket
        to another party.

        :return: ``{ticket: former party}`` of the tickets moved to another party, to be logged
            once written (``_log_party_moves``)
        :rtype: dict
        """
        if self.env.su or not vals.get('partner_id'):
            return {}
        partner = self.env['res.partner'].browse(vals['partner_id'])
        changed = self.filtered(lambda ticket: ticket.partner_id != partner)
        if not changed:
            return {}
        if not_handled := changed - changed._filter_handled():
            raise AccessError(
                self.env._(
                    "Only the staff handling ticket %(numbers)s may change its requester.",
                    numbers=", ".join(not_handled.mapped('number')),
                )
            )
        # sudo: the parties are compared, whatever the user may read of the contacts
        new_party = partner.sudo().commercial_partner_id
        moves = {
            ticket: ticket.sudo().commercial_partner_id
            for ticket in changed
            if ticket.sudo().commercial_partner_id != new_party
        }
        if moves and not self.env.user.has_group('cabinet_helpdesk.group_cabinet_manager'):
            ticket, party = next(iter(moves.items()))
            raise AccessError(
                self.env._(
                    "Ticket %(number)s belongs to %(party)s: its requester can only be another contact of that "
                    "party. Only a helpdesk manager may move a ticket to another party; otherwise open a new ticket "
                    "for %(new_party)s.",
                    number=ticket.number,
                    party=party.display_name,
                    new_party=new_party.display_name,
                )
            )
        return moves

    def _log_party_moves(self, moves):
        """After a manager moved tickets to another party: leave an internal note naming both
        parties, stop the former party's followers and invalidate the links handed out to it.

        :param dict moves: ``{ticket: former party}``
        """
        for ticket, former_party in moves.items():
            ticket._message_log(
                body=self.env._(
                    "Moved from party %(old)s to party %(new)s by %(user)s.",
                    old=former_party.display_name,
                    new=ticket.commercial_partner_id.display_name,
                    user=self.env.user.display_name,
                )
            )
            # sudo: a manager moved the ticket (checked by write); the former party's followers
            # must go, whoever set them (write renews the access token of any requester change)
            ticket_sudo = ticket.sudo()
            followers = ticket_sudo.message_partner_ids
            if outsiders := followers - ticket_sudo._filter_allowed_partners(followers):
                ticket_sudo.message_unsubscribe(partner_ids=outsiders.ids)

    def _posts_as_requester(self):
        """Whether the current user posts on this ticket as a requester, who may only post public
        messages: a client (portal or public user, whatever the environment's superuser mode, as
        the chatter routes post in sudo) or an employee who requested the ticket without handling
        it. Other staff (the data protection officer, say) keep their internal notes."""
        self.ensure_one()
        user = self.env.user
        if user.share:
            return True
        # sudo: the requester is compared, the routes may call this on a sudo record anyway
        return self.sudo().partner_id == user.partner_id and not self._filter_handled(user)

    @api.model
    def _requester_post_values(self):
        """Values forced on a message a requester posts: a public comment, whatever they asked
        (no internal note, no system event such as "Ticket Closed")."""
        return {
            'message_type': 'comment',
            'subtype_xmlid': 'mail.mt_comment',
            'subtype_id': False,
            'is_internal': False,
        }

    def _drop_requester_from_internal(self, message, msg_vals, recipients_data):
        """An employee who requested this ticket without handling it is not notified of its
        internal notes and events, which they may not read (see ``mail_message.py``)."""
        requester = self.sudo().partner_id
        requester_data = [r for r in recipients_data if r['id'] == requester.id and not r['share'] and r['uid']]
        if not requester_data:
            return recipients_data
        message_sudo = message.sudo()
        subtype = self.env['mail.message.subtype'].browse(
            msg_vals['subtype_id'] if 'subtype_id' in msg_vals else message_sudo.subtype_id.id
        )
        is_internal = msg_vals['is_internal'] if 'is_internal' in msg_vals else message_sudo.is_internal
        if not (is_internal or not subtype or subtype.sudo().internal):
            return recipients_data
        user = self.env['res.users'].browse(requester_data[0]['uid'])
        if self._filter_handled(user):
            return recipients_data
        return [r for r in recipients_data if r['id'] != requester.id]

    @api.model
    def _rule_field_names(self):
        """Names of the ticket's own columns the current user's record rules for reading filter on,
        among those the user may read."""
        return {
            fname
            for fname in self._cabinet_rule_fnames()
            if (field := self._fields.get(fname))
            and field.store
            and field.column_type
            and self._has_field_access(field, 'read')
        }

    @api.model
    def _readable_query(self):
        """Query of the tickets the current user may read, their record rules applied.

        Records attached to tickets (ratings, followers) are visible only with their ticket: the
        record rules of those models call this, so that the tickets' own rules stay the one source
        of truth. Record rules are evaluated in superuser mode (for the same user): leave it to
        apply the real user's rules.

        :return: a ``Query`` of ``cabinet.ticket``, or ``None`` when the user may read no ticket
        """
        tickets = self.sudo(False).with_context(active_test=False)
        if not tickets.has_access('read'):
            return None
        return tickets._search([])

    @api.model
    def _readable_ids(self, ticket_ids):
        """The ids among ``ticket_ids`` of tickets the current user may read (see
        :meth:`_readable_query`), in one query.

        :param ticket_ids: ticket ids, existing or not
        :rtype: set
        """
        tickets = self.sudo(False).with_context(active_test=False)
        if not ticket_ids or not tickets.has_access('read'):
            return set()
        return set(tickets._search([('id', 'in', list(ticket_ids))]).get_result_ids())
