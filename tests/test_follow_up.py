# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from datetime import date, datetime

from odoo.tests import tagged

from odoo.addons.mail.tests.common import MailCommon

from .common import CabinetFactories


class CabinetFollowUpCommon(CabinetFactories, MailCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_cabinet_data()
        cls.env['cabinet.sla.policy'].search([]).active = False
        cls.stage_waiting = cls.env.ref('cabinet_helpdesk.cabinet_stage_waiting')


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestOverdueList(CabinetFollowUpCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.now = datetime(2026, 3, 10, 6, 0)
        with cls._at(cls, datetime(2026, 3, 1, 9, 0)):
            cls.late = cls._create_ticket(cls.contact_a, name="Permit late", date_deadline=date(2026, 3, 5))
            cls.breached = cls._create_ticket(cls.contact_a, name="Resolution breached")
            cls.breached.sla_resolve_deadline = datetime(2026, 3, 9, 17, 0)
            cls.future = cls._create_ticket(cls.contact_a, name="Due later", date_deadline=date(2026, 3, 20))
            cls.closed = cls._create_ticket(
                cls.contact_a, name="Closed late", date_deadline=date(2026, 3, 2), stage_id=cls.stage_done.id
            )
            # a confidential request handed to team A: its leader may not read it
            cls.confidential = cls._create_ticket(
                cls.user_employee.partner_id,
                name="Leave certificate",
                category_id=cls.category_hr.id,
                date_deadline=date(2026, 3, 3),
            )
            cls.late_b = cls._create_ticket(
                cls.contact_b, team=cls.team_b, name="Team B late", date_deadline=date(2026, 3, 4)
            )

    def _lists(self, leader=None):
        mails = self._new_mails.filtered(lambda m: m.model == 'cabinet.team')
        return mails.filtered(lambda m: leader.partner_id in m.recipient_ids) if leader else mails

    def test_one_list_per_leader_with_readable_overdue_tickets(self):
        self.assertEqual(self.confidential.team_id, self.team_a)
        self.assertFalse(self.confidential._cabinet_filtered_readable(self.user_a))
        with self._at(self.now), self.mock_mail_gateway():
            self._run_cron('_cron_overdue_list', model='cabinet.team')
        list_a = self._lists(self.user_a)
        self.assertEqual(len(list_a), 1)
        self.assertEqual(list_a.recipient_ids, self.user_a.partner_id, "the leader alone receives it")
        body = list_a.body_html
        for ticket in (self.late, self.breached):
            self.assertIn(ticket.number, body)
        for ticket in (self.future, self.closed, self.confidential, self.late_b):
            self.assertNotIn(ticket.number, body, f"{ticket.name} does not belong in team A's list")
        self.assertNotIn("Leave certificate", body, "a ticket the leader may not read is not named")
        self.assertNotIn(self.user_a.name + "<", body.replace(' ', ''), "no staff member is ranked")
        list_b = self._lists(self.user_b)
        self.assertEqual(len(list_b), 1)
        self.assertIn(self.late_b.number, list_b.body_html)
        self.assertEqual(self.team_a.overdue_list_sent_date, self.now.date())

    def test_second_run_same_day_sends_nothing(self):
        with self._at(self.now), self.mock_mail_gateway():
            self._run_cron('_cron_overdue_list', model='cabinet.team')
        self.assertEqual(len(self._lists()), 2)
        with self._at(self.now.replace(hour=18)), self.mock_mail_gateway():
            batches = self._run_cron('_cron_overdue_list', model='cabinet.team')
        self.assertEqual(batches, [], "every team got its list today")
        self.assertFalse(self._lists())
        with self._at(datetime(2026, 3, 11, 6, 0)), self.mock_mail_gateway():
            self._run_cron('_cron_overdue_list', model='cabinet.team')
        self.assertEqual(len(self._lists()), 2, "the next day brings a new list")

    def test_nothing_overdue_sends_nothing(self):
        (self.late | self.breached | self.confidential | self.late_b).stage_id = self.stage_done
        with self._at(self.now), self.mock_mail_gateway():
            self._run_cron('_cron_overdue_list', model='cabinet.team')
        self.assertFalse(self._lists())
        self.assertEqual(self.team_a.overdue_list_sent_date, self.now.date(), "the team was looked at")

    def test_interrupted_run_resumes(self):
        with self._at(self.now), self.mock_mail_gateway():
            batches = self._run_cron('_cron_overdue_list', model='cabinet.team', stop_after_batches=1, batch_size=1)
            self.assertEqual(batches, [1])
            self.assertEqual(len(self._lists()), 1)
            self._run_cron('_cron_overdue_list', model='cabinet.team', batch_size=1)
            self.assertEqual(len(self._lists(self.user_a)), 1, "no leader gets the list twice")
            self.assertEqual(len(self._lists(self.user_b)), 1, "none is forgotten")


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestCloseInactive(CabinetFollowUpCommon):
    # Friday 6 March 2026; the team works Monday to Friday
    friday = datetime(2026, 3, 6, 10, 0)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.team_a.write({'inactive_reminder_days': 2, 'inactive_close_days': 3})

    def _waiting_ticket(self, **values):
        with self._at(self.friday):
            ticket = self._create_ticket(self.contact_a, **values)
            ticket.stage_id = self.stage_waiting
        return ticket

    def _reminders(self, tickets):
        return tickets.message_ids.filtered(
            lambda m: m.subtype_id == self.env.ref('mail.mt_comment') and "waiting for your answer" in m.body
        )

    def _sent_outside(self):
        """Addresses outside the firm among the emails sent (staff followers are told too)."""
        return [address for address in self._sent_to() if not address.endswith('@firm.example')]

    def _run_on(self, when, **kwargs):
        with self._at(when):
            return self._run_cron('_cron_close_inactive', **kwargs)

    def test_reminder_once_after_working_days_then_close(self):
        ticket = self._waiting_ticket()
        self.assertEqual(ticket.waiting_since, self.friday)
        self._run_on(datetime(2026, 3, 9, 10, 0))
        self.assertFalse(self._reminders(ticket), "Monday: one working day only, the weekend does not count")
        with self.mock_mail_gateway():
            self._run_on(datetime(2026, 3, 10, 10, 0))
        reminder = self._reminders(ticket)
        self.assertEqual(len(reminder), 1, "Tuesday: two working days without news")
        self.assertEqual(reminder.partner_ids, self.contact_a)
        self.assertEqual(self._sent_outside(), ['alice@party-a.example'], "outside the firm, the requester only")
        self.assertEqual(ticket.inactive_reminder_date, date(2026, 3, 10))
        self._run_on(datetime(2026, 3, 10, 18, 0))
        self._run_on(datetime(2026, 3, 12, 10, 0))
        self.assertEqual(len(self._reminders(ticket)), 1, "one reminder only")
        self.assertEqual(ticket.stage_id, self.stage_waiting, "Thursday: two working days after the reminder")
        self._run_on(datetime(2026, 3, 13, 10, 0))
        self.assertTrue(ticket.is_closed, "Friday: three working days after the reminder")
        self.assertFalse(ticket.inactive_reminder_date)
        note = ticket.message_ids.filtered(lambda m: m.subtype_id == self.env.ref('mail.mt_note'))[:1]
        self.assertIn("Closed without an answer from the party", note.body)
        self.assertEqual(len(self._reminders(ticket)), 1)

    def test_public_holiday_does_not_count(self):
        """A leave of the whole team calendar (a public holiday) is no working day."""
        self.env['resource.calendar.leaves'].create(
            {
                'name': "Public holiday",
                'calendar_id': self.team_a.resource_calendar_id.id,
                'date_from': datetime(2026, 3, 9, 0, 0),
                'date_to': datetime(2026, 3, 9, 23, 59),
            }
        )
        ticket = self._waiting_ticket()
        self._run_on(datetime(2026, 3, 10, 10, 0))
        self.assertFalse(self._reminders(ticket), "Tuesday: the first working day after the holiday")
        self._run_on(datetime(2026, 3, 11, 10, 0))
        self.assertEqual(len(self._reminders(ticket)), 1)

    def test_reply_of_the_party_resets_the_clock(self):
        ticket = self._waiting_ticket()
        self._run_on(datetime(2026, 3, 10, 10, 0))
        self.assertEqual(ticket.inactive_reminder_date, date(2026, 3, 10))
        with self._at(datetime(2026, 3, 11, 9, 0)):
            # a colleague of the firm writing to the party is not news from the party
            ticket.with_user(self.user_a).message_post(
                body="Any news?", message_type='comment', subtype_xmlid='mail.mt_comment'
            )
            self.assertEqual(ticket.inactive_reminder_date, date(2026, 3, 10))
            ticket.message_post(
                body="Here is the document",
                author_id=self.contact_a.id,
                message_type='email',
                subtype_xmlid='mail.mt_comment',
            )
        self.assertFalse(ticket.inactive_reminder_date, "the party answered")
        self.assertEqual(ticket.waiting_since, datetime(2026, 3, 11, 9, 0))
        self._run_on(datetime(2026, 3, 12, 10, 0))
        self.assertEqual(len(self._reminders(ticket)), 1, "one working day after the answer only")
        self._run_on(datetime(2026, 3, 16, 10, 0))
        self.assertFalse(ticket.is_closed, "the clock of the closing starts again")
        self.assertEqual(len(self._reminders(ticket)), 2, "a new reminder two working days after the answer")

    def test_stage_change_clears_the_marker(self):
        ticket = self._waiting_ticket()
        self._run_on(datetime(2026, 3, 10, 10, 0))
        with self._at(datetime(2026, 3, 10, 11, 0)):
            ticket.stage_id = self.stage_progress
        self.assertFalse(ticket.inactive_reminder_date)
        self.assertFalse(ticket.waiting_since)
        self._run_on(datetime(2026, 3, 20, 10, 0))
        self.assertFalse(ticket.is_closed, "no longer waiting for the party")

    def test_off_without_reminder_days(self):
        self.team_a.inactive_reminder_days = 0
        ticket = self._waiting_ticket()
        self.assertEqual(self._run_on(datetime(2026, 4, 30, 10, 0)), [])
        self.assertFalse(self._reminders(ticket))
        self.assertFalse(ticket.is_closed)

    def test_never_closed_without_close_days(self):
        self.team_a.inactive_close_days = 0
        ticket = self._waiting_ticket()
        self._run_on(datetime(2026, 3, 10, 10, 0))
        self._run_on(datetime(2026, 4, 30, 10, 0))
        self.assertEqual(len(self._reminders(ticket)), 1)
        self.assertFalse(ticket.is_closed)

    def test_interrupted_run_resumes_without_repeating(self):
        tickets = self._waiting_ticket() | self._waiting_ticket() | self._waiting_ticket()
        batches = self._run_on(datetime(2026, 3, 10, 10, 0), stop_after_batches=1, batch_size=2)
        self.assertEqual(batches, [2])
        self.assertEqual(len(tickets.filtered('inactive_reminder_date')), 2)
        self._run_on(datetime(2026, 3, 10, 10, 30), batch_size=2)
        for ticket in tickets:
            self.assertEqual(len(self._reminders(ticket)), 1, "each party reminded once, none forgotten")

    def test_reminder_reaches_nobody_outside_the_ticket(self):
        ticket = self._waiting_ticket()
        other = self._create_ticket(self.contact_b)
        with self.mock_mail_gateway():
            self._run_on(datetime(2026, 3, 10, 10, 0))
        sent = self._sent_to()
        self.assertEqual(self._sent_outside(), ['alice@party-a.example'])
        for address in ('bob@party-b.example', 'office@party-b.example', 'office@party-a.example'):
            self.assertNotIn(address, sent)
        self.assertFalse(self._reminders(other))
        self.assertEqual(self._reminders(ticket).partner_ids, self.contact_a)
