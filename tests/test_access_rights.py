# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from odoo.exceptions import AccessError
from odoo.fields import Command
from odoo.tests import Form, new_test_user, tagged, users
from odoo.tools import mute_logger

from .common import CabinetCommon


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestCabinetAccessRights(CabinetCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ticket_a = cls._create_ticket(cls.contact_a, team=cls.team_a, name="Team A ticket")
        cls.ticket_b = cls._create_ticket(cls.contact_b, team=cls.team_b, name="Team B ticket")
        cls.ticket_b_assigned_a = cls._create_ticket(
            cls.contact_b, team=cls.team_b, user_id=cls.user_a.id, name="Team B ticket assigned to A"
        )
        cls.hr_team = cls.category_hr.team_id
        cls.user_hr = new_test_user(
            cls.env, login='cab_hr', name="Hanna HR", groups='cabinet_helpdesk.group_cabinet_user'
        )
        cls.hr_team.member_ids = [Command.link(cls.user_hr.id)]
        cls.ticket_hr = cls.env['cabinet.ticket'].create(
            {
                'name': "My payslip is wrong",
                'partner_id': cls.user_employee.partner_id.id,
                'category_id': cls.category_hr.id,
            }
        )

    def _visible(self, user):
        return self.env['cabinet.ticket'].with_user(user).search([])

    def test_team_users_see_their_teams_tickets(self):
        visible_a = self._visible(self.user_a)
        self.assertIn(self.ticket_a, visible_a)
        self.assertIn(self.ticket_b_assigned_a, visible_a, "Users see tickets assigned to them")
        self.assertNotIn(self.ticket_b, visible_a, "Users do not see other teams' tickets")
        visible_b = self._visible(self.user_b)
        self.assertIn(self.ticket_b, visible_b)
        self.assertNotIn(self.ticket_a, visible_b)

    @mute_logger('odoo.addons.base.models.ir_rule', 'odoo.addons.base.models.ir_model')
    def test_team_user_cannot_read_or_write_other_team_ticket(self):
        with self.assertRaises(AccessError):
            self.ticket_b.with_user(self.user_a).read(['name'])
        with self.assertRaises(AccessError):
            self.ticket_b.with_user(self.user_a).write({'name': "Hijacked"})
        with self.assertRaises(AccessError):
            self.ticket_a.with_user(self.user_a).unlink()

    def test_manager_sees_all_but_confidential(self):
        visible = self._visible(self.user_manager)
        self.assertTrue({self.ticket_a, self.ticket_b, self.ticket_b_assigned_a} <= set(visible))
        self.assertNotIn(self.ticket_hr, visible, "Confidential tickets stay out of a manager's sight")
        self.assertEqual(
            self.env['cabinet.ticket'].with_user(self.user_manager).search_count([('id', '=', self.ticket_hr.id)]),
            0,
            "Counters leave confidential tickets out too",
        )

    def test_confidential_ticket_visible_to_requester_and_handling_team(self):
        self.assertIn(self.ticket_hr, self._visible(self.user_hr), "The handling team sees the request")
        self.assertEqual(
            self._visible(self.user_employee), self.ticket_hr, "The requester sees their own request, and only it"
        )
        self.assertNotIn(self.ticket_hr, self._visible(self.user_a))
        self.assertNotIn(self.ticket_hr, self._visible(self.user_b))

    def test_confidential_ticket_handed_to_another_team_stays_with_handling_team(self):
        """The handling team of a confidential request type keeps its tickets when another team
        takes one over; the other team's users still do not read it unless they are assigned."""
        ticket = self.ticket_hr.copy({'name': "Leave certificate for the bank"})
        ticket.team_id = self.team_b
        self.assertIn(ticket, self._visible(self.user_hr), "The request type's handling team keeps the ticket")
        self.assertNotIn(ticket, self._visible(self.user_b), "The new team does not read a confidential ticket")
        self.assertNotIn(ticket, self._visible(self.user_a))
        self.assertEqual(
            self.env['cabinet.ticket.analysis'].with_user(self.user_hr).search_count([('ticket_id', '=', ticket.id)]),
            1,
            "The analysis follows the same rule",
        )

    @users('cab_employee')
    def test_employee_files_own_request(self):
        form = Form(
            self.env['cabinet.ticket'].with_context(cabinet_staff_request=True),
            view='cabinet_helpdesk.cabinet_ticket_view_form_request',
        )
        form.name = "Laptop does not start"
        form.category_id = self.env.ref('cabinet_helpdesk.cabinet_category_it_incident')
        ticket = form.save()
        self.assertEqual(ticket.partner_id, self.env.user.partner_id, "The employee is the requester")
        self.assertEqual(ticket.team_id, self.env.ref('cabinet_helpdesk.cabinet_team_internal'))
        self.assertEqual(self.env['cabinet.ticket'].search([]), ticket | self.ticket_hr.with_env(self.env))

    @users('cab_employee')
    @mute_logger('odoo.addons.base.models.ir_rule')
    def test_employee_cannot_file_for_someone_else(self):
        with self.assertRaises(AccessError):
            self.env['cabinet.ticket'].create({'name': "On behalf", 'partner_id': self.contact_a.id})

    @mute_logger('odoo.addons.base.models.ir_rule')
    def test_portal_user_reads_own_party_only(self):
        Ticket = self.env['cabinet.ticket'].with_user(self.portal_a)
        self.assertEqual(Ticket.search([]), self.ticket_a, "A portal user sees their party's tickets only")
        with self.assertRaises(AccessError):
            self.ticket_b.with_user(self.portal_a).read(['name'])
        with self.assertRaises(AccessError):
            self.ticket_a.with_user(self.portal_a).write({'name': "Changed"})

    @mute_logger('odoo.addons.base.models.ir_rule')
    def test_multi_company(self):
        company_2 = self.env['res.company'].create({'name': "Second Firm"})
        team_2 = self.env['cabinet.team'].create(
            {
                'name': "Team 2",
                'company_id': company_2.id,
                'member_ids': [Command.link(self.user_a.id)],
            }
        )
        ticket_2 = self.env['cabinet.ticket'].create(
            {
                'name': "Other company",
                'partner_id': self.contact_a.id,
                'team_id': team_2.id,
            }
        )
        self.assertNotIn(
            ticket_2, self._visible(self.user_manager), "A manager of company 1 does not see company 2's tickets"
        )
        self.user_manager.company_ids = [Command.link(company_2.id)]
        self.assertIn(
            ticket_2,
            self.env['cabinet.ticket']
            .with_user(self.user_manager)
            .with_context(allowed_company_ids=[self.company.id, company_2.id])
            .search([]),
        )
        with self.assertRaises(AccessError):
            ticket_2.with_user(self.user_b).read(['name'])

    def test_configuration_is_for_managers(self):
        with self.assertRaises(AccessError), mute_logger('odoo.addons.base.models.ir_model'):
            self.env['cabinet.stage'].with_user(self.user_a).create({'name': "Sneaky stage"})
        with self.assertRaises(AccessError), mute_logger('odoo.addons.base.models.ir_model'):
            self.team_a.with_user(self.user_a).write({'name': "Renamed"})
        self.env['cabinet.stage'].with_user(self.user_manager).create({'name': "Managed stage"})
