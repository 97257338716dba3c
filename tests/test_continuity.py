# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from datetime import datetime

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.fields import Command
from odoo.service.model import call_kw
from odoo.tests import Form, new_test_user, tagged
from odoo.tools import mute_logger

from .common import CabinetCommon

NOW = datetime(2026, 3, 10, 10, 0)  # a Tuesday, 10:00 UTC


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestContinuity(CabinetCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.calendar = cls.company.resource_calendar_id
        cls.calendar_other = cls.env['resource.calendar'].create({'name': "Other office", 'company_id': cls.company.id})
        cls.user_c = new_test_user(
            cls.env,
            login='cab_user_c',
            name="Carla Clerk",
            email='carla@firm.example',
            groups='cabinet_helpdesk.group_cabinet_user',
        )
        cls.user_d = new_test_user(
            cls.env,
            login='cab_user_d',
            name="Dirk Deputy",
            email='dirk@firm.example',
            groups='cabinet_helpdesk.group_cabinet_user',
        )
        Resource = cls.env['resource.resource']
        cls.resource_a = Resource.create(
            {'name': "Anna", 'user_id': cls.user_a.id, 'company_id': cls.company.id, 'calendar_id': cls.calendar.id}
        )
        cls.resource_b = Resource.create(
            {
                'name': "Bruno",
                'user_id': cls.user_b.id,
                'company_id': cls.company.id,
                'calendar_id': cls.calendar_other.id,
            }
        )
        # user_c has no resource: the team's (company's) calendar applies
        cls.team = cls.env['cabinet.team'].create(
            {
                'name': "Continuity team",
                'assignment_method': 'balanced',
                'member_ids': [Command.set((cls.user_a | cls.user_b | cls.user_c).ids)],
                'leader_id': cls.user_manager.id,
            }
        )

    def _leave(self, date_from, date_to, resource=None, calendar=None, time_type='leave'):
        return self.env['resource.calendar.leaves'].create(
            {
                'name': "Away",
                'resource_id': resource.id if resource else False,
                'calendar_id': (calendar or (resource.calendar_id if resource else self.calendar)).id,
                'date_from': date_from,
                'date_to': date_to,
                'time_type': time_type,
            }
        )

    def _absent(self, moment=NOW):
        staff = self.user_a | self.user_b | self.user_c
        return staff._cabinet_absent_at(moment, self.company, self.calendar)

    def _anna_on_leave(self):
        return self._leave(datetime(2026, 3, 9, 7, 0), datetime(2026, 3, 13, 18, 0), resource=self.resource_a)

    # ------------------------------------------------------------
    # Who is absent
    # ------------------------------------------------------------

    def test_absent_from_personal_leave(self):
        self.assertFalse(self._absent())
        self._anna_on_leave()
        self.assertEqual(self._absent(), self.user_a)
        self.assertFalse(self._absent(datetime(2026, 3, 14, 10, 0)), "Not outside the leave")
        self.assertFalse(self._absent(datetime(2026, 3, 9, 6, 0)), "Not before the leave")

    def test_absent_from_public_holiday_of_own_calendar(self):
        self._leave(datetime(2026, 3, 10, 0, 0), datetime(2026, 3, 10, 23, 59), calendar=self.calendar)
        self.assertEqual(
            self._absent(),
            self.user_a | self.user_c,
            "A public holiday of the calendar counts for everyone on it, and for those without a resource",
        )
        self._leave(datetime(2026, 3, 10, 0, 0), datetime(2026, 3, 10, 23, 59), calendar=self.calendar_other)
        self.assertEqual(self._absent(), self.user_a | self.user_b | self.user_c)

    def test_not_absent_from_other_calendars_or_resources(self):
        day = (datetime(2026, 3, 10, 0, 0), datetime(2026, 3, 10, 23, 59))
        # public holiday of a calendar only Bruno works on
        self._leave(*day, calendar=self.calendar_other)
        self.assertEqual(self._absent(), self.user_b)
        # a leave of someone else's resource, and a leave counted as worked time
        stranger = self.env['resource.resource'].create({'name': "Stranger", 'calendar_id': self.calendar.id})
        self._leave(*day, resource=stranger)
        self._leave(*day, resource=self.resource_a, time_type='other')
        # a resource of Anna on another company does not count for this one
        other_company = self.env['res.company'].create({'name': "Other firm"})
        resource_elsewhere = self.env['resource.resource'].create(
            {'name': "Anna elsewhere", 'user_id': self.user_a.id, 'company_id': other_company.id}
        )
        self._leave(*day, resource=resource_elsewhere, calendar=other_company.resource_calendar_id)
        self.assertEqual(self._absent(), self.user_b)

    def test_absence_is_one_query(self):
        staff = self.user_a | self.user_b | self.user_c | self.user_d
        self.env.invalidate_all()
        staff.mapped('share')
        with self.assertQueryCount(1):  # measured: one search of leaves, whatever the number of users
            staff._cabinet_absent_at(NOW, self.company, self.calendar)

    # ------------------------------------------------------------
    # Assignment
    # ------------------------------------------------------------

    def test_balanced_skips_absent_member(self):
        with self._at(NOW):
            self._anna_on_leave()
            assignees = self.env['res.users'].union(
                *(self._create_ticket(self.contact_a, team=self.team).user_id for _i in range(4))
            )
        self.assertEqual(assignees, self.user_b | self.user_c, "Anna, with the fewest tickets, is away")

    def test_round_robin_skips_absent_member(self):
        self.team.assignment_method = 'round_robin'
        with self._at(NOW):
            self._leave(datetime(2026, 3, 9, 7, 0), datetime(2026, 3, 13, 18, 0), resource=self.resource_b)
            assignees = [self._create_ticket(self.contact_a, team=self.team).user_id for _i in range(4)]
        self.assertEqual(assignees, [self.user_a, self.user_c, self.user_a, self.user_c])

    def test_nobody_when_all_absent(self):
        with self._at(NOW):
            for calendar in (self.calendar, self.calendar_other):
                self._leave(datetime(2026, 3, 10, 0, 0), datetime(2026, 3, 10, 23, 59), calendar=calendar)
            self.assertFalse(self._create_ticket(self.contact_a, team=self.team).user_id)

    def test_deputy_receives_tickets_of_absent_member(self):
        self.user_a.cabinet_deputy_id = self.user_manager  # the team's leader
        with self._at(NOW):
            self._anna_on_leave()
            ticket = self._create_ticket(self.contact_a, team=self.team, user_id=self.user_a.id)
        self.assertEqual(ticket.user_id, self.user_manager)
        self.assertIn(
            "Anna Architect is away: assigned to Maria Manager instead.", str(ticket.message_ids.mapped('body'))
        )
        # present again: tickets go to her
        with self._at(datetime(2026, 3, 16, 10, 0)):
            ticket = self._create_ticket(self.contact_a, team=self.team, user_id=self.user_a.id)
        self.assertEqual(ticket.user_id, self.user_a)

    def test_deputy_outside_team_gives_way_to_present_member(self):
        self.user_a.cabinet_deputy_id = self.user_d  # not in the team
        with self._at(NOW):
            self._anna_on_leave()
            ticket = self._create_ticket(self.contact_a, team=self.team, user_id=self.user_a.id)
            self.assertIn(ticket.user_id, self.user_b | self.user_c)
            self.team.assignment_method = 'manual'
            ticket = self._create_ticket(self.contact_a, team=self.team, user_id=self.user_a.id)
            self.assertFalse(ticket.user_id, "With manual assignment the ticket waits in the team's queue")

    def test_absent_deputy_is_skipped(self):
        self.user_a.cabinet_deputy_id = self.user_b
        with self._at(NOW):
            self._anna_on_leave()
            self._leave(datetime(2026, 3, 9, 7, 0), datetime(2026, 3, 13, 18, 0), resource=self.resource_b)
            ticket = self._create_ticket(self.contact_a, team=self.team, user_id=self.user_a.id)
        self.assertEqual(ticket.user_id, self.user_c)

    # ------------------------------------------------------------
    # Hand-over and team overview
    # ------------------------------------------------------------

    def test_team_overview_lists_who_is_away(self):
        with self._at(NOW):
            self._anna_on_leave()
            self.team.invalidate_recordset(['away_user_ids'])
            self.assertEqual(self.team.away_user_ids, self.user_a)
            self.assertFalse(self.team_b.away_user_ids)
        with self._at(datetime(2026, 3, 16, 10, 0)):
            self.team.invalidate_recordset(['away_user_ids'])
            self.assertFalse(self.team.away_user_ids)

    def test_team_overview_loads_for_staff(self):
        Team = self.env['cabinet.team'].with_user(self.user_b)
        arch = Team.get_views([(False, 'kanban')])['views']['kanban']['arch']
        self.assertIn('away_user_ids', arch)
        self.assertIn('action_hand_over_to_deputies', arch)
        with self._at(NOW):
            self._anna_on_leave()
            records = Team.web_search_read(
                [('id', '=', self.team.id)], {'away_user_ids': {'fields': {'display_name': {}}}}
            )['records']
        self.assertEqual([user['id'] for user in records[0]['away_user_ids']], self.user_a.ids)

    def test_user_sets_own_deputy_in_preferences(self):
        with Form(self.user_a.with_user(self.user_a), view='base.view_users_form_simple_modif') as form:
            form.cabinet_deputy_id = self.user_c
        self.assertEqual(self.user_a.cabinet_deputy_id, self.user_c)
        with self.assertRaises(ValidationError):
            self.user_a.cabinet_deputy_id = self.user_a

    def test_hand_over_to_deputy(self):
        self.user_a.cabinet_deputy_id = self.user_c
        ticket = self._create_ticket(self.contact_a, team=self.team, user_id=self.user_a.id)
        closed = self._create_ticket(self.contact_a, team=self.team, user_id=self.user_a.id)
        closed.action_close()
        activity = ticket.activity_schedule('mail.mail_activity_data_todo', summary="Call back", user_id=self.user_a.id)
        self.env.flush_all()
        self.env.cr.flush()  # post pending tracking: the hand-over is a tracked change
        with self._at(NOW):
            self._anna_on_leave()
            self.team.invalidate_recordset(['away_user_ids'])
            self.team.with_user(self.user_manager).action_hand_over_to_deputies()
        self.env.flush_all()
        self.env.cr.flush()
        self.assertEqual(ticket.user_id, self.user_c)
        self.assertEqual(closed.user_id, self.user_a, "Closed tickets stay as they are")
        self.assertEqual(activity.user_id, self.user_c, "Open activities follow the ticket")
        note = ticket.message_ids.filtered(lambda m: "is away: their open tickets go to" in str(m.body))
        self.assertEqual(len(note), 1)
        self.assertIn("Anna Architect is away: their open tickets go to their deputy Carla Clerk.", str(note.body))
        changes = {v.field_id.name: (v.old_value_char, v.new_value_char) for v in note.tracking_value_ids}
        self.assertEqual(changes['user_id'], ("Anna Architect", "Carla Clerk"))
        with self._at(NOW), self.assertRaises(UserError):
            self.team.with_user(self.user_manager).action_hand_over_to_deputies()

    # ------------------------------------------------------------
    # Who sets a deputy
    # ------------------------------------------------------------

    @mute_logger('odoo.addons.base.models.ir_model', 'odoo.models')
    def test_only_user_or_manager_sets_deputy(self):
        Users = self.env['res.users']
        for attacker in (self.user_employee, self.user_b):
            with self.subTest(attacker=attacker.login), self.assertRaises(AccessError):
                call_kw(Users.with_user(attacker), 'write', [[self.user_a.id], {'cabinet_deputy_id': attacker.id}], {})
        with self.assertRaises(AccessError):
            # the manager's right covers the deputy only
            call_kw(
                Users.with_user(self.user_manager),
                'write',
                [[self.user_a.id], {'cabinet_deputy_id': self.user_c.id, 'name': "Renamed"}],
                {},
            )
        self.assertFalse(self.user_a.cabinet_deputy_id)
        # positive controls: the user themselves, and a helpdesk manager
        call_kw(Users.with_user(self.user_a), 'write', [[self.user_a.id], {'cabinet_deputy_id': self.user_c.id}], {})
        self.assertEqual(self.user_a.cabinet_deputy_id, self.user_c)
        call_kw(
            Users.with_user(self.user_manager), 'write', [[self.user_a.id], {'cabinet_deputy_id': self.user_b.id}], {}
        )
        self.assertEqual(self.user_a.cabinet_deputy_id, self.user_b)
        self.assertEqual(
            call_kw(Users.with_user(self.user_a), 'read', [[self.user_a.id], ['cabinet_deputy_id']], {})[0][
                'cabinet_deputy_id'
            ][0],
            self.user_b.id,
            "A user sees their own deputy",
        )
