# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from datetime import date, datetime

from odoo.exceptions import AccessError, UserError
from odoo.fields import Command
from odoo.service.model import call_kw
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from .common import CabinetCommon

MUTED = ('odoo.addons.base.models.ir_rule', 'odoo.addons.base.models.ir_model')


class CabinetWorkflowCommon(CabinetCommon):
    """The shipped IT and HR workflows: an IT team (``user_it``), an HR team led by ``user_hr_lead``
    with ``user_hr`` as member; ``user_employee`` files requests."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        ref = cls.env.ref
        cls.category_it = ref('cabinet_helpdesk.cabinet_category_it_incident')
        cls.team_internal = ref('cabinet_helpdesk.cabinet_team_internal')
        cls.team_hr = cls.category_hr.team_id
        cls.user_it = new_test_user(
            cls.env, login='cab_it', name="Igor IT", groups='cabinet_helpdesk.group_cabinet_user'
        )
        cls.user_hr = new_test_user(
            cls.env, login='cab_hr', name="Hanna HR", groups='cabinet_helpdesk.group_cabinet_user'
        )
        cls.user_hr_lead = new_test_user(
            cls.env, login='cab_hr_lead', name="Hugo HR Lead", groups='cabinet_helpdesk.group_cabinet_user'
        )
        cls.team_internal.member_ids = [Command.link(cls.user_it.id)]
        cls.team_hr.write(
            {
                'member_ids': [Command.link(cls.user_hr.id), Command.link(cls.user_hr_lead.id)],
                'leader_id': cls.user_hr_lead.id,
            }
        )
        cls.it_new = ref('cabinet_helpdesk.cabinet_stage_staff_new')
        cls.it_progress = ref('cabinet_helpdesk.cabinet_stage_staff_in_progress')
        cls.it_solved = ref('cabinet_helpdesk.cabinet_stage_staff_solved')
        cls.it_cancelled = ref('cabinet_helpdesk.cabinet_stage_staff_cancelled')
        cls.hr_submitted = ref('cabinet_helpdesk.cabinet_stage_hr_submitted')
        cls.hr_approved = ref('cabinet_helpdesk.cabinet_stage_hr_approved')
        cls.hr_done = ref('cabinet_helpdesk.cabinet_stage_hr_done')
        cls.hr_refused = ref('cabinet_helpdesk.cabinet_stage_hr_refused')
        cls.hr_withdrawn = ref('cabinet_helpdesk.cabinet_stage_hr_withdrawn')
        cls.stage_waiting = ref('cabinet_helpdesk.cabinet_stage_waiting')

    def _file(self, user, category, name="A request", **values):
        """``user`` files a request of ``category`` for themselves, as from My Requests."""
        vals = {'name': name, 'partner_id': user.partner_id.id, 'category_id': category.id}
        vals.update(values)
        Ticket = self.env['cabinet.ticket'].with_user(user).with_context(cabinet_staff_request=True)
        return Ticket.create(vals).with_env(self.env)

    def _rpc(self, user, method, ticket, *args):
        """Call ``method`` on ``ticket`` as ``user`` the way the web client does (``call_kw``)."""
        return call_kw(self.env(user=user)['cabinet.ticket'], method, [ticket.ids, *args], {})


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestWorkflowStages(CabinetWorkflowCommon):
    def test_incident_moves_through_its_workflow_only(self):
        incident = self._file(self.user_employee, self.category_it, "The printer is jammed")
        self.assertEqual(incident.stage_id, self.it_new)
        self.assertTrue(incident.is_new)
        self.assertEqual(
            incident.workflow_stage_ids, self.it_new | self.it_progress | self.it_solved | self.it_cancelled
        )
        self.assertNotIn(self.stage_waiting, incident.workflow_stage_ids, "no party to wait for on an IT incident")
        incident.with_user(self.user_it).write({'stage_id': self.it_progress.id})
        self.assertEqual(incident.stage_id, self.it_progress)
        for stage in (self.stage_waiting, self.stage_done, self.hr_approved):
            with self.assertRaisesRegex(UserError, "not part of that type's workflow"):
                incident.with_user(self.user_it).write({'stage_id': stage.id})
        self.assertEqual(incident.stage_id, self.it_progress)
        incident.with_user(self.user_it).action_close()
        self.assertEqual(incident.stage_id, self.it_solved)
        self.assertTrue(incident.is_closed)

    def test_types_without_workflow_keep_the_shared_stages(self):
        ticket = self._create_ticket(self.contact_a, category_id=self.category_client.id)
        self.assertEqual(ticket.stage_id, self.stage_new)
        self.assertIn(self.stage_waiting, ticket.workflow_stage_ids)
        self.assertFalse(ticket.workflow_stage_ids & (self.it_new | self.hr_submitted))
        ticket.with_user(self.user_a).write({'stage_id': self.stage_waiting.id})
        self.assertEqual(ticket.stage_id, self.stage_waiting)
        with self.assertRaisesRegex(UserError, "not part of that type's workflow"):
            ticket.with_user(self.user_a).write({'stage_id': self.it_solved.id})
        # the forms (and their statusbar) offer the workflow's stages only
        self.assertEqual(ticket._fields['stage_id'].domain, "[('id', 'in', workflow_stage_ids)]")

    def test_changing_type_joins_the_new_workflow(self):
        ticket = self._create_ticket(self.contact_a, team=self.team_internal)
        self.assertEqual(ticket.stage_id, self.stage_new)
        ticket.write({'category_id': self.category_it.id})
        self.assertEqual(ticket.stage_id, self.it_new)
        # a form changing type proposes the new workflow's first stage
        ticket.write({'category_id': self.category_client.id, 'team_id': self.team_a.id})
        self.assertEqual(ticket.stage_id, self.stage_new)

    def test_kanban_columns_follow_the_team_workflows(self):
        self._file(self.user_employee, self.category_it)
        Ticket = self.env['cabinet.ticket'].with_user(self.user_it)
        groups = Ticket.with_context(default_team_id=self.team_internal.id, read_group_expand=True).web_read_group(
            [('team_id', '=', self.team_internal.id)], ['stage_id']
        )['groups']
        columns = {group['stage_id'][0] for group in groups}
        self.assertIn(self.it_new.id, columns)
        self.assertIn(self.it_progress.id, columns)
        self.assertNotIn(self.hr_submitted.id, columns, "another team's workflow is not a column")
        groups = (
            self.env['cabinet.ticket']
            .with_user(self.user_a)
            .with_context(default_team_id=self.team_a.id, read_group_expand=True)
            .web_read_group([('team_id', '=', self.team_a.id)], ['stage_id'])['groups']
        )
        columns = {group['stage_id'][0] for group in groups}
        self.assertIn(self.stage_new.id, columns)
        self.assertFalse(columns & {self.it_new.id, self.hr_submitted.id})

    def test_withdrawn_requests_close_in_their_workflow(self):
        incident = self._file(self.user_employee, self.category_it)
        request = self._file(self.user_employee, self.category_hr)
        (incident | request).with_user(self.user_employee).action_withdraw("Solved by itself")
        self.assertEqual(incident.stage_id, self.it_cancelled)
        self.assertEqual(request.stage_id, self.hr_withdrawn)

    def test_merged_incidents_close_in_their_workflow(self):
        first = self._file(self.user_employee, self.category_it, "Printer jammed")
        second = self._file(self.user_employee, self.category_it, "Printer still jammed")
        self.env['cabinet.ticket.merge'].with_user(self.user_it).with_context(
            active_model='cabinet.ticket', active_ids=(first | second).ids
        ).create({}).action_merge()
        merged = (first | second).filtered(lambda ticket: not ticket.active)
        self.assertEqual(len(merged), 1)
        self.assertEqual(merged.stage_id, self.it_solved)

    def test_stage_configuration_changes_apply_at_once(self):
        """The workflows are cached: configuring a stage or a type applies to the next ticket."""
        self.category_client.stage_ids = [Command.link(self.it_new.id), Command.link(self.it_solved.id)]
        ticket = self._create_ticket(self.contact_a, category_id=self.category_client.id)
        self.assertEqual(ticket.stage_id, self.it_new)
        self.assertEqual(ticket.workflow_stage_ids, self.it_new | self.it_solved)
        self.it_new.category_ids = [Command.unlink(self.category_client.id)]
        self.assertEqual(self.category_client.stage_ids, self.it_solved)
        ticket.invalidate_recordset(['workflow_stage_ids'])
        self.assertEqual(ticket.workflow_stage_ids, self.it_solved)


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestApproval(CabinetWorkflowCommon):
    def test_request_waits_for_its_approver(self):
        request = self._file(self.user_employee, self.category_hr, "Work certificate for my bank")
        self.assertEqual(request.approval_state, 'to_approve')
        self.assertEqual(request.approver_id, self.user_hr_lead, "the HR team's leader approves")
        self.assertEqual(request.stage_id, self.hr_submitted)
        activity = request.activity_ids
        self.assertEqual(activity.user_id, self.user_hr_lead)
        self.assertEqual(activity.activity_type_id, self.env.ref('mail.mail_activity_data_todo'))
        # the pending filter and the counts
        mine = [('approval_state', '=', 'to_approve'), ('approver_id', '=', self.user_hr_lead.id)]
        self.assertEqual(self.env['cabinet.ticket'].with_user(self.user_hr_lead).search(mine), request)
        self.assertEqual(self.team_hr.with_user(self.user_hr_lead).to_approve_ticket_count, 1)
        # nobody moves it before the decision
        with self.assertRaisesRegex(UserError, "waits for approval"):
            request.with_user(self.user_hr).write({'stage_id': self.hr_approved.id})

    def test_confidential_request_filed_in_another_team_approved_by_its_handling_team(self):
        """The leader of the team that happens to hold an HR request is no approver: the request
        type's handling team decides, and the other team never reads it."""
        request = self._file(self.user_employee, self.category_hr, "Overtime on a site", team_id=self.team_a.id)
        self.assertEqual(request.approver_id, self.user_hr_lead, "the HR team's leader approves")
        self.assertFalse(
            self.env['cabinet.ticket'].with_user(self.user_a).search([('id', '=', request.id)]),
            "team A's leader does not read the HR request",
        )

    def test_type_approver_decides(self):
        self.category_hr.approver_id = self.user_b
        request = self._file(self.user_employee, self.category_hr)
        self.assertEqual(request.approver_id, self.user_b)
        # the approver outside the HR team reads the request they decide, and nothing more
        self.assertEqual(
            self.env['cabinet.ticket'].with_user(self.user_b).search([('category_id', '=', self.category_hr.id)]),
            request,
        )
        with self.assertRaises(AccessError), mute_logger(*MUTED):
            request.with_user(self.user_hr_lead).action_approve()
        self._rpc(self.user_b, 'action_approve', request)
        self.assertEqual(request.approval_state, 'approved')

    def test_approve(self):
        request = self._file(self.user_employee, self.category_hr)
        with self.assertRaises(AccessError), mute_logger(*MUTED):
            self._rpc(self.user_hr, 'action_approve', request)
        self._rpc(self.user_hr_lead, 'action_approve', request)
        self.assertEqual(request.approval_state, 'approved')
        self.assertEqual(request.stage_id, self.hr_approved)
        self.assertFalse(request.activity_ids, "the approver's to-do is done")
        told = request.message_ids.filtered(lambda m: 'approved by' in str(m.body))
        self.assertEqual(told.message_type, 'comment')
        self.assertEqual(told.subtype_id, self.env.ref('mail.mt_comment'), "a public message: the requester reads it")
        # the requester reads it
        self.assertIn(told, request.with_user(self.user_employee).message_ids)
        with self.assertRaisesRegex(UserError, "does not wait for approval"):
            request.with_user(self.user_hr_lead).action_approve()
        request.with_user(self.user_hr).write({'stage_id': self.hr_done.id})
        self.assertTrue(request.is_closed)

    def test_refuse_needs_a_reason_and_tells_the_requester(self):
        request = self._file(self.user_employee, self.category_hr)
        for reason in (None, '', '   '):
            with self.assertRaisesRegex(UserError, "Say why"):
                request.with_user(self.user_hr_lead).action_refuse(reason)
        action = request.with_user(self.user_hr_lead).action_open_refuse_wizard()
        wizard = (
            self.env[action['res_model']]
            .with_user(self.user_hr_lead)
            .with_context(**action['context'])
            .create({'reason': "Ask the bank for their own form"})
        )
        wizard.action_refuse()
        self.assertEqual(request.approval_state, 'refused')
        self.assertEqual(request.stage_id, self.hr_refused)
        self.assertTrue(request.is_closed)
        self.assertFalse(request.activity_ids)
        told = request.with_user(self.user_employee).message_ids.filtered(lambda m: 'refused by' in str(m.body))
        self.assertIn("Ask the bank for their own form", str(told.body))
        self.assertEqual(told.subtype_id, self.env.ref('mail.mt_comment'))

    @mute_logger(*MUTED)
    def test_requester_never_decides_nor_handles(self):
        request = self._file(self.user_employee, self.category_hr)
        employee = self.user_employee
        for method, args in (
            ('action_approve', ()),
            ('action_refuse', ("I changed my mind",)),
            ('action_open_refuse_wizard', ()),
        ):
            with self.subTest(method=method), self.assertRaises(AccessError):
                self._rpc(employee, method, request, *args)
        for vals in (
            {'approval_state': 'approved'},
            {'approver_id': employee.id},
            {'stage_id': self.hr_approved.id},
            {'priority': '3'},
            {'user_id': self.user_hr.id},
            {'team_id': self.team_a.id},
            {'urgency': 'high'},
            {'recurring_task_id': False},
        ):
            with self.subTest(vals=vals), self.assertRaises(AccessError):
                self._rpc(employee, 'write', request, vals)
            with self.subTest(vals=vals, path='web_save'), self.assertRaises(AccessError):
                self._rpc(employee, 'web_save', request, vals, {})
        # nor at filing: neither the decision, nor the priority itself
        Ticket = self.env['cabinet.ticket'].with_user(employee)
        base = {'name': "x", 'partner_id': employee.partner_id.id, 'category_id': self.category_hr.id}
        for vals in ({'approval_state': 'approved'}, {'approver_id': employee.id}, {'priority': '3'}):
            with self.subTest(create=vals), self.assertRaises(AccessError):
                Ticket.create(dict(base, **vals))
        with self.assertRaises(AccessError):
            Ticket.with_context(default_approval_state='approved').create(base)
        self.assertEqual(request.approval_state, 'to_approve')
        # positive control: withdrawing stays theirs
        request.with_user(employee).action_withdraw()
        self.assertEqual(request.stage_id, self.hr_withdrawn)

    @mute_logger(*MUTED)
    def test_decision_is_never_written_by_hand(self):
        """approval_state and approver_id belong to the approval: not even the approver, the handling
        team or a manager writes them, by any path; the approval's own methods do."""
        request = self._file(self.user_employee, self.category_hr)
        self.team_hr.member_ids = [Command.link(self.user_manager.id)]
        for user in (self.user_hr_lead, self.user_hr, self.user_manager):
            for vals in ({'approval_state': 'approved'}, {'approver_id': user.id}, {'approval_state': 'none'}):
                for method, args in (('write', (vals,)), ('web_save', (vals, {}))):
                    with self.subTest(user=user.login, vals=vals, method=method), self.assertRaises(AccessError):
                        self._rpc(user, method, request, *args)
        with self.assertRaises(AccessError):
            self.env['cabinet.ticket'].with_user(self.user_hr).create(
                {
                    'name': "Pre-approved",
                    'partner_id': self.user_employee.partner_id.id,
                    'category_id': self.category_hr.id,
                    'approval_state': 'approved',
                }
            )
        self.assertRecordValues(request, [{'approval_state': 'to_approve', 'approver_id': self.user_hr_lead.id}])
        # a manager who is not the approver does not decide either
        with self.assertRaises(AccessError):
            self._rpc(self.user_manager, 'action_approve', request)

    @mute_logger(*MUTED)
    def test_approver_requesting_goes_to_a_manager(self):
        self.team_hr.member_ids = [Command.link(self.user_manager.id)]
        request = self._file(self.user_hr_lead, self.category_hr, "My own contract")
        self.assertEqual(request.approver_id, self.user_manager, "a manager decides, never the requester")
        self.assertEqual(request.activity_ids.user_id, self.user_manager)
        with self.assertRaises(AccessError):
            self._rpc(self.user_hr_lead, 'action_approve', request)
        with self.assertRaises(AccessError):
            self._rpc(self.user_hr, 'action_approve', request)
        self._rpc(self.user_manager, 'action_approve', request)
        self.assertEqual(request.approval_state, 'approved')

    @mute_logger(*MUTED)
    def test_request_without_approver_waits_for_one(self):
        """A confidential type whose team has no leader nor manager: no manager outside the team
        is let in; the team is told, and the leader named later decides."""
        self.team_hr.leader_id = False
        request = self._file(self.user_employee, self.category_hr)
        self.assertEqual(request.approval_state, 'to_approve')
        self.assertFalse(request.approver_id, "no manager outside the HR team reads the request")
        self.assertFalse(request.activity_ids)
        self.assertTrue(request.message_ids.filtered(lambda m: 'Nobody may approve' in str(m.body)))
        with self.assertRaises(AccessError):
            self._rpc(self.user_hr, 'action_approve', request)
        self.team_hr.leader_id = self.user_hr_lead
        self._rpc(self.user_hr_lead, 'action_approve', request)
        self.assertEqual(request.approval_state, 'approved')

    @mute_logger(*MUTED)
    def test_confidential_request_stays_invisible(self):
        request = self._file(self.user_employee, self.category_hr, "Sick leave certificate")
        domain = [('id', '=', request.id)]
        outsiders = (self.user_a, self.user_manager, self.user_it, self.user_b)
        for user in outsiders:
            Ticket = self.env['cabinet.ticket'].with_user(user)
            with self.subTest(user=user.login):
                self.assertFalse(Ticket.search(domain))
                self.assertFalse(Ticket.search([('approval_state', '=', 'to_approve')]))
                self.assertEqual(Ticket.search_count([('category_id', '=', self.category_hr.id)]), 0)
                self.assertFalse(Ticket._read_group([('approval_state', '=', 'to_approve')], ['team_id'], ['__count']))
                groups = Ticket.web_read_group([], ['approval_state'])['groups']
                self.assertNotIn('to_approve', [group['approval_state'] for group in groups])
                with self.assertRaises(AccessError):
                    request.with_user(user).read(['name', 'approval_state'])
                self.assertEqual(self.team_hr.with_user(user).to_approve_ticket_count, 0)
        # positive control: the requester and the HR team
        for user in (self.user_employee, self.user_hr, self.user_hr_lead):
            self.assertEqual(self.env['cabinet.ticket'].with_user(user).search(domain), request)


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestUrgencyImpact(CabinetWorkflowCommon):
    def test_priority_matrix(self):
        expected = {
            ('low', 'low'): '0',
            ('low', 'medium'): '0',
            ('medium', 'low'): '0',
            ('low', 'high'): '1',
            ('medium', 'medium'): '1',
            ('high', 'low'): '1',
            ('medium', 'high'): '2',
            ('high', 'medium'): '2',
            ('high', 'high'): '3',
        }
        for (urgency, impact), priority in expected.items():
            with self.subTest(urgency=urgency, impact=impact):
                incident = self._file(self.user_employee, self.category_it, urgency=urgency, impact=impact)
                self.assertEqual(incident.priority, priority)
        incident = self._file(self.user_employee, self.category_it, urgency='low', impact='low')
        incident.with_user(self.user_it).write({'urgency': 'high'})
        self.assertEqual(incident.priority, '1')
        incident.with_user(self.user_it).write({'impact': 'high'})
        self.assertEqual(incident.priority, '3')
        # one of both: the priority stays the team's
        incident = self._file(self.user_employee, self.category_it, urgency='high')
        self.assertEqual(incident.priority, '0')

    @mute_logger(*MUTED)
    def test_requester_sets_urgency_at_filing_only(self):
        incident = self._file(self.user_employee, self.category_it, urgency='high', impact='high')
        self.assertEqual(incident.priority, '3')
        for vals in ({'urgency': 'low'}, {'impact': 'low'}, {'priority': '0'}):
            with self.subTest(vals=vals), self.assertRaises(AccessError):
                self._rpc(self.user_employee, 'write', incident, vals)
        self.assertEqual(incident.priority, '3')
        with self.assertRaises(AccessError):
            self._file(self.user_employee, self.category_it, priority='3')
        # positive control: the IT team sets the priority
        incident.with_user(self.user_it).write({'priority': '1'})
        self.assertEqual(incident.priority, '1')

    def test_overview_counts_open_incidents_by_urgency(self):
        self._file(self.user_employee, self.category_it, urgency='high', impact='low')
        self._file(self.user_employee, self.category_it, urgency='high', impact='high')
        closed = self._file(self.user_employee, self.category_it, urgency='high', impact='medium')
        self._file(self.user_employee, self.category_it, urgency='low', impact='low')
        closed.with_user(self.user_it).action_close()
        team = self.team_internal.with_user(self.user_it)
        self.assertEqual((team.urgency_high_count, team.urgency_medium_count, team.urgency_low_count), (2, 0, 1))
        action = team.with_context(cabinet_urgency='high').action_view_urgency_tickets()
        self.assertEqual(self.env['cabinet.ticket'].with_user(self.user_it).search_count(action['domain']), 2)


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestRecurringTasks(CabinetWorkflowCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.category_admin = cls.env.ref('cabinet_helpdesk.cabinet_category_admin_task')
        cls.vat = cls.env['cabinet.recurring.task'].create(
            {
                'name': "VAT return",
                'category_id': cls.category_admin.id,
                'interval_number': 1,
                'interval_type': 'months',
                'next_date': date(2026, 3, 20),
                'lead_days': 10,
                'user_id': cls.user_it.id,
            }
        )
        cls.insurance = cls.env['cabinet.recurring.task'].create(
            {
                'name': "Insurance renewal",
                'team_id': cls.team_a.id,
                'interval_number': 1,
                'interval_type': 'years',
                'next_date': date(2026, 3, 25),
                'lead_days': 30,
            }
        )

    def _tickets(self, task):
        return self.env['cabinet.ticket'].with_context(active_test=False).search([('recurring_task_id', '=', task.id)])

    def _run(self, when, **kwargs):
        with self._at(when):
            return self._run_cron('_cron_generate_tickets', model='cabinet.recurring.task', **kwargs)

    def test_one_ticket_per_due_date_however_often_it_runs(self):
        self.assertEqual(self.vat.partner_id, self.env.company.partner_id, "the firm's own task by default")
        self._run(datetime(2026, 3, 5, 8))
        self.assertFalse(self._tickets(self.vat), "opens lead_days ahead, not before")
        self._run(datetime(2026, 3, 10, 8))
        ticket = self._tickets(self.vat)
        self.assertEqual(len(ticket), 1)
        self.assertEqual(ticket.date_deadline, date(2026, 3, 20))
        self.assertEqual(ticket.category_id, self.category_admin)
        self.assertEqual(ticket.team_id, self.category_admin.team_id)
        self.assertEqual(ticket.user_id, self.user_it)
        self.assertEqual(ticket.partner_id, self.env.company.partner_id)
        self.assertEqual(self.vat.next_date, date(2026, 4, 20))
        self._run(datetime(2026, 3, 10, 9))
        self._run(datetime(2026, 3, 11, 8))
        self.assertEqual(len(self._tickets(self.vat)), 1)
        self.assertEqual(self.vat.ticket_count, 1)
        action = self.vat.action_view_tickets()
        self.assertEqual(self.env['cabinet.ticket'].search(action['domain']), ticket)

    def test_late_run_catches_up_every_missed_due_date(self):
        self._run(datetime(2026, 5, 15, 8))
        tickets = self._tickets(self.vat)
        self.assertEqual(
            sorted(tickets.mapped('date_deadline')), [date(2026, 3, 20), date(2026, 4, 20), date(2026, 5, 20)]
        )
        self.assertEqual(self.vat.next_date, date(2026, 6, 20))
        self.assertEqual(self._tickets(self.insurance).date_deadline, date(2026, 3, 25))
        self.assertEqual(self.insurance.next_date, date(2027, 3, 25))
        self._run(datetime(2026, 5, 16, 8))
        self.assertEqual(len(self._tickets(self.vat)), 3)
        self.assertEqual(len(self._tickets(self.insurance)), 1)

    def test_interrupted_run_resumes_without_repeating(self):
        batches = self._run(datetime(2026, 3, 12, 8), stop_after_batches=1, batch_size=1)
        self.assertEqual(batches, [1])
        first = self._tickets(self.vat) | self._tickets(self.insurance)
        self.assertEqual(len(first), 1, "one task done before the interruption")
        self._run(datetime(2026, 3, 12, 9), batch_size=1)
        self.assertEqual(len(self._tickets(self.vat)), 1)
        self.assertEqual(len(self._tickets(self.insurance)), 1)
        self._run(datetime(2026, 3, 12, 10), batch_size=1)
        self.assertEqual(len(self._tickets(self.vat) | self._tickets(self.insurance)), 2)

    def test_archived_tasks_open_nothing(self):
        self.vat.active = False
        self._run(datetime(2026, 3, 15, 8))
        self.assertFalse(self._tickets(self.vat))
        self.assertEqual(len(self._tickets(self.insurance)), 1)
