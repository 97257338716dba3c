# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from odoo.exceptions import AccessError
from odoo.fields import Command
from odoo.service.model import call_kw
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from .common import CabinetCommon, CabinetFactories

MUTED = ('odoo.addons.base.models.ir_rule', 'odoo.addons.base.models.ir_model')


class CabinetRequesterCommon(CabinetFactories):
    """An HR request of a plain employee, handled by the HR team (``user_hr``); a party A ticket
    of team A; a helpdesk user of team B who filed an HR request of their own."""

    @classmethod
    def _setup_requester_data(cls):
        cls.team_hr = cls.category_hr.team_id
        # requester rights, not approval (tests/test_workflow.py): the request is handled at once
        cls.category_hr.approval_required = False
        cls.stage_hr_handling = cls.env.ref('cabinet_helpdesk.cabinet_stage_hr_approved')
        cls.user_hr = new_test_user(
            cls.env, login='cab_hr', name="Hanna HR", groups='cabinet_helpdesk.group_cabinet_user'
        )
        cls.team_hr.member_ids = [Command.link(cls.user_hr.id)]
        cls.user_dpo = cls._create_dpo()
        cls.request = (
            cls.env['cabinet.ticket']
            .with_user(cls.user_employee)
            .create(
                {
                    'name': "My payslip is wrong",
                    'description': "<p>March is missing the overtime.</p>",
                    'partner_id': cls.user_employee.partner_id.id,
                    'category_id': cls.category_hr.id,
                }
            )
            .with_env(cls.env)
        )
        cls.ticket = cls._create_ticket(cls.contact_a, name="Party A ticket")
        cls.contact_a2 = cls._create_party("Arthur A", parent=cls.party_a, email='arthur@party-a.example')


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestRequesterChange(CabinetRequesterCommon, CabinetCommon):
    """The requester is changed by the handling staff within the party; a manager alone moves
    a ticket to another party, and that is logged."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_requester_data()

    def test_team_user_changes_requester_within_party(self):
        self.ticket.with_user(self.user_a).write({'partner_id': self.contact_a2.id})
        self.assertEqual(self.ticket.partner_id, self.contact_a2)
        self.ticket.with_user(self.user_a).web_save({'partner_id': self.contact_a.id}, {})
        self.assertEqual(self.ticket.partner_id, self.contact_a)

    @mute_logger(*MUTED)
    def test_team_user_cannot_move_ticket_to_another_party(self):
        for path in ('write', 'web_save', 'rpc'):
            with self.subTest(path=path), self.assertRaises(AccessError):
                if path == 'write':
                    self.ticket.with_user(self.user_a).write({'partner_id': self.contact_b.id})
                elif path == 'web_save':
                    self.ticket.with_user(self.user_a).web_save({'partner_id': self.contact_b.id}, {})
                else:
                    call_kw(
                        self.env['cabinet.ticket'].with_user(self.user_a),
                        'write',
                        [[self.ticket.id], {'partner_id': self.contact_b.id}],
                        {},
                    )
        self.assertEqual(self.ticket.commercial_partner_id, self.party_a)
        self.assertFalse(self.ticket.with_user(self.portal_b).has_access('read'))

    @mute_logger(*MUTED)
    def test_other_team_user_cannot_change_requester(self):
        with self.assertRaises(AccessError):
            self.ticket.with_user(self.user_b).write({'partner_id': self.contact_a2.id})
        self.assertEqual(self.ticket.partner_id, self.contact_a)

    def test_manager_moves_ticket_to_another_party_and_it_is_logged(self):
        self.ticket.message_subscribe(partner_ids=self.portal_a.partner_id.ids)
        old_token = self.ticket._portal_ensure_token()
        self.ticket.with_user(self.user_manager).write({'partner_id': self.contact_b.id})
        self.assertEqual(self.ticket.commercial_partner_id, self.party_b)
        note = self.ticket.message_ids.filtered(lambda m: 'Moved from party' in str(m.body))
        self.assertEqual(len(note), 1, "The move is logged on the ticket")
        self.assertIn("Party A Ltd", str(note.body))
        self.assertIn("Party B Ltd", str(note.body))
        self.assertTrue(note.subtype_id.internal or note.is_internal, "The note is internal: no party reads it")
        self.assertNotIn(self.portal_a.partner_id, self.ticket.message_partner_ids, "The former party stops following")
        self.assertNotEqual(self.ticket.access_token, old_token, "Links handed to the former party no longer open it")
        self.assertFalse(self.ticket.with_user(self.portal_a).has_access('read'))
        self.assertTrue(self.ticket.with_user(self.portal_b).has_access('read'))
        portal_b_messages = (
            self.env['mail.message']
            .with_user(self.portal_b)
            .search([('model', '=', 'cabinet.ticket'), ('res_id', '=', self.ticket.id)])
        )
        self.assertNotIn(note, portal_b_messages, "The new party does not read the former party's name")


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestRequesterOnlyRights(CabinetRequesterCommon, CabinetCommon):
    """An employee files, follows, answers and withdraws their own request; they never handle it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_requester_data()

    def _refused_values(self):
        return {
            'stage_id': self.stage_progress.id,
            'user_id': self.user_employee.id,
            'priority': '3',
            'team_id': self.team_a.id,
            'category_id': self.category_client.id,
            'partner_id': self.contact_a.id,
            'active': False,
            'date_deadline': '2030-01-01',
        }

    @mute_logger(*MUTED)
    def test_requester_cannot_handle_own_request(self):
        before = self.request.read(list(self._refused_values()))[0]
        Ticket = self.env['cabinet.ticket'].with_user(self.user_employee)
        for fname, value in self._refused_values().items():
            for path in ('write', 'web_save', 'rpc'):
                with self.subTest(field=fname, path=path), self.assertRaises(AccessError):
                    if path == 'write':
                        self.request.with_user(self.user_employee).write({fname: value})
                    elif path == 'web_save':
                        self.request.with_user(self.user_employee).web_save({fname: value}, {})
                    else:
                        call_kw(Ticket, 'write', [[self.request.id], {fname: value}], {})
        with self.assertRaises(AccessError):
            self.request.with_user(self.user_employee).action_close()
        with self.assertRaises(AccessError):
            self.request.with_user(self.user_employee).action_assign_to_me()
        self.assertEqual(self.request.read(list(self._refused_values()))[0], before)

    def test_requester_rewrites_unchanged_values(self):
        """Saving the form again with the same requester is not a change."""
        self.request.with_user(self.user_employee).write(
            {'partner_id': self.user_employee.partner_id.id, 'name': "My payslip of March is wrong"}
        )
        self.assertEqual(self.request.name, "My payslip of March is wrong")

    def test_handling_staff_handles_the_request(self):
        """Positive control: the HR team moves, assigns and prioritises the same request."""
        self.request.with_user(self.user_hr).write(
            {'stage_id': self.stage_hr_handling.id, 'user_id': self.user_hr.id, 'priority': '2'}
        )
        self.assertRecordValues(
            self.request, [{'stage_id': self.stage_hr_handling.id, 'user_id': self.user_hr.id, 'priority': '2'}]
        )

    @mute_logger(*MUTED)
    def test_helpdesk_user_requesting_elsewhere_is_a_requester(self):
        """A helpdesk user of team B who files an HR request does not handle it."""
        own = (
            self.env['cabinet.ticket']
            .with_user(self.user_b)
            .create(
                {'name': "Holiday balance", 'partner_id': self.user_b.partner_id.id, 'category_id': self.category_hr.id}
            )
        )
        with self.assertRaises(AccessError):
            own.write({'stage_id': self.stage_progress.id})
        with self.assertRaises(AccessError):
            own.write({'team_id': self.team_b.id})
        self.assertEqual(own.sudo().team_id, self.team_hr)

    @mute_logger(*MUTED)
    def test_requester_edits_subject_and_description_while_new(self):
        request = self.request.with_user(self.user_employee)
        self.assertTrue(request.is_new)
        request.write({'name': "Payslip of March", 'description': "<p>Overtime missing.</p>"})
        self.assertEqual(self.request.name, "Payslip of March")
        self.request.with_user(self.user_hr).write({'stage_id': self.stage_hr_handling.id})
        request.invalidate_recordset()
        self.assertFalse(request.is_new)
        with self.assertRaises(AccessError):
            request.write({'name': "Something else"})
        with self.assertRaises(AccessError):
            request.web_save({'description': "<p>Rewritten</p>"}, {})
        self.assertEqual(self.request.name, "Payslip of March")

    def test_requester_withdraws(self):
        self.request.with_user(self.user_employee).action_withdraw(reason="Sorted out with my manager")
        self.assertTrue(self.request.is_closed)
        self.assertEqual(self.request.stage_id, self.env.ref('cabinet_helpdesk.cabinet_stage_hr_withdrawn'))
        message = self.request.message_ids.filtered(lambda m: 'Sorted out with my manager' in str(m.body))
        self.assertEqual(message.author_id, self.user_employee.partner_id)
        self.assertEqual(message.subtype_id, self.env.ref('mail.mt_comment'))

    @mute_logger(*MUTED)
    def test_nobody_else_withdraws(self):
        other = new_test_user(self.env, login='cab_other_employee', groups='base.group_user')
        with self.assertRaises(AccessError):
            self.request.with_user(other).action_withdraw()
        with self.assertRaises(AccessError):
            self.ticket.with_user(self.portal_a).action_withdraw()
        self.assertFalse(self.request.is_closed)
        self.assertFalse(self.ticket.is_closed)
        self.ticket.with_user(self.user_a).action_withdraw()
        self.assertTrue(self.ticket.is_closed, "Positive control: the handling staff may withdraw a request")


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestRequesterInternalNotes(CabinetRequesterCommon, CabinetCommon):
    """The handling team's internal notes stay with the team, even when the requester is staff."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_requester_data()
        request_hr = cls.request.with_user(cls.user_hr)
        cls.note = request_hr.message_post(
            body="Payroll made the same mistake last year", message_type='comment', subtype_xmlid='mail.mt_note'
        )
        cls.answer = request_hr.message_post(
            body="We are checking your payslip", message_type='comment', subtype_xmlid='mail.mt_comment'
        )

    def _thread_domain(self):
        return [('model', '=', 'cabinet.ticket'), ('res_id', '=', self.request.id)]

    def test_requester_search_and_fetch_hide_notes(self):
        Message = self.env['mail.message'].with_user(self.user_employee)
        found = Message.search(self._thread_domain())
        self.assertIn(self.answer, found, "Positive control: the requester reads the team's answers")
        self.assertNotIn(self.note, found)
        self.assertNotIn(self.note.id, [m['id'] for m in Message.search_read(self._thread_domain(), ['body'])])
        self.assertEqual(Message.search_count(self._thread_domain() + [('id', '=', self.note.id)]), 0)
        fetched = Message._message_fetch(domain=None, thread=self.request.with_user(self.user_employee))['messages']
        self.assertIn(self.answer, fetched)
        self.assertNotIn(self.note, fetched)
        self.assertNotIn(self.note, self.request.with_user(self.user_employee).message_ids)

    @mute_logger(*MUTED, 'odoo.addons.mail.models.mail_message')
    def test_requester_cannot_read_or_change_a_note_by_id(self):
        note = self.note.with_user(self.user_employee)
        with self.assertRaises(AccessError):
            note.read(['body'])
        with self.assertRaises(AccessError):
            note.write({'body': "Nothing to see"})
        with self.assertRaises(AccessError):
            note.unlink()
        self.assertFalse(note.has_access('read'))
        self.assertTrue(self.answer.with_user(self.user_employee).has_access('read'))
        self.assertIn("same mistake", str(self.note.body))

    @mute_logger(*MUTED, 'odoo.addons.mail.models.mail_message')
    def test_requester_changes_only_own_messages(self):
        """Like a client, the requester edits their own messages, not the team's answers."""
        answer = self.answer.with_user(self.user_employee)
        with self.assertRaises(AccessError):
            answer.write({'body': "You will be paid twice"})
        with self.assertRaises(AccessError):
            answer.unlink()
        self.assertIn("checking your payslip", str(self.answer.body))
        own = self.request.with_user(self.user_employee).message_post(
            body="Thanks", message_type='comment', subtype_xmlid='mail.mt_comment'
        )
        own.write({'body': "Thanks a lot"})
        self.assertIn("Thanks a lot", str(own.body), "Positive control: their own message")
        self.answer.with_user(self.user_hr).write({'body': "We are checking your March payslip"})

    def test_handling_staff_and_dpo_still_read_notes(self):
        for user in (self.user_hr,):
            Message = self.env['mail.message'].with_user(user)
            self.assertIn(self.note, Message.search(self._thread_domain()))
            self.assertIn(
                self.note, Message._message_fetch(domain=None, thread=self.request.with_user(user))['messages']
            )
            self.assertTrue(self.note.with_user(user).has_access('read'))
        note_a = self.ticket.message_post(body="Internal remark", message_type='comment', subtype_xmlid='mail.mt_note')
        self.assertIn(note_a, self.env['mail.message'].with_user(self.user_a).search([('res_id', '=', self.ticket.id)]))
        self.assertIn(
            note_a, self.env['mail.message'].with_user(self.user_dpo).search([('res_id', '=', self.ticket.id)])
        )

    def test_requester_not_notified_of_notes(self):
        employee = self.user_employee.partner_id
        note = self.request.with_user(self.user_hr).message_post(
            body="Ask payroll", message_type='comment', subtype_xmlid='mail.mt_note', partner_ids=employee.ids
        )
        self.assertNotIn(employee, note.notification_ids.res_partner_id, "No notification of an internal note")
        answer = self.request.with_user(self.user_hr).message_post(
            body="Payroll is on it", message_type='comment', subtype_xmlid='mail.mt_comment', partner_ids=employee.ids
        )
        self.assertIn(employee, answer.notification_ids.res_partner_id, "Positive control: answers reach them")

    def test_requester_posts_public_messages_only(self):
        """Through RPC, a requester's note or system event becomes a public comment."""
        Ticket = self.env['cabinet.ticket'].with_user(self.user_employee)
        for subtype in ('mail.mt_note', 'cabinet_helpdesk.mt_ticket_closed'):
            message_id = call_kw(
                Ticket,
                'message_post',
                [self.request.id],
                {'body': "Hello", 'message_type': 'notification', 'subtype_xmlid': subtype},
            )
            message = self.env['mail.message'].browse(message_id)
            self.assertRecordValues(
                message, [{'message_type': 'comment', 'subtype_id': self.env.ref('mail.mt_comment').id}]
            )
            self.assertFalse(message.is_internal)
        note = self.request.with_user(self.user_hr).message_post(
            body="Note", message_type='comment', subtype_xmlid='mail.mt_note'
        )
        self.assertEqual(note.subtype_id, self.env.ref('mail.mt_note'), "Positive control: staff keep their notes")
        dpo_note = self.ticket.with_user(self.user_dpo).message_post(
            body="DPO note", message_type='comment', subtype_xmlid='mail.mt_note'
        )
        self.assertEqual(dpo_note.subtype_id, self.env.ref('mail.mt_note'), "Staff who did not request keep notes")

    def test_portal_user_posts_public_messages_only_by_rpc(self):
        Ticket = self.env['cabinet.ticket'].with_user(self.portal_a)
        message_id = call_kw(
            Ticket,
            'message_post',
            [self.ticket.id],
            {'body': "Hello", 'message_type': 'notification', 'subtype_xmlid': 'cabinet_helpdesk.mt_ticket_closed'},
        )
        message = self.env['mail.message'].browse(message_id)
        self.assertRecordValues(
            message, [{'message_type': 'comment', 'subtype_id': self.env.ref('mail.mt_comment').id}]
        )


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestRequesterRoutes(CabinetRequesterCommon, HttpCase):
    """The chatter routes: thread messages for a staff requester, message post for a client."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_cabinet_data()
        cls._setup_requester_data()
        cls.note = cls.request.with_user(cls.user_hr).message_post(
            body="Internal only", message_type='comment', subtype_xmlid='mail.mt_note'
        )
        cls.answer = cls.request.with_user(cls.user_hr).message_post(
            body="Public answer", message_type='comment', subtype_xmlid='mail.mt_comment'
        )

    def _thread_messages(self, login, password):
        self.authenticate(login, password)
        return self.make_jsonrpc_request(
            '/mail/thread/messages', {'thread_model': 'cabinet.ticket', 'thread_id': self.request.id}
        )['messages']

    def test_thread_messages_route_hides_notes_from_requester(self):
        messages = self._thread_messages('cab_employee', 'cab_employee')
        self.assertIn(self.answer.id, messages)
        self.assertNotIn(self.note.id, messages)
        messages = self._thread_messages('cab_hr', 'cab_hrxx')
        self.assertIn(self.note.id, messages, "Positive control: the handling team reads its notes")

    def _post(self, ticket, message_type, subtype_xmlid):
        result = self.make_jsonrpc_request(
            '/mail/message/post',
            {
                'thread_model': 'cabinet.ticket',
                'thread_id': ticket.id,
                'post_data': {'body': "Posted", 'message_type': message_type, 'subtype_xmlid': subtype_xmlid},
            },
        )
        return self.env['mail.message'].browse(result['message_id'])

    def test_portal_user_posts_public_comments_only(self):
        self.authenticate('cab_portal', 'cab_portal')
        comment = self.env.ref('mail.mt_comment')
        for message_type, subtype_xmlid in (
            ('comment', 'mail.mt_note'),
            ('notification', 'cabinet_helpdesk.mt_ticket_closed'),
            ('email', 'mail.mt_comment'),
        ):
            with self.subTest(message_type=message_type, subtype=subtype_xmlid):
                message = self._post(self.ticket, message_type, subtype_xmlid)
                self.assertRecordValues(message, [{'message_type': 'comment', 'subtype_id': comment.id}])
                self.assertFalse(message.is_internal)
        self.assertFalse(self.ticket.is_closed, "A client's message does not close the ticket")

    def test_staff_requester_posts_public_comments_only(self):
        self.authenticate('cab_employee', 'cab_employee')
        message = self._post(self.request, 'comment', 'mail.mt_note')
        self.assertEqual(message.subtype_id, self.env.ref('mail.mt_comment'))

    def test_team_user_keeps_internal_notes(self):
        """Positive control: staff handling the ticket post internal notes through the same route."""
        self.authenticate('cab_user', 'cab_user')
        message = self._post(self.ticket, 'comment', 'mail.mt_note')
        self.assertEqual(message.subtype_id, self.env.ref('mail.mt_note'))
