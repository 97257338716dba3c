# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.fields import Command
from odoo.tests import tagged, users
from odoo.tools import email_normalize, mute_logger

from odoo.addons.mail.tests.common import MailCommon

from .common import CabinetFactories


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestCoordination(CabinetFactories, MailCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_cabinet_data()
        cls.party_c = cls._create_party("Carla Co-owner", party_type='co_owner', email='carla@co-owner.example')
        cls.ticket_a = cls._create_ticket(cls.contact_a, name="Facade works")
        cls.ticket_b = cls._create_ticket(cls.contact_b, name="Facade works, contractor")
        cls.ticket_c = cls._create_ticket(cls.party_c, name="Facade works, co-owner")
        for ticket in cls.ticket_a | cls.ticket_b | cls.ticket_c:
            ticket.message_subscribe(partner_ids=ticket.partner_id.ids)
        cls.ticket_a.message_subscribe(partner_ids=cls.portal_a.partner_id.ids)
        cls.tickets = cls.ticket_a | cls.ticket_b | cls.ticket_c
        cls.synthesis = "<p>The scaffolding goes up on Monday; each of you confirms access by Friday.</p>"

    def _create_coordination(self, **values):
        return (
            self.env['cabinet.coordination']
            .with_user(self.user_a)
            .create(
                {
                    'name': "Facade coordination",
                    'ticket_ids': [Command.set(self.tickets.ids)],
                    'synthesis': self.synthesis,
                    **values,
                }
            )
        )

    def test_send_synthesis_one_message_per_party(self):
        coordination = self._create_coordination()
        followers = {ticket: ticket.message_partner_ids for ticket in self.tickets}
        with self.mock_mail_gateway():
            coordination.with_user(self.user_a).action_send_synthesis()
        self.assertRecordValues(coordination, [{'state': 'sent'}])
        self.assertTrue(coordination.sent_date)
        other_party_words = {
            self.ticket_a: ("Bob", "Party B", "Carla", "bob@", "carla@", self.ticket_b.number, self.ticket_c.number),
            self.ticket_b: ("Alice", "Alan", "Party A", "Carla", "alice@", "carla@", self.ticket_a.number),
            self.ticket_c: ("Alice", "Bob", "Party A", "Party B", "alice@", "bob@", self.ticket_a.number),
        }
        for ticket in self.tickets:
            messages = ticket.message_ids.filtered(lambda m: 'scaffolding' in (m.body or ''))
            self.assertEqual(len(messages), 1, "One message per ticket")
            self.assertEqual(messages.partner_ids, ticket.partner_id, "Addressed to the ticket's requester only")
            self.assertEqual(messages.subtype_id, self.env.ref('mail.mt_comment'))
            for word in other_party_words[ticket]:
                self.assertNotIn(word, messages.body, "No other party in the message")
                self.assertNotIn(word, messages.subject or '')
            self.assertEqual(ticket.message_partner_ids, followers[ticket], "Followers unchanged")
        # each email goes to the contacts of one party only
        self.assertTrue(self._mails)
        parties = self.env['res.partner']
        for mail in self._mails:
            recipients = self.env['res.partner'].search(
                [('email_normalized', 'in', [email_normalize(a) for a in mail['email_to']])]
            )
            external = recipients.filtered('partner_share')
            self.assertEqual(len(external.commercial_partner_id), 1, "Each email reaches a single party")
            parties |= external.commercial_partner_id
            body = mail['body']
            for ticket, words in other_party_words.items():
                if ticket.commercial_partner_id == external.commercial_partner_id:
                    for word in words:
                        self.assertNotIn(word, body)
        self.assertEqual(parties, self.tickets.commercial_partner_id, "Every party hears of the synthesis")

        with self.assertRaises(UserError):
            coordination.with_user(self.user_a).action_send_synthesis()

    def test_empty_synthesis_refused(self):
        for synthesis in (False, "<p><br></p>"):
            coordination = self._create_coordination(synthesis=synthesis)
            count = len(self.ticket_a.message_ids)
            with self.assertRaises(UserError):
                coordination.with_user(self.user_a).action_send_synthesis()
            self.assertEqual(len(self.ticket_a.message_ids), count)
            self.assertEqual(coordination.state, 'draft')

    def test_one_ticket_per_party(self):
        other_ticket_a = self._create_ticket(self.portal_a.partner_id, name="Facade, second contact")
        with self.assertRaises(ValidationError):
            self._create_coordination(ticket_ids=[Command.set((self.tickets | other_ticket_a).ids)])

    def test_coordinate_selected_tickets(self):
        action = (self.ticket_a | self.ticket_b).with_user(self.user_a).action_coordinate()
        coordination = self.env['cabinet.coordination'].browse(action['res_id'])
        self.assertEqual(coordination.ticket_ids, self.ticket_a | self.ticket_b)
        self.assertEqual(self.ticket_a.coordination_ids, coordination)
        self.assertEqual(self.ticket_a.coordination_count, 1)
        server_action = self.env.ref('cabinet_helpdesk.cabinet_ticket_action_coordinate')
        result = (
            server_action.with_user(self.user_a)
            .with_context(active_model='cabinet.ticket', active_ids=self.ticket_c.ids)
            .run()
        )
        self.assertEqual(self.env['cabinet.coordination'].browse(result['res_id']).ticket_ids, self.ticket_c)

    @users('cab_portal', 'cab_employee')
    @mute_logger('odoo.addons.base.models.ir_model', 'odoo.addons.base.models.ir_rule')
    def test_access(self):
        coordination = self.env['cabinet.coordination'].sudo().create({'name': "Private"})
        with self.assertRaises(AccessError):
            coordination.with_env(self.env).read(['name', 'synthesis'])
