# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
import base64
from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.fields import Command
from odoo.tests import Form, new_test_user, tagged, users, warmup
from odoo.tools import SQL, mute_logger

from .common import CabinetCommon


class CabinetWizardCase(CabinetCommon):
    @classmethod
    def _flush_tracking(cls):
        """Tracking messages are posted when the transaction is about to commit: post them now
        (tickets created in the same transaction are not tracked before)."""
        cls.env.flush_all()
        cls.env.cr.flush()

    def _messages(self, ticket):
        return self.env['mail.message'].search(
            [('model', '=', 'cabinet.ticket'), ('res_id', '=', ticket.id)], order='id'
        )


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestTicketReassign(CabinetWizardCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user_a2 = new_test_user(
            cls.env,
            login='cab_user_a2',
            name="Amy Associate",
            email='amy@firm.example',
            groups='cabinet_helpdesk.group_cabinet_user',
        )
        cls.team_a.member_ids = [Command.link(cls.user_a2.id)]
        cls.ticket = cls._create_ticket(cls.contact_a, user_id=cls.user_a.id)
        cls.ticket.message_subscribe(partner_ids=cls.contact_a.ids)
        cls.activity_a = cls.ticket.activity_schedule(
            'mail.mail_activity_data_todo', summary="Call the client back", user_id=cls.user_a.id
        )
        cls.activity_manager = cls.ticket.activity_schedule(
            'mail.mail_activity_data_todo', summary="Check the invoice", user_id=cls.user_manager.id
        )
        cls._flush_tracking()

    def _reassign(self, user, tickets, **values):
        wizard = (
            self.env['cabinet.ticket.reassign']
            .with_user(user)
            .with_context(active_model='cabinet.ticket', active_ids=tickets.ids)
            .create(values)
        )
        return wizard.action_reassign()

    def test_reassign_tracks_change_with_reason_and_moves_activities(self):
        followers_before = self.ticket.message_partner_ids
        messages_before = self._messages(self.ticket)
        self._reassign(
            self.user_a,
            self.ticket,
            team_id=self.team_b.id,
            user_id=self.user_b.id,
            reason="Anna is on leave; Bruno knows the site.",
        )
        self._flush_tracking()
        self.assertRecordValues(self.ticket, [{'team_id': self.team_b.id, 'user_id': self.user_b.id}])
        new_messages = self._messages(self.ticket) - messages_before
        notes = new_messages.filtered(lambda m: "Bruno knows the site" in str(m.body))
        self.assertEqual(len(notes), 1, "Reassigning posts one note holding the reason")
        note = notes
        self.assertEqual(note.subtype_id, self.env.ref('cabinet_helpdesk.mt_ticket_reassigned'))
        self.assertTrue(note.subtype_id.internal, "The reason is an internal note, not sent to the party")
        self.assertIn(
            "Open activities of Anna Architect on this ticket handed over to Bruno Builder: 1.", str(note.body)
        )
        changes = {
            value.field_id.name: (value.old_value_char, value.new_value_char) for value in note.tracking_value_ids
        }
        self.assertEqual(changes['team_id'], ("Team A", "Team B"), "The old and new team are tracked")
        self.assertEqual(
            changes['user_id'], ("Anna Architect", "Bruno Builder"), "The old and new assignee are tracked"
        )
        # activities of the former assignee follow the ticket; other people's stay theirs
        self.assertEqual(self.activity_a.user_id, self.user_b)
        self.assertEqual(self.activity_manager.user_id, self.user_manager)
        self.assertEqual(self.ticket.activity_ids, self.activity_a | self.activity_manager)
        # nothing is lost: followers and messages stay, the new assignee follows
        self.assertLessEqual(followers_before, self.ticket.message_partner_ids)
        self.assertIn(self.user_b.partner_id, self.ticket.message_partner_ids)
        self.assertLessEqual(messages_before, self._messages(self.ticket))

    def test_reassign_within_team_from_form_defaults(self):
        wizard_form = Form(
            self.env['cabinet.ticket.reassign']
            .with_user(self.user_a)
            .with_context(active_model='cabinet.ticket', active_id=self.ticket.id, active_ids=self.ticket.ids)
        )
        self.assertEqual(wizard_form.team_id, self.team_a, "The tickets' team is proposed")
        self.assertEqual(wizard_form.ticket_ids[:], self.ticket)
        wizard_form.user_id = self.user_a2
        wizard_form.reason = "Amy takes over the permits."
        wizard_form.save().action_reassign()
        self._flush_tracking()
        self.assertEqual(self.ticket.user_id, self.user_a2)
        self.assertEqual(self.activity_a.user_id, self.user_a2)

    def test_reassign_records_reason_without_tracking(self):
        """A ticket created in the same transaction is not tracked yet: the reason is still recorded."""
        ticket = self._create_ticket(self.contact_a, user_id=self.user_a.id)
        self._reassign(self.user_a, ticket, team_id=self.team_a.id, user_id=self.user_a2.id, reason="Amy's turn")
        notes = self._messages(ticket).filtered(
            lambda m: "Amy&#x27;s turn" in str(m.body) or "Amy's turn" in str(m.body)
        )
        self.assertEqual(len(notes), 1)
        self.assertEqual(notes.subtype_id, self.env.ref('cabinet_helpdesk.mt_ticket_reassigned'))
        self._flush_tracking()
        notes = self._messages(ticket).filtered(
            lambda m: "Amy&#x27;s turn" in str(m.body) or "Amy's turn" in str(m.body)
        )
        self.assertEqual(len(notes), 1, "The reason is recorded once")

    def test_reassign_refusals(self):
        with self.assertRaisesRegex(UserError, "Say why"):
            self._reassign(self.user_a, self.ticket, team_id=self.team_b.id, user_id=self.user_b.id, reason="   ")
        with self.assertRaisesRegex(UserError, "Nothing changes"):
            self._reassign(self.user_a, self.ticket, team_id=self.team_a.id, user_id=self.user_a.id, reason="Why not")
        with self.assertRaisesRegex(UserError, "not a member of Team B"):
            self._reassign(self.user_a, self.ticket, team_id=self.team_b.id, user_id=self.user_a2.id, reason="Help")
        self.assertRecordValues(self.ticket, [{'team_id': self.team_a.id, 'user_id': self.user_a.id}])
        self.assertEqual(self.activity_a.user_id, self.user_a)

    @mute_logger('odoo.addons.base.models.ir_rule', 'odoo.addons.base.models.ir_model')
    def test_reassign_needs_write_access(self):
        """A user of another team cannot take or give away a ticket they cannot write."""
        with self.assertRaises(AccessError):
            self._reassign(self.user_b, self.ticket, team_id=self.team_b.id, user_id=self.user_b.id, reason="Mine")
        self.assertEqual(self.ticket.user_id, self.user_a)


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestTicketMerge(CabinetWizardCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.t1 = cls._create_ticket(cls.contact_a, name="Permit question")
        cls.t2 = cls._create_ticket(
            cls.portal_a.partner_id, name="Permit question again", description="<p>Any news?</p>"
        )
        cls.t3 = cls._create_ticket(cls.contact_a, name="Permit, third time")
        cls.ticket_b = cls._create_ticket(cls.contact_b, name="Other party's question")
        cls.t1.message_subscribe(partner_ids=cls.contact_a.ids)
        cls.t2.message_subscribe(partner_ids=cls.portal_a.partner_id.ids)
        cls.t2_message = cls.t2.message_post(
            body="Here are the plans.", author_id=cls.portal_a.partner_id.id, message_type='comment'
        )
        cls.t2_attachment = cls.env['ir.attachment'].create(
            {
                'name': "plans.pdf",
                'datas': base64.b64encode(b"%PDF-1.4 plans"),
                'res_model': 'cabinet.ticket',
                'res_id': cls.t2.id,
            }
        )
        cls.t3_activity = cls.t3.activity_schedule(
            'mail.mail_activity_data_todo', summary="Send the permit", user_id=cls.user_a.id
        )
        cls.b_message = cls.ticket_b.message_post(body="Party B's position.", message_type='comment')
        cls._flush_tracking()

    def _merge_wizard(self, tickets, user=None, **values):
        return (
            self.env['cabinet.ticket.merge']
            .with_user(user or self.user_a)
            .with_context(active_model='cabinet.ticket', active_ids=tickets.ids)
            .create(values)
        )

    def test_merge_same_party(self):
        wizard = self._merge_wizard(self.t3 | self.t2 | self.t1)
        self.assertEqual(wizard.target_ticket_id, self.t1, "The oldest ticket is proposed as target")
        self.assertFalse(wizard.warning)
        action = wizard.action_merge()
        self._flush_tracking()
        self.assertEqual((action['res_model'], action['res_id']), ('cabinet.ticket', self.t1.id))
        self.assertEqual(self.t2_message.res_id, self.t1.id, "Messages move to the target")
        self.assertEqual(self.t2_attachment.res_id, self.t1.id, "Attachments move to the target")
        self.assertEqual(self.t3_activity.res_id, self.t1.id, "Activities move to the target")
        self.assertIn(self.portal_a.partner_id, self.t1.message_partner_ids, "Followers of the party move along")
        merged = (self.t2 | self.t3).with_context(active_test=False)
        self.assertRecordValues(merged, [{'active': False, 'is_closed': True}] * 2)
        target_note = self._messages(self.t1).filtered(lambda m: "Merged into this ticket" in str(m.body))
        self.assertEqual(len(target_note), 1)
        self.assertIn(self.t2.number, str(target_note.body))
        self.assertIn(self.t3.number, str(target_note.body))
        self.assertIn("Any news?", str(target_note.body), "The merged request's description is kept on the target")
        self.assertTrue(target_note.subtype_id.internal)
        for ticket in merged:
            notes = self._messages(ticket).filtered(lambda m: self.t1.number in str(m.body))
            self.assertEqual(
                notes.subtype_id,
                self.env.ref('mail.mt_note') | self.env.ref('cabinet_helpdesk.mt_ticket_closed'),
                "Each merged ticket points to the target: an internal note, and the closing message",
            )
            self.assertEqual(notes.filtered('tracking_value_ids').tracking_value_ids.field_id.name, 'stage_id')
        # the thread of the target stays in chronological order
        messages = self._messages(self.t1)
        self.assertEqual(messages.sorted('date').ids, messages.sorted(lambda m: (m.date, m.id)).ids)

    def test_merge_two_parties_refused_without_change(self):
        action = self.env.ref('cabinet_helpdesk.cabinet_ticket_action_merge')
        self.assertEqual(action.binding_model_id.model, 'cabinet.ticket', "Merge is in the tickets' Action menu")
        wizard = Form(
            self.env['cabinet.ticket.merge']
            .with_user(self.user_a)
            .with_context(active_model='cabinet.ticket', active_ids=(self.t1 | self.ticket_b).ids)
        ).save()
        self.assertIn("Party B Ltd", wizard.warning)
        with self.assertRaisesRegex(UserError, r"Party A Ltd.*Party B Ltd|Party B Ltd.*Party A Ltd"):
            wizard.action_merge()
        self.assertEqual(self.b_message.res_id, self.ticket_b.id, "Nothing moved")
        self.assertRecordValues(self.t1 | self.ticket_b, [{'active': True, 'is_closed': False}] * 2)

    def test_merge_refuses_anonymized_held_and_single(self):
        self.t3.sudo().anonymized = True
        with self.assertRaisesRegex(UserError, "anonymized"):
            self._merge_wizard(self.t1 | self.t3).action_merge()
        self.t3.sudo().anonymized = False
        self.t2.sudo().legal_hold = True
        with self.assertRaisesRegex(UserError, "legal hold"):
            self._merge_wizard(self.t1 | self.t2).action_merge()
        self.assertEqual(self.t2_message.res_id, self.t2.id)
        with self.assertRaisesRegex(UserError, "at least two"):
            self._merge_wizard(self.t1).action_merge()
        with self.assertRaisesRegex(UserError, "among the selected"):
            self._merge_wizard(self.t1 | self.t3, target_ticket_id=self.ticket_b.id).action_merge()
        self.assertTrue(self.t3.active)

    @mute_logger('odoo.addons.base.models.ir_rule', 'odoo.addons.base.models.ir_model')
    def test_merge_needs_write_access(self):
        with self.assertRaises(AccessError):
            self._merge_wizard(self.t1 | self.t2, user=self.user_b).action_merge()
        self.assertEqual(self.t2_message.res_id, self.t2.id)

    def _agent_ticket_under_permit_mandate(self):
        """A ticket of party A filed by an agent under an active mandate limited to building permits."""
        category_permit = self.env['cabinet.category'].create({'name': "Building Permit"})
        agent = self._create_party("Agency Ltd", party_type='agent', email='office@agency.example')
        agent_contact = self._create_party("Adam Agent", parent=agent, email='adam@agency.example')
        mandate = self.env['cabinet.mandate'].create(
            {
                'agent_id': agent.id,
                'principal_id': self.party_a.id,
                'date_start': fields.Date.today() - timedelta(days=30),
                'category_ids': [Command.set(category_permit.ids)],
            }
        )
        mandate.action_activate()
        ticket = self._create_ticket(self.contact_a, category_id=category_permit.id, agent_partner_id=agent_contact.id)
        return agent_contact, ticket

    def test_merge_no_third_party_slips_in(self):
        """Followers join the target only through its own follower rule."""
        agent_contact, ticket_agent = self._agent_ticket_under_permit_mandate()
        self.assertIn(agent_contact, ticket_agent.message_partner_ids)
        # a follower of another party left over from before the rule (imported data)
        self.env.execute_query(
            SQL(
                "INSERT INTO mail_followers (res_model, res_id, partner_id) VALUES ('cabinet.ticket', %s, %s)",
                self.t2.id,
                self.contact_b.id,
            )
        )
        self.env.invalidate_all()
        self._merge_wizard(self.t1 | self.t2 | ticket_agent).action_merge()
        followers = self.t1.message_partner_ids
        self.assertNotIn(self.contact_b, followers, "Another party never follows through a merge")
        self.assertNotIn(agent_contact, followers, "The agent's mandate does not cover the target's request type")
        self.assertIn(self.portal_a.partner_id, followers)
        self.assertEqual(self.t1.mandate_id, self.env['cabinet.mandate'], "The target keeps its own mandate")

    def test_merge_keeps_confidential_and_mandate_scope(self):
        """Merging never shows a ticket's history to people who could not see that ticket."""
        hr_ticket = self._create_ticket(self.contact_a, category_id=self.category_hr.id)
        Merge = self.env['cabinet.ticket.merge'].with_context(active_model='cabinet.ticket')
        with self.assertRaisesRegex(UserError, "confidential request type"):
            Merge.with_context(active_ids=(self.t1 | hr_ticket).ids).create({}).action_merge()
        self.assertTrue(hr_ticket.active)
        _agent_contact, ticket_agent = self._agent_ticket_under_permit_mandate()
        wizard = self._merge_wizard(self.t2 | ticket_agent, target_ticket_id=ticket_agent.id)
        self.assertIn(ticket_agent.mandate_id.name, wizard.warning)
        with self.assertRaisesRegex(UserError, "does not cover tickets"):
            wizard.action_merge()
        self.assertEqual(self.t2_message.res_id, self.t2.id, "The agent does not get another request's history")

    def test_merge_relinks_coordinations(self):
        coordination = self.env['cabinet.coordination'].create(
            {'name': "Site meeting", 'ticket_ids': [Command.set((self.t2 | self.ticket_b).ids)]}
        )
        self._merge_wizard(self.t1 | self.t2).action_merge()
        self.assertEqual(coordination.ticket_ids, self.t1 | self.ticket_b)

    @users('cab_user')
    @warmup
    def test_merge_query_count(self):
        wizard = self._merge_wizard(self.t1 | self.t2 | self.t3)
        self.env.invalidate_all()
        # measured: 3 tickets, notes, history moved (the requesters follow the merged ticket), archived
        with self.assertQueryCount(cab_user=86):
            wizard.action_merge()
            self.env.flush_all()
