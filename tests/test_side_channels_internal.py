# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
"""Nothing attached to a ticket is more visible than the ticket (PRODUCT §4.14), and parties never
share a thread (§1), for what staff see: wizard fields, emails to qualify, notifications,
assignment, reminders, digests and coordinations. Written from the attacker's side, each with a
positive control."""

from datetime import date, datetime, timedelta
from unittest.mock import patch

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.fields import Command
from odoo.service.model import call_kw
from odoo.tests import freeze_time, new_test_user, tagged
from odoo.tools import mute_logger

from odoo.addons.mail.tests.common import MailCommon

from .common import CabinetFactories

RULE_LOGGERS = ('odoo.addons.base.models.ir_rule', 'odoo.addons.base.models.ir_model')
TICKET_LOGGER = 'odoo.addons.cabinet_helpdesk.models.party_rule.cabinet_ticket'
MERGE_SPEC = {'target_ticket_id': {'fields': {'display_name': {}}}, 'warning': {}, 'ticket_ids': {}}


class CabinetSideChannelsCase(CabinetFactories, MailCommon):
    """The firm of ``CabinetFactories`` plus an HR team handling the confidential HR request type
    (Hanna leads it and administers the helpdesk; Hugo is a member), a second member of team A,
    and an HR request of Eva.

    Once the HR team hands an HR request to another team, only its requester and the helpdesk
    managers of the HR team may read it (ticket record rules): Hanna, not Hugo."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_cabinet_data()
        cls.env['cabinet.sla.policy'].search([]).active = False
        cls.hr_leader = new_test_user(
            cls.env,
            login='cab_hr_leader',
            name="Hanna HR",
            email='hanna@firm.example',
            groups='cabinet_helpdesk.group_cabinet_manager',
            notification_type='email',
        )
        cls.hr_user = new_test_user(
            cls.env,
            login='cab_hr_user',
            name="Hugo HR",
            email='hugo@firm.example',
            groups='cabinet_helpdesk.group_cabinet_user',
            notification_type='email',
        )
        cls.user_a2 = new_test_user(
            cls.env,
            login='cab_user_a2',
            name="Aline Second",
            email='aline@firm.example',
            groups='cabinet_helpdesk.group_cabinet_user',
            notification_type='email',
        )
        cls.user_a.notification_type = 'email'
        cls.team_a.member_ids |= cls.user_a2
        cls.team_hr = cls.category_hr.team_id
        cls.team_hr.write(
            {'member_ids': [Command.set((cls.hr_leader | cls.hr_user).ids)], 'leader_id': cls.hr_leader.id}
        )
        cls.hr_ticket = cls._create_ticket(
            cls.user_employee.partner_id,
            team=cls.team_hr,
            name="Payslip error after sick leave",
            category_id=cls.category_hr.id,
            user_id=cls.hr_user.id,
        )
        cls.ticket_a = cls._create_ticket(cls.contact_a, name="Facade works")
        cls.ticket_a2 = cls._create_ticket(cls.contact_a, name="Facade works, again")
        cls.ticket_b = cls._create_ticket(cls.contact_b, team=cls.team_b, name="Party B's dispute")

    def _assert_not_shown(self, ticket, text):
        self.assertNotIn(ticket.number, text or '', f"{ticket.number} must not show")
        self.assertNotIn(ticket.name, text or '', f"{ticket.name!r} must not show")


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestWizardTicketOracles(CabinetSideChannelsCase):
    """A ticket id given by the user to a wizard or an email to qualify never comes back with the
    number and subject of a ticket the user may not read."""

    @mute_logger(*RULE_LOGGERS)
    def test_merge_wizard_refuses_foreign_tickets(self):
        Merge = self.env['cabinet.ticket.merge'].with_user(self.user_a)
        for foreign in (self.ticket_b, self.hr_ticket):
            with self.assertRaises(AccessError):
                call_kw(
                    Merge,
                    'web_save',
                    [[], {'ticket_ids': [Command.set((self.ticket_a | foreign).ids)]}],
                    {'specification': MERGE_SPEC},
                )
            with self.assertRaises(AccessError):
                call_kw(
                    Merge,
                    'web_save',
                    [
                        [],
                        {
                            'ticket_ids': [Command.set((self.ticket_a | self.ticket_a2).ids)],
                            'target_ticket_id': foreign.id,
                        },
                    ],
                    {'specification': MERGE_SPEC},
                )
            # form changes: the selection, a target typed in, a default
            with self.assertRaises(AccessError):
                call_kw(Merge, 'onchange', [[], {'ticket_ids': [Command.set(foreign.ids)]}, [], MERGE_SPEC], {})
            with self.assertRaises(AccessError):
                call_kw(Merge, 'onchange', [[], {'target_ticket_id': foreign.id}, [], MERGE_SPEC], {})
            context = {'active_model': 'cabinet.ticket', 'active_ids': (self.ticket_a | foreign).ids}
            with self.assertRaises(AccessError):
                call_kw(Merge, 'onchange', [[], {}, [], MERGE_SPEC], {'context': context})
            with self.assertRaises(AccessError):
                call_kw(
                    Merge, 'onchange', [[], {}, [], MERGE_SPEC], {'context': {'default_target_ticket_id': foreign.id}}
                )
        self.assertFalse(self.env['cabinet.ticket.merge'].search([('create_uid', '=', self.user_a.id)]))

    def test_merge_wizard_own_tickets(self):
        """Positive control: the user's own tickets open the wizard with the target's name."""
        Merge = self.env['cabinet.ticket.merge'].with_user(self.user_a)
        tickets = self.ticket_a | self.ticket_a2
        result = call_kw(Merge, 'onchange', [[], {'ticket_ids': [Command.set(tickets.ids)]}, [], MERGE_SPEC], {})
        self.assertEqual(result['value']['target_ticket_id']['display_name'], self.ticket_a.display_name)
        context = {'active_model': 'cabinet.ticket', 'active_ids': tickets.ids}
        result = call_kw(Merge, 'onchange', [[], {}, [], MERGE_SPEC], {'context': context})
        self.assertEqual(result['value']['target_ticket_id']['display_name'], self.ticket_a.display_name)
        [values] = call_kw(
            Merge, 'web_save', [[], {'ticket_ids': [Command.set(tickets.ids)]}], {'specification': MERGE_SPEC}
        )
        self.assertEqual(values['target_ticket_id']['id'], self.ticket_a.id)
        wizard = Merge.browse(values['id'])
        wizard.action_merge()
        self.assertFalse(self.ticket_a2.active)

    @mute_logger(*RULE_LOGGERS)
    def test_mail_pending_ticket_link(self):
        Pending = self.env['cabinet.mail.pending']
        pending = Pending.create({'name': "Kept email", 'reason': 'missing', 'team_id': self.team_a.id})
        pending_user = pending.with_user(self.user_a)
        spec = {'ticket_id': {'fields': {'display_name': {}}}, 'name': {}}
        for foreign in (self.ticket_b, self.hr_ticket):
            with self.assertRaises(AccessError):
                call_kw(pending_user, 'web_save', [pending.ids, {'ticket_id': foreign.id}], {'specification': spec})
            with self.assertRaises(AccessError):
                call_kw(pending_user, 'write', [pending.ids, {'ticket_id': foreign.id}], {})
            with self.assertRaises(AccessError):
                call_kw(pending_user, 'onchange', [pending.ids, {'ticket_id': foreign.id}, ['ticket_id'], spec], {})
            with self.assertRaises(AccessError):
                call_kw(
                    Pending.with_user(self.user_a),
                    'onchange',
                    [[], {}, [], spec],
                    {'context': {'default_ticket_id': foreign.id}},
                )
        self.assertFalse(pending.ticket_id)
        # positive control: a ticket of the user's own team is shown
        [values] = call_kw(
            pending_user, 'web_save', [pending.ids, {'ticket_id': self.ticket_a.id}], {'specification': spec}
        )
        self.assertEqual(values['ticket_id']['display_name'], self.ticket_a.display_name)
        # the ticket created from the email later goes to another team: the email stays workable
        self.ticket_a.write({'team_id': self.team_b.id})
        self.assertFalse(self.ticket_a.with_user(self.user_a).has_access('read'))
        form_values = {'name': "Kept", 'ticket_id': self.ticket_a.id}
        result = call_kw(pending_user, 'onchange', [pending.ids, form_values, ['name'], spec], {})
        self.assertNotIn('ticket_id', result['value'])

    @mute_logger(*RULE_LOGGERS)
    def test_data_request_and_legal_hold_wizards(self):
        """The data protection officer does not read confidential tickets through the wizards."""
        dpo = self._create_dpo()
        Request = self.env['res.partner.data.request'].with_user(dpo)
        spec = {'ticket_id': {'fields': {'display_name': {}}}}
        values = {'partner_id': self.user_employee.partner_id.id, 'note': "Access to my file"}
        with self.assertRaises(AccessError):
            call_kw(Request, 'web_save', [[], dict(values, ticket_id=self.hr_ticket.id)], {'specification': spec})
        with self.assertRaises(AccessError):
            call_kw(Request, 'onchange', [[], dict(values, ticket_id=self.hr_ticket.id), [], spec], {})
        with self.assertRaises(ValidationError):
            call_kw(
                Request,
                'web_save',
                [[], dict(values, partner_id=self.contact_b.id, ticket_id=self.ticket_a.id)],
                {'specification': spec},
            )
        [saved] = call_kw(
            Request,
            'web_save',
            [[], dict(values, partner_id=self.contact_a.id, ticket_id=self.ticket_a.id)],
            {'specification': spec},
        )
        self.assertEqual(saved['ticket_id']['display_name'], self.ticket_a.display_name)
        LegalHold = self.env['cabinet.ticket.legal.hold'].with_user(dpo)
        with self.assertRaises(AccessError):
            call_kw(
                LegalHold,
                'web_save',
                [[], {'ticket_ids': [Command.set(self.hr_ticket.ids)], 'reason': "Dispute"}],
                {'specification': {'ticket_ids': {}}},
            )
        call_kw(
            LegalHold,
            'web_save',
            [[], {'ticket_ids': [Command.set(self.ticket_b.ids)], 'reason': "Dispute"}],
            {'specification': {'ticket_ids': {}}},
        )

    @mute_logger(*RULE_LOGGERS)
    def test_reassign_wizard_refuses_foreign_tickets(self):
        Reassign = self.env['cabinet.ticket.reassign'].with_user(self.user_a)
        spec = {'ticket_ids': {'fields': {'display_name': {}}}, 'team_id': {}}
        with self.assertRaises(AccessError):
            call_kw(
                Reassign,
                'web_save',
                [[], {'ticket_ids': [Command.set(self.hr_ticket.ids)], 'team_id': self.team_a.id, 'reason': "Mine"}],
                {'specification': spec},
            )
        [values] = call_kw(
            Reassign,
            'web_save',
            [[], {'ticket_ids': [Command.set(self.ticket_a.ids)], 'team_id': self.team_b.id, 'reason': "Theirs"}],
            {'specification': spec},
        )
        Reassign.browse(values['id']).action_reassign()
        self.assertEqual(self.ticket_a.team_id, self.team_b)


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestConfidentialTicketHandedOver(CabinetSideChannelsCase):
    """The HR team hands an HR request to team A, whose members may not read it: nobody of team A
    is assigned it, hears of it, gets a to-do for it or finds it in a digest; HR still does."""

    def _hand_over_to_team_a_with_former_hr_member(self):
        """Aline used to be of the HR team and was assigned the request; the HR team hands it to
        team A, and Aline leaves the HR team: she stays assignee and follower but may no longer
        read it."""
        self.team_hr.member_ids |= self.user_a2
        ticket = self.hr_ticket
        ticket.with_user(self.hr_leader).write({'user_id': self.user_a2.id})
        ticket.message_subscribe(partner_ids=self.hr_leader.partner_id.ids)
        ticket.with_user(self.hr_leader).write({'team_id': self.team_a.id})
        self.team_hr.member_ids -= self.user_a2
        self.assertEqual(ticket.user_id, self.user_a2)
        self.assertIn(self.user_a2.partner_id, ticket.message_partner_ids)
        self.assertFalse(ticket.with_user(self.user_a2).has_access('read'))
        return ticket

    def test_assigning_to_who_cannot_read_refused(self):
        ticket = self.hr_ticket.with_user(self.hr_leader)
        with self.assertRaisesRegex(UserError, "Anna Architect cannot read ticket"):
            ticket.write({'user_id': self.user_a.id})
        with self.assertRaisesRegex(UserError, "cannot read ticket"):
            ticket.write({'team_id': self.team_a.id, 'user_id': self.user_a.id})
        with self.assertRaisesRegex(UserError, "cannot read ticket"):
            self.env['cabinet.ticket'].with_user(self.hr_leader).create(
                {
                    'name': "Another HR request",
                    'partner_id': self.user_employee.partner_id.id,
                    'category_id': self.category_hr.id,
                    'user_id': self.user_a.id,
                }
            )
        wizard = (
            self.env['cabinet.ticket.reassign']
            .with_user(self.hr_leader)
            .create(
                {
                    'ticket_ids': [Command.set(self.hr_ticket.ids)],
                    'team_id': self.team_a.id,
                    'user_id': self.user_a.id,
                    'reason': "Laptop to prepare",
                }
            )
        )
        with self.assertRaisesRegex(UserError, "cannot read ticket"):
            wizard.action_reassign()
        self.assertEqual(self.hr_ticket.user_id, self.hr_user)
        # positive controls: someone of the handling team; a client ticket to another team's member
        ticket.write({'user_id': self.hr_leader.id})
        self.assertEqual(self.hr_ticket.user_id, self.hr_leader)
        self.ticket_a.with_user(self.user_a).write({'team_id': self.team_b.id, 'user_id': self.user_b.id})
        self.assertEqual(self.ticket_a.user_id, self.user_b)
        self.assertIn(self.user_b.partner_id, self.ticket_a.message_partner_ids)

    def test_reassign_wizard_hands_over_without_assignee(self):
        wizard = (
            self.env['cabinet.ticket.reassign']
            .with_user(self.hr_leader)
            .create({'ticket_ids': [Command.set(self.hr_ticket.ids)], 'team_id': self.team_a.id, 'reason': "Laptop"})
        )
        wizard.action_reassign()
        self.assertRecordValues(self.hr_ticket, [{'team_id': self.team_a.id, 'user_id': False}])

    def test_automatic_assignment_picks_only_readers(self):
        for method in ('balanced', 'round_robin'):
            self.team_a.assignment_method = method
            hr_ticket = self._create_ticket(
                self.user_employee.partner_id, team=self.team_hr, name="HR", category_id=self.category_hr.id
            )
            hr_ticket.with_user(self.hr_leader).write({'team_id': self.team_a.id})
            self.assertFalse(hr_ticket.user_id, f"{method}: nobody of team A may read an HR request")
            created = self.env['cabinet.ticket'].create(
                {
                    'name': "HR filed in team A",
                    'partner_id': self.user_employee.partner_id.id,
                    'category_id': self.category_hr.id,
                    'team_id': self.team_a.id,
                }
            )
            self.assertFalse(created.user_id, f"{method}: nobody of team A may read an HR request")
            # positive controls: client tickets get a member of team A
            self.ticket_b.with_user(self.user_b).write({'team_id': self.team_a.id})
            self.assertIn(self.ticket_b.user_id, self.team_a.member_ids, method)
            client = self._create_ticket(self.contact_a, name=f"Client {method}")
            self.assertIn(client.user_id, self.team_a.member_ids, method)
            self.ticket_b.with_user(self.user_a).write({'team_id': self.team_b.id, 'user_id': False})

    def test_no_notification_to_who_cannot_read(self):
        ticket = self._hand_over_to_team_a_with_former_hr_member()
        with self.mock_mail_gateway():
            ticket.with_user(self.hr_user).message_post(
                body="Your corrected payslip is ready.", message_type='comment', subtype_xmlid='mail.mt_comment'
            )
        message = ticket.message_ids[0]
        notified = self.env['mail.notification'].search([('mail_message_id', '=', message.id)]).res_partner_id
        self.assertNotIn(self.user_a2.partner_id, notified, "the assignee who may not read it hears nothing")
        self.assertNotIn(self.user_a2.partner_id, self._new_mails.recipient_ids)
        self.assertNotIn(self.user_a2.email, str(self._mails))
        # positive control: the HR team still hears of it
        self.assertIn(self.hr_leader.partner_id, notified)
        self.assertIn(self.hr_leader.partner_id, self._new_mails.recipient_ids)

    @mute_logger(TICKET_LOGGER)
    def test_team_leader_does_not_follow_what_they_cannot_read(self):
        """Team A's leader follows the team's new tickets: not an HR request handed to the team."""
        mt_team_ticket_new = self.env.ref('cabinet_helpdesk.mt_team_ticket_new')
        self.team_a.message_subscribe(partner_ids=self.user_a.partner_id.ids, subtype_ids=mt_team_ticket_new.ids)
        self.hr_ticket.with_user(self.hr_leader).write({'team_id': self.team_a.id})
        self.assertNotIn(self.user_a.partner_id, self.hr_ticket.message_partner_ids)
        with self.assertRaisesRegex(UserError, "they cannot read it"):
            self.hr_ticket.with_user(self.hr_leader).message_subscribe(partner_ids=self.user_a.partner_id.ids)
        self.hr_ticket.with_context(cabinet_mail_gateway=True).message_subscribe(partner_ids=self.user_a.partner_id.ids)
        self.assertNotIn(self.user_a.partner_id, self.hr_ticket.message_partner_ids)
        # positive control: a client ticket handed to team A
        self.ticket_b.with_user(self.user_b).write({'team_id': self.team_a.id})
        self.assertIn(self.user_a.partner_id, self.ticket_b.message_partner_ids)

    @freeze_time('2026-03-10 09:00:00')
    def test_reminders_go_to_who_may_read(self):
        ticket = self._hand_over_to_team_a_with_former_hr_member()
        ticket.reminder_date = date(2026, 3, 10)
        client = self._create_ticket(self.contact_a, user_id=self.user_a2.id, reminder_date=date(2026, 3, 10))
        self._run_cron('_cron_send_reminders')
        todos = ticket.activity_ids
        self.assertFalse(todos.filtered(lambda a: a.user_id in (self.user_a | self.user_a2)))
        self.assertEqual(todos.user_id, self.hr_leader, "the leader of the request type's handling team")
        self.assertEqual(ticket._reminder_user(), self.hr_leader)
        # positive control
        self.assertEqual(client.activity_ids.user_id, self.user_a2)

    def test_todos_only_for_readers(self):
        self.env['cabinet.ticket']._create_todos({self.hr_ticket: (self.user_a, "Look at it", date.today(), "Please")})
        # (the HR request also holds its approver's to-do: the leader's)
        todos = self.hr_ticket.activity_ids.filtered(lambda activity: activity.summary == "Look at it")
        self.assertFalse(todos, "no to-do naming a ticket its user may not read")
        self.env['cabinet.ticket']._create_todos({self.hr_ticket: (self.hr_user, "Look at it", date.today(), "Please")})
        todos = self.hr_ticket.activity_ids.filtered(lambda activity: activity.summary == "Look at it")
        self.assertEqual(todos.user_id, self.hr_user)

    def test_digest_only_lists_what_the_leader_may_read(self):
        now = datetime(2026, 3, 30, 7, 0)
        past = now - timedelta(days=30)
        Ticket = self.env['cabinet.ticket']
        with freeze_time(past), patch.object(self.env.cr, 'now', lambda: past):
            handed = Ticket.create(
                {
                    'name': "Sick leave certificate",
                    'partner_id': self.user_employee.partner_id.id,
                    'category_id': self.category_hr.id,
                    'team_id': self.team_hr.id,
                }
            )
            kept = Ticket.create(
                {
                    'name': "Parental leave",
                    'partner_id': self.user_employee.partner_id.id,
                    'category_id': self.category_hr.id,
                    'team_id': self.team_hr.id,
                }
            )
            client = Ticket.create(
                {'name': "Permit file waiting", 'partner_id': self.contact_a.id, 'team_id': self.team_a.id}
            )
            handed.with_user(self.hr_leader).write({'team_id': self.team_a.id})
            self.env.cr.flush()  # the tracking message of the hand-over is dated now
        with self._at(now), self.mock_mail_gateway():
            self._run_cron('_cron_stale_digest')
        digests = self._new_mails.filtered(lambda m: m.model == 'cabinet.team')
        digest_a = digests.filtered(lambda m: self.user_a.partner_id in m.recipient_ids)
        digest_hr = digests.filtered(lambda m: self.hr_leader.partner_id in m.recipient_ids)
        self.assertEqual(len(digest_a), 1)
        self._assert_not_shown(handed, digest_a.body_html)
        self._assert_not_shown(kept, digest_a.body_html)
        self.assertIn(client.number, digest_a.body_html, "positive control: the team's own ticket")
        self.assertEqual(len(digest_hr), 1)
        self.assertIn(kept.number, digest_hr.body_html)
        self.assertIn(handed.number, digest_hr.body_html, "reviewed by its request type's handling team")


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestCoordinationInternalThread(CabinetSideChannelsCase):
    """A coordination's own thread is internal to the firm; other teams see a coordination only
    through a ticket of their own, and never the other tickets in it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ticket_b.message_subscribe(partner_ids=cls.contact_b.ids)
        cls.ticket_a.message_subscribe(partner_ids=(cls.contact_a | cls.portal_a.partner_id).ids)
        cls.party_c = cls._create_party("Carla Co-owner", party_type='co_owner', email='carla@co-owner.example')
        # organised by a manager: team A and team B each see it through their own ticket
        cls.coordination = (
            cls.env['cabinet.coordination']
            .with_user(cls.user_manager)
            .create(
                {
                    'name': "Facade coordination",
                    'ticket_ids': [Command.set((cls.ticket_a | cls.ticket_b).ids)],
                    'synthesis': "<p>The scaffolding goes up on Monday.</p>",
                }
            )
        )
        cls.coordination_a = (
            cls.env['cabinet.coordination']
            .with_user(cls.user_a)
            .create({'name': "Team A only", 'ticket_ids': [Command.set(cls.ticket_a2.ids)]})
        )

    def test_subscribing_party_contacts_refused(self):
        coordination = self.coordination.with_user(self.user_a)
        for partner in (self.contact_a, self.portal_a.partner_id, self.contact_b, self.contact_a | self.contact_b):
            with self.assertRaisesRegex(UserError, "its thread is internal"):
                coordination.message_subscribe(partner_ids=partner.ids)
        with self.assertRaises(UserError):
            self.coordination.sudo().message_subscribe(partner_ids=self.contact_a.ids)
        with mute_logger('odoo.addons.cabinet_helpdesk.models.cabinet_coordination'):
            self.coordination.with_context(cabinet_mail_gateway=True).message_subscribe(
                partner_ids=(self.contact_a | self.contact_b | self.user_manager.partner_id).ids
            )
        followers = self.coordination.message_partner_ids
        self.assertFalse(followers.filtered('partner_share'), "no contact of a party follows a coordination")
        # positive control: staff who may read it
        self.assertIn(self.user_manager.partner_id, followers)
        coordination.message_subscribe(partner_ids=self.user_b.partner_id.ids)
        self.assertIn(self.user_b.partner_id, self.coordination.message_partner_ids)

    def test_posting_to_two_parties_refused(self):
        self.user_b.notification_type = 'email'
        coordination = self.coordination.with_user(self.user_a)
        with self.mock_mail_gateway():
            with self.assertRaisesRegex(UserError, "its thread is internal"):
                coordination.message_post(
                    body="See you all on Monday",
                    message_type='comment',
                    subtype_xmlid='mail.mt_comment',
                    partner_ids=(self.contact_a | self.contact_b).ids,
                )
            with self.assertRaises(UserError):
                coordination.message_post(
                    body="See you all on Monday",
                    message_type='comment',
                    subtype_xmlid='mail.mt_comment',
                    outgoing_email_to="alice@party-a.example, bob@party-b.example",
                )
            composer = (
                self.env['mail.compose.message']
                .with_user(self.user_a)
                .with_context(default_model='cabinet.coordination', default_res_ids=self.coordination.ids)
                .create({'body': "See you all", 'partner_ids': [Command.set((self.contact_a | self.contact_b).ids)]})
            )
            with self.assertRaises(UserError):
                composer.action_send_mail()
            # an email (e.g. a reply with the parties in copy) drops them
            with mute_logger('odoo.addons.cabinet_helpdesk.models.cabinet_coordination'):
                self.coordination.message_post(
                    body="Reply",
                    message_type='email',
                    subtype_xmlid='mail.mt_comment',
                    partner_ids=(self.contact_a | self.contact_b | self.user_b.partner_id).ids,
                )
        self.assertFalse(self._new_mails.recipient_ids.filtered('partner_share'))
        self.assertFalse([mail for mail in self._mails if 'party-a' in str(mail['email_to'])])
        self.assertFalse([mail for mail in self._mails if 'party-b' in str(mail['email_to'])])
        # positive control: staff receive it
        self.assertIn(self.user_b.partner_id, self._new_mails.recipient_ids)

    def test_no_external_recipient_whatever_follows(self):
        """Last line of defence: contacts slipped in as followers never receive anything."""
        comment = self.env.ref('mail.mt_comment')
        self.env['mail.followers'].sudo().create(
            [
                {
                    'res_model': 'cabinet.coordination',
                    'res_id': self.coordination.id,
                    'partner_id': partner.id,
                    'subtype_ids': [Command.set(comment.ids)],
                }
                for partner in (self.contact_a, self.contact_b, self.user_b.partner_id)
            ]
        )
        self.user_b.notification_type = 'email'
        with self.mock_mail_gateway(), mute_logger('odoo.addons.cabinet_helpdesk.models.cabinet_coordination'):
            self.coordination.with_user(self.user_a).message_post(
                body="Internal: agenda of Monday", message_type='comment', subtype_xmlid='mail.mt_comment'
            )
            self.coordination.with_user(self.user_manager).action_send_synthesis()
        message = self.coordination.message_ids.filtered(lambda m: 'agenda' in (m.body or ''))
        notified = self.env['mail.notification'].search([('mail_message_id', '=', message.id)]).res_partner_id
        self.assertFalse(notified.filtered('partner_share'))
        coordination_mails = self._new_mails.filtered(lambda m: m.model == 'cabinet.coordination')
        self.assertFalse(coordination_mails.recipient_ids.filtered('partner_share'))
        self.assertFalse(any(coordination_mails.mapped('email_to')))
        self.assertIn(self.user_b.partner_id, notified, "positive control: staff who may read it")
        # the synthesis itself still reaches each party on its own ticket
        for ticket in self.ticket_a | self.ticket_b:
            self.assertEqual(len(ticket.message_ids.filtered(lambda m: 'scaffolding' in (m.body or ''))), 1)

    @mute_logger(*RULE_LOGGERS)
    def test_other_team_sees_only_its_own_tickets(self):
        coordination_b = self.coordination.with_user(self.user_b)
        # team B sees the coordination holding its ticket, and only its ticket in it
        [values] = call_kw(
            coordination_b,
            'web_read',
            [self.coordination.ids],
            {
                'specification': {
                    'name': {},
                    'ticket_ids': {'fields': {'display_name': {}, 'partner_id': {'fields': {'display_name': {}}}}},
                    'ticket_count': {},
                }
            },
        )
        self.assertEqual([line['id'] for line in values['ticket_ids']], self.ticket_b.ids)
        self._assert_not_shown(self.ticket_a, str(values))
        self.assertNotIn("Party A", str(values))
        self.assertEqual(coordination_b.ticket_count, 1)
        # a coordination of team A's tickets only stays out of reach
        with self.assertRaises(AccessError):
            call_kw(self.coordination_a.with_user(self.user_b), 'read', [self.coordination_a.ids, ['name']], {})
        self.assertNotIn(
            self.coordination_a, self.env['cabinet.coordination'].with_user(self.user_b).search([]), "not listed"
        )
        # positive controls: team A and managers
        self.env.invalidate_all()
        self.assertEqual(self.coordination.with_user(self.user_a).ticket_ids, self.ticket_a)
        self.env.invalidate_all()
        self.assertEqual(self.coordination.with_user(self.user_manager).ticket_ids, self.ticket_a | self.ticket_b)
        self.assertEqual(self.coordination_a.with_user(self.user_a).ticket_ids, self.ticket_a2)
        self.assertLessEqual(
            self.coordination | self.coordination_a,
            self.env['cabinet.coordination'].with_user(self.user_manager).search([]),
        )
        self.assertFalse(self.coordination.with_user(self.portal_a).has_access('read'))

    @mute_logger(*RULE_LOGGERS)
    def test_no_ticket_number_through_the_coordination(self):
        """Neither its default name nor its thread names the tickets of a coordination."""
        action = (self.ticket_a | self.ticket_b).with_user(self.user_manager).action_coordinate()
        created = self.env['cabinet.coordination'].browse(action['res_id'])
        for ticket in self.ticket_a | self.ticket_b:
            self._assert_not_shown(ticket, created.name)
        with self.mock_mail_gateway():
            self.coordination.with_user(self.user_manager).action_send_synthesis()
        bodies = " ".join(self.coordination.with_user(self.user_b).message_ids.mapped('body'))
        self.assertIn("Synthesis posted on 2 tickets", bodies)
        self._assert_not_shown(self.ticket_a, bodies)

    @mute_logger(*RULE_LOGGERS)
    def test_linking_a_ticket_one_cannot_read_refused(self):
        coordination_b = self.coordination.with_user(self.user_b)
        for commands in ([Command.link(self.ticket_a2.id)], [Command.set((self.ticket_b | self.hr_ticket).ids)]):
            with self.assertRaises(AccessError):
                coordination_b.write({'ticket_ids': commands})
            with self.assertRaises(AccessError):
                self.env['cabinet.coordination'].with_user(self.user_b).create(
                    {'name': "Probe", 'ticket_ids': commands}
                )
        # positive control: a ticket of their own team, keeping the tickets already linked
        other_b = self._create_ticket(self.party_c, team=self.team_b, name="Co-owner")
        coordination_b.write({'ticket_ids': [Command.link(other_b.id)]})
        self.env.invalidate_all()
        self.assertEqual(self.coordination.ticket_ids, self.ticket_a | self.ticket_b | other_b)


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestEmailsToQualifyPerTeam(CabinetSideChannelsCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Pending = cls.env['cabinet.mail.pending']
        cls.pending_a = Pending.create({'name': "For team A", 'reason': 'missing', 'team_id': cls.team_a.id})
        cls.pending_b = Pending.create({'name': "For team B", 'reason': 'missing', 'team_id': cls.team_b.id})
        cls.pending_hr = Pending.create({'name': "For HR", 'reason': 'malformed', 'team_id': cls.team_hr.id})
        cls.pending_none = Pending.create({'name': "For nobody", 'reason': 'missing'})

    @mute_logger(*RULE_LOGGERS)
    def test_other_team_cannot_read(self):
        Pending = self.env['cabinet.mail.pending']
        for pending in (self.pending_b, self.pending_hr):
            with self.assertRaises(AccessError):
                call_kw(pending.with_user(self.user_a), 'read', [pending.ids, ['name', 'body', 'email_from']], {})
            with self.assertRaises(AccessError):
                pending.with_user(self.user_a).write({'partner_id': self.contact_a.id})
        mine = Pending.with_user(self.user_a).search([])
        self.assertEqual(mine, self.pending_a | self.pending_none)
        # positive controls: the team of the alias, and managers
        self.assertEqual(Pending.with_user(self.user_b).search([]), self.pending_b | self.pending_none)
        self.assertEqual(Pending.with_user(self.hr_user).search([]), self.pending_hr | self.pending_none)
        self.assertEqual(
            Pending.with_user(self.user_manager).search([]),
            self.pending_a | self.pending_b | self.pending_hr | self.pending_none,
        )
        self.pending_a.with_user(self.user_a2).write({'partner_id': self.contact_a.id})
        self.pending_a.with_user(self.user_a2).action_create_ticket()
        self.assertEqual(self.pending_a.state, 'done')
