# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from odoo.exceptions import UserError, ValidationError
from odoo.fields import Command
from odoo.tests import Form, tagged, users
from odoo.tools import mute_logger

from .common import CabinetCommon


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestCabinetTicket(CabinetCommon):
    def test_ticket_requires_partner(self):
        """Rule 4.1: a ticket cannot be saved without its one requester."""
        with self.assertRaises(ValidationError), mute_logger('odoo.sql_db'):
            self.env['cabinet.ticket'].create({'name': "No requester", 'team_id': self.team_a.id})
        ticket = self._create_ticket(self.contact_a)
        with self.assertRaises(ValidationError):
            ticket.partner_id = False
        self.assertEqual(ticket.partner_id, self.contact_a, "The requester must be kept after a refused write")

    def test_ticket_form_requires_partner(self):
        """The form refuses to save without a requester, with the field marked required."""
        form = Form(self.env['cabinet.ticket'])
        form.name = "Form without partner"
        with self.assertRaises(AssertionError):
            form.save()
        form.partner_id = self.contact_a
        ticket = form.save()
        self.assertEqual(ticket.partner_id, self.contact_a)

    def test_ticket_party_and_number(self):
        ticket = self._create_ticket(self.contact_a)
        self.assertRecordValues(
            ticket,
            [
                {
                    'commercial_partner_id': self.party_a.id,
                    'party_type': 'company',
                    'stage_id': self.stage_new.id,
                    'is_closed': False,
                    'company_id': self.company.id,
                }
            ],
        )
        self.assertRegex(ticket.number, r'^T\d{4}-\d{5}$', "Ticket numbers look like T2026-00042")
        other = self._create_ticket(self.contact_a)
        self.assertNotEqual(ticket.number, other.number, "Each ticket gets its own number")
        self.assertIn(ticket.number, ticket.display_name)

    def test_ticket_number_per_company(self):
        """Each company numbers its tickets from its own sequence."""
        company_2 = self.env['res.company'].create({'name': "Second Firm"})
        team_2 = self.env['cabinet.team'].create({'name': "Team 2", 'company_id': company_2.id})
        first_2 = self.env['cabinet.ticket'].create(
            {
                'name': "First of company 2",
                'partner_id': self.contact_b.id,
                'team_id': team_2.id,
            }
        )
        self.assertEqual(first_2.company_id, company_2, "The ticket takes its team's company")
        self.assertTrue(first_2.number.endswith('-00001'), "A new company starts its numbering at 1")
        second_2 = self.env['cabinet.ticket'].create(
            {
                'name': "Second of company 2",
                'partner_id': self.contact_b.id,
                'team_id': team_2.id,
            }
        )
        self.assertTrue(second_2.number.endswith('-00002'))
        sequences = self.env['ir.sequence'].search([('code', '=', 'cabinet.ticket')])
        self.assertIn(company_2, sequences.company_id, "Company 2 has its own ticket sequence")

    def test_ticket_search_by_number_subject_party(self):
        ticket = self._create_ticket(self.contact_a, name="Roof leak in building C")
        Ticket = self.env['cabinet.ticket']
        self.assertIn(ticket, Ticket.search([('display_name', 'ilike', ticket.number)]))
        self.assertIn(ticket, Ticket.search([('display_name', 'ilike', "roof leak")]))
        self.assertIn(ticket, Ticket.search([('display_name', 'ilike', "Alice A")]))
        self.assertIn(
            ticket.id, [rid for rid, _name in Ticket.name_search("Roof leak")], "name_search finds the subject"
        )

    def test_closing_sets_closed_date_and_reopening_clears_it(self):
        ticket = self._create_ticket(self.contact_a)
        ticket.action_close()
        self.assertTrue(ticket.is_closed)
        self.assertTrue(ticket.closed_date)
        ticket.stage_id = self.stage_progress
        self.assertFalse(ticket.is_closed)
        self.assertFalse(ticket.closed_date, "Reopening clears the closing date")

    def test_category_sets_team_and_legal_basis(self):
        ticket = self.env['cabinet.ticket'].create(
            {
                'name': "Payslip question",
                'partner_id': self.user_employee.partner_id.id,
                'category_id': self.category_hr.id,
            }
        )
        self.assertEqual(ticket.team_id, self.category_hr.team_id, "The request type's team handles the ticket")
        self.assertEqual(ticket.legal_basis, 'legal_obligation')

    def test_retention_date_from_policy(self):
        ticket = self._create_ticket(self.contact_a, category_id=self.category_client.id)
        self.assertFalse(ticket.retention_date, "An open ticket has no retention date")
        ticket.action_close()
        months = self.category_client.retention_policy_id.period_months
        self.assertEqual(
            (ticket.retention_date.year - ticket.closed_date.year) * 12
            + ticket.retention_date.month
            - ticket.closed_date.month,
            months,
        )

    def test_party_type_on_partners(self):
        municipality = self._create_party("City of Example", party_type='administration')
        clerk = self._create_party("Clerk", parent=municipality)
        self.assertEqual(municipality.party_type, 'administration')
        self.assertEqual(clerk.party_type, 'administration', "A contact takes its party's type")
        municipality.party_type = 'other'
        self.assertEqual(clerk.party_type, 'other')
        person = self._create_party("Private Person")
        self.assertEqual(person.party_type, 'individual')
        self.assertEqual(self.party_a.party_type, 'company')

    def test_partner_ticket_count(self):
        self._create_ticket(self.contact_a)
        self._create_ticket(self.party_a)
        self._create_ticket(self.contact_b)
        self.assertEqual(self.party_a.cabinet_ticket_count, 2, "The party counts its contacts' tickets")
        self.assertEqual(self.contact_a.cabinet_ticket_count, 2)
        self.assertEqual(self.party_b.cabinet_ticket_count, 1)
        action = self.contact_a.action_view_cabinet_tickets()
        self.assertEqual(self.env['cabinet.ticket'].search_count(action['domain']), 2)

    def test_assignment_methods(self):
        user_c = self.user_b.copy({'login': 'cab_user_c', 'name': "Carla"})
        team = self.env['cabinet.team'].create(
            {
                'name': "Round robin",
                'assignment_method': 'round_robin',
                'member_ids': [Command.set((self.user_a | self.user_b | user_c).ids)],
            }
        )
        assignees = [self._create_ticket(self.contact_a, team=team).user_id for _i in range(4)]
        self.assertEqual(assignees, [self.user_a, self.user_b, user_c, self.user_a], "Round robin takes turns")
        team.assignment_method = 'balanced'
        self._create_ticket(self.contact_a, team=team, user_id=self.user_a.id)
        self.assertEqual(
            self._create_ticket(self.contact_a, team=team).user_id,
            self.user_b,
            "Balanced assignment picks a member with the fewest open tickets",
        )
        team.assignment_method = 'manual'
        self.assertFalse(self._create_ticket(self.contact_a, team=team).user_id)

    def test_team_dashboard_counts(self):
        self._create_ticket(self.contact_a, user_id=self.user_a.id)
        self._create_ticket(self.contact_a, date_deadline='2020-01-01')
        closed = self._create_ticket(self.contact_a)
        closed.action_close()
        self.team_a.invalidate_recordset()
        self.assertRecordValues(
            self.team_a,
            [
                {
                    'open_ticket_count': 2,
                    'unassigned_ticket_count': 1,
                    'overdue_ticket_count': 1,
                }
            ],
        )

    def test_stage_in_use_cannot_be_deleted(self):
        stage = self.env['cabinet.stage'].create({'name': "Temporary"})
        self._create_ticket(self.contact_a, stage_id=stage.id)
        with self.assertRaises(UserError):
            stage.unlink()

    @users('cab_user')
    def test_staff_user_creates_assigns_closes(self):
        form = Form(self.env['cabinet.ticket'])
        form.name = "Permit renewal"
        form.partner_id = self.contact_a
        self.assertEqual(form.team_id, self.team_a, "A user's own team is the default")
        ticket = form.save()
        ticket.action_assign_to_me()
        self.assertEqual(ticket.user_id, self.env.user)
        ticket.action_close()
        self.assertTrue(ticket.is_closed)
