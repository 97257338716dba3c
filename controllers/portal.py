# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from odoo import http
from odoo.exceptions import AccessError, MissingError
from odoo.fields import Domain
from odoo.http import request
from odoo.tools import plaintext2html

from odoo.addons.portal.controllers.portal import CustomerPortal, pager as portal_pager


class CabinetCustomerPortal(CustomerPortal):

    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if 'cabinet_ticket_count' in counters:
            Ticket = request.env['cabinet.ticket']
            values['cabinet_ticket_count'] = Ticket.search_count([]) if Ticket.has_access('read') else 0
        return values

    def _cabinet_ticket_sortings(self):
        return {
            'date': {'label': request.env._("Last update"), 'order': 'write_date desc, id desc'},
            'number': {'label': request.env._("Number"), 'order': 'number desc, id desc'},
            'name': {'label': request.env._("Subject"), 'order': 'name, id'},
            'stage': {'label': request.env._("Status"), 'order': 'stage_id, id desc'},
        }

    def _cabinet_ticket_filters(self):
        waiting = request.env.ref('cabinet_helpdesk.cabinet_stage_waiting', raise_if_not_found=False)
        return {
            'all': {'label': request.env._("All"), 'domain': []},
            'open': {'label': request.env._("Open"), 'domain': [('is_closed', '=', False)]},
            'closed': {'label': request.env._("Closed"), 'domain': [('is_closed', '=', True)]},
            'waiting': {'label': request.env._("Waiting for me"),
                        'domain': [('stage_id', '=', waiting.id if waiting else False)]},
        }

    @http.route(['/my/tickets', '/my/tickets/page/<int:page>'], type='http', auth='user',
                methods=['GET'], website=True, sitemap=False, readonly=True)
    def portal_my_tickets(self, page=1, sortby='date', filterby='all', search=None, **kw):
        Ticket = request.env['cabinet.ticket']
        sortings = self._cabinet_ticket_sortings()
        filters = self._cabinet_ticket_filters()
        sortby = sortby if sortby in sortings else 'date'
        filterby = filterby if filterby in filters else 'all'
        domain = Domain(filters[filterby]['domain'])
        if search:
            domain &= Domain('number', 'ilike', search) | Domain('name', 'ilike', search)
        count = Ticket.search_count(domain)
        pager = portal_pager(
            url='/my/tickets', total=count, page=page, step=self._items_per_page,
            url_args={'sortby': sortby, 'filterby': filterby, 'search': search or ''},
        )
        tickets = Ticket.search(domain, order=sortings[sortby]['order'],
                                limit=self._items_per_page, offset=pager['offset'])
        values = self._prepare_portal_layout_values()
        values.update({
            'tickets': tickets, 'page_name': 'cabinet_ticket', 'pager': pager,
            'default_url': '/my/tickets', 'searchbar_sortings': sortings, 'sortby': sortby,
            'searchbar_filters': filters, 'filterby': filterby, 'search': search or '',
        })
        return request.render('cabinet_helpdesk.portal_my_tickets', values)

    def _cabinet_ticket_page_values(self, ticket_sudo, access_token=None, **kw):
        values = self._get_page_view_values(
            ticket_sudo, access_token, {'ticket': ticket_sudo, 'page_name': 'cabinet_ticket'},
            'my_tickets_history', False, **kw)
        values['message'] = kw.get('message')
        return values

    @http.route('/my/tickets/<int:ticket_id>', type='http', auth='public', methods=['GET'],
                website=True, sitemap=False)
    def portal_my_ticket(self, ticket_id, access_token=None, **kw):
        try:
            ticket_sudo = self._document_check_access('cabinet.ticket', ticket_id, access_token)
        except (AccessError, MissingError):
            return request.not_found()
        return request.render('cabinet_helpdesk.portal_my_ticket',
                              self._cabinet_ticket_page_values(ticket_sudo, access_token, **kw))

    @http.route('/my/tickets/<int:ticket_id>/close', type='http', auth='public', methods=['POST'],
                website=True, sitemap=False)
    def portal_ticket_close(self, ticket_id, access_token=None, reason=None, **kw):
        try:
            ticket_sudo = self._document_check_access('cabinet.ticket', ticket_id, access_token)
        except (AccessError, MissingError):
            return request.not_found()
        if not ticket_sudo.is_closed:
            reason = (reason or '').strip()
            ticket_sudo.action_close()
            author = request.env.user.partner_id if not request.env.user._is_public() else ticket_sudo.partner_id
            body = request.env._("Closed by the client.")
            if reason:
                body = request.env._("Closed by the client: %(reason)s", reason=reason)
            ticket_sudo.message_post(body=body, author_id=author.id, message_type='comment',
                                     subtype_xmlid='mail.mt_note')
        url = ticket_sudo.get_portal_url()
        return request.redirect(url)

    # ------------------------------------------------------------
    # New request
    # ------------------------------------------------------------

    def _cabinet_portal_categories(self):
        return request.env['cabinet.category'].sudo().search([('portal_visible', '=', True)])

    def _cabinet_ticket_form_parse(self, post):
        """Return ``(values, errors)`` from the posted form; never trusts a party field."""
        errors = {}
        values = {
            'name': (post.get('name') or '').strip(),
            'description': (post.get('description') or '').strip(),
            'category_id': post.get('category_id') or '',
        }
        if not values['name']:
            errors['name'] = request.env._("Please give your request a subject.")
        elif len(values['name']) > 200:
            errors['name'] = request.env._("The subject is too long (200 characters at most).")
        if not values['description']:
            errors['description'] = request.env._("Please describe your request.")
        categories = self._cabinet_portal_categories()
        category = categories.filtered(lambda c: str(c.id) == str(values['category_id']))
        if categories and not category:
            errors['category_id'] = request.env._("Please choose a type of request.")
        return values, category, errors

    def _cabinet_ticket_form_render(self, values=None, errors=None):
        render_values = self._prepare_portal_layout_values()
        render_values.update({
            'page_name': 'cabinet_ticket_new',
            'categories': self._cabinet_portal_categories(),
            'form_values': values or {},
            'errors': errors or {},
        })
        return request.render('cabinet_helpdesk.portal_ticket_form', render_values)

    @http.route('/my/tickets/new', type='http', auth='user', methods=['GET', 'POST'],
                website=True, sitemap=False)
    def portal_ticket_new(self, **post):
        if request.httprequest.method == 'GET':
            return self._cabinet_ticket_form_render()
        values, category, errors = self._cabinet_ticket_form_parse(post)
        if errors:
            return self._cabinet_ticket_form_render(values, errors)
        partner = request.env.user.partner_id
        ticket_vals = {
            'name': values['name'],
            'description': plaintext2html(values['description']),
            'partner_id': partner.id,
            'channel': 'portal',
        }
        if category:
            ticket_vals['category_id'] = category.id
            if category.team_id:
                ticket_vals['team_id'] = category.team_id.id
        ticket = request.env['cabinet.ticket'].sudo().create(ticket_vals)
        return request.redirect(ticket.access_url)
