# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
"""Access ends when the reason for it ends (PRODUCT.md §4.13), from the side of the person whose
access ended: the links, tokens and sessions collected while allowed are tried again afterwards."""

import importlib.util
import os
from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.fields import Command
from odoo.service.model import call_kw
from odoo.tests import HttpCase, TransactionCase, freeze_time, new_test_user, tagged
from odoo.tools import mute_logger

from .common import CabinetFactories

MIGRATION = os.path.join(os.path.dirname(os.path.dirname(__file__)), 'migrations', '19.0.1.1.0', 'post-migrate.py')


class AccessEndsFactories(CabinetFactories):
    """Party A gave the agency a mandate for its client requests; the agency's portal user filed
    ``ticket`` for A under it. ``ticket_own`` is a request A filed itself."""

    @classmethod
    def _setup_access_data(cls):
        cls._setup_cabinet_data()
        cls.today = fields.Date.today()
        cls.category_permit = cls.env['cabinet.category'].create({'name': "Building Permit", 'team_id': cls.team_a.id})
        cls.agent = cls._create_party("Agency Ltd", party_type='agent', email='office@agency.example')
        cls.agent_user = new_test_user(
            cls.env,
            login='cab_agent_portal',
            name="Alba Agent",
            email='alba@agency.example',
            groups='base.group_portal',
        )
        cls.agent_user.partner_id.parent_id = cls.agent
        cls.agent_contact = cls.agent_user.partner_id
        cls.mandate = cls.env['cabinet.mandate'].create(
            {
                'agent_id': cls.agent.id,
                'principal_id': cls.party_a.id,
                'date_start': cls.today - timedelta(days=30),
                'category_ids': [Command.set((cls.category_client | cls.category_permit).ids)],
            }
        )
        cls.mandate.action_activate()
        cls.ticket = cls._create_ticket(
            cls.contact_a,
            name="Permit question filed by the agent",
            description="<p>Plans of the extension</p>",
            category_id=cls.category_client.id,
            agent_partner_id=cls.agent_contact.id,
        )
        cls.ticket_own = cls._create_ticket(cls.contact_a, name="Filed by A itself", category_id=cls.category_client.id)

    def _links(self, ticket, partner):
        """What a person collects while allowed: the plain token and a link signed for them."""
        token = ticket._portal_ensure_token()
        return token, partner.id, ticket._sign_token(partner.id)


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestAccessEndsRecords(AccessEndsFactories, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_access_data()

    def _as(self, user):
        return self.env['cabinet.ticket'].with_user(user)

    def _public(self):
        """Tickets as a visitor without session, who has only the links they collected."""
        return self._as(self.env.ref('base.public_user'))

    # --- the token is staff's ---------------------------------------------------------------

    @mute_logger('odoo.models', 'odoo.addons.base.models.ir_rule')
    def test_access_token_unreadable_outside_staff(self):
        self.ticket._portal_ensure_token()
        for user in (self.agent_user, self.portal_a):
            Ticket = self._as(user)
            self.assertEqual(Ticket.browse(self.ticket.id).read(['name'])[0]['name'], self.ticket.name)
            with self.assertRaises(AccessError, msg="field access: the token is staff's"):
                call_kw(Ticket, 'read', [[self.ticket.id], ['access_token']], {})
            with self.assertRaises(AccessError):
                call_kw(Ticket, 'search_read', [[('id', '=', self.ticket.id)], ['access_token']], {})
            with self.assertRaises(AccessError):
                call_kw(Ticket, 'web_read', [[self.ticket.id]], {'specification': {'access_token': {}}})
            with self.assertRaises(AccessError):
                call_kw(Ticket, 'get_portal_url', [[self.ticket.id]], {})
            self.assertNotIn('access_token', call_kw(Ticket, 'fields_get', [], {}))
            # opening from a notification: the portal page, without the token
            action = self.ticket._get_access_action(access_uid=user.id)
            self.assertEqual(action['type'], 'ir.actions.act_url')
            self.assertNotIn('access_token', action['url'])
        # staff still reads it and shares the ticket
        self.assertTrue(self._as(self.user_a).browse(self.ticket.id).read(['access_token'])[0]['access_token'])
        self.assertIn('access_token=', self.ticket.with_user(self.user_a)._get_share_url())

    def test_share_link_for_someone_else_is_signed_without_token(self):
        """The plain token goes into links for the requester only; anyone else gets a signed link."""
        token = self.ticket._portal_ensure_token()
        url = self.ticket.with_user(self.user_a)._get_share_url(redirect=True, pid=self.agent_contact.id)
        self.assertNotIn(token, url)
        self.assertIn(f'pid={self.agent_contact.id}', url)
        self.assertTrue(url.startswith(self.ticket.access_url))
        url = self.ticket.with_user(self.user_a)._get_share_url(redirect=True, pid=self.contact_a.id)
        self.assertIn(token, url, "the requester's link carries the token")

    # --- the record rule follows the mandate's real cover --------------------------------------

    @mute_logger('odoo.addons.base.models.ir_rule')
    def test_rule_follows_date_end_without_cron(self):
        self.mandate.date_end = self.today + timedelta(days=2)
        Ticket = self._as(self.agent_user)
        self.assertEqual(Ticket.search([]), self.ticket, "positive control: the agent reads the ticket filed")
        with freeze_time(self.today + timedelta(days=3)):
            self.assertEqual(self.mandate.state, 'active', "the daily expiry job has not run")
            self.assertFalse(Ticket.search([]))
            with self.assertRaises(AccessError):
                call_kw(Ticket, 'read', [[self.ticket.id], ['name']], {})
            self.assertEqual(self._as(self.portal_a).search([]), self.ticket | self.ticket_own)
        with freeze_time(self.today + timedelta(days=2)):
            self.assertEqual(Ticket.search([]), self.ticket, "the last day of the mandate still counts")

    @mute_logger('odoo.addons.base.models.ir_rule')
    def test_rule_follows_start_date_and_scope(self):
        permit = self._create_ticket(
            self.contact_a, category_id=self.category_permit.id, agent_partner_id=self.agent_contact.id
        )
        Ticket = self._as(self.agent_user)
        self.assertEqual(Ticket.search([]), self.ticket | permit)
        self.mandate.category_ids = self.category_permit
        self.assertEqual(Ticket.search([]), permit, "a request type taken out of the scope closes its tickets")
        with self.assertRaises(AccessError):
            call_kw(Ticket, 'read', [[self.ticket.id], ['name']], {})
        self.mandate.category_ids = False
        self.assertEqual(Ticket.search([]), self.ticket | permit, "an empty scope covers every request type")
        self.mandate.date_start = self.today + timedelta(days=1)
        self.assertFalse(Ticket.search([]), "a mandate that starts tomorrow covers nothing today")

    def test_rule_field_matches_mandate_cover(self):
        """The rule's subquery and the mandate's own test say the same, ticket by ticket."""
        other_agent = self._create_party("Other Agency", party_type='agent')
        permit = self._create_ticket(
            self.contact_a, category_id=self.category_permit.id, agent_partner_id=self.agent_contact.id
        )
        tickets = self.ticket | permit | self.ticket_own
        Ticket = self.env['cabinet.ticket']
        for scope in (self.category_client, self.category_permit, self.env['cabinet.category']):
            self.mandate.category_ids = scope
            for date_end in (False, self.today, self.today - timedelta(days=1)):
                self.mandate.date_end = date_end
                tickets.invalidate_recordset(['mandate_agent_ids'])
                found = Ticket.search([('id', 'in', tickets.ids), ('mandate_agent_ids', 'in', self.agent.ids)])
                covered = tickets.filtered(
                    lambda t: t.mandate_id and t.mandate_id._covers(t.commercial_partner_id, t.category_id)
                )
                self.assertEqual(found, covered, f"scope {scope.mapped('name')}, end {date_end}")
                self.assertEqual(tickets.filtered(lambda t: self.agent in t.mandate_agent_ids), covered)
                self.assertFalse(Ticket.search([('mandate_agent_ids', 'in', other_agent.ids)]))

    # --- links handed out before stop working ------------------------------------------------

    def test_revoke_renews_tokens_and_unsubscribes(self):
        self.assertIn(self.agent_contact, self.ticket.message_partner_ids)
        token, pid, signature = self._links(self.ticket, self.agent_contact)
        token_b = self._create_ticket(self.contact_b, team=self.team_b)._portal_ensure_token()
        self.mandate.action_revoke(reason="Engagement ended")
        self.assertNotEqual(self.ticket.access_token, token)
        self.assertNotIn(self.agent_contact, self.ticket.message_partner_ids)
        self.assertNotEqual(self.ticket._sign_token(pid), signature, "signed links derive from the token")
        Ticket = self._public()
        self.assertFalse(Ticket._portal_access(self.ticket.id, access_token=token)[0])
        self.assertFalse(Ticket._portal_access(self.ticket.id, pid=pid, hash=signature)[0])
        # positive controls: the new token opens the ticket; other parties' links are untouched
        self.assertEqual(Ticket._portal_access(self.ticket.id, access_token=self.ticket.access_token)[0], self.ticket)
        self.assertEqual(self.env['cabinet.ticket'].search([('access_token', '=', token_b)]).access_token, token_b)

    def test_narrowing_renews_only_tickets_left_out(self):
        permit = self._create_ticket(
            self.contact_a, category_id=self.category_permit.id, agent_partner_id=self.agent_contact.id
        )
        token_client = self.ticket._portal_ensure_token()
        token_permit = permit._portal_ensure_token()
        self.mandate.category_ids = self.category_permit
        self.assertNotEqual(self.ticket.access_token, token_client)
        self.assertEqual(permit.access_token, token_permit, "a ticket still covered keeps its links")
        self.assertNotIn(self.agent_contact, self.ticket.message_partner_ids)
        self.assertIn(self.agent_contact, permit.message_partner_ids)

    @mute_logger('odoo.addons.base.models.ir_rule')
    def test_signed_link_checked_live_before_expiry_job(self):
        """Between the end date and the daily job, a link signed for the agent is refused."""
        self.mandate.date_end = self.today + timedelta(days=1)
        token, pid, signature = self._links(self.ticket, self.agent_contact)
        Ticket = self._public()
        self.assertEqual(Ticket._portal_access(self.ticket.id, pid=pid, hash=signature)[0], self.ticket)
        with freeze_time(self.today + timedelta(days=2)):
            self.assertFalse(Ticket._portal_access(self.ticket.id, pid=pid, hash=signature)[0])
            self.assertFalse(
                Ticket._portal_access(self.ticket.id, access_token=token, pid=pid, hash=signature)[0],
                "a signed link whose partner lost access is refused, whatever else it carries",
            )
            self.assertFalse(Ticket._get_thread_with_access(self.ticket.id, pid=pid, hash=signature))
            # the requester's own signed link still works
            requester = self.ticket._sign_token(self.contact_a.id)
            self.assertEqual(
                Ticket._portal_access(self.ticket.id, pid=self.contact_a.id, hash=requester),
                (self.ticket, self.contact_a),
            )
            self._run_cron('_cron_expire_mandates', model='cabinet.mandate')
            self.assertEqual(self.mandate.state, 'expired')
            self.assertNotEqual(self.ticket.access_token, token, "the expiry job renews the links")
            self.assertNotIn(self.agent_contact, self.ticket.message_partner_ids)

    @mute_logger('odoo.addons.base.models.ir_rule')
    def test_contact_leaving_party(self):
        """A contact of A moves to company B: A's tickets close to them, whatever they collected."""
        leaver = new_test_user(
            self.env, login='cab_leaver', name="Lea Leaver", email='lea@party-a.example', groups='base.group_portal'
        )
        leaver.partner_id.parent_id = self.party_a
        self.ticket_own.message_subscribe(partner_ids=leaver.partner_id.ids)
        token, pid, signature = self._links(self.ticket_own, leaver.partner_id)
        Ticket = self._as(leaver)
        self.assertIn(self.ticket_own, Ticket.search([]), "positive control: a contact of A reads A's tickets")
        token_b = self._create_ticket(self.contact_b, team=self.team_b)._portal_ensure_token()

        leaver.partner_id.parent_id = self.party_b

        self.assertFalse(Ticket.search([('commercial_partner_id', '=', self.party_a.id)]))
        with self.assertRaises(AccessError):
            call_kw(Ticket, 'read', [[self.ticket_own.id], ['name']], {})
        self.assertNotIn(leaver.partner_id, self.ticket_own.message_partner_ids)
        self.assertNotEqual(self.ticket_own.access_token, token)
        Tickets = self._public()
        self.assertFalse(Tickets._portal_access(self.ticket_own.id, access_token=token)[0])
        self.assertFalse(Tickets._portal_access(self.ticket_own.id, pid=pid, hash=signature)[0])
        # positive controls: A's remaining contact reads on; B's tickets keep their links
        self.assertIn(self.ticket_own, self._as(self.portal_a).search([]))
        self.assertTrue(self.env['cabinet.ticket'].search([('access_token', '=', token_b)]))

    def test_requester_change_renews_token(self):
        token = self.ticket_own._portal_ensure_token()
        self.ticket_own.partner_id = self.portal_a.partner_id
        self.assertNotEqual(self.ticket_own.access_token, token)

    # --- ratings of anonymized tickets --------------------------------------------------------

    def test_rating_link_dies_with_anonymization(self):
        self.ticket_own.action_close()
        rating_token = self.ticket_own._rating_get_access_token()
        self.ticket_own.sudo()._anonymize()
        rating = self.ticket_own.rating_ids
        self.assertNotEqual(rating.access_token, rating_token)
        self.assertFalse(self.env['rating.rating'].search([('access_token', '=', rating_token)]))
        with self.assertRaises(UserError):
            self.ticket_own.sudo().rating_apply(1, rating=rating, feedback="Name and address of the client")
        self.assertFalse(rating.feedback)
        self.assertFalse(rating.consumed)

    # --- existing databases -------------------------------------------------------------------

    def test_migration_applies_rule_and_renews_tokens(self):
        rule = self.env.ref('cabinet_helpdesk.cabinet_ticket_rule_portal_mandate')
        rule.domain_force = "[('mandate_id.agent_id.commercial_partner_id', '=', user.commercial_partner_id.id)]"
        token = self.ticket._portal_ensure_token()
        token_own = self.ticket_own._portal_ensure_token()
        self.env.ref('cabinet_helpdesk.mt_ticket_new').internal = True
        user_rule = self.env.ref('cabinet_helpdesk.cabinet_ticket_rule_user')
        user_rule.domain_force = "[('team_id.member_ids', 'in', [user.id])]"
        template = self.env.ref('cabinet_helpdesk.mail_template_ticket_acknowledgement')
        template.body_html = "<p>Old acknowledgement</p>"
        spec = importlib.util.spec_from_file_location('cabinet_helpdesk_migration_19_0_1_1_0', MIGRATION)
        migration = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(migration)
        migration.migrate(self.env.cr, '19.0.1.0.0')
        self.env.invalidate_all()
        self.assertEqual(rule.domain_force, "[('mandate_agent_ids', 'in', [user.commercial_partner_id.id])]")
        self.assertEqual(rule.groups, self.env.ref('base.group_portal'))
        self.assertTrue(
            self.env['ir.model.data']._xmlid_to_res_model_res_id('cabinet_helpdesk.cabinet_ticket_rule_portal_mandate')
        )
        self.assertTrue(
            self.env['ir.model.data']
            .search([('module', '=', 'cabinet_helpdesk'), ('name', '=', 'cabinet_ticket_rule_portal_mandate')])
            .noupdate,
            "the rule stays the firm's to adapt",
        )
        self.assertFalse(self.env.ref('cabinet_helpdesk.mt_ticket_new').internal, "the opening message is public")
        self.assertIn(
            "('is_confidential', '=', True), ('category_team_id', 'in', user.cabinet_team_ids.ids)",
            user_rule.domain_force,
            "the handling team keeps its HR tickets",
        )
        self.assertIn("/my/tickets/privacy", template.body_html, "the acknowledgement links the privacy notice")
        self.assertIn("_get_share_url(pid=object.partner_id.id)", template.body_html)
        self.assertNotEqual(self.ticket.access_token, token, "a ticket filed under a mandate gets a new token")
        self.assertEqual(self.ticket_own.access_token, token_own)


class AccessEndsHttpCase(AccessEndsFactories, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_access_data()

    def _csrf(self, url='/web/login'):
        return self._csrf_from(self.url_open(url).text)

    def _json(self, route, **params):
        return self.url_open(route, json={'params': {'thread_model': 'cabinet.ticket', **params}}).json()

    def _post(self, ticket, body, **link):
        return self._json(
            '/mail/message/post', thread_id=ticket.id, post_data={'body': body, 'message_type': 'comment'}, **link
        )

    def _staff_answer(self, ticket, body):
        ticket.with_user(self.user_a).message_post(body=body, message_type='comment', subtype_xmlid='mail.mt_comment')

    def _assert_closed_to(self, ticket, what, token=None, pid=None, signature=None, secret="Plans of the extension"):
        """Every portal way into ``ticket`` with these collected parameters is refused."""
        link = {key: value for key, value in (('token', token), ('pid', pid), ('hash', signature)) if value}
        query = '&'.join(
            f'{key}={value}' for key, value in (('access_token', token), ('pid', pid), ('hash', signature)) if value
        )
        response = self.url_open(f'/my/tickets/{ticket.id}?{query}', allow_redirects=False)
        self.assertIn(response.status_code, (302, 303, 404), f"{what}: ticket page")
        self.assertNotIn(secret, response.text, what)
        form = {'csrf_token': self._csrf(), 'reason': "Closed by someone without access"}
        form.update(
            {key: value for key, value in (('access_token', token), ('pid', pid), ('hash', signature)) if value}
        )
        for action in ('close', 'reopen'):
            response = self.url_open(f'/my/tickets/{ticket.id}/{action}', data=form, allow_redirects=False)
            self.assertEqual(response.status_code, 404, f"{what}: {action}")
        self.assertFalse(ticket.message_ids.filtered(lambda m: "without access" in str(m.body)), what)
        self._staff_answer(ticket, "New answer after the end")
        fetched = self._json('/mail/chatter_fetch', thread_id=ticket.id, **link)
        self.assertNotIn("New answer after the end", str(fetched), f"{what}: chatter fetch")
        init = self._json('/portal/chatter_init', thread_id=ticket.id, **link)
        self.assertNotIn(secret, str(init))
        self.assertNotIn('"can_react": true', str(init).lower())
        self.assertIn('error', self._post(ticket, "Intrusion after the end", **link), f"{what}: chatter post")
        self.assertFalse(self.env['mail.message'].search([('body', 'ilike', 'Intrusion after the end')]), what)


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestAccessEndsPortal(AccessEndsHttpCase):
    def test_agent_acts_in_own_name(self):
        self.authenticate('cab_agent_portal', 'cab_agent_portal')
        response = self.url_open(f'/my/tickets/{self.ticket.id}')
        self.assertIn("Plans of the extension", response.text)
        self.assertNotIn('access_token=', response.text, "no token on the agent's page")
        self.url_open(
            f'/my/tickets/{self.ticket.id}/close',
            data={'csrf_token': self._csrf(f'/my/tickets/{self.ticket.id}'), 'reason': "Permit granted"},
        )
        self.assertTrue(self.ticket.is_closed)
        closing = self.ticket.message_ids.filtered(lambda m: "Permit granted" in str(m.body))
        self.assertEqual(closing.author_id, self.agent_contact, "the acting person signs, not the principal")
        response = self.url_open(f'/my/tickets/{self.ticket.id}')
        self.assertEqual(self.ticket.rating_ids.partner_id, self.agent_contact)
        self.assertIn(f'/rate/{self.ticket.rating_ids.access_token}/', response.text)
        # from a notification: the portal page, no token in the address
        response = self.url_open(f'/mail/view?model=cabinet.ticket&res_id={self.ticket.id}', allow_redirects=False)
        self.assertIn(f'/my/tickets/{self.ticket.id}', response.headers.get('Location', ''))
        self.assertNotIn('access_token', response.headers.get('Location', ''))

    @mute_logger('odoo.http', 'odoo.addons.base.models.ir_rule')
    def test_revoked_agent_loses_every_way_in(self):
        token, pid, signature = self._links(self.ticket, self.agent_contact)
        self.authenticate('cab_agent_portal', 'cab_agent_portal')
        # positive control, while the mandate lasts: page, chatter and post in the agent's name
        self.assertIn("Plans of the extension", self.url_open(f'/my/tickets/{self.ticket.id}').text)
        self.assertNotIn('error', self._post(self.ticket, "Agent question while allowed"))
        self.authenticate(None, None)
        self.assertIn("Plans", self.url_open(f'/my/tickets/{self.ticket.id}?pid={pid}&hash={signature}').text)
        self.assertNotIn('error', self._post(self.ticket, "Agent by signed link", pid=pid, hash=signature))
        self.assertEqual(
            self.env['mail.message'].search([('body', 'ilike', 'Agent by signed link')]).author_id, self.agent_contact
        )

        self.mandate.action_revoke(reason="Engagement ended")

        self._assert_closed_to(self.ticket, "logged out, old token", token=token)
        self._assert_closed_to(self.ticket, "logged out, signed link", token=token, pid=pid, signature=signature)
        self._assert_closed_to(self.ticket, "logged out, signed link without token", pid=pid, signature=signature)
        self.authenticate('cab_agent_portal', 'cab_agent_portal')
        self._assert_closed_to(self.ticket, "logged in")
        self._assert_closed_to(self.ticket, "logged in, old token", token=token)
        messages = self._json('/mail/thread/messages', thread_id=self.ticket.id)
        self.assertNotIn("New answer after the end", str(messages))
        self.assertNotIn(f'/my/tickets/{self.ticket.id}', self.url_open('/my/tickets').text)
        # positive controls: the party's own contact, and the requester's new link
        self.authenticate('cab_portal', 'cab_portal')
        self.assertIn(
            "New answer after the end",
            self.url_open(f'/my/tickets/{self.ticket.id}').text
            + str(self._json('/mail/chatter_fetch', thread_id=self.ticket.id)),
        )
        self.authenticate(None, None)
        new_token, requester, requester_hash = self._links(self.ticket, self.contact_a)
        url = f'/my/tickets/{self.ticket.id}?access_token={new_token}&pid={requester}&hash={requester_hash}'
        self.assertIn("Plans of the extension", self.url_open(url).text)
        self.assertNotIn(
            'error', self._post(self.ticket, "Thanks from A", token=new_token, pid=requester, hash=requester_hash)
        )
        self.assertEqual(
            self.env['mail.message'].search([('body', 'ilike', 'Thanks from A')]).author_id, self.contact_a
        )

    @mute_logger('odoo.http', 'odoo.addons.base.models.ir_rule')
    def test_end_date_passed_before_expiry_job(self):
        self.mandate.date_end = self.today + timedelta(days=1)
        token, pid, signature = self._links(self.ticket, self.agent_contact)
        self.authenticate('cab_agent_portal', 'cab_agent_portal')
        self.assertIn("Plans of the extension", self.url_open(f'/my/tickets/{self.ticket.id}').text)
        with freeze_time(fields.Datetime.now() + timedelta(days=2), tick=True):
            self.assertEqual(self.mandate.state, 'active', "the daily expiry job has not run")
            self._assert_closed_to(self.ticket, "logged in after the end date")
            self.authenticate(None, None)
            self._assert_closed_to(self.ticket, "signed link after the end date", pid=pid, signature=signature)
            # positive control: the party's contact
            self.authenticate('cab_portal', 'cab_portal')
            self.assertIn("Plans of the extension", self.url_open(f'/my/tickets/{self.ticket.id}').text)

    @mute_logger('odoo.http', 'odoo.addons.base.models.ir_rule')
    def test_narrowed_scope_closes_ticket(self):
        token, pid, signature = self._links(self.ticket, self.agent_contact)
        self.mandate.category_ids = self.category_permit
        self.authenticate('cab_agent_portal', 'cab_agent_portal')
        self._assert_closed_to(self.ticket, "logged in after narrowing")
        self._assert_closed_to(self.ticket, "old links after narrowing", token=token, pid=pid, signature=signature)

    @mute_logger('odoo.http', 'odoo.addons.base.models.ir_rule')
    def test_contact_moved_to_another_company(self):
        mover = new_test_user(
            self.env,
            login='cab_mover_portal',
            name="Max Mover",
            email='max@party-a.example',
            groups='base.group_portal',
        )
        mover.partner_id.parent_id = self.party_a
        self.ticket_own.message_subscribe(partner_ids=mover.partner_id.ids)
        token, pid, signature = self._links(self.ticket_own, mover.partner_id)
        self.authenticate('cab_mover_portal', 'cab_mover_portal')
        self.assertIn("Filed by A itself", self.url_open(f'/my/tickets/{self.ticket_own.id}').text)

        mover.partner_id.parent_id = self.party_b

        self._assert_closed_to(self.ticket_own, "logged in after moving", secret="Filed by A itself")
        self.authenticate(None, None)
        self._assert_closed_to(
            self.ticket_own,
            "old links after moving",
            token=token,
            pid=pid,
            signature=signature,
            secret="Filed by A itself",
        )
        self.authenticate('cab_portal', 'cab_portal')
        self.assertIn("Filed by A itself", self.url_open(f'/my/tickets/{self.ticket_own.id}').text)

    @mute_logger('odoo.http')
    def test_token_alone_reads_but_never_acts(self):
        """The plain token names nobody: it opens the page and the thread, but neither closes,
        reopens, rates nor posts, and nobody signs as the requester with it."""
        token = self.ticket_own._portal_ensure_token()
        url = f'/my/tickets/{self.ticket_own.id}?access_token={token}'
        response = self.url_open(url)
        self.assertIn("Filed by A itself", response.text)
        self.assertNotIn("o_cabinet_ticket_close_form", response.text)
        self.assertIn('data-allow_composer="0"', response.text)
        response = self.url_open(
            f'/my/tickets/{self.ticket_own.id}/close',
            data={'csrf_token': self._csrf(), 'access_token': token, 'reason': "Closed by a stranger"},
        )
        self.assertIn("lets you read the ticket only", response.text)
        self.assertFalse(self.ticket_own.is_closed)
        self.assertNotIn('error', self._json('/mail/chatter_fetch', thread_id=self.ticket_own.id, token=token))
        self.assertIn('error', self._post(self.ticket_own, "Posted as the requester?", token=token))
        self.assertFalse(self.env['mail.message'].search([('body', 'ilike', 'Posted as the requester?')]))
        self.ticket_own.action_close()
        self.assertNotIn('/rate/', self.url_open(url).text)
        self.assertFalse(self.ticket_own.rating_ids)
        # positive control: the requester's signed link acts in the requester's name
        signature = self.ticket_own._sign_token(self.contact_a.id)
        url = f'{url}&pid={self.contact_a.id}&hash={signature}'
        response = self.url_open(url)
        self.assertIn('o_cabinet_ticket_reopen_form', response.text)
        self.assertIn(f'name="pid" value="{self.contact_a.id}"', response.text)
        self.url_open(
            f'/my/tickets/{self.ticket_own.id}/reopen',
            data={
                'csrf_token': self._csrf(),
                'access_token': token,
                'pid': self.contact_a.id,
                'hash': signature,
                'reason': "Still leaking",
            },
        )
        self.assertFalse(self.ticket_own.is_closed)
        reopening = self.ticket_own.message_ids.filtered(lambda m: "Still leaking" in str(m.body))
        self.assertEqual(reopening.author_id, self.contact_a)

    @mute_logger('odoo.http')
    def test_rating_links_end_with_access(self):
        # the agent's rating link, then the mandate ends
        self.ticket.action_close()
        agent_rating = self.ticket._rating_get_access_token(partner=self.agent_contact)
        self.assertEqual(self.url_open(f'/rate/{agent_rating}/5').status_code, 200, "positive control")
        self.mandate.action_revoke()
        self.assertEqual(self.url_open(f'/rate/{agent_rating}/5').status_code, 404)
        # the party's rating link, then the ticket is anonymized
        self.ticket_own.action_close()
        rating_token = self.ticket_own._rating_get_access_token()
        self.ticket_own.sudo()._anonymize()
        response = self.url_open(f'/rate/{rating_token}/5')
        self.assertEqual(response.status_code, 404)
        response = self.url_open(
            f'/rate/{rating_token}/submit_feedback',
            data={'csrf_token': self._csrf(), 'rate': '1', 'feedback': "Name and phone of the client"},
        )
        self.assertEqual(response.status_code, 404)
        self.assertFalse(self.ticket_own.rating_ids.feedback)
        self.assertFalse(self.ticket_own.message_ids.filtered(lambda m: "phone of the client" in str(m.body)))


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestPortalBadInput(AccessEndsHttpCase):
    @mute_logger('odoo.http')
    def test_control_characters_give_clean_pages(self):
        self.authenticate('cab_portal', 'cab_portal')
        for query in (
            'search=%00',
            'search=ab%00c',
            'search=%00&search_in=name',
            'page=abc',
            'search_in=%00&sortby=%00',
        ):
            response = self.url_open(f'/my/tickets?{query}')
            self.assertEqual(response.status_code, 200, query)
        self.assertIn("Filed by A itself", self.url_open('/my/tickets?search=Filed%00').text)
        for query in ('pid=abc&hash=x', 'pid=%00&hash=%00', 'access_token=%00'):
            response = self.url_open(f'/my/tickets/{self.ticket_own.id}?{query}')
            self.assertEqual(
                response.status_code, 200, f"the party's contact opens its ticket whatever the link: {query}"
            )
        self.authenticate(None, None)
        for query in ('pid=abc&hash=x', 'pid=%00&hash=%00', 'access_token=%00', 'pid=1&hash=1&access_token=1'):
            response = self.url_open(f'/my/tickets/{self.ticket_own.id}?{query}')
            self.assertEqual(response.status_code, 404, query)
        self.authenticate('cab_portal', 'cab_portal')
        csrf = self._csrf(f'/my/tickets/{self.ticket_own.id}')
        response = self.url_open(
            f'/my/tickets/{self.ticket_own.id}/close', data={'csrf_token': csrf, 'reason': "Done\x00 now"}
        )
        self.assertEqual(response.status_code, 200)
        self.assertTrue(self.ticket_own.message_ids.filtered(lambda m: "Done now" in str(m.body)))
        response = self.url_open(
            '/my/tickets/new',
            data={'csrf_token': self._csrf('/my/tickets/new'), 'name': "Leak\x00", 'description': "Water\x00 again"},
        )
        self.assertEqual(response.status_code, 200)
        self.assertTrue(self.env['cabinet.ticket'].search([('name', '=', 'Leak')]))
