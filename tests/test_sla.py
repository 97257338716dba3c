# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from datetime import datetime, timedelta
from unittest.mock import patch

from odoo import fields
from odoo.fields import Command
from odoo.tests import HttpCase, tagged, users, warmup

from .common import CabinetCommon, CabinetFactories


class CabinetSlaCommon(CabinetCommon):
    """Team A works 08:00-12:00 and 13:00-17:00 Brussels time, Monday to Friday, and has
    three service levels: a general one, one for urgent tickets and one for client requests."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.calendar = cls.env['resource.calendar'].create(
            {
                'name': "Office hours",
                'tz': 'Europe/Brussels',
                'attendance_ids': [Command.clear()]
                + [
                    Command.create(
                        {
                            'name': f"Day {day} {period}",
                            'dayofweek': str(day),
                            'hour_from': start,
                            'hour_to': stop,
                            'day_period': period,
                        }
                    )
                    for day in range(5)
                    for start, stop, period in ((8, 12, 'morning'), (13, 17, 'afternoon'))
                ],
            }
        )
        cls.team_a.resource_calendar_id = cls.calendar
        cls.team_b.resource_calendar_id = cls.calendar
        cls.user_escalation = cls.user_manager
        Policy = cls.env['cabinet.sla.policy']
        cls.policy_general = Policy.create(
            {
                'name': "General",
                'team_id': cls.team_a.id,
                'priority': '0',
                'response_hours': 4,
                'resolve_hours': 16,
                'escalate_to_id': cls.user_escalation.id,
            }
        )
        cls.policy_urgent = Policy.create(
            {
                'name': "Urgent",
                'team_id': cls.team_a.id,
                'priority': '2',
                'response_hours': 1,
                'resolve_hours': 8,
            }
        )
        cls.policy_client = Policy.create(
            {
                'name': "Client requests",
                'team_id': cls.team_a.id,
                'priority': '0',
                'category_ids': [Command.link(cls.category_client.id)],
                'response_hours': 2,
                'resolve_hours': 24,
            }
        )
        cls.policy_b = Policy.create(
            {
                'name': "Team B",
                'team_id': cls.team_b.id,
                'priority': '0',
                'response_hours': 8,
                'resolve_hours': 40,
            }
        )
        # Monday 12 January 2026, 09:00 in Brussels (UTC+1)
        cls.monday_9 = datetime(2026, 1, 12, 8, 0)

    def _escalations(self, ticket):
        return ticket.activity_ids.filtered(lambda activity: activity.summary and 'Escalation' in activity.summary)


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestSlaPolicy(CabinetSlaCommon):
    def test_policy_matching(self):
        """The most specific policy of the ticket's own team applies."""
        with self._at(self.monday_9):
            normal = self._create_ticket(self.contact_a)
            critical = self._create_ticket(self.contact_a, priority='3')
            client = self._create_ticket(self.contact_a, category_id=self.category_client.id)
            client_urgent = self._create_ticket(self.contact_a, category_id=self.category_client.id, priority='2')
            other_type = self._create_ticket(self.contact_a, category_id=self.category_hr.id)
            team_b = self._create_ticket(self.contact_b, team=self.team_b, priority='3')
        self.assertEqual(normal.sla_policy_id, self.policy_general)
        self.assertEqual(critical.sla_policy_id, self.policy_urgent, "highest minimum priority not above the ticket's")
        self.assertEqual(client.sla_policy_id, self.policy_client, "a policy naming the request type is more specific")
        self.assertEqual(client_urgent.sla_policy_id, self.policy_client)
        self.assertEqual(other_type.sla_policy_id, self.policy_general, "a policy for another type does not apply")
        self.assertEqual(team_b.sla_policy_id, self.policy_b, "another team's policies never apply")
        self.assertEqual(normal.sla_status, 'ok')

    def test_policy_rematched_on_change(self):
        ticket = self._create_ticket(self.contact_a)
        self.assertEqual(ticket.sla_policy_id, self.policy_general)
        ticket.priority = '2'
        self.assertEqual(ticket.sla_policy_id, self.policy_urgent)
        ticket.category_id = self.category_client
        self.assertEqual(ticket.sla_policy_id, self.policy_client)
        ticket.write({'team_id': self.team_b.id, 'category_id': False})
        self.assertEqual(ticket.sla_policy_id, self.policy_b)

    def test_no_policy(self):
        """A team without service level: no deadline, no status, never picked by the cron."""
        self.policy_b.active = False
        ticket = self._create_ticket(self.contact_b, team=self.team_b)
        self.assertRecordValues(
            ticket,
            [
                {
                    'sla_policy_id': False,
                    'sla_response_deadline': False,
                    'sla_resolve_deadline': False,
                    'sla_status': False,
                    'sla_next_check': False,
                }
            ],
        )

    def test_category_policy_first(self):
        """The request type's own service level wins over the team's policies."""
        self.category_client.sla_policy_id = self.policy_urgent
        ticket = self._create_ticket(self.contact_a, category_id=self.category_client.id)
        self.assertEqual(ticket.sla_policy_id, self.policy_urgent)

    def test_deadlines_working_hours(self):
        """4 working hours from Monday 09:00 end at 14:00 (lunch break excluded), 16 on Wednesday 09:00."""
        with self._at(self.monday_9):
            ticket = self._create_ticket(self.contact_a)
        self.assertRecordValues(
            ticket,
            [
                {
                    'sla_response_deadline': datetime(2026, 1, 12, 13, 0),  # 14:00 Brussels
                    'sla_resolve_deadline': datetime(2026, 1, 14, 8, 0),  # Wednesday 09:00 Brussels
                }
            ],
        )

    def test_deadlines_friday_evening(self):
        """A ticket of Friday evening is due on Monday: nights and weekends do not count."""
        with self._at(datetime(2026, 1, 9, 17, 30)):  # Friday 18:30 Brussels
            ticket = self._create_ticket(self.contact_a)
        self.assertRecordValues(
            ticket,
            [
                {
                    'sla_response_deadline': datetime(2026, 1, 12, 11, 0),  # Monday 12:00 Brussels
                    'sla_resolve_deadline': datetime(2026, 1, 13, 16, 0),  # Tuesday 17:00 Brussels
                }
            ],
        )

    def test_deadlines_skip_public_holiday(self):
        self.env['resource.calendar.leaves'].create(
            {
                'name': "Public holiday",
                'calendar_id': self.calendar.id,
                'date_from': datetime(2026, 1, 11, 23, 0),
                'date_to': datetime(2026, 1, 12, 22, 59),
            }
        )
        with self._at(datetime(2026, 1, 9, 17, 30)):
            ticket = self._create_ticket(self.contact_a)
        self.assertEqual(ticket.sla_response_deadline, datetime(2026, 1, 13, 11, 0), "Monday is a holiday")

    def test_deadlines_as_the_calendar_plans_them(self):
        """Both deadlines of a ticket come from one walk through the team's working time: each is
        what the calendar plans for its hours alone, across nights, weekends, a public holiday and
        beyond the calendar's two-week planning window."""
        self.env['resource.calendar.leaves'].create(
            {
                'name': "Public holiday",
                'calendar_id': self.calendar.id,
                'date_from': datetime(2026, 1, 19, 23, 0),
                'date_to': datetime(2026, 1, 20, 22, 59),
            }
        )
        Ticket = self.env['cabinet.ticket']
        hours = [0.5, 4, 7.75, 8, 16, 40, 83.5, 120, 200]
        for start in (self.monday_9, datetime(2026, 1, 9, 17, 30), datetime(2026, 1, 16, 15, 59, 59)):
            planned = Ticket._sla_plan_many(self.calendar, start, [*hours, 0], {})
            self.assertFalse(planned[-1], "no hours, no deadline")
            for number, deadline in zip(hours, planned, strict=False):
                expected = Ticket._ceil_seconds(self.calendar.plan_hours(number, start, compute_leaves=True))
                self.assertEqual(deadline, expected, f"{number} h from {start}")
        # a calendar without working time: the hours run around the clock
        empty = self.env['resource.calendar'].create({'name': "Never", 'attendance_ids': [Command.clear()]})
        self.assertEqual(Ticket._sla_plan_many(empty, self.monday_9, [4], {}), [self.monday_9 + timedelta(hours=4)])

    def test_policies_of_a_team_follow_their_changes(self):
        """The service levels of a team are looked up once, not at each ticket; a policy added,
        archived or moved to another team applies to the next ticket."""
        self.assertEqual(self._create_ticket(self.contact_b, team=self.team_b).sla_policy_id, self.policy_b)
        with self.assertQueryCount(0):
            self.assertEqual(
                self.env['cabinet.sla.policy']._team_policy_ids((self.team_b.id,)), tuple(self.policy_b.ids)
            )
        urgent_b = self.env['cabinet.sla.policy'].create(
            {'name': "Urgent B", 'team_id': self.team_b.id, 'priority': '2', 'response_hours': 1, 'resolve_hours': 4}
        )
        ticket = self._create_ticket(self.contact_b, team=self.team_b, priority='2')
        self.assertEqual(ticket.sla_policy_id, urgent_b, "a new policy applies at once")
        urgent_b.active = False
        ticket = self._create_ticket(self.contact_b, team=self.team_b, priority='2')
        self.assertEqual(ticket.sla_policy_id, self.policy_b, "an archived policy no longer applies")
        self.policy_b.team_id = self.team_a
        self.assertFalse(self._create_ticket(self.contact_b, team=self.team_b).sla_policy_id)

    def test_first_response(self):
        """Only a staff member's public message to the party is the first response."""
        with self._at(self.monday_9):
            ticket = self._create_ticket(self.contact_a)
        with self._at(datetime(2026, 1, 12, 9, 0)):
            ticket.with_user(self.user_a).message_post(
                body="Internal remark", message_type='comment', subtype_xmlid='mail.mt_note'
            )
            ticket.with_user(self.portal_a).message_post(
                body="Any news?", message_type='comment', subtype_xmlid='mail.mt_comment'
            )
            ticket.message_post(
                body="From the party's mailbox",
                author_id=self.contact_a.id,
                message_type='email',
                subtype_xmlid='mail.mt_comment',
            )
        self.assertFalse(ticket.first_response_date, "notes and the party's own messages are no response")
        self.assertEqual(ticket.sla_status, 'ok')
        with self._at(datetime(2026, 1, 12, 10, 0)):
            ticket.with_user(self.user_a).message_post(
                body="Here is the answer", message_type='comment', subtype_xmlid='mail.mt_comment'
            )
        with self._at(datetime(2026, 1, 12, 11, 0)):
            ticket.with_user(self.user_a).message_post(
                body="And more", message_type='comment', subtype_xmlid='mail.mt_comment'
            )
        self.assertEqual(ticket.first_response_date, datetime(2026, 1, 12, 10, 0), "only the first answer counts")

    def test_first_response_by_email_of_staff(self):
        """A staff member answering from their mailbox (mail gateway, run as the system) counts."""
        ticket = self._create_ticket(self.contact_a)
        ticket.message_post(
            body="Answer by email",
            author_id=self.user_a.partner_id.id,
            message_type='email',
            subtype_xmlid='mail.mt_comment',
        )
        self.assertTrue(ticket.first_response_date)

    def test_status_transitions(self):
        """ok -> at risk (less than 20% of the window left) -> breached; answered and closed in time: met."""
        with self._at(self.monday_9):
            late = self._create_ticket(self.contact_a)
            in_time = self._create_ticket(self.contact_a, name="Answered in time")
        # first answer due 14:00 Brussels, window of 5 hours: at risk from 13:00
        self.assertEqual(late.sla_next_check, datetime(2026, 1, 12, 12, 0))
        with self._at(datetime(2026, 1, 12, 10, 0)):
            in_time.with_user(self.user_a).message_post(
                body="Answer", message_type='comment', subtype_xmlid='mail.mt_comment'
            )
            self._run_cron('_cron_update_sla')
        self.assertEqual(late.sla_status, 'ok')
        self.assertEqual(in_time.sla_status, 'ok', "the resolution is still pending")
        with self._at(datetime(2026, 1, 12, 12, 30)):
            self._run_cron('_cron_update_sla')
        self.assertEqual(late.sla_status, 'at_risk')
        with self._at(datetime(2026, 1, 12, 13, 0)):
            self._run_cron('_cron_update_sla')
            in_time.action_close()
        self.assertEqual(late.sla_status, 'breached')
        self.assertEqual(late.escalation_level, 1)
        self.assertRecordValues(in_time, [{'sla_status': 'met', 'sla_next_check': False, 'escalation_level': 0}])
        with self._at(datetime(2026, 1, 12, 14, 0)):
            late.with_user(self.user_a).message_post(
                body="Late answer", message_type='comment', subtype_xmlid='mail.mt_comment'
            )
            late.action_close()
        self.assertRecordValues(late, [{'sla_status': 'breached', 'sla_next_check': False}])

    def test_escalation_once_per_level(self):
        """Each breached deadline is escalated once, to the policy's contact, however often the cron runs."""
        with self._at(self.monday_9):
            ticket = self._create_ticket(self.contact_a)
        with self._at(datetime(2026, 1, 12, 14, 0)):
            self._run_cron('_cron_update_sla')
            self._run_cron('_cron_update_sla')
        escalations = self._escalations(ticket)
        self.assertEqual(len(escalations), 1)
        self.assertEqual(escalations.user_id, self.user_escalation)
        self.assertEqual(ticket.escalation_level, 1)
        with self._at(datetime(2026, 1, 14, 8, 0)):  # resolution due Wednesday 09:00 Brussels
            self._run_cron('_cron_update_sla')
            self._run_cron('_cron_update_sla')
        self.assertEqual(len(self._escalations(ticket)), 2)
        self.assertEqual(ticket.escalation_level, 2)
        self.assertFalse(ticket.sla_next_check, "nothing more can happen")
        with self._at(datetime(2026, 1, 20, 9, 0)):
            self._run_cron('_cron_update_sla')
        self.assertEqual(len(self._escalations(ticket)), 2)

    def test_escalation_to_team_leader(self):
        """Without an escalation contact, the team leader is warned."""
        with self._at(self.monday_9):
            ticket = self._create_ticket(self.contact_a, priority='2')
        self.assertEqual(ticket.sla_policy_id, self.policy_urgent)
        with self._at(datetime(2026, 1, 12, 10, 0)):
            self._run_cron('_cron_update_sla')
        self.assertEqual(self._escalations(ticket).user_id, self.team_a.leader_id)

    def test_escalation_skips_who_cannot_read(self):
        """An escalation contact who may not read the ticket is skipped for the team leader."""
        self.policy_general.escalate_to_id = self.user_b
        with self._at(self.monday_9):
            ticket = self._create_ticket(self.contact_a)
        with self._at(datetime(2026, 1, 12, 14, 0)):
            self._run_cron('_cron_update_sla')
        self.assertEqual(self._escalations(ticket).user_id, self.user_a)

    def test_cron_resumes_after_interruption(self):
        with self._at(self.monday_9):
            tickets = self.env['cabinet.ticket'].create(
                [{'name': f"Ticket {i}", 'partner_id': self.contact_a.id, 'team_id': self.team_a.id} for i in range(3)]
            )
        with self._at(datetime(2026, 1, 12, 14, 0)):
            batches = self._run_cron('_cron_update_sla', stop_after_batches=1, batch_size=2)
            self.assertEqual(batches, [2])
            self.assertEqual(tickets.mapped('escalation_level'), [1, 1, 0])
            self._run_cron('_cron_update_sla', batch_size=2)
        self.assertEqual(tickets.mapped('escalation_level'), [1, 1, 1])
        self.assertEqual(len(self._escalations(tickets)), 3, "no ticket escalated twice, none forgotten")

    def test_cron_ignores_tickets_not_due(self):
        with self._at(self.monday_9):
            ticket = self._create_ticket(self.contact_a)
        with self._at(datetime(2026, 1, 12, 9, 0)):
            batches = self._run_cron('_cron_update_sla')
        self.assertEqual(batches, [], "nothing to look at before the next check")
        self.assertEqual(ticket.sla_status, 'ok')


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestSlaPerformance(CabinetSlaCommon):
    @warmup
    def test_cron_batch_query_count(self):
        """One batch of the service level cron: status refresh of 20 tickets, 10 of them escalated."""
        with self._at(self.monday_9):
            self.env['cabinet.ticket'].create(
                [
                    {
                        'name': f"Ticket {i}",
                        'partner_id': self.contact_a.id,
                        'team_id': self.team_a.id,
                        'priority': '2' if i % 2 else '0',
                    }
                    for i in range(20)
                ]
            )
        # 11:00 Brussels: urgent ones breached (1 hour), general ones not yet at risk
        with self._at(datetime(2026, 1, 12, 10, 0)):
            self.env.invalidate_all()
            with self.assertQueryCount(__system__=162):  # measured value, change only on purpose
                self._run_cron('_cron_update_sla')

    @users('cab_user')
    @warmup
    def test_ticket_list_read_with_sla(self):
        with self._at(self.monday_9):
            self.env['cabinet.ticket'].sudo().create(
                [{'name': f"Ticket {i}", 'partner_id': self.contact_a.id, 'team_id': self.team_a.id} for i in range(10)]
            )
        tickets = self.env['cabinet.ticket'].search([('team_id', '=', self.team_a.id)])
        self.env.invalidate_all()
        with self.assertQueryCount(cab_user=1):  # measured value, change only on purpose
            tickets.read(['number', 'name', 'sla_status', 'sla_response_deadline', 'sla_policy_id'])

    def test_cron_batches_leave_the_cache_empty(self):
        """Each batch of the service level cron commits, and the commit empties the cache: the
        tickets of one batch are not kept in memory during the next ones."""
        with self._at(self.monday_9):
            self.env['cabinet.ticket'].create(
                [{'name': f"Ticket {i}", 'partner_id': self.contact_a.id, 'team_id': self.team_a.id} for i in range(5)]
            )
        cron = self.env.ref('cabinet_helpdesk.ir_cron_sla_escalation')
        cron.code = 'model._cron_update_sla(batch_size=2)'
        IrCron = self.registry['ir.cron']
        original = IrCron._commit_progress
        names = ('sla_status', 'sla_next_check', 'team_id', 'stage_id', 'priority')
        before, after = [], []

        def cached(env):
            data = env.transaction.field_data
            fields_ = env['cabinet.ticket']._fields
            return {record_id for name in names for record_id in data.get(fields_[name], {})}

        def commit_progress(cron_self, processed=0, *, remaining=None, deactivate=False):
            before.append(cached(cron_self.env))
            result = original(cron_self, processed, remaining=remaining, deactivate=deactivate)
            after.append(cached(cron_self.env))
            return result

        with self.enter_registry_test_mode(), patch.object(IrCron, '_commit_progress', commit_progress):
            cron.method_direct_trigger()
        self.assertEqual(len(before), 3, "5 tickets due in batches of 2")
        self.assertTrue(all(len(ids) <= 2 for ids in before), f"only the batch's tickets in memory: {before}")
        self.assertEqual(after, [set()] * 3, "the commit releases the batch")


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestPortalDeadline(CabinetFactories, HttpCase):
    """The party sees the deadline the firm promised only when the firm turns it on, and never
    the service level's due dates (internal targets)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_cabinet_data()
        cls.env['cabinet.sla.policy'].create(
            {'name': "Slow", 'team_id': cls.team_a.id, 'priority': '0', 'response_hours': 100, 'resolve_hours': 200}
        )
        cls.ticket = cls._create_ticket(
            cls.portal_a.partner_id,
            name="Building permit filing",
            date_deadline=fields.Date.add(fields.Date.today(), days=90),
        )

    def _page(self, url=None):
        self.authenticate('cab_portal', 'cab_portal')
        response = self.url_open(url or f'/my/tickets/{self.ticket.id}')
        self.assertEqual(response.status_code, 200)
        return response.text

    def _dues(self):
        ticket = self.ticket
        self.assertTrue(ticket.sla_response_deadline and ticket.sla_resolve_deadline)
        lang = self.env['res.lang']._get_data(code='en_US')
        return {
            due.strftime(lang.date_format)
            for due in (ticket.sla_response_deadline, ticket.sla_resolve_deadline)
            if due.date() != fields.Date.today()
        }

    def test_deadline_hidden_by_default(self):
        promised = self.ticket.date_deadline.strftime(self.env['res.lang']._get_data(code='en_US').date_format)
        text = self._page()
        self.assertIn("Building permit filing", text, "positive control: the party's own ticket")
        self.assertNotIn('o_cabinet_ticket_deadline', text)
        self.assertNotIn(promised, text, "the promised deadline is off unless the firm turns it on")
        for due in self._dues():
            self.assertNotIn(due, text, "a service level due date is never shown to the party")

    def test_deadline_shown_when_on(self):
        self.env['ir.config_parameter'].set_param('cabinet_helpdesk.portal_show_deadline', 'True')
        promised = self.ticket.date_deadline.strftime(self.env['res.lang']._get_data(code='en_US').date_format)
        for url in (f'/my/tickets/{self.ticket.id}', f'/my/tickets/{self.ticket.id}?filed=1'):
            text = self._page(url)
            self.assertIn('o_cabinet_ticket_deadline', text)
            self.assertIn(promised, text, "the promised deadline is shown")
            self.assertNotIn("first answer by", text)
            for due in self._dues():
                self.assertNotIn(due, text, "a service level due date is never shown to the party")
        self.assertIn('o_cabinet_ticket_filed', text, "the confirmation after filing names no due date either")

    def test_no_deadline_nothing_shown(self):
        self.env['ir.config_parameter'].set_param('cabinet_helpdesk.portal_show_deadline', 'True')
        self.ticket.date_deadline = False
        self.assertNotIn('o_cabinet_ticket_deadline', self._page())
