# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from odoo.fields import Command
from odoo.tests import HttpCase, new_test_user, tagged


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestStaffRequestTour(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.employee = new_test_user(
            cls.env,
            login='tour_employee',
            name="Tour Employee",
            email='tour.employee@firm.example',
            groups='base.group_user',
        )
        cls.it_staff = new_test_user(
            cls.env, login='tour_it', name="Tour IT", groups='cabinet_helpdesk.group_cabinet_user'
        )
        cls.env.ref('cabinet_helpdesk.cabinet_team_internal').member_ids = [Command.link(cls.it_staff.id)]

    def test_employee_reports_a_printer_failure(self):
        self.start_tour(
            '/odoo/action-cabinet_helpdesk.cabinet_ticket_action_my_requests',
            'cabinet_helpdesk_staff_request_tour',
            login='tour_employee',
        )
        ticket = self.env['cabinet.ticket'].search([('name', '=', "The printer on the second floor is jammed")])
        self.assertEqual(len(ticket), 1, "The tour filed exactly one request")
        self.assertRecordValues(
            ticket,
            [
                {
                    'partner_id': self.employee.partner_id.id,
                    'category_id': self.env.ref('cabinet_helpdesk.cabinet_category_it_incident').id,
                    'stage_id': self.env.ref('cabinet_helpdesk.cabinet_stage_staff_new').id,
                    'approval_state': 'none',
                }
            ],
        )
        self.assertIn(self.employee.partner_id, ticket.message_partner_ids, "The requester follows their request")

    def test_portal_form_shows_the_guidance_of_its_types(self):
        self.env.ref(
            'cabinet_helpdesk.cabinet_category_client_request'
        ).guidance = "<p>Attach the plans you already have.</p>"
        self.env.ref('cabinet_helpdesk.cabinet_category_deadline').guidance = "<p>Say which date, and who set it.</p>"
        party = self.env['res.partner'].create({'name': "Guided Client Ltd", 'is_company': True})
        client = new_test_user(self.env, login='tour_client', name="Gus Client", groups='base.group_portal')
        client.partner_id.parent_id = party
        # without JavaScript: every portal type's guidance is listed with the choice
        self.authenticate('tour_client', 'tour_client')
        response = self.url_open('/my/tickets/new')
        self.assertEqual(response.status_code, 200)
        self.assertIn("Attach the plans you already have.", response.text)
        self.assertIn("Say which date, and who set it.", response.text)
        self.assertNotIn("Time Off", response.text, "the guidance of staff-only types stays in the backend")
        # with it: the chosen type's only
        self.start_tour('/my/tickets/new', 'cabinet_portal_guidance_tour', login='tour_client')
