# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from unittest.mock import patch

from odoo.tests import tagged

from odoo.addons.mail.tests.common import MailCommon

from .common import MAIL_TEMPLATE_PLAIN, CabinetFactories

# measured (97 before the gateway looked the sender up once), warm caches, as the incoming mail
# server runs it (superuser): a new email of a known contact of party A with a contact of party B
# in Cc, on team A's alias. Routing (12): parsing and aliases, duplicate Message-Id, the sender's
# contacts searched once for every step, the route's alias, user and models, loop detection; the
# ticket's creation with its number, stage, assignee, service level and followers (11); the
# acknowledgement rendered and posted to the requester alone, its mail sent (20); the email posted
# on the ticket, the team leader notified in their inbox (12); the final writes (4).
NEW_TICKET_QUERIES = 59
# measured (55 before), warm caches: the requester answers the opening email. Parsing and the
# message replied to, duplicate Message-Id, the sender's contacts, the reply's route and the sender
# checked against the ticket's party, loop detection; the email posted, the team leader notified.
REPLY_QUERIES = 32


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestGatewayPerformance(CabinetFactories, MailCommon):
    """Query budgets of the mail gateway on the two emails it handles most: a new request and a
    reply. The behaviour they pin is tested in depth in ``test_mail_gateway``; the budgets check
    that it stays cheap."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_cabinet_data()
        cls.company.email = 'office@firm.example'
        cls.team_a.write({'alias_name': 'team-a-requests', 'alias_domain_id': cls.mail_alias_domain.id})
        cls.alias_email = f'team-a-requests@{cls.alias_domain}'
        cls.user_a.notification_type = 'inbox'

    def _email(self, subject, msg_id, cc='', extra=''):
        return self.format(
            MAIL_TEMPLATE_PLAIN,
            to=self.alias_email,
            subject=subject,
            cc=cc,
            extra=extra,
            email_from='Alice A <alice@party-a.example>',
            msg_id=msg_id,
        )

    def _new(self, subject, msg_id):
        """Process a new email of Alice (party A) with Bob (party B) in Cc; return the ticket."""
        ticket_id = (
            self.env['mail.thread']
            .sudo()
            .message_process('cabinet.ticket', self._email(subject, msg_id, cc='Bob B <bob@party-b.example>'))
        )
        return self.env['cabinet.ticket'].browse(ticket_id)

    def _answer(self, ticket, msg_id):
        """Process Alice's reply to the first email of ``ticket``; return the ticket it went to."""
        first = ticket.message_ids.filtered(lambda m: m.message_type == 'email')[-1:]
        references = f'In-Reply-To: {first.message_id}\nReferences: {first.message_id}\n'
        ticket_id = (
            self.env['mail.thread']
            .sudo()
            .message_process('cabinet.ticket', self._email(f"Re: {ticket.name}", msg_id, extra=references))
        )
        return self.env['cabinet.ticket'].browse(ticket_id)

    def _warm_up(self):
        with self.mock_mail_gateway():
            warm = self._new("Warm up", '<warm-up@party-a.example>')
            self._answer(warm, '<warm-up-reply@party-a.example>')
        self.env.invalidate_all()

    def test_new_ticket_with_other_party_cc(self):
        self._warm_up()
        with self.mock_mail_gateway(), self.assertQueryCount(__system__=NEW_TICKET_QUERIES):
            ticket = self._new("Measured", '<measured@party-a.example>')
        # what the budget pays for, and nothing more
        self.assertRecordValues(ticket, [{'partner_id': self.contact_a.id, 'team_id': self.team_a.id}])
        self.assertEqual(ticket.message_partner_ids, self.contact_a | self.user_a.partner_id)
        incoming = ticket.message_ids.filtered(lambda m: m.message_type == 'email')
        self.assertRecordValues(
            incoming, [{'author_id': self.contact_a.id, 'partner_ids': [], 'incoming_email_cc': False}]
        )
        self.assertEqual(self._sent_to(), ['alice@party-a.example'], "One acknowledgement, to the requester alone")
        self.assertNotIn(self.contact_b, self.env['mail.notification'].search([]).res_partner_id)
        self.assertTrue(
            self.env['mail.notification'].search(
                [('mail_message_id', '=', incoming.id), ('res_partner_id', '=', self.user_a.partner_id.id)]
            ),
            "The team leader hears of the new request",
        )

    def test_reply(self):
        self._warm_up()
        with self.mock_mail_gateway():
            ticket = self._new("Measured", '<measured@party-a.example>')
        self.env.invalidate_all()
        with self.mock_mail_gateway(), self.assertQueryCount(__system__=REPLY_QUERIES):
            replied = self._answer(ticket, '<measured-reply@party-a.example>')
        self.assertEqual(replied, ticket, "The party's reply enters its ticket")
        self.assertEqual(len(ticket.message_ids.filtered(lambda m: m.message_type == 'email')), 2)
        self.assertFalse(self._mails, "No second acknowledgement")

    def test_routing_looks_up_the_sender_once(self):
        """The contacts having the sender's address are searched once for the whole routing,
        whoever asks (bounce counter, route user, author, party check), and the Cc not at all."""
        self._warm_up()
        searched = []
        Partner = self.registry['res.partner']
        original_search = Partner._search

        def spy(records, domain, *args, **kwargs):
            if 'email_normalized' in str(domain):
                searched.append(str(domain))
            return original_search(records, domain, *args, **kwargs)

        with self.mock_mail_gateway(), patch.object(Partner, '_search', spy):
            self._new("Counted", '<counted@party-a.example>')
        self.assertEqual(len(searched), 1, searched)
        self.assertIn('alice@party-a.example', searched[0])
