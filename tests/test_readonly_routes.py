# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
import threading
from unittest.mock import patch

from odoo.http import request
from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from odoo.addons.base.models.ir_qweb import IrQweb

from ..controllers.portal import CabinetCustomerPortal
from .common import CabinetFactories

# Pages of the module served on a read-only cursor (a read replica when ``db_replica_host`` is
# set): GET routes that only read
READONLY_ROUTES = ('/my/tickets', '/my/tickets/page/<int:page>', '/my/tickets/new', '/my/tickets/privacy')
# GET routes that may write, kept on the primary: the ticket page may create its author's rating
# token of a closed ticket (rating.mixin._rating_get_access_token)
READWRITE_ROUTES = ('/my/tickets/<int:ticket_id>',)


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestReadonlyRoutes(CabinetFactories, HttpCase):
    """The read-only routes and the module's reports really run on a read-only cursor: a route
    whose code writes would fail there and be served again on a read/write cursor (Odoo's retry,
    logged as a warning), which these tests detect."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_cabinet_data()
        cls.ticket_a = cls._create_ticket(cls.contact_a, name="Roof leak of party A")
        cls.ticket_closed = cls._create_ticket(cls.contact_a, name="Closed question of party A")
        cls.ticket_closed.action_close()

    def _routing(self, path):
        """Routing of the module's endpoint serving ``path`` (a werkzeug rule string)."""
        with patch.object(threading.current_thread(), 'dbname', self.env.cr.dbname, create=True):
            rules = list(self.env['ir.http'].routing_map().iter_rules())
        for rule in rules:
            if rule.rule == path and 'cabinet_helpdesk' in rule.endpoint.func.__module__:
                return rule.endpoint.routing
        self.fail(f"no route of the module for {path}")

    def _get_readonly(self, url, expected_text=None):
        """GET ``url``: it renders, only on read-only cursors, with no retry on a read/write one."""
        cursors = []
        render = IrQweb._render

        def spy_render(qweb, template, values=None, **options):
            cursors.append(qweb.env.cr.readonly)
            return render(qweb, template, values, **options)

        with (
            patch.object(IrQweb, '_render', spy_render),
            self.assertNoLogs('odoo.http', level='WARNING'),
        ):
            response = self.url_open(url)
        self.assertEqual(response.status_code, 200, url)
        if expected_text:
            self.assertIn(expected_text, response.text, url)
        self.assertTrue(cursors, f"{url} renders a template")
        self.assertTrue(all(cursors), f"{url} is served on a read-only cursor only, without retry")
        return response

    def test_routes_flagged(self):
        for path in READONLY_ROUTES:
            self.assertIs(self._routing(path)['readonly'], True, path)
        for path in READWRITE_ROUTES:
            self.assertFalse(self._routing(path)['readonly'], path)

    def test_portal_pages_readonly(self):
        self._get_readonly('/my/tickets/privacy', "privacy")
        self.authenticate('cab_portal', 'cab_portal')
        self._get_readonly('/my/tickets', "Roof leak of party A")
        self._get_readonly('/my/tickets/page/1?filterby=closed&sortby=number', "Closed question of party A")
        self._get_readonly('/my/tickets?search=leak&search_in=name', "Roof leak of party A")
        self._get_readonly('/my/tickets/new')
        self._get_readonly('/my/tickets/privacy', "privacy")

    def test_reports_readonly(self):
        """The module's reports, rendered by the web client's read-only report route, write
        nothing."""
        self.authenticate('cab_manager', 'cab_manager')
        for report, records in (
            ('cabinet_helpdesk.report_ticket_dossier', self.ticket_a | self.ticket_closed),
            ('cabinet_helpdesk.report_team_analytics', self.team_a),
            ('cabinet_helpdesk.report_record_of_processing', self.category_client),
        ):
            ids = ','.join(str(record_id) for record_id in records.ids)
            self._get_readonly(f'/report/html/{report}/{ids}')

    def test_detects_a_write(self):
        """A read-only route whose code writes is caught by these checks."""
        sortings = CabinetCustomerPortal._cabinet_ticket_sortings

        def writing_sortings(controller):
            # a careless write of the visitor's own contact
            request.env.user.partner_id.sudo().comment = "visited"
            return sortings(controller)

        self.authenticate('cab_portal', 'cab_portal')
        with (
            patch.object(CabinetCustomerPortal, '_cabinet_ticket_sortings', writing_sortings),
            mute_logger('odoo.http'),
            self.assertRaises(AssertionError),
        ):
            self._get_readonly('/my/tickets')
