# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from odoo.fields import Command
from odoo.tests import HttpCase, new_test_user, tagged


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestCabinetBackendTour(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.staff = new_test_user(
            cls.env,
            login='tour_staff',
            name="Tour Staff",
            email='tour.staff@firm.example',
            groups='cabinet_helpdesk.group_cabinet_user',
        )
        cls.team = cls.env['cabinet.team'].create(
            {
                'name': "Tour Team",
                'member_ids': [Command.set(cls.staff.ids)],
                'leader_id': cls.staff.id,
            }
        )
        cls.requester = cls.env['res.partner'].create({'name': "Tour Requester", 'email': 'req@client.example'})

    def test_staff_creates_assigns_and_closes_a_ticket(self):
        self.start_tour(
            '/odoo/action-cabinet_helpdesk.cabinet_ticket_action', 'cabinet_helpdesk_backend_tour', login='tour_staff'
        )
        ticket = self.env['cabinet.ticket'].search([('name', '=', "Leaking roof after the works")])
        self.assertEqual(len(ticket), 1, "The tour created exactly one ticket")
        self.assertRecordValues(
            ticket,
            [
                {
                    'partner_id': self.requester.id,
                    'user_id': self.staff.id,
                    'team_id': self.team.id,
                    'is_closed': True,
                }
            ],
        )
        self.assertTrue(ticket.closed_date, "Closing records the closing date")
