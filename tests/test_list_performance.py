# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from odoo.exceptions import AccessError
from odoo.fields import Command
from odoo.tests import TransactionCase, new_test_user, tagged, users, warmup

from .common import CabinetFactories

M2O = {'fields': {'display_name': {}}}
# what the web client asks for the list view of tickets (views/cabinet_ticket_views.xml), the
# optional columns included: it reads them even while they are hidden
LIST_SPECIFICATION = {
    'priority': {},
    'number': {},
    'name': {},
    'partner_id': M2O,
    'party_type': {},
    'category_id': M2O,
    'team_id': M2O,
    'user_id': M2O,
    'date_deadline': {},
    'sla_status': {},
    'activity_ids': {},
    'activity_exception_decoration': {},
    'activity_exception_icon': {},
    'activity_state': {},
    'activity_summary': {},
    'activity_type_icon': {},
    'activity_type_id': M2O,
    'tag_ids': {'fields': {'display_name': {}, 'color': {}}},
    'channel': {},
    'create_date': {},
    'closed_date': {},
    'stage_id': M2O,
    'is_closed': {},
}


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestListPerformance(CabinetFactories, TransactionCase):
    """The list and grouped views of tickets, under the record rules: query budgets, and rules
    that filter on the ticket's own indexed columns (no join of request types or teams)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_cabinet_data()
        cls.user_hr = new_test_user(
            cls.env, login='cab_user_hr', name="Hanna HR", groups='cabinet_helpdesk.group_cabinet_user'
        )
        cls.team_hr = cls.category_hr.team_id
        cls.team_hr.member_ids = [Command.link(cls.user_hr.id)]
        tag = cls.env['cabinet.tag'].create({'name': "Roofing"})
        cls.env['cabinet.ticket'].create(
            [
                {
                    'name': f"Ticket {index}",
                    'partner_id': (cls.contact_a if index % 2 else cls.contact_b).id,
                    'team_id': (cls.team_a if index % 3 else cls.team_b).id,
                    'category_id': (cls.category_hr if index % 10 == 0 else cls.category_client).id,
                    'tag_ids': [Command.link(tag.id)] if index % 4 == 0 else [],
                    'stage_id': (cls.stage_done if index % 10 < 7 else cls.stage_new).id,
                }
                for index in range(120)
            ]
        )
        cls.env.flush_all()

    def _list(self, domain=()):
        return self.env['cabinet.ticket'].web_search_read(
            list(domain), LIST_SPECIFICATION, offset=0, limit=80, order='', count_limit=10001
        )

    def _group(self, domain=()):
        return self.env['cabinet.ticket'].web_read_group(list(domain), ['team_id', 'stage_id'], ['__count'])

    @users('cab_user', 'cab_manager')
    @warmup
    def test_list_query_budget(self):
        """The list of tickets, a page of 80: search and page (with the columns the rules read,
        so that the access check of the read needs no query), activities, tags, requesters,
        request types, teams, assignees and their partners, stages, count."""
        # measured: 8 and 9 (9 and 10 while the rules' columns were read by a query of their own,
        # 12 before the rules filtered on the ticket's columns and the party type was stored)
        with self.assertQueryCount(cab_user=8, cab_manager=9):
            result = self._list()
        self.assertEqual(len(result['records']), min(80, result['length']))

    @users('cab_user', 'cab_manager')
    @warmup
    def test_list_open_query_budget(self):
        with self.assertQueryCount(cab_user=8, cab_manager=8):  # measured
            result = self._list([('is_closed', '=', False)])
        self.assertTrue(result['records'])
        self.assertFalse(any(record['is_closed'] for record in result['records']))

    @users('cab_user', 'cab_manager')
    @warmup
    def test_group_by_team_and_stage_query_budget(self):
        """Grouped by team then stage: one query for the groups, one for the teams' names."""
        with self.assertQueryCount(cab_user=2, cab_manager=2):  # measured
            result = self._group()
        groups = {group['team_id'][0] for group in result['groups']}
        if self.env.user == self.user_a:
            # team A's tickets only: none of team B's, no confidential one of HR's
            self.assertEqual(groups, {self.team_a.id})
            self.assertEqual(sum(group['__count'] for group in result['groups']), 80 - 8)
        else:
            self.assertEqual(groups, {self.team_a.id, self.team_b.id})

    def test_group_order_follows_target_order(self):
        """Groups by team follow the teams' order (sequence, then name), the ticket without team
        last, reversed by a descending order; groups by stage the stages' order."""
        self._create_ticket(self.contact_a, name="Nobody's yet", team_id=False)
        Ticket = self.env['cabinet.ticket'].with_user(self.user_manager)

        def team_groups(order=None):
            groups = Ticket.web_read_group([], ['team_id'], ['__count'], order=order)['groups']
            return [group['team_id'] and group['team_id'][0] for group in groups]

        self.assertEqual(team_groups(), [self.team_a.id, self.team_b.id, False])
        self.team_a.sequence = 20
        self.assertEqual(team_groups(), [self.team_b.id, self.team_a.id, False])
        self.assertEqual(team_groups('team_id desc'), [False, self.team_a.id, self.team_b.id])
        self.team_a.sequence = self.team_b.sequence
        self.team_b.name = "Appeals team"
        self.assertEqual(team_groups(), [self.team_b.id, self.team_a.id, False])
        groups = Ticket.web_read_group([], ['stage_id'], ['__count'])['groups']
        stages = self.env['cabinet.stage'].browse(group['stage_id'][0] for group in groups)
        self.assertEqual(stages.ids, stages.sorted(lambda stage: (stage.sequence, stage.id)).ids)
        self.assertEqual(len(stages), 2)

    def test_rules_filter_on_ticket_columns(self):
        """The rules of a helpdesk user and of a manager compile to conditions on the ticket's own
        columns: no join of request types, teams or team members, so the indexes serve them."""
        Ticket = self.env['cabinet.ticket']
        for user in (self.user_a, self.user_manager, self.user_hr, self.user_employee):
            query = Ticket.with_user(user)._search([])
            sql = query.select().code
            self.assertNotIn('JOIN', sql, user.login)
            self.assertNotIn('cabinet_team_res_users_rel', sql, user.login)
            self.assertNotIn('cabinet_category', sql, user.login)

    def test_membership_change_applies_at_once(self):
        """The rules hold each user's teams: joining, leaving or leading a team changes what they
        read at once, although the rules are cached."""
        Ticket = self.env['cabinet.ticket']
        ticket_b = self._create_ticket(self.contact_b, team=self.team_b, name="Team B question")
        self.assertFalse(Ticket.with_user(self.user_a).search_count([('id', '=', ticket_b.id)]))
        self.team_b.member_ids = [Command.link(self.user_a.id)]
        self.assertTrue(Ticket.with_user(self.user_a).search_count([('id', '=', ticket_b.id)]))
        self.assertTrue(ticket_b.with_user(self.user_a).has_access('read'))
        self.team_b.member_ids = [Command.unlink(self.user_a.id)]
        self.assertFalse(Ticket.with_user(self.user_a).search_count([('id', '=', ticket_b.id)]))
        self.assertFalse(ticket_b.with_user(self.user_a).has_access('read'))
        self.team_b.leader_id = self.user_a
        self.assertTrue(ticket_b.with_user(self.user_a).has_access('read'))
        # an archived team still counts, as it did when the rules joined the teams
        self.team_b.active = False
        self.assertTrue(ticket_b.with_user(self.user_a).has_access('read'))
        self.team_b.leader_id = False
        self.assertFalse(ticket_b.with_user(self.user_a).has_access('read'))

    def test_confidential_copy_follows_request_type(self):
        """The ticket's copy of its request type's flag and handling team follows the request
        type, and the rules with it."""
        ticket = self._create_ticket(self.contact_a, name="Staff question", category_id=self.category_client.id)
        self.assertRecordValues(
            ticket, [{'is_confidential': False, 'category_team_id': self.category_client.team_id.id}]
        )
        self.assertTrue(ticket.with_user(self.user_manager).has_access('read'))
        self.category_client.confidential = True
        self.assertTrue(ticket.is_confidential)
        self.assertFalse(ticket.with_user(self.user_manager).has_access('read'))
        self.category_client.team_id = self.team_hr
        self.assertEqual(ticket.category_team_id, self.team_hr)
        self.assertTrue(ticket.with_user(self.user_hr).has_access('read'))
        self.category_client.confidential = False
        self.assertTrue(ticket.with_user(self.user_manager).has_access('read'))
        ticket.category_id = False
        self.assertRecordValues(ticket, [{'is_confidential': False, 'category_team_id': False}])

    def test_copies_not_writable(self):
        """Nobody sets the copies by hand (they would write the request type through them)."""
        ticket = self._create_ticket(self.contact_a, name="Question", category_id=self.category_hr.id)
        for values in ({'is_confidential': False}, {'category_team_id': self.team_a.id}):
            with self.assertRaises(AccessError) as caught:
                ticket.with_user(self.user_manager).write(values)
            self.assertIn("cannot be set on a ticket by hand", str(caught.exception))
        self.assertTrue(self.category_hr.confidential)
