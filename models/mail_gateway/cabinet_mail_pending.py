# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Command
from odoo.tools import email_normalize


class CabinetMailPending(models.Model):
    """An email the gateway could not attribute to a party for certain: no, malformed or several
    senders, an address that contacts of several parties have, or an email it could not read
    (kept with the original as received, ``original_email.eml``).

    Nothing is dropped: the email (body and attachments) is kept here, in the record and in its
    chatter, until a person picks the requester and turns it into a ticket, or discards it.
    Helpdesk users read and qualify the emails of their own teams' aliases and those without a
    team; managers read all of them and may also delete them.
    """

    _name = 'cabinet.mail.pending'
    _description = "Email to Qualify"
    _inherit = ['mail.thread', 'cabinet.ticket.reference.mixin']
    _order = 'date desc, id desc'
    _check_company_auto = True

    name = fields.Char(string="Subject", required=True)
    email_from = fields.Char(string="Raw Sender", readonly=True, help="The From header as received.")
    reason = fields.Selection(
        [
            ('missing', "No sender"),
            ('malformed', "Malformed sender"),
            ('several', "Several senders"),
            ('ambiguous', "Address of several parties"),
            ('unreadable', "Unreadable email"),
        ],
        required=True,
        readonly=True,
        help="Why the email could not open a ticket by itself:\n"
        "- No sender, Malformed sender, Several senders: the From header names no single, valid address;\n"
        "- Address of several parties: contacts of different parties have the sender's address, so nobody "
        "can tell whose request it is;\n"
        "- Unreadable email: the email could not be read; the original is attached as received.",
    )
    body = fields.Html(readonly=True)
    date = fields.Datetime(readonly=True, default=fields.Datetime.now)
    message_id_header = fields.Char(string="Message-ID", readonly=True, export_string_translation=False)
    attachment_ids = fields.Many2many('ir.attachment', compute='_compute_attachment_ids', string="Attachments")
    team_id = fields.Many2one('cabinet.team', index=True, check_company=True)
    company_id = fields.Many2one('res.company', required=True, index=True, default=lambda self: self.env.company)
    state = fields.Selection(
        [('pending', "To Qualify"), ('done', "Ticket Created"), ('discarded', "Discarded")],
        required=True,
        default='pending',
        index=True,
        tracking=True,
    )
    partner_id = fields.Many2one(
        'res.partner',
        string="Requester",
        check_company=True,
        tracking=True,
        help="The contact who sent the email, found by a person.",
    )
    ticket_id = fields.Many2one('cabinet.ticket', readonly=True, index='btree_not_null', check_company=True)

    def _compute_attachment_ids(self):
        attachments_by_pending = defaultdict(list)
        for attachment in self.env['ir.attachment'].search(
            [('res_model', '=', self._name), ('res_id', 'in', self.ids)]
        ):
            attachments_by_pending[attachment.res_id].append(attachment.id)
        for pending in self:
            pending.attachment_ids = [Command.set(attachments_by_pending[pending.id])]

    @api.model
    def _create_from_mail(self, msg_dict, values, refused, reason=None, email_from=None):
        """Keep an incoming email that cannot open a ticket by itself.

        :param dict msg_dict: the parsed email (the gateway posts it on the returned record)
        :param dict values: values of the route (team, company)
        :param list refused: ``(name, size in MB)`` of attachments refused for their size
        :param str reason: why (a value of ``reason``); by default from the sender address
        :param str email_from: the From header as received, if not ``msg_dict['email_from']``
        :return: the new record
        """
        email_from = ((msg_dict.get('email_from') if email_from is None else email_from) or '').strip()
        if not reason:
            reason = 'missing' if not email_from else 'ambiguous' if email_normalize(email_from) else 'malformed'
        team = self.env['cabinet.team'].browse(values.get('team_id'))
        pending = self.create(
            {
                'name': (msg_dict.get('subject') or '').strip() or self.env._("Email without subject"),
                'email_from': email_from,
                'reason': reason,
                'body': msg_dict.get('body'),
                'date': msg_dict.get('date') or fields.Datetime.now(),
                'message_id_header': msg_dict.get('message_id'),
                'team_id': team.id,
                'company_id': values.get('company_id') or team.company_id.id or self.env.company.id,
            }
        )
        # the sender stays in email_from above; the kept message and its notifications come from
        # OdooBot: no email can be sent from an address that does not exist, and the email is
        # attributed to nobody until a person qualifies it
        msg_dict.update(email_from=False, author_id=False)
        if reason == 'unreadable':
            # the original goes on the record, not on the kept message: notifications never carry
            # an email that broke the gateway's reader (it could break the sending too)
            self.env['ir.attachment'].create(
                [
                    {
                        'name': attachment[0],
                        'raw': attachment[1].encode() if isinstance(attachment[1], str) else attachment[1],
                        'mimetype': 'application/octet-stream',
                        'res_model': self._name,
                        'res_id': pending.id,
                    }
                    for attachment in msg_dict.pop('attachments', None) or []
                ]
            )
        # the team leader follows it, so that a person hears of the email as it arrives
        pending.message_subscribe(partner_ids=team.leader_id.partner_id.ids)
        if refused:
            pending.message_post(
                body=self.env._(
                    "Attachments refused because they exceed the size limit: %s",
                    ", ".join(f"{name} ({size} MB)" for name, size in refused),
                ),
                message_type='notification',
                subtype_xmlid='mail.mt_note',
            )
        return pending

    def action_create_ticket(self):
        """Open a ticket for the chosen requester with the kept email: body, date and attachments."""
        self.ensure_one()
        if self.state != 'pending':
            raise UserError(self.env._("This email was already handled."))
        if not self.partner_id:
            raise UserError(self.env._("Choose the requester, the contact who sent this email, first."))
        self.check_access('write')
        ticket = self.env['cabinet.ticket'].create(
            {
                'name': self.name,
                'partner_id': self.partner_id.id,
                'team_id': self.team_id.id,
                'company_id': self.company_id.id,
                'channel': 'email',
            }
        )
        attachments = self.attachment_ids.copy({'res_model': ticket._name, 'res_id': ticket.id})
        ticket.with_context(mail_post_autofollow_author_skip=True).message_post(
            body=self.body,
            author_id=self.partner_id.id,
            date=self.date,
            attachment_ids=attachments.ids,
            message_type='email',
            subtype_xmlid='mail.mt_comment',
        )
        self.write({'state': 'done', 'ticket_id': ticket.id})
        return {
            'type': 'ir.actions.act_window',
            'res_model': 'cabinet.ticket',
            'res_id': ticket.id,
            'view_mode': 'form',
            'views': [(False, 'form')],
        }

    def action_discard(self):
        self.filtered(lambda pending: pending.state == 'pending').state = 'discarded'

    def action_reset(self):
        self.filtered(lambda pending: pending.state == 'discarded').state = 'pending'
