# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
import re

from werkzeug.exceptions import NotFound
from werkzeug.urls import url_encode

from odoo import fields, http
from odoo.exceptions import AccessError, MissingError, UserError
from odoo.fields import Domain
from odoo.http import request

from odoo.addons.mail.controllers.thread import ThreadController
from odoo.addons.portal.controllers.message_reaction import PortalMessageReactionController
from odoo.addons.portal.controllers.portal import CustomerPortal, pager as portal_pager
from odoo.addons.portal.controllers.portal_thread import PortalChatter
from odoo.addons.portal.controllers.thread import PortalThreadController
from odoo.addons.rating.controllers.main import Rating
from odoo.addons.rating.models.rating_data import RATING_HAPPY_VALUE, RATING_NEUTRAL_VALUE, RATING_UNHAPPY_VALUE

MAX_ATTACHMENTS = 10
SUBJECT_MAX_LENGTH = 200
SEARCH_MAX_LENGTH = 200
REASON_MAX_LENGTH = 500
# control characters PostgreSQL refuses (NUL) or nobody types (tab and line breaks are kept)
CONTROL_CHARACTERS = re.compile(r'[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]')


def clean_text(value, max_length=None):
    """A request parameter as clean text: a string without control characters (NUL above all,
    which the database refuses), cut to ``max_length``; anything else (missing, a list, a file)
    gives an empty string."""
    if not isinstance(value, str):
        return ''
    value = CONTROL_CHARACTERS.sub('', value)
    return value[:max_length] if max_length else value


def ticket_thread_author(thread_model, thread_id, kwargs):
    """The partner who may act on a ticket's portal thread (see
    ``cabinet.ticket._portal_access``); an empty recordset for a visitor who may only read
    it, or for another model's thread (``None``)."""
    if thread_model != 'cabinet.ticket':
        return None
    return request.env['cabinet.ticket']._portal_access(
        int(thread_id), access_token=kwargs.get('token'), pid=kwargs.get('pid'), hash=kwargs.get('hash')
    )[1]


