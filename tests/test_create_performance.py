# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
import re

from odoo import fields
from odoo.exceptions import UserError
from odoo.fields import Command
from odoo.tests import new_test_user, tagged, users, warmup

from .common import CabinetCommon


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestCreatePerformance(CabinetCommon):
    """Creating tickets stays cheap: one ticket costs a fixed number of queries, and a batch
    loaded without tracking costs the same whatever its size."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tag = cls.env['cabinet.tag'].create({'name': "Roofing"})
        # the company's ticket sequence and this year's range exist, as in any firm at work
        cls._create_ticket(cls.contact_a)

    def _manager_values(self, index=0):
        return {
            'name': f"Leaking roof {index}",
            'partner_id': self.contact_a.id,
            'user_id': self.user_a.id,
            'category_id': self.category_client.id,
            'tag_ids': [Command.set(self.tag.ids)],
            'priority': '2',
        }

    @users('cab_manager')
    @warmup
    def test_create_as_manager_query_budget(self):
        """A manager files a ticket with assignee, request type, tag and priority: number, stage,
        service level, followers (creator, requester, team staff, assignee), the assignee's
        notice (queued) and the creation message."""
        # measured: 8 queries before the INSERT (request type, team, number, assignee's right to
        # read, tags, requester, service level's working time), 2 INSERTs, then mail:
        # followers (6), the assignee's notice and its place in the queue (~12), the creation
        # message and its notification (~8), the assignee's absences
        with self.assertQueryCount(cab_manager=37):
            ticket = self.env['cabinet.ticket'].create(self._manager_values())
        self.assertRecordValues(
            ticket,
            [
                {
                    'user_id': self.user_a.id,
                    'team_id': self.category_client.team_id.id,
                    'commercial_partner_id': self.party_a.id,
                    'priority': '2',
                    'legal_basis': self.category_client.legal_basis,
                    'is_closed': False,
                }
            ],
        )
        self.assertEqual(ticket.tag_ids, self.tag)
        self.assertTrue(ticket.sudo().access_token, "The ticket has its access token from the start")

    @users('cab_user')
    @warmup
    def test_create_as_team_user_query_budget(self):
        """A team user files a ticket for their team."""
        # measured: 8 queries before the INSERT, the INSERT, followers (4: the team's subtype
        # followers, the existing ones, INSERT of followers and of their subtypes), the creation
        # message and its notification (~8); the party's type is stored on the ticket (one more)
        with self.assertQueryCount(cab_user=22):
            ticket = self.env['cabinet.ticket'].create(
                {
                    'name': "Budgeted",
                    'partner_id': self.contact_a.id,
                    'team_id': self.team_a.id,
                    'category_id': self.category_client.id,
                }
            )
        self.assertEqual(
            ticket.sudo().message_partner_ids,
            self.user_a.partner_id | self.contact_a,
            "The creator (also the team's staff) and the requester follow, once each",
        )

    def test_batch_create_without_tracking_query_budget(self):
        """Loading tickets without tracking: the queries of a batch do not grow with its size."""
        Ticket = self.env['cabinet.ticket'].with_user(self.user_manager).with_context(tracking_disable=True)
        Ticket.create([self._manager_values(index) for index in range(3)])
        self.env.flush_all()
        for size in (10, 100):
            # measured: numbers, INSERT of the tickets and of their tags, absences of the
            # assignees; the stages of a team, the ticket sequence of a company and the service
            # levels of a team are cached, the rest is in the ORM's cache after the first batch
            with self.assertQueryCount(4):
                tickets = Ticket.create([self._manager_values(index) for index in range(size)])
            self.assertEqual(len(tickets), size)
        numbers = tickets.mapped('number')
        self.assertEqual(len(set(numbers)), 100, "Every ticket of a batch has its own number")
        sequence_numbers = [int(re.search(r'(\d+)$', number).group(1)) for number in numbers]
        self.assertEqual(
            sequence_numbers,
            list(range(sequence_numbers[0], sequence_numbers[0] + 100)),
            "A batch takes consecutive numbers, in the order of its tickets",
        )
        self.assertTrue(numbers[0].startswith(f"T{fields.Date.today().year}-"))

    def test_batch_auto_assignment_query_budget(self):
        """A team assigning tickets automatically: a batch costs the same whatever its size, and
        each ticket of it goes to whom it would go alone."""
        self.team_a.member_ids |= self.user_b
        Ticket = self.env['cabinet.ticket'].with_context(tracking_disable=True)
        for method in ('balanced', 'round_robin'):
            self.team_a.assignment_method = method
            alone = Ticket.create({'name': "Alone", 'partner_id': self.contact_a.id, 'team_id': self.team_a.id})
            self.assertTrue(alone.user_id, f"{method}: a member is picked")
            expected = self.team_a._get_assignee_for_new_ticket()
            counts = []
            for size in (10, 100):
                # each batch starts from the same state, nothing in cache
                self.env.flush_all()
                self.env.invalidate_all()
                before = self.env.cr.sql_log_count
                tickets = Ticket.create(
                    [
                        {'name': f"Batch {index}", 'partner_id': self.contact_a.id, 'team_id': self.team_a.id}
                        for index in range(size)
                    ]
                )
                self.env.flush_all()
                counts.append(self.env.cr.sql_log_count - before)
                self.assertEqual(tickets.user_id, expected, f"{method}: as each ticket alone")
                tickets.unlink()
            self.assertEqual(counts[0], counts[1], f"{method}: a batch of 100 costs what a batch of 10 does")
            # measured (13 and 14): the creator, teams, stages, members and their users, absences,
            # the assignment method's own query, sequence and numbers, requesters and their party's
            # type, service levels, INSERT
            self.assertLessEqual(counts[1], 14, f"{method}: query budget of a batch")

    def test_stages_of_a_team_follow_their_changes(self):
        """The stages of a team are looked up once, not at each ticket; a stage added, reordered,
        archived or given to the team from either side applies to the next ticket."""
        self.assertEqual(self._create_ticket(self.contact_a).stage_id, self.stage_new)
        Stage = self.env['cabinet.stage']
        with self.assertQueryCount(0):
            Stage._team_stage_ids(self.team_a.id)
        intake = Stage.create({'name': "Intake", 'sequence': 0, 'team_ids': [Command.link(self.team_b.id)]})
        self.assertEqual(self._create_ticket(self.contact_a).stage_id, self.stage_new, "another team's stage")
        self.team_a.stage_ids = [Command.link(intake.id)]
        self.assertEqual(self._create_ticket(self.contact_a).stage_id, intake, "linked from the team's side")
        intake.sequence = 100
        self.assertEqual(self._create_ticket(self.contact_a).stage_id, self.stage_new, "reordered")
        intake.sequence = 0
        self.assertEqual(self._create_ticket(self.contact_a).stage_id, intake)
        intake.active = False
        self.assertEqual(self._create_ticket(self.contact_a).stage_id, self.stage_new, "archived")

    def test_ticket_sequence_cached_per_company(self):
        """The ticket sequence of a company is looked up once, not at each ticket; one made in a
        savepoint rolled back since is made again at the next ticket."""
        Sequence = self.env['ir.sequence'].sudo()
        self.assertTrue(Sequence._cabinet_ticket_sequence_id(self.company.id))
        with self.assertQueryCount(0):
            Sequence._cabinet_ticket_sequence_id(self.company.id)
        branch = self.env['res.company'].create({'name': "Branch Office"})
        self.env.user.company_ids |= branch
        branch_team = self.env['cabinet.team'].create({'name': "Branch Team", 'company_id': branch.id})
        requester = self._create_party("Branch Client", party_type='company')
        Ticket = self.env['cabinet.ticket'].with_context(allowed_company_ids=[self.company.id, branch.id])
        values = {'name': "Branch request", 'partner_id': requester.id, 'team_id': branch_team.id}
        with self.assertRaises(ValueError), self.env.cr.savepoint():
            Ticket.create(values)  # makes the branch's sequence, in the savepoint
            raise ValueError("undone")
        self.assertFalse(Sequence.browse(Sequence._cabinet_ticket_sequence_id(branch.id)).exists(), "still cached")
        ticket = Ticket.create(values)
        self.assertTrue(ticket.number.endswith('00001'), "numbered from the sequence made again")
        self.assertEqual(
            Sequence._cabinet_ticket_sequence_id(branch.id), Sequence.search([('company_id', '=', branch.id)]).id
        )

    def test_batch_numbers_per_company(self):
        """A batch over two companies numbers each ticket from its own company's sequence."""
        other_company = self.env['res.company'].create({'name': "Branch Office"})
        self.env.user.company_ids |= other_company
        other_team = self.env['cabinet.team'].create({'name': "Branch Team", 'company_id': other_company.id})
        requester = self._create_party("Branch Client", party_type='company')
        tickets = (
            self.env['cabinet.ticket']
            .with_context(allowed_company_ids=[self.company.id, other_company.id])
            .create(
                [
                    {'name': "Here", 'partner_id': self.contact_a.id, 'team_id': self.team_a.id},
                    {'name': "There", 'partner_id': requester.id, 'team_id': other_team.id},
                    {'name': "There again", 'partner_id': requester.id, 'team_id': other_team.id},
                ]
            )
        )
        self.assertEqual(tickets.mapped('company_id'), self.company | other_company)
        branch_numbers = tickets[1:].mapped('number')
        self.assertEqual([int(number[-5:]) for number in branch_numbers], [1, 2], "The branch starts its own sequence")
        self.assertEqual(
            self.env['ir.sequence']
            .sudo()
            .search_count([('code', '=', 'cabinet.ticket'), ('company_id', '=', other_company.id)]),
            1,
        )

    def test_batch_company_check_names_the_ticket(self):
        """A batch mixing consistent tickets and one linked to another company's team is refused,
        whatever its size; the refusal names the ticket at fault."""
        other_company = self.env['res.company'].create({'name': "Branch Office"})
        other_team = self.env['cabinet.team'].create({'name': "Branch Team", 'company_id': other_company.id})
        values = [
            {'name': f"Fine {index}", 'partner_id': self.contact_a.id, 'team_id': self.team_a.id} for index in range(3)
        ]
        values.append(
            {
                'name': "Wrong team",
                'partner_id': self.contact_a.id,
                'team_id': other_team.id,
                'company_id': self.company.id,
            }
        )
        with self.assertRaisesRegex(UserError, "Wrong team"):
            self.env['cabinet.ticket'].create(values)

    def test_batch_assignee_checked_per_ticket(self):
        """A batch assigning tickets by hand to a user who may not read one of them is refused,
        naming that ticket, though the others of the batch are fine."""
        hr_team = self.category_hr.team_id
        outsider = new_test_user(
            self.env, login='cab_outsider', name="Otto Outsider", groups='cabinet_helpdesk.group_cabinet_user'
        )
        self.team_a.member_ids |= outsider
        with self.assertRaisesRegex(UserError, "HR question"):
            self.env['cabinet.ticket'].create(
                [
                    {
                        'name': "Roof",
                        'partner_id': self.contact_a.id,
                        'team_id': self.team_a.id,
                        'user_id': outsider.id,
                    },
                    {
                        'name': "HR question",
                        'partner_id': self.user_employee.partner_id.id,
                        'category_id': self.category_hr.id,
                        'team_id': hr_team.id,
                        'user_id': outsider.id,
                    },
                ]
            )

    def test_batch_assignee_refusal_names_every_ticket(self):
        """Tickets of a batch alike for the assignee's access are checked once, yet a refusal
        names each of them, and none of those the assignee may read."""
        hr_team = self.category_hr.team_id
        outsider = new_test_user(
            self.env, login='cab_outsider', name="Otto Outsider", groups='cabinet_helpdesk.group_cabinet_user'
        )
        self.team_a.member_ids |= outsider
        values = [
            {
                'name': f"Roof {index}",
                'partner_id': self.contact_a.id,
                'team_id': self.team_a.id,
                'user_id': outsider.id,
            }
            for index in range(3)
        ] + [
            {
                'name': f"HR question {index}",
                'partner_id': self.user_employee.partner_id.id,
                'category_id': self.category_hr.id,
                'team_id': hr_team.id,
                'user_id': outsider.id,
            }
            for index in range(3)
        ]
        with self.assertRaises(UserError) as caught:
            self.env['cabinet.ticket'].create(values)
        message = str(caught.exception)
        for index in range(3):
            self.assertIn(f"HR question {index}", message)
            self.assertNotIn(f"Roof {index}", message)
        tickets = self.env['cabinet.ticket'].create(values[:3])
        self.assertEqual(tickets.user_id, outsider)

    def test_batch_defaults_per_ticket(self):
        """Defaults given to a batch reach each of its tickets, none sharing another's values."""
        Ticket = self.env['cabinet.ticket'].with_context(
            default_tag_ids=self.tag.ids, default_team_id=self.team_a.id, tracking_disable=True
        )
        tickets = Ticket.create(
            [{'name': f"Default {index}", 'partner_id': self.contact_a.id} for index in range(3)]
            + [{'name': "Own tags", 'partner_id': self.contact_a.id, 'tag_ids': [Command.clear()]}]
        )
        self.assertEqual([ticket.tag_ids for ticket in tickets], [self.tag] * 3 + [self.tag.browse()])
        self.assertEqual(tickets.team_id, self.team_a)
        self.assertEqual(len(set(tickets.sudo().mapped('access_token'))), 4, "Each ticket has its own access token")
        # what the service levels read before saving is left out of the saved values
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT COUNT(*) FROM cabinet_ticket"
            " WHERE id IN %s AND sla_paused_hours IS NULL AND closed_by_party IS NULL",
            [tuple(tickets.ids)],
        )
        self.assertEqual(self.env.cr.fetchone()[0], 4)
