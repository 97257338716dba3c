# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from datetime import date, datetime
from unittest.mock import patch

from odoo import fields
from odoo.fields import Command
from odoo.tests import Form, freeze_time, new_test_user, tagged, warmup

from odoo.addons.mail.tests.common import MailCommon

from .common import CabinetFactories

# Thursday 2 April 2026; Easter Monday 6 April is a public holiday of the office calendar
THURSDAY = datetime(2026, 4, 2, 7, 0)
FRIDAY = datetime(2026, 4, 3, 7, 0)


class CabinetReminderCommon(CabinetFactories, MailCommon):
    """Team A works Monday to Friday (Brussels) and has Easter Monday off; team B works Monday
    to Saturday without that holiday. ``user_a2`` is a member of team A."""

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
        cls.calendar_a = cls._create_calendar("Office week", range(5))
        cls.calendar_b = cls._create_calendar("Site week", range(6))
        cls.env['resource.calendar.leaves'].create(
            {
                'name': "Easter Monday",
                'calendar_id': cls.calendar_a.id,
                'date_from': datetime(2026, 4, 5, 22, 0),
                'date_to': datetime(2026, 4, 6, 21, 59, 59),
            }
        )
        cls.team_a.resource_calendar_id = cls.calendar_a
        cls.team_b.resource_calendar_id = cls.calendar_b

    @classmethod
    def _create_calendar(cls, name, weekdays):
        return cls.env['resource.calendar'].create(
            {
                'name': name,
                'tz': 'Europe/Brussels',
                'attendance_ids': [Command.clear()]
                + [
                    Command.create(
                        {
                            'name': f"{name} {day}",
                            'dayofweek': str(day),
                            'hour_from': 8,
                            'hour_to': 17,
                            'day_period': 'full_day',
                        }
                    )
                    for day in weekdays
                ],
            }
        )

    def _todos(self, tickets, user=None):
        activities = tickets.activity_ids.filtered(
            lambda a: a.activity_type_id == self.env.ref('mail.mail_activity_data_todo')
        )
        return activities.filtered(lambda a: a.user_id == user) if user else activities

    def _reminder_mails(self):
        return self._new_mails.filtered(lambda mail: not mail.model and "A to-do waits for you" in mail.body_html)


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestReminderEmails(CabinetReminderCommon):
    def test_date_reminder_to_do_and_email_to_the_assignee_only(self):
        """The reminder of the day: one to-do and one email, to the assignee alone; nothing in the
        ticket's thread, nothing for the party or its followers; a second run gives nothing more."""
        with freeze_time(THURSDAY):
            ticket = self._create_ticket(
                self.contact_a, user_id=self.user_a2.id, reminder_date=date(2026, 4, 2), name="Permit file"
            )
            ticket.message_subscribe(partner_ids=self.party_a.ids)
            self.flush_tracking()
            messages = ticket.message_ids
            with self.mock_mail_gateway():
                self._run_cron('_cron_send_reminders')
            self.assertEqual(len(self._todos(ticket, self.user_a2)), 1)
            mail = self._reminder_mails()
            self.assertEqual(len(mail), 1, "one email for the one reminder")
            self.assertEqual(mail.recipient_ids, self.user_a2.partner_id, "the assignee alone receives it")
            self.assertFalse(mail.email_to or mail.email_cc, "no other address, no Cc")
            self.assertFalse(mail.model or mail.res_id, "the email belongs to no thread: no reply reaches the ticket")
            self.assertIn(ticket.number, mail.body_html)
            self.assertIn("You asked to be reminded of this ticket today.", mail.body_html)
            self.assertEqual(mail.subject, f"Reminder: {ticket.display_name}")
            self.assertEqual(ticket.message_ids, messages, "nothing is posted in the ticket's thread")
            outsiders = self.contact_a | self.party_a | self.portal_a.partner_id
            self.assertFalse(self._new_mails.filtered(lambda m: m.recipient_ids & outsiders), "the party gets nothing")
            self.assertFalse(
                self.env['mail.notification']
                .search([('res_partner_id', 'in', outsiders.ids)])
                .filtered(lambda n: n.mail_message_id.res_id == ticket.id),
                "no follower is notified",
            )
            with self.mock_mail_gateway():
                self._run_cron('_cron_send_reminders')
            self.assertFalse(self._new_mails, "a second run sends nothing")
            self.assertEqual(len(self._todos(ticket)), 1, "a second run gives no second to-do")

    def test_lived_in_ticket_reminder_reaches_only_the_handler(self):
        """A ticket with a history (party contacts, an agent under mandate, followers): the reminder
        email goes to its handler only."""
        ticket = self._create_lived_in_ticket(self.contact_a)
        ticket.reminder_date = fields.Date.today()
        self.flush_tracking()
        followers = ticket.message_partner_ids.filtered(lambda p: not p.user_ids or p.user_ids.share)
        self.assertTrue(followers, "the lived-in ticket has external followers")
        messages = ticket.message_ids
        with self.mock_mail_gateway():
            self._run_cron('_cron_send_reminders')
        mails = self._reminder_mails()
        self.assertEqual(len(mails), 1)
        self.assertEqual(mails.recipient_ids, self.user_b.partner_id, "the assignee, user B, alone")
        self.assertFalse(self._new_mails.recipient_ids & followers, "no email to the party, its contacts or agent")
        self.assertEqual(ticket.message_ids, messages, "nothing is posted in the ticket's thread")
        self.assertEqual(len(self._todos(ticket, self.user_b)), 1)

    def test_no_assignee_reminds_the_team_leader(self):
        with freeze_time(THURSDAY):
            ticket = self._create_ticket(self.contact_a, reminder_date=date(2026, 4, 1))
            with self.mock_mail_gateway():
                self._run_cron('_cron_send_reminders')
        self.assertEqual(self._reminder_mails().recipient_ids, self.user_a.partner_id)
        self.assertEqual(len(self._todos(ticket, self.user_a)), 1)

    def test_deadline_reminder_email_and_one_reminder_a_day(self):
        """The promised deadline two working days ahead: one to-do and one email; the default
        reminder date falls on the same day and is given with it."""
        with freeze_time(THURSDAY):
            ticket = self._create_ticket(self.contact_a, user_id=self.user_a2.id, date_deadline=date(2026, 4, 7))
            self.assertEqual(ticket.reminder_date, date(2026, 4, 2), "two working days before Tuesday")
            with self.mock_mail_gateway():
                self._run_cron('_cron_send_reminders')
            self.assertEqual(len(self._todos(ticket)), 1, "one reminder for the day, not two")
            self.assertIn("Promised deadline on", self._todos(ticket).summary)
            mail = self._reminder_mails()
            self.assertEqual(len(mail), 1)
            self.assertEqual(mail.recipient_ids, self.user_a2.partner_id)
            self.assertIn("The deadline promised to the party is near", mail.body_html)
            self.assertRecordValues(
                ticket, [{'deadline_reminder_date': date(2026, 4, 2), 'reminder_sent_date': date(2026, 4, 2)}]
            )
            with self.mock_mail_gateway():
                self._run_cron('_cron_send_reminders')
            self.assertFalse(self._new_mails)
            self.assertEqual(len(self._todos(ticket)), 1)

    def test_reminder_without_email_address_gives_the_to_do(self):
        self.user_a2.partner_id.email = False
        with freeze_time(THURSDAY):
            ticket = self._create_ticket(self.contact_a, user_id=self.user_a2.id, reminder_date=date(2026, 4, 2))
            with self.mock_mail_gateway():
                self._run_cron('_cron_send_reminders')
        self.assertFalse(self._reminder_mails())
        self.assertEqual(len(self._todos(ticket, self.user_a2)), 1)

    def test_confidential_ticket_reminds_only_who_may_read_it(self):
        """An HR request handed to team B: team B's leader may not read it, the leader of the
        request type's handling team gets the to-do and the email (``_reminder_users``)."""
        hr_leader = new_test_user(
            self.env,
            login='cab_hr_leader',
            name="Helen HR",
            email='helen@firm.example',
            groups='cabinet_helpdesk.group_cabinet_user',
        )
        self.category_hr.team_id.write({'member_ids': [Command.link(hr_leader.id)], 'leader_id': hr_leader.id})
        with freeze_time(THURSDAY):
            ticket = self._create_ticket(
                self.user_employee.partner_id,
                team=self.category_hr.team_id,
                category_id=self.category_hr.id,
                reminder_date=date(2026, 4, 2),
            )
            ticket.team_id = self.team_b
            self.assertFalse(ticket.with_user(self.user_b).has_access('read'))
            with self.mock_mail_gateway():
                self._run_cron('_cron_send_reminders')
        self.assertFalse(self._new_mails.filtered(lambda m: self.user_b.partner_id in m.recipient_ids))
        self.assertEqual(self._reminder_mails().recipient_ids, hr_leader.partner_id)
        self.assertEqual(self._todos(ticket).user_id, hr_leader)


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestWorkingDayReminders(CabinetReminderCommon):
    def test_deadline_reminder_across_weekend_and_holiday(self):
        """Two working days ahead of Thursday 2 April: Friday, then Tuesday (weekend and Easter
        Monday do not count) for team A; Friday, then Saturday for team B."""
        with freeze_time(THURSDAY):
            due_tuesday = self._create_ticket(self.contact_a, user_id=self.user_a2.id, date_deadline=date(2026, 4, 7))
            due_wednesday = self._create_ticket(self.contact_a, user_id=self.user_a2.id, date_deadline=date(2026, 4, 8))
            due_sunday = self._create_ticket(self.contact_a, user_id=self.user_a2.id, date_deadline=date(2026, 4, 5))
            b_saturday = self._create_ticket(self.contact_b, team=self.team_b, date_deadline=date(2026, 4, 4))
            b_tuesday = self._create_ticket(self.contact_b, team=self.team_b, date_deadline=date(2026, 4, 7))
            self._run_cron('_cron_send_reminders')
            self.assertEqual(len(self._todos(due_tuesday | due_sunday)), 2)
            self.assertFalse(self._todos(due_wednesday), "Wednesday is three working days ahead")
            self.assertEqual(len(self._todos(b_saturday)), 1, "team B works on Saturday")
            self.assertFalse(self._todos(b_tuesday), "for team B, Tuesday is three working days ahead")
        with freeze_time(FRIDAY):
            self._run_cron('_cron_send_reminders')
            self.assertEqual(len(self._todos(due_wednesday)), 1, "Tuesday then Wednesday: two working days")
            self.assertFalse(self._todos(b_tuesday), "for team B: Saturday, Monday, then Tuesday")

    def test_company_calendar_without_team_calendar(self):
        self.team_a.resource_calendar_id = False
        self.company.resource_calendar_id = self.calendar_b
        with freeze_time(THURSDAY):
            ticket = self._create_ticket(self.contact_a, user_id=self.user_a2.id, date_deadline=date(2026, 4, 4))
            self.assertEqual(ticket.reminder_date, date(2026, 4, 2), "Saturday is a working day of the company")
            self._run_cron('_cron_send_reminders')
        self.assertEqual(len(self._todos(ticket)), 1)

    def test_calendars_computed_once_not_per_ticket(self):
        """Set-wise: the working days are computed once per calendar, whatever the number of tickets."""
        with freeze_time(THURSDAY):
            tickets = self.env['cabinet.ticket'].create(
                [
                    {
                        'name': f"Filing {i}",
                        'partner_id': (self.contact_a if i % 2 else self.contact_b).id,
                        'team_id': (self.team_a if i % 2 else self.team_b).id,
                        'date_deadline': date(2026, 4, 3 + i % 6),
                    }
                    for i in range(30)
                ]
            )
            Ticket = self.registry['cabinet.ticket']
            original = Ticket._working_dates
            calendars = []

            def working_dates(model, calendar, first, last):
                calendars.append(calendar)
                return original(model, calendar, first, last)

            with patch.object(Ticket, '_working_dates', working_dates):
                self._run_cron('_cron_send_reminders')
        self.assertEqual(sorted(c.id for c in calendars), sorted((self.calendar_a | self.calendar_b).ids))
        self.assertTrue(self._todos(tickets))


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestDefaultReminderDate(CabinetReminderCommon):
    def test_default_follows_the_deadline(self):
        with freeze_time(THURSDAY):
            ticket = self._create_ticket(self.contact_a, date_deadline=date(2026, 4, 8))
            self.assertEqual(ticket.reminder_date, date(2026, 4, 3), "Tuesday, then Friday (Easter Monday off)")
            ticket.date_deadline = date(2026, 3, 16)
            self.assertEqual(ticket.reminder_date, date(2026, 3, 12), "Monday: Friday, then Thursday")
            ticket.date_deadline = False
            self.assertFalse(ticket.reminder_date, "no deadline, no default reminder")

    def test_hand_set_reminder_stays(self):
        with freeze_time(THURSDAY):
            ticket = self._create_ticket(self.contact_a, date_deadline=date(2026, 4, 8), reminder_date=date(2026, 4, 1))
            self.assertEqual(ticket.reminder_date, date(2026, 4, 1), "chosen at creation")
            ticket.date_deadline = date(2026, 4, 20)
            self.assertEqual(ticket.reminder_date, date(2026, 4, 1), "a hand-set reminder date never moves")
            other = self._create_ticket(self.contact_a, date_deadline=date(2026, 4, 8))
            other.reminder_date = date(2026, 4, 6)
            other.date_deadline = date(2026, 4, 20)
            self.assertEqual(other.reminder_date, date(2026, 4, 6))
            other.reminder_date = date(2026, 4, 16)  # the default of the 20th: the default again
            other.date_deadline = date(2026, 4, 22)
            self.assertEqual(other.reminder_date, date(2026, 4, 20))

    def test_form_moves_only_the_default(self):
        with freeze_time(THURSDAY):
            form = Form(self.env['cabinet.ticket'])
            form.name = "Tax filing"
            form.partner_id = self.contact_a
            form.team_id = self.team_a
            form.date_deadline = date(2026, 4, 8)
            self.assertEqual(form.reminder_date, date(2026, 4, 3))
            ticket = form.save()
            self.assertFalse(ticket.reminder_date_manual, "saving the form keeps the default a default")
            with Form(ticket) as form:
                form.date_deadline = date(2026, 4, 10)
            self.assertEqual(ticket.reminder_date, date(2026, 4, 8))
            with Form(ticket) as form:
                form.reminder_date = date(2026, 4, 9)
            with Form(ticket) as form:
                form.date_deadline = date(2026, 4, 30)
            self.assertEqual(ticket.reminder_date, date(2026, 4, 9), "the hand-set date stays")

    def test_reminder_date_changed_is_a_new_reminder(self):
        with freeze_time(THURSDAY):
            ticket = self._create_ticket(self.contact_a, user_id=self.user_a2.id, reminder_date=date(2026, 4, 2))
            self._run_cron('_cron_send_reminders')
            self.assertEqual(ticket.reminder_sent_date, date(2026, 4, 2))
            ticket.date_deadline = date(2026, 4, 30)
            self.assertEqual(ticket.reminder_sent_date, date(2026, 4, 2), "the hand-set date did not move")
            self._run_cron('_cron_send_reminders')
            self.assertEqual(len(self._todos(ticket, self.user_a2)), 1, "no second reminder for the same date")
            default = self._create_ticket(self.contact_a, user_id=self.user_a2.id, date_deadline=date(2026, 4, 3))
            self._run_cron('_cron_send_reminders')
            self.assertEqual(default.reminder_sent_date, date(2026, 4, 2))
            default.date_deadline = date(2026, 4, 10)
            self.assertFalse(default.reminder_sent_date, "the default reminder date moved: a new reminder")
            self.assertEqual(default.reminder_date, date(2026, 4, 8))


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestReminderCronMemory(CabinetReminderCommon):
    def _cached_ticket_ids(self, env):
        Ticket = env['cabinet.ticket']
        data = env.transaction.field_data
        return {
            record_id
            for name in ('date_deadline', 'reminder_date', 'user_id', 'team_id', 'is_closed')
            for record_id in data.get(Ticket._fields[name], {})
        }

    def test_each_batch_leaves_the_cache_empty(self):
        """Each batch of the scheduled action commits, and the commit empties the cache: the
        tickets of a batch are not kept in memory during the next ones."""
        tickets = self.env['cabinet.ticket'].create(
            [
                {
                    'name': f"Ticket {i}",
                    'partner_id': self.contact_a.id,
                    'team_id': self.team_a.id,
                    'user_id': self.user_a2.id,
                    'reminder_date': fields.Date.subtract(fields.Date.today(), days=1),
                }
                for i in range(7)
            ]
        )
        cron = self.env.ref('cabinet_helpdesk.ir_cron_deadline_reminders')
        cron.code = 'model._cron_send_reminders(batch_size=2)'
        IrCron = self.registry['ir.cron']
        original = IrCron._commit_progress
        before, after = [], []

        def commit_progress(cron_self, processed=0, *, remaining=None, deactivate=False):
            before.append(self._cached_ticket_ids(cron_self.env))
            result = original(cron_self, processed, remaining=remaining, deactivate=deactivate)
            after.append(self._cached_ticket_ids(cron_self.env))
            return result

        with self.enter_registry_test_mode(), patch.object(IrCron, '_commit_progress', commit_progress):
            cron.method_direct_trigger()
        self.env.invalidate_all()
        self.assertEqual(len(before), 4, "7 tickets in batches of 2")
        self.assertTrue(all(len(ids) <= 2 for ids in before), f"only the batch's tickets are in memory: {before}")
        self.assertEqual(after, [set()] * 4, "the commit releases the batch")
        self.assertEqual(len(self._todos(tickets)), 7)

    @warmup
    def test_deadline_reminders_batch_query_count(self):
        """One batch of 20 deadline reminders on two calendars: to-dos and emails made together."""
        with freeze_time(THURSDAY):
            self.env['cabinet.ticket'].create(
                [
                    {
                        'name': f"Ticket {i}",
                        'partner_id': (self.contact_a if i % 2 else self.contact_b).id,
                        'team_id': (self.team_a if i % 2 else self.team_b).id,
                        'user_id': (self.user_a2 if i % 2 else self.user_b).id,
                        'date_deadline': date(2026, 4, 3),
                    }
                    for i in range(20)
                ]
            )
            self.env.invalidate_all()
            with (
                self.mock_mail_gateway(),
                self.assertQueryCount(__system__=37),
            ):  # measured value, change only on purpose
                self._run_cron('_cron_send_reminders')
            self.assertEqual(len(self._reminder_mails()), 20)
