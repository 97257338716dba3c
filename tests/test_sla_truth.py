# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from datetime import datetime

from psycopg2 import IntegrityError

from odoo.exceptions import AccessError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .test_sla import CabinetSlaCommon


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestSlaPause(CabinetSlaCommon):
    """Team A works 08:00-12:00 and 13:00-17:00 Brussels time (UTC+1 in January), Monday to
    Friday; the general service level gives 4 working hours to answer and 16 to resolve."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.stage_waiting = cls.env.ref('cabinet_helpdesk.cabinet_stage_waiting')
        cls.stage_in_progress = cls.env.ref('cabinet_helpdesk.cabinet_stage_in_progress')

    def _answer(self, ticket):
        ticket.with_user(self.user_a).message_post(
            body="Here is the answer", message_type='comment', subtype_xmlid='mail.mt_comment'
        )

    def test_waiting_stage_pauses(self):
        self.assertTrue(self.stage_waiting.sla_paused, "the shipped waiting stage pauses the service levels")
        self.assertFalse(self.stage_in_progress.sla_paused)

    def test_pause_across_night_weekend_and_holiday(self):
        """Paused from Thursday 16:00 to Tuesday 10:00 (Monday a public holiday): 1 + 8 + 2 = 11
        working hours, by which the resolution deadline moves; the answer came before the pause."""
        self.env['resource.calendar.leaves'].create(
            {
                'name': "Public holiday",
                'calendar_id': self.calendar.id,
                'date_from': datetime(2026, 1, 18, 23, 0),
                'date_to': datetime(2026, 1, 19, 22, 59),
            }
        )
        with self._at(datetime(2026, 1, 15, 8, 0)):  # Thursday 09:00 Brussels
            ticket = self._create_ticket(self.contact_a)
        self.assertEqual(ticket.sla_response_deadline, datetime(2026, 1, 15, 13, 0))  # Thursday 14:00
        self.assertEqual(ticket.sla_resolve_deadline, datetime(2026, 1, 20, 8, 0))  # Tuesday 09:00
        with self._at(datetime(2026, 1, 15, 9, 0)):
            self._answer(ticket)
        with self._at(datetime(2026, 1, 15, 15, 0)):  # Thursday 16:00
            ticket.stage_id = self.stage_waiting
        self.assertEqual(ticket.sla_paused_since, datetime(2026, 1, 15, 15, 0))
        with self._at(datetime(2026, 1, 20, 9, 0)):  # Tuesday 10:00
            ticket.stage_id = self.stage_in_progress
        self.assertRecordValues(
            ticket,
            [
                {
                    'sla_paused_since': False,
                    'sla_paused_hours': 11.0,
                    'sla_response_paused_hours': 0.0,
                    'sla_response_deadline': datetime(2026, 1, 15, 13, 0),  # answered: unchanged
                    'sla_resolve_deadline': datetime(2026, 1, 21, 11, 0),  # Wednesday 12:00
                }
            ],
        )
        self.assertNotEqual(ticket.sla_status, 'breached', "the old resolution deadline has passed, the new not")

    def test_pause_before_first_answer_moves_both_deadlines(self):
        """Paused from Monday 10:00 to Tuesday 10:00 (a night: 8 working hours) before any answer."""
        with self._at(self.monday_9):
            ticket = self._create_ticket(self.contact_a)
        with self._at(datetime(2026, 1, 12, 9, 0)):
            ticket.stage_id = self.stage_waiting
        with self._at(datetime(2026, 1, 13, 9, 0)):
            ticket.stage_id = self.stage_in_progress
        self.assertRecordValues(
            ticket,
            [
                {
                    'sla_paused_hours': 8.0,
                    'sla_response_paused_hours': 8.0,
                    'sla_response_deadline': datetime(2026, 1, 13, 13, 0),  # Tuesday 14:00
                    'sla_resolve_deadline': datetime(2026, 1, 15, 8, 0),  # Thursday 09:00
                }
            ],
        )

    def test_answer_during_pause(self):
        """Only the paused time before the first answer moves the first answer deadline."""
        with self._at(self.monday_9):
            ticket = self._create_ticket(self.contact_a)
        with self._at(datetime(2026, 1, 12, 9, 0)):  # Monday 10:00
            ticket.stage_id = self.stage_waiting
        with self._at(datetime(2026, 1, 12, 10, 0)):  # Monday 11:00
            self._answer(ticket)
        with self._at(datetime(2026, 1, 12, 14, 0)):  # Monday 15:00
            ticket.stage_id = self.stage_in_progress
        self.assertEqual(ticket.sla_paused_hours, 4.0)
        self.assertEqual(ticket.sla_response_paused_hours, 1.0)
        self.assertEqual(ticket.sla_response_deadline, datetime(2026, 1, 12, 14, 0))  # Monday 15:00
        self.assertEqual(ticket.sla_status, 'ok', "answered at 11:00, before the moved deadline")

    def test_status_frozen_while_paused(self):
        """While paused, neither at risk nor breached, whatever the cron sees; on leaving the
        pause the status follows the moved deadlines."""
        with self._at(self.monday_9):
            ticket = self._create_ticket(self.contact_a)
        with self._at(datetime(2026, 1, 12, 9, 0)):  # Monday 10:00, response due 14:00
            ticket.stage_id = self.stage_waiting
        self.assertEqual(ticket.sla_status, 'ok')
        self.assertFalse(ticket.sla_next_check, "nothing can change while paused")
        for moment in (datetime(2026, 1, 12, 12, 30), datetime(2026, 1, 14, 9, 0), datetime(2026, 1, 20, 9, 0)):
            with self._at(moment):
                self._run_cron('_cron_update_sla')
            self.assertEqual(ticket.sla_status, 'ok')
            self.assertEqual(ticket.escalation_level, 0)
        self.assertFalse(self._escalations(ticket))
        with self._at(datetime(2026, 1, 20, 9, 0)):  # Tuesday a week later, 10:00
            ticket.stage_id = self.stage_in_progress
        # paused Monday 10:00 to next Tuesday 10:00: Monday 6, Tuesday to Friday 32, Monday 8, Tuesday 2
        self.assertEqual(ticket.sla_paused_hours, 6 + 32 + 8 + 2)
        self.assertEqual(ticket.sla_response_deadline, datetime(2026, 1, 20, 13, 0))  # Tuesday 14:00
        self.assertNotEqual(ticket.sla_status, 'breached')
        self.assertTrue(ticket.sla_next_check)

    def test_breach_before_pause_stays(self):
        """A deadline already breached stays breached (and escalated) while paused."""
        with self._at(self.monday_9):
            ticket = self._create_ticket(self.contact_a)
        with self._at(datetime(2026, 1, 12, 14, 0)):  # Monday 15:00, response due 14:00
            ticket.stage_id = self.stage_waiting
            self._run_cron('_cron_update_sla')
        self.assertEqual(ticket.sla_status, 'breached')
        self.assertEqual(ticket.escalation_level, 1)
        self.assertFalse(ticket.sla_next_check)

    def test_stage_flag_starts_and_ends_pause(self):
        with self._at(self.monday_9):
            ticket = self._create_ticket(self.contact_a, stage_id=self.stage_in_progress.id)
        with self._at(datetime(2026, 1, 12, 9, 0)):
            self.stage_in_progress.sla_paused = True
        self.assertEqual(ticket.sla_paused_since, datetime(2026, 1, 12, 9, 0))
        with self._at(datetime(2026, 1, 12, 10, 0)):
            self.stage_in_progress.sla_paused = False
        self.assertFalse(ticket.sla_paused_since)
        self.assertEqual(ticket.sla_paused_hours, 1.0)

    def test_created_in_paused_stage(self):
        with self._at(self.monday_9):
            ticket = self._create_ticket(self.contact_a, stage_id=self.stage_waiting.id)
        self.assertEqual(ticket.sla_paused_since, self.monday_9)

    def test_pause_fields_protected(self):
        with self._at(self.monday_9):
            ticket = self._create_ticket(self.contact_a)
        for field, value in (
            ('sla_paused_since', self.monday_9),
            ('sla_paused_hours', 100.0),
            ('sla_response_paused_hours', 100.0),
        ):
            with self.subTest(field=field), self.assertRaises(AccessError):
                ticket.with_user(self.user_a).write({field: value})
        ticket.with_user(self.user_a).stage_id = self.stage_waiting
        self.assertTrue(ticket.sla_paused_since, "moving the ticket is how the pause begins")


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestSlaAtRisk(CabinetSlaCommon):
    def _warnings(self, ticket):
        return ticket.activity_ids.filtered(lambda activity: 'at risk' in (activity.summary or ''))

    def test_warned_once_at_configured_share(self):
        """At 50%, the first answer due at 14:00 (window from 09:00) is at risk from 11:30 Brussels;
        the assignee is warned once."""
        self.policy_general.at_risk_percent = 50
        with self._at(self.monday_9):
            ticket = self._create_ticket(self.contact_a, user_id=self.user_manager.id)
        self.assertEqual(ticket.sla_next_check, datetime(2026, 1, 12, 10, 30))
        with self._at(datetime(2026, 1, 12, 10, 0)):
            self._run_cron('_cron_update_sla')
        self.assertEqual(ticket.sla_status, 'ok')
        self.assertFalse(self._warnings(ticket))
        with self._at(datetime(2026, 1, 12, 10, 45)):
            self._run_cron('_cron_update_sla')
            self._run_cron('_cron_update_sla')
        self.assertEqual(ticket.sla_status, 'at_risk')
        warning = self._warnings(ticket)
        self.assertEqual(len(warning), 1)
        self.assertEqual(warning.user_id, self.user_manager, "the assignee")
        self.assertTrue(ticket.sla_at_risk_warned)
        with self._at(datetime(2026, 1, 12, 11, 0)):
            ticket._sla_warn_at_risk()
        self.assertEqual(len(self._warnings(ticket)), 1, "warned once")

    def test_default_share(self):
        """At the default 20%, the same ticket is not at risk at 11:45 Brussels yet, but at 13:00."""
        with self._at(self.monday_9):
            ticket = self._create_ticket(self.contact_a)
        with self._at(datetime(2026, 1, 12, 10, 45)):
            self._run_cron('_cron_update_sla')
        self.assertEqual(ticket.sla_status, 'ok')
        with self._at(datetime(2026, 1, 12, 12, 0)):
            self._run_cron('_cron_update_sla')
        self.assertEqual(ticket.sla_status, 'at_risk')
        self.assertEqual(self._warnings(ticket).user_id, self.team_a.leader_id, "no assignee: the team leader")

    def test_share_range(self):
        for value in (0, 100):
            with (
                self.subTest(value=value),
                self.assertRaises(IntegrityError),
                mute_logger('odoo.sql_db'),
                self.env.cr.savepoint(),
            ):
                self.policy_general.at_risk_percent = value
                self.env.flush_all()

    def test_warning_marker_protected(self):
        ticket = self._create_ticket(self.contact_a)
        with self.assertRaises(AccessError):
            ticket.with_user(self.user_a).write({'sla_at_risk_warned': True})


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestSlaEscalationPriority(CabinetSlaCommon):
    def _notes(self, ticket):
        note = self.env.ref('mail.mt_note')
        return ticket.message_ids.filtered(
            lambda message: message.subtype_id == note and 'Escalation' in str(message.body)
        )

    def test_priority_raised_once_per_level(self):
        with self._at(self.monday_9):
            ticket = self._create_ticket(self.contact_a)
        deadlines = ticket.read(['sla_response_deadline', 'sla_resolve_deadline'])[0]
        with self._at(datetime(2026, 1, 12, 14, 0)):  # first answer due 14:00 Brussels, missed
            self._run_cron('_cron_update_sla')
            self._run_cron('_cron_update_sla')
        self.assertRecordValues(
            ticket, [{'escalation_level': 1, 'priority': '1', 'sla_policy_id': self.policy_general.id}]
        )
        notes = self._notes(ticket)
        self.assertEqual(len(notes), 1)
        self.assertTrue(notes.is_internal, "an internal note, not a message to the party")
        self.assertIn("Important", str(notes.body))
        self.assertEqual(
            ticket.read(['sla_response_deadline', 'sla_resolve_deadline'])[0],
            deadlines,
            "the higher priority does not change the service level or its deadlines",
        )
        with self._at(datetime(2026, 1, 14, 8, 0)):  # resolution due Wednesday 09:00 Brussels, missed
            self._run_cron('_cron_update_sla')
            self._run_cron('_cron_update_sla')
        self.assertRecordValues(ticket, [{'escalation_level': 2, 'priority': '2'}])
        self.assertEqual(len(self._notes(ticket)), 2)
        self.assertEqual(len(self._escalations(ticket)), 2, "the to-dos stay")
        with self._at(datetime(2026, 1, 20, 8, 0)):
            self._run_cron('_cron_update_sla')
        self.assertEqual(ticket.priority, '2')
        self.assertEqual(len(self._notes(ticket)), 2)

    def test_priority_capped_at_critical(self):
        with self._at(self.monday_9):
            ticket = self._create_ticket(self.contact_a, priority='3')
        with self._at(datetime(2026, 1, 13, 9, 0)):  # both deadlines of the urgent policy missed
            self._run_cron('_cron_update_sla')
        self.assertRecordValues(
            ticket, [{'escalation_level': 2, 'priority': '3', 'sla_policy_id': self.policy_urgent.id}]
        )
        self.assertEqual(len(self._notes(ticket)), 1, "one run, one note")
        self.assertIn("Critical", str(self._notes(ticket).body))

    def test_two_levels_at_once(self):
        """A run finding both deadlines missed raises the priority by two steps."""
        with self._at(self.monday_9):
            ticket = self._create_ticket(self.contact_a)
        with self._at(datetime(2026, 1, 14, 9, 0)):
            self._run_cron('_cron_update_sla')
        self.assertRecordValues(ticket, [{'escalation_level': 2, 'priority': '2'}])


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestSlaExcluded(CabinetSlaCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.stage_cancelled = cls.env.ref('cabinet_helpdesk.cabinet_stage_cancelled')
        cls.stage_done = cls.env.ref('cabinet_helpdesk.cabinet_stage_done')

    def _answer(self, ticket):
        ticket.with_user(self.user_a).message_post(
            body="Here is the answer", message_type='comment', subtype_xmlid='mail.mt_comment'
        )

    def test_shipped_stages(self):
        for xmlid in (
            'cabinet_stage_cancelled',
            'cabinet_stage_staff_cancelled',
            'cabinet_stage_hr_refused',
            'cabinet_stage_hr_withdrawn',
        ):
            self.assertTrue(self.env.ref(f'cabinet_helpdesk.{xmlid}').sla_excluded, xmlid)
        self.assertFalse(self.stage_done.sla_excluded)

    def test_cancelled_not_counted(self):
        """A cancelled ticket is neither met nor breached, even after its deadline."""
        with self._at(self.monday_9):
            late = self._create_ticket(self.contact_a)
            early = self._create_ticket(self.contact_a)
        with self._at(datetime(2026, 1, 12, 9, 0)):
            early.stage_id = self.stage_cancelled
        with self._at(datetime(2026, 1, 14, 9, 0)):
            late.stage_id = self.stage_cancelled
            self._run_cron('_cron_update_sla')
        self.assertEqual((late | early).mapped('sla_status'), ['excluded', 'excluded'])
        self.assertFalse(self._escalations(late), "nothing to escalate")
        self.assertFalse(late.sla_next_check)
        self.assertEqual(
            dict(self.env['cabinet.ticket']._fields['sla_status']._description_selection(self.env))['excluded'],
            "Not Counted",
        )

    def test_closed_by_party_without_answer(self):
        with self._at(self.monday_9):
            unanswered = self._create_ticket(self.contact_a)
            answered = self._create_ticket(self.contact_a)
            closed_by_staff = self._create_ticket(self.contact_a)
        with self._at(datetime(2026, 1, 12, 9, 0)):
            self._answer(answered)
        with self._at(datetime(2026, 1, 12, 10, 0)):
            unanswered.sudo()._portal_close(self.contact_a, reason="Found the answer myself")
            answered.sudo()._portal_close(self.contact_a)
            closed_by_staff.with_user(self.user_a).action_close()
        self.assertTrue(unanswered.closed_by_party)
        self.assertEqual(unanswered.sla_status, 'excluded')
        self.assertEqual(answered.sla_status, 'met', "answered by the firm: counted")
        self.assertEqual(closed_by_staff.sla_status, 'met', "closed by the firm in time: counted")
        with self._at(datetime(2026, 1, 12, 11, 0)):
            unanswered.sudo()._portal_reopen(self.contact_a)
        self.assertFalse(unanswered.closed_by_party, "reopened: counted again")
        self.assertEqual(unanswered.sla_status, 'ok')

    def test_closed_by_party_marker_protected(self):
        ticket = self._create_ticket(self.contact_a)
        with self.assertRaises(AccessError):
            ticket.with_user(self.user_a).write({'closed_by_party': True})

    def test_left_out_of_compliance(self):
        """The analysis and the team report count met and breached tickets only."""
        with self._at(self.monday_9):
            met, breached, cancelled, unanswered = (self._create_ticket(self.contact_a) for _i in range(4))
        with self._at(datetime(2026, 1, 12, 9, 0)):
            met.stage_id = self.stage_done
            cancelled.stage_id = self.stage_cancelled
            unanswered.sudo()._portal_close(self.contact_a)
        with self._at(datetime(2026, 1, 14, 9, 0)):
            breached.stage_id = self.stage_done
        self.assertEqual(
            (met | breached | cancelled | unanswered).mapped('sla_status'), ['met', 'breached', 'excluded', 'excluded']
        )
        self.env.flush_all()
        Analysis = self.env['cabinet.ticket.analysis']
        tickets = met | breached | cancelled | unanswered
        rows = Analysis.search([('id', 'in', tickets.ids)])
        self.assertEqual(
            {row.id: row.sla_compliance for row in rows},
            {met.id: 100.0, breached.id: 0.0, cancelled.id: False, unanswered.id: False},
        )
        [(average, decided)] = Analysis._read_group(
            [('id', 'in', tickets.ids)], [], ['sla_compliance:avg', 'sla_compliance:count']
        )
        self.assertEqual((average, decided), (50.0, 2))
        figures = self.env['report.cabinet_helpdesk.report_team_analytics']._team_figures(self.team_a)[self.team_a.id]
        self.assertEqual(figures['sla_statuses']['excluded'], 2)
        self.assertEqual(figures['sla_decided'], 2)
        self.assertEqual(figures['sla_compliance'], 50.0)
