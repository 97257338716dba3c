# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
import logging

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.fields import Command
from odoo.tools import format_datetime, is_html_empty

_logger = logging.getLogger(__name__)


class CabinetCoordination(models.Model):
    """Coordination of several parties around one subject, each party on its own ticket.

    The parties never share a thread: the organiser meets them, writes a synthesis, and
    ``action_send_synthesis`` posts it separately on each ticket, addressed to that ticket's
    requester only. One ticket per party, so that each party receives the synthesis once.

    Who may do what (``security/ir_rules.xml``): helpdesk users read and edit the coordinations
    they organise, those with a ticket of their teams (``team_ids``) and those whose tickets have
    no team; managers all of their companies. The tickets a user may not read stay hidden in
    it, only tickets the user may read can be added, and only who may read all of them sends
    the synthesis. The coordination's own thread is internal (see FOLLOWERS AND RECIPIENTS).
    """

    _name = 'cabinet.coordination'
    _description = "Coordination"
    _inherit = ['mail.thread', 'mail.activity.mixin']
    _order = 'meeting_date desc, id desc'
    _check_company_auto = True

    name = fields.Char(required=True, tracking=True)
    company_id = fields.Many2one('res.company', required=True, index=True, default=lambda self: self.env.company)
    user_id = fields.Many2one(
        'res.users',
        string="Organiser",
        index=True,
        tracking=True,
        default=lambda self: self.env.user,
        domain="[('share', '=', False), ('company_ids', 'in', company_id)]",
    )
    state = fields.Selection(
        [('draft', "Draft"), ('sent', "Sent")], required=True, default='draft', tracking=True, copy=False
    )
    # Parties, each on its own ticket
    ticket_ids = fields.Many2many(
        'cabinet.ticket',
        'cabinet_coordination_ticket_rel',
        'coordination_id',
        'ticket_id',
        string="Tickets",
        check_company=True,
        help="One ticket per party. The synthesis is posted on each of them, to its own requester only.",
    )
    ticket_count = fields.Integer(compute='_compute_ticket_count', export_string_translation=False)
    team_ids = fields.Many2many(
        'cabinet.team',
        'cabinet_coordination_team_rel',
        'coordination_id',
        'team_id',
        string="Teams",
        compute='_compute_team_ids',
        store=True,
        help="Teams of its tickets: their members and leaders see the coordination.",
    )
    # Meeting and synthesis
    meeting_date = fields.Datetime(tracking=True)
    synthesis = fields.Html(
        help="Sent as written to every party, each on its own ticket: it must not name another party "
        "nor quote their positions."
    )
    sent_date = fields.Datetime(readonly=True, copy=False)

    @api.depends('ticket_ids')
    def _compute_ticket_count(self):
        for coordination in self:
            coordination.ticket_count = len(coordination.ticket_ids)

    @api.depends('ticket_ids.team_id')
    def _compute_team_ids(self):
        # the record rules look at the teams, never at the tickets themselves: checking access
        # would otherwise read the tickets as superuser and keep them in cache for the user
        for coordination in self:
            coordination.team_ids = coordination.ticket_ids.team_id

    @api.constrains('ticket_ids')
    def _check_ticket_ids_one_per_party(self):
        # counted in the database: the tickets in cache may be those one user may read
        groups = (
            self.env['cabinet.ticket']
            .sudo()
            .with_context(active_test=False)
            ._read_group(
                [('coordination_ids', 'in', self.ids)], ['coordination_ids', 'commercial_partner_id'], ['__count']
            )
        )
        crowded = {coordination for coordination, _party, count in groups if count > 1}
        for coordination in self:
            if coordination in crowded:
                raise ValidationError(
                    self.env._(
                        "Each party takes part in a coordination through one ticket only: remove the extra "
                        "tickets of the same party from %(coordination)s.",
                        coordination=coordination.name,
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        self._check_linked_tickets([vals.get('ticket_ids') for vals in vals_list])
        return super().create(vals_list)

    def write(self, vals):
        if 'ticket_ids' in vals:
            self._check_linked_tickets([vals['ticket_ids']])
        return super().write(vals)

    def read(self, fields=None, load='_classic_read'):
        if not self.env.su and (fields is None or {'ticket_ids', 'ticket_count'} & set(fields)):
            # the tickets may be in cache as read by the superuser in this request (company and
            # party checks): read them again with the user's rights, so that those the user may
            # not read stay hidden
            self.invalidate_recordset(['ticket_ids', 'ticket_count'])
        return super().read(fields, load=load)

    def copy_data(self, default=None):
        vals_list = super().copy_data(default=default)
        return [
            dict(vals, name=self.env._("%s (copy)", coordination.name))
            for coordination, vals in zip(self, vals_list, strict=True)
        ]

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_send_synthesis(self):
        """Post the synthesis on each ticket, one message per ticket, addressed to that ticket's
        requester only; the followers of the tickets stay as they are."""
        for coordination in self:
            if coordination.state == 'sent':
                raise UserError(
                    self.env._(
                        "The synthesis of %(coordination)s was already sent: set it back to draft to send a "
                        "corrected version.",
                        coordination=coordination.name,
                    )
                )
            if is_html_empty(coordination.synthesis):
                raise UserError(
                    self.env._(
                        "Write the synthesis of %(coordination)s before sending it.", coordination=coordination.name
                    )
                )
            if not coordination.ticket_ids:
                raise UserError(
                    self.env._(
                        "Add the tickets of the parties of %(coordination)s before sending the synthesis.",
                        coordination=coordination.name,
                    )
                )
            # sudo: counted only, so that no party is left out without a word
            linked_count = (
                self.env['cabinet.ticket']
                .sudo()
                .with_context(active_test=False)
                .search_count([('coordination_ids', 'in', coordination.ids)])
            )
            if len(coordination.ticket_ids) != linked_count:
                raise UserError(
                    self.env._(
                        "You may not read every ticket of %(coordination)s, and the synthesis must reach every "
                        "party: it is sent by someone who may read all of its tickets, e.g. a manager.",
                        coordination=coordination.name,
                    )
                )
        for coordination in self:
            for ticket in coordination.ticket_ids:
                ticket.with_context(mail_post_autofollow_author_skip=True, mail_post_autofollow=False).message_post(
                    body=coordination._synthesis_body(ticket),
                    subject=self.env._("Meeting summary: %s", ticket.display_name),
                    partner_ids=ticket.partner_id.ids,
                    message_type='comment',
                    subtype_xmlid='mail.mt_comment',
                )
            coordination.write({'state': 'sent', 'sent_date': fields.Datetime.now()})
            # the count only: whoever reads the coordination may not read all of its tickets
            coordination.message_post(
                body=self.env._(
                    "Synthesis posted on %(count)s tickets, each to its own requester.",
                    count=len(coordination.ticket_ids),
                )
            )
        return True

    def action_reset_draft(self):
        self.write({'state': 'draft'})

    def action_view_tickets(self):
        self.ensure_one()
        action = self.env['ir.actions.act_window']._for_xml_id('cabinet_helpdesk.cabinet_ticket_action')
        action['domain'] = [('id', 'in', self.ticket_ids.ids)]
        action['context'] = {}
        action['view_mode'] = 'list,form'
        action['views'] = [(False, 'list'), (False, 'form')]
        return action

    # ------------------------------------------------------------
    # FOLLOWERS AND RECIPIENTS
    # ------------------------------------------------------------
    # The coordination's own thread is internal to the firm, never a thread the parties share:
    # each party hears of the coordination on its own ticket. Only staff who may read the
    # coordination follow it or receive its messages. A person who adds anyone else gets a
    # UserError; an email or a scheduled action drops them and logs it; notifications and
    # outgoing mails always drop them.

    def _filter_allowed_partners(self, partners):
        """Return the subset of ``partners`` that may follow this coordination or receive its
        messages: partners of internal users who may read it (the current user always may).

        :param partners: ``res.partner`` recordset to filter
        :return: the allowed subset, in the environment of ``partners``
        """
        self.ensure_one()
        if not partners:
            return partners
        # sudo: only the partners' share flag and users are read, to decide
        staff = partners.sudo().filtered(lambda p: not p.partner_share)
        readers = self._cabinet_staff_readers(staff, known_users=self.sudo().user_id) if staff else staff
        return partners.filtered(lambda p: p.id in readers.ids)

    def _enforce_allowed_partners(self, partners, message_type=None):
        """Return the allowed subset of ``partners`` (see ``_filter_allowed_partners``).
        When someone is not allowed, raise a UserError if a person asked for it, or drop them and
        log it when an email or a scheduled action did."""
        self.ensure_one()
        allowed = self._filter_allowed_partners(partners)
        refused = partners - allowed
        if not refused:
            return allowed
        if self.env['cabinet.party.thread']._mail_driven(message_type):
            _logger.info(
                "Coordination %s: ignored %s follower(s) or recipient(s) outside the firm's staff who may read it",
                self.id,
                len(refused),
            )
            return allowed
        raise UserError(
            self.env._(
                "%(names)s may not follow or receive coordination %(coordination)s: its thread is internal, for "
                "the firm's staff who may read it. Each party hears of the coordination on its own ticket, from "
                "the synthesis.",
                names=", ".join(refused.sudo().mapped('display_name')),
                coordination=self.name,
            )
        )

    def _message_subscribe(self, partner_ids=None, subtype_ids=None, customer_ids=None):
        if not self or not partner_ids:
            return super()._message_subscribe(partner_ids, subtype_ids, customer_ids=customer_ids)
        partners = self.env['res.partner'].browse(partner_ids)
        for coordination in self:
            allowed = coordination._enforce_allowed_partners(partners)
            if allowed:
                super(CabinetCoordination, coordination)._message_subscribe(
                    allowed.ids,
                    subtype_ids,
                    customer_ids=customer_ids and [pid for pid in customer_ids if pid in allowed.ids],
                )
        return True

    def message_post(self, *, partner_ids=None, outgoing_email_to=False, **kwargs):
        if (partner_ids or outgoing_email_to) and self and all(isinstance(pid, int) for pid in partner_ids or []):
            self.ensure_one()
            message_type = kwargs.get('message_type', 'notification')
            if outgoing_email_to:
                # bare addresses never receive the coordination: refused for a person, dropped for an email
                if not self.env['cabinet.party.thread']._mail_driven(message_type):
                    raise UserError(
                        self.env._(
                            "Messages of coordination %(coordination)s go to the firm's staff only, never to an "
                            "email address: write to each party on its own ticket.",
                            coordination=self.name,
                        )
                    )
                _logger.info("Coordination %s: ignored email address(es) of a message", self.id)
                outgoing_email_to = False
            partners = self.env['res.partner'].browse(partner_ids or [])
            partner_ids = self._enforce_allowed_partners(partners, message_type=message_type).ids
        return super().message_post(partner_ids=partner_ids, outgoing_email_to=outgoing_email_to, **kwargs)

    def _message_update_content(
        self, message, /, *, body, attachment_ids=None, partner_ids=None, strict=True, **kwargs
    ):
        if partner_ids:
            partner_ids = self._enforce_allowed_partners(
                self.env['res.partner'].browse([int(pid) for pid in partner_ids])
            ).ids
        return super()._message_update_content(
            message, body=body, attachment_ids=attachment_ids, partner_ids=partner_ids, strict=strict, **kwargs
        )

    def _message_get_suggested_recipients_batch(
        self, reply_discussion=False, reply_message=None, no_create=True, primary_email=False, additional_partners=None
    ):
        """Suggest only the firm's staff who may read the coordination."""
        suggested = super()._message_get_suggested_recipients_batch(
            reply_discussion=reply_discussion,
            reply_message=reply_message,
            no_create=no_create,
            primary_email=primary_email,
            additional_partners=additional_partners,
        )
        for coordination in self:
            recipients = suggested.get(coordination.id) or []
            partners = self.env['res.partner'].browse([r['partner_id'] for r in recipients if r.get('partner_id')])
            allowed = coordination._filter_allowed_partners(partners)
            suggested[coordination.id] = [r for r in recipients if r.get('partner_id') in allowed.ids]
        return suggested

    def _notify_get_recipients(self, message, msg_vals=False, **kwargs):
        """Last line of defence: whoever asked, only staff who may read the coordination are
        notified; contacts of the parties and bare addresses never are."""
        recipients_data = super()._notify_get_recipients(message, msg_vals=msg_vals, **kwargs)
        if len(self) != 1 or not recipients_data:
            return recipients_data
        Users = self.env['res.users']
        staff_uids = {r['uid'] for r in recipients_data if r['id'] and not r['share'] and r['uid']}
        reader_uids = {uid for uid in staff_uids if self._cabinet_filtered_readable(Users.browse(uid))}
        kept = [r for r in recipients_data if r['id'] and not r['share'] and r['uid'] in reader_uids]
        if len(kept) != len(recipients_data):
            _logger.info(
                "Coordination %s: message %s not sent to %s recipient(s) outside the staff who may read it",
                self.id,
                message.id,
                len(recipients_data) - len(kept),
            )
        return kept

    @api.model
    def _restrict_outgoing_mails(self, mails):
        """Last line of defence on outgoing ``mail.mail`` of coordinations (e.g. mass mailing from
        the composer): no address, and partner recipients limited to the staff who may read it.

        :param mails: ``mail.mail`` records (sudo) whose ``model`` is ``cabinet.coordination``
        """
        # sudo: outgoing mails are technical records; the coordinations are read to decide
        coordinations = self.browse(mails.mapped('res_id')).sudo().exists()
        for mail in mails:
            coordination = coordinations.browse(mail.res_id) if mail.res_id in coordinations.ids else None
            recipients = mail.recipient_ids
            allowed = coordination._filter_allowed_partners(recipients) if coordination else recipients.browse()
            vals = {}
            if mail.email_to or mail.email_cc:
                vals.update(email_to=False, email_cc=False)
            if allowed != recipients:
                vals['recipient_ids'] = [Command.set(allowed.ids)]
            if vals:
                _logger.info("Coordination %s: mail %s limited to the staff who may read it", mail.res_id, mail.id)
                mail.write(vals)

    # ------------------------------------------------------------
    # HELPERS
    # ------------------------------------------------------------

    def _check_linked_tickets(self, commands_list):
        """Check that the current user may read the tickets the x2many ``commands_list`` link
        (the ids come from the user): an AccessError, never a coordination naming a ticket the
        user may not read.

        :param list commands_list: values of ``ticket_ids`` (commands or ids), one per record
        """
        ticket_ids = set()
        for commands in commands_list:
            for command in commands or ():
                if isinstance(command, int):
                    ticket_ids.add(command)
                elif isinstance(command, (list, tuple)) and command and command[0] == Command.LINK:
                    ticket_ids.add(command[1])
                elif isinstance(command, (list, tuple)) and command and command[0] == Command.SET:
                    ticket_ids.update(command[2] or ())
        self.env['cabinet.ticket'].browse(ticket_ids).check_access('read')

    def _synthesis_body(self, ticket):
        """Body posted on ``ticket``: a heading naming only the meeting date, then the synthesis
        as the organiser wrote it."""
        self.ensure_one()
        partner = ticket.partner_id
        if self.meeting_date:
            when = format_datetime(
                self.env,
                self.meeting_date,
                tz=partner.tz or self.env.user.tz,
                dt_format='medium',
                lang_code=partner.lang,
            )
            heading = self.env._("Summary of the coordination meeting of %s", when)
        else:
            heading = self.env._("Summary of the coordination")
        return Markup("<p><strong>%s</strong></p>%s") % (heading, self.synthesis)
