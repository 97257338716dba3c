# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
import re
from contextlib import contextmanager
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from unittest.mock import patch

from markupsafe import Markup

from odoo import fields
from odoo.fields import Command
from odoo.tests import TransactionCase, freeze_time, new_test_user
from odoo.tools import email_normalize


class CabinetFactories:
    """Factories and a small firm shared by the module's tests.

    ``_setup_cabinet_data()`` builds: two teams (A with ``user_a``, B with ``user_b``), a
    manager, two client parties (companies) each with one contact and one portal user, and
    the module's default stages and request types.
    """

    @classmethod
    def _setup_cabinet_data(cls):
        cls.company = cls.env.company
        cls.user_manager = new_test_user(
            cls.env,
            login='cab_manager',
            name="Maria Manager",
            email='maria.manager@firm.example',
            groups='cabinet_helpdesk.group_cabinet_manager',
        )
        cls.user_a = new_test_user(
            cls.env,
            login='cab_user',
            name="Anna Architect",
            email='anna@firm.example',
            groups='cabinet_helpdesk.group_cabinet_user',
        )
        cls.user_b = new_test_user(
            cls.env,
            login='cab_user_b',
            name="Bruno Builder",
            email='bruno@firm.example',
            groups='cabinet_helpdesk.group_cabinet_user',
        )
        cls.user_employee = new_test_user(
            cls.env, login='cab_employee', name="Eva Employee", email='eva@firm.example', groups='base.group_user'
        )
        cls.team_a = cls.env['cabinet.team'].create(
            {
                'name': "Team A",
                'member_ids': [Command.set(cls.user_a.ids)],
                'leader_id': cls.user_a.id,
            }
        )
        cls.team_b = cls.env['cabinet.team'].create(
            {
                'name': "Team B",
                'member_ids': [Command.set(cls.user_b.ids)],
                'leader_id': cls.user_b.id,
            }
        )
        cls.stage_new = cls.env.ref('cabinet_helpdesk.cabinet_stage_new')
        cls.stage_progress = cls.env.ref('cabinet_helpdesk.cabinet_stage_in_progress')
        cls.stage_done = cls.env.ref('cabinet_helpdesk.cabinet_stage_done')
        cls.category_client = cls.env.ref('cabinet_helpdesk.cabinet_category_client_request')
        cls.category_hr = cls.env.ref('cabinet_helpdesk.cabinet_category_hr_request')
        cls.party_a = cls._create_party("Party A Ltd", party_type='company', email='office@party-a.example')
        cls.contact_a = cls._create_party("Alice A", parent=cls.party_a, email='alice@party-a.example')
        cls.party_b = cls._create_party("Party B Ltd", party_type='company', email='office@party-b.example')
        cls.contact_b = cls._create_party("Bob B", parent=cls.party_b, email='bob@party-b.example')
        cls.portal_a = new_test_user(
            cls.env, login='cab_portal', name="Alan A", email='alan@party-a.example', groups='base.group_portal'
        )
        cls.portal_a.partner_id.parent_id = cls.party_a
        cls.portal_b = new_test_user(
            cls.env, login='cab_portal_b', name="Betty B", email='betty@party-b.example', groups='base.group_portal'
        )
        cls.portal_b.partner_id.parent_id = cls.party_b

    @classmethod
    def _create_dpo(cls):
        """The firm's data protection officer."""
        return new_test_user(
            cls.env,
            login='cab_dpo',
            name="Dora Protection",
            email='dora@firm.example',
            groups='cabinet_helpdesk.group_cabinet_dpo',
        )

    @staticmethod
    def _csrf_from(html):
        """The CSRF token of the form in the page ``html``."""
        return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)

    def _sent_to(self):
        """Normalized addresses of every email built during the mail mock (``MockEmail``)."""
        return sorted(email_normalize(address) for mail in self._mails for address in mail['email_to'])

    @contextmanager
    def _at(self, when):
        """Freeze the clock at ``when`` (naive UTC), the transaction's clock included (create_date)."""
        with freeze_time(when), patch.object(self.env.cr, 'now', lambda: when):
            yield
            # stored computations (service level status) happen now, not after the clock runs on
            self.env.flush_all()

    def _run_cron(self, method, stop_after_batches=None, model='cabinet.ticket', **kwargs):
        """Run the cron method ``method`` without committing; stop it after ``stop_after_batches``
        batches as an interrupted run would. Return the size of each batch reported."""
        batches = []

        def commit_progress(cron, processed=0, *, remaining=None, deactivate=False):
            batches.append(processed)
            return 0 if stop_after_batches and len(batches) >= stop_after_batches else 100.0

        with patch.object(self.registry['ir.cron'], '_commit_progress', commit_progress):
            getattr(self.env[model], method)(**kwargs)
        return batches

    @classmethod
    def _create_party(cls, name, party_type=None, parent=None, email=None, **values):
        vals = {'name': name, 'email': email, 'is_company': bool(party_type == 'company' and not parent)}
        if parent:
            vals['parent_id'] = parent.id
        elif party_type:
            vals['party_type'] = party_type
        vals.update(values)
        return cls.env['res.partner'].create(vals)

    @classmethod
    def _create_ticket(cls, partner, team=None, **values):
        vals = {
            'name': values.pop('name', "Question about the project"),
            'partner_id': partner.id,
            'team_id': (team or cls.team_a).id,
        }
        vals.update(values)
        return cls.env['cabinet.ticket'].create(vals)

    @classmethod
    def _create_lived_in_ticket(cls, partner, team=None, **values):
        """A ticket with the history a real one gathers over weeks, for data-subject rights,
        dossier and performance tests. Needs ``_setup_cabinet_data()``.

        In this order: ``partner`` (a contact with an email) opens it by an email to ``team``
        (default ``team_a``) carrying ``request.pdf``, through the mail gateway (acknowledgement
        included); a document ``site_photo.jpg`` is attached to the ticket itself (no message);
        stage, assignee, priority and deadline change (each tracked); the team answers publicly
        with ``answer.pdf``; a second contact of the party replies with ``second_contact.pdf``;
        staff write an internal note ("INTERNAL-NOTE"); an agent acting under an active mandate
        of the party replies with ``agent_letter.pdf``; the ticket is reassigned once (to
        ``team_b`` and ``user_b``, with a reason), closed, rated 5 by ``partner`` and reopened once
        by ``partner`` from the portal. Tracking is flushed after each step, as separate
        transactions would.

        The second contact ("<party> Colleague") and the agent party ("<party> Agent", its
        contact and the mandate) are created on the first call for a party and reused after.

        :param partner: the requester: a contact of its party, with an email address
        :param team: the team the email is sent to (default ``team_a``)
        :param values: values written on the new ticket before its history (e.g. ``category_id``)
        :return: the ticket, open again, in ``team_b`` assigned to ``user_b``
        """
        env = cls.env
        party = partner.commercial_partner_id
        team = team or cls.team_a
        Partner = env['res.partner'].with_context(active_test=False)

        def flush_tracking():
            env.flush_all()
            env.cr.precommit.run()

        def attachment(name, content=None):
            return env['ir.attachment'].create(
                {'name': name, 'raw': content or f"content of {name}".encode(), 'res_model': 'mail.compose.message'}
            )

        colleague = Partner.search([('parent_id', '=', party.id), ('name', '=', f"{party.name} Colleague")], limit=1)
        if not colleague:
            domain = (party.email or partner.email).split('@')[-1]
            colleague = cls._create_party(f"{party.name} Colleague", parent=party, email=f'colleague@{domain}')
        agent_party = Partner.search([('name', '=', f"{party.name} Agent"), ('party_type', '=', 'agent')], limit=1)
        if not agent_party:
            agent_party = cls._create_party(
                f"{party.name} Agent", party_type='agent', is_company=True, email=f'office@agent-{party.id}.example'
            )
            cls._create_party(
                f"{party.name} Agent Contact", parent=agent_party, email=f'clerk@agent-{party.id}.example'
            )
            env['cabinet.mandate'].create(
                {
                    'agent_id': agent_party.id,
                    'principal_id': party.id,
                    'date_start': fields.Date.subtract(fields.Date.today(), days=30),
                }
            ).action_activate()
        agent_contact = agent_party.child_ids[:1]

        # the opening email, with its document, through the mail gateway
        email = EmailMessage()
        email['From'] = f'{partner.name} <{partner.email}>'
        email['To'] = f'requests@{team.id}.firm.example'
        email['Subject'] = values.get('name') or f"Request of {partner.name} about the site"
        email['Date'] = format_datetime(fields.Datetime.now())
        email['Message-ID'] = make_msgid(domain='client.example')
        email.set_content("Hello,\n\nPlease find my request attached: OPENING-EMAIL-BODY.\n\nRegards")
        email.add_attachment(b"%PDF-1.4 request", maintype='application', subtype='pdf', filename='request.pdf')
        ticket_id = env['mail.thread'].message_process(
            'cabinet.ticket', email.as_string(), custom_values={'team_id': team.id}
        )
        ticket = env['cabinet.ticket'].browse(ticket_id)
        if values:
            ticket.write(values)
        flush_tracking()

        # a document on the ticket itself, then the tracked handling
        env['ir.attachment'].create(
            {'name': 'site_photo.jpg', 'raw': b"photo of the site", 'res_model': ticket._name, 'res_id': ticket.id}
        )
        ticket.write({'stage_id': cls.stage_progress.id, 'user_id': cls.user_a.id})
        flush_tracking()
        ticket.write({'priority': '2', 'date_deadline': fields.Date.add(fields.Date.today(), days=30)})
        flush_tracking()

        # exchanges: public answers with documents, an internal note, the agent under mandate
        ticket.message_post(
            body=Markup("<p>We have looked at your request: see our answer attached.</p>"),
            author_id=cls.user_a.partner_id.id,
            attachment_ids=attachment('answer.pdf').ids,
            message_type='comment',
            subtype_xmlid='mail.mt_comment',
        )
        ticket.message_post(
            body=Markup("<p>I add the plans of the first floor.</p>"),
            author_id=colleague.id,
            attachment_ids=attachment('second_contact.pdf').ids,
            message_type='email',
            subtype_xmlid='mail.mt_comment',
        )
        ticket.message_post(
            body=Markup("<p>INTERNAL-NOTE: check the contractor's liability first.</p>"),
            author_id=cls.user_a.partner_id.id,
            message_type='comment',
            subtype_xmlid='mail.mt_note',
        )
        ticket.agent_partner_id = agent_contact
        ticket.message_post(
            body=Markup("<p>Acting for my principal, I confirm the request.</p>"),
            author_id=agent_contact.id,
            attachment_ids=attachment('agent_letter.pdf').ids,
            message_type='email',
            subtype_xmlid='mail.mt_comment',
        )
        flush_tracking()

        # reassigned once, closed, rated, reopened once
        env['cabinet.ticket.reassign'].create(
            {
                'ticket_ids': [Command.set(ticket.ids)],
                'team_id': cls.team_b.id,
                'user_id': cls.user_b.id,
                'reason': "Structural question: team B handles it",
            }
        ).action_reassign()
        flush_tracking()
        ticket.action_close()
        flush_tracking()
        token = ticket._rating_get_access_token(partner=partner)
        ticket.rating_apply(5, token=token, feedback="Quick and clear answer")
        ticket._portal_reopen(partner, reason="One more question about the plans")
        flush_tracking()
        return ticket


