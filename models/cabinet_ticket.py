# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
import ast
import logging
import re
import uuid
from collections import defaultdict
from datetime import timedelta
from email.errors import HeaderMissingRequiredValue, HeaderParseError, InvalidHeaderDefect, MessageError
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.policy import SMTP

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.fields import Command, Domain
from odoo.tools import consteq, email_normalize, format_date, format_datetime
from odoo.tools.mail import decode_message_header, email_normalize_all

from odoo.addons.portal.utils import validate_thread_with_hash_pid
from odoo.addons.rating.models.rating_data import RATING_LIMIT_OK

from .cabinet_category import LEGAL_BASES

_logger = logging.getLogger(__name__)

# Mail gateway: automated senders and headers that never get an answer (RFC 3834), size limit
AUTOMATED_PRECEDENCES = ('bulk', 'junk', 'list', 'auto_reply')
AUTOMATED_HEADERS = ('X-Autoreply', 'X-Autorespond', 'List-Unsubscribe')
AUTOMATED_SENDERS = ('mailer-daemon', 'postmaster', 'noreply', 'no-reply', 'donotreply', 'do-not-reply')
DEFAULT_MAX_ATTACHMENT_SIZE_MB = 20
# something looking like an email address, in the display name of a sender
ADDRESS_LIKE = re.compile(r'[^\s@<>"]+@[^\s@<>"]+')

PRIORITIES = [
    ('0', "Normal"),
    ('1', "Important"),
    ('2', "Urgent"),
    ('3', "Critical"),
]

