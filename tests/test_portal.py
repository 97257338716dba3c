# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from .common import CabinetFactories

# measured: portal list of 20 tickets, same with 100 or 2,000 tickets of other parties
LIST_QUERIES = 11


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestPortalIsolation(CabinetFactories, HttpCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_cabinet_data()
        cls.ticket_a = cls._create_ticket(cls.contact_a, name="Roof leak of party A")
        cls.ticket_b = cls._create_ticket(cls.contact_b, name="Secret dispute of party B")
        cls.category_client.portal_visible = True

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

    def test_list_search_and_filters(self):
        self.authenticate('cab_portal', 'cab_portal')
        response = self.url_open('/my/tickets?search=%s' % self.ticket_a.number)
        self.assertIn("Roof leak of party A", response.text)
        response = self.url_open('/my/tickets?filterby=closed')
        self.assertNotIn("Roof leak of party A", response.text)
        response = self.url_open('/my/tickets?filterby=open&sortby=number')
        self.assertIn("Roof leak of party A", response.text)

    @mute_logger('odoo.addons.base.models.ir_rule', 'odoo.http')
    def test_detail_other_party_not_found(self):
        self.authenticate('cab_portal', 'cab_portal')
        response = self.url_open(f'/my/tickets/{self.ticket_a.id}')
        self.assertEqual(response.status_code, 200)
        self.assertIn("Roof leak of party A", response.text)
        for url in (f'/my/tickets/{self.ticket_b.id}', '/my/tickets/999999999'):
            response = self.url_open(url)
            self.assertEqual(response.status_code, 404)
            self.assertNotIn("Secret dispute", response.text)
        response = self.url_open(f'/my/tickets/{self.ticket_b.id}/close', data={
            'reason': 'x'})
        self.assertFalse(self.ticket_b.is_closed)

    @mute_logger('odoo.http')
    def test_access_token(self):
        token_a = self.ticket_a._portal_ensure_token()
        self.ticket_b._portal_ensure_token()
        response = self.url_open(f'/my/tickets/{self.ticket_a.id}?access_token={token_a}')
        self.assertEqual(response.status_code, 200)
        self.assertIn("Roof leak of party A", response.text)
        response = self.url_open(f'/my/tickets/{self.ticket_b.id}?access_token={token_a}')
        self.assertEqual(response.status_code, 404)
        self.assertNotIn("Secret dispute", response.text)

    @mute_logger('odoo.http')
    def test_new_request_invalid_then_valid(self):
        self.authenticate('cab_portal', 'cab_portal')
        response = self.url_open('/my/tickets/new')
        self.assertEqual(response.status_code, 200)
        csrf = self._csrf_from(response.text)
        response = self.url_open('/my/tickets/new', data={
            'csrf_token': csrf, 'name': '', 'description': 'Kept text', 'category_id': self.category_client.id,
            'partner_id': self.party_b.id,
        })
        self.assertEqual(response.status_code, 200)
        self.assertIn("Kept text", response.text)
        self.assertIn("Please give your request a subject.", response.text)
        response = self.url_open('/my/tickets/new', data={
            'csrf_token': csrf, 'name': 'Window broken', 'description': 'Kitchen window',
            'category_id': self.category_client.id, 'partner_id': self.party_b.id,
        })
        self.assertEqual(response.status_code, 200)
        ticket = self.env['cabinet.ticket'].search([('name', '=', 'Window broken')])
        self.assertEqual(len(ticket), 1)
        self.assertEqual(ticket.partner_id, self.portal_a.partner_id)
        self.assertEqual(ticket.commercial_partner_id, self.party_a)
        self.assertEqual(ticket.channel, 'portal')
        self.assertIn(ticket.number, response.text)

    def test_new_request_without_csrf_refused(self):
        self.authenticate('cab_portal', 'cab_portal')
        with mute_logger('odoo.http'):
            response = self.url_open('/my/tickets/new', data={'name': 'No token', 'description': 'x'})
        self.assertEqual(response.status_code, 400)
        self.assertFalse(self.env['cabinet.ticket'].search([('name', '=', 'No token')]))

    def test_close_with_reason(self):
        self.authenticate('cab_portal', 'cab_portal')
        response = self.url_open(f'/my/tickets/{self.ticket_a.id}')
        csrf = self._csrf_from(response.text)
        self.url_open(f'/my/tickets/{self.ticket_a.id}/close', data={'csrf_token': csrf, 'reason': 'All fixed'})
        self.assertTrue(self.ticket_a.is_closed)
        self.assertTrue(any("All fixed" in str(m.body) for m in self.ticket_a.message_ids))

    @mute_logger('odoo.http', 'odoo.addons.base.models.ir_rule')
    def test_other_party_attachment_not_downloadable(self):
        attachment = self.env['ir.attachment'].create({
            'name': 'contract_b.txt', 'raw': b'SECRET CONTRACT OF B',
            'res_model': 'cabinet.ticket', 'res_id': self.ticket_b.id,
        })
        attachment.generate_access_token()
        token_a = self.ticket_a._portal_ensure_token()
        self.authenticate('cab_portal', 'cab_portal')
        for url in (f'/web/content/{attachment.id}',
                    f'/web/content/{attachment.id}?access_token={token_a}',
                    f'/web/content/{attachment.id}?download=true'):
            response = self.url_open(url)
            self.assertIn(response.status_code, (403, 404))
            self.assertNotIn(b'SECRET CONTRACT', response.content)

    def test_home_counter(self):
        self.authenticate('cab_portal', 'cab_portal')
        response = self.url_open('/my/counters', json={'params': {'counters': ['cabinet_ticket_count']}})
        self.assertEqual(response.json()['result']['cabinet_ticket_count'], 1)

    def _csrf_from(self, html):
        import re
        return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestPortalListPerformance(CabinetFactories, HttpCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_cabinet_data()
        Ticket = cls.env['cabinet.ticket']
        Ticket.create([{'name': f"Own {i}", 'partner_id': cls.contact_a.id, 'team_id': cls.team_a.id}
                       for i in range(50)])
        cls.others_small = [{'name': f"Other {i}", 'partner_id': cls.contact_b.id, 'team_id': cls.team_b.id}
                            for i in range(100)]

    def test_list_query_count_independent_of_other_parties(self):
        self.env['cabinet.ticket'].create(self.others_small)
        self.authenticate('cab_portal', 'cab_portal')
        self.url_open('/my/tickets')
        with self.assertQueryCount(LIST_QUERIES):
            response = self.url_open('/my/tickets')
        self.assertIn("Own 49", response.text)
        self.assertNotIn("Other ", response.text)
        self.env['cabinet.ticket'].create([
            {'name': f"Other big {i}", 'partner_id': self.contact_b.id, 'team_id': self.team_b.id}
            for i in range(1900)])
        self.url_open('/my/tickets')
        with self.assertQueryCount(LIST_QUERIES):
            response = self.url_open('/my/tickets')
        self.assertIn("Own 49", response.text)
        self.assertNotIn("Other ", response.text)
