# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
import importlib.util
import logging
import os
import shutil
import unittest
import uuid
from email.utils import getaddresses

from odoo.tests import tagged
from odoo.tools import email_normalize, file_path

from odoo.addons.mail.tests.common import MailCommon

from .common import MAIL_TEMPLATE_NO_FROM, MAIL_TEMPLATE_PLAIN, CabinetFactories


def _load_mail_servers():
    """tools/mail_servers.py: the loopback IMAP and SMTP servers (not a package of the module)."""
    spec = importlib.util.spec_from_file_location(
        'cabinet_helpdesk_mail_servers', file_path('cabinet_helpdesk/tools/mail_servers.py')
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


mail_servers = _load_mail_servers()

ADDRESS_HEADERS = ('From', 'To', 'Cc', 'Bcc', 'Reply-To', 'Sender', 'Return-Path', 'Resent-To', 'Resent-Cc')


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestMailEndToEnd(CabinetFactories, MailCommon):
    """Emails through real servers on loopback: a dovecot mailbox polled by Odoo's own incoming
    mail server (``fetchmail.server``, IMAP), and an SMTP server receiving what Odoo sends
    (``ir.mail_server``). The one-party rule is checked where it matters to the people involved:
    in the SMTP envelope (RCPT TO) and in the headers of every email that leaves."""

    @classmethod
    def setUpClass(cls):
        if not mail_servers.find_dovecot():
            if os.geteuid() == 0 and shutil.which('apt-get'):
                # tools/lib.sh installs it here: its absence is a broken set-up, not a reason to skip
                raise RuntimeError("dovecot is missing although tools/lib.sh installs dovecot-imapd as root")
            raise unittest.SkipTest(
                "dovecot is not installed (Debian package dovecot-imapd; tools/test.sh installs it when run as root)"
            )
        super().setUpClass()
        cls._setup_cabinet_data()
        cls.company.email = 'office@firm.example'
        cls.team_a.write({'alias_name': 'team-a-requests', 'alias_domain_id': cls.mail_alias_domain.id})
        cls.alias_email = f'team-a-requests@{cls.alias_domain}'

        cls.imap = mail_servers.Dovecot(user='catchall')
        cls.imap.start()
        cls.addClassCleanup(cls.imap.stop)
        cls.smtp = mail_servers.SmtpSink()
        cls.smtp.start()
        cls.addClassCleanup(cls.smtp.stop)

        # outgoing: the loopback SMTP server only
        cls.env['ir.mail_server'].search([]).action_archive()
        cls.env['ir.mail_server'].create(
            {
                'name': "Loopback SMTP",
                'smtp_host': mail_servers.HOST,
                'smtp_port': cls.smtp.port,
                'smtp_encryption': 'none',
                'sequence': 1,
            }
        )
        # incoming: the mailbox of the firm, routed by the aliases (no fixed model)
        cls.env['fetchmail.server'].search([]).action_archive()
        cls.fetchmail_server = cls.env['fetchmail.server'].create(
            {
                'name': "Loopback IMAP",
                'server_type': 'imap',
                'server': mail_servers.HOST,
                'port': cls.imap.port,
                'is_ssl': False,
                'user': cls.imap.user,
                'password': cls.imap.password,
            }
        )
        cls.fetchmail_server.button_confirm_login()  # a real IMAP login

    def setUp(self):
        super().setUp()
        # tests never send emails; this one sends them, to the loopback server only
        self.patch(self.registry['ir.mail_server'], '_disable_send', classmethod(lambda cls: False))
        self.smtp.take()

    # ------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------

    def _deliver(self, template=MAIL_TEMPLATE_PLAIN, **kwargs):
        """Put a raw email into the mailbox, as the firm's MTA would; return its Message-ID."""
        kwargs.setdefault('to', self.alias_email)
        kwargs['msg_id'] = kwargs.get('msg_id') or f'<{uuid.uuid4().hex}@client.example>'
        self.imap.append(self.format(template, **kwargs))
        return kwargs['msg_id']

    def _fetch_and_send(self, count):
        """Odoo's incoming server fetches the mailbox (committing after each email, as it does in
        production) and must process its ``count`` new emails without error; then the outgoing
        queue is sent. Return what the SMTP server received."""
        with (
            self.enter_registry_test_mode(),
            self.registry.cursor() as cr,
            self.assertLogs('odoo.addons.mail.models.fetchmail', logging.INFO) as logs,
        ):
            self.fetchmail_server.with_env(self.fetchmail_server.env(cr=cr)).fetch_mail()
        summaries = [record.args for record in logs.records if record.msg.startswith("Fetched %d email(s)")]
        self.assertEqual(
            [(fetched, failed) for fetched, *_server, _succeeded, failed in summaries],
            [(count, 0)],
            "Every email of the mailbox is fetched and processed without error:\n" + "\n".join(logs.output),
        )
        return self._send_queue()

    def _send_queue(self):
        self.env['mail.mail'].sudo().process_email_queue()
        self.assertFalse(
            self.env['mail.mail'].sudo().search([('state', 'in', ('outgoing', 'exception'))]),
            "Every email reached the SMTP server",
        )
        return self.smtp.take()

    def _envelope(self, received):
        return sorted(email_normalize(address) for mail in received for address in mail.rcpt_tos)

    def _outside(self, received):
        """The envelope recipients outside the firm (the firm's staff hear of the requests and
        answers of their teams' parties: they are checked where it matters)."""
        return [address for address in self._envelope(received) if address != self.user_a.email]

    def _header_addresses(self, mail):
        return {
            email_normalize(address)
            for _name, address in getaddresses(
                [str(value) for header in ADDRESS_HEADERS for value in mail.message.get_all(header, [])]
            )
            if address
        }

    def _assert_one_party(self, received, party_emails, forbidden):
        """Each email goes to ``party_emails`` only, or to the team's staff (envelope and To),
        without Cc or Bcc header, and no ``forbidden`` address appears in its envelope or headers."""
        allowed = {*party_emails, self.user_a.email}
        for mail in received:
            self.assertTrue(mail.rcpt_tos, "An email without recipient")
            self.assertLessEqual(
                {email_normalize(address) for address in mail.rcpt_tos}, allowed, "RCPT TO: the party only"
            )
            to = {email_normalize(address) for _name, address in getaddresses(mail.message.get_all('To', []))}
            self.assertLessEqual(to, allowed, "To: the party only")
            self.assertIsNone(mail.message['Cc'], "Outgoing email has no Cc header")
            self.assertIsNone(mail.message['Bcc'], "Outgoing email has no Bcc header")
            seen = self._header_addresses(mail) | {email_normalize(address) for address in mail.rcpt_tos}
            headers = str(mail.message.items()).lower()
            for address in forbidden:
                self.assertNotIn(address, seen, "An address of the incoming Cc/Bcc/To went out")
                self.assertNotIn(address, headers, "An address of the incoming Cc/Bcc/To is in a header")

    def _imap_flags(self, msg_id):
        for flags, raw in self.imap.messages():
            if msg_id.encode() in raw:
                return flags
        self.fail(f"{msg_id} is no longer in the mailbox")

    # ------------------------------------------------------------
    # The test
    # ------------------------------------------------------------

    def test_one_party_rule_through_real_servers(self):
        Ticket = self.env['cabinet.ticket']
        hidden = ['bob@party-b.example', 'stranger@nowhere.example', 'betty@party-b.example', 'carl@hidden.example']

        # 1. a new request with Cc and Bcc: the alias is a Bcc (only in Delivered-To), the visible
        # To is another party, the Cc holds a third one and a stranger, and a Bcc header remained
        first_id = self._deliver(
            email_from='Zoe Client <zoe@client.example>',
            to='Betty B <betty@party-b.example>',
            cc='Bob B <bob@party-b.example>, Stranger <stranger@nowhere.example>',
            subject="Building permit",
            extra=f'Delivered-To: {self.alias_email}\nBcc: Carl Hidden <carl@hidden.example>\n',
        )
        received = self._fetch_and_send(1)
        ticket = Ticket.search([('name', '=', "Building permit")])
        self.assertEqual(len(ticket), 1, "The fetched email opens a ticket")
        zoe = ticket.partner_id
        self.assertEqual(zoe.email, 'zoe@client.example')
        self.assertIn('\\Seen', self._imap_flags(first_id), "The fetched email is marked read in the mailbox")
        self.assertEqual(
            self._envelope(received),
            ['anna@firm.example', 'zoe@client.example'],
            "The sender gets the acknowledgement and the team's leader hears of the request: nobody else",
        )
        self._assert_one_party(received, ['zoe@client.example', 'anna@firm.example'], hidden)
        acknowledgement = next(mail for mail in received if 'zoe@client.example' in mail.rcpt_tos)
        self.assertIn(ticket.number, acknowledgement.message['Subject'])

        # 2. a staff reply on the ticket: to the party's contact only
        ticket.with_user(self.user_a).message_post(
            body="We are on it.", message_type='comment', subtype_xmlid='mail.mt_comment', partner_ids=zoe.ids
        )
        received = self._send_queue()
        self.assertEqual(self._outside(received), ['zoe@client.example'], "A staff reply goes to the party only")
        self._assert_one_party(received, ['zoe@client.example'], hidden)
        staff_reply = received[0].message

        # 3. another party answers on the thread (Bob, from the Cc, replies to the staff reply):
        # a ticket of their own, acknowledged to them alone; nothing crosses between the two
        self._deliver(
            email_from='Bob B <bob@party-b.example>',
            to=staff_reply['Reply-To'] or self.alias_email,
            subject=f"Re: {ticket.name}",
            extra=f"In-Reply-To: {staff_reply['Message-Id']}\nReferences: {staff_reply['Message-Id']}\n",
        )
        received = self._fetch_and_send(1)
        bob_ticket = Ticket.search([('partner_id', '=', self.contact_b.id)])
        self.assertEqual(len(bob_ticket), 1, "The other party's reply opens its own ticket")
        self.assertNotEqual(bob_ticket, ticket)
        self.assertFalse(
            ticket.message_ids.filtered(lambda m: m.author_id == self.contact_b),
            "Nothing of the other party enters the first ticket",
        )
        self.assertEqual(self._outside(received), ['bob@party-b.example'], "Only the other party hears back")
        self._assert_one_party(received, ['bob@party-b.example'], ['zoe@client.example'])
        for mail in received:
            self.assertNotIn(ticket.number, mail.data.decode(errors='replace'), "Nothing of the first ticket")
            self.assertNotIn(ticket.access_token, mail.data.decode(errors='replace'))
        # and the first ticket's next answer still goes to its party alone
        ticket.with_user(self.user_a).message_post(
            body="The permit is filed.", message_type='comment', subtype_xmlid='mail.mt_comment', partner_ids=zoe.ids
        )
        received = self._send_queue()
        self.assertEqual(self._outside(received), ['zoe@client.example'])
        self._assert_one_party(received, ['zoe@client.example'], [*hidden, bob_ticket.number.lower()])

        # 4. an auto-reply (out of office answering the acknowledgement): kept, never answered
        message_count = len(ticket.message_ids)
        self._deliver(
            email_from='Zoe Client <zoe@client.example>',
            subject=f"Automatic reply: {acknowledgement.message['Subject']}",
            extra=(
                'Auto-Submitted: auto-replied\n'
                f"In-Reply-To: {acknowledgement.message['Message-Id']}\n"
                f"References: {acknowledgement.message['Message-Id']}\n"
            ),
        )
        self._deliver(
            email_from='Yann Unknown <yann@elsewhere.example>',
            subject="Out of office",
            extra='Auto-Submitted: auto-replied\n',
        )
        received = self._fetch_and_send(2)
        self.assertGreater(len(ticket.message_ids), message_count, "The auto-reply is kept on the ticket")
        self.assertEqual(len(Ticket.search([('name', '=', "Out of office")])), 1, "A new auto-reply is kept")
        envelope = set(self._envelope(received))
        self.assertFalse(
            envelope & {'zoe@client.example', 'yann@elsewhere.example'},
            "Nothing answers an automated email: no acknowledgement, no loop",
        )
        self.assertLessEqual(envelope, {self.user_a.email}, "At most the ticket's staff follower is told of it")

        # 5. emails without a usable sender: kept to qualify, never lost, nothing sent to them
        nobody_id = self._deliver(MAIL_TEMPLATE_NO_FROM, email_from='', subject="Nobody wrote this")
        self._deliver(email_from='Broken <broken@>', subject="Half an address")
        tickets_before = Ticket.search_count([])
        received = self._fetch_and_send(2)
        self.assertEqual(Ticket.search_count([]), tickets_before, "Never a ticket without a partner")
        pendings = self.env['cabinet.mail.pending'].search([('name', 'in', ["Nobody wrote this", "Half an address"])])
        self.assertEqual(len(pendings), 2, "Each email is kept for a person to qualify")
        self.assertEqual(pendings.team_id, self.team_a)
        nobody = pendings.filtered(lambda p: p.name == "Nobody wrote this")
        if '\\Seen' in self._imap_flags(nobody_id):
            # Odoo marks every fetched email read, whatever became of it: the email to qualify holds it
            self.assertEqual(nobody.message_id_header, nobody_id, "The email to qualify is the fetched email")
            self.assertIn("sender nobody knows", nobody.body, "The email to qualify keeps its content")
        self.assertEqual(
            self._envelope(received),
            ['anna@firm.example', 'anna@firm.example'],
            "Nothing goes to a malformed sender; the team leader hears of each email",
        )
        self._assert_one_party(received, ['anna@firm.example'], ['broken@'])