class CabinetCommon(CabinetFactories, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_cabinet_data()


# Raw incoming emails for the mail gateway tests, formatted by ``MailCommon.format()``
# (placeholders: email_from, to, cc, subject, msg_id, extra, return_path, date, plus the
# template's own ones).
MAIL_TEMPLATE_PLAIN = """Return-Path: {return_path}
To: {to}
Cc: {cc}
Received: by mail1.client.example (Postfix, from userid 10002)
    id 5DF9ABFB2A; Fri, 10 Aug 2012 16:16:39 +0200 (CEST)
From: {email_from}
Subject: {subject}
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit
Date: {date}
Message-ID: {msg_id}
{extra}
Hello,

Could you tell me where the building permit stands?

Kind regards
"""

MAIL_TEMPLATE_NO_FROM = """Return-Path: {return_path}
To: {to}
Subject: {subject}
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit
Date: {date}
Message-ID: {msg_id}
{extra}
A message whose sender nobody knows.
"""

MAIL_TEMPLATE_HTML_ONLY = """Return-Path: {return_path}
To: {to}
Cc: {cc}
From: {email_from}
Subject: {subject}
MIME-Version: 1.0
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: 8bit
Date: {date}
Message-ID: {msg_id}
{extra}
<html><body><p>Only <b>HTML</b> here: the plans are attached to the portal.</p></body></html>
"""

MAIL_TEMPLATE_UNKNOWN_CHARSET = """Return-Path: {return_path}
To: {to}
Cc: {cc}
From: {email_from}
Subject: {subject}
MIME-Version: 1.0
Content-Type: text/plain; charset="x-cabinet-unknown"
Content-Transfer-Encoding: quoted-printable
Date: {date}
Message-ID: {msg_id}
{extra}
Caf=E9 du Commerce, fa=E7ade north.
"""

MAIL_TEMPLATE_WITH_ATTACHMENT = """Return-Path: {return_path}
To: {to}
Cc: {cc}
From: {email_from}
Subject: {subject}
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="----=_Part_4200734_24778174.1344608186754"
Date: {date}
Message-ID: {msg_id}
{extra}
------=_Part_4200734_24778174.1344608186754
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Please find the plans attached.

------=_Part_4200734_24778174.1344608186754
Content-Type: application/octet-stream; name="{attachment_name}"
Content-Disposition: attachment; filename="{attachment_name}"
Content-Transfer-Encoding: base64

{attachment_b64}
------=_Part_4200734_24778174.1344608186754--
"""

MAIL_TEMPLATE_EMPTY_BODY = """Return-Path: {return_path}
To: {to}
Cc: {cc}
From: {email_from}
Subject: {subject}
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Date: {date}
Message-ID: {msg_id}
{extra}
"""
