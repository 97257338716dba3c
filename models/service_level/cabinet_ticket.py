# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
import logging
from bisect import bisect_left, bisect_right
from collections import defaultdict
from datetime import datetime, time, timedelta

from markupsafe import Markup
from pytz import timezone

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.fields import Command, Domain
from odoo.tools import format_date, format_datetime
from odoo.tools.date_utils import localized, to_timezone

from ..const import (
    PRIORITIES,
    SLA_STATUSES,
)

_logger = logging.getLogger(__name__)


class CabinetTicket(models.Model):
    """Service levels and reminders: deadlines, status, escalation, reminders and to-dos, the
    stale-ticket digest."""

    _inherit = 'cabinet.ticket'

    # The promised deadline (the firm's promise to the party) and the staff's reminders
    date_deadline = fields.Date(
        string="Promised Deadline",
        help="The date the firm promised the party, e.g. a filing date. Whoever handles the ticket is "
        "reminded of it a few working days ahead; the party sees it on the portal only if the firm "
        "turns that on. Not the service level's due dates, which are internal targets.",
    )
    reminder_date = fields.Date(
        compute='_compute_reminder_date',
        inverse='_inverse_reminder_date',
        store=True,
        readonly=False,
        precompute=True,
        help="Whoever handles the ticket gets a to-do and an email on this day. Set from the promised "
        "deadline (the deadline reminder's working days before it) unless you choose another day.",
    )
    reminder_date_manual = fields.Boolean(
        readonly=True,
        copy=False,
        export_string_translation=False,
        help="The reminder date was chosen by hand: a new promised deadline does not move it.",
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
        string="First Answer Due (service level)",
        compute='_compute_sla_deadlines',
        store=True,
        precompute=True,
        copy=False,
        help="Internal target of the service level: the party should get a first public answer by then "
        "(working hours of the team). Never shown to the party; not the promised deadline.",
    )
    sla_resolve_deadline = fields.Datetime(
        string="Resolution Due (service level)",
        compute='_compute_sla_deadlines',
        store=True,
        precompute=True,
        copy=False,
        help="Internal target of the service level: the ticket should be closed by then (working hours "
        "of the team). Never shown to the party; not the promised deadline.",
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
    sla_paused_since = fields.Datetime(
        string="Service Level Paused Since",
        readonly=True,
        copy=False,
        help="When the ticket entered a stage that pauses its service levels (e.g. waiting for the party).",
    )
    sla_paused_hours = fields.Float(
        string="Paused Working Hours",
        readonly=True,
        copy=False,
        help="Working hours the ticket spent in stages that pause its service levels: its resolution "
        "deadline moved by that time.",
    )
    sla_response_paused_hours = fields.Float(
        readonly=True,
        copy=False,
        export_string_translation=False,
        help="Working hours paused before the first answer: the first answer deadline moved by that time.",
    )
    sla_at_risk_warned = fields.Boolean(
        readonly=True,
        copy=False,
        export_string_translation=False,
        help="Whoever handles the ticket was warned that its service level is at risk (once).",
    )
    closed_by_party = fields.Boolean(
        string="Closed by the Party",
        readonly=True,
        copy=False,
        help="The party closed the ticket from the portal; cleared when the ticket is reopened.",
    )
    escalation_level = fields.Integer(
        readonly=True, copy=False, help="How many service level deadlines of the ticket were escalated."
    )
    reminder_sent_date = fields.Date(
        readonly=True,
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

    @api.depends('team_id', 'category_id.sla_policy_id', 'priority')
    def _compute_sla_policy_id(self):
        Policy = self.env['cabinet.sla.policy']
        policies = Policy.browse(Policy._team_policy_ids(tuple(sorted(self.team_id.ids))))
        # matched once per team, request type and priority (what ``_sla_match_policy`` looks at),
        # and given to all those tickets at once
        for tickets in self.grouped(lambda ticket: (ticket.team_id, ticket.category_id, ticket.priority)).values():
            tickets.sla_policy_id = tickets[0]._sla_match_policy(policies)

    @api.depends(
        'create_date',
        'sla_policy_id.response_hours',
        'sla_policy_id.resolve_hours',
        'team_id.resource_calendar_id',
        'sla_paused_hours',
        'sla_response_paused_hours',
    )
    def _compute_sla_deadlines(self):
        plans = {}
        calendars = {}  # by team, policy and company: what ``_sla_calendar`` looks at

        def deadlines(ticket):
            policy = ticket.sla_policy_id
            if not policy:
                return False, False
            # before the ticket is saved (precompute), its creation date will be the transaction's time
            start = (ticket.create_date or self.env.cr.now()).replace(microsecond=0)
            key = (ticket.team_id, policy, ticket.company_id)
            if key not in calendars:
                calendars[key] = ticket._sla_calendar()
            calendar = calendars[key]
            # the working time spent in paused stages does not count: the deadlines move by it
            return tuple(
                self._sla_plan_many(
                    calendar,
                    start,
                    [
                        policy.response_hours and policy.response_hours + ticket.sla_response_paused_hours,
                        policy.resolve_hours and policy.resolve_hours + ticket.sla_paused_hours,
                    ],
                    plans,
                )
            )

        # tickets created together mostly share their deadlines: given to all of them at once
        for (response_deadline, resolve_deadline), tickets in self.grouped(deadlines).items():
            tickets.sla_response_deadline = response_deadline
            tickets.sla_resolve_deadline = resolve_deadline

    @api.depends(
        'sla_policy_id',
        'sla_response_deadline',
        'sla_resolve_deadline',
        'first_response_date',
        'stage_id.is_closed',
        'closed_date',
        'escalation_level',
        'sla_paused_since',
        'sla_policy_id.at_risk_percent',
        'stage_id.sla_excluded',
        'closed_by_party',
    )
    def _compute_sla_status(self):
        now = fields.Datetime.now()
        for (status, next_check), tickets in self.grouped(lambda ticket: ticket._sla_evaluate(now)[:2]).items():
            tickets.sla_status = status
            tickets.sla_next_check = next_check

    @api.depends('date_deadline')
    def _compute_reminder_date(self):
        # a reminder date chosen by hand stays; the default one follows the promised deadline
        defaults = self._default_reminder_dates()
        grouped = self.grouped(lambda ticket: ticket.reminder_date if ticket.reminder_date_manual else defaults[ticket])
        for reminder_date, tickets in grouped.items():
            tickets.reminder_date = reminder_date

    def _inverse_reminder_date(self):
        # a reminder date is the user's own unless it is the one the promised deadline gives
        defaults = self._default_reminder_dates()
        for ticket in self:
            manual = bool(ticket.reminder_date) and ticket.reminder_date != defaults[ticket]
            if ticket.reminder_date_manual != manual:
                # sudo: the marker follows whatever reminder date the user may set
                ticket.sudo().reminder_date_manual = manual

    @api.model
    def _precompute_read_fnames(self):
        # the reminder date computed before saving keeps one chosen by hand
        return super()._precompute_read_fnames() | {'reminder_date_manual'}

    @api.depends('date_deadline')
    def _compute_deadline_reminder_date(self):
        # a new deadline deserves its own announcement
        self.deadline_reminder_date = False

    @api.model_create_multi
    def create(self, vals_list):
        tickets = super().create(vals_list)
        tickets.filtered(lambda ticket: ticket.stage_id.sla_paused)._sla_update_pause()
        return tickets

    def write(self, vals):
        # a reminder date that changes, by hand or with the promised deadline, is a new reminder to give
        reminder_dates = (
            {ticket.id: ticket.reminder_date for ticket in self}
            if 'reminder_date' in vals or 'date_deadline' in vals
            else {}
        )
        res = super().write(vals)
        if reminder_dates:
            moved = self.filtered(
                lambda ticket: ticket.reminder_sent_date and ticket.reminder_date != reminder_dates[ticket.id]
            )
            # sudo: the reminder markers are the scheduled action's own (protected fields)
            moved.sudo().reminder_sent_date = False
        if 'stage_id' in vals:
            self._sla_update_pause()
            if reopened := self.filtered(lambda ticket: ticket.closed_by_party and not ticket.stage_id.is_closed):
                # sudo: the closing marker is kept by the closing code (a protected field)
                reopened.sudo().closed_by_party = False
        return res

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
            and self._is_staff(message.author_id)
        ):
            # whoever may post on the ticket records when it was answered, even without write access
            self.sudo().first_response_date = message.date or fields.Datetime.now()
        return result

    @api.model
    def _cron_update_sla(self, batch_size=200):
        """Refresh the service level status of the tickets whose status may have changed since the
        last run (``sla_next_check`` is due), and escalate each newly breached deadline once.

        Resumable: refreshing a ticket moves its ``sla_next_check`` to the future and escalating
        raises its ``escalation_level`` in the same transaction, so a rerun neither repeats nor skips.
        The commit of each batch (``ir.cron._commit_progress``) empties the environment's cache:
        memory does not grow with the number of tickets.
        """
        now = fields.Datetime.now()
        domain = Domain('sla_next_check', '<=', now) & Domain('sla_policy_id', '!=', False)
        status_fields = [self._fields['sla_status'], self._fields['sla_next_check']]
        while tickets := self.search(domain, limit=batch_size, order='sla_next_check, id').try_lock_for_update():
            for field in status_fields:
                self.env.add_to_compute(field, tickets)
            tickets._recompute_recordset(['sla_status', 'sla_next_check'])
            tickets._sla_escalate()
            tickets._sla_warn_at_risk()
            if not self.env['ir.cron']._commit_progress(len(tickets), remaining=self.search_count(domain)):
                break

    @api.model
    def _cron_send_reminders(self, batch_size=200):
        """Give whoever handles each open ticket (see ``_reminder_users``) a to-do and an email:
        once when its promised deadline is near (setting ``cabinet_helpdesk.deadline_reminder_days``,
        2 working days of the ticket's calendar by default), and once when its reminder date has
        come. Both on the same day make one reminder.

        Resumable: each reminder is marked as given in the same transaction
        (``deadline_reminder_date``, ``reminder_sent_date``); changing the date gives a new one.
        The commit of each batch empties the environment's cache: memory does not grow with the
        number of tickets.
        """
        today = fields.Date.context_today(self)
        days = self.env['ir.config_parameter']._cabinet_get_setting('cabinet_helpdesk.deadline_reminder_days')
        steps = []
        if days >= 0:
            # the deadline first: a reminder date due the same day goes with it
            steps.append(
                (self._deadline_reminder_domain(today, days), lambda tickets: tickets._send_deadline_reminder())
            )
        steps.append(
            (
                Domain('is_closed', '=', False)
                & Domain('reminder_date', '<=', today)
                & Domain('reminder_sent_date', '=', False),
                lambda tickets: tickets._send_date_reminder(),
            )
        )
        for domain, send in steps:
            while tickets := self.search(domain, limit=batch_size, order='id').try_lock_for_update():
                send(tickets)
                if not self.env['ir.cron']._commit_progress(len(tickets), remaining=self.search_count(domain)):
                    return

    @api.model
    def _cron_stale_digest(self, batch_size=20):
        """Scheduled action of the stale-ticket digest: see ``cabinet.team._cron_stale_digest``."""
        return self.env['cabinet.team']._cron_stale_digest(batch_size=batch_size)

    def _sla_match_policy(self, policies):
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

    def _sla_calendar(self):
        """The working calendar of this ticket's service levels: its team's, else its policy's
        team's, else its company's (an empty recordset: around the clock)."""
        self.ensure_one()
        return (
            self.team_id.resource_calendar_id
            or self.sla_policy_id.team_id.resource_calendar_id
            or self.company_id.resource_calendar_id
        )

    def _sla_working_hours(self, start, stop):
        """Working hours of the ticket's service level calendar between ``start`` and ``stop``
        (public holidays excluded; around the clock without a calendar with working time), to the
        second."""
        self.ensure_one()
        if stop <= start:
            return 0.0
        calendar = self._sla_calendar()
        if calendar and calendar.attendance_ids:
            hours = calendar.get_work_hours_count(start, stop, compute_leaves=True)
        else:
            hours = (stop - start).total_seconds() / 3600
        return round(hours * 3600) / 3600

    def _sla_update_pause(self):
        """Follow the pause of the service levels after a change of stage: entering a stage that
        pauses them records when; leaving it adds the working hours spent there (to the first
        answer's share too, for the time before the first answer), which moves the deadlines."""
        now = fields.Datetime.now()
        for ticket in self:
            paused = ticket.stage_id.sla_paused and not ticket.stage_id.is_closed
            since = ticket.sla_paused_since
            # sudo: the pause fields are kept by this code only (protected fields)
            if paused and not since:
                ticket.sudo().sla_paused_since = now
            elif since and not paused:
                vals = {
                    'sla_paused_since': False,
                    'sla_paused_hours': ticket.sla_paused_hours + ticket._sla_working_hours(since, now),
                }
                answered = ticket.first_response_date
                if not answered or answered > since:
                    vals['sla_response_paused_hours'] = ticket.sla_response_paused_hours + ticket._sla_working_hours(
                        since, min(now, answered or now)
                    )
                ticket.sudo().write(vals)

    @api.model
    def _sla_plan_many(self, calendar, start, hours_list, cache):
        """The moment each number of hours of ``hours_list`` working hours of ``calendar`` after
        ``start`` (public holidays of the calendar excluded), ``False`` for no target; the
        working time of ``calendar`` is read once for all of them.

        Without a calendar, or with one without any working time, the hours run around the clock.

        :param dict cache: moments already planned, by ``(calendar id, start, hours)``
        :rtype: list
        """
        missing = [hours for hours in dict.fromkeys(hours_list) if hours and (calendar.id, start, hours) not in cache]
        if missing:
            planned = self._sla_plan_calendar(calendar, start, missing) if calendar else {}
            for hours in missing:
                cache[calendar.id, start, hours] = self._ceil_seconds(
                    planned.get(hours) or start + timedelta(hours=hours)
                )
        return [cache[calendar.id, start, hours] if hours else False for hours in hours_list]

    @api.model
    def _sla_plan_calendar(self, calendar, start, hours_list):
        """The moments ``hours`` working hours of ``calendar`` after ``start``, for each ``hours``
        of ``hours_list``, as ``resource.calendar.plan_hours`` (public holidays excluded) gives
        them one by one, but walking the calendar's working intervals once for all of them. A
        number of hours not reached within the same horizon as ``plan_hours`` is left out.

        :rtype: dict
        """
        revert = to_timezone(start.tzinfo)
        day = localized(start)
        # what is left of each number of hours, decreased interval by interval as plan_hours does
        remaining = {hours: hours for hours in hours_list}
        planned = {}
        window = timedelta(days=14)
        no_resource = self.env['resource.resource']
        for index in range(100):
            begin = day + window * index
            intervals = calendar._work_intervals_batch(begin, begin + window, resources=no_resource)[False]
            for interval_start, interval_stop, _meta in intervals:
                interval_hours = (interval_stop - interval_start).total_seconds() / 3600
                for hours, left in list(remaining.items()):
                    if left <= interval_hours:
                        planned[hours] = revert(interval_start + timedelta(hours=left))
                        del remaining[hours]
                    else:
                        remaining[hours] = left - interval_hours
                if not remaining:
                    return planned
        return planned

    @api.model
    def _ceil_seconds(self, moment):
        # stored datetimes keep whole seconds: round up so that a moment is never seen as passed too early
        if moment.microsecond:
            return moment.replace(microsecond=0) + timedelta(seconds=1)
        return moment

    def _sla_evaluate(self, now):
        """Return ``(status, next_check, breaches)`` of this ticket at ``now``.

        A deadline is met when its work was done in time (first answer: first staff message or
        closing; resolution: closing), breached when done late or not done by the deadline, and at
        risk when it is pending with less than the policy's ``at_risk_percent`` of its window left.
        A ticket closed in a stage not counted (``sla_excluded``: cancelled, withdrawn, refused)
        or closed by the party before any answer of the firm is ``excluded``.
        ``next_check`` is the next moment the status can change (or now, when a breach awaits
        its escalation), ``False`` when nothing more can happen. While the ticket is paused
        (``sla_paused_since``), it is evaluated at the start of the pause and nothing changes.
        """
        self.ensure_one()
        if not self.sla_policy_id:
            return False, False, 0
        is_closed = self.stage_id.is_closed  # not the stored related field: this runs before saving too
        if is_closed and (self.stage_id.sla_excluded or (self.closed_by_party and not self.first_response_date)):
            # cancelled, withdrawn, refused, or closed by the party before any answer: neither met
            # nor breached, left out of the figures
            return 'excluded', False, 0
        real_now = now
        paused = not is_closed and self.sla_paused_since
        if paused:
            # the clock of the service levels stands still while paused: the status stays as it was
            now = min(now, self.sla_paused_since)
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
        share = self.sla_policy_id.at_risk_percent / 100
        for deadline in pending:
            risk_from = self._ceil_seconds(deadline - (deadline - start) * share)
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
            next_check = real_now
        elif paused:
            next_check = False
        else:
            next_check = min(thresholds, default=False)
        return status, next_check, breaches

    def _sla_escalate(self):
        """Escalate each breached service level deadline of open tickets once: a to-do (with its
        email) for the policy's escalation contact, else the team leader, else the assignee (the
        first of them who may read the ticket), the priority raised one step per newly escalated
        deadline (up to critical, the service level kept as it was), an internal note on the
        ticket, and ``escalation_level`` raised to the number of breached deadlines."""
        now = fields.Datetime.now()
        today = fields.Date.context_today(self)
        priority_labels = dict(PRIORITIES)
        top_priority = PRIORITIES[-1][0]
        todos = {}
        notes = {}
        updates = defaultdict(lambda: self.browse())
        for ticket in self:
            _status, _next, breaches = ticket._sla_evaluate(now)
            if ticket.is_closed or breaches <= ticket.escalation_level:
                continue
            priority = str(min(int(ticket.priority) + breaches - ticket.escalation_level, int(top_priority)))
            updates[breaches, priority, ticket.sla_policy_id.id] |= ticket
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
            message = self.env._(
                "Service level %(policy)s breached: %(missed)s.",
                policy=ticket.sla_policy_id.name,
                missed=", ".join(missed),
            )
            todos[ticket] = (recipient, self.env._("Escalation: service level breached"), today, message)
            notes[ticket.id] = Markup("<p>%s</p>") % self.env._(
                "Escalation: %(message)s Priority: %(priority)s.",
                message=message,
                priority=priority_labels[priority],
            )
        for (breaches, priority, policy_id), tickets in updates.items():
            # sudo: the escalation level is the scheduled action's own (a protected field); the
            # service level is written as it is, so that the higher priority does not rematch
            # it; the note says the new priority (no tracking message besides)
            tickets.sudo().with_context(mail_notrack=True).write(
                {'escalation_level': breaches, 'priority': priority, 'sla_policy_id': policy_id}
            )
        self._create_todos(todos, notify=True)
        if notes:
            self.browse(notes)._message_log_batch(notes)

    def _sla_warn_at_risk(self):
        """Warn whoever handles each open ticket of ``self`` whose service level is at risk, once:
        a to-do (with its email) for the user reminded of the ticket (see ``_reminder_users``)."""
        tickets = self.filtered(
            lambda ticket: ticket.sla_status == 'at_risk' and not ticket.sla_at_risk_warned and not ticket.is_closed
        )
        if not tickets:
            return
        today = fields.Date.context_today(self)
        users = tickets._reminder_users()
        todos = {}
        for ticket in tickets:
            deadlines = [
                deadline
                for deadline, done in (
                    (ticket.sla_response_deadline, ticket.first_response_date),
                    (ticket.sla_resolve_deadline, False),
                )
                if deadline and not done
            ]
            todos[ticket] = (
                users[ticket],
                self.env._("Service level at risk: %(ticket)s", ticket=ticket.display_name),
                today,
                self.env._(
                    "Service level %(policy)s at risk: due %(deadline)s.",
                    policy=ticket.sla_policy_id.name,
                    deadline=format_datetime(self.env, min(deadlines)) if deadlines else "",
                ),
            )
        self._create_todos(todos, notify=True)
        # sudo: the warning marker is the scheduled action's own (a protected field)
        tickets.sudo().sla_at_risk_warned = True

    def _send_date_reminder(self):
        """Give the reminder of the reminder date and mark it as given; a ticket whose deadline was
        announced today already had its reminder of the day."""
        today = fields.Date.context_today(self)
        self.filtered(lambda ticket: ticket.deadline_reminder_date != today)._remind(
            lambda ticket: (
                ticket.env._("Reminder: %(ticket)s", ticket=ticket.display_name),
                today,
                ticket.env._("You asked to be reminded of this ticket today."),
            )
        )
        # sudo: the reminder markers are the scheduled action's own (protected fields)
        self.sudo().reminder_sent_date = today

    def _send_deadline_reminder(self):
        """Announce the approaching (or passed) promised deadline once and mark it as announced; a
        reminder date due by today is given with it (one reminder a day)."""
        today = fields.Date.context_today(self)
        self._remind(
            lambda ticket: (
                ticket.env._(
                    "Promised deadline on %(date)s: %(ticket)s",
                    date=format_date(ticket.env, ticket.date_deadline),
                    ticket=ticket.display_name,
                ),
                max(ticket.date_deadline, today),
                ticket.env._(
                    "The deadline promised to the party is near: answer the party or agree on another deadline."
                ),
            )
        )
        date_due = self.filtered(
            lambda ticket: ticket.reminder_date and ticket.reminder_date <= today and not ticket.reminder_sent_date
        )
        # sudo: the reminder markers are the scheduled action's own (protected fields)
        self.sudo().deadline_reminder_date = today
        date_due.sudo().reminder_sent_date = today

    def _remind(self, texts):
        """Give each ticket of ``self`` a reminder: a to-do for the user reminded of it (see
        ``_reminder_users``) and an email to that user alone, in their language.

        :param texts: function of a ticket (in the user's language) returning ``(summary,
            date_deadline, note)``
        """
        users = self._reminder_users()
        todos = {}
        for ticket in self:
            user = users[ticket]
            summary, date_deadline, note = texts(ticket.with_context(lang=user.lang or self.env.lang))
            todos[ticket] = (user, summary, date_deadline, note)
        given = self._create_todos(todos)
        self._send_reminder_emails({ticket: todos[ticket] for ticket in given})

    @api.model
    def _send_reminder_emails(self, reminders):
        """Email each reminder to its user only: one ``mail.mail`` per reminder, addressed to the
        user's partner and attached to no thread (nothing in the ticket's chatter, no follower
        notified, no reply into the ticket), in the user's language. The body is the view
        template ``mail_ticket_reminder``, compiled once for the batch.

        :param reminders: dict ``{ticket: (user, summary, date_deadline, note)}``
        """
        reminders = {
            ticket: reminder for ticket, reminder in reminders.items() if reminder[0] and reminder[0].partner_id.email
        }
        if not reminders:
            return
        base_url = next(iter(reminders)).get_base_url()
        QWeb = self.env['ir.qweb']
        vals_list = []
        for ticket, (user, summary, _date, note) in reminders.items():
            env = ticket.with_context(lang=user.lang or self.env.lang).env
            body = QWeb.with_env(env)._render(
                'cabinet_helpdesk.mail_ticket_reminder',
                {
                    'ticket': ticket,
                    'user_name': user.name,
                    'note': note,
                    'url': f'{base_url}/odoo/cabinet.ticket/{ticket.id}',
                    'promised_deadline': ticket.date_deadline and format_date(env, ticket.date_deadline),
                    'reminder_date': ticket.reminder_date and format_date(env, ticket.reminder_date),
                },
                minimal_qcontext=True,
                raise_if_not_found=False,
            )
            vals = {
                'subject': summary,
                'body_html': body,
                'recipient_ids': [Command.link(user.partner_id.id)],
                'auto_delete': True,
            }
            if email_from := ticket.company_id.email_formatted:
                vals['email_from'] = email_from
            vals_list.append(vals)
        # sudo: the scheduled action writes to staff, whatever its user may do with emails
        self.env['mail.mail'].sudo().create(vals_list)

    @api.model
    def _deadline_reminder_domain(self, today, days):
        """Domain of the open tickets whose promised deadline is due for its reminder: at most
        ``days`` working days after ``today`` in the ticket's calendar (see ``_reminder_calendar``).

        Set-wise: the tickets waiting for the reminder are grouped by team and company, the date
        ``days`` working days ahead is computed once per calendar, and the domain is the union of
        one condition per calendar.
        """
        waiting = (
            Domain('is_closed', '=', False)
            & Domain('date_deadline', '!=', False)
            & Domain('deadline_reminder_date', '=', False)
        )
        groups_by_calendar = defaultdict(list)
        for team, company in self._read_group(waiting, ['team_id', 'company_id']):
            groups_by_calendar[team.resource_calendar_id or company.resource_calendar_id].append(
                Domain('team_id', '=', team.id) & Domain('company_id', '=', company.id)
            )
        parts = [
            Domain.OR(groups) & Domain('date_deadline', '<=', self._shift_working_days(calendar, [today], days)[today])
            for calendar, groups in groups_by_calendar.items()
        ]
        return waiting & Domain.OR(parts)

    def _default_reminder_dates(self):
        """The reminder date each ticket of ``self`` gets from its promised deadline: the deadline
        reminder's number of working days before it (``False`` without a deadline).

        :return: dict ``{ticket: date or False}``
        """
        result = dict.fromkeys(self, False)
        with_deadline = self.filtered('date_deadline')
        if not with_deadline:
            return result
        days = self.env['ir.config_parameter']._cabinet_get_setting('cabinet_helpdesk.deadline_reminder_days')
        if days < 0:
            return result
        by_calendar = defaultdict(list)
        for ticket in with_deadline:
            by_calendar[ticket._reminder_calendar()].append(ticket)
        for calendar, tickets in by_calendar.items():
            shifted = self._shift_working_days(calendar, {ticket.date_deadline for ticket in tickets}, -days)
            for ticket in tickets:
                result[ticket] = shifted[ticket.date_deadline]
        return result

    def _reminder_calendar(self):
        """The working calendar of this ticket's reminders: its team's, else its company's."""
        self.ensure_one()
        return self.team_id.resource_calendar_id or self.company_id.resource_calendar_id

    @api.model
    def _working_dates(self, calendar, first, last):
        """The dates from ``first`` to ``last`` (included) with working time in ``calendar``, in
        its time zone, sorted; public holidays (leaves without a resource) are not working days.
        Without a calendar, or with one without working time, every day is a working day."""
        if not calendar or not calendar.attendance_ids:
            return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]
        tz = timezone(calendar.tz or 'UTC')
        start = tz.localize(datetime.combine(first, time.min))
        stop = tz.localize(datetime.combine(last + timedelta(days=1), time.min))
        intervals = calendar._work_intervals_batch(start, stop, compute_leaves=True)[False]
        return sorted({interval_start.date() for interval_start, _stop, _meta in intervals})

    @api.model
    def _shift_working_days(self, calendar, dates, days):
        """The date ``days`` working days of ``calendar`` after each of ``dates`` (before it when
        ``days`` is negative; the date itself not counted; ``days`` = 0 keeps it). The working
        days are computed once for all the dates; a calendar without any working day for two
        years counts calendar days.

        :return: dict ``{date: date}``
        """
        dates = set(dates)
        if not days:
            return {day: day for day in dates}
        count = abs(days)
        result = {}
        span = 7 + 2 * count  # calendar days looked at beyond the dates, widened when too short
        while len(result) < len(dates):
            if span > 2 * 366:
                for day in dates - result.keys():
                    result[day] = day + timedelta(days=days)
                break
            if days > 0:
                working = self._working_dates(calendar, min(dates), max(dates) + timedelta(days=span))
            else:
                working = self._working_dates(calendar, min(dates) - timedelta(days=span), max(dates))
            for day in dates - result.keys():
                if days > 0:
                    index = bisect_right(working, day) + count - 1
                    if index < len(working):
                        result[day] = working[index]
                else:
                    index = bisect_left(working, day) - count
                    if index >= 0:
                        result[day] = working[index]
            span *= 4
        return result

    def _portal_show_deadline(self):
        """Whether the client portal shows the promised deadline of the ticket (setting
        ``cabinet_helpdesk.portal_show_deadline``, off by default). The service level's due dates
        are internal targets, never shown to the party."""
        return self.env['ir.config_parameter']._cabinet_get_setting('cabinet_helpdesk.portal_show_deadline')

    def _reminder_user(self):
        """Who is reminded of this ticket (see ``_reminder_users``)."""
        self.ensure_one()
        return self._reminder_users()[self]

    def _reminder_users(self):
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
    def _create_todos(self, todos, notify=False):
        """Create the to-dos of several tickets in one go; a ticket without anyone to warn gets a
        note instead. A failing ticket is logged and does not stop the others.

        :param todos: dict ``{ticket: (user, summary, date_deadline, note)}``
        :param notify: also email each user about their new to-do (otherwise it shows in their
            activities only)
        :return: dict ``{ticket: user}`` of the to-dos created
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
            created = vals_list
        except (UserError, ValidationError):
            created = []
            for vals in vals_list:
                try:
                    with self.env.cr.savepoint():
                        Activity.create(vals)
                    created.append(vals)
                except (UserError, ValidationError):
                    _logger.exception("To-do on ticket %s could not be created", vals['res_id'])
        users = self.env['res.users']
        return {self.browse(vals['res_id']): users.browse(vals['user_id']) for vals in created}

    def _stale_reviewed_by(self, team):
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
