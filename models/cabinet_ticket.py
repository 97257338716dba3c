# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
import ast
import logging
from datetime import timedelta
from email.message import EmailMessage

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.fields import Command, Domain
from odoo.tools import email_normalize, format_date, format_datetime
from odoo.tools.mail import email_normalize_all

from odoo.addons.rating.models.rating_data import RATING_LIMIT_OK

from .cabinet_category import LEGAL_BASES

_logger = logging.getLogger(__name__)

# Mail gateway: automated senders and headers that never get an answer (RFC 3834), size limit
AUTOMATED_PRECEDENCES = ('bulk', 'junk', 'list', 'auto_reply')
AUTOMATED_HEADERS = ('X-Autoreply', 'X-Autorespond', 'List-Unsubscribe')
AUTOMATED_SENDERS = ('mailer-daemon', 'postmaster', 'noreply', 'no-reply', 'donotreply', 'do-not-reply')
DEFAULT_MAX_ATTACHMENT_SIZE_MB = 20

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
      tickets filed under an active mandate of their agent party;
    - followers and recipients outside staff are limited to the party's contacts and the agent
      of an active mandate covering the ticket (see FOLLOWERS AND RECIPIENTS);
    - everyone is limited to the companies they work in.
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

    def _compute_access_url(self):
        super()._compute_access_url()
        for ticket in self:
            ticket.access_url = f'/my/tickets/{ticket.id}'

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
        defaults = super().default_get(fields)
        if self.env.context.get('cabinet_staff_request') and 'partner_id' in fields:
            defaults['partner_id'] = self.env.user.partner_id.id
        return defaults

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
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
            if team and 'user_id' not in vals:
                vals['user_id'] = team._get_assignee_for_new_ticket().id
            vals['number'] = self._next_number(company)
        tickets = super().create(vals_list)
        tickets.filtered('is_closed').closed_date = fields.Datetime.now()
        tickets.filtered('agent_partner_id')._cabinet_sync_mandate()
        return tickets

    def write(self, vals):
        self._cabinet_check_legal_hold_write(vals)
        self._cabinet_check_anonymized(vals)
        if 'partner_id' in vals and not vals['partner_id']:
            raise ValidationError(self.env._("A ticket needs exactly one requester: choose the contact who asked."))
        if vals.get('stage_id'):
            stage = self.env['cabinet.stage'].browse(vals['stage_id'])
            if stage.is_closed:
                vals.setdefault('closed_date', fields.Datetime.now())
            else:
                vals['closed_date'] = False
        if vals.get('team_id') and 'user_id' not in vals:
            team = self.env['cabinet.team'].browse(vals['team_id'])
            self_other_team = self.filtered(lambda t: t.team_id != team and t.user_id not in team.member_ids)
            if self_other_team:
                self_other_team.write({'user_id': team._get_assignee_for_new_ticket().id})
        res = super().write(vals)
        if vals.keys() & {'agent_partner_id', 'partner_id', 'category_id'}:
            self.filtered('agent_partner_id')._cabinet_sync_mandate()
        return res

    def copy_data(self, default=None):
        vals_list = super().copy_data(default=default)
        return [
            dict(vals, name=self.env._("%s (copy)", ticket.name)) for ticket, vals in zip(self, vals_list, strict=True)
        ]

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
    # request type today; internal users may always follow. A person who adds anyone else gets a
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
        internal users' partners, contacts of the ticket's party (same commercial partner), and
        the agent party and contacts of an active mandate of the party that covers the ticket's
        request type today.

        :param partners: ``res.partner`` recordset to filter
        :return: the allowed subset, in the environment of ``partners``
        """
        self.ensure_one()
        if not partners or (partners == self.env.user.partner_id and self.env.user._is_internal()):
            return partners
        # sudo: only the partners' party and share flag and the party's mandates are read, to
        # decide; nothing but a subset of the given partners is returned
        party = self.sudo().commercial_partner_id
        partners_sudo = partners.sudo()
        allowed_ids = {
            partner.id
            for partner in partners_sudo
            if not partner.partner_share or (party and partner.commercial_partner_id == party)
        }
        outsiders = partners_sudo.filtered(lambda p: p.id not in allowed_ids)
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
        """Last line of defence: whoever asked, only allowed partners are notified, and a
        confidential ticket only to staff who may read it."""
        recipients_data = super()._notify_get_recipients(message, msg_vals=msg_vals, **kwargs)
        if len(self) != 1 or not recipients_data:
            return recipients_data
        shared_ids = [r['id'] for r in recipients_data if r['id'] and r['share']]
        allowed_ids = set(self._cabinet_filter_allowed_partners(self.env['res.partner'].browse(shared_ids)).ids)
        emails_only = [r['email_normalized'] for r in recipients_data if not r['id']]
        allowed_emails = set(self._cabinet_partners_from_emails(emails_only)[0]) if emails_only else set()
        kept = [
            r
            for r in recipients_data
            if (r['id'] and (not r['share'] or r['id'] in allowed_ids))
            or (not r['id'] and r['email_normalized'] in allowed_emails)
        ]
        if kept and self.sudo().category_id.confidential:
            # a confidential ticket is told only to staff who may read it
            staff_ids = {r['uid'] for r in kept if r['id'] and not r['share'] and r.get('uid')}
            readers = self._cabinet_users_who_may_read(self.env['res.users'].sudo().browse(staff_ids))
            kept = [r for r in kept if r['share'] or not r.get('uid') or r['uid'] in readers.ids]
        if len(kept) != len(recipients_data):
            _logger.info(
                "Ticket %s: message %s not sent to %s recipient(s) outside its party",
                self.id,
                message.id,
                len(recipients_data) - len(kept),
            )
        return kept

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

        The requester is the partner of the sender's address, or a new partner of party type
        *other* whose ticket is flagged ``partner_to_qualify``. Without a usable sender address
        the email is kept as a ``cabinet.mail.pending`` record (returned instead of a ticket, so
        the gateway posts the email there) for a person to qualify: never a ticket without
        requester. Cc and Bcc addresses never reach this point (see ``models/mail_thread.py``).
        """
        values = dict(custom_values or {})
        diverted_from = self.browse(values.pop('cabinet_diverted_from_id', False))
        refused = self._cabinet_mail_refuse_attachments(msg_dict)
        requester, created = self._cabinet_mail_find_requester(msg_dict)
        if not requester:
            pending = self.env['cabinet.mail.pending']._cabinet_create_from_mail(msg_dict, values, refused)
            if diverted_from:
                diverted_from._cabinet_mail_note_diverted(self.env._("email to qualify #%s", pending.id))
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
    def _cabinet_mail_divert_other_parties(self, message_dict, routes):
        """Turn the routes of ``routes`` that would add an email to an existing ticket into
        routes creating a new ticket (same team) when the sender is outside the ticket's party.

        This is the routing hook (``mail.thread.message_route``, see ``models/mail_thread.py``)
        rather than ``message_update``: once a route points at a ticket, the gateway posts the
        email on it whatever ``message_update`` does. The sender may write on the ticket when
        they are a contact of the ticket's party or an internal user; anyone else, an unknown
        address included, gets a ticket of their own and the original ticket an internal note
        naming only the new ticket's number.

        :param dict message_dict: parsed email; its ``author_id`` is set when found here
        :param list routes: routes ``(model, thread_id, custom_values, user_id, alias)``
        :return: the routes to process
        :rtype: list
        """
        result = []
        for route in routes:
            model, thread_id, _custom_values, user_id, alias = route
            if model != self._name or not thread_id:
                result.append(route)
                continue
            ticket = self.browse(thread_id)
            author = self.env['res.partner'].browse(message_dict.get('author_id'))
            if not author and email_normalize(message_dict.get('email_from') or ''):
                author = ticket._partner_find_from_emails_single([message_dict['email_from']], no_create=True)
                if author:
                    message_dict['author_id'] = author.id
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
        """Find the requester of a new ticket from the sender of ``msg_dict``, creating a partner
        of party type *other* for an unknown address.

        :return: ``(partner, created)``; an empty partner when the sender is missing or malformed
        :rtype: tuple
        """
        email_from = msg_dict.get('email_from') or ''
        email = email_normalize(email_from)
        if not email:
            return self.env['res.partner'], False
        if msg_dict.get('author_id'):
            return self.env['res.partner'].browse(msg_dict['author_id']), False
        partner = self._partner_find_from_emails_single([email_from], no_create=True)
        if partner:
            return partner, False
        partner = self._partner_find_from_emails_single(
            [email_from], additional_values={email: {'party_type': 'other'}}
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
                'name': self.env._("Coordination of %s", ", ".join(self.mapped('number'))),
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

    def rating_apply(self, rate, token=None, rating=None, feedback=None, subtype_xmlid=None, notify_delay_send=False):
        """A low rating is also told to the firm: an internal note of the low rating subtype, which
        the assignee and the staff the team notifies follow."""
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
            ticket.escalation_level = breaches
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
        self._cabinet_create_todos(
            {
                ticket: (
                    ticket._cabinet_reminder_user(),
                    self.env._("Reminder: %(ticket)s", ticket=ticket.display_name),
                    today,
                    self.env._("You asked to be reminded of this ticket today."),
                )
                for ticket in self
            }
        )
        self.reminder_sent_date = today

    def _cabinet_send_deadline_reminder(self):
        """Announce the approaching (or passed) deadline once and mark it as announced."""
        today = fields.Date.context_today(self)
        self._cabinet_create_todos(
            {
                ticket: (
                    ticket._cabinet_reminder_user(),
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
        self.deadline_reminder_date = today

    def _cabinet_reminder_user(self):
        """Who is reminded of this ticket: its assignee, else its team leader (active users only)."""
        self.ensure_one()
        user = (self.user_id if self.user_id.active else self.env['res.users']) or self.team_id.leader_id
        return user if user.active else self.env['res.users']

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
        vals_list = []
        for ticket, (user, summary, date_deadline, note) in todos.items():
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

        :return: list of dicts with ``number``, ``name``, ``stage``, ``age`` and ``idle`` (days), ``url``
        """
        now = fields.Datetime.now()
        threshold = now - timedelta(days=days)
        tickets = self.search([('team_id', '=', team.id), ('is_closed', '=', False), ('create_date', '<', threshold)])
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
        """Messages of the ticket its party can see (the portal's view of the thread): no internal
        notes, no staff-only logs. They make the ticket dossier and the personal data export."""
        self.ensure_one()
        domain = (
            Domain([('model', '=', self._name), ('res_id', '=', self.id)])
            & self.env['mail.message']._get_search_domain_share()
        )
        return self.env['mail.message'].search(domain, order='date, id')

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
        self.env['rating.rating'].sudo().search([('res_model', '=', self._name), ('res_id', 'in', self.ids)]).write(
            {'partner_id': anonymous.id, 'feedback': False}
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
        # no grouping by staff member unless per-employee analytics are on (or for the DPO)
        self.env['cabinet.ticket.analysis']._check_staff_groupby(self, groupby_spec)
        return super()._read_group_groupby(alias, groupby_spec, query)

    # ------------------------------------------------------------
    # HELPERS
    # ------------------------------------------------------------

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
