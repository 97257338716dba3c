# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
import copy
import logging
import re
from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import AccessError, MissingError, UserError, ValidationError
from odoo.fields import Command, Domain
from odoo.tools import SQL, Query, format_date

from .const import CHANNELS, PRIORITIES
from .transaction_memo import transaction_memo

_logger = logging.getLogger(__name__)

# Key, in the cursor's cache, of the defaults of the tickets being created (``_prepare_create_values``)
DEFAULTS_MEMO = 'cabinet_ticket_defaults'
# one term of a model's ``_order``: field, direction, nulls
ORDER_TERM = re.compile(r'\s*(\w+)(?:\s+(asc|desc))?(?:\s+nulls\s+(first|last))?\s*', re.IGNORECASE)


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
      may still follow it (``models/portal/``);
    - followers and recipients outside staff are limited to the party's contacts and the agent
      of an active mandate covering the ticket (``models/party_rule/``);
    - the ratings and followers of a ticket are visible only to whoever may read the ticket
      (``cabinet.ticket.linked.mixin``), and no access error names a ticket (``ir.rule``);
    - everyone is limited to the companies they work in.

    Who may change what (checked in ``create``/``write`` of ``models/ticket_access/``):

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
      handling team's internal notes (``models/ticket_access/mail_message.py``).
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
        CHANNELS,
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
        related='partner_id.commercial_partner_id', string="Party", store=True, precompute=True, index=True
    )
    party_type = fields.Selection(
        related='commercial_partner_id.party_type', string="Party Type", store=True, precompute=True
    )
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
    is_closed = fields.Boolean(related='stage_id.is_closed', store=True, precompute=True, index=True)
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
    # a new ticket has no rating: known before it is saved, not read back after
    rating_last_value = fields.Float(compute='_compute_rating_last_value', store=True, precompute=True)

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

    def _compute_rating_last_value(self):
        saved = self.filtered('id')
        (self - saved).rating_last_value = 0
        if saved:
            super(CabinetTicket, saved)._compute_rating_last_value()

    @api.depends('stage_id', 'team_id')
    def _compute_is_new(self):
        first_stages = {}
        for ticket in self:
            if ticket.team_id not in first_stages:
                first_stages[ticket.team_id] = self._stages_for_team(ticket.team_id)[:1]
            ticket.is_new = not ticket.stage_id.is_closed and ticket.stage_id == first_stages[ticket.team_id]

    @api.model
    def _read_group_expand_stage_ids(self, stages, domain):
        team_id = self.env.context.get('default_team_id')
        stage_domain = Domain('fold', '=', False) | Domain('id', 'in', stages.ids)
        if team_id:
            stage_domain &= Domain('team_ids', '=', False) | Domain('team_ids', 'in', [team_id])
        return stages.search(stage_domain)

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
        # the values are completed below: keep the caller's dicts as they were (a retried call
        # passes them again)
        vals_list = [dict(vals) for vals in vals_list]
        if any(not vals.get('partner_id') for vals in vals_list):
            raise ValidationError(self.env._("A ticket needs exactly one requester: choose the contact who asked."))
        # request types, teams and stages are read once for the whole batch
        categories = self.env['cabinet.category'].browse(
            {vals['category_id'] for vals in vals_list if vals.get('category_id')}
        )
        category_by_id = {category.id: category for category in categories}
        default_team = None
        for vals in vals_list:
            category = category_by_id.get(vals.get('category_id'), self.env['cabinet.category'])
            if category.team_id and not vals.get('team_id'):
                vals['team_id'] = category.team_id.id
            if 'team_id' not in vals:
                # the default team, known from the start: its stages, assignment and notified staff apply
                if default_team is None:
                    default_team = self._default_team_id()
                vals['team_id'] = default_team.id
        teams = self.env['cabinet.team'].browse({vals['team_id'] for vals in vals_list if vals.get('team_id')})
        team_by_id = {team.id: team for team in teams}
        first_stages = {}
        stages = self.env['cabinet.stage'].browse({vals['stage_id'] for vals in vals_list if vals.get('stage_id')})
        now = fields.Datetime.now()
        by_company = defaultdict(list)
        chosen_assignees = defaultdict(list)
        assignments = {}
        for vals in vals_list:
            team = team_by_id.get(vals.get('team_id'), self.env['cabinet.team'])
            company = (
                self.env['res.company'].browse(vals['company_id'])
                if vals.get('company_id')
                else team.company_id or self.env.company
            )
            vals['company_id'] = company.id
            if not vals.get('stage_id'):
                if team not in first_stages:
                    first_stages[team] = self._stages_for_team(team)[:1]
                vals['stage_id'] = first_stages[team].id
                stage = first_stages[team]
            else:
                stage = stages.browse(vals['stage_id']).with_prefetch(stages._prefetch_ids)
            if stage.is_closed:
                vals['closed_date'] = now
            by_company[company].append(vals)
            if team and 'user_id' not in vals:
                # no ticket to preview for a team assigning by hand
                tickets = self.browse()._preview(vals) if team.assignment_method != 'manual' else None
                vals['user_id'] = team._get_assignee_for_new_ticket(tickets, memo=assignments).id
            elif vals.get('user_id'):
                chosen_assignees[vals['user_id']].append(vals)
        for company, company_vals in by_company.items():
            for vals, number in zip(company_vals, self._next_numbers(company, len(company_vals)), strict=True):
                vals['number'] = number
        # an assignee chosen by hand must be able to read the ticket: checked once per assignee
        for user_id, user_vals in chosen_assignees.items():
            self._check_assignee_values(self.env['res.users'].browse(user_id), user_vals)
        return super().create(vals_list)

    def _prepare_create_values(self, vals_list):
        # the tickets of a batch leaving out the same fields get the same defaults (the defaults of
        # a ticket depend on the context only): asked once per set of such fields, not per ticket;
        # the defaults of properties depend on the values
        if any(field.type == 'properties' for field in self._fields.values()):
            return super()._prepare_create_values(vals_list)
        with transaction_memo(self.env.cr, DEFAULTS_MEMO, (self.env, {})):
            return super()._prepare_create_values(vals_list)

    @api.model
    def _add_missing_default_values(self, values):
        memo_env, memo = self.env.cr.cache.get(DEFAULTS_MEMO, (None, None))
        if memo_env is not self.env:
            return super()._add_missing_default_values(values)
        missing = frozenset(self._fields.keys() - values.keys())
        if missing not in memo:
            completed = super()._add_missing_default_values(values)
            memo[missing] = {fname: value for fname, value in completed.items() if fname not in values}
        # each ticket its own lists (x2many commands), never one shared with another ticket
        defaults = {
            fname: copy.deepcopy(value) if isinstance(value, (list, dict)) else value
            for fname, value in memo[missing].items()
        }
        return {**defaults, **values}

    def _add_precomputed_values(self, vals_list):
        # The fields computed before saving are computed on new records made of the values, which
        # hold their defaults already: a field they read that the values leave out has no default,
        # yet the ORM would ask for it again, record by record and field by field. It is given
        # empty, as the ORM would find it, for the time of the computation.
        # When those fields are all computed as superuser (``compute_sudo``), their values are
        # read back as such, without checking the access to each field of each record.
        fnames = self._precompute_read_fnames()
        added = []
        for vals in vals_list:
            empty = [fname for fname in fnames if fname not in vals]
            vals.update(dict.fromkeys(empty, False))
            added.append(empty)
        computing = self
        if all(field.compute_sudo for field in self._fields.values() if field.precompute):
            computing = self.sudo()
        try:
            return super(CabinetTicket, computing)._add_precomputed_values(vals_list)
        finally:
            for vals, empty in zip(vals_list, added, strict=True):
                for fname in empty:
                    vals.pop(fname, None)

    @api.model
    def _precompute_read_fnames(self):
        """Names of the stored fields without computation that the fields computed before saving
        (``precompute``) read: those they depend on."""
        fnames = set()
        for field in self._fields.values():
            if field.precompute:
                fnames.update(path.split('.')[0] for path in self.pool.field_depends[field])
        return frozenset(
            fname
            for fname in fnames
            if fname in self._fields
            and self._fields[fname].column_type
            and not (self._fields[fname].compute or self._fields[fname].related)
            and fname not in models.MAGIC_COLUMNS
        )

    def _check_company(self, fnames=None):
        # linked records of no company (most contacts) suit every company: nothing to check for them;
        # tickets created together mostly share their company and linked records, which pass or
        # fail the check alike: one ticket of each kind is checked, all of them if one fails
        if fnames is None or {'company_id', 'company_ids'} & set(fnames):
            fnames = self._fields
        tickets_sudo = self.sudo()
        checked = [
            name
            for name in fnames
            if self._fields[name].relational
            and self._fields[name].check_company
            and not self._of_no_company(tickets_sudo[name])
        ]
        if not checked:
            return None
        kinds = {}
        for ticket_sudo in tickets_sudo:
            kinds.setdefault((ticket_sudo.company_id, *(ticket_sudo[name] for name in checked)), ticket_sudo.id)
        if len(kinds) == len(self):
            return super()._check_company(checked)
        try:
            super(CabinetTicket, self.browse(kinds.values()))._check_company(checked)
        except UserError:
            super()._check_company(checked)  # names every ticket at fault
            raise
        return None

    @api.model
    def _of_no_company(self, records):
        """Whether ``records`` all belong to no company while their model's company check lets
        such records serve any company (the ORM's own checks): the company check of a ticket
        linked to them can only pass."""
        Model = type(records)
        return (
            'company_id' in records._fields
            and records._fields['company_id'].type == 'many2one'
            and Model._check_company_domain
            in (models.BaseModel._check_company_domain, models.check_company_domain_parent_of)
            and not records.mapped('company_id')
        )

    def write(self, vals):
        if 'partner_id' in vals and not vals['partner_id']:
            raise ValidationError(self.env._("A ticket needs exactly one requester: choose the contact who asked."))
        if vals.get('stage_id'):
            stage = self.env['cabinet.stage'].browse(vals['stage_id'])
            if stage.is_closed:
                vals.setdefault('closed_date', fields.Datetime.now())
            else:
                vals['closed_date'] = False
        if vals.get('user_id'):
            self._preview(vals)._check_assignee(self.env['res.users'].browse(vals['user_id']))
        if vals.get('team_id') and 'user_id' not in vals:
            team = self.env['cabinet.team'].browse(vals['team_id'])
            self_other_team = self.filtered(lambda t: t.team_id != team and t.user_id not in team.member_ids)
            if self_other_team:
                assignee = team._get_assignee_for_new_ticket(self_other_team._preview(vals))
                self_other_team.write({'user_id': assignee.id})
        return super().write(vals)

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
        stage = self._closing_stage()
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
        self._check_anonymized()
        requested = self.filtered(lambda ticket: ticket.partner_id == self.env.user.partner_id)
        if refused := self - requested - self._filter_handled():
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
            stage = ticket._withdrawn_stage()
            # sudo: the requester may not change the stage otherwise; withdrawing is checked above
            ticket.sudo().write({'stage_id': stage.id})
            ticket.message_post(body=body, message_type='comment', subtype_xmlid='mail.mt_comment')
        return True

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
        # by the cached XML id: no query to check the subtype exists, at each ticket created
        xmlid_to_res_id = self.env['ir.model.data']._xmlid_to_res_id
        if self.env.context.get('cabinet_mail_gateway') and self.channel == 'email':
            # the email opening a ticket is the party's request itself: a public message, shown in
            # the portal and answered as such (a reply to it is not an internal note)
            return self.env['mail.message.subtype'].browse(xmlid_to_res_id('mail.mt_comment'))
        return self.env['mail.message.subtype'].browse(xmlid_to_res_id('cabinet_helpdesk.mt_ticket_new'))

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
    # RATINGS
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

    # ------------------------------------------------------------
    # STAGES
    # ------------------------------------------------------------
    # The one place that finds stages: those of a team (the first one is where tickets start),
    # its closing and open ones. The portal's "waiting" filter names its own stage by XML id.

    @api.model
    def _stages_for_team(self, team):
        """The stages ``team`` uses (the shared ones and its own), in order; without team, the
        shared ones."""
        Stage = self.env['cabinet.stage']
        stages = Stage.browse(Stage._team_stage_ids(team._origin.id))
        # what deciding on a stage reads comes at once, by one query unless in cache already
        stages.fetch(
            [
                name
                for name, field in Stage._fields.items()
                if field.prefetch is True and Stage._has_field_access(field, 'read')
            ]
        )
        return stages

    @api.model
    def _closing_stage(self):
        """The firm's closing stage whatever the team: a folded one first, in stage order."""
        return self.env['cabinet.stage'].search([('is_closed', '=', True)], order='fold desc, sequence, id', limit=1)

    def _withdrawn_stage(self):
        """The stage a withdrawn ticket goes to: the module's cancelling stage when its team uses
        it, else the last closing stage of its team."""
        self.ensure_one()
        stages = self._stages_for_team(self.team_id).filtered('is_closed')
        cancelled = self.env.ref('cabinet_helpdesk.cabinet_stage_cancelled', raise_if_not_found=False)
        stage = cancelled if cancelled in stages else stages[-1:]
        if not stage:
            raise UserError(self.env._("No closing stage is configured: create a stage flagged as closing."))
        return stage

    def _reopen_stage(self):
        """The stage a reopened ticket goes back to: the first open stage of its team."""
        self.ensure_one()
        return self._stages_for_team(self.team_id).filtered(lambda s: not s.is_closed)[:1]

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

    def _read_group_orderby(self, order, groupby_terms, query):
        # groups by a many2one field (team, stage, assignee...) follow the order of the target
        # model: see _order_field_to_sql
        return super(CabinetTicket, self.with_context(cabinet_order_groups=True))._read_group_orderby(
            order, groupby_terms, query
        )

    def _order_field_to_sql(self, alias, field_name, direction, nulls, query):
        """Order groups by a many2one field as the target model orders its records, the target's
        columns read once per group by a subquery: joining the target model to every ticket
        counted (what the ORM does for searches) would compute its order and group on it row by
        row, which costs more than the count itself on a large table."""
        field = self._fields.get(field_name)
        if not (self.env.context.get('cabinet_order_groups') and field and field.type == 'many2one'):
            return super()._order_field_to_sql(alias, field_name, direction, nulls, query)
        comodel = self.env[field.comodel_name]
        coterms = [ORDER_TERM.fullmatch(term) for term in comodel._order.split(',')]
        if comodel._order == 'id' or not all(
            coterm and comodel._fields.get(coterm[1]) and comodel._fields[coterm[1]].type != 'many2one'
            for coterm in coterms
        ):
            return super()._order_field_to_sql(alias, field_name, direction, nulls, query)
        sql_field = self._field_to_sql(alias, field_name, query)
        terms = []
        if nulls.code == 'NULLS FIRST':
            terms.append(SQL("%s IS NOT NULL", sql_field))
        elif nulls.code == 'NULLS LAST':
            terms.append(SQL("%s IS NULL", sql_field))
        reverse = direction.code == 'DESC'
        for coterm in coterms:
            cofield, codirection, conulls = coterm.groups()
            codirection = (codirection or 'ASC').upper()
            if reverse:
                codirection = 'ASC' if codirection == 'DESC' else 'DESC'
            conulls = f'NULLS {conulls.upper()}' if conulls else ''
            if reverse and conulls:
                conulls = 'NULLS LAST' if conulls == 'NULLS FIRST' else 'NULLS FIRST'
            coquery = Query(comodel.env, comodel._table)
            coquery.add_where(SQL("%s = %s", SQL.identifier(comodel._table, 'id'), sql_field))
            expression = comodel._order_to_sql(cofield, coquery)
            terms.append(SQL("(%s) %s %s", coquery.select(expression), SQL(codirection), SQL(conulls)))
        return SQL(", ").join(terms)

    # ------------------------------------------------------------
    # HELPERS
    # ------------------------------------------------------------

    def _preview(self, vals):
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

    def _check_assignee(self, user):
        """Refuse to assign the tickets of ``self`` (as they will be saved, see ``_preview``)
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
    def _check_assignee_values(self, user, vals_list):
        """``_check_assignee`` of the tickets creating ``vals_list`` would give, once per kind of
        ticket: tickets whose values agree on every field the record rules of ``user`` look at
        (``_cabinet_readable_fnames``) pass or fail alike, one of each kind is checked, on those
        values only; all of them if one fails, so that the error names every ticket at fault.

        :param user: ``res.users`` record
        :param list vals_list: values of a create
        """
        fnames = self._cabinet_readable_fnames(user)
        kinds = {}
        if fnames is None:
            kinds = dict(enumerate(vals_list))
        else:
            missing = object()
            fnames = sorted(fnames)
            for vals in vals_list:
                key = tuple(repr(vals.get(fname, missing)) for fname in fnames)
                if key not in kinds:
                    # what the rules look at is enough to decide
                    kinds[key] = {fname: vals[fname] for fname in fnames if fname in vals}
        try:
            self.browse().concat(*(self.browse()._preview(vals) for vals in kinds.values()))._check_assignee(user)
        except UserError:
            if fnames is not None:
                self.browse().concat(*(self.browse()._preview(vals) for vals in vals_list))._check_assignee(user)
            raise

    @api.model
    def _is_staff(self, partner):
        """Whether ``partner`` is the partner of an internal user of the firm."""
        if partner == self.env.user.partner_id:
            return not self.env.user.share
        return bool(
            self.env['res.users'].sudo().search_count([('partner_id', '=', partner.id), ('share', '=', False)], limit=1)
        )

    @api.model
    def _next_numbers(self, company, count):
        """The next ``count`` ticket numbers of ``company``, in order, from the company's own
        sequence (created on the first ticket of a company that has none), so that numbers never
        collide across companies (see ``ir.sequence._cabinet_next_numbers``).

        :param company: ``res.company`` record
        :param int count: how many numbers
        :rtype: list
        """
        Sequence = self.env['ir.sequence'].sudo()
        sequence = Sequence.browse(Sequence._cabinet_ticket_sequence_id(company.id))
        try:
            # read anyway to give the numbers; a sequence created in a transaction rolled back
            # since may still be in the cache
            sequence.implementation  # noqa: B018
        except MissingError:
            self.env.registry.clear_cache()
            sequence = Sequence.browse(Sequence._cabinet_ticket_sequence_id(company.id))
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
        return sequence._cabinet_next_numbers(count)
