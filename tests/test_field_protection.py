# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from datetime import datetime, timedelta

from odoo.exceptions import AccessError
from odoo.fields import Command
from odoo.service.model import call_kw
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import CabinetCommon

MUTED = ('odoo.addons.base.models.ir_rule', 'odoo.addons.base.models.ir_model')


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestProtectedFields(CabinetCommon):
    """Protected fields are set by the code that owns them only: every role, through every
    path (ORM, RPC, form save), gets an AccessError and nothing changes."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user_dpo = cls._create_dpo()
        # the DPO is in team A: they may write its tickets, so only the field rule stands in the way
        cls.team_a.member_ids = [Command.link(cls.user_dpo.id)]
        cls.ticket = cls._create_ticket(cls.contact_a, name="Party A ticket")
        cls.staff_request = cls.env['cabinet.ticket'].create(
            {
                'name': "Laptop does not start",
                'partner_id': cls.user_employee.partner_id.id,
                'category_id': cls.env.ref('cabinet_helpdesk.cabinet_category_it_incident').id,
            }
        )
        cls.attempts = {
            'commercial_partner_id': cls.party_b.id,
            'anonymized': True,
            'retention_date': '2020-01-01',
            'closed_date': '2020-01-01 10:00:00',
            'legal_basis': 'consent',
            'sla_status': 'met',
            'sla_next_check': '2099-01-01 10:00:00',
            'sla_response_deadline': '2099-01-01 10:00:00',
            'sla_resolve_deadline': '2099-01-01 10:00:00',
            'first_response_date': '2020-01-01 10:00:00',
            'escalation_level': 7,
            'is_closed': True,
            'reminder_sent_date': '2020-01-01',
            'deadline_reminder_date': '2020-01-01',
            'number': "T-FORGED",
            'access_token': "known-token",
            'rating_last_value': 5.0,
            'message_follower_ids': [
                Command.create({'res_model': 'cabinet.ticket', 'res_id': cls.ticket.id, 'partner_id': cls.contact_b.id})
            ],
        }
        # role -> (user, ticket attacked, whether the user may write that ticket at all)
        cls.roles = {
            'portal user of the party': (cls.portal_a, cls.ticket, False),
            'employee on their own request': (cls.user_employee, cls.staff_request, True),
            'helpdesk user of another team': (cls.user_b, cls.ticket, False),
            'helpdesk user of the team': (cls.user_a, cls.ticket, True),
            'helpdesk manager': (cls.user_manager, cls.ticket, True),
            'data protection officer': (cls.user_dpo, cls.ticket, True),
        }

    def _stored(self, ticket):
        fnames = [fname for fname in self.attempts if self.env['cabinet.ticket']._fields[fname].store]
        values = ticket.sudo().read(fnames + ['message_partner_ids'])[0]
        values.pop('id')
        return values

    def _write_paths(self, user, ticket, vals):
        Ticket = self.env['cabinet.ticket'].with_user(user)
        return {
            'orm write': lambda: ticket.with_user(user).write(vals),
            'rpc write': lambda: call_kw(Ticket, 'write', [[ticket.id], vals], {}),
            'form save': lambda: ticket.with_user(user).web_save(vals, {}),
        }

    @mute_logger(*MUTED)
    def test_write_matrix(self):
        """No role writes a protected field, by any path; the error names the field."""
        before = {ticket: self._stored(ticket) for ticket in self.ticket | self.staff_request}
        for role, (user, ticket, may_write) in self.roles.items():
            for fname, value in self.attempts.items():
                for path, attempt in self._write_paths(user, ticket, {fname: value}).items():
                    with self.subTest(role=role, field=fname, path=path):
                        with self.assertRaises(AccessError) as caught:
                            attempt()
                        if may_write:
                            self.assertIn(f"({fname})", str(caught.exception), "The refusal names the field")
        for ticket, values in before.items():
            self.assertEqual(self._stored(ticket), values, "Nothing protected changed")
        self.assertEqual(self.ticket.commercial_partner_id, self.party_a)
        self.assertFalse(self.ticket.with_user(self.portal_b).has_access('read'), "Party B never gets the ticket")
        self.assertFalse(self.env['cabinet.ticket'].with_user(self.portal_b).search([]))

    @mute_logger(*MUTED)
    def test_write_matrix_positive_control(self):
        """The same users and paths still write what they may: the refusal is the field's."""
        for role, (user, ticket, may_write) in self.roles.items():
            if not may_write:
                continue
            for path, attempt in self._write_paths(user, ticket, {'name': f"Renamed by {role}"}).items():
                with self.subTest(role=role, path=path):
                    attempt()
                    self.assertEqual(ticket.name, f"Renamed by {role}")

    @mute_logger(*MUTED)
    def test_several_fields_named_and_nothing_written(self):
        """A write mixing allowed and protected fields is refused whole."""
        with self.assertRaises(AccessError) as caught:
            self.ticket.with_user(self.user_manager).write(
                {
                    'name': "Quietly",
                    'sla_status': 'met',
                    'escalation_level': 0,
                    'commercial_partner_id': self.party_b.id,
                }
            )
        for fname in ('sla_status', 'escalation_level', 'commercial_partner_id'):
            self.assertIn(f"({fname})", str(caught.exception))
        self.assertEqual(self.ticket.name, "Party A ticket")

    @mute_logger(*MUTED)
    def test_create_refuses_protected_fields(self):
        """Creating a ticket with a protected field, given or by context default, is refused."""
        for user in (self.user_a, self.user_manager):
            Ticket = self.env['cabinet.ticket'].with_user(user)
            for fname, value in self.attempts.items():
                vals = {'name': "New", 'partner_id': self.contact_a.id, 'team_id': self.team_a.id}
                with self.subTest(user=user.login, field=fname, path='values'):
                    with self.assertRaises(AccessError):
                        Ticket.create(dict(vals, **{fname: value}))
                if fname == 'message_follower_ids':
                    continue
                with self.subTest(user=user.login, field=fname, path='context default'):
                    with self.assertRaises(AccessError):
                        Ticket.with_context(**{f'default_{fname}': value}).create(vals)
                with self.subTest(user=user.login, field=fname, path='rpc with context'):
                    with self.assertRaises(AccessError):
                        call_kw(Ticket, 'create', [vals], {'context': {f'default_{fname}': value}})
        self.assertFalse(self.env['cabinet.ticket'].search([('commercial_partner_id', '=', self.party_b.id)]))
        ticket = (
            self.env['cabinet.ticket']
            .with_user(self.user_a)
            .create({'name': "Allowed", 'partner_id': self.contact_a.id, 'team_id': self.team_a.id})
        )
        self.assertEqual(ticket.commercial_partner_id, self.party_a, "Positive control: a plain creation works")
        self.assertTrue(ticket.number.startswith('T'))

    @mute_logger(*MUTED)
    def test_employee_cannot_create_request_with_protected_fields(self):
        Ticket = self.env['cabinet.ticket'].with_user(self.user_employee).with_context(cabinet_staff_request=True)
        vals = {'name': "Printer", 'partner_id': self.user_employee.partner_id.id}
        with self.assertRaises(AccessError):
            Ticket.create(dict(vals, first_response_date='2020-01-01 10:00:00'))
        with self.assertRaises(AccessError):
            Ticket.create(dict(vals, closed_date='2020-01-01 10:00:00'))
        self.assertTrue(Ticket.create(vals), "Positive control: the employee files their request")

    @mute_logger(*MUTED)
    def test_personal_default_cannot_set_protected_field(self):
        """A user-defined default (ir.default) of a protected field does not reach a new ticket."""
        self.env['ir.default'].set('cabinet.ticket', 'sla_status', 'met', user_id=self.user_a.id)
        vals = {'name': "With my defaults", 'partner_id': self.contact_a.id, 'team_id': self.team_a.id}
        with self.assertRaises(AccessError):
            self.env['cabinet.ticket'].with_user(self.user_a).create(vals)
        ticket = self.env['cabinet.ticket'].with_user(self.user_b).create(dict(vals, team_id=self.team_b.id))
        self.assertNotEqual(ticket.sla_status, 'met', "Positive control: another user's ticket is unaffected")

    def test_copy_keeps_nothing_protected(self):
        """Duplicating a ticket is not a way around the rule, and still works."""
        self.ticket.sudo().write({'escalation_level': 2, 'first_response_date': '2026-01-05 10:00:00'})
        copy = self.ticket.with_user(self.user_a).copy()
        self.assertRecordValues(copy, [{'escalation_level': 0, 'first_response_date': False, 'anonymized': False}])
        self.assertNotEqual(copy.number, self.ticket.number)

    def test_owner_code_still_sets_its_fields(self):
        """The owners of the fields set them as a plain team user runs them: closing date on a
        stage change, first answer on a public message, reminder markers, and the superuser."""
        ticket = self.ticket.with_user(self.user_a)
        ticket.write({'stage_id': self.stage_done.id})
        self.assertTrue(ticket.closed_date, "Closing sets the closing date")
        ticket.write({'stage_id': self.stage_progress.id})
        self.assertFalse(ticket.closed_date, "Reopening clears it")
        ticket.message_post(body="We are on it.", message_type='comment', subtype_xmlid='mail.mt_comment')
        self.assertTrue(ticket.first_response_date, "A public answer of the team is the first response")
        ticket.reminder_date = datetime.now().date()
        ticket._send_date_reminder()
        self.assertTrue(ticket.reminder_sent_date)
        ticket.date_deadline = datetime.now().date() + timedelta(days=1)
        ticket._send_deadline_reminder()
        self.assertTrue(ticket.deadline_reminder_date)
        self.ticket.sudo().write({'escalation_level': 3})
        self.assertEqual(self.ticket.escalation_level, 3, "The superuser (owning code) writes protected fields")

    def test_ticket_filed_in_a_closing_stage_gets_its_closing_date(self):
        ticket = (
            self.env['cabinet.ticket']
            .with_user(self.user_a)
            .create(
                {
                    'name': "Done at once",
                    'partner_id': self.contact_a.id,
                    'team_id': self.team_a.id,
                    'stage_id': self.stage_done.id,
                }
            )
        )
        self.assertTrue(ticket.closed_date)

    def test_escalation_as_non_superuser(self):
        """The escalation writes its level itself, whoever runs it."""
        self.env['cabinet.sla.policy'].create(
            {'name': "Fast", 'team_id': self.team_a.id, 'priority': '0', 'response_hours': 1, 'resolve_hours': 100}
        )
        monday_8 = datetime(2026, 1, 12, 8, 0)
        with self._at(monday_8):
            ticket = self._create_ticket(self.contact_a, name="Waiting for an answer")
        with self._at(monday_8 + timedelta(days=1)):
            ticket.with_user(self.user_a)._sla_escalate()
        self.assertEqual(ticket.escalation_level, 1)

    @mute_logger(*MUTED)
    def test_legal_hold_stays_with_the_dpo(self):
        """legal_hold keeps its own owner: the data protection officer, not the team."""
        with self.assertRaises(AccessError):
            self.ticket.with_user(self.user_a).write({'legal_hold': True})
        with self.assertRaises(AccessError):
            self.ticket.with_user(self.user_manager).web_save({'legal_hold': True}, {})
        self.assertFalse(self.ticket.legal_hold)
        self.ticket.with_user(self.user_dpo).write({'legal_hold': True})
        self.assertTrue(self.ticket.legal_hold, "Positive control: the DPO places the hold")
