# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
import io
import zipfile
from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import SQL, mute_logger

from .common import CabinetFactories

# measured (10 before): /my/tickets of a party with 50 tickets (one page), whatever the number of
# other parties' tickets (1,000 or 10,000): default language (2), record rules (2), count and page
# of tickets (2), layout values (1), stages (1), company (1)
LIST_QUERIES = 9
# measured (10 before, pinned at 12): /my/tickets/<id> of an open ticket as a contact of its party:
# default language (2), the ticket read by its access check (1), the user (1), stage, team, dates in
# the user's time zone and the company for the layout (4)
TICKET_QUERIES = 8
# measured: the same page for a closed ticket (its ratings read: 2 more), and for a visitor without
# session on a link signed for the requester (the public user (2), the ticket found and its
# signature and partner checked by the follower rule (4), no session user to read)
CLOSED_TICKET_QUERIES = 10
SIGNED_TICKET_QUERIES = 12


class CabinetPortalCase(CabinetFactories, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_cabinet_data()
        cls.portal_a2 = new_test_user(
            cls.env, login='cab_portal_a2', name="Ada A", email='ada@party-a.example', groups='base.group_portal'
        )
        cls.portal_a2.partner_id.parent_id = cls.party_a
        cls.ticket_a = cls._create_ticket(
            cls.contact_a, name="Roof leak of party A", description="<p>Water in the attic</p>"
        )
        cls.ticket_b = cls._create_ticket(
            cls.contact_b,
            team=cls.team_b,
            name="Secret dispute of party B",
            description="<p>Confidential position of B</p>",
        )
        cls.ticket_b.message_post(
            body="Private answer to B",
            message_type='comment',
            subtype_xmlid='mail.mt_comment',
            author_id=cls.user_b.partner_id.id,
        )

    def _csrf(self, url='/my/tickets/new'):
        return self._csrf_from(self.url_open(url).text)


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestPortalIsolation(CabinetPortalCase):
    def test_list_shows_own_party_only(self):
        self.authenticate('cab_portal', 'cab_portal')
        response = self.url_open('/my/tickets')
        self.assertEqual(response.status_code, 200)
        self.assertIn("Roof leak of party A", response.text)
        self.assertNotIn("Secret dispute", response.text)
        self.authenticate('cab_portal_b', 'cab_portal_b')
        response = self.url_open('/my/tickets')
        self.assertIn("Secret dispute of party B", response.text)
        self.assertNotIn("Roof leak", response.text)

    def test_colleague_sees_party_tickets(self):
        """A second contact of party A sees the ticket filed by Alice A, not party B's."""
        self.authenticate('cab_portal_a2', 'cab_portal_a2')
        response = self.url_open('/my/tickets')
        self.assertIn("Roof leak of party A", response.text)
        self.assertNotIn("Secret dispute", response.text)
        response = self.url_open(f'/my/tickets/{self.ticket_a.id}')
        self.assertEqual(response.status_code, 200)
        self.assertIn("Water in the attic", response.text)

    def test_list_search_and_filters(self):
        self.authenticate('cab_portal', 'cab_portal')
        response = self.url_open('/my/tickets?search=%s&search_in=number' % self.ticket_a.number)
        self.assertIn("Roof leak of party A", response.text)
        response = self.url_open('/my/tickets?search=leak&search_in=name')
        self.assertIn("Roof leak of party A", response.text)
        response = self.url_open('/my/tickets?search=nothing-like-this')
        self.assertNotIn("Roof leak of party A", response.text)
        self.assertIn("No ticket matches your search.", response.text)
        response = self.url_open('/my/tickets?filterby=closed')
        self.assertNotIn("Roof leak of party A", response.text)
        response = self.url_open('/my/tickets?filterby=open&sortby=number')
        self.assertIn("Roof leak of party A", response.text)
        response = self.url_open('/my/tickets?filterby=waiting')
        self.assertNotIn("Roof leak of party A", response.text)
        self.ticket_a.stage_id = self.env.ref('cabinet_helpdesk.cabinet_stage_waiting')
        response = self.url_open('/my/tickets?filterby=waiting')
        self.assertIn("Roof leak of party A", response.text)
        # unknown values fall back to the defaults instead of failing
        response = self.url_open('/my/tickets?filterby=x&sortby=y&search_in=z&search=leak')
        self.assertEqual(response.status_code, 200)
        self.assertIn("Roof leak of party A", response.text)

    @mute_logger('odoo.addons.base.models.ir_rule', 'odoo.http')
    def test_other_party_routes_not_found(self):
        self.authenticate('cab_portal', 'cab_portal')
        response = self.url_open(f'/my/tickets/{self.ticket_a.id}')
        self.assertEqual(response.status_code, 200)
        self.assertIn("Roof leak of party A", response.text)
        csrf = self._csrf_from(response.text)
        for url in (
            f'/my/tickets/{self.ticket_b.id}',
            '/my/tickets/999999999',
            f'/my/tickets/{self.ticket_b.id}?access_token=forged',
        ):
            response = self.url_open(url)
            self.assertEqual(response.status_code, 404, url)
            for secret in ("Secret dispute", "Confidential position", "Bob B", "Private answer"):
                self.assertNotIn(secret, response.text)
        for action in ('close', 'reopen'):
            response = self.url_open(
                f'/my/tickets/{self.ticket_b.id}/{action}', data={'csrf_token': csrf, 'reason': 'x'}
            )
            self.assertEqual(response.status_code, 404)
            self.assertNotIn("Secret dispute", response.text)
        self.assertFalse(self.ticket_b.is_closed, "portal rule: party A cannot close party B's ticket")
        self.assertFalse(self.ticket_b.message_ids.filtered(lambda m: m.author_id == self.portal_a.partner_id))

    @mute_logger('odoo.http')
    def test_access_token(self):
        token_a = self.ticket_a._portal_ensure_token()
        token_b = self.ticket_b._portal_ensure_token()
        # no session: the token alone opens its own ticket
        response = self.url_open(f'/my/tickets/{self.ticket_a.id}?access_token={token_a}')
        self.assertEqual(response.status_code, 200)
        self.assertIn("Roof leak of party A", response.text)
        self.assertIn("Water in the attic", response.text)
        for url in (
            f'/my/tickets/{self.ticket_b.id}?access_token={token_a}',
            f'/my/tickets/{self.ticket_a.id}?access_token={token_b}',
            f'/my/tickets/{self.ticket_a.id}?access_token=',
            f'/my/tickets/{self.ticket_a.id}',
        ):
            response = self.url_open(url, allow_redirects=False)
            self.assertIn(response.status_code, (302, 303, 404), url)
            self.assertNotIn("Secret dispute", response.text)
            self.assertNotIn("Water in the attic", response.text)
        # the token of A does not close B
        csrf = self._csrf('/web/login')
        response = self.url_open(
            f'/my/tickets/{self.ticket_b.id}/close', data={'csrf_token': csrf, 'access_token': token_a}
        )
        self.assertEqual(response.status_code, 404)
        self.assertFalse(self.ticket_b.is_closed)

    def test_signed_link_of_deleted_partner(self):
        """A link signed for a contact who was deleted since opens nothing."""
        gone = self._create_party("Gina Gone", parent=self.party_a, email='gina@party-a.example')
        link = self.ticket_a._get_share_url(pid=gone.id)
        response = self.url_open(link)
        self.assertEqual(response.status_code, 200, "The link works while its contact exists")
        self.assertIn("Water in the attic", response.text)
        gone.unlink()
        response = self.url_open(link)
        self.assertEqual(response.status_code, 404)
        self.assertNotIn("Water in the attic", response.text)

    @mute_logger('odoo.http', 'odoo.addons.base.models.ir_rule', 'odoo.addons.base.models.ir_attachment')
    def test_other_party_attachment_not_downloadable(self):
        attachment = self.env['ir.attachment'].create(
            {
                'name': 'contract_b.txt',
                'raw': b'SECRET CONTRACT OF B',
                'res_model': 'cabinet.ticket',
                'res_id': self.ticket_b.id,
            }
        )
        attachment.generate_access_token()
        token_a = self.ticket_a._portal_ensure_token()
        token_b = self.ticket_b._portal_ensure_token()
        self.authenticate('cab_portal', 'cab_portal')
        for url in (
            f'/web/content/{attachment.id}',
            f'/web/content/{attachment.id}?access_token={token_a}',
            f'/web/content/{attachment.id}?access_token={token_b}',
            f'/web/content/{attachment.id}?download=true',
            f'/web/content/ir.attachment/{attachment.id}/raw',
            f'/web/image/{attachment.id}',
        ):
            response = self.url_open(url)
            if not url.startswith('/web/image/'):  # images answer a placeholder picture
                self.assertIn(response.status_code, (403, 404), url)
            self.assertNotIn(b'SECRET CONTRACT', response.content)

    @mute_logger('odoo.http')
    def test_chatter_cannot_reach_other_party(self):
        """Portal chatter: no message to B's ticket, nothing read from it, no recipient added."""
        self.authenticate('cab_portal', 'cab_portal')
        response = self.url_open(
            '/mail/chatter_fetch', json={'params': {'thread_model': 'cabinet.ticket', 'thread_id': self.ticket_b.id}}
        )
        self.assertNotIn("Private answer", response.text)
        response = self.url_open(
            '/mail/message/post',
            json={
                'params': {
                    'thread_model': 'cabinet.ticket',
                    'thread_id': self.ticket_b.id,
                    'post_data': {'body': "Intrusion from A", 'message_type': 'comment'},
                }
            },
        )
        self.assertIn('error', response.json())
        self.assertFalse(self.env['mail.message'].search([('body', 'ilike', 'Intrusion from A')]))

    @mute_logger('odoo.http')
    def test_chatter_token_of_other_ticket_refused(self):
        """Without a session, the token of A's ticket neither reads nor posts on B's ticket."""
        token_a = self.ticket_a._portal_ensure_token()
        response = self.url_open(
            '/mail/chatter_fetch',
            json={'params': {'thread_model': 'cabinet.ticket', 'thread_id': self.ticket_b.id, 'token': token_a}},
        )
        self.assertNotIn("Private answer", response.text)
        response = self.url_open(
            '/mail/message/post',
            json={
                'params': {
                    'thread_model': 'cabinet.ticket',
                    'thread_id': self.ticket_b.id,
                    'token': token_a,
                    'post_data': {'body': "Intrusion by token", 'message_type': 'comment'},
                }
            },
        )
        self.assertIn('error', response.json())
        self.assertFalse(self.env['mail.message'].search([('body', 'ilike', 'Intrusion by token')]))
        # the same token does work on its own ticket
        response = self.url_open(
            '/mail/chatter_fetch',
            json={'params': {'thread_model': 'cabinet.ticket', 'thread_id': self.ticket_a.id, 'token': token_a}},
        )
        self.assertNotIn('error', response.json())

    def test_answer_without_adding_recipients(self):
        """The party answers from the portal; recipients it names are not added (no Cc)."""
        self.ticket_a.message_subscribe(partner_ids=self.contact_a.ids)
        self.authenticate('cab_portal', 'cab_portal')
        response = self.url_open(
            '/mail/message/post',
            json={
                'params': {
                    'thread_model': 'cabinet.ticket',
                    'thread_id': self.ticket_a.id,
                    'post_data': {
                        'body': "Here is the photo",
                        'message_type': 'comment',
                        'subtype_xmlid': 'mail.mt_comment',
                        'partner_ids': [self.contact_b.id, self.portal_b.partner_id.id],
                    },
                }
            },
        )
        self.assertNotIn('error', response.json(), response.text)
        message = self.env['mail.message'].search([('body', 'ilike', 'Here is the photo')])
        self.assertEqual(len(message), 1)
        self.assertEqual(message.author_id, self.portal_a.partner_id)
        self.assertEqual(message.model, 'cabinet.ticket')
        self.assertEqual(message.res_id, self.ticket_a.id)
        self.assertFalse(
            message.partner_ids & (self.contact_b | self.portal_b.partner_id),
            "no recipient of another party may be added from the portal",
        )
        self.assertFalse(self.ticket_a.message_partner_ids & (self.contact_b | self.portal_b.partner_id))
        notified = self.env['mail.notification'].search([('mail_message_id', '=', message.id)]).res_partner_id
        self.assertFalse(notified & (self.contact_b | self.portal_b.partner_id))
        # and the answer shows in the portal conversation
        response = self.url_open(
            '/mail/chatter_fetch', json={'params': {'thread_model': 'cabinet.ticket', 'thread_id': self.ticket_a.id}}
        )
        self.assertIn("Here is the photo", response.text)

    def test_home_counter(self):
        self.authenticate('cab_portal', 'cab_portal')
        response = self.url_open('/my/counters', json={'params': {'counters': ['cabinet_ticket_count']}})
        self.assertEqual(response.json()['result']['cabinet_ticket_count'], 1)
        response = self.url_open('/my')
        self.assertIn('/my/tickets/privacy', response.text)


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestPortalNewRequest(CabinetPortalCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.portal_a.partner_id.cabinet_privacy_ack_date = fields.Datetime.now()

    @mute_logger('odoo.http')
    def test_new_request_invalid_then_valid(self):
        self.authenticate('cab_portal', 'cab_portal')
        response = self.url_open('/my/tickets/new')
        self.assertEqual(response.status_code, 200)
        self.assertIn("Client Request", response.text)
        self.assertNotIn("HR Request", response.text, "internal request types are not offered on the portal")
        for field in ('name="category_id"', 'name="name"', 'name="description"', 'name="attachments"'):
            self.assertIn(field, response.text)
        csrf = self._csrf_from(response.text)
        response = self.url_open(
            '/my/tickets/new',
            data={
                'csrf_token': csrf,
                'name': '',
                'description': 'Kept text',
                'category_id': self.category_client.id,
                'partner_id': self.party_b.id,
            },
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn("Kept text", response.text)
        self.assertIn("Please give your request a subject.", response.text)
        response = self.url_open(
            '/my/tickets/new',
            data={
                'csrf_token': csrf,
                'name': 'Kept subject',
                'description': '',
                'category_id': self.category_hr.id,
            },
        )
        self.assertIn("Kept subject", response.text)
        self.assertIn("Please describe your request.", response.text)
        self.assertIn("Please choose a type of request.", response.text)
        self.assertFalse(self.env['cabinet.ticket'].search([('name', '=', 'Kept subject')]))
        response = self.url_open(
            '/my/tickets/new',
            data={
                'csrf_token': csrf,
                'name': 'Window broken',
                'description': 'Kitchen window <b>now</b>',
                'category_id': self.category_client.id,
                'partner_id': self.party_b.id,
                'commercial_partner_id': self.party_b.id,
            },
        )
        self.assertEqual(response.status_code, 200)
        ticket = self.env['cabinet.ticket'].search([('name', '=', 'Window broken')])
        self.assertEqual(len(ticket), 1)
        self.assertRecordValues(
            ticket,
            [
                {
                    'partner_id': self.portal_a.partner_id.id,
                    'commercial_partner_id': self.party_a.id,
                    'channel': 'portal',
                    'category_id': self.category_client.id,
                    'team_id': self.category_client.team_id.id,
                }
            ],
        )
        self.assertNotIn('<b>', ticket.description, "the description is plain text, escaped")
        self.assertIn(ticket.number, response.text)

    def test_new_request_without_csrf_refused(self):
        self.authenticate('cab_portal', 'cab_portal')
        with mute_logger('odoo.http'):
            response = self.url_open('/my/tickets/new', data={'name': 'No token', 'description': 'x'})
        self.assertEqual(response.status_code, 400)
        self.assertFalse(self.env['cabinet.ticket'].search([('name', '=', 'No token')]))

    def test_new_request_with_attachments(self):
        self.authenticate('cab_portal', 'cab_portal')
        csrf = self._csrf()
        response = self.url_open(
            '/my/tickets/new',
            data={
                'csrf_token': csrf,
                'name': 'Plans attached',
                'description': 'See the plans',
                'category_id': self.category_client.id,
            },
            files=[
                ('attachments', ('plan.pdf', b'%PDF-1.4 plan of the house', 'application/pdf')),
                ('attachments', ('evil.html', b'<script>alert(1)</script>', 'text/html')),
            ],
        )
        self.assertEqual(response.status_code, 200)
        ticket = self.env['cabinet.ticket'].search([('name', '=', 'Plans attached')])
        attachments = self.env['ir.attachment'].search(
            [('res_model', '=', 'cabinet.ticket'), ('res_id', '=', ticket.id)]
        )
        self.assertEqual(sorted(attachments.mapped('name')), ['evil.html', 'plan.pdf'])
        self.assertEqual(
            attachments.filtered(lambda a: a.name == 'evil.html').mimetype,
            'text/plain',
            "HTML sent by a client is never served as HTML",
        )
        message = ticket.message_ids.filtered(lambda m: m.attachment_ids)
        self.assertEqual(message.author_id, self.portal_a.partner_id)
        self.assertEqual(message.attachment_ids, attachments)
        self.assertFalse(message.is_internal, "the client sees its own documents in the conversation")

    def test_new_request_attachment_too_large(self):
        self.env['ir.config_parameter'].set_param('cabinet_helpdesk.max_attachment_size_mb', '1')
        self.authenticate('cab_portal', 'cab_portal')
        csrf = self._csrf()
        self.assertIn("files of 1 MB each", self.url_open('/my/tickets/new').text)
        response = self.url_open(
            '/my/tickets/new',
            data={
                'csrf_token': csrf,
                'name': 'Huge scan',
                'description': 'Kept description',
                'category_id': self.category_client.id,
            },
            files=[('attachments', ('scan.pdf', b'x' * (1024 * 1024 + 1), 'application/pdf'))],
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn("larger than 1 MB", response.text)
        self.assertIn("Huge scan", response.text)
        self.assertIn("Kept description", response.text)
        self.assertFalse(self.env['cabinet.ticket'].search([('name', '=', 'Huge scan')]))

    def test_new_request_privacy_acknowledgement(self):
        """Before a first request the notice is shown (GDPR art. 13: information, not consent);
        sending the request stores the date it was shown, and the box is not shown again."""
        partner = self.portal_b.partner_id
        self.assertFalse(partner.cabinet_privacy_ack_date)
        self.authenticate('cab_portal_b', 'cab_portal_b')
        response = self.url_open('/my/tickets/new')
        self.assertIn('o_cabinet_privacy_ack', response.text)
        self.assertIn('href="/my/tickets/privacy"', response.text)
        values = {
            'csrf_token': self._csrf_from(response.text),
            'name': 'First request',
            'description': 'Hello',
        }
        self.url_open('/my/tickets/new', data=values)
        ticket = self.env['cabinet.ticket'].search([('name', '=', 'First request')])
        self.assertEqual(len(ticket), 1, "The first request is filed")
        self.assertEqual(
            ticket.category_id,
            self.env['cabinet.category'].search([('portal_visible', '=', True)], limit=1),
            "Without a chosen type the request is a general one",
        )
        self.assertTrue(partner.cabinet_privacy_ack_date, "The date the notice was shown is kept")
        self.assertNotIn('o_cabinet_privacy_ack', self.url_open('/my/tickets/new').text)


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestPortalCloseRateReopen(CabinetPortalCase):
    def test_close_with_reason_and_rate(self):
        self.authenticate('cab_portal', 'cab_portal')
        csrf = self._csrf(f'/my/tickets/{self.ticket_a.id}')
        self.url_open(f'/my/tickets/{self.ticket_a.id}/close', data={'csrf_token': csrf, 'reason': 'All fixed'})
        self.assertTrue(self.ticket_a.is_closed)
        closing = self.ticket_a.message_ids.filtered(lambda m: "All fixed" in str(m.body))
        self.assertEqual(closing.author_id, self.portal_a.partner_id)
        rating = self.ticket_a.rating_ids
        self.assertEqual(len(rating), 1)
        self.assertRecordValues(
            rating,
            [
                {
                    'partner_id': self.portal_a.partner_id.id,
                    'consumed': False,
                    'parent_res_model': 'cabinet.team',
                    'parent_res_id': self.team_a.id,
                }
            ],
        )
        response = self.url_open(f'/my/tickets/{self.ticket_a.id}')
        self.assertIn(f'/rate/{rating.access_token}/5', response.text)
        # the rating module's page, then its form
        response = self.url_open(f'/rate/{rating.access_token}/5')
        self.assertEqual(response.status_code, 200)
        self.url_open(
            f'/rate/{rating.access_token}/submit_feedback',
            data={'csrf_token': self._csrf_from(response.text), 'rate': '5', 'feedback': 'Quick and clear'},
        )
        self.assertRecordValues(rating, [{'consumed': True, 'rating': 5.0, 'feedback': 'Quick and clear'}])
        self.assertEqual(self.ticket_a.rating_avg, 5.0)
        response = self.url_open(f'/my/tickets/{self.ticket_a.id}')
        self.assertIn("Thank you for your feedback.", response.text)
        self.assertNotIn(f'/rate/{rating.access_token}/', response.text)

    def test_token_visitor_logged_in_elsewhere_reads_only(self):
        """A link forwarded to someone of party B: B reads A's ticket, never signs, closes nor rates it."""
        token_a = self.ticket_a._portal_ensure_token()
        self.authenticate('cab_portal_b', 'cab_portal_b')
        url = f'/my/tickets/{self.ticket_a.id}?access_token={token_a}'
        response = self.url_open(url)
        self.assertIn("Roof leak of party A", response.text)
        self.assertNotIn("o_cabinet_ticket_close_form", response.text)
        response = self.url_open(
            f'/my/tickets/{self.ticket_a.id}/close',
            data={'csrf_token': self._csrf(), 'access_token': token_a, 'reason': 'Closed from a forwarded link'},
        )
        self.assertIn("lets you read the ticket only", response.text)
        self.assertFalse(self.ticket_a.is_closed)
        self.assertFalse(self.ticket_a.message_ids.filtered(lambda m: "forwarded link" in str(m.body)))
        self.ticket_a.action_close()
        self.assertNotIn('/rate/', self.url_open(url).text)
        self.assertFalse(self.ticket_a.rating_ids)
        self.assertNotIn(self.portal_b.partner_id, self.ticket_a.message_partner_ids)

    @mute_logger('odoo.http')
    def test_other_party_cannot_rate(self):
        self.ticket_a.action_close()
        token = self.ticket_a._rating_get_access_token()
        self.authenticate('cab_portal_b', 'cab_portal_b')
        response = self.url_open(f'/rate/{token}/1')
        self.assertIn("You cannot rate this", response.text)
        self.assertFalse(self.ticket_a.rating_ids.consumed)

    def test_reopen_within_period(self):
        self.ticket_a.action_close()
        self.authenticate('cab_portal', 'cab_portal')
        response = self.url_open(f'/my/tickets/{self.ticket_a.id}')
        self.assertIn("o_cabinet_ticket_reopen_form", response.text)
        self.url_open(
            f'/my/tickets/{self.ticket_a.id}/reopen',
            data={'csrf_token': self._csrf_from(response.text), 'reason': 'Still leaking'},
        )
        self.assertFalse(self.ticket_a.is_closed)
        self.assertFalse(self.ticket_a.closed_date)
        self.assertTrue(self.ticket_a.message_ids.filtered(lambda m: "Still leaking" in str(m.body)))

    def test_reopen_after_period_refused(self):
        self.ticket_a.action_close()
        self.ticket_a.closed_date = fields.Datetime.now() - timedelta(days=40)
        self.authenticate('cab_portal', 'cab_portal')
        response = self.url_open(f'/my/tickets/{self.ticket_a.id}')
        self.assertNotIn("o_cabinet_ticket_reopen_form", response.text)
        response = self.url_open(f'/my/tickets/{self.ticket_a.id}/reopen', data={'csrf_token': self._csrf()})
        self.assertIn("can no longer be reopened", response.text)
        self.assertTrue(self.ticket_a.is_closed)
        # a longer period set by the firm allows it again
        self.env['ir.config_parameter'].set_param('cabinet_helpdesk.portal_reopen_days', '60')
        self.assertTrue(self.ticket_a._portal_can_reopen())
        self.env['ir.config_parameter'].set_param('cabinet_helpdesk.portal_reopen_days', 'nonsense')
        self.assertEqual(self.ticket_a._portal_reopen_days(), 30)


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestPortalPrivacy(CabinetPortalCase):
    def test_privacy_notice_content_and_acknowledgement(self):
        self.category_client.write({'purpose': "Answer the client's question", 'legal_basis': 'contract'})
        self.authenticate('cab_portal', 'cab_portal')
        response = self.url_open('/my/tickets/privacy')
        self.assertEqual(response.status_code, 200)
        self.assertIn(self.env.company.name, response.text)
        self.assertIn("Answer the client&#39;s question", response.text)
        self.assertIn("Contract (art. 6(1)(b))", response.text)
        self.assertIn("%s months" % self.category_client.retention_policy_id.period_months, response.text)
        self.assertIn("You may ask to access, rectify or erase your data", response.text)
        self.assertNotIn("HR Request", response.text)
        self.url_open('/my/tickets/privacy/acknowledge', data={'csrf_token': self._csrf_from(response.text)})
        self.assertTrue(self.portal_a.partner_id.cabinet_privacy_ack_date)
        self.assertFalse(self.contact_a.cabinet_privacy_ack_date, "each person acknowledges for themselves")
        response = self.url_open(f'/my/tickets/{self.ticket_a.id}')
        self.assertIn('href="/my/tickets/privacy"', response.text)

    def test_download_my_data_own_party_only(self):
        attachment_b = self.env['ir.attachment'].create(
            {
                'name': 'plan_of_b.txt',
                'raw': b'PLAN OF PARTY B',
                'res_model': 'cabinet.ticket',
                'res_id': self.ticket_b.id,
            }
        )
        self.ticket_b.message_post(
            body="Answer for B only",
            attachment_ids=attachment_b.ids,
            message_type='comment',
            subtype_xmlid='mail.mt_comment',
        )
        self.ticket_a.message_post(body="Answer for A", message_type='comment', subtype_xmlid='mail.mt_comment')
        self.authenticate('cab_portal', 'cab_portal')
        response = self.url_open('/my/tickets/privacy')
        self.assertIn("Download my data", response.text)
        response = self.url_open('/my/tickets/privacy/export', data={'csrf_token': self._csrf_from(response.text)})
        self.assertEqual(response.status_code, 200)
        self.assertIn('attachment', response.headers.get('Content-Disposition', ''))
        with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
            names = archive.namelist()
            content = b''.join(archive.read(name) for name in names if not name.endswith('.pdf'))
        self.assertIn(self.ticket_a.number.encode(), content)
        self.assertIn(b'Answer for A', content)
        for secret in (
            self.ticket_b.number,
            "Secret dispute",
            "Private answer",
            "Answer for B only",
            "PLAN OF PARTY B",
            "plan_of_b",
            "Bob B",
            "Party B Ltd",
        ):
            self.assertNotIn(secret.encode(), content, "party A's export holds nothing of party B")
        self.assertFalse([name for name in names if self.ticket_b.number in name])

    def test_download_my_data_needs_post_and_login(self):
        with mute_logger('odoo.http'):
            response = self.url_open('/my/tickets/privacy/export', allow_redirects=False)
            self.assertNotEqual(response.status_code, 200)
            self.authenticate('cab_portal', 'cab_portal')
            response = self.url_open('/my/tickets/privacy/export')
            self.assertEqual(response.status_code, 405, "a download writes an export: POST only")
            response = self.url_open('/my/tickets/privacy/export', data={'download': '1'})
            self.assertEqual(response.status_code, 400, "CSRF token required")

    def test_privacy_notice_public_from_ticket_link(self):
        response = self.url_open('/my/tickets/privacy')
        self.assertEqual(response.status_code, 200)
        self.assertIn("Purposes, legal bases and retention", response.text)
        self.assertNotIn("Download my data", response.text)

    def test_default_notice_translated(self):
        company = self.env['res.company'].create({'name': "Second Firm"})
        for record in (self.env.ref('base.main_company'), company):
            self.env.flush_all()
            value = self.env.execute_query(
                SQL("SELECT cabinet_privacy_notice FROM res_company WHERE id = %s", record.id)
            )[0][0]
            self.assertIn("supervisory authority", value['en_US'])
            self.assertIn("autorité de contrôle", value['fr_FR'])
            self.assertIn("Aufsichtsbehörde", value['de_DE'])

    def test_settings(self):
        ICP = self.env['ir.config_parameter']
        settings = self.env['res.config.settings'].create({})
        self.assertEqual(settings.cabinet_portal_reopen_days, 30)
        self.assertEqual(settings.cabinet_max_attachment_size_mb, 20)
        self.assertIn("supervisory authority", settings.cabinet_privacy_notice)
        self.env['res.config.settings'].create(
            {
                'cabinet_portal_reopen_days': 45,
                'cabinet_max_attachment_size_mb': 5,
                'cabinet_privacy_notice': "<p>Notice of the firm</p>",
            }
        ).execute()
        self.assertEqual(ICP.get_param('cabinet_helpdesk.portal_reopen_days'), '45')
        self.assertEqual(ICP.get_param('cabinet_helpdesk.max_attachment_size_mb'), '5')
        self.assertEqual(self.env['cabinet.ticket']._portal_reopen_days(), 45)
        self.assertEqual(self.env.company.cabinet_privacy_notice, "<p>Notice of the firm</p>")

    def test_firm_notice_kept_on_update(self):
        company = self.env['res.company'].create(
            {'name': "Third Firm", 'cabinet_privacy_notice': "<p>Our own notice</p>"}
        )
        self.env['res.company']._cabinet_install_privacy_notice()
        self.env.flush_all()
        value = self.env.execute_query(SQL("SELECT cabinet_privacy_notice FROM res_company WHERE id = %s", company.id))[
            0
        ][0]
        self.assertEqual(value, {'en_US': "<p>Our own notice</p>"})


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestPortalListPerformance(CabinetFactories, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_cabinet_data()
        Ticket = cls.env['cabinet.ticket'].with_context(tracking_disable=True, mail_notrack=True)
        Ticket.create(
            [{'name': f"Own {i}", 'partner_id': cls.contact_a.id, 'team_id': cls.team_a.id} for i in range(50)]
        )
        cls.template_other = Ticket.create(
            {'name': "Other template", 'partner_id': cls.contact_b.id, 'team_id': cls.team_b.id}
        )

    def _add_other_tickets(self, count):
        """Copy the template ticket of party B ``count`` times, in one SQL statement."""
        self.env.flush_all()
        columns = [
            name
            for (name,) in self.env.execute_query(
                SQL("SELECT column_name FROM information_schema.columns WHERE table_name = 'cabinet_ticket'")
            )
            if name not in ('id', 'name', 'number')
        ]
        start = self.env['cabinet.ticket'].search_count([])
        self.env.execute_query(
            SQL(
                """INSERT INTO cabinet_ticket (name, number, %(columns)s)
               SELECT 'Other ' || g, 'X' || (g + %(start)s), %(columns)s
                 FROM cabinet_ticket, generate_series(1, %(count)s) AS g
                WHERE cabinet_ticket.id = %(template)s""",
                columns=SQL(", ").join(SQL.identifier(column) for column in columns),
                start=start,
                count=count,
                template=self.template_other.id,
            )
        )

    def test_list_query_count_independent_of_other_parties(self):
        self._add_other_tickets(1000)
        self.authenticate('cab_portal', 'cab_portal')
        self.url_open('/my/tickets')
        with self.assertQueryCount(LIST_QUERIES):
            response = self.url_open('/my/tickets')
        self.assertIn("Own 49", response.text)
        self.assertNotIn("Other ", response.text)
        own = self.env['cabinet.ticket'].search([('name', '=', "Own 7")])
        self.url_open(f'/my/tickets/{own.id}')
        with self.assertQueryCount(TICKET_QUERIES):
            response = self.url_open(f'/my/tickets/{own.id}')
        self.assertIn("Own 7", response.text)
        self._add_other_tickets(9000)
        self.assertGreaterEqual(self.env['cabinet.ticket'].search_count([]), 10050)
        self.url_open('/my/tickets')
        with self.assertQueryCount(LIST_QUERIES):
            response = self.url_open('/my/tickets')
        self.assertIn("Own 49", response.text)
        self.assertNotIn("Other ", response.text)

    def test_ticket_page_query_count_closed_and_signed_link(self):
        """The page of a closed ticket (rating form, reopen form) and the page opened by a link
        signed for the requester, without session, stay as cheap as an open ticket's page."""
        own = self.env['cabinet.ticket'].search([('name', '=', "Own 3")])
        own.action_close()
        self.authenticate('cab_portal', 'cab_portal')
        self.url_open(f'/my/tickets/{own.id}')
        with self.assertQueryCount(CLOSED_TICKET_QUERIES):
            response = self.url_open(f'/my/tickets/{own.id}')
        self.assertIn('o_cabinet_rating_request', response.text)
        self.assertIn('o_cabinet_ticket_reopen_form', response.text)
        other = self.env['cabinet.ticket'].search([('name', '=', "Own 4")])
        link = other._get_share_url(pid=self.contact_a.id)
        self.authenticate(None, None)
        self.url_open(link)
        with self.assertQueryCount(SIGNED_TICKET_QUERIES):
            response = self.url_open(link)
        self.assertIn("Own 4", response.text)
        self.assertIn('o_cabinet_ticket_close_form', response.text, "The signed link's partner acts on the ticket")


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestPortalTour(CabinetFactories, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_cabinet_data()

    def test_portal_tour(self):
        self.env['ir.config_parameter'].set_param('cabinet_helpdesk.max_attachment_size_mb', '1')
        self.start_tour('/my/tickets', 'cabinet_portal_tour', login='cab_portal')
        ticket = self.env['cabinet.ticket'].search([('name', '=', "Cracks in the kitchen wall")])
        self.assertEqual(len(ticket), 1)
        self.assertRecordValues(
            ticket,
            [
                {
                    'partner_id': self.portal_a.partner_id.id,
                    'channel': 'portal',
                    'is_closed': True,
                    'category_id': self.category_client.id,
                }
            ],
        )
        self.assertEqual(ticket.message_ids.attachment_ids.mapped('name'), ['crack_report.txt'])
        self.assertTrue(
            ticket.message_ids.filtered(
                lambda m: "The crack is now 3 mm wide." in str(m.body) and m.author_id == self.portal_a.partner_id
            )
        )
        self.assertTrue(ticket.message_ids.filtered(lambda m: "Repaired by the builder" in str(m.body)))
        self.assertTrue(self.portal_a.partner_id.cabinet_privacy_ack_date)
