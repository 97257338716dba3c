# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
import io
import json
import logging
import re
import zipfile
from collections import defaultdict
from html import escape

import lxml.html
from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.fields import Command, Domain
from odoo.tools import html2plaintext, split_every

_logger = logging.getLogger(__name__)

EXPORT_PREFIX = 'personal_data_'
EXPORT_KEEP_DAYS = 7
DOSSIER_REPORT = 'cabinet_helpdesk.action_report_ticket_dossier'
# Dossiers printed in one run of the PDF engine: fewer runs, bounded memory
DOSSIER_BATCH_SIZE = 50
# What replaces the name or address of an erased person in a text that stays
REDACTED = "[…]"


def _safe_file_name(name):
    """A file name for a ZIP member: no path separator, no control character."""
    return re.sub(r'[^\w.\- ]+', '_', name or '').strip(' .') or 'file'


def _cabinet_redact(html, terms):
    """``html`` with every occurrence of ``terms`` (names, addresses) replaced, whatever the case."""
    text = str(html or '')
    for term in sorted(terms, key=len, reverse=True):
        for form in {term, escape(term)}:
            text = re.sub(rf'(?<!\w){re.escape(form)}(?!\w)', REDACTED, text, flags=re.IGNORECASE)
    return Markup(text)


class ResPartner(models.Model):
    """Data subject rights (GDPR art. 13, 15, 17): the privacy notice, the export and the erasure
    of a person's data, the legal hold of their tickets."""

    _inherit = 'res.partner'

    # Privacy notice (GDPR art. 13): when this person acknowledged the firm's notice on the portal
    cabinet_privacy_ack_date = fields.Datetime(
        string="Privacy Notice Acknowledged On",
        readonly=True,
        copy=False,
        help="When this person confirmed on the portal having read the firm's privacy notice.",
    )

    # ------------------------------------------------------------
    # GDPR: DATA SUBJECT RIGHTS
    # ------------------------------------------------------------
    # The data protection officer answers data subjects for the whole firm: the export, the
    # erasure and the legal hold reach every ticket of the person, confidential ones included,
    # through these tools only (sudo after the group check), never through the ticket views.
    # Each of these actions leaves a row without personal data in ``cabinet.gdpr.log``.

    def _cabinet_check_dpo(self):
        if not self.env.user._cabinet_is_dpo():
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

    def action_cabinet_legal_hold(self):
        """Place or lift a legal hold on every ticket of the person (data protection officer)."""
        self.ensure_one()
        self._cabinet_check_dpo()
        return {
            'name': self.env._("Legal Hold"),
            'type': 'ir.actions.act_window',
            'res_model': 'cabinet.ticket.legal.hold',
            'view_mode': 'form',
            'target': 'new',
            'context': {'default_partner_id': self.id},
        }

    def _cabinet_gdpr_persons(self):
        """The partners and all their contacts, archived ones included (sudo: the caller checked
        the access)."""
        return self.sudo().with_context(active_test=False).search([('id', 'child_of', self.ids)])

    def _cabinet_gdpr_emails(self):
        return {partner.email_normalized for partner in self if partner.email_normalized}

    def _cabinet_gdpr_note(self, body):
        """Record on the partners what was done about their data (kept for their next export)."""
        for partner_sudo in self.sudo():
            partner_sudo.message_post(
                body=body, message_type='comment', subtype_xmlid='cabinet_helpdesk.mt_partner_data_request'
            )

    def _cabinet_export_data(self):
        """Everything the firm's helpdesk holds about the partner's party, as a ZIP attachment.

        The ZIP holds ``README.txt`` (what is in the file, what is not and why), ``data.json``
        (party and contacts with their privacy notice acknowledgement, each ticket with the
        messages the party can see, the history of its handling, its documents and ratings;
        mandates; data subject requests; emails kept for qualification), one dossier per ticket
        and every document: those of the email that opened a ticket, of the messages, of the
        ticket itself and of the mandates. Internal notes are left out: they are the firm's
        working notes, never sent to the party (the changes they log are in the history).

        The data protection officer exports any party, confidential tickets included, and also
        gets what the party's contacts wrote on other parties' tickets; anyone else exports only
        their own party, and only the tickets they may read (another contact's confidential
        request stays out). The previous export of the party by the same user is replaced. Data
        is read in batches: the cost does not grow with each message or document.

        :return: the ``ir.attachment`` of the ZIP (``sudo``), readable only by its creator and
            administrators; the retention scheduled action deletes it after a week
        :raise AccessError: when the current user is neither the data protection officer nor a
            contact of the party
        """
        self.ensure_one()
        party = self.commercial_partner_id
        is_dpo = self.env.user._cabinet_is_dpo()
        Ticket = self.env['cabinet.ticket'].with_context(active_test=False)
        domain = [('commercial_partner_id', '=', party.id), ('company_id', 'in', self.env.user.company_ids.ids)]
        if is_dpo:
            tickets_sudo = Ticket.sudo().search(domain, order='id')
        elif self.env.user.commercial_partner_id == party:
            tickets_sudo = Ticket.with_env(self.env(su=False)).search(domain, order='id').sudo()
        else:
            raise AccessError(self.env._("You may only download the data of your own organisation."))
        lang = party.lang or self.env.lang
        party_sudo = party.sudo().with_context(lang=lang, active_test=False)
        persons_sudo = party_sudo._cabinet_gdpr_persons().with_context(lang=lang)
        anonymized_sudo = tickets_sudo.filtered('anonymized')
        tickets_sudo = (tickets_sudo - anonymized_sudo).with_context(lang=lang)
        export_date = fields.Datetime.now()

        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, 'w', compression=zipfile.ZIP_DEFLATED) as archive:
            counts = self.with_context(lang=lang)._cabinet_export_write(
                archive, party_sudo, persons_sudo, tickets_sudo, is_dpo, export_date
            )
            archive.writestr(
                'README.txt',
                self.with_context(lang=lang)._cabinet_export_readme(
                    party_sudo, tickets_sudo, anonymized_sudo, counts, is_dpo, export_date
                ),
            )

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
        party_sudo._cabinet_gdpr_note(
            self.env._("Personal data exported (%(count)s tickets).", count=len(tickets_sudo))
        )
        if is_dpo:
            self.env['cabinet.gdpr.log']._log_action('export', tickets_sudo)
        return attachment

    def _cabinet_export_write(self, archive, party_sudo, persons_sudo, tickets_sudo, is_dpo, export_date):
        """Write ``data.json``, the dossiers and the documents into ``archive``.

        :return: counts of what was written, for the README
        :rtype: dict
        """
        Message = self.env['mail.message'].sudo()
        messages = tickets_sudo._dossier_messages()
        # grouped: the groups share the prefetch of all messages (authors, documents: one query each)
        messages_by_ticket = messages.grouped('res_id')
        history = tickets_sudo._dossier_history()
        documents = tickets_sudo._dossier_documents()
        ratings = (
            self.env['rating.rating']
            .sudo()
            .search(
                [('res_model', '=', 'cabinet.ticket'), ('res_id', 'in', tickets_sudo.ids), ('consumed', '=', True)],
                order='write_date, id',
            )
        )
        ratings_by_ticket = defaultdict(list)
        for rating in ratings:
            ratings_by_ticket[rating.res_id].append(rating)

        counts = {'documents': 0, 'dossiers': 0, 'mandate_documents': 0}
        tickets_data = []
        for ticket in tickets_sudo:
            folder = f'attachments/{_safe_file_name(ticket.number)}'
            ticket_messages = messages_by_ticket.get(ticket.id, Message)
            values = self._cabinet_export_ticket_values(ticket, ticket_messages, ratings_by_ticket[ticket.id])
            values['history'] = [
                dict(change, date=fields.Datetime.to_string(change['date'])) for change in history[ticket.id]
            ]
            values['documents'] = [self._cabinet_export_file_values(doc, folder) for doc in documents[ticket.id]]
            tickets_data.append(values)
            for attachment in ticket_messages.attachment_ids | documents[ticket.id]:
                archive.writestr(f'{folder}/{attachment.id}_{_safe_file_name(attachment.name)}', attachment.raw or b'')
                counts['documents'] += 1
        for name, content in self._cabinet_export_dossiers(tickets_sudo):
            archive.writestr(name, content)
            counts['dossiers'] += 1

        mandates_sudo = (
            self.env['cabinet.mandate']
            .sudo()
            .search(
                [
                    '|',
                    ('principal_id', 'in', persons_sudo.ids),
                    ('agent_id', 'in', persons_sudo.ids),
                    ('company_id', 'in', self.env.user.company_ids.ids),
                ],
                order='date_start, id',
            )
        )
        mandates_data = []
        for mandate in mandates_sudo:
            folder = f'mandates/{mandate.id}'
            mandates_data.append(
                {
                    'agent': mandate.agent_id.name,
                    'principal': mandate.principal_id.name,
                    'request_types': mandate.category_ids.mapped('name') or None,
                    'valid_from': fields.Date.to_string(mandate.date_start),
                    'valid_until': fields.Date.to_string(mandate.date_end) or None,
                    'state': dict(mandate._fields['state']._description_selection(self.env)).get(mandate.state),
                    'revoke_reason': mandate.revoke_reason or None,
                    'documents': [self._cabinet_export_file_values(doc, folder) for doc in mandate.document_ids],
                }
            )
            for document in mandate.document_ids:
                archive.writestr(f'{folder}/{document.id}_{_safe_file_name(document.name)}', document.raw or b'')
                counts['mandate_documents'] += 1

        requests = Message.search(
            [
                ('model', '=', 'res.partner'),
                ('res_id', 'in', persons_sudo.ids),
                ('subtype_id', '=', self.env.ref('cabinet_helpdesk.mt_partner_data_request').id),
            ],
            order='date, id',
        )
        pending_domain = Domain('partner_id', 'in', persons_sudo.ids)
        emails = persons_sudo._cabinet_gdpr_emails()
        if is_dpo and emails:
            # unattributed emails are matched on the address: the DPO checks them before handing over
            pending_domain |= Domain.OR(Domain('email_from', 'ilike', email) for email in emails)
        pending_sudo = (
            self.env['cabinet.mail.pending']
            .sudo()
            .search(pending_domain & Domain('company_id', 'in', self.env.user.company_ids.ids), order='date, id')
        )
        data = {
            'export_date': fields.Datetime.to_string(export_date),
            'controller': self.env.company.name,
            'party': self._cabinet_export_partner_values(party_sudo),
            'contacts': [self._cabinet_export_partner_values(contact) for contact in persons_sudo - party_sudo],
            'tickets': tickets_data,
            'mandates': mandates_data,
            'data_requests': [
                {'date': fields.Datetime.to_string(message.date), 'record': html2plaintext(message.body or '')}
                for message in requests
            ],
            'emails_to_qualify': [
                {
                    'date': fields.Datetime.to_string(pending.date),
                    'sender': pending.email_from or None,
                    'subject': pending.name,
                    'body': html2plaintext(pending.body or ''),
                }
                for pending in pending_sudo
            ],
        }
        if is_dpo:
            elsewhere = Message.search(
                Domain([('model', '=', 'cabinet.ticket'), ('author_id', 'in', persons_sudo.ids)])
                & Domain('res_id', 'not in', tickets_sudo.ids)
                & self.env['mail.message']._get_search_domain_share(),
                order='date, id',
            )
            data['messages_on_other_tickets'] = [
                {
                    'date': fields.Datetime.to_string(message.date),
                    'author': message.author_id.name,
                    'body': html2plaintext(message.body or ''),
                    'attachments': message.attachment_ids.mapped('name'),
                }
                for message in elsewhere
            ]
        archive.writestr('data.json', json.dumps(data, indent=2, ensure_ascii=False))
        counts.update(
            mandates=len(mandates_sudo),
            data_requests=len(requests),
            emails_to_qualify=len(pending_sudo),
            messages=len(messages),
        )
        return counts

    def _cabinet_export_dossiers(self, tickets_sudo):
        """The dossier of each ticket, rendered by batches of tickets (one PDF engine run each).

        Where no PDF can be made (test runs replace PDF by HTML), the dossiers are HTML pages.

        :return: ``(file name, content)`` for each ticket
        :rtype: list
        """
        Report = self.env['ir.actions.report'].sudo()
        files = []
        for batch in split_every(DOSSIER_BATCH_SIZE, tickets_sudo.ids, list):
            tickets = tickets_sudo.browse(batch)
            try:
                streams, report_type = Report._pre_render_qweb_pdf(DOSSIER_REPORT, res_ids=batch)
            except UserError as error:
                # e.g. a PDF engine that cannot print several documents in one run: one at a time
                _logger.info("Dossiers printed one by one: %s", error)
                streams, report_type = {}, 'pdf'
            if report_type == 'pdf':
                for ticket in tickets:
                    stream = streams.get(ticket.id, {}).get('stream')
                    if not stream:
                        # the batch could not be split per ticket: this one alone
                        single, _report_type = Report._pre_render_qweb_pdf(DOSSIER_REPORT, res_ids=ticket.ids)
                        stream = single[ticket.id]['stream']
                    files.append((f'dossiers/{_safe_file_name(ticket.number)}.pdf', stream.getvalue()))
                    stream.close()
                continue
            root = lxml.html.fromstring(streams, parser=lxml.html.HTMLParser(encoding='utf-8'))
            for article in root.xpath("//div[contains(concat(' ', normalize-space(@class), ' '), ' article ')]"):
                ticket = tickets.browse(int(article.get('data-oe-id') or 0))
                if ticket not in tickets:
                    continue
                page = (
                    '<!DOCTYPE html><html><head><meta charset="utf-8"/>'
                    f'<title>{escape(ticket.number)}</title></head><body>'
                    f'{lxml.html.tostring(article, encoding="unicode")}</body></html>'
                )
                files.append((f'dossiers/{_safe_file_name(ticket.number)}.html', page.encode()))
        return files

    def _cabinet_export_readme(self, party_sudo, tickets_sudo, anonymized_sudo, counts, is_dpo, export_date):
        """The index of the export: what the ZIP holds, what it leaves out and why, in the
        language of the context (the party's)."""
        company = self.env.company
        dpo = company.sudo().cabinet_dpo_partner_id
        lines = [
            self.env._("Personal data export"),
            "=" * 20,
            "",
            self.env._("Organisation: %(name)s", name=party_sudo.name),
            self.env._("Controller: %(company)s", company=company.name),
            self.env._("Exported on: %(date)s (UTC)", date=fields.Datetime.to_string(export_date)),
            self.env._("Requested by: the data protection officer of the firm")
            if is_dpo
            else self.env._("Requested by: a contact of the organisation, from the customer portal"),
            "",
            self.env._("What this file contains"),
            "-" * 23,
            self.env._(
                "- data.json: the organisation and its contacts (with the date each acknowledged the privacy "
                "notice); each ticket with its request, type, legal basis, purpose, retention, stage and dates, "
                "the messages the organisation can see (the email or portal request that opened it included), "
                "the history of its handling (stage, assignee, priority, deadline changes), its documents and "
                "satisfaction ratings; the mandates given or held; the data subject requests and what was done; "
                "the emails kept for qualification."
            ),
            self.env._(
                "- dossiers/: one dossier per ticket (%(count)s), readable without any software.",
                count=counts['dossiers'],
            ),
            self.env._(
                "- attachments/<ticket number>/: the documents of each ticket (%(count)s): those of the opening "
                "email, of the messages and those attached to the ticket itself.",
                count=counts['documents'],
            ),
            self.env._(
                "- mandates/<number>/: the signed mandate documents (%(count)s).", count=counts['mandate_documents']
            ),
            self.env._("- README.txt: this file."),
            "",
            self.env._("Tickets: %(count)s", count=len(tickets_sudo)),
        ]
        lines += [f"  {ticket.number}  {ticket.name}" for ticket in tickets_sudo]
        lines += [
            self.env._(
                "Messages: %(messages)s, mandates: %(mandates)s, data subject requests: %(requests)s, emails to "
                "qualify: %(emails)s.",
                messages=counts['messages'],
                mandates=counts['mandates'],
                requests=counts['data_requests'],
                emails=counts['emails_to_qualify'],
            ),
            "",
            self.env._("What this file does not contain, and why"),
            "-" * 41,
            self.env._(
                "- Internal notes of the firm's staff: they are working notes about the handling of the requests, "
                "never sent to the organisation. The changes they record are in the history. They may be asked "
                "from the data protection officer; they are given unless they would disclose the rights of others "
                "or legally privileged advice (GDPR art. 15(4))."
            ),
            self.env._(
                "- Tickets and messages of other parties, including those of a coordination the organisation takes "
                "part in: each party has its own tickets."
            ),
        ]
        if anonymized_sudo:
            lines.append(
                self.env._(
                    "- Tickets %(numbers)s: anonymized, under their retention policy or at an erasure request; no "
                    "personal data is left in them.",
                    numbers=", ".join(anonymized_sudo.mapped('number')),
                )
            )
        if not is_dpo:
            lines += [
                self.env._(
                    "- Confidential requests filed by other contacts of the organisation (e.g. HR requests): they "
                    "concern those persons alone, who can download their own data."
                ),
                self.env._(
                    "- Messages the organisation's contacts wrote on other organisations' tickets (e.g. as an agent) "
                    "and emails from an address not yet attributed to them: ask the data protection officer."
                ),
            ]
        lines += [
            self.env._(
                "- Data held outside this helpdesk (accounting, contracts, other applications of the firm): ask the "
                "data protection officer."
            ),
            "",
            self.env._(
                "Data protection officer: %(contact)s",
                contact=", ".join(filter(None, [dpo.name, dpo.email])) or company.email or company.name,
            ),
            "",
        ]
        return "\n".join(lines)

    @api.model
    def _cabinet_export_file_values(self, attachment, folder):
        return {
            'name': attachment.name,
            'file': f'{folder}/{attachment.id}_{_safe_file_name(attachment.name)}',
            'added_on': fields.Datetime.to_string(attachment.create_date),
        }

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
                if partner.cabinet_privacy_ack_date
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
            'acting_agent': ticket.agent_partner_id.name or None,
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
            'legal_hold': ticket.legal_hold,
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
        """Erase the personal data of the partners and of their contacts from the helpdesk.

        Their open tickets are withdrawn first (closed as withdrawn, the reason recorded in each
        ticket), then all their tickets are anonymized, each leaving an audit row. What they wrote
        elsewhere goes too: their messages on other parties' tickets, the coordination syntheses
        naming them, the emails to qualify sent from their address.

        Refused, with the reason and nothing changed, while a ticket is under legal hold, or is
        processed under a legal obligation whose retention period runs on, or would once closed
        (GDPR art. 17(3)(b) and (e)). The partner records themselves are left to Odoo's privacy
        lookup, which can archive or delete them once no ticket refers to them any more.

        :raise AccessError: for anyone but the data protection officer
        :raise UserError: naming the tickets and the duty that forbid the erasure
        """
        self._cabinet_check_dpo()
        self.check_access('read')
        anonymous = self.env['cabinet.ticket']._anonymous_partner()
        if anonymous in self:
            raise UserError(self.env._("The anonymous placeholder partner cannot be erased."))
        persons_sudo = self._cabinet_gdpr_persons()
        tickets_sudo = (
            self.env['cabinet.ticket']
            .sudo()
            .with_context(active_test=False)
            .search(
                [
                    ('partner_id', 'in', persons_sudo.ids),
                    ('anonymized', '=', False),
                    ('company_id', 'in', self.env.user.company_ids.ids),
                ]
            )
        )
        reasons = tickets_sudo._erasure_refusals()
        if reasons:
            raise UserError(
                self.env._(
                    "The data of %(names)s cannot be erased: %(reasons)s.",
                    names=", ".join(self.mapped('display_name')),
                    reasons="; ".join(reasons),
                )
            )
        withdrawn_sudo = tickets_sudo.filtered(lambda t: not t.is_closed)
        withdrawn_sudo._withdraw()
        tickets_sudo._retention_log('anonymize', 'erasure')
        tickets_sudo._anonymize()
        withdrawn_sudo._note_withdrawn()
        self._cabinet_erase_elsewhere(persons_sudo, tickets_sudo)
        self.env['cabinet.gdpr.log']._log_action('erasure', tickets_sudo)
        self._cabinet_gdpr_note(
            self.env._(
                "Erasure request: %(count)s tickets and their messages anonymized, %(withdrawn)s of them withdrawn "
                "while open.",
                count=len(tickets_sudo),
                withdrawn=len(withdrawn_sudo),
            )
        )
        return True

    def _cabinet_erase_elsewhere(self, persons_sudo, tickets_sudo):
        """Erase what ``persons_sudo`` left outside their own tickets (``tickets_sudo``, already
        anonymized): their messages on other tickets, the syntheses of coordinations naming them
        (as written and as posted on each ticket), and the emails to qualify sent from their
        address. Their places in other threads (recipient, follower) go as well."""
        anonymous = self.env['cabinet.ticket']._anonymous_partner()
        emails = persons_sudo._cabinet_gdpr_emails()
        Message = self.env['mail.message'].sudo()
        # messages written on tickets of others
        other_domain = Domain('model', '=', 'cabinet.ticket') & Domain('res_id', 'not in', tickets_sudo.ids)
        author_domain = Domain('author_id', 'in', persons_sudo.ids)
        if emails:
            author_domain |= Domain.OR(Domain('email_from', 'ilike', email) for email in emails)
        messages = Message.search(other_domain & author_domain)
        if messages:
            (messages.attachment_ids).unlink()
            self.env['mail.mail'].sudo().search([('mail_message_id', 'in', messages.ids)]).write(
                {'body_html': False, 'email_to': False, 'email_cc': False, 'headers': False}
            )
            messages.write(
                {
                    'body': Markup('<p>%s</p>') % self.env._("Message erased at its author's request (GDPR art. 17)."),
                    'subject': False,
                    'email_from': False,
                    'reply_to': False,
                    'author_id': anonymous.id,
                    'incoming_email_to': False,
                    'incoming_email_cc': False,
                    'outgoing_email_to': False,
                }
            )
        # their places in other threads: recipients, notifications, followers
        received = Message.search(other_domain & Domain('partner_ids', 'in', persons_sudo.ids))
        received.write({'partner_ids': [Command.unlink(partner.id) for partner in persons_sudo]})
        self.env['mail.notification'].sudo().search(
            [('res_partner_id', 'in', persons_sudo.ids), ('mail_message_id.model', '=', 'cabinet.ticket')]
        ).unlink()
        self.env['mail.followers'].sudo().search(
            [('res_model', '=', 'cabinet.ticket'), ('partner_id', 'in', persons_sudo.ids)]
        ).unlink()
        # where other tickets name them: as acting agent, and in the history of those changes
        Ticket = self.env['cabinet.ticket'].sudo().with_context(active_test=False)
        Ticket.search([('agent_partner_id', 'in', persons_sudo.ids)]).with_context(
            mail_notrack=True, tracking_disable=True
        ).write({'agent_partner_id': False})
        terms = {partner.name for partner in persons_sudo if partner.name and len(partner.name) > 2} | emails
        if terms:
            trackings = (
                self.env['mail.tracking.value']
                .sudo()
                .search(
                    Domain('mail_message_id.model', '=', 'cabinet.ticket')
                    & Domain.OR(
                        Domain('old_value_char', 'ilike', term) | Domain('new_value_char', 'ilike', term)
                        for term in terms
                    )
                )
            )
            for tracking in trackings:
                tracking.write(
                    {
                        'old_value_char': tracking.old_value_char
                        and str(_cabinet_redact(tracking.old_value_char, terms)),
                        'new_value_char': tracking.new_value_char
                        and str(_cabinet_redact(tracking.new_value_char, terms)),
                    }
                )
        # coordination syntheses naming them, and their copies posted on each ticket
        if terms:
            coordinations = (
                self.env['cabinet.coordination']
                .sudo()
                .search(Domain.OR(Domain('synthesis', 'ilike', term) for term in terms))
            )
            for coordination in coordinations:
                coordination.synthesis = _cabinet_redact(coordination.synthesis, terms)
            copies = Message.search(
                Domain('model', '=', 'cabinet.ticket')
                & Domain('res_id', 'in', coordinations.ticket_ids.ids)
                & Domain.OR(Domain('body', 'ilike', term) for term in terms)
            )
            for message in copies:
                message.body = _cabinet_redact(message.body, terms)
        # emails to qualify sent from their address, or attributed to them
        pending_domain = Domain('partner_id', 'in', persons_sudo.ids)
        if emails:
            pending_domain |= Domain.OR(Domain('email_from', 'ilike', email) for email in emails)
        pending_sudo = self.env['cabinet.mail.pending'].sudo().search(pending_domain)
        if pending_sudo:
            self.env['ir.attachment'].sudo().search(
                [('res_model', '=', 'cabinet.mail.pending'), ('res_id', 'in', pending_sudo.ids)]
            ).unlink()
            pending_sudo.unlink()
