# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError
from odoo.fields import Command
from odoo.tests import new_test_user, tagged, users, warmup
from odoo.tools import format_date, mute_logger

from .common import CabinetCommon

PARAM = 'cabinet_helpdesk.individual_analytics'
GROUP = 'cabinet_helpdesk.group_cabinet_individual_analytics'


class CabinetAnalyticsCommon(CabinetCommon):
    """Team A: two open tickets (3 and 40 days old) and two closed ones (after 10 and 30
    hours), three of them assigned to ``user_a``; team B: one ticket open for 100 days; one
    confidential HR request of ``user_employee``."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env['ir.config_parameter'].set_param(PARAM, False)
        cls.user_dpo = cls._create_dpo()
        cls.user_sysadmin = new_test_user(
            cls.env,
            login='cab_sysadmin',
            name="Sam Sysadmin",
            groups='base.group_system,cabinet_helpdesk.group_cabinet_manager',
        )
        cls.hr_team = cls.category_hr.team_id
        cls.user_hr = new_test_user(
            cls.env, login='cab_hr', name="Hanna HR", groups='cabinet_helpdesk.group_cabinet_user'
        )
        cls.hr_team.member_ids = [Command.link(cls.user_hr.id)]

        cls.ticket_new = cls._create_ticket(
            cls.contact_a,
            team=cls.team_a,
            user_id=cls.user_a.id,
            name="New",
            category_id=cls.category_client.id,
            channel='portal',
            priority='2',
        )
        cls.ticket_old = cls._create_ticket(cls.contact_b, team=cls.team_a, user_id=cls.user_a.id, name="Old")
        cls.ticket_closed = cls._create_ticket(
            cls.contact_a, team=cls.team_a, user_id=cls.user_a.id, name="Closed fast", stage_id=cls.stage_done.id
        )
        cls.ticket_closed_slow = cls._create_ticket(
            cls.contact_a, team=cls.team_a, name="Closed slowly", stage_id=cls.stage_done.id
        )
        cls.ticket_b = cls._create_ticket(cls.contact_b, team=cls.team_b, user_id=cls.user_b.id, name="Team B")
        cls.ticket_hr = cls.env['cabinet.ticket'].create(
            {
                'name': "My payslip is wrong",
                'partner_id': cls.user_employee.partner_id.id,
                'category_id': cls.category_hr.id,
                'user_id': cls.user_hr.id,
            }
        )
        cls.team_a_tickets = cls.ticket_new | cls.ticket_old | cls.ticket_closed | cls.ticket_closed_slow

        # age the tickets: 3, 40 days open; closed after 10 and 30 hours; team B's open for 100 days
        now = fields.Datetime.now()
        ages = {
            cls.ticket_new: (now - timedelta(days=3), None),
            cls.ticket_old: (now - timedelta(days=40), None),
            cls.ticket_closed: (now - timedelta(days=5), now - timedelta(days=5) + timedelta(hours=10)),
            cls.ticket_closed_slow: (now - timedelta(days=6), now - timedelta(days=6) + timedelta(hours=30)),
            cls.ticket_b: (now - timedelta(days=100), None),
        }
        cls.env.flush_all()
        for ticket, (create_date, closed_date) in ages.items():
            cls.env.cr.execute(
                "UPDATE cabinet_ticket SET create_date = %s, closed_date = COALESCE(%s, closed_date) WHERE id = %s",
                [create_date, closed_date, ticket.id],
            )
        cls.env.invalidate_all()

    def _set_individual_analytics(self, value):
        self.env['ir.config_parameter'].set_param(PARAM, value)

    def _analysis(self, user):
        return self.env['cabinet.ticket.analysis'].with_user(user)


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestCabinetAnalytics(CabinetAnalyticsCommon):
    # ------------------------------------------------------------
    # Analysis rows
    # ------------------------------------------------------------

    def test_analysis_rows_match_tickets(self):
        rows = self._analysis(self.user_manager).search([('team_id', 'in', (self.team_a | self.team_b).ids)])
        self.assertEqual(rows.ticket_id, self.team_a_tickets | self.ticket_b, "One analysis row per ticket")
        self.assertEqual(rows.mapped('id'), rows.ticket_id.ids, "The analysis row shares the ticket's id")
        by_ticket = {row.ticket_id: row for row in rows}
        self.assertRecordValues(
            by_ticket[self.ticket_new],
            [
                {
                    'number': self.ticket_new.number,
                    'team_id': self.team_a.id,
                    'category_id': self.category_client.id,
                    'stage_id': self.ticket_new.stage_id.id,
                    'commercial_partner_id': self.party_a.id,
                    'party_type': 'company',
                    'channel': 'portal',
                    'priority': '2',
                    'company_id': self.company.id,
                    'is_closed': False,
                    'closed_date': False,
                    'resolution_hours': 0.0,
                    'backlog_days': 3,
                    'age_bucket': '0_7',
                }
            ],
        )
        self.assertRecordValues(
            by_ticket[self.ticket_closed] | by_ticket[self.ticket_old] | by_ticket[self.ticket_b],
            [
                {'is_closed': True, 'resolution_hours': 10.0, 'backlog_days': 0, 'age_bucket': False},
                {'is_closed': False, 'resolution_hours': 0.0, 'backlog_days': 40, 'age_bucket': '31_90'},
                {'is_closed': False, 'resolution_hours': 0.0, 'backlog_days': 100, 'age_bucket': '90_plus'},
            ],
        )
        self.assertEqual(by_ticket[self.ticket_closed].closed_date, self.ticket_closed.closed_date)

        self.ticket_old.active = False
        self.assertNotIn(
            self.ticket_old, self._analysis(self.user_manager).search([]).ticket_id, "Archived tickets are left out"
        )

    def test_analysis_sla_columns(self):
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE cabinet_ticket SET sla_status = 'met', first_response_date = create_date + interval '2 hours' "
            "WHERE id = %s",
            [self.ticket_closed.id],
        )
        self.env.cr.execute(
            "UPDATE cabinet_ticket SET sla_status = 'breached' WHERE id = %s", [self.ticket_closed_slow.id]
        )
        self.env.invalidate_all()
        closed = self.ticket_closed | self.ticket_closed_slow
        rows = self._analysis(self.user_a).search([('ticket_id', 'in', closed.ids)])
        self.assertRecordValues(
            rows.sorted('id'),
            [
                {'sla_status': 'met', 'sla_compliance': 100.0, 'response_hours': 2.0},
                {'sla_status': 'breached', 'sla_compliance': 0.0, 'response_hours': 0.0},
            ],
        )
        [(compliance,)] = self._analysis(self.user_a)._read_group(
            [('team_id', '=', self.team_a.id)], [], ['sla_compliance:avg']
        )
        self.assertEqual(compliance, 50.0, "Compliance counts decided tickets only: one met, one breached")

    def test_analysis_last_rating(self):
        model = self.env['ir.model']._get('cabinet.ticket')
        Rating = self.env['rating.rating']
        Rating.create({'res_model_id': model.id, 'res_id': self.ticket_closed.id, 'rating': 1, 'consumed': True})
        Rating.create({'res_model_id': model.id, 'res_id': self.ticket_closed.id, 'rating': 5, 'consumed': True})
        Rating.create({'res_model_id': model.id, 'res_id': self.ticket_closed_slow.id, 'rating': 0, 'consumed': False})
        closed = self.ticket_closed | self.ticket_closed_slow
        rows = self._analysis(self.user_a).search([('ticket_id', 'in', closed.ids)])
        self.assertEqual(rows.sorted('id').mapped('rating'), [5.0, 0.0], "Last filled rating only")
        [(rating_avg, rating_count)] = self._analysis(self.user_a)._read_group(
            [('team_id', '=', self.team_a.id)], [], ['rating:avg', 'rating:count']
        )
        self.assertEqual((rating_avg, rating_count), (5.0, 1), "Unfilled ratings do not count")

    def test_analysis_confidential_rows(self):
        hr_row = [('ticket_id', '=', self.ticket_hr.id)]
        for user in (self.user_a, self.user_b, self.user_manager, self.user_dpo):
            self.assertFalse(self._analysis(user).search(hr_row), f"{user.name} must not see the HR request row")
            counts = dict(self._analysis(user)._read_group([], ['category_id'], ['__count']))
            self.assertNotIn(self.category_hr, counts, f"{user.name}: confidential rows stay out of aggregates")
        self.assertTrue(self._analysis(self.user_hr).search(hr_row), "The handling team sees its confidential rows")

    def test_analysis_rows_follow_ticket_visibility(self):
        """Whoever reads the analysis sees exactly the rows of the tickets they may read."""
        for user in (self.user_a, self.user_b, self.user_hr, self.user_manager, self.user_dpo):
            self.assertEqual(
                self._analysis(user).search([]).ticket_id,
                self.env['cabinet.ticket'].with_user(user).search([]),
                f"Analysis rows of {user.name} differ from the tickets they may read",
            )

    def test_analysis_team_visibility(self):
        visible = self._analysis(self.user_a).search([]).ticket_id
        self.assertEqual(
            visible & (self.team_a_tickets | self.ticket_b),
            self.team_a_tickets,
            "Helpdesk users see their teams' rows, not team B's",
        )
        visible_b = self._analysis(self.user_b).search([]).ticket_id
        self.assertIn(self.ticket_b, visible_b)
        self.assertFalse(visible_b & self.team_a_tickets)

    @mute_logger('odoo.addons.base.models.ir_model', 'odoo.addons.base.models.ir_rule')
    def test_analysis_is_staff_only_and_read_only(self):
        with self.assertRaises(AccessError):
            self._analysis(self.user_employee).search([])
        with self.assertRaises(AccessError):
            self._analysis(self.portal_a).search([])
        row = self._analysis(self.user_manager).search([('ticket_id', '=', self.ticket_new.id)])
        with self.assertRaises(AccessError):
            row.write({'priority': '0'})

    def test_analysis_multi_company(self):
        other_company = self.env['res.company'].create({'name': "Other Firm"})
        self.user_manager.write({'company_ids': [Command.link(other_company.id)]})
        other_team = self.env['cabinet.team'].create({'name': "Other Team", 'company_id': other_company.id})
        other_ticket = self._create_ticket(self.contact_a, team=other_team, company_id=other_company.id)
        Analysis = self._analysis(self.user_manager)
        self.assertNotIn(
            other_ticket,
            Analysis.with_context(allowed_company_ids=[self.company.id]).search([]).ticket_id,
            "Rows of a company not selected stay out",
        )
        self.assertIn(
            other_ticket,
            Analysis.with_context(allowed_company_ids=[self.company.id, other_company.id]).search([]).ticket_id,
        )
        other_team.member_ids = [Command.link(self.user_a.id)]
        self.assertNotIn(
            other_ticket,
            self._analysis(self.user_a).search([]).ticket_id,
            "Team membership does not open another company's rows",
        )

    # ------------------------------------------------------------
    # Works council: per-employee figures
    # ------------------------------------------------------------

    def test_user_id_null_when_off(self):
        rows = self.env['cabinet.ticket.analysis'].search([('ticket_id', 'in', self.team_a_tickets.ids)])
        self.assertFalse(rows.mapped('user_id'), "No assignee in the analysis while the setting is off")
        self.assertTrue(self.team_a_tickets.user_id, "(the tickets do have assignees)")
        self._set_individual_analytics(True)
        self.env.invalidate_all()
        rows = self.env['cabinet.ticket.analysis'].search([('ticket_id', 'in', self.team_a_tickets.ids)])
        self.assertEqual(rows.mapped('user_id'), self.user_a, "Assignees appear once the setting is on")

    @mute_logger('odoo.addons.base.models.ir_model')
    def test_staff_groupby_refused_when_off(self):
        for user in (self.user_a, self.user_manager):
            Ticket = self.env['cabinet.ticket'].with_user(user)
            for spec in ('user_id', 'create_uid', 'write_uid', 'user_id.name'):
                with self.assertRaises(AccessError, msg=f"{user.name} grouped tickets by {spec}"):
                    Ticket._read_group([], [spec], ['__count'])
            with self.assertRaises(AccessError, msg="The web client's grouping goes through the same check"):
                Ticket.formatted_read_group([], ['user_id'], ['__count'])
            with self.assertRaises(AccessError, msg="Grouping sets (pivot) go through the same check"):
                Ticket.formatted_read_grouping_sets([], [['team_id'], ['team_id', 'user_id']], ['__count'])
            Analysis = self._analysis(user)
            for spec in ('user_id', 'ticket_id.user_id', 'ticket_id.create_uid'):
                with self.assertRaises(AccessError, msg=f"{user.name} grouped the analysis by {spec}"):
                    Analysis._read_group([], [spec], ['__count'])
            # team-level figures remain
            self.assertTrue(Ticket._read_group([], ['team_id', 'stage_id'], ['__count']))
            self.assertTrue(Analysis._read_group([], ['team_id'], ['__count', 'resolution_hours:avg']))

    def test_staff_groupby_allowed_when_on(self):
        self._set_individual_analytics(True)
        counts = dict(
            self.env['cabinet.ticket']
            .with_user(self.user_manager)
            ._read_group([('id', 'in', self.team_a_tickets.ids)], ['user_id'], ['__count'])
        )
        self.assertEqual(counts, {self.user_a: 3, self.env['res.users']: 1})
        counts = dict(
            self._analysis(self.user_a)._read_group([('team_id', '=', self.team_a.id)], ['user_id'], ['__count'])
        )
        self.assertEqual(counts, {self.user_a: 3, self.env['res.users']: 1})

    @mute_logger('odoo.addons.base.models.ir_model')
    def test_staff_groupby_dpo_follows_the_setting(self):
        """The works council setting has no exemption: the DPO gets per-employee figures only
        while it is on, like everyone else."""
        Ticket = self.env['cabinet.ticket'].with_user(self.user_dpo)
        with self.assertRaises(AccessError, msg="The DPO grouped tickets by assignee with the setting off"):
            Ticket._read_group([('id', 'in', self.team_a_tickets.ids)], ['user_id'], ['__count'])
        with self.assertRaises(AccessError, msg="The DPO grouped the analysis by assignee with the setting off"):
            self._analysis(self.user_dpo)._read_group([('team_id', '=', self.team_a.id)], ['user_id'], ['__count'])
        self.assertNotIn('user_id', self._analysis(self.user_dpo).fields_get(), "No assignee column for the DPO")
        self._set_individual_analytics(True)
        counts = dict(Ticket._read_group([('id', 'in', self.team_a_tickets.ids)], ['user_id'], ['__count']))
        self.assertEqual(counts, {self.user_a: 3, self.env['res.users']: 1})

    def test_assigned_to_groupby_hidden_in_views(self):
        def search_arch(model):
            views = self.env[model].with_user(self.user_manager).get_views([(False, 'search')])
            return views['views']['search']['arch']

        self.assertNotIn('name="group_user"', search_arch('cabinet.ticket'))
        self.assertNotIn('name="group_user"', search_arch('cabinet.ticket.analysis'))
        self.assertNotIn('user_id', self.env['cabinet.ticket.analysis'].with_user(self.user_manager).fields_get())
        self._set_individual_analytics(True)
        self.assertTrue(self.user_manager.has_group(GROUP))
        self.assertIn('name="group_user"', search_arch('cabinet.ticket'))
        self.assertIn('name="group_user"', search_arch('cabinet.ticket.analysis'))
        self.assertIn('user_id', self.env['cabinet.ticket.analysis'].with_user(self.user_manager).fields_get())

    def test_analysis_views(self):
        action = (
            self.env['ir.actions.act_window']
            .with_user(self.user_a)
            ._for_xml_id('cabinet_helpdesk.cabinet_ticket_analysis_action')
        )
        self.assertEqual(action['view_mode'], 'pivot,graph,list')
        views = (
            self.env['cabinet.ticket.analysis']
            .with_user(self.user_a)
            .get_views([(False, 'pivot'), (False, 'graph'), (False, 'list'), (False, 'search')])['views']
        )
        self.assertIn('team_id', views['pivot']['arch'])
        self.assertNotIn('user_id', views['list']['arch'], "No assignee column while the setting is off")
        self._set_individual_analytics(True)
        views = self.env['cabinet.ticket.analysis'].with_user(self.user_a).get_views([(False, 'list')])['views']
        self.assertIn('user_id', views['list']['arch'])

    def test_toggle_logged(self):
        Log = self.env['cabinet.analytics.log']
        self.assertFalse(self.user_a.has_group(GROUP))
        settings = self.env['res.config.settings'].with_user(self.user_sysadmin)
        settings.create({'cabinet_individual_analytics': True}).execute()
        self.assertTrue(self.env['ir.config_parameter']._cabinet_individual_analytics())
        self.assertTrue(self.user_a.has_group(GROUP), "Internal users get the per-employee views")
        self.assertTrue(self.user_employee.has_group(GROUP))
        self.assertFalse(self.portal_a.has_group(GROUP), "Never portal users")
        log = Log.search([], limit=1)
        self.assertRecordValues(log, [{'user_id': self.user_sysadmin.id, 'old_value': 'off', 'new_value': 'on'}])
        self.assertAlmostEqual(log.date, fields.Datetime.now(), delta=timedelta(minutes=1))

        settings.create({'cabinet_individual_analytics': True}).execute()
        self.assertEqual(Log.search_count([]), 1, "Saving the settings without a change logs nothing")

        settings.create({'cabinet_individual_analytics': False}).execute()
        self.assertFalse(self.env['ir.config_parameter']._cabinet_individual_analytics())
        self.assertFalse(self.user_a.has_group(GROUP), "The group is taken back")
        self.assertRecordValues(
            Log.search([], limit=1), [{'user_id': self.user_sysadmin.id, 'old_value': 'on', 'new_value': 'off'}]
        )
        self.assertEqual(Log.with_user(self.user_dpo).search_count([]), 2, "The DPO reads the log")

        # any other path is logged too
        self.env['ir.config_parameter'].with_user(self.user_sysadmin).set_param(PARAM, 'True')
        self.assertRecordValues(
            Log.search([], limit=1), [{'user_id': self.user_sysadmin.id, 'old_value': 'off', 'new_value': 'on'}]
        )

    @mute_logger('odoo.addons.base.models.ir_model', 'odoo.addons.base.models.ir_rule')
    def test_toggle_attacker_side(self):
        Log = self.env['cabinet.analytics.log']
        with self.assertRaises(AccessError, msg="Helpdesk managers without settings rights cannot switch"):
            self.env['ir.config_parameter'].with_user(self.user_manager).set_param(PARAM, 'True')
        self.assertFalse(self.env['ir.config_parameter']._cabinet_individual_analytics())
        self.assertFalse(Log.search_count([]))
        self._set_individual_analytics(True)
        log = Log.search([])
        self.assertEqual(len(log), 1)
        for user in (self.user_manager, self.user_dpo, self.user_sysadmin):
            with self.assertRaises(AccessError, msg=f"{user.name} rewrote the log"):
                log.with_user(user).write({'new_value': 'off'})
            with self.assertRaises(AccessError, msg=f"{user.name} deleted the log"):
                log.with_user(user).unlink()
            with self.assertRaises(AccessError, msg=f"{user.name} forged a log line"):
                Log.with_user(user).create({'old_value': 'on', 'new_value': 'off'})
        with self.assertRaises(AccessError):
            Log.with_user(self.user_a).search([])

    # ------------------------------------------------------------
    # Query budgets
    # ------------------------------------------------------------

    @users('cab_user')
    @warmup
    def test_analysis_read_group_query_count(self):
        Analysis = self.env['cabinet.ticket.analysis']
        with self.assertQueryCount(cab_user=1):  # measured value, change only on purpose
            Analysis._read_group([], ['team_id', 'stage_id'], ['__count', 'resolution_hours:avg', 'backlog_days:avg'])


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestCabinetAnalyticsReports(CabinetAnalyticsCommon):
    """PDF reports: team analytics and record of processing activities (art. 30)."""

    def _team_values(self, user, teams):
        return self.env['report.cabinet_helpdesk.report_team_analytics'].with_user(user)._get_report_values(teams.ids)

    def _render_html(self, user, report_ref, records):
        html, report_format = self.env['ir.actions.report'].with_user(user)._render_qweb_html(report_ref, records.ids)
        self.assertEqual(report_format, 'html')
        return html.decode()

    def test_team_report_figures(self):
        values = self._team_values(self.user_manager, self.team_a | self.team_b)
        figures_a = values['figures'][self.team_a.id]
        self.assertEqual((figures_a['count'], figures_a['open'], figures_a['closed']), (4, 2, 2), "Volume of team A")
        self.assertAlmostEqual(figures_a['resolution_avg'], 20.0, places=3)
        self.assertAlmostEqual(figures_a['resolution_median'], 20.0, places=3)
        self.assertEqual(dict(figures_a['buckets']), {'0_7': 1, '31_90': 1}, "Backlog ageing of the open tickets")
        self.assertEqual(dict(values['figures'][self.team_b.id]['buckets']), {'90_plus': 1})
        self.assertEqual(len(figures_a['months']), 6, "The last six months, the current one included")
        self.assertEqual(sum(month['created'] for month in figures_a['months']), 4)
        self.assertEqual(sum(month['closed'] for month in figures_a['months']), 2)
        self.assertEqual(
            figures_a['months'][-1]['label'], format_date(self.env, fields.Date.today(), date_format='MMM yyyy')
        )
        self.assertEqual(sum(month['created'] for month in values['figures'][self.team_b.id]['months']), 1)
        self.assertIsNone(figures_a['rating_avg'])
        self.assertFalse(values['individual_analytics'])
        self.assertEqual(figures_a['employees'], [], "No per-employee table while the setting is off")

    def test_team_report_sla_and_median(self):
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE cabinet_ticket SET sla_status = 'met', first_response_date = create_date + interval '1 hour' "
            "WHERE id = %s",
            [self.ticket_closed.id],
        )
        self.env.cr.execute(
            "UPDATE cabinet_ticket SET sla_status = 'breached', first_response_date = create_date + interval '2 hours' "
            "WHERE id = %s",
            [self.ticket_closed_slow.id],
        )
        self.env.cr.execute(
            "UPDATE cabinet_ticket SET sla_status = 'breached', first_response_date = create_date + interval '9 hours' "
            "WHERE id = %s",
            [self.ticket_old.id],
        )
        self.env.cr.execute("UPDATE cabinet_ticket SET sla_status = 'at_risk' WHERE id = %s", [self.ticket_new.id])
        self.env.invalidate_all()
        figures = self._team_values(self.user_a, self.team_a)['figures'][self.team_a.id]
        self.assertAlmostEqual(figures['sla_compliance'], 100 / 3, places=3, msg="1 met out of 3 decided")
        self.assertEqual(figures['sla_decided'], 3)
        self.assertEqual(dict(figures['sla_statuses']), {'met': 1, 'breached': 2, 'at_risk': 1})
        self.assertAlmostEqual(figures['response_avg'], 4.0, places=3)
        self.assertAlmostEqual(figures['response_median'], 2.0, places=3, msg="Median of 1, 2 and 9 hours")

    def test_team_report_per_employee_only_when_on(self):
        html = self._render_html(self.user_manager, 'cabinet_helpdesk.action_report_team_analytics', self.team_a)
        self.assertIn("Team A", html)
        self.assertNotIn("o_cabinet_employees", html, "No per-employee table while the setting is off")
        self.assertNotIn(self.user_a.name, html)

        self._set_individual_analytics(True)
        values = self._team_values(self.user_manager, self.team_a)
        self.assertEqual(
            values['figures'][self.team_a.id]['employees'],
            [
                {'name': self.user_a.name, 'count': 3, 'open': 2, 'resolution_avg': 10.0, 'sla_compliance': None},
                {'name': "Unassigned", 'count': 1, 'open': 0, 'resolution_avg': 30.0, 'sla_compliance': None},
            ],
        )
        html = self._render_html(self.user_manager, 'cabinet_helpdesk.action_report_team_analytics', self.team_a)
        self.assertIn("o_cabinet_employees", html)
        self.assertIn(self.user_a.name, html)

    def test_team_report_leaves_confidential_tickets_out(self):
        figures = self._team_values(self.user_manager, self.hr_team)['figures'][self.hr_team.id]
        self.assertEqual(figures['count'], 0, "A manager outside HR gets no figure from confidential requests")
        figures = self._team_values(self.user_hr, self.hr_team)['figures'][self.hr_team.id]
        self.assertEqual(figures['count'], 1, "The HR team counts its own requests")

    @mute_logger('odoo.addons.base.models.ir_rule')
    def test_team_report_of_other_team_shows_nothing_hidden(self):
        figures = self._team_values(self.user_b, self.team_a)['figures'][self.team_a.id]
        self.assertEqual(figures['count'], 0, "User B may read team A's card, not its tickets' figures")

    def test_record_of_processing(self):
        categories = self.env['cabinet.category'].search([])
        values = (
            self.env['report.cabinet_helpdesk.report_record_of_processing']
            .with_user(self.user_dpo)
            ._get_report_values(categories.ids)
        )
        [controller] = values['controllers']
        self.assertEqual(controller['company'], self.company)
        self.assertEqual([activity['category'] for activity in controller['activities']], list(categories))
        self.assertIn(self.user_dpo.name, values['dpo_names'])
        self.assertIn(
            "Ticket: confidential request types stay with their requester and handling team",
            [rule['name'] for rule in values['security']['rules']],
        )
        html = self._render_html(self.user_dpo, 'cabinet_helpdesk.action_report_record_of_processing', categories)
        self.assertIn("Record of Processing Activities", html)
        self.assertIn(self.company.name, html)
        self.assertIn(self.category_hr.name, html)
        self.assertIn("Legal obligation (art. 6(1)(c))", html)
        self.assertIn(self.category_hr.retention_policy_id.name, html)
        self.assertIn(self.hr_team.name, html)
        self.assertIn("Confidential", html)

    @mute_logger('odoo.addons.base.models.ir_model')
    def test_record_of_processing_refused_to_users(self):
        with self.assertRaises(AccessError):
            self.env['report.cabinet_helpdesk.report_record_of_processing'].with_user(self.user_a)._get_report_values(
                self.category_hr.ids
            )

    def test_record_of_processing_menu_action(self):
        action = (
            self.env.ref('cabinet_helpdesk.cabinet_category_action_record_of_processing').with_user(self.user_dpo).run()
        )
        self.assertEqual(action['type'], 'ir.actions.report')
        self.assertEqual(action['report_name'], 'cabinet_helpdesk.report_record_of_processing')
        self.assertEqual(
            set(action['context']['active_ids']),
            set(self.env['cabinet.category'].with_user(self.user_dpo).search([]).ids),
        )

    def test_reports_render_pdf(self):
        Report = self.env['ir.actions.report'].with_context(force_report_rendering=True)
        for report_ref, records in (
            ('cabinet_helpdesk.action_report_team_analytics', self.team_a),
            ('cabinet_helpdesk.action_report_record_of_processing', self.env['cabinet.category'].search([])),
        ):
            pdf, report_format = Report.with_user(self.user_manager)._render_qweb_pdf(report_ref, records.ids)
            self.assertEqual(report_format, 'pdf')
            self.assertTrue(pdf.startswith(b'%PDF'), f"{report_ref} renders as a PDF")

    @users('cab_manager')
    @warmup
    def test_team_report_values_query_count(self):
        teams = (self.team_a | self.team_b).with_env(self.env)
        Report = self.env['report.cabinet_helpdesk.report_team_analytics']
        # 5 grouped queries on the analysis, whatever the number of teams and tickets, and the
        # user's language, time zone and company (formatting of the months)
        with self.assertQueryCount(cab_manager=8):  # measured value, change only on purpose
            Report._get_report_values(teams.ids)
