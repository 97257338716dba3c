# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.exceptions import UserError
from odoo.fields import Command
from odoo.tests import HttpCase, tagged, users, warmup
from odoo.tests.common import JsonRpcException
from odoo.tools import SQL, mute_logger
from odoo.tools.misc import limited_field_access_token

from odoo.addons.mail.tests.common import MailCommon

from ..models.party_rule import cabinet_ticket
from .common import CabinetFactories

TICKET_LOGGER = 'odoo.addons.cabinet_helpdesk.models.party_rule.cabinet_ticket'


class CabinetFollowersCase(CabinetFactories, MailCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_cabinet_data()
        cls.contact_a2 = cls._create_party("Amelia A", parent=cls.party_a, email='amelia@party-a.example')
        cls.agent = cls._create_party("Agency Ltd", party_type='agent', email='office@agency.example')
        cls.agent_contact = cls._create_party("Adam Agent", parent=cls.agent, email='adam@agency.example')
        cls.category_other = cls.env['cabinet.category'].create({'name': "Building Permit"})
        cls.ticket = cls._create_ticket(cls.contact_a, category_id=cls.category_client.id)
        cls.ticket.message_subscribe(partner_ids=cls.contact_a.ids)

    @classmethod
    def _create_mandate(cls, state='active', **values):
        mandate = cls.env['cabinet.mandate'].create(
            {
                'agent_id': cls.agent.id,
                'principal_id': cls.party_a.id,
                'date_start': fields.Date.today() - timedelta(days=10),
                **values,
            }
        )
        if state == 'active':
            mandate.action_activate()
        return mandate

    def _followers(self, ticket=None):
        return (ticket or self.ticket).sudo().message_partner_ids


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestFollowerRule(CabinetFollowersCase):
    def test_allowed_partners(self):
        """The rule itself: party contacts and staff in, other parties out."""
        candidates = (
            self.contact_a2
            | self.party_a
            | self.contact_b
            | self.party_b
            | self.user_b.partner_id
            | self.user_manager.partner_id
            | self.portal_a.partner_id
            | self.portal_b.partner_id
            | self.agent_contact
        )
        self.assertEqual(
            self.ticket._filter_allowed_partners(candidates),
            self.contact_a2 | self.party_a | self.user_manager.partner_id | self.portal_a.partner_id,
            "Only contacts of the party and staff who may read the ticket may follow it",
        )

    @users('cab_user')
    def test_subscribe_outsider_refused(self):
        ticket = self.ticket.with_env(self.env)
        with self.assertRaisesRegex(UserError, "Bob B may not follow"):
            ticket.message_subscribe(partner_ids=self.contact_b.ids)
        with self.assertRaises(UserError):
            ticket.message_subscribe(partner_ids=(self.contact_a2 | self.portal_b.partner_id).ids)
        with self.assertRaises(UserError):
            ticket._message_subscribe(partner_ids=self.party_b.ids)
        self.assertNotIn(self.contact_b, self._followers())
        self.assertNotIn(self.contact_a2, self._followers(), "A refused call adds nobody")

    @users('cab_user')
    def test_subscribe_colleague_and_staff_accepted(self):
        ticket = self.ticket.with_env(self.env)
        staff = self.user_manager.partner_id
        ticket.message_subscribe(partner_ids=(self.contact_a2 | self.portal_a.partner_id | staff).ids)
        self.assertLessEqual(self.contact_a2 | self.portal_a.partner_id | staff, self._followers())

    def test_subscribe_superuser_refused_too(self):
        """No environment switches the rule off: not the superuser, not a context key."""
        for ticket in (
            self.ticket,
            self.ticket.sudo(),
            self.ticket.with_context(mail_create_nosubscribe=True, tracking_disable=True),
        ):
            with self.assertRaises(UserError):
                ticket.message_subscribe(partner_ids=self.contact_b.ids)
        self.assertNotIn(self.contact_b, self._followers())

    def test_subscribe_from_mail_gateway_dropped(self):
        """When an email adds people, outsiders are dropped and logged instead of refused."""
        with patch.object(cabinet_ticket._logger, 'info') as log_info:
            self.ticket.with_context(cabinet_mail_gateway=True).message_subscribe(
                partner_ids=(self.contact_b | self.contact_a2).ids
            )
        self.assertIn("outside its party", log_info.call_args[0][0])
        self.assertIn(self.contact_a2, self._followers())
        self.assertNotIn(self.contact_b, self._followers())

    def test_subscribe_several_tickets(self):
        """On several tickets at once, each ticket applies its own party."""
        ticket_b = self._create_ticket(self.contact_b, team=self.team_b)
        tickets = self.ticket | ticket_b
        with self.assertRaises(UserError):
            tickets.message_subscribe(partner_ids=self.contact_a2.ids)
        tickets.with_context(cabinet_mail_gateway=True).message_subscribe(partner_ids=self.contact_a2.ids)
        self.assertIn(self.contact_a2, self._followers(self.ticket))
        self.assertNotIn(self.contact_a2, self._followers(ticket_b))

    @mute_logger(TICKET_LOGGER)
    def test_followers_mechanism(self):
        """Followers created directly, or by changing a follower, obey the rule too."""
        Followers = self.env['mail.followers'].sudo()
        Followers.create(
            [
                {'res_model': 'cabinet.ticket', 'res_id': self.ticket.id, 'partner_id': self.contact_b.id},
                {'res_model': 'cabinet.ticket', 'res_id': self.ticket.id, 'partner_id': self.contact_a2.id},
            ]
        )
        self.assertNotIn(self.contact_b, self._followers())
        self.assertIn(self.contact_a2, self._followers())
        follower = Followers.search(
            [
                ('res_model', '=', 'cabinet.ticket'),
                ('res_id', '=', self.ticket.id),
                ('partner_id', '=', self.contact_a2.id),
            ]
        )
        with self.assertRaises(UserError):
            follower.partner_id = self.contact_b

    def test_followers_wizard(self):
        """The "Add followers" wizard refuses an outsider and accepts a colleague."""
        Wizard = self.env['mail.followers.edit'].with_user(self.user_a)
        wizard = Wizard.create(
            {
                'res_model': 'cabinet.ticket',
                'res_ids': str(self.ticket.ids),
                'operation': 'add',
                'partner_ids': [Command.set(self.contact_b.ids)],
                'notify': True,
                'message': "Please follow",
            }
        )
        with self.mock_mail_gateway(), self.assertRaises(UserError):
            wizard.edit_followers()
        self.assertNotIn(self.contact_b, self._followers())
        wizard = Wizard.create(
            {
                'res_model': 'cabinet.ticket',
                'res_ids': str(self.ticket.ids),
                'operation': 'add',
                'partner_ids': [Command.set(self.contact_a2.ids)],
            }
        )
        wizard.edit_followers()
        self.assertIn(self.contact_a2, self._followers())

    @users('cab_user')
    def test_post_recipients(self):
        ticket = self.ticket.with_env(self.env)
        with self.mock_mail_gateway(), self.assertRaisesRegex(UserError, "Party A Ltd"):
            ticket.message_post(
                body="Answer",
                message_type='comment',
                subtype_xmlid='mail.mt_comment',
                partner_ids=(self.contact_a2 | self.contact_b).ids,
            )
        with self.mock_mail_gateway(), self.assertRaises(UserError):
            ticket.message_post(
                body="Answer",
                message_type='comment',
                subtype_xmlid='mail.mt_comment',
                outgoing_email_to='someone@elsewhere.example',
            )
        with self.mock_mail_gateway():
            message = ticket.message_post(
                body="Answer",
                message_type='comment',
                subtype_xmlid='mail.mt_comment',
                partner_ids=self.contact_a2.ids,
                outgoing_email_to='office@party-a.example',
            )
        self.assertEqual(
            message.partner_ids, self.contact_a2 | self.party_a, "An address of a party contact becomes that contact"
        )
        self.assertFalse(message.outgoing_email_to)
        self.assertEqual(self._new_mails.recipient_ids, self.contact_a | self.contact_a2 | self.party_a)

    def test_post_from_email_drops_outsider(self):
        with self.mock_mail_gateway(), patch.object(cabinet_ticket._logger, 'info') as log_info:
            message = self.ticket.message_post(
                body="Incoming",
                message_type='email',
                subtype_xmlid='mail.mt_comment',
                author_id=self.contact_a.id,
                partner_ids=(self.contact_b | self.contact_a2).ids,
                outgoing_email_to='cc.person@elsewhere.example',
            )
        self.assertTrue(log_info.called, "Dropped recipients are logged")
        self.assertEqual(message.partner_ids, self.contact_a2)
        self.assertNotIn('bob@party-b.example', str(self._new_mails.mapped('email_to')))
        self.assertNotIn(self.contact_b, self._new_mails.recipient_ids)

    def test_update_content_recipients(self):
        message = self.ticket.with_user(self.user_a).message_post(
            body="Draft", message_type='comment', subtype_xmlid='mail.mt_note'
        )
        with self.assertRaises(UserError):
            self.ticket.with_user(self.user_a)._message_update_content(
                message, body="Edited", partner_ids=self.contact_b.ids
            )
        self.assertFalse(message.partner_ids)

    @mute_logger(TICKET_LOGGER)
    def test_notification_last_line(self):
        """An outsider who became a follower behind the ORM's back still receives nothing."""
        self.env.cr.execute(
            SQL(
                "INSERT INTO mail_followers (res_model, res_id, partner_id) VALUES ('cabinet.ticket', %s, %s)",
                self.ticket.id,
                self.contact_b.id,
            )
        )
        self.env.invalidate_all()
        self.assertIn(self.contact_b, self._followers())
        with self.mock_mail_gateway():
            self.ticket.with_user(self.user_a).message_post(
                body="Answer", message_type='comment', subtype_xmlid='mail.mt_comment'
            )
            self.ticket.message_notify(body="Notify", partner_ids=(self.contact_b | self.contact_a2).ids)
        self.assertNotIn(self.contact_b, self._new_mails.recipient_ids)
        self.assertIn(self.contact_a, self._new_mails.recipient_ids)
        self.assertIn(self.contact_a2, self._new_mails.recipient_ids)
        self.assertFalse(self.env['mail.notification'].search([('res_partner_id', '=', self.contact_b.id)]))

    def test_suggested_recipients(self):
        """Suggestions hold the party's contacts only: no other party, no bare Cc address."""
        self.env['mail.message'].create(
            {
                'model': 'cabinet.ticket',
                'res_id': self.ticket.id,
                'message_type': 'email',
                'subtype_id': self.env.ref('mail.mt_comment').id,
                'author_id': self.contact_b.id,
                'partner_ids': [Command.set((self.contact_a2 | self.party_b).ids)],
                'incoming_email_cc': 'cc.person@elsewhere.example, amelia@party-a.example',
                'email_from': 'bob@party-b.example',
            }
        )
        suggested = self.ticket.with_user(self.user_a)._message_get_suggested_recipients(reply_discussion=True)
        self.assertTrue(suggested)
        partner_ids = [r['partner_id'] for r in suggested]
        self.assertIn(self.contact_a2.id, partner_ids)
        self.assertNotIn(self.contact_b.id, partner_ids)
        self.assertNotIn(self.party_b.id, partner_ids)
        self.assertTrue(all(partner_ids), "Bare addresses are never suggested")
        batch = self.ticket._message_get_suggested_recipients_batch(reply_discussion=True)
        self.assertEqual([r['partner_id'] for r in batch[self.ticket.id]], partner_ids)

    def test_composer_comment_mode(self):
        composer = (
            self.env['mail.compose.message']
            .with_user(self.user_a)
            .with_context(
                default_model='cabinet.ticket',
                default_res_ids=self.ticket.ids,
                default_composition_mode='comment',
            )
            .create({'body': "Answer", 'partner_ids': [Command.set((self.contact_b | self.contact_a2).ids)]})
        )
        with self.mock_mail_gateway(), self.assertRaises(UserError):
            composer._action_send_mail()
        composer.partner_ids = self.contact_a2
        with self.mock_mail_gateway():
            _mails, messages = composer._action_send_mail()
        self.assertEqual(messages.partner_ids, self.contact_a2)

    def test_composer_mass_mode(self):
        template = self.env['mail.template'].create(
            {
                'name': "Ticket news",
                'model_id': self.env['ir.model']._get_id('cabinet.ticket'),
                'subject': "News of {{ object.number }}",
                'body_html': "<p>News</p>",
                'partner_to': '{{ object.partner_id.id }}',
                'email_cc': 'cc.person@elsewhere.example',
                'use_default_to': False,
            }
        )
        ticket_b = self._create_ticket(self.contact_b, team=self.team_b)
        # the composer turns template addresses into contacts: give the user that right
        self.user_manager.group_ids += self.env.ref('base.group_partner_manager')
        Composer = (
            self.env['mail.compose.message']
            .with_user(self.user_manager)
            .with_context(
                default_model='cabinet.ticket',
                default_res_ids=(self.ticket | ticket_b).ids,
                default_composition_mode='mass_mail',
            )
        )
        with self.mock_mail_gateway(), self.assertRaisesRegex(UserError, "cc.person@elsewhere.example"):
            Composer.create({'template_id': template.id})._action_send_mail()
        with self.mock_mail_gateway(), self.assertRaisesRegex(UserError, "Bob B"):
            Composer.with_context(default_res_ids=self.ticket.ids).create(
                {
                    'subject': "News",
                    'body': "<p>News</p>",
                    'partner_ids': [Command.set(self.contact_b.ids)],
                }
            )._action_send_mail()
        template.email_cc = '{{ object.commercial_partner_id.email }}'
        with self.mock_mail_gateway():
            mails, _messages = Composer.create({'template_id': template.id})._action_send_mail()
        self.assertEqual(len(mails), 2)
        for mail in mails:
            self.assertFalse(mail.email_cc, "Mass mail of tickets never carries a Cc")
            ticket = self.env['cabinet.ticket'].browse(mail.res_id)
            self.assertEqual(mail.recipient_ids.commercial_partner_id, ticket.commercial_partner_id)
        self.assertEqual(
            mails.filtered(lambda m: m.res_id == self.ticket.id).recipient_ids,
            self.contact_a | self.party_a,
            "The party's own address in Cc becomes a recipient",
        )


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestFollowerRuleMandate(CabinetFollowersCase):
    def _agent_allowed(self, ticket=None):
        ticket = ticket or self.ticket
        return ticket._filter_allowed_partners(self.agent | self.agent_contact) == (self.agent | self.agent_contact)

    def test_agent_only_under_active_mandate(self):
        self.assertFalse(self._agent_allowed(), "No mandate, no agent")
        mandate = self._create_mandate(state='draft')
        self.assertFalse(self._agent_allowed(), "A draft mandate allows nothing")
        mandate.action_activate()
        self.assertTrue(self._agent_allowed())
        self.ticket.message_subscribe(partner_ids=self.agent_contact.ids)
        self.assertIn(self.agent_contact, self._followers())
        mandate.action_revoke(reason="Client ended the engagement")
        self.assertFalse(self._agent_allowed())
        self.assertNotIn(self.agent_contact, self._followers())
        with self.assertRaises(UserError):
            self.ticket.message_subscribe(partner_ids=self.agent_contact.ids)

    def test_agent_only_in_scope_and_dates(self):
        mandate = self._create_mandate(category_ids=[Command.set(self.category_other.ids)])
        self.assertFalse(self._agent_allowed(), "The mandate does not cover client requests")
        mandate.category_ids = self.category_client
        self.assertTrue(self._agent_allowed())
        mandate.date_end = fields.Date.today() - timedelta(days=1)
        self.assertFalse(self._agent_allowed(), "An outdated mandate allows nothing, even before the cron")
        mandate.write({'date_end': False, 'date_start': fields.Date.today() + timedelta(days=1)})
        self.assertFalse(self._agent_allowed(), "A mandate not started yet allows nothing")

    def test_mandate_of_another_company(self):
        other_company = self.env['res.company'].create({'name': "Other Firm"})
        self._create_mandate(company_id=other_company.id)
        self.assertFalse(self._agent_allowed(), "A mandate registered in another company opens nothing here")

    def test_mandate_of_another_party(self):
        self._create_mandate(principal_id=self.party_b.id)
        self.assertFalse(self._agent_allowed(), "A mandate of party B opens nothing of party A")

    def test_agent_recipient_and_notification(self):
        self._create_mandate()
        with self.mock_mail_gateway():
            self.ticket.with_user(self.user_a).message_post(
                body="Answer",
                message_type='comment',
                subtype_xmlid='mail.mt_comment',
                partner_ids=self.agent_contact.ids,
            )
        self.assertIn(self.agent_contact, self._new_mails.recipient_ids)


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestFollowerRulePerformance(CabinetFollowersCase):
    @users('cab_user')
    @warmup
    def test_follower_check_query_count(self):
        ticket = self.ticket.with_env(self.env)
        partners = (self.contact_a2 | self.user_manager.partner_id).with_env(self.env)
        # measured: partners' party and share flag, ticket's party, then the colleague's user (staff
        # follow only what they may read; their rules read the ticket's own columns)
        with self.assertQueryCount(cab_user=3):
            ticket._filter_allowed_partners(partners)
        outsiders = (self.contact_b | self.agent_contact).with_env(self.env)
        with self.assertQueryCount(cab_user=2):  # measured: partners, then one search of covering mandates
            ticket._filter_allowed_partners(outsiders)

    @users('cab_user')
    @warmup
    def test_message_post_query_count(self):
        ticket = self.ticket.with_env(self.env)
        with self.mock_mail_gateway(), self.assertQueryCount(cab_user=43):  # measured
            ticket.message_post(
                body="Answer", message_type='comment', subtype_xmlid='mail.mt_comment', partner_ids=self.contact_a2.ids
            )


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestOutgoingMail(CabinetFollowersCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.team_a.alias_name = 'team-a'

    def test_outgoing_mail_to_party_only(self):
        """Mail from a ticket: no Cc, no Cc/Bcc header, recipients within the rule, Reply-To on the
        team alias."""
        self.ticket.message_subscribe(partner_ids=(self.contact_a2 | self.user_manager.partner_id).ids)
        self.user_manager.notification_type = 'email'
        with self.mock_mail_gateway():
            self.ticket.with_user(self.user_a).message_post(
                body="Our answer", message_type='comment', subtype_xmlid='mail.mt_comment', partner_ids=self.party_a.ids
            )
        self.assertTrue(self._new_mails)
        allowed = self.party_a | self.contact_a | self.contact_a2 | self.user_manager.partner_id
        self.assertLessEqual(self._new_mails.recipient_ids, allowed)
        self.assertEqual(self._new_mails.recipient_ids, allowed)
        self.assertFalse(any(self._new_mails.mapped('email_cc')))
        self.assertEqual(len(self._mails), 4)
        alias = self.team_a.alias_email
        for sent in self._mails:
            self.assertFalse(sent['email_cc'], "No Cc on mail of a ticket")
            headers = {key.lower() for key in (sent.get('headers') or {})}
            self.assertFalse(headers & {'cc', 'bcc', 'x-msg-to-add'})
            self.assertEqual(len(sent['email_to']), 1, "Each recipient sees only themselves")
            self.assertIn(alias, sent['reply_to'])
            message = sent['EmailMessage']
            self.assertIsNone(message['Cc'])
            self.assertIsNone(message['Bcc'])

    def test_incoming_cc_not_in_outgoing_headers(self):
        """Addresses in Cc of an incoming email never show in the answers' headers."""
        with self.mock_mail_gateway():
            self.ticket.message_post(
                body="Incoming",
                message_type='email',
                subtype_xmlid='mail.mt_comment',
                author_id=self.contact_a.id,
                incoming_email_cc='cc.person@elsewhere.example',
                incoming_email_to='team-a@test.mycompany.com',
            )
            self.ticket.with_user(self.user_a).message_post(
                body="Answer", message_type='comment', subtype_xmlid='mail.mt_comment'
            )
        self.assertTrue(self._mails)
        for sent in self._mails:
            self.assertNotIn('cc.person@elsewhere.example', str(sent['EmailMessage']))

    @mute_logger(TICKET_LOGGER)
    def test_stage_template_to_party_only(self):
        """A stage template with another party in Cc mails the party only and still lets the
        ticket move on."""
        template = self.env['mail.template'].create(
            {
                'name': "In progress",
                'model_id': self.env['ir.model']._get_id('cabinet.ticket'),
                'subject': "Your request {{ object.number }}",
                'body_html': "<p>We are on it</p>",
                'partner_to': '{{ object.partner_id.id }}',
                'email_cc': 'bob@party-b.example',
            }
        )
        self.stage_progress.mail_template_id = template
        with self.mock_mail_gateway():
            self.ticket.with_user(self.user_a).stage_id = self.stage_progress
            self.flush_tracking()
        self.assertEqual(self.ticket.stage_id, self.stage_progress)
        self.assertTrue(self._new_mails)
        self.assertEqual(self._new_mails.recipient_ids, self.contact_a)
        self.assertFalse(self._new_mails.filtered('email_cc'))
        self.assertNotIn('bob@party-b.example', str([sent['email_to'] for sent in self._mails]))

    def test_reply_to_without_alias(self):
        ticket = self._create_ticket(self.contact_b, team=self.team_b)
        self.assertFalse(self.team_b.alias_email)
        reply_to = ticket._notify_get_reply_to()[ticket.id]
        self.assertIn(self.company.catchall_email or 'catchall', reply_to)

    @mute_logger(TICKET_LOGGER)
    def test_mail_mail_last_line(self):
        """A mail created directly for a ticket (code, template) loses its Cc and outsiders."""
        mail = self.env['mail.mail'].create(
            {
                'model': 'cabinet.ticket',
                'res_id': self.ticket.id,
                'subject': "Direct",
                'body_html': "<p>x</p>",
                'email_to': 'amelia@party-a.example, stranger@elsewhere.example',
                'email_cc': 'bob@party-b.example',
                'recipient_ids': [Command.set((self.contact_a | self.contact_b).ids)],
                'headers': repr({'Cc': 'bob@party-b.example', 'Bcc': 'spy@elsewhere.example', 'X-Custom': '1'}),
            }
        )
        self.assertRecordValues(mail, [{'email_to': False, 'email_cc': False}])
        self.assertEqual(mail.recipient_ids, self.contact_a | self.contact_a2)
        self.assertEqual(mail.headers, repr({'X-Custom': '1'}))
        template = self.env['mail.template'].create(
            {
                'name': "Direct",
                'model_id': self.env['ir.model']._get_id('cabinet.ticket'),
                'subject': "Direct",
                'body_html': "<p>x</p>",
                'email_to': 'stranger@elsewhere.example',
                'email_cc': 'bob@party-b.example',
                'partner_to': '{{ object.partner_id.id }}',
            }
        )
        with self.mock_mail_gateway():
            template.send_mail(self.ticket.id, force_send=True)
        self.assertEqual(self._new_mails.recipient_ids, self.contact_a)
        self.assertFalse(self._new_mails.email_cc)
        self.assertEqual([sent['email_to'] for sent in self._mails], [['"Alice A" <alice@party-a.example>']])


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestFollowerRulePortal(CabinetFactories, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_cabinet_data()
        cls.ticket = cls._create_ticket(cls.portal_a.partner_id, name="Roof leak")

    def _post(self, partner):
        token = limited_field_access_token(partner, 'id', scope='mail.message_mention')
        return self.make_jsonrpc_request(
            '/mail/message/post',
            {
                'thread_model': 'cabinet.ticket',
                'thread_id': self.ticket.id,
                'post_data': {
                    'body': "Please look",
                    'message_type': 'comment',
                    'subtype_xmlid': 'mail.mt_comment',
                    'partner_ids': partner.ids,
                    'partner_ids_mention_token': {str(partner.id): token},
                },
            },
        )

    @mute_logger('odoo.http')
    def test_portal_post_with_outsider(self):
        """The party's portal user cannot bring another party into its ticket through the chatter."""
        self.authenticate('cab_portal', 'cab_portal')
        with self.assertRaisesRegex(JsonRpcException, 'UserError'):
            self._post(self.contact_b)
        self.assertFalse(self.ticket.message_ids.filtered(lambda m: self.contact_b in m.partner_ids))
        self.assertNotIn(self.contact_b, self.ticket.message_partner_ids)
        self._post(self.contact_a)
        self.assertIn(self.contact_a, self.ticket.message_ids.partner_ids)
