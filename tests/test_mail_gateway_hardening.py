# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
import base64
from unittest.mock import patch

from odoo.exceptions import AccessError
from odoo.service import model as service_model
from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from odoo.addons.mail.tests.common import MailCommon

from .common import MAIL_TEMPLATE_PLAIN, CabinetFactories

RTL_OVERRIDE_NAME = 'invoice\u202efdp.exe'  # shows as "invoiceexe.pdf"

# A text part declared in ``{charset}``, as a client (or an attacker) may send it
MAIL_TEMPLATE_CHARSET = """Return-Path: {return_path}
To: {to}
Cc: {cc}
From: {email_from}
Subject: {subject}
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="=_outer"
Date: {date}
Message-ID: {msg_id}
{extra}
--=_outer
Content-Type: text/plain; charset="{charset}"
Content-Transfer-Encoding: 8bit

Please call me back about the roof.
--=_outer--
"""

# An attachment whose name is encoded as RFC 2231 allows (UTF-8, percent-encoded)
MAIL_TEMPLATE_ATTACHMENT_RFC2231 = """Return-Path: {return_path}
To: {to}
Cc: {cc}
From: {email_from}
Subject: {subject}
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="=_part"
Date: {date}
Message-ID: {msg_id}
{extra}
--=_part
Content-Type: text/plain; charset=utf-8

The invoice is attached.

--=_part
Content-Type: application/pdf; name*=utf-8''{attachment_name}
Content-Disposition: attachment; filename*=utf-8''{attachment_name}
Content-Transfer-Encoding: base64

JVBERi0xLjQgaW52b2ljZQ==
--=_part--
"""


def _nested_multipart(depth):
    """The body of a multipart email nesting ``depth`` multipart levels around one text part."""
    body = 'Content-Type: text/plain; charset=utf-8\n\nHidden very deep.\n'
    for level in range(depth):
        body = f'Content-Type: multipart/mixed; boundary="b{level}"\n\n--b{level}\n{body}\n--b{level}--\n'
    return body


