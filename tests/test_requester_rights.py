# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from odoo.exceptions import AccessError
from odoo.fields import Command
from odoo.service.model import call_kw
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from .common import CabinetCommon, CabinetFactories

MUTED = ('odoo.addons.base.models.ir_rule', 'odoo.addons.base.models.ir_model')


class CabinetRequesterCommon(CabinetFactories):
    """An HR request of a plain employee, handled by the HR team (``user_hr``); a party A ticket
    of team A; a helpdesk user of team B who filed an HR request of their own."""

    @classmethod
    def _setup_requester_data(cls):
        cls.team_hr = cls.category_hr.team_id
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
            {'stage_id': self.stage_progress.id, 'user_id': self.user_hr.id, 'priority': '2'}
        )
        self.assertRecordValues(
            self.request, [{'stage_id': self.stage_progress.id, 'user_id': self.user_hr.id, 'priority': '2'}]
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
        self.request.with_user(self.user_hr).write({'stage_id': self.stage_progress.id})
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
        self.assertEqual(self.request.stage_id, self.env.ref('cabinet_helpdesk.cabinet_stage_cancelled'))
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
