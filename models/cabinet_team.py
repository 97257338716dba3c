# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from ast import literal_eval

from odoo import api, fields, models
from odoo.fields import Domain


class CabinetTeam(models.Model):
    _name = 'cabinet.team'
    _description = "Helpdesk Team"
    _inherit = ['mail.alias.mixin', 'mail.thread']
    _order = 'sequence, name'
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    color = fields.Integer()
    description = fields.Html(translate=True)
    company_id = fields.Many2one('res.company', required=True, index=True, default=lambda self: self.env.company)
    # Members and working hours
    member_ids = fields.Many2many(
        'res.users',
        'cabinet_team_res_users_rel',
        'team_id',
        'user_id',
        string="Members",
        domain=[('share', '=', False)],
        help="Staff who handle this team's tickets and see them.",
    )
    leader_id = fields.Many2one(
        'res.users',
        string="Team Leader",
        domain=[('share', '=', False)],
        tracking=True,
        help="Receives the team's review digests and escalations.",
    )
    resource_calendar_id = fields.Many2one(
        'resource.calendar',
        string="Working Hours",
        check_company=True,
        compute='_compute_resource_calendar_id',
        store=True,
        readonly=False,
        help="Working hours used to compute service level deadlines.",
    )
    assignment_method = fields.Selection(
        [('manual', "Manual"), ('balanced', "Balanced workload"), ('round_robin', "Round robin")],
        required=True,
        default='manual',
        tracking=True,
        help="How new tickets get an assignee: by hand, to the member with the fewest open "
        "tickets, or to each member in turn.",
    )
    stage_ids = fields.Many2many(
        'cabinet.stage',
        'cabinet_stage_team_rel',
        'team_id',
        'stage_id',
        string="Stages",
        help="Stages of this team's tickets, besides the stages shared by every team.",
    )
    ticket_ids = fields.One2many('cabinet.ticket', 'team_id', string="Tickets")
    # Dashboard counters
    open_ticket_count = fields.Integer(compute='_compute_ticket_counts', string="Open Tickets")
    unassigned_ticket_count = fields.Integer(compute='_compute_ticket_counts', string="Unassigned Tickets")
    overdue_ticket_count = fields.Integer(compute='_compute_ticket_counts', string="Overdue Tickets")
    # Stale-ticket review
    last_stale_digest_date = fields.Date(
        readonly=True,
        copy=False,
        export_string_translation=False,
        help="When the team leader last received the digest of the team's tickets without news.",
    )
    # Email acknowledgement
    use_acknowledgement = fields.Boolean(
        string="Acknowledge Emails",
        default=True,
        help="Answer each email that opens a ticket with the ticket number, the portal link and the "
        "firm's rules. Automated emails (auto-replies, bounces, mailing lists) are never answered.",
    )
    acknowledgement_template_id = fields.Many2one(
        'mail.template',
        domain=[('model', '=', 'cabinet.ticket')],
        default=lambda self: self.env.ref(
            'cabinet_helpdesk.mail_template_ticket_acknowledgement', raise_if_not_found=False
        ),
        help="Sent to the requester only. Empty: the module's default acknowledgement.",
    )
    # Notifications: who at the firm hears of new requests, the party's answers and low ratings
    notify_mode = fields.Selection(
        [('team', "Leader and members"), ('leader', "Team leader"), ('users', "Chosen people")],
        string="Notify",
        required=True,
        default='team',
        help="Who follows each new ticket of the team and so hears of the new request, of every answer of "
        "the party and of a low rating, in their inbox or by email as each of them prefers. Only people who "
        "may read the ticket are notified: when none of them may, the leader is, else the members.",
    )
    notify_user_ids = fields.Many2many(
        'res.users',
        'cabinet_team_notify_user_rel',
        'team_id',
        'user_id',
        string="People to Notify",
        domain=[('share', '=', False)],
        help="Staff who follow each new ticket of the team when Notify is set to chosen people.",
    )

    @api.depends('company_id')
    def _compute_resource_calendar_id(self):
        for team in self:
            if not team.resource_calendar_id or team.resource_calendar_id.company_id not in (
                team.company_id,
                self.env['res.company'],
            ):
                team.resource_calendar_id = team.company_id.resource_calendar_id

    @api.depends('ticket_ids.is_closed', 'ticket_ids.user_id', 'ticket_ids.date_deadline')
    def _compute_ticket_counts(self):
        Ticket = self.env['cabinet.ticket']
        base = Domain('team_id', 'in', self.ids) & Domain('is_closed', '=', False)
        today = fields.Date.context_today(self)
        counts = {
            key: dict(Ticket._read_group(domain, ['team_id'], ['__count']))
            for key, domain in (
                ('open', base),
                ('unassigned', base & Domain('user_id', '=', False)),
                ('overdue', base & Domain('date_deadline', '<', today)),
            )
        }
        for team in self:
            team.open_ticket_count = counts['open'].get(team, 0)
            team.unassigned_ticket_count = counts['unassigned'].get(team, 0)
            team.overdue_ticket_count = counts['overdue'].get(team, 0)

    @api.model_create_multi
    def create(self, vals_list):
        teams = super().create(vals_list)
        if any('stage_ids' in vals for vals in vals_list):
            self.env.registry.clear_cache()  # the stages of each team (cabinet.stage._team_stage_ids)
        return teams

    def write(self, vals):
        res = super().write(vals)
        if 'stage_ids' in vals:
            self.env.registry.clear_cache()  # the stages of each team (cabinet.stage._team_stage_ids)
        return res

    def _alias_get_creation_values(self):
        values = super()._alias_get_creation_values()
        values['alias_model_id'] = self.env['ir.model']._get('cabinet.ticket').id
        if self.id:
            values['alias_defaults'] = defaults = literal_eval(self.alias_defaults or "{}")
            defaults['team_id'] = self.id
            defaults['company_id'] = self.company_id.id
        return values

    def _action_team_tickets(self, extra_domain=None, name=None):
        self.ensure_one()
        action = self.env['ir.actions.act_window']._for_xml_id('cabinet_helpdesk.cabinet_ticket_action')
        action['domain'] = list(Domain('team_id', '=', self.id) & Domain(extra_domain or Domain.TRUE))
        action['context'] = {'default_team_id': self.id, 'search_default_open': 1}
        action['display_name'] = name or self.name
        return action

    def action_view_open_tickets(self):
        return self._action_team_tickets()

    def action_view_unassigned_tickets(self):
        return self._action_team_tickets([('user_id', '=', False)], self.env._("%s: unassigned", self.name))

    def action_view_overdue_tickets(self):
        return self._action_team_tickets(
            [('date_deadline', '<', fields.Date.context_today(self))], self.env._("%s: overdue", self.name)
        )

    def _notification_candidates(self):
        """Staff to notify of this team's tickets, as groups in order of preference: those the
        setting names (``notify_mode``), then the leader, then the members (active internal
        users only). A ticket is followed by the first group with someone who may read it."""
        self.ensure_one()

        def staff(users):
            return users.filtered(lambda user: user.active and not user.share)

        if self.notify_mode == 'users':
            chosen = self.notify_user_ids
        elif self.notify_mode == 'leader':
            chosen = self.leader_id
        else:
            chosen = self.leader_id | self.member_ids
        return [staff(chosen), staff(self.leader_id), staff(self.member_ids)]

    def _get_assignee_for_new_ticket(self, tickets=None, memo=None):
        """Return the member who gets the next new ticket of this team, following its
        assignment method, or an empty recordset for manual assignment.

        Only a member who may read ``tickets`` with their own rights is picked (e.g. not a
        member outside the handling team of a confidential request type); when no member may,
        nobody is.

        Round robin is stateless: it takes the member after the assignee of the team's
        latest assigned ticket, so there is nothing to keep in sync.

        :param tickets: ``cabinet.ticket`` records to assign, as they will be saved (new records
            from ``cabinet.ticket._preview`` before a create or a write)
        :param dict memo: answers already given for the same team and readers, kept by the caller
            across the tickets of one batch (each ticket is assigned as if it were alone: the
            others are not saved yet)
        """
        self.ensure_one()
        if self.assignment_method == 'manual':
            return self.env['res.users']
        members = self.member_ids.filtered('active').sorted('id')
        if not members:
            return self.env['res.users']
        if tickets:
            readers = members.filtered(lambda user: len(tickets._cabinet_filtered_readable(user)) == len(tickets))
        else:
            readers = members
        if memo is None:
            return self._pick_assignee(members, readers)
        key = (self.id, tuple(readers.ids))
        if key not in memo:
            memo[key] = self._pick_assignee(members, readers)
        return memo[key]

    def _pick_assignee(self, members, readers):
        """Return the member following the assignment method among ``readers`` (the members who
        may read the tickets) whom assignment may pick now, or no user.

        :param members: the team's active members, by id
        :param readers: those of ``members`` who may read the tickets to assign
        """
        readers = self._filter_assignable(readers)
        if not readers:
            return self.env['res.users']
        Ticket = self.env['cabinet.ticket'].sudo()
        if self.assignment_method == 'balanced':
            loads = dict(
                Ticket._read_group(
                    [('team_id', '=', self.id), ('is_closed', '=', False), ('user_id', 'in', readers.ids)],
                    ['user_id'],
                    ['__count'],
                )
            )
            return min(readers, key=lambda user: (loads.get(user, 0), user.id))
        last = Ticket.search([('team_id', '=', self.id), ('user_id', 'in', members.ids)], order='id desc', limit=1)
        if not last:
            return readers[0]
        # the next member after the last assignee who may read the tickets
        index = members.ids.index(last.user_id.id)
        following = members[index + 1 :] + members[: index + 1]
        return following.filtered(lambda user: user in readers)[:1]

    def _filter_assignable(self, users):
        """Return the users of ``users`` whom automatic assignment may pick now (all of them here;
        concerns narrow it)."""
        return users