class CabinetCustomerPortal(CustomerPortal):
    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if 'cabinet_ticket_count' in counters:
            Ticket = request.env['cabinet.ticket']
            values['cabinet_ticket_count'] = Ticket.search_count([]) if Ticket.has_access('read') else 0
        return values

    # ------------------------------------------------------------
    # Ticket list
    # ------------------------------------------------------------

    def _cabinet_ticket_sortings(self):
        return {
            'date': {'label': request.env._("Last update"), 'order': 'write_date desc, id desc'},
            'number': {'label': request.env._("Number"), 'order': 'number desc, id desc'},
            'name': {'label': request.env._("Subject"), 'order': 'name, id'},
            'stage': {'label': request.env._("Status"), 'order': 'stage_id, id desc'},
            'priority': {'label': request.env._("Priority"), 'order': 'priority desc, id desc'},
        }

    def _cabinet_waiting_stage(self):
        """The stage where the firm waits for the party's answer."""
        # no existence check: the stage is only compared with tickets' stages
        return request.env['cabinet.stage'].browse(
            request.env['ir.model.data']._xmlid_to_res_id(
                'cabinet_helpdesk.cabinet_stage_waiting', raise_if_not_found=False
            )
        )

    def _cabinet_ticket_filters(self, waiting):
        return {
            'all': {'label': request.env._("All"), 'domain': []},
            'open': {'label': request.env._("Open"), 'domain': [('is_closed', '=', False)]},
            'waiting': {'label': request.env._("Waiting for me"), 'domain': [('stage_id', 'in', waiting.ids)]},
            'closed': {'label': request.env._("Closed"), 'domain': [('is_closed', '=', True)]},
        }

    def _cabinet_ticket_search_inputs(self):
        return {
            'all': {'input': 'all', 'label': request.env._("Number or subject")},
            'number': {'input': 'number', 'label': request.env._("Search in number")},
            'name': {'input': 'name', 'label': request.env._("Search in subject")},
        }

    def _cabinet_ticket_search_domain(self, search, search_in):
        if not search:
            return Domain.TRUE
        if search_in == 'number':
            return Domain('number', 'ilike', search)
        if search_in == 'name':
            return Domain('name', 'ilike', search)
        return Domain('number', 'ilike', search) | Domain('name', 'ilike', search)

    @http.route(
        ['/my/tickets', '/my/tickets/page/<int:page>'],
        type='http',
        auth='user',
        methods=['GET'],
        website=True,
        sitemap=False,
        readonly=True,
    )
    def portal_my_tickets(self, page=1, sortby='date', filterby='all', search=None, search_in='all', **kw):
        Ticket = request.env['cabinet.ticket']
        sortings = self._cabinet_ticket_sortings()
        waiting = self._cabinet_waiting_stage()
        filters = self._cabinet_ticket_filters(waiting)
        inputs = self._cabinet_ticket_search_inputs()
        sortby = sortby if sortby in sortings else 'date'
        filterby = filterby if filterby in filters else 'all'
        search_in = search_in if search_in in inputs else 'all'
        search = clean_text(search, SEARCH_MAX_LENGTH).strip()
        page = int(page) if str(page).isdigit() else 1
        # record rules limit the list to the user's own party
        domain = Domain(filters[filterby]['domain']) & self._cabinet_ticket_search_domain(search, search_in)
        count = Ticket.search_count(domain)
        pager = portal_pager(
            url='/my/tickets',
            total=count,
            page=page,
            step=self._items_per_page,
            url_args={'sortby': sortby, 'filterby': filterby, 'search': search, 'search_in': search_in},
        )
        tickets = Ticket.search_fetch(
            domain,
            ['number', 'name', 'priority', 'write_date', 'stage_id', 'is_closed'],
            order=sortings[sortby]['order'],
            limit=self._items_per_page,
            offset=pager['offset'],
        )
        request.session['my_tickets_history'] = tickets.ids[:100]
        values = self._prepare_portal_layout_values()
        values.update(
            {
                'tickets': tickets,
                'page_name': 'cabinet_ticket',
                'pager': pager,
                'default_url': '/my/tickets',
                'searchbar_sortings': sortings,
                'sortby': sortby,
                'searchbar_filters': filters,
                'filterby': filterby,
                'waiting_stage': waiting,
                'searchbar_inputs': inputs,
                'search_in': search_in,
                'search': search,
                'priorities': dict(Ticket._fields['priority']._description_selection(request.env)),
            }
        )
        return request.render('cabinet_helpdesk.portal_my_tickets', values)

    # ------------------------------------------------------------
    # Ticket page: read, answer (portal chatter), close, reopen, rate
    # ------------------------------------------------------------

    def _document_check_access(self, model_name, document_id, access_token=None):
        """Tickets open only as ``cabinet.ticket._portal_access`` decides: the record
        rules, a link signed for a partner who may still follow the ticket, or its current plain
        token."""
        if model_name != 'cabinet.ticket':
            return super()._document_check_access(model_name, document_id, access_token=access_token)
        return self._cabinet_ticket_access(
            document_id, access_token, request.params.get('pid'), request.params.get('hash')
        )[0]

    def _cabinet_ticket_access(self, ticket_id, access_token=None, pid=None, hash=None):
        """Return ``(ticket_sudo, author)`` for the visitor (see
        ``cabinet.ticket._portal_access``): ``author`` is the partner who acts, empty for
        a visitor who may only read. Raise ``AccessError`` when the visitor may not open it."""
        ticket_sudo, author = request.env['cabinet.ticket']._portal_access(
            ticket_id, access_token=access_token, pid=pid, hash=hash
        )
        if not ticket_sudo:
            raise AccessError(request.env._("You may not open this ticket."))
        return ticket_sudo, author

    def _cabinet_ticket_url(self, ticket_sudo, access_token=None, pid=None, hash=None):
        """The ticket's page with the link parameters the visitor came with, and no others: the
        ticket's own token is never added to a URL here."""
        params = {key: value for key, value in (('access_token', access_token), ('pid', pid), ('hash', hash)) if value}
        return ticket_sudo.access_url + (f'?{url_encode(params)}' if params else '')

    def _cabinet_records_pager(self, ticket_sudo):
        """Previous and next ticket of the last list the user saw, as plain URLs (the portal's
        own pager would add those tickets' access tokens to the page)."""
        history = request.session.get('my_tickets_history', [])
        if ticket_sudo.id not in history:
            return {}
        index = history.index(ticket_sudo.id)
        Ticket = request.env['cabinet.ticket']
        return {
            'prev_record': index > 0 and Ticket.browse(history[index - 1]).sudo().access_url,
            'next_record': index < len(history) - 1 and Ticket.browse(history[index + 1]).sudo().access_url,
        }

    def _cabinet_ticket_rating_values(self, ticket_sudo, author):
        """Satisfaction rating of a closed ticket: the rating given by the party (or by the acting
        partner), or the token with which the acting partner may give one (``/rate/<token>/<value>``
        of the rating module). A visitor who may only read gets neither form nor token."""
        if not ticket_sudo.is_closed:
            return {}
        party = ticket_sudo.commercial_partner_id
        ratings = ticket_sudo.rating_ids.filtered(
            lambda r: r.partner_id == author or r.partner_id.commercial_partner_id == party
        )
        given = ratings.filtered('consumed')[:1]
        if given:
            return {'rating_given': given}
        if not author or ticket_sudo.anonymized:
            return {}
        return {
            'rating_token': ticket_sudo._rating_get_access_token(partner=author),
            'rating_values': [
                (RATING_HAPPY_VALUE, request.env._("Satisfied")),
                (RATING_NEUTRAL_VALUE, request.env._("Partly satisfied")),
                (RATING_UNHAPPY_VALUE, request.env._("Not satisfied")),
            ],
        }

    def _cabinet_ticket_page_values(self, ticket_sudo, author, access_token=None, **kw):
        values = self._get_page_view_values(
            ticket_sudo,
            access_token,
            {'ticket': ticket_sudo, 'page_name': 'cabinet_ticket'},
            None,  # no history here: see _cabinet_records_pager
            False,
            **kw,
        )
        values.update(self._cabinet_records_pager(ticket_sudo))
        values.update(
            {
                'portal_author': author,
                'disable_composer': not author,
                'can_reopen': bool(author) and ticket_sudo._portal_can_reopen(),
                'reopen_days': ticket_sudo._portal_reopen_days(),
                'ticket_error': kw.get('ticket_error'),
                'ticket_filed': kw.get('filed') == '1' and not ticket_sudo.is_closed,
                'waiting_stage': self._cabinet_waiting_stage(),
            }
        )
        values.update(self._cabinet_ticket_rating_values(ticket_sudo, author))
        return values

    def _cabinet_render_ticket_error(self, ticket_sudo, author, access_token, pid, hash, message):
        values = self._cabinet_ticket_page_values(
            ticket_sudo, author, access_token, pid=pid, hash=hash, ticket_error=message
        )
        return request.render('cabinet_helpdesk.portal_my_ticket', values)

    def _cabinet_no_author_message(self):
        return request.env._(
            "This link lets you read the ticket only. To close, reopen or rate it, sign in or open it "
            "from the link in the latest email we sent you."
        )

    @http.route('/my/tickets/<int:ticket_id>', type='http', auth='public', methods=['GET'], website=True, sitemap=False)
    def portal_my_ticket(self, ticket_id, access_token=None, **kw):
        try:
            ticket_sudo, author = self._cabinet_ticket_access(ticket_id, access_token, kw.get('pid'), kw.get('hash'))
        except (AccessError, MissingError):
            return request.not_found()
        return request.render(
            'cabinet_helpdesk.portal_my_ticket',
            self._cabinet_ticket_page_values(ticket_sudo, author, access_token, **kw),
        )

    @http.route(
        '/my/tickets/<int:ticket_id>/close', type='http', auth='public', methods=['POST'], website=True, sitemap=False
    )
    def portal_ticket_close(self, ticket_id, access_token=None, reason=None, pid=None, hash=None, **kw):
        try:
            ticket_sudo, author = self._cabinet_ticket_access(ticket_id, access_token, pid, hash)
        except (AccessError, MissingError):
            return request.not_found()
        if not author:
            message = self._cabinet_no_author_message()
            return self._cabinet_render_ticket_error(ticket_sudo, author, access_token, pid, hash, message)
        if not ticket_sudo.is_closed:
            try:
                ticket_sudo._portal_close(author, reason=clean_text(reason, REASON_MAX_LENGTH))
            except UserError as error:
                return self._cabinet_render_ticket_error(ticket_sudo, author, access_token, pid, hash, error.args[0])
        return request.redirect(self._cabinet_ticket_url(ticket_sudo, access_token, pid, hash))

    @http.route(
        '/my/tickets/<int:ticket_id>/reopen', type='http', auth='public', methods=['POST'], website=True, sitemap=False
    )
    def portal_ticket_reopen(self, ticket_id, access_token=None, reason=None, pid=None, hash=None, **kw):
        try:
            ticket_sudo, author = self._cabinet_ticket_access(ticket_id, access_token, pid, hash)
        except (AccessError, MissingError):
            return request.not_found()
        if not author:
            message = self._cabinet_no_author_message()
            return self._cabinet_render_ticket_error(ticket_sudo, author, access_token, pid, hash, message)
        try:
            ticket_sudo._portal_reopen(author, reason=clean_text(reason, REASON_MAX_LENGTH))
        except UserError as error:
            return self._cabinet_render_ticket_error(ticket_sudo, author, access_token, pid, hash, error.args[0])
        return request.redirect(self._cabinet_ticket_url(ticket_sudo, access_token, pid, hash))

    # ------------------------------------------------------------
    # New request
    # ------------------------------------------------------------

    def _cabinet_portal_categories(self):
        """Request types offered on the portal, within the user's companies (record rules)."""
        return request.env['cabinet.category'].search([('portal_visible', '=', True)])

    def _cabinet_max_attachment_size(self):
        """Largest accepted file, in bytes (``cabinet_helpdesk.max_attachment_size_mb``, 20 MB)."""
        return int(request.env['cabinet.ticket']._max_attachment_size_mb() * 1024 * 1024)

    def _cabinet_ticket_form_parse(self, post, files):
        """Return ``(values, category, attachments, errors)`` from the posted form.

        ``values`` keeps what the user typed so the form can be shown again; ``attachments`` is
        a list of ``(file name, content)``; ``errors`` maps a field to one message. A party
        field, if posted, is ignored: the party is always the user's own.
        """
        errors = {}
        values = {
            'name': clean_text(post.get('name')).strip(),
            'description': clean_text(post.get('description')).strip(),
            'category_id': clean_text(post.get('category_id')),
        }
        if not values['name']:
            errors['name'] = request.env._("Please give your request a subject.")
        elif len(values['name']) > SUBJECT_MAX_LENGTH:
            errors['name'] = request.env._("The subject is too long (200 characters at most).")
        if not values['description']:
            errors['description'] = request.env._("Please describe your request.")
        categories = self._cabinet_portal_categories()
        if not values['category_id'] and categories:
            # the form always sends a type; a request without one is a general one (the first type)
            values['category_id'] = str(categories[0].id)
        category = categories.filtered(lambda c: str(c.id) == str(values['category_id']))
        if categories and not category:
            errors['category_id'] = request.env._("Please choose a type of request.")
        attachments = []
        max_size = self._cabinet_max_attachment_size()
        uploads = [upload for upload in files if upload and upload.filename]
        if len(uploads) > MAX_ATTACHMENTS:
            errors['attachments'] = request.env._(
                "Please send at most %(count)s files with a request.", count=MAX_ATTACHMENTS
            )
        for upload in uploads[:MAX_ATTACHMENTS]:
            content = upload.read(max_size + 1)
            file_name = clean_text(upload.filename, 255) or 'file'
            if len(content) > max_size:
                errors['attachments'] = request.env._(
                    "The file %(name)s is larger than %(size)s MB: please send a smaller file.",
                    name=file_name,
                    size=max_size // (1024 * 1024),
                )
                break
            attachments.append((file_name, content))
        if attachments and errors:
            errors.setdefault(
                'attachments',
                request.env._("Please choose your files again: for your security, the browser does not keep them."),
            )
        return values, category, attachments, errors

    def _cabinet_ticket_form_render(self, values=None, errors=None):
        render_values = self._prepare_portal_layout_values()
        partner = request.env.user.partner_id
        render_values.update(
            {
                'page_name': 'cabinet_ticket_new',
                'categories': self._cabinet_portal_categories(),
                'form_values': values or {},
                'errors': errors or {},
                'privacy_ack_needed': not partner.cabinet_privacy_ack_date,
                'max_attachment_mb': self._cabinet_max_attachment_size() // (1024 * 1024),
                'max_attachments': MAX_ATTACHMENTS,
            }
        )
        return request.render('cabinet_helpdesk.portal_ticket_form', render_values)

    @http.route(
        '/my/tickets/new', type='http', auth='user', methods=['GET'], website=True, sitemap=False, readonly=True
    )
    def portal_ticket_new(self, **kw):
        return self._cabinet_ticket_form_render()

    @http.route('/my/tickets/new', type='http', auth='user', methods=['POST'], website=True, sitemap=False)
    def portal_ticket_new_submit(self, **post):
        files = request.httprequest.files.getlist('attachments')
        values, category, attachments, errors = self._cabinet_ticket_form_parse(post, files)
        if errors:
            return self._cabinet_ticket_form_render(values, errors)
        ticket_sudo = request.env['cabinet.ticket']._portal_create(
            values['name'], values['description'], category, attachments
        )
        # the ticket page confirms the request: its number and when to expect an answer
        return request.redirect(f'{ticket_sudo.access_url}?filed=1')

    # ------------------------------------------------------------
    # Privacy notice (GDPR art. 13) and data download (art. 15, 20)
    # ------------------------------------------------------------

    def _cabinet_acknowledge_privacy(self, partner):
        # sudo: the user records their own acknowledgement on their own contact
        partner.sudo().cabinet_privacy_ack_date = fields.Datetime.now()

    def _cabinet_privacy_values(self):
        user = request.env.user
        company = user.company_id if not user._is_public() else request.env.company
        # sudo: public information of the firm, for visitors who came with a ticket link
        categories_sudo = (
            request.env['cabinet.category']
            .sudo()
            .search([('portal_visible', '=', True), ('company_id', 'in', [company.id, False])])
        )
        values = self._prepare_portal_layout_values() if not user._is_public() else {}
        values.update(
            {
                'page_name': 'cabinet_privacy',
                'company': company.sudo(),
                'privacy_categories': categories_sudo,
                'legal_bases': dict(categories_sudo._fields['legal_basis']._description_selection(request.env)),
                'privacy_ack_date': not user._is_public() and user.partner_id.cabinet_privacy_ack_date,
                'can_export': not user._is_public(),
            }
        )
        return values

    @http.route(
        '/my/tickets/privacy', type='http', auth='public', methods=['GET'], website=True, sitemap=False, readonly=True
    )
    def portal_cabinet_privacy(self, **kw):
        return request.render('cabinet_helpdesk.portal_privacy_notice', self._cabinet_privacy_values())

    @http.route(
        '/my/tickets/privacy/acknowledge', type='http', auth='user', methods=['POST'], website=True, sitemap=False
    )
    def portal_cabinet_privacy_acknowledge(self, **kw):
        partner = request.env.user.partner_id
        if not partner.cabinet_privacy_ack_date:
            self._cabinet_acknowledge_privacy(partner)
        return request.redirect('/my/tickets/new' if kw.get('next') == 'new' else '/my/tickets/privacy')

    @http.route('/my/tickets/privacy/export', type='http', auth='user', methods=['POST'], website=True, sitemap=False)
    def portal_cabinet_privacy_export(self, **kw):
        """Download everything the helpdesk holds about the user's own party (a ZIP file)."""
        party = request.env.user.partner_id.commercial_partner_id
        try:
            # the export checks that the user belongs to the party and limits it to readable tickets
            attachment_sudo = party._cabinet_export_data()
        except AccessError:
            return request.not_found()
        return request.env['ir.binary']._get_stream_from(attachment_sudo.sudo(), 'raw').get_response(as_attachment=True)


