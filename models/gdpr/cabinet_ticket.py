# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
import logging

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.fields import Command, Domain
from odoo.tools import format_date, format_datetime

from ..cabinet_category import LEGAL_BASES

_logger = logging.getLogger(__name__)


class CabinetTicket(models.Model):
    """GDPR on tickets: legal basis, legal hold, anonymization, retention, erasure, the data subject's
    dossier."""

    _inherit = 'cabinet.ticket'

    # GDPR
    legal_basis = fields.Selection(
        LEGAL_BASES,
        compute='_compute_legal_basis',
        store=True,
        precompute=True,
        readonly=True,
        help="Legal basis of the processing, from the request type.",
    )
    retention_date = fields.Date(
        compute='_compute_retention_date',
        store=True,
        precompute=True,
        index=True,
        copy=False,
        help="From this day on, the closed ticket is anonymized or deleted as its retention policy says.",
    )
    legal_hold = fields.Boolean(
        tracking=True, copy=False, help="Keeps the ticket from anonymization and deletion, e.g. during a dispute."
    )
    anonymized = fields.Boolean(readonly=True, copy=False, index=True)
    cabinet_privacy_notice_pending = fields.Boolean(
        compute='_compute_cabinet_privacy_notice_pending', export_string_translation=False
    )

    @api.depends('category_id.legal_basis')
    def _compute_legal_basis(self):
        for category, tickets in self.grouped('category_id').items():
            tickets.legal_basis = category.legal_basis or 'contract'

    @api.depends('closed_date', 'category_id.retention_policy_id.period_months')
    def _compute_retention_date(self):
        closed = self.filtered(lambda ticket: ticket.closed_date and ticket.category_id.retention_policy_id)
        (self - closed).retention_date = False
        for ticket in closed:
            policy = ticket.category_id.retention_policy_id
            ticket.retention_date = ticket.closed_date.date() + relativedelta(months=policy.period_months)

    @api.depends_context('uid')
    def _compute_cabinet_privacy_notice_pending(self):
        user = self.env.user
        self.cabinet_privacy_notice_pending = not user.share and not user.partner_id.cabinet_privacy_ack_date

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get('legal_hold'):
                self._check_legal_hold_write(vals)
        tickets = super().create(vals_list)
        if self.env.context.get('cabinet_staff_request'):
            # like a client on the portal, staff filing their own request were shown the notice
            self.action_cabinet_acknowledge_privacy()
        return tickets

    def write(self, vals):
        self._check_legal_hold_write(vals)
        self._check_anonymized(vals)
        return super().write(vals)

    def message_post(self, **kwargs):
        if not self.env.su:
            self._check_anonymized()
        return super().message_post(**kwargs)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_legal_hold(self):
        held = self.filtered('legal_hold')
        if held:
            raise UserError(
                self.env._(
                    "Tickets %(numbers)s are under legal hold: the data protection officer must lift the hold "
                    "before they can be deleted.",
                    numbers=", ".join(held.mapped('number')),
                )
            )

    def _check_legal_hold_write(self, vals):
        """Only the data protection officer places or lifts a legal hold (through any path)."""
        if 'legal_hold' in vals and not self.env.su and not self.env.user._cabinet_is_dpo():
            raise AccessError(self.env._("Only the data protection officer may place or lift a legal hold."))

    @api.model
    def _anonymized_locked_fields(self):
        """Fields nobody may change once a ticket is anonymized: what would reopen, reassign or
        give the ticket personal data again (technical and statistics fields stay writable)."""
        return {
            'name',
            'description',
            'partner_id',
            'agent_partner_id',
            'mandate_id',
            'stage_id',
            'category_id',
            'team_id',
            'user_id',
            'tag_ids',
            'date_deadline',
            'reminder_date',
            'priority',
            'channel',
            'coordination_ids',
        }

    def _check_anonymized(self, fnames=None):
        """Anonymized tickets are closed for good: refuse changing them (``fnames``) or writing on
        their thread, so that no personal data comes back after the retention policy applied."""
        if fnames is not None and not set(fnames) & self._anonymized_locked_fields():
            return
        if anonymized := self.filtered('anonymized'):
            raise UserError(
                self.env._(
                    "Ticket %(numbers)s was anonymized under its retention policy: it can no longer be "
                    "changed, reopened or answered. Open a new ticket for a new request.",
                    numbers=", ".join(anonymized.mapped('number')),
                )
            )

    def action_cabinet_acknowledge_privacy(self):
        """Record that the current user, filing their own requests, was shown the privacy notice
        (GDPR art. 13): information, not consent, recorded once."""
        partner = self.env.user.partner_id
        if not partner.cabinet_privacy_ack_date:
            # sudo: the user records the date on their own contact only
            partner.sudo().cabinet_privacy_ack_date = fields.Datetime.now()

    def action_open_legal_hold_wizard(self):
        """Open the wizard placing (or lifting, when all are held) a legal hold, with its reason."""
        return {
            'name': self.env._("Legal Hold"),
            'type': 'ir.actions.act_window',
            'res_model': 'cabinet.ticket.legal.hold',
            'view_mode': 'form',
            'target': 'new',
            'context': {
                'default_ticket_ids': self.ids,
                'default_legal_hold': 'lift' if all(self.mapped('legal_hold')) else 'place',
            },
        }

    def _dossier_messages(self):
        """Exchanges of the tickets their party can see (the portal's view of the thread): emails
        and messages, the one that opened the ticket included; no internal notes, no staff-only
        logs, and no automatic notices (creation, tracked changes: ``_dossier_history``
        gives those). They make the ticket dossier and the personal data export. One query for
        any number of tickets; group them with ``res_id``."""
        if not self:
            return self.env['mail.message']
        domain = (
            Domain([('model', '=', self._name), ('res_id', 'in', self.ids)])
            & Domain('message_type', 'in', ['email', 'comment', 'auto_comment'])
            & self.env['mail.message']._get_search_domain_share()
        )
        return self.env['mail.message'].search(domain, order='date, id')

    @api.model
    def _dossier_tracked_fields(self):
        """Tracked fields whose history the party is given (dossier and personal data export):
        how its request was handled. The firm's own controls (legal hold, service level,
        escalation) stay out."""
        return [
            'name',
            'partner_id',
            'agent_partner_id',
            'mandate_id',
            'category_id',
            'team_id',
            'user_id',
            'stage_id',
            'priority',
            'date_deadline',
        ]

    def _dossier_history(self):
        """The tracked changes of the tickets, oldest first, formatted for the party in the
        language of the context: ``{ticket id: [{'date', 'field', 'old', 'new'}]}``.

        Changes logged with an internal note keep the note out: only the field, the old and the
        new value are given. A few queries whatever the number of tickets and changes.
        """
        history = {ticket.id: [] for ticket in self}
        if not self:
            return history
        # sudo: tracking values are readable by administrators only; the caller reads the tickets
        trackings_sudo = (
            self.env['mail.tracking.value']
            .sudo()
            .search(
                [
                    ('mail_message_id.model', '=', self._name),
                    ('mail_message_id.res_id', 'in', self.ids),
                    ('field_id.model', '=', self._name),
                    ('field_id.name', 'in', self._dossier_tracked_fields()),
                ]
            )
        )
        trackings_sudo = trackings_sudo._filter_free_field_access()
        formatted = {line['id']: line for line in trackings_sudo._tracking_value_format()}
        for tracking in trackings_sudo.sorted(lambda t: (t.mail_message_id.date, t.mail_message_id.id, t.id)):
            line = formatted[tracking.id]
            field_type = line['fieldInfo']['fieldType']
            history[tracking.mail_message_id.res_id].append(
                {
                    'date': tracking.mail_message_id.date,
                    'field': line['fieldInfo']['changedField'],
                    'old': self._format_tracked_value(line['oldValue'], field_type),
                    'new': self._format_tracked_value(line['newValue'], field_type),
                }
            )
        return history

    @api.model
    def _format_tracked_value(self, value, field_type):
        """A value of ``mail.tracking.value._tracking_value_format()`` as text for a person."""
        if field_type == 'boolean':
            return self.env._("Yes") if value else self.env._("No")
        if value is None or value is False or value == '':
            return ''
        if field_type == 'date':
            return format_date(self.env, value)
        if field_type == 'datetime':
            return format_datetime(self.env, fields.Datetime.to_datetime(str(value).rstrip('Z')))
        return str(value)

    def _dossier_documents(self):
        """Documents attached to the tickets themselves rather than to a message (uploaded in the
        backend, copied from an email to qualify): ``{ticket id: attachments}``."""
        Attachment = self.env['ir.attachment']
        documents = {ticket.id: Attachment for ticket in self}
        if not self:
            return documents
        attachments = Attachment.search(
            [('res_model', '=', self._name), ('res_id', 'in', self.ids)], order='create_date, id'
        )
        # sudo: only which attachments belong to a message is read, to leave them out
        in_messages = (
            self.env['mail.message']
            .sudo()
            .search_fetch(
                [('model', '=', self._name), ('res_id', 'in', self.ids), ('attachment_ids', 'in', attachments.ids)],
                ['attachment_ids'],
            )
            .attachment_ids
            if attachments
            else Attachment
        )
        for attachment in attachments - in_messages:
            documents[attachment.res_id] |= attachment
        return documents

    @api.model
    def _anonymous_partner(self):
        return self.env.ref('cabinet_helpdesk.res_partner_anonymous')

    @api.model
    def _anonymize_kept_tracked_fields(self):
        """Tracked fields whose history is kept on an anonymized ticket: they are needed for
        statistics (stage, team and assignment durations) and hold no personal data of the party."""
        return {
            'stage_id',
            'team_id',
            'user_id',
            'category_id',
            'priority',
            'date_deadline',
            'reminder_date',
            'legal_hold',
            'sla_policy_id',
            'sla_status',
            'escalation_level',
            'channel',
            'company_id',
        }

    def _anonymize(self):
        """Remove every personal datum of the party from the tickets, keeping what statistics need.

        The party becomes one anonymous placeholder partner; subject, description, message bodies,
        subjects, senders, authors and recipients, attachments, followers, activities, rating
        feedback and the tracked values of personal fields are wiped. Number, dates, request type,
        team, stage, assignee and service level data stay. Call it on a ``sudo()`` recordset, after
        the access check of the caller (retention cron, erasure by the data protection officer).
        """
        if not self:
            return
        # changes of this transaction not tracked yet would be, at commit, with their old values
        self._track_discard()
        anonymous = self._anonymous_partner()
        tickets = self.with_context(active_test=False, tracking_disable=True, mail_notrack=True)
        values = {
            'name': self.env._("Anonymized request"),
            'description': False,
            'partner_id': anonymous.id,
            'anonymized': True,
            'access_token': False,
        }
        for fname, field in self._fields.items():
            if (
                fname not in values
                and field.store
                and not field.compute
                and not field.related
                and field.type == 'many2one'
                and field.comodel_name == 'res.partner'
            ):
                values[fname] = False
        if 'mandate_id' in self._fields:
            values['mandate_id'] = False
        tickets.write(values)

        domain = [('model', '=', self._name), ('res_id', 'in', self.ids)]
        messages = self.env['mail.message'].sudo().search(domain)
        attachments = (
            self.env['ir.attachment'].sudo().search([('res_model', '=', self._name), ('res_id', 'in', self.ids)])
        )
        (attachments | messages.attachment_ids).unlink()
        self.env['mail.notification'].sudo().search([('mail_message_id', 'in', messages.ids)]).unlink()
        messages.reaction_ids.unlink()
        messages.message_link_preview_ids.unlink()
        self.env['mail.mail'].sudo().search([('mail_message_id', 'in', messages.ids)]).write(
            {
                'body_html': False,
                'email_to': False,
                'email_cc': False,
                'headers': False,
                'recipient_ids': [Command.clear()],
            }
        )
        messages.write(
            {
                'body': '',
                'subject': False,
                'email_from': False,
                'reply_to': False,
                'author_id': anonymous.id,
                'author_guest_id': False,
                'partner_ids': [Command.clear()],
                'starred_partner_ids': [Command.clear()],
                'incoming_email_to': False,
                'incoming_email_cc': False,
                'outgoing_email_to': False,
            }
        )
        kept = self._anonymize_kept_tracked_fields()
        messages.tracking_value_ids.filtered(lambda v: v.field_id.name not in kept).write(
            {
                'old_value_char': False,
                'new_value_char': False,
                'old_value_text': False,
                'new_value_text': False,
                'old_value_integer': 0,
                'new_value_integer': 0,
                'old_value_float': 0.0,
                'new_value_float': 0.0,
                'old_value_datetime': False,
                'new_value_datetime': False,
            }
        )
        self.env['mail.followers'].sudo().search([('res_model', '=', self._name), ('res_id', 'in', self.ids)]).unlink()
        self.env['mail.activity'].sudo().search([('res_model', '=', self._name), ('res_id', 'in', self.ids)]).unlink()
        ratings = self.env['rating.rating'].sudo().search([('res_model', '=', self._name), ('res_id', 'in', self.ids)])
        ratings.write({'partner_id': anonymous.id, 'feedback': False})
        for rating in ratings:
            rating.access_token = rating._default_access_token()  # rating links sent before stop working

    def _erasure_refusals(self):
        """Why the personal data of these tickets may not be erased yet: a legal hold, or a legal
        obligation to keep them (GDPR art. 17(3)(b)) whose period runs on, or would start when an
        open ticket closes. An empty list when nothing forbids the erasure.

        :rtype: list
        """
        today = fields.Date.context_today(self)
        reasons = []
        held = self.filtered('legal_hold')
        if held:
            reasons.append(
                self.env._(
                    "tickets %(numbers)s are under legal hold: the hold must be lifted first",
                    numbers=", ".join(held.mapped('number')),
                )
            )
        for ticket in (self - held).filtered(lambda t: t.legal_basis == 'legal_obligation'):
            policy = ticket.category_id.retention_policy_id
            if not policy:
                continue
            reference = policy.legal_reference or policy.name
            if not ticket.is_closed:
                reasons.append(
                    self.env._(
                        "ticket %(number)s is processed under a legal obligation (%(reference)s): once closed, "
                        "it must be kept %(months)s months",
                        number=ticket.number,
                        reference=reference,
                        months=policy.period_months,
                    )
                )
            elif ticket.retention_date and ticket.retention_date > today:
                reasons.append(
                    self.env._(
                        "ticket %(number)s must be kept until %(date)s by a legal obligation (%(reference)s)",
                        number=ticket.number,
                        date=fields.Date.to_string(ticket.retention_date),
                        reference=reference,
                    )
                )
        return reasons

    def _withdraw(self):
        """Close the open tickets as withdrawn because their requester's data is being erased.

        Nobody is notified and the change is not tracked: the tickets are anonymized in the same
        transaction, and a notification or a tracked change would carry the personal data again.
        ``_note_withdrawn`` records the reason once they are. Call it on a ``sudo()``
        recordset, after the caller's access check.
        """
        if not self:
            return
        stage = self.env.ref('cabinet_helpdesk.cabinet_stage_cancelled', raise_if_not_found=False)
        if not stage or not stage.is_closed:
            stage = self._closing_stage()
        if not stage:
            raise UserError(self.env._("No closing stage is configured: create a stage flagged as closing."))
        self.with_context(mail_notrack=True, tracking_disable=True).write({'stage_id': stage.id})

    def _note_withdrawn(self):
        """Record in each ticket why it was closed: withdrawn at its requester's erasure request."""
        for ticket in self:
            ticket.message_post(
                body=self.env._(
                    "Withdrawn: closed while open because its requester asked for the erasure of their personal "
                    "data (GDPR art. 17). The ticket was anonymized."
                ),
                message_type='notification',
                subtype_xmlid='mail.mt_note',
            )

    def _retention_log(self, action, reason):
        """Audit rows of the tickets, without personal data, before they are anonymized or deleted."""
        self.env['cabinet.retention.log'].sudo().create(
            [
                {
                    'ticket_number': ticket.number,
                    'closed_date': ticket.closed_date and ticket.closed_date.date(),
                    'category_id': ticket.category_id.id,
                    'policy_id': ticket.category_id.retention_policy_id.id,
                    'action': action,
                    'reason': reason,
                    'company_id': ticket.company_id.id,
                }
                for ticket in self
            ]
        )

    @api.model
    def _retention_due_domain(self):
        """Closed tickets past their retention date, not under legal hold, not yet anonymized."""
        return Domain(
            [
                ('is_closed', '=', True),
                ('retention_date', '<=', fields.Date.context_today(self)),
                ('legal_hold', '=', False),
                ('anonymized', '=', False),
            ]
        )

    def _apply_retention(self):
        """Anonymize or delete the tickets as their retention policy says; each leaves the due domain."""
        to_delete = self.filtered(lambda t: t.category_id.retention_policy_id.action == 'delete')
        to_anonymize = self - to_delete
        if to_anonymize:
            to_anonymize._retention_log('anonymize', 'retention')
            to_anonymize._anonymize()
        if to_delete:
            to_delete._retention_log('delete', 'retention')
            self.env['rating.rating'].sudo().search(
                [('res_model', '=', self._name), ('res_id', 'in', to_delete.ids)]
            ).unlink()
            to_delete.unlink()

    @api.model
    def _cron_apply_retention(self, batch_size=100):
        """Anonymize or delete the closed tickets whose retention period is over, in batches
        (and delete the personal data exports older than a week).

        Each batch is committed with its audit rows; a rerun starts where the last one stopped,
        as processed tickets leave the due domain. A ticket that fails is logged, left as it is
        for the next run and skipped for the rest of this one.
        """
        self.env['res.partner']._cabinet_gc_exports()
        Ticket = self.sudo().with_context(active_test=False)
        failed_ids = []
        while True:
            domain = self._retention_due_domain() & Domain('id', 'not in', failed_ids)
            tickets = Ticket.search(domain, limit=batch_size, order='id').try_lock_for_update()
            if not tickets:
                break
            try:
                with self.env.cr.savepoint():
                    tickets._apply_retention()
            except Exception:  # isolate the failing ticket(s), keep the others going
                for ticket in tickets:
                    try:
                        with self.env.cr.savepoint():
                            ticket._apply_retention()
                    except Exception:
                        _logger.exception("Retention could not be applied to ticket %s", ticket.id)
                        failed_ids.append(ticket.id)
            remaining = Ticket.search_count(self._retention_due_domain() & Domain('id', 'not in', failed_ids))
            if not self.env['ir.cron']._commit_progress(len(tickets), remaining=remaining):
                break
