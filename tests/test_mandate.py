# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from datetime import timedelta
from unittest.mock import patch

import psycopg2

from odoo import fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.fields import Command
from odoo.tests import Form, freeze_time, new_test_user, tagged
from odoo.tools import mute_logger

from .common import CabinetCommon


class CabinetMandateCase(CabinetCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.agent = cls._create_party("Agency Ltd", party_type='agent', email='office@agency.example')
        cls.agent_contact = cls._create_party("Adam Agent", parent=cls.agent, email='adam@agency.example')
        cls.agent_contact2 = cls._create_party("Ava Agent", parent=cls.agent, email='ava@agency.example')
        cls.category_other = cls.env['cabinet.category'].create({'name': "Building Permit"})
        cls.today = fields.Date.today()

    @classmethod
    def _create_mandate(cls, state='active', **values):
        mandate = cls.env['cabinet.mandate'].create(
            {
                'agent_id': cls.agent.id,
                'principal_id': cls.party_a.id,
                'date_start': cls.today - timedelta(days=30),
                **values,
            }
        )
        if state == 'active':
            mandate.action_activate()
        return mandate

    def _notes(self, ticket):
        return ticket.message_ids.filtered(
            lambda m: m.subtype_id == self.env.ref('mail.mt_note') and 'no longer follows' in (m.body or '')
        )


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestMandate(CabinetMandateCase):
    def test_lifecycle(self):
        mandate = self._create_mandate(state='draft')
        self.assertRecordValues(mandate, [{'state': 'draft', 'name': "Agency Ltd for Party A Ltd"}])
        mandate.action_activate()
        self.assertEqual(mandate.state, 'active')
        with self.assertRaises(UserError):
            mandate.action_activate()
        with self.assertRaises(UserError), mute_logger('odoo.models.unlink'):
            mandate.unlink()
        mandate.action_revoke(reason="The client ended the engagement")
        self.assertRecordValues(mandate, [{'state': 'revoked', 'revoke_reason': "The client ended the engagement"}])
        with self.assertRaises(UserError):
            mandate.action_revoke()
        mandate.action_reset()
        self.assertRecordValues(mandate, [{'state': 'draft', 'revoke_reason': False}])
        mandate.unlink()
        self.assertFalse(mandate.exists())

    def test_revoke_from_form(self):
        """In the form, the manager writes the reason, then revokes; the reason stays, read-only."""
        mandate = self._create_mandate()
        with Form(mandate.with_user(self.user_manager)) as form:
            form.revoke_reason = "Power of attorney withdrawn by letter"
        mandate.with_user(self.user_manager).action_revoke()
        self.assertRecordValues(
            mandate, [{'state': 'revoked', 'revoke_reason': "Power of attorney withdrawn by letter"}]
        )
        with self.assertRaises(AssertionError), Form(mandate) as form:
            form.revoke_reason = "Changed afterwards"
        with self.assertRaises(AccessError):
            mandate.with_user(self.user_a).action_reset()

    def test_activate_outdated_refused(self):
        mandate = self._create_mandate(state='draft', date_end=self.today - timedelta(days=1))
        with self.assertRaises(UserError):
            mandate.action_activate()

    def test_parties_constraints(self):
        with self.assertRaises(ValidationError):
            self._create_mandate(state='draft', agent_id=self.party_b.id)  # a company, not an agent
        with self.assertRaises(ValidationError):
            self._create_mandate(state='draft', principal_id=self.agent.id)
        with self.assertRaises(ValidationError):
            self._create_mandate(state='draft', principal_id=self.agent_contact2.id)
        with self.assertRaises(psycopg2.errors.CheckViolation), mute_logger('odoo.sql_db'), self.env.cr.savepoint():
            self._create_mandate(state='draft', date_start=self.today, date_end=self.today - timedelta(days=1))

    def test_contacts_stand_for_their_party(self):
        """A mandate registered with contacts binds their parties: the whole agent party may act
        for the whole principal party."""
        mandate = self._create_mandate(agent_id=self.agent_contact.id, principal_id=self.contact_a.id)
        ticket = self._create_ticket(self.contact_a, agent_partner_id=self.agent_contact2.id)
        self.assertEqual(ticket.mandate_id, mandate)
        self.assertIn(self.agent_contact2, ticket.message_partner_ids)
        self.assertEqual(self.party_a.cabinet_mandate_ids, mandate)
        mandate.action_revoke()
        self.assertNotIn(self.agent_contact2, ticket.message_partner_ids)

    def test_partner_mandates(self):
        mandate = self._create_mandate()
        other = self._create_mandate(principal_id=self.party_b.id)
        self.assertEqual(self.contact_a.cabinet_mandate_ids, mandate)
        self.assertEqual(self.party_a.cabinet_mandate_count, 1)
        self.assertEqual(self.agent_contact.cabinet_mandate_ids, mandate | other)
        action = self.party_a.action_view_cabinet_mandates()
        self.assertEqual(self.env['cabinet.mandate'].search(action['domain']), mandate)
        self.assertEqual(action['context'], {'default_principal_id': self.party_a.id})

    def test_revoke_unsubscribes_agent_and_notes(self):
        mandate = self._create_mandate()
        ticket_1 = self._create_ticket(self.contact_a)
        ticket_2 = self._create_ticket(self.contact_a, team=self.team_b)
        ticket_other = self._create_ticket(self.contact_a, name="Not followed by the agent")
        ticket_1.message_subscribe(partner_ids=(self.agent_contact | self.agent_contact2 | self.contact_a).ids)
        ticket_2.message_subscribe(partner_ids=self.agent_contact.ids)
        mandate.with_user(self.user_manager).action_revoke(reason="Ended")
        self.assertNotIn(self.agent_contact, ticket_1.message_partner_ids)
        self.assertNotIn(self.agent_contact2, ticket_1.message_partner_ids)
        self.assertIn(self.contact_a, ticket_1.message_partner_ids, "The party's own followers stay")
        self.assertNotIn(self.agent_contact, ticket_2.message_partner_ids)
        self.assertEqual(len(self._notes(ticket_1)), 1)
        self.assertEqual(len(self._notes(ticket_2)), 1, "Tickets of other teams are released too")
        self.assertFalse(self._notes(ticket_other))
        self.assertTrue(self._notes(ticket_1).is_internal or self._notes(ticket_1).subtype_id.internal)

    def test_narrowed_scope_releases_agent(self):
        mandate = self._create_mandate()
        ticket_client = self._create_ticket(self.contact_a, category_id=self.category_client.id)
        ticket_permit = self._create_ticket(self.contact_a, category_id=self.category_other.id)
        (ticket_client | ticket_permit).message_subscribe(partner_ids=self.agent_contact.ids)
        mandate.category_ids = self.category_other
        self.assertNotIn(self.agent_contact, ticket_client.message_partner_ids)
        self.assertIn(self.agent_contact, ticket_permit.message_partner_ids)
        self.assertEqual(len(self._notes(ticket_client)), 1)
        self.assertFalse(self._notes(ticket_permit))
        with self.assertRaises(UserError):
            mandate.principal_id = self.party_b

    def test_revoke_keeps_agent_covered_by_another_mandate(self):
        mandate = self._create_mandate(category_ids=[Command.set(self.category_client.ids)])
        self._create_mandate()  # a second mandate, for every request type
        ticket = self._create_ticket(self.contact_a, category_id=self.category_client.id)
        ticket.message_subscribe(partner_ids=self.agent_contact.ids)
        mandate.action_revoke()
        self.assertIn(
            self.agent_contact,
            ticket.message_partner_ids,
            "An agent still covered by another active mandate keeps following",
        )
        self.assertFalse(
            ticket.message_ids.filtered(lambda m: 'is now Revoked' in (m.body or '')),
            "Nothing to say on a ticket the agent keeps following under another mandate",
        )


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestMandateCron(CabinetMandateCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.expired = cls.env['cabinet.mandate']
        for days in (3, 2, 1):
            cls.expired |= cls._create_mandate(date_end=cls.today - timedelta(days=days + 10))
        # mandates become outdated while active: move their end dates after activation
        cls.valid = cls._create_mandate(date_end=cls.today)
        cls.open_ended = cls._create_mandate()
        cls.ticket = cls._create_ticket(cls.contact_a)

    @classmethod
    def _create_mandate(cls, state='active', date_end=None, **values):
        mandate = super()._create_mandate(state=state, **values)
        if date_end:
            mandate.date_end = date_end
        return mandate

    def test_cron_expires_outdated_mandates(self):
        (self.valid | self.open_ended).action_revoke()
        with freeze_time(self.today - timedelta(days=20)):
            # back when the outdated mandates were valid, the agent started following the ticket
            self.ticket.message_subscribe(partner_ids=self.agent_contact.ids)
        self.assertIn(self.agent_contact, self.ticket.message_partner_ids)
        self.assertFalse(self._notes(self.ticket))
        with patch.object(self.registry['ir.cron'], '_commit_progress', return_value=1.0):
            self.env['cabinet.mandate']._cron_expire_mandates()
        self.assertEqual(set(self.expired.mapped('state')), {'expired'})
        self.assertEqual(self.valid.state, 'revoked')
        self.assertNotIn(self.agent_contact, self.ticket.message_partner_ids)
        self.assertEqual(len(self._notes(self.ticket)), 1, "One note says the agent was unsubscribed")

    def test_cron_keeps_valid_mandates(self):
        with patch.object(self.registry['ir.cron'], '_commit_progress', return_value=1.0):
            self.env['cabinet.mandate']._cron_expire_mandates()
        self.assertEqual(self.valid.state, 'active', "A mandate valid until today is not expired")
        self.assertEqual(self.open_ended.state, 'active')
        with (
            freeze_time(self.today + timedelta(days=1)),
            patch.object(self.registry['ir.cron'], '_commit_progress', return_value=1.0),
        ):
            self.env['cabinet.mandate']._cron_expire_mandates()
        self.assertEqual(self.valid.state, 'expired')
        self.assertEqual(self.open_ended.state, 'active')

    def test_cron_resumes_after_interrupted_batch(self):
        """An interrupted run leaves the rest for the next one, without repeating anything."""
        with patch.object(self.registry['ir.cron'], '_commit_progress', return_value=0) as progress:
            self.env['cabinet.mandate']._cron_expire_mandates(batch_size=2)
        self.assertEqual(progress.call_count, 1)
        self.assertEqual(progress.call_args.args, (2,))
        self.assertEqual(progress.call_args.kwargs, {'remaining': 1})
        self.assertEqual(self.expired.sorted('date_end').mapped('state'), ['expired', 'expired', 'active'])
        with patch.object(self.registry['ir.cron'], '_commit_progress', return_value=1.0) as progress:
            self.env['cabinet.mandate']._cron_expire_mandates(batch_size=2)
        self.assertEqual(progress.call_args_list[0].args, (1,), "Only the remaining mandate is processed")
        self.assertEqual(set(self.expired.mapped('state')), {'expired'})
        notes_per_expiry = self.ticket.message_ids.filtered(lambda m: 'no longer follows' in (m.body or ''))
        self.assertFalse(notes_per_expiry, "No note on a ticket the agent did not follow")

    def test_cron_record(self):
        cron = self.env.ref('cabinet_helpdesk.ir_cron_expire_mandates')
        self.assertEqual(cron.code.strip(), 'model._cron_expire_mandates()')
        self.assertEqual(cron.model_id.model, 'cabinet.mandate')


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestTicketMandate(CabinetMandateCase):
    def test_agent_files_for_principal(self):
        """The ticket belongs to the principal; the agent's contact acts and follows."""
        mandate = self._create_mandate(category_ids=[Command.set(self.category_client.ids)])
        ticket = self._create_ticket(
            self.contact_a, category_id=self.category_client.id, agent_partner_id=self.agent_contact.id
        )
        self.assertRecordValues(ticket, [{'mandate_id': mandate.id, 'commercial_partner_id': self.party_a.id}])
        self.assertIn(self.agent_contact, ticket.message_partner_ids)

    def test_agent_without_mandate_refused(self):
        with self.assertRaisesRegex(ValidationError, "only under a mandate"):
            self._create_ticket(self.contact_a, agent_partner_id=self.agent_contact.id)
        self._create_mandate(state='draft')
        with self.assertRaises(ValidationError):
            self._create_ticket(self.contact_a, agent_partner_id=self.agent_contact.id)
        self._create_mandate(category_ids=[Command.set(self.category_other.ids)])
        with self.assertRaises(ValidationError):
            self._create_ticket(
                self.contact_a, category_id=self.category_client.id, agent_partner_id=self.agent_contact.id
            )

    def test_several_mandates_need_a_choice(self):
        first = self._create_mandate()
        self._create_mandate(category_ids=[Command.set(self.category_client.ids)])
        with self.assertRaisesRegex(ValidationError, "several"):
            self._create_ticket(
                self.contact_a, category_id=self.category_client.id, agent_partner_id=self.agent_contact.id
            )
        ticket = self._create_ticket(
            self.contact_a,
            category_id=self.category_client.id,
            agent_partner_id=self.agent_contact.id,
            mandate_id=first.id,
        )
        self.assertEqual(ticket.mandate_id, first)

    def test_mandate_must_match_ticket(self):
        mandate_b = self._create_mandate(principal_id=self.party_b.id)
        with self.assertRaisesRegex(ValidationError, "belongs to the principal"):
            self._create_ticket(self.contact_a, mandate_id=mandate_b.id)
        with self.assertRaises(ValidationError):
            # the agent filing under its own name would make the agent the party
            self._create_ticket(self.agent_contact, mandate_id=mandate_b.id)
        other_agent = self._create_party("Other Agency", party_type='agent')
        other_contact = self._create_party("Oscar Other", parent=other_agent)
        mandate_a = self._create_mandate()
        with self.assertRaisesRegex(ValidationError, "does not belong to"):
            self._create_ticket(self.contact_a, mandate_id=mandate_a.id, agent_partner_id=other_contact.id)
        draft = self._create_mandate(state='draft')
        with self.assertRaises(ValidationError):
            self._create_ticket(self.contact_a, mandate_id=draft.id)

    def test_category_change_within_scope(self):
        self._create_mandate(category_ids=[Command.set(self.category_client.ids)])
        ticket = self._create_ticket(
            self.contact_a, category_id=self.category_client.id, agent_partner_id=self.agent_contact.id
        )
        with self.assertRaisesRegex(ValidationError, "does not cover"):
            ticket.category_id = self.category_other
        ticket.mandate_id.action_revoke()
        ticket.category_id = self.category_other  # the ended mandate stays as history
        self.assertEqual(ticket.category_id, self.category_other)
        self.assertNotIn(self.agent_contact, ticket.message_partner_ids)

    def test_ticket_form_with_agent(self):
        mandate = self._create_mandate()
        form = Form(self.env['cabinet.ticket'].with_user(self.user_a))
        form.name = "Phone call of the agent"
        form.partner_id = self.contact_a
        form.agent_partner_id = self.agent_contact
        ticket = form.save()
        self.assertEqual(ticket.mandate_id, mandate)

    @mute_logger('odoo.addons.base.models.ir_rule')
    def test_agent_portal_access(self):
        """The agent's portal user reads the tickets filed under its active mandate, nothing else
        of the principal, and nothing once the mandate has ended."""
        agent_portal = new_test_user(
            self.env,
            login='cab_agent_portal',
            name="Alba Agent",
            email='alba@agency.example',
            groups='base.group_portal',
        )
        agent_portal.partner_id.parent_id = self.agent
        mandate = self._create_mandate()
        filed = self._create_ticket(self.contact_a, agent_partner_id=self.agent_contact.id)
        other = self._create_ticket(self.contact_a, name="Filed by the party itself")
        Ticket = self.env['cabinet.ticket'].with_user(agent_portal)
        self.assertEqual(Ticket.search([('commercial_partner_id', '=', self.party_a.id)]), filed)
        filed.with_user(agent_portal).check_access('read')
        with self.assertRaises(AccessError):
            other.with_user(agent_portal).check_access('read')
        mandate.action_revoke()
        with self.assertRaises(AccessError):
            filed.with_user(agent_portal).check_access('read')

    def test_agent_portal_rule_on_ticket_columns(self):
        """The portal rule of agents names the mandates in force and their scope: the database
        finds an agent's tickets (and a party's own) by the ticket's indexed columns, with no
        subquery over every ticket. A mandate given, narrowed or revoked applies at once."""
        agent_portal = new_test_user(
            self.env,
            login='cab_agent_portal2',
            name="Abel Agent",
            email='abel@agency.example',
            groups='base.group_portal',
        )
        agent_portal.partner_id.parent_id = self.agent
        Ticket = self.env['cabinet.ticket'].with_user(agent_portal)
        permit = self._create_ticket(self.contact_a, category_id=self.category_other.id, name="Permit")
        self.assertFalse(Ticket.search([]), "no mandate, nothing")
        mandate = self._create_mandate()
        permit.sudo().write({'agent_partner_id': self.agent_contact.id, 'mandate_id': mandate.id})
        general = self._create_ticket(self.contact_a, agent_partner_id=self.agent_contact.id, name="General")
        self.assertEqual(Ticket.search([]), permit | general, "a mandate given applies at once")
        sql = Ticket._search([])
        self.assertNotIn('cabinet_mandate', str(sql.select().code), "no subquery of mandates")
        mandate.category_ids = self.category_client
        self.assertFalse(Ticket.search([('id', '=', permit.id)]), "out of the narrowed scope")
        mandate.action_revoke()
        self.assertFalse(Ticket.search([]), "revoked")
