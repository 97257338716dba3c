# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
import logging

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.fields import Command, Domain
from odoo.tools import format_date

from .const import CHANNELS, PRIORITIES

_logger = logging.getLogger(__name__)


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
        related='partner_id.commercial_partner_id', string="Party", store=True, index=True
    )
    party_type = fields.Selection(related='commercial_partner_id.party_type', string="Party Type", store=True)
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
        for vals in vals_list:
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
                vals['user_id'] = team._get_assignee_for_new_ticket(self.browse()._preview(vals)).id
            elif vals.get('user_id'):
                self.browse()._preview(vals)._check_assignee(self.env['res.users'].browse(vals['user_id']))
        return super().create(vals_list)

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
        domain = Domain('team_ids', '=', False)
        if team:
            domain |= Domain('team_ids', 'in', team.ids)
        return self.env['cabinet.stage'].search(domain, order='sequence, id')

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
    def _is_staff(self, partner):
        """Whether ``partner`` is the partner of an internal user of the firm."""
        if partner == self.env.user.partner_id:
            return not self.env.user.share
        return bool(
            self.env['res.users'].sudo().search_count([('partner_id', '=', partner.id), ('share', '=', False)], limit=1)
        )

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
