# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from datetime import date, datetime, timedelta
from unittest.mock import patch

from odoo.tests import freeze_time, new_test_user, tagged, warmup

from odoo.addons.mail.tests.common import MailCommon

from .common import CabinetFactories


class CabinetCronCommon(CabinetFactories, MailCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_cabinet_data()
        cls.env['cabinet.sla.policy'].search([]).active = False
        cls.user_a2 = new_test_user(
            cls.env,
            login='cab_user_a2',
            name="Aline Second",
            email='aline@firm.example',
            groups='cabinet_helpdesk.group_cabinet_user',
        )
        cls.team_a.member_ids |= cls.user_a2

    def _todos(self, tickets, user=None):
        activities = tickets.activity_ids.filtered(
            lambda a: a.activity_type_id == self.env.ref('mail.mail_activity_data_todo')
        )
        return activities.filtered(lambda a: a.user_id == user) if user else activities


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestReminders(CabinetCronCommon):
    @freeze_time('2026-03-10 09:00:00')
    def test_reminder_date(self):
        """The reminder of the day goes once to the assignee, or the team leader without one."""
        due = self._create_ticket(self.contact_a, user_id=self.user_a2.id, reminder_date=date(2026, 3, 10))
        late = self._create_ticket(self.contact_a, user_id=False, reminder_date=date(2026, 3, 1))
        future = self._create_ticket(self.contact_a, user_id=self.user_a2.id, reminder_date=date(2026, 3, 11))
        closed = self._create_ticket(
            self.contact_a, user_id=self.user_a2.id, reminder_date=date(2026, 3, 10), stage_id=self.stage_done.id
        )
        self._run_cron('_cron_send_reminders')
        self.assertEqual(len(self._todos(due, self.user_a2)), 1)
        self.assertEqual(len(self._todos(late, self.user_a)), 1, "no assignee: the team leader is reminded")
        self.assertFalse(self._todos(future | closed))
        self.assertEqual(due.reminder_sent_date, date(2026, 3, 10))
        self._run_cron('_cron_send_reminders')
        self.assertEqual(len(self._todos(due | late)), 2, "a reminder is given once")
        due.reminder_date = date(2026, 3, 9)
        self.assertFalse(due.reminder_sent_date, "a new reminder date is a new reminder")
        self._run_cron('_cron_send_reminders')
        self.assertEqual(len(self._todos(due, self.user_a2)), 2)

    @freeze_time('2026-03-10 09:00:00')
    def test_deadline_approaching(self):
        """Tickets due within the set number of days (2 by default) are announced once."""
        soon = self._create_ticket(self.contact_a, user_id=self.user_a2.id, date_deadline=date(2026, 3, 12))
        later = self._create_ticket(self.contact_a, user_id=self.user_a2.id, date_deadline=date(2026, 3, 16))
        overdue = self._create_ticket(self.contact_a, user_id=self.user_a2.id, date_deadline=date(2026, 3, 2))
        self._run_cron('_cron_send_reminders')
        self.assertEqual(len(self._todos(soon)), 1)
        self.assertEqual(self._todos(soon).date_deadline, date(2026, 3, 12))
        self.assertEqual(len(self._todos(overdue)), 1)
        self.assertFalse(self._todos(later))
        self.env['ir.config_parameter'].set_param('cabinet_helpdesk.deadline_reminder_days', '7')
        self._run_cron('_cron_send_reminders')
        self.assertEqual(len(self._todos(soon | later | overdue)), 3, "each deadline is announced once")
        soon.date_deadline = date(2026, 3, 13)
        self._run_cron('_cron_send_reminders')
        self.assertEqual(len(self._todos(soon)), 2, "a moved deadline is announced again")

    def test_scheduled_action(self):
        """The scheduled action itself runs the reminders, committing its progress as a cron does."""
        ticket = self._create_ticket(
            self.contact_a, user_id=self.user_a2.id, reminder_date=date.today() - timedelta(days=1)
        )
        with self.enter_registry_test_mode():
            self.env.ref('cabinet_helpdesk.ir_cron_deadline_reminders').method_direct_trigger()
        self.assertEqual(len(self._todos(ticket, self.user_a2)), 1)

    @freeze_time('2026-03-10 09:00:00')
    def test_bad_setting_falls_back(self):
        self.env['ir.config_parameter'].set_param('cabinet_helpdesk.deadline_reminder_days', 'two')
        soon = self._create_ticket(self.contact_a, user_id=self.user_a2.id, date_deadline=date(2026, 3, 12))
        self._run_cron('_cron_send_reminders')
        self.assertEqual(len(self._todos(soon)), 1)

    @warmup
    def test_reminders_batch_query_count(self):
        """One batch of 20 reminders: to-dos created together, not one by one."""
        with self._at(datetime(2026, 3, 10, 9, 0)):
            tickets = self.env['cabinet.ticket'].create(
                [
                    {
                        'name': f"Ticket {i}",
                        'partner_id': self.contact_a.id,
                        'team_id': self.team_a.id,
                        'user_id': (self.user_a2 if i % 2 else self.user_a).id,
                        'reminder_date': date(2026, 3, 10),
                    }
                    for i in range(20)
                ]
            )
            self.env.invalidate_all()
            # measured value, change only on purpose (the to-dos go only to users who may read the
            # tickets: their team and its members are read once for the batch; +5: the emails of the
            # batch, rendered together, and the deadline reminders' calendars grouped once)
            with self.assertQueryCount(__system__=27):
                self._run_cron('_cron_send_reminders')
        self.assertEqual(len(self._todos(tickets)), 20)

    @freeze_time('2026-03-10 09:00:00')
    def test_reminders_resume_after_interruption(self):
        tickets = self.env['cabinet.ticket'].create(
            [
                {
                    'name': f"Ticket {i}",
                    'partner_id': self.contact_a.id,
                    'team_id': self.team_a.id,
                    'user_id': self.user_a2.id,
                    'reminder_date': date(2026, 3, 10),
                }
                for i in range(3)
            ]
        )
        batches = self._run_cron('_cron_send_reminders', stop_after_batches=1, batch_size=2)
        self.assertEqual(batches, [2])
        self.assertEqual(len(self._todos(tickets)), 2)
        self._run_cron('_cron_send_reminders', batch_size=2)
        self.assertEqual(len(self._todos(tickets)), 3, "the rest is done, nothing twice")
        self.assertEqual(set(tickets.mapped('reminder_sent_date')), {date(2026, 3, 10)})


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestStaleDigest(CabinetCronCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        now = datetime(2026, 3, 30, 7, 0)
        cls.now = now
        Ticket = cls.env['cabinet.ticket']
        with freeze_time(now - timedelta(days=30)), patch.object(cls.env.cr, 'now', lambda: now - timedelta(days=30)):
            cls.stale = Ticket.create(
                {
                    'name': "Permit file waiting",
                    'partner_id': cls.contact_a.id,
                    'team_id': cls.team_a.id,
                    'user_id': cls.user_a2.id,
                    'stage_id': cls.stage_progress.id,
                }
            )
            cls.answered = Ticket.create(
                {'name': "Recently answered", 'partner_id': cls.contact_a.id, 'team_id': cls.team_a.id}
            )
            cls.closed = Ticket.create(
                {
                    'name': "Closed long ago",
                    'partner_id': cls.contact_a.id,
                    'team_id': cls.team_a.id,
                    'stage_id': cls.stage_done.id,
                }
            )
            cls.stale_b = Ticket.create(
                {'name': "Team B stale", 'partner_id': cls.contact_b.id, 'team_id': cls.team_b.id}
            )
        with freeze_time(now - timedelta(days=3)):
            cls.answered.with_user(cls.user_a).message_post(
                body="Answer", message_type='comment', subtype_xmlid='mail.mt_comment'
            )
        with freeze_time(now - timedelta(days=1)), patch.object(cls.env.cr, 'now', lambda: now - timedelta(days=1)):
            cls.fresh = Ticket.create({'name': "Brand new", 'partner_id': cls.contact_a.id, 'team_id': cls.team_a.id})

    def _digests(self, leader=None):
        mails = self._new_mails.filtered(lambda m: m.model == 'cabinet.team')
        return mails.filtered(lambda m: leader.partner_id in m.recipient_ids) if leader else mails

    def test_digest_content(self):
        """One email per team leader, listing only the team's open tickets without news, no names of staff."""
        with self._at(self.now), self.mock_mail_gateway():
            self._run_cron('_cron_stale_digest')
        digest_a = self._digests(self.user_a)
        self.assertEqual(len(digest_a), 1)
        self.assertEqual(digest_a.recipient_ids, self.user_a.partner_id, "the leader alone receives it")
        self.assertFalse(digest_a.email_cc)
        body = digest_a.body_html
        self.assertIn(self.stale.number, body)
        self.assertIn("Permit file waiting", body)
        self.assertIn(self.stage_progress.name, body)
        self.assertIn(">30<", body.replace(' ', ''), "age in days")
        for ticket in (self.answered, self.closed, self.fresh, self.stale_b):
            self.assertNotIn(ticket.number, body, f"{ticket.name} does not belong in team A's digest")
        self.assertNotIn(self.user_a2.name, body, "team-level review: no staff member is named")
        digest_b = self._digests(self.user_b)
        self.assertEqual(len(digest_b), 1)
        self.assertIn(self.stale_b.number, digest_b.body_html)
        self.assertNotIn(self.stale.number, digest_b.body_html)
        self.assertEqual(self.team_a.last_stale_digest_date, self.now.date())

    def test_digest_threshold_setting(self):
        self.env['ir.config_parameter'].set_param('cabinet_helpdesk.stale_days', '2')
        with self._at(self.now), self.mock_mail_gateway():
            self._run_cron('_cron_stale_digest')
        body = self._digests(self.user_a).body_html
        self.assertIn(self.answered.number, body)
        self.assertNotIn(self.fresh.number, body)

    def test_digest_lists_the_longest_idle_first_and_counts_the_rest(self):
        self.env['ir.config_parameter'].set_param('cabinet_helpdesk.stale_days', '2')
        with (
            self._at(self.now),
            self.mock_mail_gateway(),
            patch('odoo.addons.cabinet_helpdesk.models.service_level.cabinet_team.STALE_DIGEST_MAX_LINES', 1),
        ):
            self._run_cron('_cron_stale_digest')
        body = self._digests(self.user_a).body_html
        self.assertIn(self.stale.number, body, "30 days without news comes first")
        self.assertNotIn(self.answered.number, body)
        self.assertIn("and 1 more", " ".join(body.split()))

    def test_digest_once_and_resumable(self):
        """An interrupted run goes on where it stopped, and nobody gets the digest twice."""
        with self._at(self.now), self.mock_mail_gateway():
            batches = self._run_cron('_cron_stale_digest', stop_after_batches=1, batch_size=1)
            self.assertEqual(batches, [1])
            self.assertEqual(len(self._digests()), 1)
            self._run_cron('_cron_stale_digest', batch_size=1)
            self._run_cron('_cron_stale_digest', batch_size=1)
            self.assertEqual(len(self._digests(self.user_a)), 1)
            self.assertEqual(len(self._digests(self.user_b)), 1)

    def test_no_digest_without_stale_tickets(self):
        self.stale_b.action_close()
        with self._at(self.now), self.mock_mail_gateway():
            self._run_cron('_cron_stale_digest')
        self.assertFalse(self._digests(self.user_b))
        self.assertEqual(self.team_b.last_stale_digest_date, self.now.date(), "the team is done for today")
