# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
import io
import json
import re
import zipfile

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import html2plaintext

PARTY_TYPES = [
    ('individual', "Individual"),
    ('company', "Company"),
    ('co_owner', "Co-owner"),
    ('agent', "Agent"),
    ('administration', "Administration"),
    ('engineering_office', "Engineering Office"),
    ('supplier', "Supplier"),
    ('other', "Other"),
]

EXPORT_PREFIX = 'personal_data_'
EXPORT_KEEP_DAYS = 7


def _safe_file_name(name):
    """A file name for a ZIP member: no path separator, no control character."""
    return re.sub(r'[^\w.\- ]+', '_', name or '').strip(' .') or 'file'


class ResPartner(models.Model):
    _inherit = 'res.partner'

    party_type = fields.Selection(
        PARTY_TYPES,
        compute='_compute_party_type',
        store=True,
        readonly=False,
        index=True,
        recursive=True,
        help="Role of this party towards the firm. Parties of different roles never share a ticket. "
        "Contacts of a company take the company's type.",
    )
    cabinet_ticket_ids = fields.One2many('cabinet.ticket', 'partner_id', string="Tickets")
    cabinet_ticket_count = fields.Integer(
        compute='_compute_cabinet_ticket_count', string="Ticket Count", export_string_translation=False
    )
    # Mandates the party gave (as principal) or holds (as agent)
    cabinet_mandate_ids = fields.Many2many(
        'cabinet.mandate',
        compute='_compute_cabinet_mandate_ids',
        string="Mandates",
        groups='cabinet_helpdesk.group_cabinet_user',
        help="Mandates this party gave as principal or holds as agent.",
    )
    cabinet_mandate_count = fields.Integer(
        compute='_compute_cabinet_mandate_ids',
        string="Mandate Count",
        export_string_translation=False,
        groups='cabinet_helpdesk.group_cabinet_user',
    )
    # Privacy notice (GDPR art. 13): when this person acknowledged the firm's notice on the portal
    cabinet_privacy_ack_date = fields.Datetime(
        string="Privacy Notice Acknowledged On",
        readonly=True,
        copy=False,
        help="When this person confirmed on the portal having read the firm's privacy notice.",
    )

    @api.depends('parent_id.party_type', 'is_company')
    def _compute_party_type(self):
        for partner in self:
            if partner.parent_id:
                partner.party_type = partner.commercial_partner_id.party_type
            elif not partner.party_type:
                partner.party_type = 'company' if partner.is_company else 'individual'

    def _compute_cabinet_ticket_count(self):
        """Tickets of the whole party, counted on the party and on each of its contacts, within
        what the current user may read (confidential tickets stay out of the count)."""
        self.cabinet_ticket_count = 0
        parties = self.commercial_partner_id
        counts = dict(
            self.env['cabinet.ticket']._read_group(
                [('commercial_partner_id', 'in', parties.ids)], ['commercial_partner_id'], ['__count']
            )
        )
        for partner in self:
            partner.cabinet_ticket_count = counts.get(partner.commercial_partner_id, 0)

    def _compute_cabinet_mandate_ids(self):
        parties = self.commercial_partner_id
        mandates = self.env['cabinet.mandate'].search(
            [
                '|',
                ('principal_id.commercial_partner_id', 'in', parties.ids),
                ('agent_id.commercial_partner_id', 'in', parties.ids),
            ]
        )
        by_party = {}
        for mandate in mandates:
            for party in (mandate.principal_id | mandate.agent_id).commercial_partner_id:
                by_party[party] = by_party.get(party, mandates.browse()) | mandate
        for partner in self:
            partner.cabinet_mandate_ids = by_party.get(partner.commercial_partner_id, mandates.browse())
            partner.cabinet_mandate_count = len(partner.cabinet_mandate_ids)

    def write(self, vals):
        if not vals.keys() & {'parent_id', 'is_company'}:
            return super().write(vals)
        # a contact leaving its party (or a party joining another) loses its access to the
        # former party's tickets: see cabinet.ticket._cabinet_release_contacts
        # sudo: the contacts under the changed partners, whoever may read them
        family = self.sudo().with_context(active_test=False).search([('id', 'child_of', self.ids)])
        former = {partner: partner.commercial_partner_id for partner in family}
        res = super().write(vals)
        moved = {partner: party for partner, party in former.items() if partner.commercial_partner_id != party}
        if moved:
            if any(partner.user_ids for partner in moved):
                # record rules are cached per user with the user's party at the time: drop them
                self.env.registry.clear_cache()
            self.env['cabinet.ticket']._cabinet_release_contacts(moved)
        return res

    def action_view_cabinet_mandates(self):
        self.ensure_one()
        party = self.commercial_partner_id
        action = self.env['ir.actions.act_window']._for_xml_id('cabinet_helpdesk.cabinet_mandate_action')
        action['domain'] = [
            '|',
            ('principal_id.commercial_partner_id', '=', party.id),
            ('agent_id.commercial_partner_id', '=', party.id),
        ]
        action['context'] = {'default_agent_id' if party.party_type == 'agent' else 'default_principal_id': party.id}
        return action

    def action_view_cabinet_tickets(self):
        self.ensure_one()
        action = self.env['ir.actions.act_window']._for_xml_id('cabinet_helpdesk.cabinet_ticket_action')
        action['domain'] = [('commercial_partner_id', '=', self.commercial_partner_id.id)]
        action['context'] = {'default_partner_id': self.id, 'search_default_open': 1}
        return action

    # ------------------------------------------------------------
    # GDPR: DATA SUBJECT RIGHTS
    # ------------------------------------------------------------

    def _cabinet_check_dpo(self):
        if not self.env.user.has_group('cabinet_helpdesk.group_cabinet_dpo'):
            raise AccessError(self.env._("Only the data protection officer may export or erase a person's data."))

    def action_cabinet_export_data(self):
        """Download the personal data export of the partner's party (data protection officer)."""
        self.ensure_one()
        self._cabinet_check_dpo()
        attachment = self._cabinet_export_data()
        return {
            'type': 'ir.actions.act_url',
            'url': f'/web/content/{attachment.id}?download=true',
            'target': 'download',
        }

    def action_cabinet_erase(self):
        """Erase the partner's tickets and messages (data protection officer, after confirmation)."""
        self.ensure_one()
        self._cabinet_erase()
        return {
            'type': 'ir.actions.client',
            'tag': 'display_notification',
            'params': {
                'type': 'success',
                'message': self.env._("The tickets and messages of %(name)s are anonymized.", name=self.name),
                'next': {'type': 'ir.actions.act_window_close'},
            },
        }

    def action_cabinet_data_request(self):
        self.ensure_one()
        return {
            'name': self.env._("Record a Data Subject Request"),
            'type': 'ir.actions.act_window',
            'res_model': 'res.partner.data.request',
            'view_mode': 'form',
            'target': 'new',
            'context': {'default_partner_id': self.id},
        }

    def _cabinet_export_data(self):
        """Everything the firm's helpdesk holds about the partner's party, as a ZIP attachment.

        The ZIP holds ``data.json`` (party, contacts, tickets, the messages the party can see,
        ratings), one PDF dossier per ticket and the documents of those messages. Internal notes and
        staff-only logs are left out: they are the firm's working notes, and the party never saw
        them (they remain available to the data protection officer on request, case by case).

        The data protection officer exports any party; anyone else only their own party, and only
        the tickets they may read (another contact's confidential request stays out). The previous
        export of the party by the same user is replaced.

        :return: the ``ir.attachment`` of the ZIP (``sudo``), readable only by its creator and
            administrators; the retention scheduled action deletes it after a week
        :raise AccessError: when the current user is neither the data protection officer nor a
            contact of the party
        """
        self.ensure_one()
        party = self.commercial_partner_id
        Ticket = self.env['cabinet.ticket'].with_context(active_test=False)
        domain = [('commercial_partner_id', '=', party.id)]
        if self.env.user.has_group('cabinet_helpdesk.group_cabinet_dpo'):
            domain.append(('company_id', 'in', self.env.user.company_ids.ids))
            tickets_sudo = Ticket.sudo().search(domain, order='id')
        elif self.env.user.commercial_partner_id == party:
            tickets_sudo = Ticket.with_env(self.env(su=False)).search(domain, order='id').sudo()
        else:
            raise AccessError(self.env._("You may only download the data of your own organisation."))
        party_sudo = party.sudo().with_context(lang=party.lang or self.env.lang)
        report_sudo = self.env['ir.actions.report'].sudo().with_context(lang=party_sudo.env.lang)
        export_date = fields.Datetime.now()

        buffer = io.BytesIO()
        tickets_data = []
        with zipfile.ZipFile(buffer, 'w', compression=zipfile.ZIP_DEFLATED) as archive:
            for ticket in tickets_sudo.with_context(lang=party_sudo.env.lang):
                messages = ticket._cabinet_dossier_messages()
                ratings = (
                    self.env['rating.rating']
                    .sudo()
                    .search([('res_model', '=', 'cabinet.ticket'), ('res_id', '=', ticket.id), ('consumed', '=', True)])
                )
                tickets_data.append(self._cabinet_export_ticket_values(ticket, messages, ratings))
                folder = _safe_file_name(ticket.number)
                pdf, _report_type = report_sudo._render_qweb_pdf(
                    'cabinet_helpdesk.action_report_ticket_dossier', ticket.ids
                )
                archive.writestr(f'dossiers/{folder}.pdf', pdf)
                for attachment in messages.attachment_ids:
                    archive.writestr(
                        f'attachments/{folder}/{attachment.id}_{_safe_file_name(attachment.name)}',
                        attachment.raw or b'',
                    )
            data = {
                'export_date': fields.Datetime.to_string(export_date),
                'controller': party_sudo.env.company.name,
                'party': self._cabinet_export_partner_values(party_sudo),
                'contacts': [
                    self._cabinet_export_partner_values(contact)
                    for contact in party_sudo.with_context(active_test=False).child_ids
                ],
                'tickets': tickets_data,
            }
            archive.writestr('data.json', json.dumps(data, indent=2, ensure_ascii=False))

        # Not linked to the partner: an attachment of a record is readable by whoever reads the
        # record, this one only by the person who asked for it (and administrators).
        Attachment = self.env['ir.attachment'].sudo()
        Attachment.search(
            self._cabinet_export_domain()
            + [
                ('name', '=like', f'{EXPORT_PREFIX}{party.id}\\_%'),
                ('create_uid', '=', self.env.uid),
            ]
        ).unlink()
        attachment = Attachment.create(
            {
                'name': f'{EXPORT_PREFIX}{party.id}_{export_date.strftime("%Y%m%d")}.zip',
                'raw': buffer.getvalue(),
                'mimetype': 'application/zip',
                'res_model': 'res.partner',
                'res_id': False,
            }
        )
        party_sudo.message_post(
            body=self.env._("Personal data exported (%(count)s tickets).", count=len(tickets_sudo)),
            message_type='comment',
            subtype_xmlid='mail.mt_note',
        )
        return attachment

    @api.model
    def _cabinet_export_domain(self):
        return [('res_model', '=', 'res.partner'), ('res_id', '=', False), ('name', '=like', f'{EXPORT_PREFIX}%')]

    @api.model
    def _cabinet_gc_exports(self, days=EXPORT_KEEP_DAYS):
        """Delete the personal data exports older than ``days``: they are copies made for download."""
        limit = fields.Datetime.subtract(fields.Datetime.now(), days=days)
        self.env['ir.attachment'].sudo().search(self._cabinet_export_domain() + [('create_date', '<', limit)]).unlink()

    @api.model
    def _cabinet_export_partner_values(self, partner):
        return {
            'name': partner.name,
            'email': partner.email or None,
            'phone': partner.phone or None,
            'street': partner.street or None,
            'street2': partner.street2 or None,
            'zip': partner.zip or None,
            'city': partner.city or None,
            'country': partner.country_id.name or None,
            'vat': partner.vat or None,
            'function': partner.function or None,
            'party_type': partner.party_type or None,
            'language': partner.lang or None,
            'privacy_notice_acknowledged_on': (
                fields.Datetime.to_string(partner.cabinet_privacy_ack_date)
                if 'cabinet_privacy_ack_date' in partner._fields and partner.cabinet_privacy_ack_date
                else None
            ),
        }

    @api.model
    def _cabinet_export_ticket_values(self, ticket, messages, ratings):
        category = ticket.category_id
        return {
            'number': ticket.number,
            'subject': ticket.name,
            'description': html2plaintext(ticket.description or '') or None,
            'requester': ticket.partner_id.name,
            'request_type': category.name or None,
            'legal_basis': dict(ticket._fields['legal_basis']._description_selection(ticket.env)).get(
                ticket.legal_basis
            ),
            'purpose': category.purpose or None,
            'retention_policy': category.retention_policy_id.name or None,
            'retention_date': fields.Date.to_string(ticket.retention_date) or None,
            'team': ticket.team_id.name or None,
            'stage': ticket.stage_id.name or None,
            'channel': ticket.channel,
            'created_on': fields.Datetime.to_string(ticket.create_date),
            'closed_on': fields.Datetime.to_string(ticket.closed_date) or None,
            'deadline': fields.Date.to_string(ticket.date_deadline) or None,
            'messages': [
                {
                    'date': fields.Datetime.to_string(message.date),
                    'author': message.author_id.name or message.email_from or None,
                    'subject': message.subject or None,
                    'body': html2plaintext(message.body or ''),
                    'attachments': message.attachment_ids.mapped('name'),
                }
                for message in messages
            ],
            'ratings': [
                {
                    'date': fields.Datetime.to_string(rating.write_date),
                    'rating': rating.rating,
                    'feedback': rating.feedback or None,
                }
                for rating in ratings
            ],
        }

    def _cabinet_erase(self):
        """Anonymize the tickets of the partners (and of their contacts) and their messages.

        Refused, with the reason, while a ticket is under legal hold, still open (the request is
        being handled: GDPR art. 17(1)(a) does not apply yet), or closed but processed under a
        legal obligation whose retention period runs on (art. 17(3)(b)). The partner records
        themselves are left to Odoo's privacy lookup, which can archive or delete them once no
        ticket refers to them any more. Each anonymized ticket leaves an audit row.

        :raise AccessError: for anyone but the data protection officer
        :raise UserError: naming the tickets and the duty that forbid the erasure
        """
        self._cabinet_check_dpo()
        self.check_access('read')
        anonymous = self.env['cabinet.ticket']._cabinet_anonymous_partner()
        if anonymous in self:
            raise UserError(self.env._("The anonymous placeholder partner cannot be erased."))
        tickets_sudo = (
            self.env['cabinet.ticket']
            .sudo()
            .with_context(active_test=False)
            .search(
                [
                    ('partner_id', 'child_of', self.ids),
                    ('anonymized', '=', False),
                    ('company_id', 'in', self.env.user.company_ids.ids),
                ]
            )
        )
        today = fields.Date.context_today(self)
        reasons = []
        held = tickets_sudo.filtered('legal_hold')
        if held:
            reasons.append(
                self.env._(
                    "tickets %(numbers)s are under legal hold: the hold must be lifted first",
                    numbers=", ".join(held.mapped('number')),
                )
            )
        still_open = tickets_sudo.filtered(lambda t: not t.is_closed) - held
        if still_open:
            reasons.append(
                self.env._(
                    "tickets %(numbers)s are still open: close them first",
                    numbers=", ".join(still_open.mapped('number')),
                )
            )
        for ticket in tickets_sudo - held - still_open:
            if ticket.legal_basis == 'legal_obligation' and ticket.retention_date and ticket.retention_date > today:
                policy = ticket.category_id.retention_policy_id
                reasons.append(
                    self.env._(
                        "ticket %(number)s must be kept until %(date)s by a legal obligation (%(reference)s)",
                        number=ticket.number,
                        date=fields.Date.to_string(ticket.retention_date),
                        reference=policy.legal_reference or policy.name,
                    )
                )
        if reasons:
            raise UserError(
                self.env._(
                    "The data of %(names)s cannot be erased: %(reasons)s.",
                    names=", ".join(self.mapped('display_name')),
                    reasons="; ".join(reasons),
                )
            )
        tickets_sudo._cabinet_retention_log('anonymize', 'erasure')
        tickets_sudo._cabinet_anonymize()
        for partner_sudo in self.sudo():
            partner_sudo.message_post(
                body=self.env._(
                    "Erasure request: %(count)s tickets and their messages anonymized.", count=len(tickets_sudo)
                ),
                message_type='comment',
                subtype_xmlid='mail.mt_note',
            )
        return True
