# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.fields import Command
from odoo.tests import HttpCase, new_test_user, tagged, users
from odoo.tools import email_normalize

from odoo.addons.mail.tests.common import MailCommon

from .common import MAIL_TEMPLATE_PLAIN, CabinetFactories


class CabinetNotificationsFactories(CabinetFactories):
    """The small firm of ``CabinetFactories``, with a second member in team A who reads their
    notifications in Odoo (Anna, the leader, gets them by email), and a second contact of party A."""

    @classmethod
    def _setup_notifications_data(cls):
        cls._setup_cabinet_data()
        cls.company.email = 'office@firm.example'
        cls.user_a.notification_type = 'email'
        cls.user_b.notification_type = 'email'
        cls.user_a2 = new_test_user(
            cls.env,
            login='cab_user_a2',
            name="Arthur Assistant",
            email='arthur@firm.example',
            groups='cabinet_helpdesk.group_cabinet_user',
            notification_type='inbox',
        )
        cls.team_a.member_ids = [Command.link(cls.user_a2.id)]
        cls.contact_a2 = cls._create_party("Andrew A", parent=cls.party_a, email='andrew@party-a.example')
        # everyone who must never hear of party A's tickets
        cls.outsiders = (
            cls.contact_a2  # a colleague at the party, who did not ask
            | cls.contact_b
            | cls.portal_b.partner_id
            | cls.party_b
            | cls.user_b.partner_id  # staff of another team
            | cls.user_employee.partner_id
        )
        cls.firm_a = cls.user_a.partner_id | cls.user_a2.partner_id

    def _notified(self, ticket):
        """Partners notified of anything on ``ticket`` (inbox or email)."""
        return (
            self.env['mail.notification']
            .sudo()
            .search([('mail_message_id', 'in', ticket.sudo().message_ids.ids)])
            .res_partner_id
        )