# ------------------------------------------------------------
# Portal chatter and ratings of tickets: the same ways in as the ticket page
# ------------------------------------------------------------


class CabinetThreadController(PortalThreadController):
    """Posting on a ticket's thread (messages, attachments) needs a partner who may act on it:
    the plain token lets one read the thread, never write in anyone's name."""

    @classmethod
    def _get_thread_with_access_for_post(cls, thread_model, thread_id, **kwargs):
        thread = super()._get_thread_with_access_for_post(thread_model, thread_id, **kwargs)
        if thread and (author := ticket_thread_author(thread_model, thread_id, kwargs)) is not None and not author:
            return request.env[thread_model]
        return thread

    @classmethod
    def _can_edit_message(cls, message, hash=None, pid=None, token=None, **kwargs):
        if message.model == 'cabinet.ticket' and message.res_id:
            author = ticket_thread_author(message.model, message.res_id, {'hash': hash, 'pid': pid, 'token': token})
            if not author:
                return False
            if request.env.user._is_public():
                return message.author_id == author
            # signed in: the standard rule (own messages), without the token's stand-in author
            return super()._can_edit_message(message, **kwargs)
        return super()._can_edit_message(message, hash=hash, pid=pid, token=token, **kwargs)


class CabinetMessageReactionController(PortalMessageReactionController):
    def _get_reaction_author(self, message, **kwargs):
        if message.model == 'cabinet.ticket' and message.res_id and request.env.user._is_public():
            author = ticket_thread_author(message.model, message.res_id, kwargs)
            return author, request.env['mail.guest']
        return super()._get_reaction_author(message, **kwargs)


class CabinetPortalChatter(PortalChatter):
    @http.route()
    def portal_message_fetch(self, thread_model, thread_id, fetch_params=None, **kw):
        """A link signed for a partner who may follow the ticket reads its thread as its plain
        token does (the portal's route knows only the token)."""
        if thread_model == 'cabinet.ticket' and not kw.get('token') and kw.get('pid') and kw.get('hash'):
            thread = ThreadController._get_thread_with_access(thread_model, thread_id, pid=kw['pid'], hash=kw['hash'])
            if not thread:
                raise NotFound()
            if not thread.has_access('read'):
                # sudo: the signed link was checked just above
                kw['token'] = thread.sudo().access_token
        return super().portal_message_fetch(thread_model, thread_id, fetch_params=fetch_params, **kw)


class CabinetRating(Rating):
    def _get_rating_and_record(self, token):
        """A ticket's rating link works while its partner may still follow the ticket, and never
        on an anonymized ticket."""
        rating_sudo, record_sudo = super()._get_rating_and_record(token)
        if record_sudo._name == 'cabinet.ticket' and (
            record_sudo.anonymized or not record_sudo._filter_allowed_partners(rating_sudo.partner_id)
        ):
            raise NotFound()
        return rating_sudo, record_sudo