class MailGatewayHardeningCase(CabinetFactories, MailCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_cabinet_data()
        cls.company.email = 'office@firm.example'
        cls.team_a.write({'alias_name': 'team-a-requests', 'alias_domain_id': cls.mail_alias_domain.id})
        cls.alias_email = f'team-a-requests@{cls.alias_domain}'

    def _process(
        self,
        template=MAIL_TEMPLATE_PLAIN,
        email_from='Alice A <alice@party-a.example>',
        subject="Roof",
        to=None,
        target_model='cabinet.ticket',
        **kwargs,
    ):
        return self.format_and_process(
            template,
            email_from,
            to or self.alias_email,
            subject=subject,
            target_model=target_model,
            target_field='name',
            **kwargs,
        )

    def _reply(self, ticket, email_from, subject, **kwargs):
        """Answer the first email of ``ticket`` (In-Reply-To its Message-Id), to the alias."""
        first_email = ticket.message_ids.filtered(lambda m: m.message_type == 'email')[-1:]
        self.assertTrue(first_email.message_id)
        return self._process(
            email_from=email_from,
            subject=subject,
            extra=f'In-Reply-To: {first_email.message_id}\nReferences: {first_email.message_id}\n',
            **kwargs,
        )

    def _pending(self, subject):
        return self.env['cabinet.mail.pending'].search([('name', '=', subject)])

    def _emails_of(self, ticket):
        return ticket.message_ids.filtered(lambda m: m.message_type == 'email')


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestMailGatewayIdentity(MailGatewayHardeningCase):
    """An address that contacts of different parties have is never attributed silently."""

    def _take_alice_address(self):
        """Betty, portal user of party B, writes Alice's address (party A, no account) on her own
        contact, as the portal's address form lets her."""
        self.portal_b.partner_id.email = 'alice@party-a.example'

    def test_new_email_from_shared_address_kept_to_qualify(self):
        self._take_alice_address()
        ticket_count = self.env['cabinet.ticket'].search_count([])
        with self.mock_mail_gateway():
            self._process(subject="Our building permit, confidential")
        self.assertEqual(self.env['cabinet.ticket'].search_count([]), ticket_count, "No ticket for a guessed party")
        pending = self._pending("Our building permit, confidential")
        self.assertRecordValues(
            pending,
            [
                {
                    'reason': 'ambiguous',
                    'email_from': 'Alice A <alice@party-a.example>',
                    'partner_id': False,
                    'team_id': self.team_a.id,
                    'state': 'pending',
                }
            ],
        )
        kept = pending.message_ids.filtered(lambda m: m.message_type == 'email')
        self.assertEqual(len(kept), 1, "The email is kept on the email to qualify")
        self.assertNotIn(kept.author_id, self.portal_b.partner_id | self.contact_a, "It is attributed to nobody")
        self.assertNotIn('alice@party-a.example', self._sent_to(), "Nothing is answered to the shared address")
        # party B's portal user sees nothing of it
        self.assertFalse(
            self.env['cabinet.ticket'].with_user(self.portal_b).search([('name', 'ilike', 'building permit')])
        )
        self.assertFalse(
            self.env['mail.message'].with_user(self.portal_b).search([('body', 'ilike', 'building permit stands')])
        )

    def test_reply_from_shared_address_kept_to_qualify(self):
        with self.mock_mail_gateway():
            ticket = self._process(subject="Roof of party A")
        self.assertEqual(ticket.partner_id, self.contact_a)
        self._take_alice_address()
        ticket_count = self.env['cabinet.ticket'].search_count([])
        with self.mock_mail_gateway():
            self._reply(ticket, 'Alice A <alice@party-a.example>', "Re: Roof of party A")
        self.assertEqual(self.env['cabinet.ticket'].search_count([]), ticket_count, "No ticket for a guessed party")
        self.assertEqual(len(self._emails_of(ticket)), 1, "The reply does not enter the ticket")
        pending = self._pending("Re: Roof of party A")
        self.assertRecordValues(pending, [{'reason': 'ambiguous', 'team_id': self.team_a.id}])
        note = ticket.message_ids[0]
        self.assertTrue(note.subtype_id.internal, "The ticket gets an internal note")
        self.assertIn(f"email to qualify #{pending.id}", note.body)
        self.assertNotIn('alice@party-a.example', self._sent_to())
        self.assertNotIn(self.portal_b.partner_id, ticket.message_partner_ids)

    def test_same_party_shared_address_attributed(self):
        """Positive control: contacts of one party sharing an address are that party's."""
        self._create_party("Alan's old record", parent=self.party_a, email='alan@party-a.example')
        with self.mock_mail_gateway():
            ticket = self._process(email_from='Alan <alan@party-a.example>', subject="Shared inbox of A")
        self.assertEqual(ticket.partner_id, self.portal_a.partner_id, "The contact with a user account is chosen")
        first = self._create_party("Ann One", parent=self.party_a, email='desk@party-a.example')
        self._create_party("Ann Two", parent=self.party_a, email='desk@party-a.example')
        with self.mock_mail_gateway():
            ticket = self._process(email_from='Desk <desk@party-a.example>', subject="Front desk of A")
            self._reply(ticket, 'Desk <desk@party-a.example>', "Re: Front desk of A")
        self.assertEqual(ticket.partner_id, first, "Else the oldest contact")
        self.assertEqual(len(self._emails_of(ticket)), 2, "Its replies enter the ticket")

    def test_firm_staff_and_client_sharing_address_ambiguous(self):
        """The firm's users count as one side: a client's contact with a staff address is ambiguous."""
        self._create_party("Impostor", parent=self.party_b, email='anna@firm.example')
        with self.mock_mail_gateway():
            self._process(email_from='Anna Architect <anna@firm.example>', subject="Staff or client", to=None)
        self.assertEqual(self._pending("Staff or client").reason, 'ambiguous')


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestMailGatewaySender(MailGatewayHardeningCase):
    """A From header is usable only when it names exactly one mailbox, for certain."""

    UNUSABLE_SENDERS = [
        ('alice@party-a.example <mallory@evil.example>', 'malformed'),
        ('"alice@party-a.example" <mallory@evil.example>', 'malformed'),
        ('"Alice A <alice@party-a.example>" <mallory@evil.example>', 'malformed'),
        ('=?utf-8?q?alice=40party-a=2Eexample?= <mallory@evil.example>', 'malformed'),
        ('Alice A <alice@party-a.example> <mallory@evil.example>', 'malformed'),
        ('Alice A <alice@party-a.example>, Mallory <mallory@evil.example>', 'several'),
        ('alice@party-a.example, mallory@evil.example', 'several'),
        ('undisclosed-recipients:;', 'malformed'),
        ('', 'missing'),
    ]

    def test_unusable_sender_new_email(self):
        partner_count = self.env['res.partner'].search_count([])
        for index, (email_from, reason) in enumerate(self.UNUSABLE_SENDERS):
            subject = f"Unusable sender {index}"
            with self.subTest(email_from=email_from), self.mock_mail_gateway():
                self._process(email_from=email_from, subject=subject)
                self.assertFalse(self.env['cabinet.ticket'].search([('name', '=', subject)]), "Never a ticket")
                pending = self._pending(subject)
                self.assertEqual(pending.reason, reason)
                self.assertEqual(
                    pending.email_from or '',
                    email_from.replace('=?utf-8?q?alice=40party-a=2Eexample?=', 'alice@party-a.example'),
                    "The From header is kept as received (decoded)",
                )
                self.assertFalse(pending.message_ids.author_id & self.contact_a, "Never attributed to Alice")
                self.assertEqual(self._sent_to(), ['anna@firm.example'], "Only the team leader hears of it")
        self.assertEqual(
            self.env['res.partner'].search_count([]), partner_count, "No partner is created from an unusable sender"
        )

    def test_unusable_sender_reply(self):
        with self.mock_mail_gateway():
            ticket = self._process(subject="Party A roof")
        for index, (email_from, reason) in enumerate(self.UNUSABLE_SENDERS):
            subject = f"Re: Party A roof {index}"
            with self.subTest(email_from=email_from), self.mock_mail_gateway():
                self._reply(ticket, email_from, subject)
                self.assertEqual(len(self._emails_of(ticket)), 1, "The reply does not enter party A's ticket")
                self.assertFalse(self.env['cabinet.ticket'].search([('name', '=', subject)]))
                self.assertEqual(self._pending(subject).reason, reason)
                self.assertNotIn('mallory@evil.example', self._sent_to())
        self.assertNotIn('mallory', str(ticket.message_follower_ids.partner_id.mapped('email')))

    def test_usable_senders(self):
        """Positive controls: ordinary senders still open and continue tickets."""
        for index, email_from in enumerate(
            [
                'Alice A <alice@party-a.example>',
                '"A, Alice" <alice@party-a.example>',
                '=?utf-8?q?A=2C_Alice?= <alice@party-a.example>',
                'Alice Q. A <alice@party-a.example>',
                '<alice@party-a.example>',
                'alice@party-a.example',
                '"alice@party-a.example" <alice@party-a.example>',
                '"\'alice@party-a.example\'" <alice@party-a.example>',
            ]
        ):
            with self.subTest(email_from=email_from), self.mock_mail_gateway():
                ticket = self._process(email_from=email_from, subject=f"Usable {index}")
                self.assertEqual(ticket.partner_id, self.contact_a)
                self._reply(ticket, email_from, f"Re: Usable {index}")
                self.assertEqual(len(self._emails_of(ticket)), 2)
        with self.mock_mail_gateway():
            ticket = self._process(email_from='Élise Müller <elise@client.example>', subject="Raw UTF-8 name")
        self.assertRecordValues(ticket.partner_id, [{'name': "Élise Müller", 'email': 'elise@client.example'}])


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestMailGatewayUnreadable(MailGatewayHardeningCase):
    """An email Python cannot read is kept for a person, with the original, never lost."""

    def _assert_kept(self, subject, raw):
        pending = self._pending(subject)
        self.assertRecordValues(pending, [{'reason': 'unreadable', 'team_id': self.team_a.id, 'state': 'pending'}])
        original = pending.attachment_ids.filtered(lambda a: a.name == 'original_email.eml')
        self.assertEqual(len(original), 1, "The original is attached")
        self.assertEqual(original.raw, raw.encode(), "as received, byte for byte")
        self.assertIn("could not be read", pending.body)
        self.assertFalse(self.env['cabinet.ticket'].search([('name', '=', subject)]))
        return pending

    def _raw(self, template, subject, **kwargs):
        values = {'to': self.alias_email, 'email_from': 'Alice A <alice@party-a.example>', 'subject': subject}
        values.update(kwargs)
        return self.format(template, **values)

    def _message_process(self, raw):
        return self.env['mail.thread'].sudo().message_process(None, raw)

    def test_charset_not_a_text_encoding(self):
        for charset in ('zlib', 'rot13', 'hex', 'base64', 'uu'):
            subject = f"Charset {charset}"
            raw = self._raw(MAIL_TEMPLATE_CHARSET, subject, charset=charset, msg_id=f'<charset-{charset}@client>')
            with (
                self.subTest(charset=charset),
                self.mock_mail_gateway(),
                mute_logger('odoo.addons.cabinet_helpdesk.models.mail_gateway.mail_thread'),
            ):
                self._message_process(raw)
                self._assert_kept(subject, raw)

    @mute_logger('odoo.addons.cabinet_helpdesk.models.mail_gateway.mail_thread')
    def test_deeply_nested_multipart(self):
        subject = "Nested a thousand times"
        raw = (
            f'From: Alice A <alice@party-a.example>\nTo: {self.alias_email}\nSubject: {subject}\n'
            'Message-ID: <deep@client.example>\nDate: Fri, 10 Aug 2012 14:16:26 +0000\nMIME-Version: 1.0\n'
        ) + _nested_multipart(1000)
        with self.mock_mail_gateway():
            self._message_process(raw)
        pending = self._assert_kept(subject, raw)
        self.assertEqual(self._sent_to(), ['anna@firm.example'], "The team leader hears of it")
        # the same email arriving again (other mailbox, new fetch) is not kept twice
        with self.mock_mail_gateway():
            self._message_process(raw)
        self.assertEqual(self._pending(subject), pending)

    @mute_logger('odoo.addons.cabinet_helpdesk.models.mail_gateway.mail_thread')
    def test_unreadable_reply(self):
        with self.mock_mail_gateway():
            ticket = self._process(subject="Readable first")
        first = self._emails_of(ticket)
        subject = "Re: Readable first"
        raw = self._raw(
            MAIL_TEMPLATE_CHARSET,
            subject,
            charset='zlib',
            extra=f'In-Reply-To: {first.message_id}\nReferences: {first.message_id}\n',
        )
        with self.mock_mail_gateway():
            self._message_process(raw)
        pending = self._assert_kept(subject, raw)
        self.assertEqual(self._emails_of(ticket), first, "Nothing enters the ticket")
        self.assertIn(f"email to qualify #{pending.id}", ticket.message_ids[0].body)

    def test_other_errors_still_raise(self):
        """Only reading errors are caught: a failure while handling a readable email is not hidden."""

        def one_new_ticket(model, message, routes):
            raise KeyError('bug')

        raw = self._raw(MAIL_TEMPLATE_PLAIN, "Readable but failing")
        with (
            self.mock_mail_gateway(),
            patch.object(self.registry['cabinet.ticket'], '_mail_one_new_ticket', one_new_ticket),
            self.assertRaises(KeyError),
        ):
            self._message_process(raw)
        self.assertFalse(self._pending("Readable but failing"))

    def test_readable_email_positive_control(self):
        with self.mock_mail_gateway():
            ticket = self._process(MAIL_TEMPLATE_CHARSET, subject="Plain utf-8", charset='utf-8')
        self.assertEqual(ticket.partner_id, self.contact_a)
        self.assertIn("Please call me back", self._emails_of(ticket).body)
        self.assertFalse(self._pending("Plain utf-8"))


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestMailGatewaySeveralAliases(MailGatewayHardeningCase):
    """One email written to two team aliases is one need: one ticket, one acknowledgement."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.team_b.write({'alias_name': 'team-b-requests', 'alias_domain_id': cls.mail_alias_domain.id})
        cls.alias_b_email = f'team-b-requests@{cls.alias_domain}'

    def _acknowledgements(self):
        return self._new_mails.filtered(lambda mail: self.contact_a in mail.recipient_ids)

    def test_to_and_cc_aliases_one_ticket(self):
        msg_id = '<two-aliases@client.example>'
        with self.mock_mail_gateway():
            ticket = self._process(subject="Two teams asked", cc=self.alias_b_email, msg_id=msg_id)
        self.assertEqual(len(ticket), 1, "One ticket")
        self.assertEqual(ticket.team_id, self.team_a, "The first alias in To handles it")
        self.assertEqual(len(self._acknowledgements()), 1, "One acknowledgement")
        # the same email fetched again from team B's mailbox
        raw = self.format(
            MAIL_TEMPLATE_PLAIN,
            to=self.alias_email,
            cc=self.alias_b_email,
            email_from='Alice A <alice@party-a.example>',
            subject="Two teams asked",
            msg_id=msg_id,
            extra=f'Delivered-To: {self.alias_b_email}\n',
        )
        with self.mock_mail_gateway():
            self.env['mail.thread'].sudo().message_process(None, raw)
        self.assertEqual(self.env['cabinet.ticket'].search([('name', '=', "Two teams asked")]), ticket)
        self.assertFalse(self._acknowledgements(), "No second acknowledgement")

    def test_cc_order(self):
        with self.mock_mail_gateway():
            ticket = self._process(
                subject="Team B first", to=f'Team B <{self.alias_b_email}>', cc=f'Team A <{self.alias_email}>'
            )
        self.assertEqual(len(ticket), 1)
        self.assertEqual(ticket.team_id, self.team_b, "The alias in To wins over the one in Cc")
        self.assertEqual(len(self._acknowledgements()), 1)
        with self.mock_mail_gateway():
            ticket = self._process(subject="Both in To", to=f'{self.alias_b_email}, {self.alias_email}')
        self.assertEqual(ticket.team_id, self.team_b, "The first alias in To wins")

    def test_unusable_sender_to_two_aliases_kept_once(self):
        with self.mock_mail_gateway():
            self._process(email_from='', subject="Nobody to two teams", cc=self.alias_b_email)
        self.assertEqual(len(self._pending("Nobody to two teams")), 1)


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestAttachmentNames(MailGatewayHardeningCase):
    """Invisible and bidirectional control characters never reach a stored file name."""

    def test_clean_names(self):
        Attachment = self.env['ir.attachment']
        for name, expected in [
            (RTL_OVERRIDE_NAME, 'invoicefdp.exe'),
            ('report\u2066\u2067\u2068\u2069.pdf', 'report.pdf'),
            ('a\u200eb\u200fc\u202ad\u202be\u202cf\u061cg.txt', 'abcdefg.txt'),
            ('zero\u200bwidth\ufeff.doc', 'zerowidth.doc'),
            ('line\nbreak\ttab\x00null\x7f.txt', 'line break tabnull.txt'),
            ('\u202e', 'attachment'),
            # kept as they are
            ('Überweisung – März 2026.pdf', 'Überweisung – März 2026.pdf'),
            ('عقد الإيجار.pdf', 'عقد الإيجار.pdf'),
            ('میخواهم.txt', 'میخواهم.txt'),
            ('👩\u200d💻 notes.txt', '👩\u200d💻 notes.txt'),
        ]:
            with self.subTest(name=name):
                attachment = Attachment.create({'name': name, 'raw': b'x'})
                self.assertEqual(attachment.name, expected)
                attachment.name = 'renamed'
                attachment.write({'name': name})
                self.assertEqual(attachment.name, expected)

    def test_email_attachment(self):
        with self.mock_mail_gateway():
            ticket = self._process(
                MAIL_TEMPLATE_ATTACHMENT_RFC2231, subject="Invoice", attachment_name='invoice%E2%80%AEfdp.exe'
            )
        self.assertEqual(self._emails_of(ticket).attachment_ids.mapped('name'), ['invoicefdp.exe'])

    def test_rpc_create_and_write(self):
        ticket = self._create_ticket(self.contact_a)
        attachment_id = service_model.call_kw(
            self.env['ir.attachment'].with_user(self.user_a),
            'create',
            [
                {
                    'name': RTL_OVERRIDE_NAME,
                    'datas': base64.b64encode(b'MZ'),
                    'res_model': ticket._name,
                    'res_id': ticket.id,
                }
            ],
            {},
        )
        attachment = self.env['ir.attachment'].browse(attachment_id)
        self.assertEqual(attachment.name, 'invoicefdp.exe')
        service_model.call_kw(
            self.env['ir.attachment'].with_user(self.user_a),
            'write',
            [attachment.ids, {'name': 'plan\u202egnp.js'}],
            {},
        )
        self.assertEqual(attachment.name, 'plangnp.js')


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestAttachmentNamesPortal(CabinetFactories, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_cabinet_data()
        cls.portal_a.partner_id.cabinet_privacy_ack_date = '2026-01-01 00:00:00'

    def test_portal_upload(self):
        self.authenticate('cab_portal', 'cab_portal')
        page = self.url_open('/my/tickets/new').text
        csrf = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        response = self.url_open(
            '/my/tickets/new',
            data={
                'csrf_token': csrf,
                'name': "Invoice from the portal",
                'description': "See the invoice",
                'category_id': self.category_client.id,
            },
            files=[('attachments', (RTL_OVERRIDE_NAME, b'%PDF-1.4', 'application/pdf'))],
        )
        self.assertEqual(response.status_code, 200)
        ticket = self.env['cabinet.ticket'].search([('name', '=', "Invoice from the portal")])
        attachments = self.env['ir.attachment'].search([('res_model', '=', ticket._name), ('res_id', '=', ticket.id)])
        self.assertEqual(attachments.mapped('name'), ['invoicefdp.exe'])


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestMailGatewayOpeningMessageId(MailGatewayHardeningCase):
    @mute_logger('odoo.addons.mail.models.mail_thread', 'odoo.models.unlink')
    def test_opening_message_id_is_the_gateway_s(self):
        """The Message-ID that opened a ticket is set by the gateway only: the team's own staff
        cannot set it through RPC (it would make the gateway refuse a real email), and a copy of the
        ticket does not carry it."""
        ticket = self._process(subject="Opening Message-ID")
        opening = ticket.email_message_id
        self.assertTrue(opening, "The gateway keeps the Message-ID of the email that opened the ticket")
        Ticket = self.env['cabinet.ticket'].with_user(self.user_a)
        with self.assertRaises(AccessError) as caught:
            service_model.call_kw(Ticket, 'write', [[ticket.id], {'email_message_id': '<forged@example>'}], {})
        self.assertIn("(email_message_id)", str(caught.exception), "The refusal names the field")
        with self.assertRaises(AccessError):
            Ticket.create({'name': "Forged", 'partner_id': self.contact_a.id, 'email_message_id': '<next@example>'})
        self.assertEqual(ticket.email_message_id, opening, "Nothing changed")
        self.assertFalse(ticket.copy().email_message_id, "A copy is not the ticket the email opened")