class CabinetNotificationsCase(CabinetNotificationsFactories, MailCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_notifications_data()
        cls.team_a.write({'alias_name': 'team-a-requests', 'alias_domain_id': cls.mail_alias_domain.id})
        cls.alias_email = f'team-a-requests@{cls.alias_domain}'

    def _process(self, email_from='Alice A <alice@party-a.example>', subject="Building permit", **kwargs):
        return self.format_and_process(
            MAIL_TEMPLATE_PLAIN,
            email_from,
            self.alias_email,
            subject=subject,
            target_model='cabinet.ticket',
            target_field='name',
            **kwargs,
        )

    def _reply(self, ticket, email_from='Alice A <alice@party-a.example>', subject="Re: Building permit", **kwargs):
        first_email = ticket.message_ids.filtered(lambda m: m.message_type == 'email')[-1:]
        self.assertTrue(first_email.message_id)
        headers = f'In-Reply-To: {first_email.message_id}\nReferences: {first_email.message_id}\n'
        return self._process(email_from=email_from, subject=subject, extra=headers + kwargs.pop('extra', ''), **kwargs)

    def _sent_to(self):
        return sorted({email_normalize(address) for mail in self._mails for address in mail['email_to']})


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestRequestNotifications(CabinetNotificationsCase):
    """Every way a request comes in reaches its sender and the firm's people, nobody else."""

    def test_email_request(self):
        with self.mock_mail_gateway():
            ticket = self._process(cc='Bob B <bob@party-b.example>, Andrew A <andrew@party-a.example>')
        self.assertEqual(
            ticket.message_partner_ids, self.contact_a | self.firm_a, "The requester and team A's people follow"
        )
        incoming = ticket.message_ids.filtered(lambda m: m.message_type == 'email')
        self.assertEqual(len(incoming), 1)
        notifications = self.env['mail.notification'].search([('mail_message_id', '=', incoming.id)])
        self.assertEqual(
            {(n.res_partner_id, n.notification_type) for n in notifications},
            {(self.user_a.partner_id, 'email'), (self.user_a2.partner_id, 'inbox')},
            "The new request reaches the team, each member as they prefer",
        )
        self.assertEqual(self._notified(ticket), self.contact_a | self.firm_a, "The sender and the firm, nobody else")
        self.assertFalse(self._notified(ticket) & self.outsiders)
        self.assertEqual(
            self._sent_to(),
            ['alice@party-a.example', 'anna@firm.example'],
            "Emails go to the sender (acknowledgement) and the firm's people (the request), nobody else",
        )
        self.assertMailMail(self.user_a.partner_id, 'sent', mail_message=incoming, author=self.contact_a)

    def test_email_answer_reaches_the_team(self):
        with self.mock_mail_gateway():
            ticket = self._process()
        with self.mock_mail_gateway():
            self._reply(ticket)
        answer = ticket.message_ids.filtered(lambda m: m.message_type == 'email')[0]
        self.assertEqual(answer.author_id, self.contact_a)
        notified = self.env['mail.notification'].search([('mail_message_id', '=', answer.id)]).res_partner_id
        self.assertEqual(notified, self.firm_a, "The client's answer reaches the firm's people, not the client")
        self.assertEqual(self._sent_to(), ['anna@firm.example'])

    @users('cab_user')
    def test_phone_request(self):
        """Staff on the phone file the request for the caller: the caller follows it, the team hears of it."""
        with self.assertSinglePostNotifications(
            [{'partner': self.user_a2.partner_id, 'type': 'inbox'}],
            message_info={'message_type': 'notification', 'subtype': 'cabinet_helpdesk.mt_ticket_new'},
        ):
            ticket = self.env['cabinet.ticket'].create(
                {'name': "Called about the permit", 'partner_id': self.contact_a.id, 'channel': 'phone'}
            )
        self.assertEqual(ticket.team_id, self.team_a)
        self.assertEqual(ticket.sudo().message_partner_ids, self.contact_a | self.firm_a)
        self.assertFalse(self._notified(ticket) & self.outsiders)

    def test_assignment_notice_queued(self):
        """A ticket given to someone tells them so: the notice's message is made at once, its email
        by the scheduled messages' job, triggered for right after, so that saving the ticket does
        not wait for the email."""
        ticket = (
            self.env['cabinet.ticket']
            .with_user(self.user_manager)
            .create({'name': "Roof survey", 'partner_id': self.contact_a.id, 'user_id': self.user_a.id})
        )
        notice = self.env['mail.message'].search(
            [('model', '=', 'cabinet.ticket'), ('res_id', '=', ticket.id), ('message_type', '=', 'user_notification')]
        )
        self.assertEqual(notice.partner_ids, self.user_a.partner_id)
        self.assertIn(ticket.display_name, notice.subject)
        self.assertFalse(notice.notification_ids, "not sent while the ticket is saved")
        scheduled = self.env['mail.message.schedule'].search([('mail_message_id', '=', notice.id)])
        self.assertEqual(len(scheduled), 1)
        self.assertLessEqual(scheduled.scheduled_datetime, fields.Datetime.now() + timedelta(seconds=1))
        cron = self.env.ref('mail.ir_cron_send_scheduled_message')
        self.assertTrue(
            self.env['ir.cron.trigger'].search(
                [('cron_id', '=', cron.id), ('call_at', '=', scheduled.scheduled_datetime)]
            )
        )
        with self.mock_mail_gateway():
            scheduled._send_notifications()
        self.assertEqual(notice.notification_ids.res_partner_id, self.user_a.partner_id)
        self.assertEqual(self._sent_to(), ['anna@firm.example'], "the assignee's email, to them alone")
        # handing it over later is queued alike
        ticket.with_user(self.user_manager).user_id = self.user_a2
        self.assertTrue(
            self.env['mail.message.schedule'].search(
                [
                    ('mail_message_id.res_id', '=', ticket.id),
                    ('mail_message_id.partner_ids', 'in', self.user_a2.partner_id.ids),
                ]
            )
        )

    def test_requester_changed_within_party_follows(self):
        ticket = self._create_ticket(self.contact_a, channel='phone')
        ticket.partner_id = self.contact_a2
        self.assertIn(self.contact_a2, ticket.message_partner_ids, "The new requester follows their ticket")
        self.assertNotIn(self.contact_b, ticket.message_partner_ids)

    def test_staff_request(self):
        """An employee's own request: they follow it; the handling team is told."""
        ticket = (
            self.env['cabinet.ticket']
            .with_user(self.user_employee)
            .with_context(cabinet_staff_request=True)
            .create(
                {
                    'name': "Laptop broken",
                    'partner_id': self.user_employee.partner_id.id,
                    'team_id': self.team_a.id,
                    'channel': 'internal',
                }
            )
        )
        self.assertEqual(ticket.sudo().message_partner_ids, self.user_employee.partner_id | self.firm_a)

    def test_notify_setting(self):
        """The team names who hears of its tickets: its leader, or chosen people."""
        self.team_a.notify_mode = 'leader'
        ticket = self._create_ticket(self.contact_a, channel='phone')
        self.assertEqual(ticket.message_partner_ids, self.contact_a | self.user_a.partner_id)
        self.team_a.write({'notify_mode': 'users', 'notify_user_ids': [Command.set(self.user_a2.ids)]})
        ticket = self._create_ticket(self.contact_a, channel='phone')
        self.assertEqual(ticket.message_partner_ids, self.contact_a | self.user_a2.partner_id)
        # chosen people who may not read the team's tickets: the leader is told instead
        self.team_a.notify_user_ids = [Command.set(self.user_employee.ids)]
        ticket = self._create_ticket(self.contact_a, channel='phone')
        self.assertEqual(ticket.message_partner_ids, self.contact_a | self.user_a.partner_id)

    def test_reassigned_to_another_team(self):
        ticket = self._create_ticket(self.contact_a, channel='phone')
        ticket.team_id = self.team_b
        self.assertIn(self.user_b.partner_id, ticket.message_partner_ids, "The new team hears of the ticket")

    def test_confidential_request(self):
        """A confidential request reaches only staff who may read it, whatever follows it."""
        team_hr = self.category_hr.team_id
        team_hr.write({'leader_id': self.user_b.id, 'member_ids': [Command.set(self.user_b.ids)]})
        team_hr.write({'notify_mode': 'users', 'notify_user_ids': [Command.set((self.user_a | self.user_b).ids)]})
        ticket = (
            self.env['cabinet.ticket']
            .with_user(self.user_employee)
            .with_context(cabinet_staff_request=True)
            .create(
                {
                    'name': "My payslip",
                    'partner_id': self.user_employee.partner_id.id,
                    'category_id': self.category_hr.id,
                    'channel': 'internal',
                }
            )
        )
        self.assertEqual(ticket.team_id, team_hr)
        followers = ticket.sudo().message_partner_ids
        self.assertEqual(followers, self.user_employee.partner_id | self.user_b.partner_id)
        self.assertNotIn(self.user_a.partner_id, followers, "Anna may not read HR requests: she does not follow")
        # someone who follows behind the rule's back is not told either
        self.env['mail.followers'].sudo().create(
            {
                'res_model': 'cabinet.ticket',
                'res_id': ticket.id,
                'partner_id': self.user_a.partner_id.id,
                'subtype_ids': [Command.set(self.env.ref('mail.mt_comment').ids)],
            }
        )
        with self.mock_mail_gateway():
            message = ticket.with_user(self.user_b).message_post(
                body="We look into it", message_type='comment', subtype_xmlid='mail.mt_comment'
            )
        notified = self.env['mail.notification'].sudo().search([('mail_message_id', '=', message.id)]).res_partner_id
        self.assertEqual(notified, self.user_employee.partner_id)
        self.assertNotIn('anna@firm.example', self._sent_to())


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestRequesterHearsBack(CabinetNotificationsCase):
    """An answer of the firm reaches the requester whatever path posts it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ticket = cls._create_ticket(cls.contact_a, channel='phone')

    def test_staff_reply_by_api(self):
        ticket = self.ticket.with_user(self.user_a)
        with self.assertSinglePostNotifications(
            [
                {'partner': self.contact_a, 'type': 'email'},
                {'partner': self.user_a2.partner_id, 'type': 'inbox'},
            ],
            message_info={'content': "The permit was filed"},
        ):
            ticket.message_post(body="The permit was filed", message_type='comment', subtype_xmlid='mail.mt_comment')
        self.assertSentEmail(self.user_a.partner_id, [self.contact_a])

    def test_automated_action_reply(self):
        action = self.env['ir.actions.server'].create(
            {
                'name': "Tell the requester",
                'model_id': self.env['ir.model']._get_id('cabinet.ticket'),
                'state': 'code',
                'code': "record.message_post(body='Your file is complete', message_type='comment', "
                "subtype_xmlid='mail.mt_comment')",
            }
        )
        with self.mock_mail_gateway():
            action.with_context(active_model='cabinet.ticket', active_id=self.ticket.id).run()
        message = self.ticket.message_ids.filtered(lambda m: 'Your file is complete' in str(m.body))
        self.assertEqual(len(message), 1)
        notification = message.notification_ids.filtered(lambda n: n.res_partner_id == self.contact_a)
        self.assertEqual(notification.notification_type, 'email')
        self.assertEqual(notification.mail_mail_id.recipient_ids, self.contact_a, "An email to the requester alone")
        self.assertFalse(message.notified_partner_ids & self.outsiders)

    def test_invited_requester_not_rewritten(self):
        """With sign-up open to clients, every email to the requester carries a sign-up link,
        which marks the contact as invited: once, not at every email."""
        self.env['ir.config_parameter'].sudo().set_param('auth_signup.invitation_scope', 'b2c')
        ticket = self._create_ticket(self.contact_a, channel='phone')
        Partner = type(self.env['res.partner'])
        original_write = Partner.write
        marked = []

        def write(partners, vals):
            if 'signup_type' in vals:
                marked.append(partners.ids)
            return original_write(partners, vals)

        with patch.object(Partner, 'write', write), self.mock_mail_gateway():
            for answer in ("We received the plans.", "The permit is filed."):
                ticket.message_post(body=answer, message_type='comment', subtype_xmlid='mail.mt_comment')
        self.assertEqual(self.contact_a.sudo().signup_type, 'signup')
        self.assertLessEqual(len(marked), 1, "the contact is marked once at most")
        to_requester = [mail for mail in self._mails if 'alice@party-a.example' in ' '.join(mail['email_to'])]
        self.assertEqual(len(to_requester), 2)
        for mail in to_requester:
            self.assertIn('auth_signup_token', mail['body'], "the sign-up link is in every email")

    def test_internal_note_stays_internal(self):
        with self.mock_mail_gateway():
            self.ticket.with_user(self.user_a).message_post(body="Call the city", subtype_xmlid='mail.mt_note')
        self.assertNotIn('alice@party-a.example', self._sent_to())


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestLowRating(CabinetNotificationsCase):
    def _rate(self, ticket, value, feedback):
        ticket.action_close()
        token = ticket._rating_get_access_token(partner=self.contact_a)
        # as the rating module's public page does, after checking the token
        with self.mock_mail_gateway():
            ticket.sudo().rating_apply(value, token=token, feedback=feedback)

    def test_low_rating_reaches_the_firm(self):
        ticket = self._create_ticket(self.contact_a, channel='phone', user_id=self.user_a2.id)
        self._rate(ticket, 1, "Nobody called back")
        alert = ticket.message_ids.filtered(
            lambda m: m.subtype_id == self.env.ref('cabinet_helpdesk.mt_ticket_rating_low')
        )
        self.assertEqual(len(alert), 1)
        self.assertIn("Nobody called back", alert.body)
        self.assertEqual(alert.notified_partner_ids, self.firm_a, "The assignee and the team hear of it, not the party")
        self.assertIn('anna@firm.example', self._sent_to())
        self.assertTrue(ticket.is_closed, "A rating does not reopen the ticket")

    def test_good_rating_no_alert(self):
        ticket = self._create_ticket(self.contact_a, channel='phone')
        self._rate(ticket, 5, "Perfect")
        self.assertFalse(
            ticket.message_ids.filtered(lambda m: m.subtype_id == self.env.ref('cabinet_helpdesk.mt_ticket_rating_low'))
        )
        self.assertTrue(ticket.is_closed)


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestAnswerOnClosedTicket(CabinetNotificationsCase):
    """A client who writes on a closed ticket is never silently stored."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env['ir.config_parameter'].set_param('cabinet_helpdesk.portal_reopen_days', '30')

    def _closed_email_ticket(self, days_ago=0, assignee=None):
        with self.mock_mail_gateway():
            ticket = self._process()
        if assignee:
            ticket.user_id = assignee
        when = fields.Datetime.now() - timedelta(days=days_ago)
        with self._at(when):
            ticket.action_close()
        self.assertEqual(ticket.closed_date, when)
        return ticket

    def _received(self, ticket):
        return ticket.message_ids.filtered(lambda m: "We received your message" in str(m.body))

    def _todos(self, ticket):
        return self.env['mail.activity'].search([('res_model', '=', 'cabinet.ticket'), ('res_id', '=', ticket.id)])

    def test_email_within_window_reopens(self):
        ticket = self._closed_email_ticket(days_ago=10)
        with self.mock_mail_gateway():
            self._reply(ticket, subject="Re: Building permit, one more thing")
        self.assertFalse(ticket.is_closed, "The answer reopens the ticket")
        self.assertEqual(ticket.stage_id, self.stage_new)
        self.assertFalse(ticket.closed_date)
        self.assertFalse(self._todos(ticket))
        self.assertFalse(self._received(ticket), "A reopened ticket needs no acknowledgement")
        self.assertIn('anna@firm.example', self._sent_to(), "The team hears of the answer")

    def test_email_after_window_todo_and_acknowledgement(self):
        ticket = self._closed_email_ticket(days_ago=40, assignee=self.user_a2)
        with self.mock_mail_gateway():
            self._reply(ticket, subject="Re: Building permit, much later")
        self.assertTrue(ticket.is_closed, "Too late to reopen")
        todo = self._todos(ticket)
        self.assertEqual(len(todo), 1)
        self.assertEqual(todo.user_id, self.user_a2, "The assignee gets a to-do")
        self.assertIn(ticket.number, todo.summary)
        received = self._received(ticket)
        self.assertEqual(len(received), 1)
        self.assertIn(ticket.number, received.body)
        self.assertEqual(received.subtype_id, self.env.ref('mail.mt_comment'), "The party sees it in the portal too")
        self.assertEqual(received.notified_partner_ids, self.contact_a, "Told to the party alone")
        self.assertIn('alice@party-a.example', self._sent_to())
        self.assertFalse(set(self._sent_to()) - {'alice@party-a.example', 'anna@firm.example', 'arthur@firm.example'})

    def test_after_window_without_assignee_team_leader(self):
        ticket = self._closed_email_ticket(days_ago=40)
        ticket.user_id = False
        with self.mock_mail_gateway():
            self._reply(ticket)
        self.assertEqual(self._todos(ticket).user_id, self.team_a.leader_id)

    def test_party_posting_through_the_api_after_window(self):
        """The same from the party's own session, without the portal page: nothing fails, the
        firm is warned, the writer told."""
        ticket = self._closed_email_ticket(days_ago=40, assignee=self.user_a2)
        with self.mock_mail_gateway():
            ticket.with_user(self.portal_a).message_post(
                body="Still waiting for the stamped plans", message_type='comment', subtype_xmlid='mail.mt_comment'
            )
        self.assertTrue(ticket.is_closed)
        self.assertEqual(self._todos(ticket).user_id, self.user_a2)
        self.assertEqual(self._received(ticket).notified_partner_ids, self.portal_a.partner_id)

    def test_automated_reply_on_closed_ticket(self):
        ticket = self._closed_email_ticket(days_ago=2)
        with self.mock_mail_gateway():
            self._reply(ticket, subject="Out of office", extra='Auto-Submitted: auto-replied\n')
        self.assertTrue(ticket.is_closed, "An auto-reply does not reopen")
        self.assertFalse(self._todos(ticket))
        self.assertFalse(self._received(ticket))
        self.assertNotIn('alice@party-a.example', self._sent_to(), "Nothing answers an automated email")

    def test_staff_message_on_closed_ticket(self):
        ticket = self._closed_email_ticket(days_ago=2)
        ticket.with_user(self.user_a).message_post(
            body="For the record", message_type='comment', subtype_xmlid='mail.mt_comment'
        )
        self.assertTrue(ticket.is_closed, "The firm's own messages do not reopen a ticket")
        self.assertFalse(self._todos(ticket))


class CabinetPortalNotificationsCase(CabinetNotificationsFactories, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_notifications_data()
        cls.category_sla = cls.env['cabinet.category'].create(
            {'name': "Permit question", 'team_id': cls.team_a.id, 'portal_visible': True, 'sequence': 1}
        )
        cls.category_plain = cls.env['cabinet.category'].create(
            {'name': "General question", 'team_id': cls.team_a.id, 'portal_visible': True, 'sequence': 2}
        )
        cls.env['cabinet.sla.policy'].create(
            {
                'name': "Permit questions",
                'team_id': cls.team_a.id,
                'category_ids': [Command.set(cls.category_sla.ids)],
                'response_hours': 8,
                'resolve_hours': 40,
            }
        )
        cls.env['ir.config_parameter'].set_param('cabinet_helpdesk.portal_reopen_days', '30')

    def _csrf(self, url):
        return self._csrf_from(self.url_open(url).text)

    def _file(self, name, category):
        response = self.url_open(
            '/my/tickets/new',
            data={
                'csrf_token': self._csrf('/my/tickets/new'),
                'name': name,
                'description': "Please call me",
                'category_id': category.id,
            },
        )
        self.assertEqual(response.status_code, 200)
        return response, self.env['cabinet.ticket'].search([('name', '=', name)])

    def _post(self, ticket, body):
        response = self.url_open(
            '/mail/message/post',
            json={
                'params': {
                    'thread_model': 'cabinet.ticket',
                    'thread_id': ticket.id,
                    'post_data': {'body': body, 'message_type': 'comment', 'subtype_xmlid': 'mail.mt_comment'},
                }
            },
        )
        self.assertNotIn('error', response.json(), response.text)


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestPortalNotifications(CabinetPortalNotificationsCase):
    def test_portal_request(self):
        self.authenticate('cab_portal', 'cab_portal')
        _response, ticket = self._file("Portal permit request", self.category_sla)
        self.assertEqual(len(ticket), 1)
        self.assertEqual(ticket.message_partner_ids, self.portal_a.partner_id | self.firm_a)
        self.assertEqual(self._notified(ticket), self.firm_a, "The new request reaches the team")
        opened = ticket.message_ids.filtered(lambda m: m.subtype_id == self.env.ref('cabinet_helpdesk.mt_ticket_new'))
        self.assertEqual(
            {(n.res_partner_id, n.notification_type) for n in opened.notification_ids},
            {(self.user_a.partner_id, 'email'), (self.user_a2.partner_id, 'inbox')},
        )
        # the client's answer on the portal reaches the team too
        self._post(ticket, "Here are the plans")
        answer = ticket.message_ids.filtered(lambda m: 'Here are the plans' in str(m.body))
        self.assertEqual(answer.notified_partner_ids, self.firm_a)
        self.assertFalse(self._notified(ticket) & self.outsiders)

    def test_portal_confirmation_with_service_level(self):
        self.authenticate('cab_portal', 'cab_portal')
        response, ticket = self._file("Permit with deadline", self.category_sla)
        self.assertTrue(ticket.sla_response_deadline)
        self.assertIn('o_cabinet_ticket_filed', response.text)
        self.assertIn(f"your request was received as ticket {ticket.number}", response.text)
        # the service level's due dates are internal targets, never shown to the party
        self.assertNotIn("You can expect a first answer by", response.text)
        self.assertIn("We will answer as soon as possible", response.text)
        # the confirmation is shown once, after filing
        response = self.url_open(f'/my/tickets/{ticket.id}')
        self.assertNotIn('o_cabinet_ticket_filed', response.text)

    def test_portal_confirmation_without_service_level(self):
        self.authenticate('cab_portal', 'cab_portal')
        response, ticket = self._file("Question without deadline", self.category_plain)
        self.assertFalse(ticket.sla_response_deadline)
        self.assertIn(f"your request was received as ticket {ticket.number}", response.text)
        self.assertIn("We will answer as soon as possible", response.text)
        self.assertNotIn("You can expect a first answer by", response.text)

    def test_portal_message_on_closed_ticket(self):
        recent = self._create_ticket(self.portal_a.partner_id, channel='portal')
        recent.action_close()
        old = self._create_ticket(self.portal_a.partner_id, channel='portal', user_id=self.user_a2.id)
        with self._at(fields.Datetime.now() - timedelta(days=31)):
            old.action_close()
        self.authenticate('cab_portal', 'cab_portal')
        self._post(recent, "It leaks again")
        self.assertFalse(recent.is_closed, "Within the reopen period the message reopens the ticket")
        self._post(old, "It leaks again, months later")
        self.assertTrue(old.is_closed)
        todo = self.env['mail.activity'].search([('res_model', '=', 'cabinet.ticket'), ('res_id', '=', old.id)])
        self.assertEqual(todo.user_id, self.user_a2)
        received = old.message_ids.filtered(lambda m: "We received your message" in str(m.body))
        self.assertEqual(received.notified_partner_ids, self.portal_a.partner_id)
        # and the client sees it in the conversation
        response = self.url_open(
            '/mail/chatter_fetch', json={'params': {'thread_model': 'cabinet.ticket', 'thread_id': old.id}}
        )
        self.assertIn(f"We received your message on ticket {old.number}", response.text)