SLA_STATUSES = [
    ('ok', "On Track"),
    ('at_risk', "At Risk"),
    ('breached', "Breached"),
    ('met', "Met"),
]
# A pending service level deadline is at risk when less than this share of its window is left.
SLA_AT_RISK_SHARE = 0.2
# The stale-ticket digest lists at most this many tickets (the longest idle) and counts the rest.
STALE_DIGEST_MAX_LINES = 100
# Fields only the code that owns them sets, as superuser after its own checks (see PROTECTED FIELDS).
PROTECTED_FIELDS = frozenset(
    {
        # the party follows the requester; lifecycle and numbering are kept by create and write
        'commercial_partner_id',
        'is_closed',
        'closed_date',
        'number',
        'access_token',
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
    """A request of exactly one party (``partner_id``; the party is its commercial partner).

    Who may do what (record rules in ``security/ir_rules.xml``):

    - helpdesk users read and write the tickets of the teams they belong to or lead, the
      tickets assigned to them, tickets without a team, and the requests they filed
      themselves; they create tickets and never delete them;
    - helpdesk managers read, write and delete every ticket of their companies;
    - tickets of a confidential request type (HR above all) are visible only to their
      requester and to the handling team of that type, managers included in that limit;
    - portal users read the tickets of their own party only, and an agent's portal users the
      tickets filed under a mandate of their agent party while it covers them (in force today,
      request type in its scope: ``mandate_agent_ids``);
    - outside those rules, the portal opens a ticket only through a link: its plain access
      token (readable by staff only, meant for the requester, renewed whenever someone's access
      ends) lets one read it, a link signed for a partner lets that partner act on it while they
      may still follow it (see PORTAL);
    - followers and recipients outside staff are limited to the party's contacts and the agent
      of an active mandate covering the ticket (see FOLLOWERS AND RECIPIENTS);
    - the ratings and followers of a ticket are visible only to whoever may read the ticket
      (``cabinet.ticket.linked.mixin``), and no access error names a ticket (``ir.rule``);
    - everyone is limited to the companies they work in.

    Who may change what (checked in ``create``/``write``, see PROTECTED FIELDS AND REQUESTERS):

    - protected fields (``PROTECTED_FIELDS``: party, number, closing date, GDPR flags and
      dates, service level data, reminders, thread and ratings) are set only by the code that
      owns them, as superuser after its own checks; anyone else gets an AccessError naming the
      fields, at creation too, whatever the context. ``legal_hold`` belongs to the data
      protection officer;
    - the requester (``partner_id``) is changed only by the *handling staff* (helpdesk users
      of the ticket's team, its leader, the assignee, anyone for a ticket without team but its
      requester, and managers except on confidential tickets of other teams), to another
      contact of the same party; only a helpdesk manager moves a ticket to another party, which
      leaves an internal note on the ticket naming both parties;
    - a user who only requested the ticket (a staff request they do not handle) files, follows,
      answers and withdraws it (``action_withdraw``); they edit its subject and description
      while it is new, and nothing else: never its stage, assignee, priority, team, request
      type or requester. Like a client, they post public messages only and never read the
      handling team's internal notes (``models/mail_message.py``).
    """

    _name = 'cabinet.ticket'
    _description = "Ticket"
    _inherit = ['portal.mixin', 'rating.mixin', 'mail.thread', 'mail.activity.mixin']
    _order = 'priority desc, id desc'
    _rec_names_search = ['number', 'name', 'partner_id']
    _check_company_auto = True
    _primary_email = 'email_from'
    _mailing_enabled = True
    _mail_post_access = 'read'  # the party answers from the portal with read access only

    def _default_team_id(self):
        team_id = self.env.context.get('default_team_id')
        if team_id:
            return self.env['cabinet.team'].browse(team_id)
        if self.env.context.get('cabinet_staff_request'):
            return self.env['cabinet.team']
        return self.env['cabinet.team'].search(
            [('member_ids', 'in', self.env.uid), ('company_id', 'in', self.env.companies.ids)], limit=1
        )

    def _default_stage_id(self):
        team_id = self.env.context.get('default_team_id')
        return self._stages_for_team(self.env['cabinet.team'].browse(team_id))[:1]

    # Request
    name = fields.Char(string="Subject", required=True, tracking=True, index='trigram')
    number = fields.Char(
        string="Ticket Number",
        readonly=True,
        copy=False,
        index='trigram',
        default="New",
        export_string_translation=False,
    )
    description = fields.Html()
    active = fields.Boolean(default=True)
    company_id = fields.Many2one('res.company', required=True, index=True, default=lambda self: self.env.company)
    color = fields.Integer(export_string_translation=False)
    channel = fields.Selection(
        [('email', "Email"), ('portal', "Portal"), ('phone', "Phone"), ('internal', "Internal")],
        required=True,
        default='internal',
        help="How the request reached the firm.",
    )
    category_id = fields.Many2one(
        'cabinet.category', string="Request Type", index=True, tracking=True, check_company=True
    )
    tag_ids = fields.Many2many('cabinet.tag', string="Tags")
    priority = fields.Selection(PRIORITIES, default='0', required=True, index=True, tracking=True)
    # Party: exactly one
    partner_id = fields.Many2one(
        'res.partner',
        string="Requester",
        required=True,
        index=True,
        tracking=True,
        check_company=True,
        ondelete='restrict',
        help="The one contact who asked. The ticket belongs to this contact's party alone.",
    )
    commercial_partner_id = fields.Many2one(
        related='partner_id.commercial_partner_id', string="Party", store=True, index=True
    )
    party_type = fields.Selection(related='commercial_partner_id.party_type', string="Party Type")
    email_from = fields.Char(related='partner_id.email', string="Requester Email", export_string_translation=False)
    # Handling
    team_id = fields.Many2one(
        'cabinet.team', index=True, tracking=True, check_company=True, default=lambda self: self._default_team_id()
    )
    user_id = fields.Many2one(
        'res.users',
        string="Assigned To",
        index=True,
        tracking=True,
        domain="[('share', '=', False), ('company_ids', 'in', company_id)]",
    )
    stage_id = fields.Many2one(
        'cabinet.stage',
        index=True,
        tracking=True,
        copy=False,
        default=lambda self: self._default_stage_id(),
        group_expand='_read_group_expand_stage_ids',
        ondelete='restrict',
        domain="['|', ('team_ids', '=', False), ('team_ids', 'in', team_id)]",
    )
    is_closed = fields.Boolean(related='stage_id.is_closed', store=True, index=True)
    closed_date = fields.Datetime(readonly=True, copy=False, index=True)
    is_new = fields.Boolean(
        compute='_compute_is_new',
        export_string_translation=False,
        help="Still in the stage it was filed in: its requester may edit the subject and description.",
    )
    kanban_state = fields.Selection(
        [('normal', "In Progress"), ('done', "Ready"), ('blocked', "Blocked")],
        default='normal',
        copy=False,
        export_string_translation=False,
    )
    # Deadlines
    date_deadline = fields.Date(string="Deadline", tracking=True, copy=False, index=True)
    reminder_date = fields.Date(
        tracking=True, copy=False, index=True, help="The assignee is reminded of the ticket on this day."
    )
    # GDPR
    legal_basis = fields.Selection(
        LEGAL_BASES,
        compute='_compute_legal_basis',
        store=True,
        readonly=True,
        help="Legal basis of the processing, from the request type.",
    )
    retention_date = fields.Date(
        compute='_compute_retention_date',
        store=True,
        index=True,
        copy=False,
        help="From this day on, the closed ticket is anonymized or deleted as its retention policy says.",
    )
    legal_hold = fields.Boolean(
        tracking=True, copy=False, help="Keeps the ticket from anonymization and deletion, e.g. during a dispute."
    )
    anonymized = fields.Boolean(readonly=True, copy=False, index=True)
    cabinet_privacy_notice_pending = fields.Boolean(
        compute='_compute_cabinet_privacy_notice_pending', export_string_translation=False
    )
    # Service levels and reminders (scheduled actions keep the status, escalation and reminders up to date)
    sla_policy_id = fields.Many2one(
        'cabinet.sla.policy',
        string="Service Level",
        compute='_compute_sla_policy_id',
        store=True,
        precompute=True,
        readonly=False,
        index=True,
        tracking=True,
        copy=False,
        check_company=True,
        help="Matched from the team, request type and priority: the request type's own service level "
        "first, then the team's most specific policy.",
    )
    sla_response_deadline = fields.Datetime(
        string="First Answer Due",
        compute='_compute_sla_deadlines',
        store=True,
        precompute=True,
        copy=False,
        help="The party must get a first public answer by then (working hours of the team).",
    )
    sla_resolve_deadline = fields.Datetime(
        string="Resolution Due",
        compute='_compute_sla_deadlines',
        store=True,
        precompute=True,
        copy=False,
        help="The ticket must be closed by then (working hours of the team).",
    )
    first_response_date = fields.Datetime(
        string="First Answered On",
        readonly=True,
        copy=False,
        help="When a staff member first sent a public message to the party.",
    )
    sla_status = fields.Selection(
        SLA_STATUSES,
        string="Service Level Status",
        compute='_compute_sla_status',
        store=True,
        precompute=True,
        index=True,
        copy=False,
    )
    sla_next_check = fields.Datetime(
        compute='_compute_sla_status',
        store=True,
        precompute=True,
        index=True,
        copy=False,
        export_string_translation=False,
        help="When the service level status may change next; the scheduled action looks at the ticket then.",
    )
    escalation_level = fields.Integer(
        readonly=True, copy=False, help="How many service level deadlines of the ticket were escalated."
    )
    reminder_sent_date = fields.Date(
        compute='_compute_reminder_sent_date',
        store=True,
        precompute=True,
        copy=False,
        export_string_translation=False,
        help="When the reminder of the reminder date was given; cleared when the reminder date changes.",
    )
    deadline_reminder_date = fields.Date(
        compute='_compute_deadline_reminder_date',
        store=True,
        precompute=True,
        copy=False,
        export_string_translation=False,
        help="When the approaching deadline was announced to the assignee; cleared when the deadline changes.",
    )
    # Mail gateway and coordination
    partner_to_qualify = fields.Boolean(
        string="Party to Qualify",
        copy=False,
        index=True,
        help="The requester was created from an unknown email sender: check who they are and their party "
        "type, then mark the party as checked.",
    )
    coordination_ids = fields.Many2many(
        'cabinet.coordination',
        'cabinet_coordination_ticket_rel',
        'ticket_id',
        'coordination_id',
        string="Coordinations",
        copy=False,
        help="Coordinations of several parties this ticket takes part in, each party on its own ticket.",
    )
    coordination_count = fields.Integer(compute='_compute_coordination_count', export_string_translation=False)
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

    # Portal: the plain token opens the ticket without password; only staff may read it
    access_token = fields.Char(groups='base.group_user')
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

    _number_company_uniq = models.Constraint(
        'UNIQUE (company_id, number)', "Ticket numbers are unique within a company."
    )

    @api.depends('number', 'name')
    def _compute_display_name(self):
        for ticket in self:
            ticket.display_name = f"{ticket.number} {ticket.name}" if ticket.number else ticket.name

    @api.depends('coordination_ids')
    def _compute_coordination_count(self):
        for ticket in self:
            ticket.coordination_count = len(ticket.coordination_ids)

    @api.depends('category_id.legal_basis')
    def _compute_legal_basis(self):
        for ticket in self:
            ticket.legal_basis = ticket.category_id.legal_basis or 'contract'

    @api.depends('closed_date', 'category_id.retention_policy_id.period_months')
    def _compute_retention_date(self):
        for ticket in self:
            policy = ticket.category_id.retention_policy_id
            if ticket.closed_date and policy:
                ticket.retention_date = ticket.closed_date.date() + relativedelta(months=policy.period_months)
            else:
                ticket.retention_date = False

    @api.depends('stage_id', 'team_id')
    def _compute_is_new(self):
        first_stages = {}
        for ticket in self:
            if ticket.team_id not in first_stages:
                first_stages[ticket.team_id] = self._stages_for_team(ticket.team_id)[:1]
            ticket.is_new = not ticket.stage_id.is_closed and ticket.stage_id == first_stages[ticket.team_id]

    @api.depends_context('uid')
    def _compute_cabinet_privacy_notice_pending(self):
        user = self.env.user
        self.cabinet_privacy_notice_pending = not user.share and not user.partner_id.cabinet_privacy_ack_date

    def _compute_access_url(self):
        super()._compute_access_url()
        for ticket in self:
            ticket.access_url = f'/my/tickets/{ticket.id}'

    @api.depends('mandate_id', 'category_id', 'commercial_partner_id')
    def _compute_mandate_agent_ids(self):
        for ticket in self:
            mandate = ticket.mandate_id
            if mandate and mandate._cabinet_covers(ticket.commercial_partner_id, ticket.category_id):
                ticket.mandate_agent_ids = mandate.agent_id.commercial_partner_id
            else:
                ticket.mandate_agent_ids = False

    def _search_mandate_agent_ids(self, operator, value):
        """Tickets whose mandate, held by one of the agent parties ``value``, covers them today
        (``cabinet.mandate._cabinet_covered_tickets_sql``): the portal record rule of agents."""
        if operator != 'in':
            return NotImplemented
        party_ids = [party_id for party_id in value if isinstance(party_id, int)]
        if not party_ids:
            return Domain.FALSE
        return Domain('id', 'in', self.env['cabinet.mandate']._cabinet_covered_tickets_sql(party_ids))

    @api.model
    def _read_group_expand_stage_ids(self, stages, domain):
        team_id = self.env.context.get('default_team_id')
        stage_domain = Domain('fold', '=', False) | Domain('id', 'in', stages.ids)
        if team_id:
            stage_domain &= Domain('team_ids', '=', False) | Domain('team_ids', 'in', [team_id])
        return stages.search(stage_domain)

    @api.constrains('partner_id')
    def _check_partner_id(self):
        for ticket in self:
            if not ticket.partner_id:
                raise ValidationError(self.env._("A ticket needs exactly one requester: choose the contact who asked."))

    @api.onchange('category_id')
    def _onchange_category_id(self):
        if self.category_id.team_id:
            self.team_id = self.category_id.team_id

    @api.onchange('team_id')
    def _onchange_team_id(self):
        if self.team_id and self.stage_id.team_ids and self.team_id not in self.stage_id.team_ids:
            self.stage_id = self._stages_for_team(self.team_id)[:1]

    @api.model
    def default_get(self, fields):
        self._cabinet_check_protected_defaults(fields)
        defaults = super().default_get(fields)
        if self.env.context.get('cabinet_staff_request') and 'partner_id' in fields:
            defaults['partner_id'] = self.env.user.partner_id.id
        return defaults

    @api.model_create_multi
    def create(self, vals_list):
        self._cabinet_check_protected_defaults(self._cabinet_protected_fields())
        # the values are completed below: keep the caller's dicts as they were (a retried call
        # passes them again)
        vals_list = [dict(vals) for vals in vals_list]
        for vals in vals_list:
            self._cabinet_check_protected_fields(vals)
            if vals.get('legal_hold'):
                self._cabinet_check_legal_hold_write(vals)
            if not vals.get('partner_id'):
                raise ValidationError(self.env._("A ticket needs exactly one requester: choose the contact who asked."))
            category = self.env['cabinet.category'].browse(vals.get('category_id'))
            if category.team_id and not vals.get('team_id'):
                vals['team_id'] = category.team_id.id
            if 'team_id' not in vals:
                # the default team, known from the start: its stages, assignment and notified staff apply
                vals['team_id'] = self._default_team_id().id
            team = self.env['cabinet.team'].browse(vals.get('team_id'))
            company = (
                self.env['res.company'].browse(vals['company_id'])
                if vals.get('company_id')
                else team.company_id or self.env.company
            )
            vals['company_id'] = company.id
            if not vals.get('stage_id'):
                vals['stage_id'] = self._stages_for_team(team)[:1].id
            if self.env['cabinet.stage'].browse(vals['stage_id']).is_closed:
                vals['closed_date'] = fields.Datetime.now()
            vals['number'] = self._next_number(company)
            if team and 'user_id' not in vals:
                vals['user_id'] = team._get_assignee_for_new_ticket(self.browse()._cabinet_preview(vals)).id
            elif vals.get('user_id'):
                self.browse()._cabinet_preview(vals)._cabinet_check_assignee(
                    self.env['res.users'].browse(vals['user_id'])
                )
        tickets = super().create(vals_list)
        tickets.filtered('agent_partner_id')._cabinet_sync_mandate()
        if self.env.context.get('cabinet_staff_request'):
            # like a client on the portal, staff filing their own request were shown the notice
            self.action_cabinet_acknowledge_privacy()
        return tickets

    def write(self, vals):
        self._cabinet_check_protected_fields(vals)
        self._cabinet_check_legal_hold_write(vals)
        self._cabinet_check_anonymized(vals)
        if 'partner_id' in vals and not vals['partner_id']:
            raise ValidationError(self.env._("A ticket needs exactly one requester: choose the contact who asked."))
        self._cabinet_check_requester_write(vals)
        party_moves = self._cabinet_check_partner_change(vals)
        new_requester = self.filtered(lambda t: t.partner_id.id != vals['partner_id']) if 'partner_id' in vals else None
        if vals.get('stage_id'):
            stage = self.env['cabinet.stage'].browse(vals['stage_id'])
            if stage.is_closed:
                vals.setdefault('closed_date', fields.Datetime.now())
            else:
                vals['closed_date'] = False
        if vals.get('user_id'):
            self._cabinet_preview(vals)._cabinet_check_assignee(self.env['res.users'].browse(vals['user_id']))
        if vals.get('team_id') and 'user_id' not in vals:
            team = self.env['cabinet.team'].browse(vals['team_id'])
            self_other_team = self.filtered(lambda t: t.team_id != team and t.user_id not in team.member_ids)
            if self_other_team:
                assignee = team._get_assignee_for_new_ticket(self_other_team._cabinet_preview(vals))
                self_other_team.write({'user_id': assignee.id})
        res = super().write(vals)
        if party_moves:
            self._cabinet_log_party_moves(party_moves)
        if vals.keys() & {'agent_partner_id', 'partner_id', 'category_id'}:
            self.filtered('agent_partner_id')._cabinet_sync_mandate()
        if new_requester:
            new_requester._cabinet_rotate_access_token()  # the former requester's links die
        return res

    def copy_data(self, default=None):
        vals_list = super().copy_data(default=default)
        return [
            dict(vals, name=self.env._("%s (copy)", ticket.name)) for ticket, vals in zip(self, vals_list, strict=True)
        ]

    # ------------------------------------------------------------
    # PROTECTED FIELDS AND REQUESTERS
    # ------------------------------------------------------------
    # One owner per rule, checked in create/write whatever the path (form, RPC, import, wizard):
    # protected fields are set by their owning code as superuser only; the requester is changed
    # by the handling staff only, within the party (managers move tickets between parties, with
    # a note); a requester who does not handle their ticket edits its subject and description
    # while it is new, and nothing else. No context key changes any of this.

    @api.model
    def _cabinet_protected_fields(self):
        """Fields of tickets only the code that owns them may set, as superuser (``self.env.su``)
        after its own checks: create and write set the number and closing date, the scheduled
        actions the service level and reminder fields, the retention the GDPR fields, the mail
        and rating methods the thread; stored related and computed fields follow their source."""
        return PROTECTED_FIELDS & self._fields.keys()

    def _cabinet_refuse_protected(self, fnames):
        """Raise the AccessError naming the protected fields ``fnames`` someone tried to set."""
        labels = sorted(f"{self._fields[fname]._description_string(self.env)} ({fname})" for fname in fnames)
        raise AccessError(
            self.env._(
                "%(fields)s cannot be set on a ticket by hand: the helpdesk keeps these fields itself "
                "(party, number, closing date, service levels, retention, thread).",
                fields=", ".join(labels),
            )
        )

    def _cabinet_check_protected_fields(self, vals):
        """Refuse ``vals`` (of create or write) setting a protected field, unless the owning code
        runs as superuser."""
        if self.env.su:
            return
        if protected := vals.keys() & self._cabinet_protected_fields():
            self._cabinet_refuse_protected(protected)

    @api.model
    def _cabinet_check_protected_defaults(self, fnames):
        """Refuse default values of protected fields given by the context (``default_<field>``)
        or by user-defined defaults (``ir.default``): create would otherwise take them."""
        if self.env.su:
            return
        protected = self._cabinet_protected_fields().intersection(fnames)
        if not protected:
            return
        ir_defaults = self.env['ir.default']._get_model_defaults(self._name)
        if given := {fname for fname in protected if f'default_{fname}' in self.env.context or fname in ir_defaults}:
            self._cabinet_refuse_protected(given)

    @api.model
    def _cabinet_handled_domain(self, user):
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
    def _cabinet_requester_only_domain(self, user):
        """Domain of the tickets ``user`` requested without handling them: for these, they are a
        requester like a client (public messages only, no internal notes)."""
        return Domain('partner_id', '=', user.partner_id.id) & ~self._cabinet_handled_domain(user)

    def _cabinet_filter_handled(self, user=None):
        """Return the tickets of ``self`` handled by ``user`` (default: the current user), as
        ``_cabinet_handled_domain`` says, without a query per ticket.

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

    def _cabinet_changed_fields(self, vals):
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

    def _cabinet_check_requester_write(self, vals):
        """A user writing a ticket they requested without handling it may edit its subject and
        description while it is new, nothing else: raise an AccessError naming what they may not
        change. (Record rules give a user who does not handle a ticket write access to it only
        when they requested it.)"""
        if self.env.su:
            return
        requested = self.filtered(lambda ticket: ticket.partner_id == self.env.user.partner_id)
        requested -= requested._cabinet_filter_handled()
        if not requested:
            return
        changed = requested._cabinet_changed_fields(vals)
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

    def _cabinet_check_partner_change(self, vals):
        """Check a change of requester (``partner_id`` in ``vals``): only the handling staff may
        change it, to another contact of the same party; only a helpdesk manager may move a ticket
        to another party.

        :return: ``{ticket: former party}`` of the tickets moved to another party, to be logged
            once written (``_cabinet_log_party_moves``)
        :rtype: dict
        """
        if self.env.su or not vals.get('partner_id'):
            return {}
        partner = self.env['res.partner'].browse(vals['partner_id'])
        changed = self.filtered(lambda ticket: ticket.partner_id != partner)
        if not changed:
            return {}
        if not_handled := changed - changed._cabinet_filter_handled():
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

    def _cabinet_log_party_moves(self, moves):
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
            if outsiders := followers - ticket_sudo._cabinet_filter_allowed_partners(followers):
                ticket_sudo.message_unsubscribe(partner_ids=outsiders.ids)

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_assign_to_me(self):
        self.write({'user_id': self.env.uid})

    def action_close(self):
        stage = self.env['cabinet.stage'].search([('is_closed', '=', True), ('fold', '=', True)], limit=1) or self.env[
            'cabinet.stage'
        ].search([('is_closed', '=', True)], limit=1)
        if not stage:
            raise UserError(self.env._("No closing stage is configured: create a stage flagged as closing."))
        self.write({'stage_id': stage.id})

    def action_withdraw(self, reason=None):
        """Withdraw open requests: close them in the cancelling stage of their team and say so, with
        ``reason``, in a message to the party. Their requester may (it is their request), as may
        the handling staff.

        :param str reason: why the request is withdrawn (optional)
        """
        self.check_access('write')
        self._cabinet_check_anonymized()
        requested = self.filtered(lambda ticket: ticket.partner_id == self.env.user.partner_id)
        if refused := self - requested - self._cabinet_filter_handled():
            raise AccessError(
                self.env._(
                    "Only the requester or the staff handling ticket %(numbers)s may withdraw it.",
                    numbers=", ".join(refused.mapped('number')),
                )
            )
        reason = (reason or '').strip()
        if reason:
            body = self.env._("Request withdrawn: %(reason)s", reason=reason)
        else:
            body = self.env._("Request withdrawn.")
        for ticket in self.filtered(lambda t: not t.is_closed):
            stage = ticket._cabinet_withdrawn_stage()
            # sudo: the requester may not change the stage otherwise; withdrawing is checked above
            ticket.sudo().write({'stage_id': stage.id})
            ticket.message_post(body=body, message_type='comment', subtype_xmlid='mail.mt_comment')
        return True

    def _cabinet_withdrawn_stage(self):
        """The stage a withdrawn ticket goes to: the module's cancelling stage when its team uses
        it, else the last closing stage of its team."""
        self.ensure_one()
        stages = self._stages_for_team(self.team_id).filtered('is_closed')
        cancelled = self.env.ref('cabinet_helpdesk.cabinet_stage_cancelled', raise_if_not_found=False)
        stage = cancelled if cancelled in stages else stages[-1:]
        if not stage:
            raise UserError(self.env._("No closing stage is configured: create a stage flagged as closing."))
        return stage

    # ------------------------------------------------------------
    # MAIL
    # ------------------------------------------------------------

    def _track_subtype(self, init_values):
        self.ensure_one()
        if 'stage_id' in init_values and self.is_closed:
            return self.env.ref('cabinet_helpdesk.mt_ticket_closed')
        if 'stage_id' in init_values:
            return self.env.ref('cabinet_helpdesk.mt_ticket_stage')
        if 'user_id' in init_values and self.user_id:
            return self.env.ref('cabinet_helpdesk.mt_ticket_reassigned')
        return super()._track_subtype(init_values)

    def _creation_subtype(self):
        if self.env.context.get('cabinet_mail_gateway') and self.channel == 'email':
            # the email opening a ticket is the party's request itself: a public message, shown in
            # the portal and answered as such (a reply to it is not an internal note)
            return self.env.ref('mail.mt_comment')
        return self.env.ref('cabinet_helpdesk.mt_ticket_new')

    def _track_template(self, changes):
        res = super()._track_template(changes)
        ticket = self[0]
        if 'stage_id' in changes and ticket.stage_id.mail_template_id:
            res['stage_id'] = (
                ticket.stage_id.mail_template_id,
                {
                    'auto_delete_keep_log': False,
                    'subtype_id': self.env['ir.model.data']._xmlid_to_res_id('mail.mt_note'),
                    'email_layout_xmlid': 'mail.mail_notification_light',
                },
            )
        return res

    # ------------------------------------------------------------
    # FOLLOWERS AND RECIPIENTS
    # ------------------------------------------------------------
    # The rule: external followers and recipients of a ticket are contacts of its party, or the
    # agent party (and its contacts) of an active mandate of that party covering the ticket's
    # request type today; internal users may follow when they may read the ticket. A person who adds anyone else gets a
    # UserError naming the rule; an email or a scheduled action drops them and logs it. The last
    # lines of defence (mail.followers, notification recipients, outgoing mail.mail) always drop.

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
            if not mandate._cabinet_covers(ticket.commercial_partner_id, ticket.category_id):
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
            if not ticket.mandate_id._cabinet_covers(ticket.commercial_partner_id, ticket.category_id):
                raise ValidationError(
                    self.env._(
                        "Ticket %(number)s is filed under mandate %(mandate)s, which does not cover this party or "
                        "request type: remove the mandate first or keep the ticket within its scope.",
                        number=ticket.number,
                        mandate=ticket.mandate_id.name,
                    )
                )

    def _cabinet_filter_allowed_partners(self, partners):
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
            agents = self._cabinet_mandate_agents()
            allowed_ids.update(p.id for p in outsiders if p.commercial_partner_id in agents)
        return partners.filtered(lambda p: p.id in allowed_ids)

    def _cabinet_mandate_agents(self):
        """Agent parties whose active mandate lets them follow this ticket today."""
        self.ensure_one()
        ticket_sudo = self.sudo()
        Mandate = self.env['cabinet.mandate'].sudo()
        return Mandate.search(
            Mandate._cabinet_covering_domain(
                ticket_sudo.commercial_partner_id,
                ticket_sudo.category_id,
                company=ticket_sudo.company_id,
            )
        ).agent_id.commercial_partner_id

    def _cabinet_mail_driven(self, message_type=None):
        """Whether the current change comes from an email or a scheduled action rather than from a
        person: outsiders are then dropped and logged instead of refused with an error. The email
        gateway passes ``message_type='email'`` and sets the context key ``cabinet_mail_automated``
        (or ``cabinet_mail_gateway``, also set for stage templates); the scheduler sets
        ``cron_id``. This only chooses between refusing and dropping: no context key lets an
        outsider through."""
        context = self.env.context
        return (
            message_type == 'email'
            or 'cabinet_mail_automated' in context
            or bool(context.get('cabinet_mail_gateway') or context.get('cron_id'))
        )

    def _cabinet_enforce_allowed_partners(self, partners, message_type=None, what=None):
        """Return the allowed subset of ``partners`` (see ``_cabinet_filter_allowed_partners``).
        When someone is not allowed, raise a UserError if a person asked for it, or drop them and
        log it when an email or a scheduled action did.

        :param partners: ``res.partner`` recordset asked to follow or receive the ticket
        :param str message_type: type of the message being posted, if any
        :param str what: what was asked, for the log ("follower", "recipient")
        """
        self.ensure_one()
        allowed = self._cabinet_filter_allowed_partners(partners)
        refused = partners - allowed
        if not refused:
            return allowed
        if self._cabinet_mail_driven(message_type):
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

    def _cabinet_refuse_addresses(self, emails, message_type=None):
        """Refuse bare email addresses that belong to no allowed partner of this ticket: UserError
        for a person, log for an email or a scheduled action (the addresses are then dropped)."""
        self.ensure_one()
        if self._cabinet_mail_driven(message_type):
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

    def _cabinet_partners_from_emails(self, emails):
        """Map each email of ``emails`` to an allowed partner of this ticket having it, if any.

        :param list emails: normalized emails
        :return: dict email -> res.partner (allowed), and the list of emails without one
        """
        self.ensure_one()
        if not emails:
            return {}, []
        # sudo: matching addresses to partners to decide; only allowed partners come out
        candidates = self.env['res.partner'].sudo().search([('email_normalized', 'in', list(emails))])
        allowed = self._cabinet_filter_allowed_partners(candidates)
        party = self.sudo().commercial_partner_id
        found = {}
        for partner in allowed.sorted(lambda p: (p.commercial_partner_id != party, p.id)):
            found.setdefault(partner.email_normalized, partner)
        return found, [email for email in emails if email not in found]

    def _cabinet_sync_mandate(self):
        """Find the mandate of tickets an agent filed for the party (exactly one active mandate of
        the agent for the party must cover the request) and make the acting agent follow."""
        Mandate = self.env['cabinet.mandate'].sudo()
        for ticket in self:
            agent = ticket.agent_partner_id.commercial_partner_id
            if not ticket.mandate_id:
                mandates = Mandate.search(
                    Mandate._cabinet_covering_domain(
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
            if ticket.mandate_id._cabinet_covers(ticket.commercial_partner_id, ticket.category_id) and (
                ticket.agent_partner_id not in ticket.message_partner_ids
            ):
                ticket.message_subscribe(partner_ids=ticket.agent_partner_id.ids)

    def _message_subscribe(self, partner_ids=None, subtype_ids=None, customer_ids=None):
        if not self or not partner_ids:
            return super()._message_subscribe(partner_ids, subtype_ids, customer_ids=customer_ids)
        partners = self.env['res.partner'].browse(partner_ids)
        allowed_by_ticket = {
            ticket: ticket._cabinet_enforce_allowed_partners(partners, what="follower(s)") for ticket in self
        }
        if all(allowed == partners for allowed in allowed_by_ticket.values()):
            return super()._message_subscribe(partner_ids, subtype_ids, customer_ids=customer_ids)
        for ticket, allowed in allowed_by_ticket.items():
            if allowed:
                super(CabinetTicket, ticket)._message_subscribe(
                    allowed.ids,
                    subtype_ids,
                    customer_ids=customer_ids and [pid for pid in customer_ids if pid in allowed.ids],
                )
        return True

    def _message_auto_subscribe_followers(self, updated_values, default_subtype_ids):
        """Besides the assignee, who follows a ticket when it is created or changes hands:

        - its requester, so that every answer of the firm reaches them whatever posts it (the
          default subtypes a party gets, never internal ones, even for a staff requester);
        - the staff its team names (``cabinet.team.notify_mode``), with the new request and low
          rating subtypes on top of the defaults (so the party's answers reach them too),
          provided they may read the ticket: a confidential request type stays with its
          handling team.
        """
        followers = []
        requester = self.env['res.partner'].browse(updated_values.get('partner_id'))
        if requester:
            external_subtypes = self.env['mail.message.subtype'].default_subtypes(self._name)[2]
            followers.append((requester.id, external_subtypes.ids, False))
        team = self.env['cabinet.team'].browse(updated_values.get('team_id'))
        if team:
            staff = self.env['res.users']
            # sudo: the team's notification setting decides who follows; only its users come out
            for candidates in team.sudo()._cabinet_notification_candidates():
                if staff := self._cabinet_users_who_may_read(candidates):
                    break
            if staff:
                xmlid_to_res_id = self.env['ir.model.data']._xmlid_to_res_id
                staff_subtype_ids = list(
                    {
                        *(default_subtype_ids or []),
                        xmlid_to_res_id('cabinet_helpdesk.mt_ticket_new'),
                        xmlid_to_res_id('cabinet_helpdesk.mt_ticket_rating_low'),
                    }
                )
                followers.extend((user.partner_id.id, staff_subtype_ids, False) for user in staff)
        # ours first: the first entry of a partner gives their subtypes (the assignee's included)
        return followers + super()._message_auto_subscribe_followers(updated_values, default_subtype_ids)

    def _cabinet_users_who_may_read(self, users):
        """Return those of ``users`` who may read all of these tickets, record rules included (a
        confidential request type stays with its requester and handling team), in any of their
        companies."""
        # each user is checked in all their companies, not in the current user's selection
        return users.filtered(
            lambda user: (
                self.with_user(user).with_context(allowed_company_ids=list(user._get_company_ids())).has_access('read')
            )
        )

    def message_post(self, *, partner_ids=None, outgoing_email_to=False, **kwargs):
        if not self.env.su:
            self._cabinet_check_anonymized()
            if self and self._cabinet_posts_as_requester():
                kwargs.update(self._cabinet_requester_post_values())
        if (partner_ids or outgoing_email_to) and self and all(isinstance(pid, int) for pid in partner_ids or []):
            self.ensure_one()
            message_type = kwargs.get('message_type', 'notification')
            partners = self.env['res.partner'].browse(partner_ids or [])
            if outgoing_email_to:
                # addresses without partner: only those of allowed partners are kept, as partners
                emails = email_normalize_all(outgoing_email_to)
                found, unknown = self._cabinet_partners_from_emails(emails)
                if unknown:
                    self._cabinet_refuse_addresses(unknown, message_type=message_type)
                partners |= self.env['res.partner'].browse([partner.id for partner in found.values()])
                outgoing_email_to = False
            partner_ids = self._cabinet_enforce_allowed_partners(partners, message_type=message_type).ids
        return super().message_post(partner_ids=partner_ids, outgoing_email_to=outgoing_email_to, **kwargs)

    def _cabinet_posts_as_requester(self):
        """Whether the current user posts on this ticket as a requester, who may only post public
        messages: a client (portal or public user, whatever the environment's superuser mode, as
        the chatter routes post in sudo) or an employee who requested the ticket without handling
        it. Other staff (the data protection officer, say) keep their internal notes."""
        self.ensure_one()
        user = self.env.user
        if user.share:
            return True
        # sudo: the requester is compared, the routes may call this on a sudo record anyway
        return self.sudo().partner_id == user.partner_id and not self._cabinet_filter_handled(user)

    @api.model
    def _cabinet_requester_post_values(self):
        """Values forced on a message a requester posts: a public comment, whatever they asked
        (no internal note, no system event such as "Ticket Closed")."""
        return {
            'message_type': 'comment',
            'subtype_xmlid': 'mail.mt_comment',
            'subtype_id': False,
            'is_internal': False,
        }

    def _message_track_post_template(self, changes):
        """Stage templates are sent by the system, not chosen by the person who moved the ticket:
        their recipients outside the rule are dropped and logged rather than blocking the change."""
        return super(CabinetTicket, self.with_context(cabinet_mail_gateway=True))._message_track_post_template(changes)

    def _message_update_content(
        self, message, /, *, body, attachment_ids=None, partner_ids=None, strict=True, **kwargs
    ):
        if partner_ids:
            partner_ids = self._cabinet_enforce_allowed_partners(
                self.env['res.partner'].browse([int(pid) for pid in partner_ids])
            ).ids
        return super()._message_update_content(
            message, body=body, attachment_ids=attachment_ids, partner_ids=partner_ids, strict=strict, **kwargs
        )

    def _message_get_suggested_recipients_batch(
        self, reply_discussion=False, reply_message=None, no_create=True, primary_email=False, additional_partners=None
    ):
        """Suggest only partners allowed by the rule; bare addresses (Cc of incoming mail, unknown
        senders) are never suggested."""
        suggested = super()._message_get_suggested_recipients_batch(
            reply_discussion=reply_discussion,
            reply_message=reply_message,
            no_create=no_create,
            primary_email=primary_email,
            additional_partners=additional_partners,
        )
        for ticket in self:
            recipients = suggested.get(ticket.id) or []
            partners = self.env['res.partner'].browse([r['partner_id'] for r in recipients if r.get('partner_id')])
            allowed = ticket._cabinet_filter_allowed_partners(partners)
            suggested[ticket.id] = [r for r in recipients if r.get('partner_id') in allowed.ids]
        return suggested

    def _notify_get_recipients(self, message, msg_vals=False, **kwargs):
        """Last line of defence: whoever asked, only allowed partners are notified, and staff
        only when they may read the ticket with their own rights (whatever they follow)."""
        recipients_data = super()._notify_get_recipients(message, msg_vals=msg_vals, **kwargs)
        if len(self) != 1 or not recipients_data:
            return recipients_data
        recipients_data = self._cabinet_drop_requester_from_internal(message, msg_vals or {}, recipients_data)
        shared_ids = [r['id'] for r in recipients_data if r['id'] and r['share']]
        allowed_ids = set(self._cabinet_filter_allowed_partners(self.env['res.partner'].browse(shared_ids)).ids)
        Users = self.env['res.users']
        staff_uids = {r['uid'] for r in recipients_data if r['id'] and not r['share'] and r['uid']}
        reader_uids = {uid for uid in staff_uids if self._cabinet_filtered_readable(Users.browse(uid))}
        emails_only = [r['email_normalized'] for r in recipients_data if not r['id']]
        allowed_emails = set(self._cabinet_partners_from_emails(emails_only)[0]) if emails_only else set()
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

    def _cabinet_drop_requester_from_internal(self, message, msg_vals, recipients_data):
        """An employee who requested this ticket without handling it is not notified of its
        internal notes and events, which they may not read (see ``models/mail_message.py``)."""
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
        if self._cabinet_filter_handled(user):
            return recipients_data
        return [r for r in recipients_data if r['id'] != requester.id]

    def _notify_by_email_get_headers(self, headers=None):
        """No Cc or Bcc, and no other recipients added to the To header: each recipient sees
        only themselves."""
        headers = super()._notify_by_email_get_headers(headers=headers)
        for key in [key for key in headers if key.lower() in ('cc', 'bcc', 'x-msg-to-add')]:
            del headers[key]
        return headers

    def _notify_get_reply_to_batch(self, defaults=None, author_ids=None):
        """Replies go back to the ticket: through the team's alias when it has one (the thread
        headers bring the reply to this ticket), else the company's catchall."""
        reply_to = super()._notify_get_reply_to_batch(defaults=defaults, author_ids=author_ids)
        if self._name != 'cabinet.ticket' or not self:
            return reply_to
        # sudo: the team's alias address is not personal data and is printed in every mail
        for ticket in self.sudo():
            alias_email = ticket.team_id.alias_email
            if alias_email:
                reply_to[ticket.id] = self._notify_get_reply_to_formatted_email(
                    alias_email, author_id=(author_ids or {}).get(ticket.id, False)
                )
        return reply_to

    def _cabinet_restrict_outgoing_mails(self, mails):
        """Last line of defence on outgoing ``mail.mail`` of tickets: no Cc, no Cc/Bcc header, and
        recipients limited to allowed partners. Addresses of allowed partners in To/Cc become
        partner recipients; any other address is dropped and logged.

        :param mails: ``mail.mail`` records (sudo) whose ``model`` is ``cabinet.ticket``
        """
        # sudo: outgoing mails are technical records created in sudo by the notification process;
        # only the tickets' party and mandates are read, to decide
        tickets = self.browse(mails.mapped('res_id')).sudo().exists()
        for mail in mails:
            if mail.res_id not in tickets.ids:
                continue
            ticket = tickets.browse(mail.res_id)
            vals = {}
            emails = email_normalize_all(f"{mail.email_to or ''},{mail.email_cc or ''}")
            recipients = mail.recipient_ids
            allowed = ticket._cabinet_filter_allowed_partners(recipients)
            if emails:
                found, unknown = ticket._cabinet_partners_from_emails(emails)
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

    # ------------------------------------------------------------
    # MAIL GATEWAY
    # ------------------------------------------------------------

    @api.model
    def message_new(self, msg_dict, custom_values=None):
        """Open a ticket for the sender of an email written to a team alias.

        The requester is the contact the routing found for the sender's address (see
        ``_cabinet_mail_routes``), or a new partner of party type *other* whose ticket is flagged
        ``partner_to_qualify``. An email the routing could not attribute for certain (no or
        malformed sender, several senders, an address shared by several parties) or could not
        read arrives with the reason in ``custom_values`` and is kept as a ``cabinet.mail.pending``
        record (returned instead of a ticket, so the gateway posts the email there) for a person
        to qualify: never a ticket without a sure requester. Cc and Bcc addresses never reach
        this point (see ``models/mail_thread.py``).
        """
        values = dict(custom_values or {})
        diverted_from = self.browse(values.pop('cabinet_diverted_from_id', False))
        pending_reason = values.pop('cabinet_mail_pending_reason', False)
        raw_from = values.pop('cabinet_mail_raw_from', None)
        # the original of an unreadable email is its only copy: it is kept whatever its size
        refused = [] if pending_reason == 'unreadable' else self._cabinet_mail_refuse_attachments(msg_dict)
        requester, created = self.env['res.partner'], False
        if not pending_reason:
            requester, created = self._cabinet_mail_find_requester(msg_dict)
        if not requester:
            pending = self.env['cabinet.mail.pending']._cabinet_create_from_mail(
                msg_dict, values, refused, reason=pending_reason, email_from=raw_from
            )
            if diverted_from:
                diverted_from._cabinet_mail_note_to_qualify(pending)
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
            }
        )
        # the sender's address is the requester's: never write it onto the partner (email_from is related)
        ticket = super().message_new(dict(msg_dict, email_from=False), values)
        if diverted_from:
            diverted_from._cabinet_mail_note_diverted(ticket.number)
        if refused:
            ticket._cabinet_mail_note_refused(refused)
        if not self.env.context.get('cabinet_mail_automated'):
            ticket._cabinet_mail_send_acknowledgement(refused)
        return ticket

    def message_update(self, msg_dict, update_vals=None):
        """Let a reply of the ticket's party (or of the firm's staff) enter the ticket.

        Replies from anyone else never get here: the routing sent them to a new ticket of their
        own (``_cabinet_mail_divert_other_parties``). Attachments over the size limit are
        refused: a note says so on the ticket and the sender is told, unless the reply is an
        automated one.
        """
        refused = self._cabinet_mail_refuse_attachments(msg_dict)
        result = super().message_update(msg_dict, update_vals=update_vals)
        if refused:
            self._cabinet_mail_note_refused(refused)
            author = self.env['res.partner'].browse(msg_dict.get('author_id'))
            if author and not self.env.context.get('cabinet_mail_automated'):
                self._cabinet_mail_tell_refused(author, refused)
        return result

    def action_mark_party_qualified(self):
        self.write({'partner_to_qualify': False})

    @api.model
    def _cabinet_mail_routes(self, message, message_dict, routes):
        """Apply the gateway's rules to the routes of one incoming email (the routing hook
        ``mail.thread.message_route`` calls this when a route leads to tickets).

        Once a route points at a ticket, the gateway posts the email on it whatever
        ``message_new`` or ``message_update`` do: the sender is therefore decided here, once,
        for new tickets and replies alike.

        - An email that could not be read (see ``mail.thread.message_process``), or whose sender
          is not usable (``_cabinet_mail_usable_sender``) or is an address of several parties
          (``_cabinet_mail_sender_partner``), is kept as an email to qualify: it neither opens a
          ticket for a guessed party nor enters a ticket's thread.
        - Otherwise the sender's contact becomes the author (``author_id``), chosen here rather
          than by Odoo's lookup, and a reply from outside the ticket's party opens a ticket of its
          own (``_cabinet_mail_divert_other_parties``).
        - One email opens at most one ticket, even when written to several team aliases
          (``_cabinet_mail_one_new_ticket``).

        :param message: the incoming ``email.message.EmailMessage``
        :param dict message_dict: the parsed email; ``author_id`` is set or cleared here
        :param list routes: routes ``(model, thread_id, custom_values, user_id, alias)``
        :return: the routes to process
        :rtype: list
        """
        if self.env.context.get('cabinet_mail_unreadable'):
            reason = 'unreadable'
        else:
            sender, reason = self._cabinet_mail_usable_sender(message, message_dict)
            if not reason:
                partner, ambiguous = self._cabinet_mail_sender_partner(sender)
                reason = ambiguous and 'ambiguous'
                message_dict['author_id'] = partner.id
        if reason:
            _logger.info(
                "Email with Message-Id %s kept for a person to qualify: %s", message_dict.get('message_id'), reason
            )
            message_dict['author_id'] = False
            routes = self._cabinet_mail_keep_to_qualify(message, routes, reason)
        else:
            routes = self._cabinet_mail_divert_other_parties(message_dict, routes)
        return self._cabinet_mail_one_new_ticket(message, routes)

    @api.model
    def _cabinet_mail_usable_sender(self, message, message_dict):
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
    def _cabinet_mail_sender_partner(self, address):
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
        # sudo: matching an address to contacts to decide who wrote; nothing is shown
        partners = self.env['res.partner'].sudo().search([('email_normalized', '=', address)], order='id')
        sides = {'staff' if not partner.partner_share else partner.commercial_partner_id.id for partner in partners}
        if len(sides) > 1:
            return self.env['res.partner'], True
        return partners.sorted(lambda partner: not partner.user_ids)[:1].sudo(False), False

    @api.model
    def _cabinet_mail_keep_to_qualify(self, message, routes, reason):
        """Turn the routes of ``routes`` to tickets into routes keeping the email to qualify
        (``cabinet.mail.pending``), for the same team, run as the gateway's own user rather than
        as a user guessed from the sender's address. A reply on a ticket's thread gets an internal
        note there naming only the email to qualify.

        :param str reason: why the email is kept (a ``cabinet.mail.pending`` reason)
        :return: the routes to process
        :rtype: list
        """
        raw_from = self._cabinet_mail_raw_from(message)
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
    def _cabinet_mail_raw_from(self, message):
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
                pass
            values.append(value.strip())
        return ', '.join(value for value in values if value)

    @api.model
    def _cabinet_mail_one_new_ticket(self, message, routes):
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
    def _cabinet_mail_divert_other_parties(self, message_dict, routes):
        """Turn the routes of ``routes`` that would add an email to an existing ticket into
        routes creating a new ticket (same team) when the sender is outside the ticket's party.

        This is part of the routing (``_cabinet_mail_routes``) rather than ``message_update``:
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
            if author and ticket._cabinet_mail_author_allowed(author):
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

    def _cabinet_mail_author_allowed(self, partner):
        """Whether ``partner`` may write on this ticket by email: a contact of its party, the
        agent of an active mandate covering it, or the firm's staff."""
        self.ensure_one()
        return bool(self._cabinet_filter_allowed_partners(partner))

    @api.model
    def _cabinet_mail_is_automated(self, message, message_dict):
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
    def _cabinet_mail_find_requester(self, msg_dict):
        """Find the requester of a new ticket from the sender of ``msg_dict``: the author the
        routing found (``_cabinet_mail_routes``), else the contact having the address, else a new
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
        partner, ambiguous = self._cabinet_mail_sender_partner(sender)
        if partner or ambiguous:
            return partner, False
        partner = self._partner_find_from_emails_single(
            [email_from], additional_values={sender: {'party_type': 'other'}}
        )
        return partner, bool(partner)

    @api.model
    def _cabinet_max_attachment_size_mb(self):
        value = self.env['ir.config_parameter'].sudo().get_param('cabinet_helpdesk.max_attachment_size_mb')
        try:
            return float(value) if value else DEFAULT_MAX_ATTACHMENT_SIZE_MB
        except ValueError:
            _logger.warning(
                "Invalid cabinet_helpdesk.max_attachment_size_mb %r: using %s MB", value, DEFAULT_MAX_ATTACHMENT_SIZE_MB
            )
            return DEFAULT_MAX_ATTACHMENT_SIZE_MB

    @api.model
    def _cabinet_mail_refuse_attachments(self, msg_dict):
        """Take the attachments over the size limit out of ``msg_dict``.

        :return: ``(file name, size in MB)`` of each refused attachment
        :rtype: list
        """
        limit = self._cabinet_max_attachment_size_mb() * 1024 * 1024
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

    def _cabinet_mail_bot(self):
        """This ticket as OdooBot, to post the gateway's own messages: as OdooBot is inactive,
        the requester is notified even when the gateway runs as their own user."""
        return self.with_user(self.env.ref('base.user_root'))

    def _cabinet_mail_send_acknowledgement(self, refused=()):
        """Send the acknowledgement of the ticket's team (if it sends any) to the requester only."""
        self.ensure_one()
        if self.team_id and not self.team_id.use_acknowledgement:
            return
        template = self.team_id.acknowledgement_template_id or self.env.ref(
            'cabinet_helpdesk.mail_template_ticket_acknowledgement', raise_if_not_found=False
        )
        if not template or not self.partner_id.email_normalized:
            return
        self._cabinet_mail_bot().with_context(
            cabinet_refused_attachments=", ".join(name for name, _size in refused),
            cabinet_max_attachment_size_mb=self._cabinet_max_attachment_size_mb(),
        ).message_post_with_source(
            template,
            message_type='auto_comment',
            subtype_xmlid='mail.mt_note',
            email_layout_xmlid='mail.mail_notification_light',
        )

    def _cabinet_mail_note_diverted(self, reference):
        """Note on this ticket that an email of its thread went elsewhere, naming only where."""
        self.ensure_one()
        self._cabinet_mail_bot().message_post(
            body=self.env._(
                "An email arriving on this ticket's thread came from outside its party. It was not added "
                "here: it is handled separately as %(reference)s.",
                reference=reference,
            ),
            message_type='notification',
            subtype_xmlid='mail.mt_note',
        )

    def _cabinet_mail_note_to_qualify(self, pending):
        """Note on this ticket that an email of its thread was kept to qualify, naming only it."""
        self.ensure_one()
        self._cabinet_mail_bot().message_post(
            body=self.env._(
                "An email arriving on this ticket's thread was not added here: its sender could not be "
                "identified for certain, or it could not be read. It is kept as email to qualify #%(pending)s "
                "until a person checks it.",
                pending=pending.id,
            ),
            message_type='notification',
            subtype_xmlid='mail.mt_note',
        )

    def _cabinet_mail_note_refused(self, refused):
        self.ensure_one()
        self._cabinet_mail_bot().message_post(
            body=self.env._(
                "Attachments refused because they exceed %(limit)s MB: %(files)s. The email itself was "
                "kept and the sender was asked to send them another way.",
                limit=self._cabinet_max_attachment_size_mb(),
                files=", ".join(f"{name} ({size} MB)" for name, size in refused),
            ),
            message_type='notification',
            subtype_xmlid='mail.mt_note',
        )

    def _cabinet_mail_tell_refused(self, partner, refused):
        """Tell ``partner``, the sender of a reply, which attachments were refused."""
        self.ensure_one()
        self._cabinet_mail_bot().message_post(
            body=self.env._(
                "We received your message on ticket %(number)s, but not these attachments, which exceed "
                "%(limit)s MB: %(files)s. Please send them in smaller parts, or add them from your "
                "customer portal.",
                number=self.number,
                limit=self._cabinet_max_attachment_size_mb(),
                files=", ".join(name for name, _size in refused),
            ),
            author_id=self.company_id.partner_id.id,
            partner_ids=partner.ids,
            message_type='auto_comment',
            subtype_xmlid='mail.mt_note',
            email_layout_xmlid='mail.mail_notification_light',
        )

    # ------------------------------------------------------------
    # COORDINATION
    # ------------------------------------------------------------

    def action_coordinate(self):
        """Create a coordination of the selected tickets (one per party) and open it."""
        coordination = self.env['cabinet.coordination'].create(
            {
                # no ticket number nor subject: who sees the coordination may not read all its tickets
                'name': self.env._(
                    "Coordination of %(date)s", date=format_date(self.env, fields.Date.context_today(self))
                ),
                'ticket_ids': [Command.set(self.ids)],
                'company_id': self[:1].company_id.id or self.env.company.id,
            }
        )
        return {
            'type': 'ir.actions.act_window',
            'res_model': 'cabinet.coordination',
            'res_id': coordination.id,
            'view_mode': 'form',
            'views': [(False, 'form')],
        }

    def action_view_coordinations(self):
        self.ensure_one()
        action = self.env['ir.actions.act_window']._for_xml_id('cabinet_helpdesk.cabinet_coordination_action')
        action['domain'] = [('ticket_ids', 'in', self.ids)]
        action['context'] = {'default_ticket_ids': [Command.link(self.id)], 'default_company_id': self.company_id.id}
        return action

    # ------------------------------------------------------------
    # PORTAL
    # ------------------------------------------------------------

    def _rating_get_parent_field_name(self):
        """Ratings are filed under the ticket's team, for team analytics."""
        return 'team_id'

    def _rating_get_operator(self):
        """A rating rates the firm's answer, not a person: the assignee is recorded as the rated
        operator only while per-employee analytics are on (works council setting)."""
        if not self.env['ir.config_parameter']._cabinet_individual_analytics():
            return self.env['res.partner']
        return super()._rating_get_operator()

    def rating_apply(self, rate, token=None, rating=None, feedback=None, subtype_xmlid=None, notify_delay_send=False):
        """No rating reaches an anonymized ticket (its rating links are renewed by the
        anonymization, see ``_cabinet_anonymize``). A low rating is also told to the firm: an
        internal note of the low rating subtype, which the assignee and the staff the team
        notifies follow."""
        self._cabinet_check_anonymized()
        rating = super().rating_apply(
            rate,
            token=token,
            rating=rating,
            feedback=feedback,
            subtype_xmlid=subtype_xmlid,
            notify_delay_send=notify_delay_send,
        )
        if 0 < rate < RATING_LIMIT_OK:
            for ticket in self:
                ticket._cabinet_notify_low_rating(rating)
        return rating

    def _cabinet_notify_low_rating(self, rating):
        self.ensure_one()
        feedback = (rating.sudo().feedback or '').strip()
        if feedback:
            body = self.env._(
                "Low satisfaction rating from %(partner)s on ticket %(number)s: %(feedback)s",
                partner=rating.sudo().partner_id.display_name,
                number=self.number,
                feedback=feedback,
            )
        else:
            body = self.env._(
                "Low satisfaction rating from %(partner)s on ticket %(number)s.",
                partner=rating.sudo().partner_id.display_name,
                number=self.number,
            )
        self._cabinet_mail_bot().message_post(
            body=body, message_type='notification', subtype_xmlid='cabinet_helpdesk.mt_ticket_rating_low'
        )

    @api.model
    def _cabinet_portal_reopen_days(self):
        """Days after closing during which the party may reopen a ticket from the portal
        (setting ``cabinet_helpdesk.portal_reopen_days``, 30 by default, 0 = never)."""
        value = self.env['ir.config_parameter'].sudo().get_param('cabinet_helpdesk.portal_reopen_days', '30')
        try:
            return max(int(value), 0)
        except ValueError:
            return 30

    def _cabinet_portal_can_reopen(self):
        """Whether the party may still reopen this closed ticket from the portal."""
        self.ensure_one()
        if not self.is_closed or not self.closed_date or self.anonymized or not self.active:
            return False
        deadline = self.closed_date + relativedelta(days=self._cabinet_portal_reopen_days())
        return fields.Datetime.now() <= deadline

    def _cabinet_portal_close(self, author, reason=None):
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
        self.action_close()
        return self._rating_get_access_token(partner=author)

    def _cabinet_portal_reopen(self, author, reason=None):
        """Reopen the ticket at the party's request, back to the first open stage of its team."""
        self.ensure_one()
        if not self._cabinet_portal_can_reopen():
            raise UserError(self.env._("This ticket can no longer be reopened: please file a new request instead."))
        stage = self._cabinet_reopen_stage()
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
    #    ticket only while that partner may follow it now (``_cabinet_filter_allowed_partners``:
    #    party, mandate dates and scope), and that partner acts in their own name when the
    #    visitor has no session;
    # 3. the plain access token: it lets one read the ticket, never act on it, since it names
    #    nobody. Only staff may read it; links carry it only for the requester (and staff); it
    #    is renewed whenever someone's access ends (mandate revoked, expired, narrowed or
    #    re-dated, contact leaving the party, requester changed), which also voids every signed
    #    link, the signature being derived from it.
    #
    # ``_get_thread_with_access`` (chatter, attachments, avatars) and the portal controller
    # (page, close, reopen, rating) both decide through ``_cabinet_portal_access``.

    @api.model
    def _cabinet_portal_access(self, ticket_id, access_token=None, pid=None, hash=None):
        """Decide whether the current visitor may open ticket ``ticket_id``, and as whom.

        :param int ticket_id: the ticket asked for
        :param str access_token: plain access token given with the request, if any
        :param pid: partner id of a signed link, if any
        :param str hash: signature of that link, if any
        :return: ``(ticket_sudo, author)``: the ticket in sudo, or an empty recordset when
            refused; the partner acting on it, or an empty recordset when the visitor may only
            read
        """
        ticket = self.browse(ticket_id).exists()
        if not ticket:
            return ticket, self.env['res.partner']
        user = self.env.user
        if not user._is_public() and ticket.has_access('read'):
            return ticket.sudo(), user.partner_id
        return ticket.sudo()._cabinet_link_access(access_token=access_token, pid=pid, hash=hash)

    def _cabinet_link_access(self, access_token=None, pid=None, hash=None):
        """Access given by a link to a visitor whom the record rules do not let read this ticket
        (see ``_cabinet_portal_access``). A signed link whose partner may no longer see the
        ticket is refused, whatever else the link carries. Call it on a ``sudo()`` record."""
        self.ensure_one()
        nobody = self.env['res.partner']
        if pid or hash:
            partner = self._cabinet_signed_partner(pid, hash)
            if not partner:
                return self.browse(), nobody
            # someone logged in under another name does not act as the link's partner
            return self, partner if self.env.user._is_public() else nobody
        if isinstance(access_token, str) and self.access_token and consteq(self.access_token, access_token):
            return self, nobody
        return self.browse(), nobody

    def _cabinet_signed_partner(self, pid, hash):
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
        partner = self.env['res.partner'].browse(pid).exists()
        return self._cabinet_filter_allowed_partners(partner) if partner else nobody

    @api.model
    def _get_thread_with_access(self, thread_id, *, mode='read', hash=None, pid=None, token=None, **kwargs):
        """Thread access of the mail and portal routes: the record rules first, then a link as
        ``_cabinet_link_access`` decides, for reading (and posting, which needs read access on
        tickets; the portal controller also asks for a partner to post as) but never for more."""
        thread = super()._get_thread_with_access(thread_id, mode=mode, **kwargs)
        if thread or mode != 'read':
            return thread
        ticket_sudo = self.browse(thread_id).sudo().exists()
        if not ticket_sudo:
            return self.browse()
        return ticket_sudo._cabinet_link_access(access_token=token, pid=pid, hash=hash)[0]

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

    def _cabinet_rotate_access_token(self):
        """Give the tickets a new access token: every link handed out before, plain or signed,
        stops working. Tickets without a token yet keep none (one is made when needed)."""
        # sudo: the token is readable by staff only; the caller ended someone's access
        for ticket in self.sudo().filtered('access_token'):
            ticket.access_token = str(uuid.uuid4())

    @api.model
    def _cabinet_release_contacts(self, former_parties):
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
        tickets._cabinet_rotate_access_token()
        followed = defaultdict(lambda: self.env['res.partner'])
        for follower in followers:
            followed[follower.res_id] |= follower.partner_id
        for ticket in tickets.filtered(lambda t: t.id in followed):
            removed = followed[ticket.id] - ticket._cabinet_filter_allowed_partners(followed[ticket.id])
            if removed:
                ticket.message_unsubscribe(partner_ids=removed.ids)
                _logger.info("Ticket %s: %s contact(s) who left its party no longer follow it", ticket.id, len(removed))

    def _cabinet_reopen_stage(self):
        """The stage a reopened ticket goes back to: the first open stage of its team."""
        self.ensure_one()
        return self._stages_for_team(self.team_id).filtered(lambda s: not s.is_closed)[:1]

    def _cabinet_is_party_message(self, message, msg_values):
        """Whether ``message`` is the party writing to the firm: a public message (portal chatter
        or email) of someone outside the firm, which is neither a rating nor an automated email.
        Whoever posted it was allowed to (access rules, email routing)."""
        return bool(
            msg_values.get('message_type') in ('comment', 'email')
            and msg_values.get('subtype_id') == self.env['ir.model.data']._xmlid_to_res_id('mail.mt_comment')
            and not msg_values.get('rating_id')
            and not self.env.context.get('cabinet_mail_automated')
            and message.author_id
            and not self._cabinet_is_staff(message.author_id)
        )

    def _cabinet_closed_ticket_answered(self, author):
        """The party (``author``) wrote on this closed ticket: within the reopen period the ticket
        reopens; after it, the assignee (else the team leader) gets a to-do and the party is told
        their message was received. Nothing the party writes is left unread."""
        self.ensure_one()
        # sudo: the party's message was accepted on the ticket (access was checked to post it);
        # reopening it or warning the firm is the firm's own handling of that message
        ticket_sudo = self.sudo()
        stage = ticket_sudo._cabinet_reopen_stage()
        if stage and ticket_sudo._cabinet_portal_can_reopen():
            ticket_sudo.write({'stage_id': stage.id})
            ticket_sudo._cabinet_mail_bot().message_post(
                body=self.env._(
                    "Reopened: %(author)s wrote on the ticket after it was closed.", author=author.display_name
                ),
                message_type='notification',
                subtype_xmlid='mail.mt_note',
            )
            return
        ticket_sudo._cabinet_create_todos(
            {
                ticket_sudo: (
                    ticket_sudo._cabinet_reminder_user(),
                    self.env._("Message on closed ticket %(number)s", number=ticket_sudo.number),
                    fields.Date.context_today(self),
                    self.env._(
                        "%(author)s wrote on this ticket after it was closed, too late to reopen it: answer them, "
                        "or open a new ticket if it is a new request.",
                        author=author.display_name,
                    ),
                )
            },
            notify=True,
        )
        ticket_sudo._cabinet_mail_bot().message_post(
            body=self.env._(
                "We received your message on ticket %(number)s. As this ticket is closed, it was passed on to "
                "the person in charge, who will get back to you. For a new question, please file a new request.",
                number=ticket_sudo.number,
            ),
            author_id=ticket_sudo.company_id.partner_id.id,
            partner_ids=author.ids,
            message_type='auto_comment',
            # a public message (the party sees it in the portal conversation) told to its writer alone
            subtype_xmlid='mail.mt_comment',
            notify_skip_followers=True,
            email_layout_xmlid='mail.mail_notification_light',
        )

    # ------------------------------------------------------------
    # SERVICE LEVELS AND REMINDERS
    # ------------------------------------------------------------

    @api.depends('team_id', 'category_id.sla_policy_id', 'priority')
    def _compute_sla_policy_id(self):
        policies = self.env['cabinet.sla.policy'].search([('team_id', 'in', self.team_id.ids)])
        for ticket in self:
            ticket.sla_policy_id = ticket._cabinet_sla_match_policy(policies)

    @api.depends(
        'create_date', 'sla_policy_id.response_hours', 'sla_policy_id.resolve_hours', 'team_id.resource_calendar_id'
    )
    def _compute_sla_deadlines(self):
        plans = {}
        for ticket in self:
            policy = ticket.sla_policy_id
            if not policy:
                ticket.sla_response_deadline = ticket.sla_resolve_deadline = False
                continue
            # before the ticket is saved (precompute), its creation date will be the transaction's time
            start = (ticket.create_date or self.env.cr.now()).replace(microsecond=0)
            calendar = (
                ticket.team_id.resource_calendar_id
                or policy.team_id.resource_calendar_id
                or ticket.company_id.resource_calendar_id
            )
            ticket.sla_response_deadline = self._cabinet_sla_plan(calendar, start, policy.response_hours, plans)
            ticket.sla_resolve_deadline = self._cabinet_sla_plan(calendar, start, policy.resolve_hours, plans)

    @api.depends(
        'sla_policy_id',
        'sla_response_deadline',
        'sla_resolve_deadline',
        'first_response_date',
        'stage_id.is_closed',
        'closed_date',
        'escalation_level',
    )
    def _compute_sla_status(self):
        now = fields.Datetime.now()
        for ticket in self:
            ticket.sla_status, ticket.sla_next_check, _breaches = ticket._cabinet_sla_evaluate(now)

    @api.depends('reminder_date')
    def _compute_reminder_sent_date(self):
        # a new reminder date is a new reminder to give
        for ticket in self:
            ticket.reminder_sent_date = False

    @api.depends('date_deadline')
    def _compute_deadline_reminder_date(self):
        # a new deadline deserves its own announcement
        for ticket in self:
            ticket.deadline_reminder_date = False

    def _message_post_after_hook(self, message, msg_values):
        """The first public message of a staff member to the party is the first response of the
        service level (a note or the party's own messages are not)."""
        result = super()._message_post_after_hook(message, msg_values)
        if (
            not self.first_response_date
            and msg_values.get('message_type') in ('comment', 'email')
            and msg_values.get('subtype_id') == self.env['ir.model.data']._xmlid_to_res_id('mail.mt_comment')
            and message.author_id
            and message.author_id.commercial_partner_id != self.commercial_partner_id
            and self._cabinet_is_staff(message.author_id)
        ):
            # whoever may post on the ticket records when it was answered, even without write access
            self.sudo().first_response_date = message.date or fields.Datetime.now()
        if self.is_closed and self._cabinet_is_party_message(message, msg_values):
            self._cabinet_closed_ticket_answered(message.author_id)
        return result

    @api.model
    def _cron_update_sla(self, batch_size=200):
        """Refresh the service level status of the tickets whose status may have changed since the
        last run (``sla_next_check`` is due), and escalate each newly breached deadline once.

        Resumable: refreshing a ticket moves its ``sla_next_check`` to the future and escalating
        raises its ``escalation_level`` in the same transaction, so a rerun neither repeats nor skips.
        """
        now = fields.Datetime.now()
        domain = Domain('sla_next_check', '<=', now) & Domain('sla_policy_id', '!=', False)
        status_fields = [self._fields['sla_status'], self._fields['sla_next_check']]
        while tickets := self.search(domain, limit=batch_size, order='sla_next_check, id').try_lock_for_update():
            for field in status_fields:
                self.env.add_to_compute(field, tickets)
            tickets._recompute_recordset(['sla_status', 'sla_next_check'])
            tickets._cabinet_sla_escalate()
            if not self.env['ir.cron']._commit_progress(len(tickets), remaining=self.search_count(domain)):
                break

    @api.model
    def _cron_send_reminders(self, batch_size=200):
        """Give each open ticket's assignee (or its team leader) a to-do when the ticket's reminder
        date has come, and once when its deadline is near (setting
        ``cabinet_helpdesk.deadline_reminder_days``, 2 days by default).

        Resumable: each reminder is marked as given in the same transaction
        (``reminder_sent_date``, ``deadline_reminder_date``); changing the date gives a new one.
        """
        today = fields.Date.context_today(self)
        days = self._cabinet_int_param('cabinet_helpdesk.deadline_reminder_days', 2)
        open_tickets = Domain('is_closed', '=', False)
        steps = [
            (
                open_tickets & Domain('reminder_date', '<=', today) & Domain('reminder_sent_date', '=', False),
                lambda tickets: tickets._cabinet_send_date_reminder(),
            ),
        ]
        if days >= 0:
            steps.append(
                (
                    open_tickets
                    & Domain('date_deadline', '<=', today + timedelta(days=days))
                    & Domain('deadline_reminder_date', '=', False),
                    lambda tickets: tickets._cabinet_send_deadline_reminder(),
                )
            )
        for domain, send in steps:
            while tickets := self.search(domain, limit=batch_size, order='id').try_lock_for_update():
                send(tickets)
                if not self.env['ir.cron']._commit_progress(len(tickets), remaining=self.search_count(domain)):
                    return

    @api.model
    def _cron_stale_digest(self, batch_size=20):
        """Send each team leader one email listing the team's open tickets without news for
        ``cabinet_helpdesk.stale_days`` days (14 by default). Team-level review only: the digest
        names tickets, never ranks the people working on them.

        Resumable: ``cabinet.team.last_stale_digest_date`` is set in the same transaction as the
        email is queued, so a team gets at most one digest a day.
        """
        today = fields.Date.context_today(self)
        days = max(self._cabinet_int_param('cabinet_helpdesk.stale_days', 14), 1)
        template = self.env.ref('cabinet_helpdesk.mail_template_stale_digest', raise_if_not_found=False)
        Team = self.env['cabinet.team']
        domain = Domain('leader_id', '!=', False) & (
            Domain('last_stale_digest_date', '=', False) | Domain('last_stale_digest_date', '<', today)
        )
        while teams := Team.search(domain, limit=batch_size, order='id').try_lock_for_update():
            for team in teams:
                lines = self._cabinet_stale_digest_lines(team, days)
                if lines and template and team.leader_id.active and team.leader_id.partner_id.email:
                    template.with_context(
                        stale_lines=lines[:STALE_DIGEST_MAX_LINES],
                        stale_days=days,
                        stale_more=max(len(lines) - STALE_DIGEST_MAX_LINES, 0),
                    ).send_mail(team.id)
            teams.last_stale_digest_date = today
            if not self.env['ir.cron']._commit_progress(len(teams), remaining=Team.search_count(domain)):
                break

    def _cabinet_sla_match_policy(self, policies):
        """Return the service level of this ticket: the request type's own service level if it has
        one, else the most specific of ``policies`` for the ticket's team, request type and priority
        (a policy naming the request type before a general one, then the highest minimum priority).

        :param policies: candidate ``cabinet.sla.policy`` records, e.g. all those of the teams
        """
        self.ensure_one()
        if self.category_id.sla_policy_id.active:
            return self.category_id.sla_policy_id
        candidates = policies.filtered(
            lambda policy: (
                policy.team_id == self.team_id
                and policy.priority <= self.priority
                and (not policy.category_ids or self.category_id in policy.category_ids)
            )
        )
        return min(
            candidates,
            key=lambda policy: (not policy.category_ids, -int(policy.priority), policy.sequence, policy.id),
            default=self.env['cabinet.sla.policy'],
        )

    @api.model
    def _cabinet_sla_plan(self, calendar, start, hours, cache):
        """Return the moment ``hours`` working hours of ``calendar`` after ``start`` (public holidays
        of the calendar excluded), or ``False`` when there is no target.

        Without a calendar, or with one without any working time, the hours run around the clock.
        """
        if not hours:
            return False
        key = (calendar.id, start, hours)
        if key not in cache:
            deadline = calendar.plan_hours(hours, start, compute_leaves=True) if calendar else False
            if not deadline:
                deadline = start + timedelta(hours=hours)
            cache[key] = self._cabinet_ceil_seconds(deadline)
        return cache[key]

    @api.model
    def _cabinet_ceil_seconds(self, moment):
        # stored datetimes keep whole seconds: round up so that a moment is never seen as passed too early
        if moment.microsecond:
            return moment.replace(microsecond=0) + timedelta(seconds=1)
        return moment

    def _cabinet_sla_evaluate(self, now):
        """Return ``(status, next_check, breaches)`` of this ticket at ``now``.

        A deadline is met when its work was done in time (first answer: first staff message or
        closing; resolution: closing), breached when done late or not done by the deadline, and at
        risk when it is pending with less than ``SLA_AT_RISK_SHARE`` of its window left.
        ``next_check`` is the next moment the status can change (or now, when a breach awaits
        its escalation), ``False`` when nothing more can happen.
        """
        self.ensure_one()
        if not self.sla_policy_id:
            return False, False, 0
        is_closed = self.stage_id.is_closed  # not the stored related field: this runs before saving too
        closed_at = is_closed and (self.closed_date or now)
        targets = []
        if self.sla_response_deadline:
            targets.append((self.sla_response_deadline, self.first_response_date or closed_at))
        if self.sla_resolve_deadline:
            targets.append((self.sla_resolve_deadline, closed_at))
        start = (self.create_date or self.env.cr.now()).replace(microsecond=0)
        breaches = 0
        pending = []
        for deadline, done_at in targets:
            if done_at:
                breaches += done_at > deadline
            elif now >= deadline:
                breaches += 1
            else:
                pending.append(deadline)
        thresholds = []
        at_risk = False
        for deadline in pending:
            risk_from = self._cabinet_ceil_seconds(deadline - (deadline - start) * SLA_AT_RISK_SHARE)
            at_risk = at_risk or now >= risk_from
            thresholds.append(risk_from if not breaches and risk_from > now else deadline)
        if breaches:
            status = 'breached'
        elif at_risk:
            status = 'at_risk'
        elif targets and not pending:
            status = 'met'
        else:
            status = 'ok'
        if is_closed:
            next_check = False
        elif breaches > self.escalation_level:
            next_check = now
        else:
            next_check = min(thresholds, default=False)
        return status, next_check, breaches

    def _cabinet_sla_escalate(self):
        """Escalate each breached service level deadline of open tickets once: a to-do (with its
        email) for the policy's escalation contact, else the team leader, else the assignee (the
        first of them who may read the ticket), and ``escalation_level`` raised to the number of
        breached deadlines."""
        now = fields.Datetime.now()
        today = fields.Date.context_today(self)
        todos = {}
        for ticket in self:
            _status, _next, breaches = ticket._cabinet_sla_evaluate(now)
            if ticket.is_closed or breaches <= ticket.escalation_level:
                continue
            # sudo: the escalation level is the scheduled action's own (a protected field)
            ticket.sudo().escalation_level = breaches
            missed = []
            if ticket.sla_response_deadline and not ticket.first_response_date and now >= ticket.sla_response_deadline:
                missed.append(
                    self.env._(
                        "no first answer since %(deadline)s",
                        deadline=format_datetime(self.env, ticket.sla_response_deadline),
                    )
                )
            elif (
                ticket.first_response_date
                and ticket.sla_response_deadline
                and ticket.first_response_date > ticket.sla_response_deadline
            ):
                missed.append(
                    self.env._(
                        "first answer later than %(deadline)s",
                        deadline=format_datetime(self.env, ticket.sla_response_deadline),
                    )
                )
            if ticket.sla_resolve_deadline and now >= ticket.sla_resolve_deadline:
                missed.append(
                    self.env._(
                        "not resolved since %(deadline)s",
                        deadline=format_datetime(self.env, ticket.sla_resolve_deadline),
                    )
                )
            candidates = ticket.sla_policy_id.escalate_to_id | ticket.team_id.leader_id | ticket.user_id
            recipient = next(
                (user for user in candidates if user.active and ticket.with_user(user).has_access('read')),
                self.env['res.users'],
            )
            todos[ticket] = (
                recipient,
                self.env._("Escalation: service level breached"),
                today,
                self.env._(
                    "Service level %(policy)s breached: %(missed)s.",
                    policy=ticket.sla_policy_id.name,
                    missed=", ".join(missed),
                ),
            )
        self._cabinet_create_todos(todos, notify=True)

    def _cabinet_send_date_reminder(self):
        """Give the reminder of the reminder date and mark it as given."""
        today = fields.Date.context_today(self)
        users = self._cabinet_reminder_users()
        self._cabinet_create_todos(
            {
                ticket: (
                    users[ticket],
                    self.env._("Reminder: %(ticket)s", ticket=ticket.display_name),
                    today,
                    self.env._("You asked to be reminded of this ticket today."),
                )
                for ticket in self
            }
        )
        # sudo: the reminder markers are the scheduled action's own (protected fields)
        self.sudo().reminder_sent_date = today

    def _cabinet_send_deadline_reminder(self):
        """Announce the approaching (or passed) deadline once and mark it as announced."""
        today = fields.Date.context_today(self)
        users = self._cabinet_reminder_users()
        self._cabinet_create_todos(
            {
                ticket: (
                    users[ticket],
                    self.env._(
                        "Deadline on %(date)s: %(ticket)s",
                        date=format_date(self.env, ticket.date_deadline),
                        ticket=ticket.display_name,
                    ),
                    max(ticket.date_deadline, today),
                    self.env._("The deadline of this ticket is near: answer the party or move the deadline."),
                )
                for ticket in self
            }
        )
        # sudo: the reminder markers are the scheduled action's own (protected fields)
        self.sudo().deadline_reminder_date = today

    def _cabinet_reminder_user(self):
        """Who is reminded of this ticket (see ``_cabinet_reminder_users``)."""
        self.ensure_one()
        return self._cabinet_reminder_users()[self]

    def _cabinet_reminder_users(self):
        """Who is reminded of each ticket of ``self``: the first active user who may read it among
        its assignee, its team leader and the leader of its request type's handling team (the
        one who may read a confidential ticket handed to another team).

        :return: dict ``{ticket: res.users}`` (an empty recordset when nobody may be reminded)
        """
        result = dict.fromkeys(self, self.env['res.users'])
        left = self
        for candidate in (
            lambda ticket: ticket.user_id,
            lambda ticket: ticket.team_id.leader_id,
            lambda ticket: ticket.category_id.team_id.leader_id,
        ):
            # one check per distinct user, on all their tickets at once
            tickets_by_user = defaultdict(lambda: self.browse())
            for ticket in left:
                user = candidate(ticket)
                if user.active:
                    tickets_by_user[user] |= ticket
            for user, tickets in tickets_by_user.items():
                for ticket in tickets._cabinet_filtered_readable(user):
                    result[ticket] = user
                    left -= ticket
            if not left:
                break
        return result

    @api.model
    def _cabinet_create_todos(self, todos, notify=False):
        """Create the to-dos of several tickets in one go; a ticket without anyone to warn gets a
        note instead. A failing ticket is logged and does not stop the others.

        :param todos: dict ``{ticket: (user, summary, date_deadline, note)}``
        :param notify: also email each user about their new to-do (otherwise it shows in their
            activities only)
        """
        todo_type = self.env.ref('mail.mail_activity_data_todo', raise_if_not_found=False)
        model_id = self.env['ir.model']._get_id(self._name)
        # a to-do shows the ticket's name to its user: only for those who may read the ticket
        tickets_by_user = defaultdict(lambda: self.browse())
        for ticket, (user, *_rest) in todos.items():
            if user:
                tickets_by_user[user] |= ticket
        readable = {user: tickets._cabinet_filtered_readable(user) for user, tickets in tickets_by_user.items()}
        vals_list = []
        for ticket, (user, summary, date_deadline, note) in todos.items():
            if user and ticket not in readable[user]:
                _logger.info("Ticket %s: no to-do for user %s, who cannot read the ticket", ticket.id, user.id)
                user = self.env['res.users']
            if user and todo_type:
                vals_list.append(
                    {
                        'res_model_id': model_id,
                        'res_id': ticket.id,
                        'activity_type_id': todo_type.id,
                        'summary': summary,
                        'note': note,
                        'date_deadline': date_deadline,
                        'user_id': user.id,
                    }
                )
            else:
                ticket._message_log(
                    body=self.env._(
                        "%(summary)s: %(note)s (nobody to warn: assign the ticket or give its team a leader)",
                        summary=summary,
                        note=note,
                    )
                )
        Activity = self.env['mail.activity'].with_context(mail_activity_quick_update=not notify)
        try:
            with self.env.cr.savepoint():
                Activity.create(vals_list)
        except (UserError, ValidationError):
            for vals in vals_list:
                try:
                    with self.env.cr.savepoint():
                        Activity.create(vals)
                except (UserError, ValidationError):
                    _logger.exception("To-do on ticket %s could not be created", vals['res_id'])

    @api.model
    def _cabinet_stale_digest_lines(self, team, days):
        """Lines of the stale-ticket digest of ``team``: its open tickets without any message,
        note or tracked change for ``days`` days, longest idle first.

        The digest names only tickets its reader, the team leader, may read. A confidential
        ticket handed to a team whose leader cannot read it is reviewed by the leader of its
        request type's handling team instead.

        :return: list of dicts with ``number``, ``name``, ``stage``, ``age`` and ``idle`` (days), ``url``
        """
        now = fields.Datetime.now()
        threshold = now - timedelta(days=days)
        tickets = self.search(
            Domain('is_closed', '=', False)
            & Domain('create_date', '<', threshold)
            & (
                Domain('team_id', '=', team.id)
                | (Domain('category_id.team_id', '=', team.id) & Domain('category_id.confidential', '=', True))
            )
        )
        tickets = tickets._cabinet_stale_reviewed_by(team)
        if not tickets:
            return []
        # automatic notes of the scheduled actions are not news (they are logged by the system user)
        last_news = dict(
            self.env['mail.message']
            .sudo()
            ._read_group(
                [
                    ('model', '=', self._name),
                    ('res_id', 'in', tickets.ids),
                    ('author_id', '!=', self.env.ref('base.partner_root').id),
                ],
                ['res_id'],
                ['date:max'],
            )
        )
        base_url = team.get_base_url()
        lines = []
        for ticket in tickets:
            last = last_news.get(ticket.id) or ticket.create_date
            if last >= threshold:
                continue
            lines.append(
                {
                    'number': ticket.number,
                    'name': ticket.name,
                    'stage': ticket.stage_id.name,
                    'age': (now - ticket.create_date).days,
                    'idle': (now - last).days,
                    'url': f'{base_url}/odoo/cabinet.ticket/{ticket.id}',
                }
            )
        return sorted(lines, key=lambda line: (-line['idle'], line['number']))

    def _cabinet_stale_reviewed_by(self, team):
        """The tickets of ``self`` whose stale-ticket review falls to the leader of ``team``: those
        of ``team`` the leader may read, and those of its confidential request types handed to
        another team whose leader may not read them. The team's tickets its leader may not read
        are left out and logged.

        :param team: ``cabinet.team`` record
        """
        leader = team.leader_id
        readable = self._cabinet_filtered_readable(leader)
        own = self.filtered(lambda ticket: ticket.team_id == team)
        if own - readable:
            _logger.info(
                "Stale digest of team %s: %s ticket(s) left out, which the team leader cannot read",
                team.id,
                len(own - readable),
            )
        reviewed = own & readable
        handed_by_leader = defaultdict(lambda: self.browse())
        for ticket in (self - own) & readable:
            handed_by_leader[ticket.team_id.leader_id] |= ticket
        for other_leader, handed in handed_by_leader.items():
            reviewed |= handed - handed._cabinet_filtered_readable(other_leader)
        return reviewed

    @api.model
    def _cabinet_is_staff(self, partner):
        """Whether ``partner`` is the partner of an internal user of the firm."""
        if partner == self.env.user.partner_id:
            return not self.env.user.share
        return bool(
            self.env['res.users'].sudo().search_count([('partner_id', '=', partner.id), ('share', '=', False)], limit=1)
        )

    @api.model
    def _cabinet_int_param(self, key, default):
        """Integer setting ``key`` (ir.config_parameter), ``default`` when unset or invalid."""
        value = self.env['ir.config_parameter'].sudo().get_param(key)
        try:
            return int(value) if value not in (None, False, '') else default
        except ValueError:
            _logger.warning("Setting %s is not a whole number (%r): using %s", key, value, default)
            return default

    # ------------------------------------------------------------
    # GDPR
    # ------------------------------------------------------------

    @api.ondelete(at_uninstall=False)
    def _unlink_except_legal_hold(self):
        held = self.filtered('legal_hold')
        if held:
            raise UserError(
                self.env._(
                    "Tickets %(numbers)s are under legal hold: the data protection officer must lift the hold "
                    "before they can be deleted.",
                    numbers=", ".join(held.mapped('number')),
                )
            )

    def _cabinet_check_legal_hold_write(self, vals):
        """Only the data protection officer places or lifts a legal hold (through any path)."""
        if (
            'legal_hold' in vals
            and not self.env.su
            and not self.env.user.has_group('cabinet_helpdesk.group_cabinet_dpo')
        ):
            raise AccessError(self.env._("Only the data protection officer may place or lift a legal hold."))

    @api.model
    def _cabinet_anonymized_locked_fields(self):
        """Fields nobody may change once a ticket is anonymized: what would reopen, reassign or
        give the ticket personal data again (technical and statistics fields stay writable)."""
        return {
            'name',
            'description',
            'partner_id',
            'agent_partner_id',
            'mandate_id',
            'stage_id',
            'category_id',
            'team_id',
            'user_id',
            'tag_ids',
            'date_deadline',
            'reminder_date',
            'priority',
            'channel',
            'coordination_ids',
        }

    def _cabinet_check_anonymized(self, fnames=None):
        """Anonymized tickets are closed for good: refuse changing them (``fnames``) or writing on
        their thread, so that no personal data comes back after the retention policy applied."""
        if fnames is not None and not set(fnames) & self._cabinet_anonymized_locked_fields():
            return
        if anonymized := self.filtered('anonymized'):
            raise UserError(
                self.env._(
                    "Ticket %(numbers)s was anonymized under its retention policy: it can no longer be "
                    "changed, reopened or answered. Open a new ticket for a new request.",
                    numbers=", ".join(anonymized.mapped('number')),
                )
            )

    def action_cabinet_acknowledge_privacy(self):
        """Record that the current user, filing their own requests, was shown the privacy notice
        (GDPR art. 13): information, not consent, recorded once."""
        partner = self.env.user.partner_id
        if not partner.cabinet_privacy_ack_date:
            # sudo: the user records the date on their own contact only
            partner.sudo().cabinet_privacy_ack_date = fields.Datetime.now()

    def action_open_legal_hold_wizard(self):
        """Open the wizard placing (or lifting, when all are held) a legal hold, with its reason."""
        return {
            'name': self.env._("Legal Hold"),
            'type': 'ir.actions.act_window',
            'res_model': 'cabinet.ticket.legal.hold',
            'view_mode': 'form',
            'target': 'new',
            'context': {
                'default_ticket_ids': self.ids,
                'default_legal_hold': 'lift' if all(self.mapped('legal_hold')) else 'place',
            },
        }

    def _cabinet_dossier_messages(self):
        """Exchanges of the tickets their party can see (the portal's view of the thread): emails
        and messages, the one that opened the ticket included; no internal notes, no staff-only
        logs, and no automatic notices (creation, tracked changes: ``_cabinet_dossier_history``
        gives those). They make the ticket dossier and the personal data export. One query for
        any number of tickets; group them with ``res_id``."""
        if not self:
            return self.env['mail.message']
        domain = (
            Domain([('model', '=', self._name), ('res_id', 'in', self.ids)])
            & Domain('message_type', 'in', ['email', 'comment', 'auto_comment'])
            & self.env['mail.message']._get_search_domain_share()
        )
        return self.env['mail.message'].search(domain, order='date, id')

    @api.model
    def _cabinet_dossier_tracked_fields(self):
        """Tracked fields whose history the party is given (dossier and personal data export):
        how its request was handled. The firm's own controls (legal hold, service level,
        escalation) stay out."""
        return [
            'name',
            'partner_id',
            'agent_partner_id',
            'mandate_id',
            'category_id',
            'team_id',
            'user_id',
            'stage_id',
            'priority',
            'date_deadline',
        ]

    def _cabinet_dossier_history(self):
        """The tracked changes of the tickets, oldest first, formatted for the party in the
        language of the context: ``{ticket id: [{'date', 'field', 'old', 'new'}]}``.

        Changes logged with an internal note keep the note out: only the field, the old and the
        new value are given. A few queries whatever the number of tickets and changes.
        """
        history = {ticket.id: [] for ticket in self}
        if not self:
            return history
        # sudo: tracking values are readable by administrators only; the caller reads the tickets
        trackings_sudo = (
            self.env['mail.tracking.value']
            .sudo()
            .search(
                [
                    ('mail_message_id.model', '=', self._name),
                    ('mail_message_id.res_id', 'in', self.ids),
                    ('field_id.model', '=', self._name),
                    ('field_id.name', 'in', self._cabinet_dossier_tracked_fields()),
                ]
            )
        )
        trackings_sudo = trackings_sudo._filter_free_field_access()
        formatted = {line['id']: line for line in trackings_sudo._tracking_value_format()}
        for tracking in trackings_sudo.sorted(lambda t: (t.mail_message_id.date, t.mail_message_id.id, t.id)):
            line = formatted[tracking.id]
            field_type = line['fieldInfo']['fieldType']
            history[tracking.mail_message_id.res_id].append(
                {
                    'date': tracking.mail_message_id.date,
                    'field': line['fieldInfo']['changedField'],
                    'old': self._cabinet_format_tracked_value(line['oldValue'], field_type),
                    'new': self._cabinet_format_tracked_value(line['newValue'], field_type),
                }
            )
        return history

    @api.model
    def _cabinet_format_tracked_value(self, value, field_type):
        """A value of ``mail.tracking.value._tracking_value_format()`` as text for a person."""
        if field_type == 'boolean':
            return self.env._("Yes") if value else self.env._("No")
        if value is None or value is False or value == '':
            return ''
        if field_type == 'date':
            return format_date(self.env, value)
        if field_type == 'datetime':
            return format_datetime(self.env, fields.Datetime.to_datetime(str(value).rstrip('Z')))
        return str(value)

    def _cabinet_dossier_documents(self):
        """Documents attached to the tickets themselves rather than to a message (uploaded in the
        backend, copied from an email to qualify): ``{ticket id: attachments}``."""
        Attachment = self.env['ir.attachment']
        documents = {ticket.id: Attachment for ticket in self}
        if not self:
            return documents
        attachments = Attachment.search(
            [('res_model', '=', self._name), ('res_id', 'in', self.ids)], order='create_date, id'
        )
        # sudo: only which attachments belong to a message is read, to leave them out
        in_messages = (
            self.env['mail.message']
            .sudo()
            .search_fetch(
                [('model', '=', self._name), ('res_id', 'in', self.ids), ('attachment_ids', 'in', attachments.ids)],
                ['attachment_ids'],
            )
            .attachment_ids
            if attachments
            else Attachment
        )
        for attachment in attachments - in_messages:
            documents[attachment.res_id] |= attachment
        return documents

    @api.model
    def _cabinet_anonymous_partner(self):
        return self.env.ref('cabinet_helpdesk.res_partner_anonymous')

    @api.model
    def _cabinet_anonymize_kept_tracked_fields(self):
        """Tracked fields whose history is kept on an anonymized ticket: they are needed for
        statistics (stage, team and assignment durations) and hold no personal data of the party."""
        return {
            'stage_id',
            'team_id',
            'user_id',
            'category_id',
            'priority',
            'date_deadline',
            'reminder_date',
            'legal_hold',
            'sla_policy_id',
            'sla_status',
            'escalation_level',
            'channel',
            'company_id',
        }

    def _cabinet_anonymize(self):
        """Remove every personal datum of the party from the tickets, keeping what statistics need.

        The party becomes one anonymous placeholder partner; subject, description, message bodies,
        subjects, senders, authors and recipients, attachments, followers, activities, rating
        feedback and the tracked values of personal fields are wiped. Number, dates, request type,
        team, stage, assignee and service level data stay. Call it on a ``sudo()`` recordset, after
        the access check of the caller (retention cron, erasure by the data protection officer).
        """
        if not self:
            return
        # changes of this transaction not tracked yet would be, at commit, with their old values
        self._track_discard()
        anonymous = self._cabinet_anonymous_partner()
        tickets = self.with_context(active_test=False, tracking_disable=True, mail_notrack=True)
        values = {
            'name': self.env._("Anonymized request"),
            'description': False,
            'partner_id': anonymous.id,
            'anonymized': True,
            'access_token': False,
        }
        for fname, field in self._fields.items():
            if (
                fname not in values
                and field.store
                and not field.compute
                and not field.related
                and field.type == 'many2one'
                and field.comodel_name == 'res.partner'
            ):
                values[fname] = False
        if 'mandate_id' in self._fields:
            values['mandate_id'] = False
        tickets.write(values)

        domain = [('model', '=', self._name), ('res_id', 'in', self.ids)]
        messages = self.env['mail.message'].sudo().search(domain)
        attachments = (
            self.env['ir.attachment'].sudo().search([('res_model', '=', self._name), ('res_id', 'in', self.ids)])
        )
        (attachments | messages.attachment_ids).unlink()
        self.env['mail.notification'].sudo().search([('mail_message_id', 'in', messages.ids)]).unlink()
        messages.reaction_ids.unlink()
        messages.message_link_preview_ids.unlink()
        self.env['mail.mail'].sudo().search([('mail_message_id', 'in', messages.ids)]).write(
            {
                'body_html': False,
                'email_to': False,
                'email_cc': False,
                'headers': False,
                'recipient_ids': [Command.clear()],
            }
        )
        messages.write(
            {
                'body': '',
                'subject': False,
                'email_from': False,
                'reply_to': False,
                'author_id': anonymous.id,
                'author_guest_id': False,
                'partner_ids': [Command.clear()],
                'starred_partner_ids': [Command.clear()],
                'incoming_email_to': False,
                'incoming_email_cc': False,
                'outgoing_email_to': False,
            }
        )
        kept = self._cabinet_anonymize_kept_tracked_fields()
        messages.tracking_value_ids.filtered(lambda v: v.field_id.name not in kept).write(
            {
                'old_value_char': False,
                'new_value_char': False,
                'old_value_text': False,
                'new_value_text': False,
                'old_value_integer': 0,
                'new_value_integer': 0,
                'old_value_float': 0.0,
                'new_value_float': 0.0,
                'old_value_datetime': False,
                'new_value_datetime': False,
            }
        )
        self.env['mail.followers'].sudo().search([('res_model', '=', self._name), ('res_id', 'in', self.ids)]).unlink()
        self.env['mail.activity'].sudo().search([('res_model', '=', self._name), ('res_id', 'in', self.ids)]).unlink()
        ratings = self.env['rating.rating'].sudo().search([('res_model', '=', self._name), ('res_id', 'in', self.ids)])
        ratings.write({'partner_id': anonymous.id, 'feedback': False})
        for rating in ratings:
            rating.access_token = rating._default_access_token()  # rating links sent before stop working

    def _cabinet_erasure_refusals(self):
        """Why the personal data of these tickets may not be erased yet: a legal hold, or a legal
        obligation to keep them (GDPR art. 17(3)(b)) whose period runs on, or would start when an
        open ticket closes. An empty list when nothing forbids the erasure.

        :rtype: list
        """
        today = fields.Date.context_today(self)
        reasons = []
        held = self.filtered('legal_hold')
        if held:
            reasons.append(
                self.env._(
                    "tickets %(numbers)s are under legal hold: the hold must be lifted first",
                    numbers=", ".join(held.mapped('number')),
                )
            )
        for ticket in (self - held).filtered(lambda t: t.legal_basis == 'legal_obligation'):
            policy = ticket.category_id.retention_policy_id
            if not policy:
                continue
            reference = policy.legal_reference or policy.name
            if not ticket.is_closed:
                reasons.append(
                    self.env._(
                        "ticket %(number)s is processed under a legal obligation (%(reference)s): once closed, "
                        "it must be kept %(months)s months",
                        number=ticket.number,
                        reference=reference,
                        months=policy.period_months,
                    )
                )
            elif ticket.retention_date and ticket.retention_date > today:
                reasons.append(
                    self.env._(
                        "ticket %(number)s must be kept until %(date)s by a legal obligation (%(reference)s)",
                        number=ticket.number,
                        date=fields.Date.to_string(ticket.retention_date),
                        reference=reference,
                    )
                )
        return reasons

    def _cabinet_withdraw(self):
        """Close the open tickets as withdrawn because their requester's data is being erased.

        Nobody is notified and the change is not tracked: the tickets are anonymized in the same
        transaction, and a notification or a tracked change would carry the personal data again.
        ``_cabinet_note_withdrawn`` records the reason once they are. Call it on a ``sudo()``
        recordset, after the caller's access check.
        """
        if not self:
            return
        stage = self.env.ref('cabinet_helpdesk.cabinet_stage_cancelled', raise_if_not_found=False)
        if not stage or not stage.is_closed:
            stage = self.env['cabinet.stage'].search([('is_closed', '=', True)], order='fold desc, sequence', limit=1)
        if not stage:
            raise UserError(self.env._("No closing stage is configured: create a stage flagged as closing."))
        self.with_context(mail_notrack=True, tracking_disable=True).write({'stage_id': stage.id})

    def _cabinet_note_withdrawn(self):
        """Record in each ticket why it was closed: withdrawn at its requester's erasure request."""
        for ticket in self:
            ticket.message_post(
                body=self.env._(
                    "Withdrawn: closed while open because its requester asked for the erasure of their personal "
                    "data (GDPR art. 17). The ticket was anonymized."
                ),
                message_type='notification',
                subtype_xmlid='mail.mt_note',
            )

    def _cabinet_retention_log(self, action, reason):
        """Audit rows of the tickets, without personal data, before they are anonymized or deleted."""
        self.env['cabinet.retention.log'].sudo().create(
            [
                {
                    'ticket_number': ticket.number,
                    'closed_date': ticket.closed_date and ticket.closed_date.date(),
                    'category_id': ticket.category_id.id,
                    'policy_id': ticket.category_id.retention_policy_id.id,
                    'action': action,
                    'reason': reason,
                    'company_id': ticket.company_id.id,
                }
                for ticket in self
            ]
        )

    @api.model
    def _retention_due_domain(self):
        """Closed tickets past their retention date, not under legal hold, not yet anonymized."""
        return Domain(
            [
                ('is_closed', '=', True),
                ('retention_date', '<=', fields.Date.context_today(self)),
                ('legal_hold', '=', False),
                ('anonymized', '=', False),
            ]
        )

    def _apply_retention(self):
        """Anonymize or delete the tickets as their retention policy says; each leaves the due domain."""
        to_delete = self.filtered(lambda t: t.category_id.retention_policy_id.action == 'delete')
        to_anonymize = self - to_delete
        if to_anonymize:
            to_anonymize._cabinet_retention_log('anonymize', 'retention')
            to_anonymize._cabinet_anonymize()
        if to_delete:
            to_delete._cabinet_retention_log('delete', 'retention')
            self.env['rating.rating'].sudo().search(
                [('res_model', '=', self._name), ('res_id', 'in', to_delete.ids)]
            ).unlink()
            to_delete.unlink()

    @api.model
    def _cron_apply_retention(self, batch_size=100):
        """Anonymize or delete the closed tickets whose retention period is over, in batches
        (and delete the personal data exports older than a week).

        Each batch is committed with its audit rows; a rerun starts where the last one stopped,
        as processed tickets leave the due domain. A ticket that fails is logged, left as it is
        for the next run and skipped for the rest of this one.
        """
        self.env['res.partner']._cabinet_gc_exports()
        Ticket = self.sudo().with_context(active_test=False)
        failed_ids = []
        while True:
            domain = self._retention_due_domain() & Domain('id', 'not in', failed_ids)
            tickets = Ticket.search(domain, limit=batch_size, order='id').try_lock_for_update()
            if not tickets:
                break
            try:
                with self.env.cr.savepoint():
                    tickets._apply_retention()
            except Exception:  # isolate the failing ticket(s), keep the others going
                for ticket in tickets:
                    try:
                        with self.env.cr.savepoint():
                            ticket._apply_retention()
                    except Exception:
                        _logger.exception("Retention could not be applied to ticket %s", ticket.id)
                        failed_ids.append(ticket.id)
            remaining = Ticket.search_count(self._retention_due_domain() & Domain('id', 'not in', failed_ids))
            if not self.env['ir.cron']._commit_progress(len(tickets), remaining=remaining):
                break

    # ------------------------------------------------------------
    # ANALYTICS AND WORKS COUNCIL
    # ------------------------------------------------------------

    def _read_group_groupby(self, alias, groupby_spec, query):
        # no grouping by staff member unless per-employee analytics are on
        self.env['cabinet.ticket.analysis']._check_staff_groupby(self, groupby_spec)
        return super()._read_group_groupby(alias, groupby_spec, query)

    def _read_group_select(self, aggregate_spec, query):
        # nor aggregates of staff members (lists, counts), which also serve to sort and filter groups
        self.env['cabinet.ticket.analysis']._check_staff_groupby(self, aggregate_spec)
        return super()._read_group_select(aggregate_spec, query)

    # ------------------------------------------------------------
    # HELPERS
    # ------------------------------------------------------------

    def _cabinet_preview(self, vals):
        """The tickets of ``self`` as writing ``vals`` would leave them, or the ticket creating
        ``vals`` would give on an empty recordset, as new records: to decide, before saving, who
        may read them.

        :param dict vals: values of a create or a write
        """
        values = {
            fname: value
            for fname, value in vals.items()
            if fname in self._fields and self._fields[fname].type != 'one2many'
        }
        if not self:
            return self.new(values)
        return self.browse().concat(*(self.new(values, origin=ticket) for ticket in self))

    def _cabinet_check_assignee(self, user):
        """Refuse to assign the tickets of ``self`` (as they will be saved, see ``_cabinet_preview``)
        to ``user`` when ``user`` could not read them: an assignee must see what they handle, and
        nobody may hand a ticket to someone it must stay hidden from."""
        unreadable = self - self._cabinet_filtered_readable(user)
        if unreadable:
            raise UserError(
                self.env._(
                    "%(user)s cannot read ticket %(ticket)s, so it cannot be assigned to them. Assign it to a "
                    "member of its team or, for a confidential request type, of the type's handling team.",
                    user=user.sudo().display_name,
                    ticket=", ".join(unreadable.mapped('display_name')),
                )
            )

    @api.model
    def _cabinet_readable_query(self):
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
    def _cabinet_readable_ids(self, ticket_ids):
        """The ids among ``ticket_ids`` of tickets the current user may read (see
        :meth:`_cabinet_readable_query`), in one query.

        :param ticket_ids: ticket ids, existing or not
        :rtype: set
        """
        tickets = self.sudo(False).with_context(active_test=False)
        if not ticket_ids or not tickets.has_access('read'):
            return set()
        return set(tickets._search([('id', 'in', list(ticket_ids))]).get_result_ids())

    @api.model
    def _stages_for_team(self, team):
        domain = Domain('team_ids', '=', False)
        if team:
            domain |= Domain('team_ids', 'in', team.ids)
        return self.env['cabinet.stage'].search(domain, order='sequence, id')

    @api.model
    def _next_number(self, company):
        """Next ticket number of ``company``, from the company's own sequence (created on the
        first ticket of a company that has none), so that numbers never collide across companies."""
        Sequence = self.env['ir.sequence'].sudo()
        sequence = Sequence.search([('code', '=', 'cabinet.ticket'), ('company_id', '=', company.id)], limit=1)
        if not sequence:
            template = self.env.ref('cabinet_helpdesk.ir_sequence_cabinet_ticket', raise_if_not_found=False)
            sequence = Sequence.create(
                {
                    'name': self.env._("Tickets of %s", company.name),
                    'code': 'cabinet.ticket',
                    'company_id': company.id,
                    'prefix': template.prefix if template else 'T%(year)s-',
                    'padding': template.padding if template else 5,
                    'use_date_range': template.use_date_range if template else True,
                }
            )
        return sequence._next()
