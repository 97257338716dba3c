# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
"""Load test scenario of cabinet_helpdesk for locust (run by tools/loadtest.sh against a local
server on a benchmark database built by tools/datagen.py).

Two kinds of users:

* a portal client of the 50-ticket party (login ``bench_portal``): the ticket list, a ticket page;
* a team user (login ``bench_user_0``, record rules apply): the backend list of 80 tickets through
  JSON-RPC (``/web/dataset/call_kw`` ``web_search_read`` with the list view's fields).
"""

import os
import random
import re
import xml.etree.ElementTree as ET

from locust import HttpUser, between, task

PORTAL_LOGIN = 'bench_portal'
PORTAL_PASSWORD = 'bench-portal-pw'
STAFF_LOGIN = 'bench_user_0'
STAFF_PASSWORD = 'bench-staff-pw'
DATABASE = os.environ.get('CABINET_LOAD_DB', '')


class PortalClient(HttpUser):
    weight = 3
    wait_time = between(0.2, 1.0)

    def on_start(self):
        page = self.client.get('/web/login', name='login page').text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        self.client.post(
            '/web/login',
            data={'login': PORTAL_LOGIN, 'password': PORTAL_PASSWORD, 'csrf_token': token, 'db': DATABASE},
            name='login',
        )
        listing = self.client.get('/my/tickets', name='portal list (login)').text
        self.ticket_ids = sorted(set(re.findall(r'/my/tickets/(\d+)', listing))) or ['0']

    @task(2)
    def portal_list(self):
        self.client.get('/my/tickets', name='portal list')

    @task(3)
    def portal_ticket(self):
        self.client.get(f'/my/tickets/{random.choice(self.ticket_ids)}', name='portal ticket page')


class TeamUser(HttpUser):
    weight = 2
    wait_time = between(0.2, 1.0)

    def rpc(self, url, params, name):
        response = self.client.post(
            url, json={'jsonrpc': '2.0', 'method': 'call', 'id': 1, 'params': params}, name=name, catch_response=True
        )
        with response:
            body = response.json() if response.ok else {}
            if 'error' in body or not response.ok:
                response.failure(str(body.get('error', response.status_code))[:200])
            return body.get('result')

    def call_kw(self, model, method, args, kwargs, name):
        return self.rpc(
            f'/web/dataset/call_kw/{model}/{method}',
            {'model': model, 'method': method, 'args': args, 'kwargs': kwargs},
            name,
        )

    def on_start(self):
        self.rpc(
            '/web/session/authenticate',
            {'db': DATABASE, 'login': STAFF_LOGIN, 'password': STAFF_PASSWORD},
            'backend login',
        )
        views = self.call_kw('cabinet.ticket', 'get_views', [], {'views': [[False, 'list']]}, 'get_views (login)')
        arch = views['views']['list']['arch']
        fields = views['models']['cabinet.ticket']['fields']
        self.specification = {}
        for node in ET.fromstring(arch).iter('field'):
            name = node.get('name')
            kind = fields.get(name, {}).get('type')
            if kind in ('many2one', 'many2many'):
                self.specification[name] = {'fields': {'display_name': {}}}
            elif kind and kind != 'one2many':
                self.specification[name] = {}

    @task
    def backend_list(self):
        self.call_kw(
            'cabinet.ticket',
            'web_search_read',
            [],
            {'domain': [], 'specification': self.specification, 'limit': 80, 'count_limit': 10001},
            'backend list 80 (web_search_read)',
        )
