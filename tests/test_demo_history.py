# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from odoo import fields
from odoo.tests import tagged

from .common import CabinetCommon


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestDemoHistory(CabinetCommon):
    """The demo's year of history (built here on the test database, which has no demo data)
    gives every report, dashboard and data protection menu something real to show."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.built = cls.env['cabinet.demo.history']._demo_build_history()
        cls.env.flush_all()
        # the tracked changes (reassignments, legal hold) are posted when the transaction ends
        cls.env.cr.precommit.run()

    def test_built_once(self):
        self.assertTrue(self.built)
        count = self.env['cabinet.ticket'].search_count([])
        self.assertFalse(self.env['cabinet.demo.history']._demo_build_history(), "A second call builds nothing")
        self.assertEqual(self.env['cabinet.ticket'].search_count([]), count)

    def test_analysis_over_the_year(self):
        Analysis = self.env['cabinet.ticket.analysis']
        opened = Analysis._read_group([], ['create_date:month'], ['__count'])
        self.assertGreaterEqual(len(opened), 10, "Tickets were opened over at least ten months")
        closed = Analysis._read_group([('closed_date', '!=', False)], ['closed_date:month'], ['__count'])
        self.assertGreaterEqual(len(closed), 10, "and closed over at least ten months")
        statuses = dict(Analysis._read_group([], ['sla_status'], ['__count']))
        self.assertGreater(statuses.get('met', 0), 0, "Some service levels were met")
        self.assertGreater(statuses.get('breached', 0), 0, "and some breached")
        [(compliance,)] = Analysis._read_group([], [], ['sla_compliance:avg'])
        self.assertTrue(0 < compliance < 100)
        ratings = Analysis.search([('rating', '>', 0)]).mapped('rating')
        self.assertTrue(ratings, "Parties rated their tickets")
        self.assertIn(1.0, ratings, "including a low rating")
        self.assertTrue(Analysis.search_count([('is_closed', '=', False), ('age_bucket', '=', '90_plus')]))
        self.assertTrue(Analysis.search_count([('response_hours', '>', 0)]))

    def test_tickets_look_handled(self):
        tickets = self.env['cabinet.ticket'].search([])
        closed = tickets.filtered('is_closed')
        self.assertTrue(all(ticket.closed_date >= ticket.create_date for ticket in closed))
        answered = tickets.filtered('first_response_date')
        self.assertTrue(all(ticket.first_response_date >= ticket.create_date for ticket in answered))
        self.assertTrue(all(ticket.message_ids for ticket in tickets), "Each ticket has its conversation")
        self.assertTrue(
            tickets.filtered(lambda t: not t.is_closed and t.sla_status == 'breached' and t.escalation_level),
            "Breached open tickets were escalated",
        )
        self.assertTrue(
            self.env['mail.message'].search_count(
                [('model', '=', 'cabinet.ticket'), ('body', 'ilike', 'Handled by the team that follows this project')]
            ),
            "Tickets were reassigned, with their reason",
        )

    def test_mandate_and_coordination(self):
        mandate = self.env.ref('cabinet_helpdesk.cabinet_mandate_history_demo')
        self.assertEqual(mandate.state, 'active')
        ticket = self.env['cabinet.ticket'].search([('mandate_id', '=', mandate.id)])
        self.assertEqual(len(ticket), 1)
        self.assertIn(ticket.agent_partner_id, ticket.message_partner_ids)
        coordination = self.env['cabinet.coordination'].search([('state', '=', 'sent')])
        self.assertEqual(len(coordination), 1)
        self.assertEqual(len(coordination.ticket_ids.commercial_partner_id), 3, "One ticket per party")

    def test_data_protection_menus(self):
        held = self.env['cabinet.ticket'].search([('legal_hold', '=', True)])
        self.assertEqual(len(held), 1)
        self.assertLess(held.retention_date, fields.Date.today(), "Its retention period is over")
        self.assertFalse(held.anonymized, "The legal hold kept it past its retention period")
        logs = self.env['cabinet.retention.log'].search([])
        self.assertEqual(set(logs.mapped('action')), {'anonymize', 'delete'})
        self.assertTrue(self.env['cabinet.ticket'].search_count([('anonymized', '=', True)]))
        self.assertGreaterEqual(self.env['cabinet.mail.pending'].search_count([('state', '=', 'pending')]), 1)
        self.assertEqual(
            self.env['cabinet.analytics.log'].search([], order='date, id').mapped('new_value'),
            ['on', 'off'],
            "Per-employee analytics were tried and turned off again",
        )
        self.assertFalse(self.env['ir.config_parameter']._cabinet_individual_analytics())
        self.assertTrue(self.env['res.partner'].search_count([('cabinet_ticket_ids', '!=', False)]))

    def test_team_analytics_report(self):
        teams = self.env['cabinet.ticket.analysis'].search([]).team_id
        figures = self.env['report.cabinet_helpdesk.report_team_analytics']._team_figures(teams)
        team = max(teams, key=lambda t: figures[t.id]['count'])
        team_figures = figures[team.id]
        self.assertGreater(team_figures['closed'], 0)
        self.assertIsNotNone(team_figures['sla_compliance'])
        self.assertIsNotNone(team_figures['response_median'])
        self.assertIsNotNone(team_figures['rating_avg'])
        self.assertGreaterEqual(sum(1 for month in team_figures['months'] if month['created']), 5)
        html, report_format = (
            self.env['ir.actions.report']
            .with_user(self.user_manager)
            ._render_qweb_html('cabinet_helpdesk.action_report_team_analytics', team.ids)
        )
        self.assertEqual(report_format, 'html')
        self.assertIn(team.name, html.decode())
