# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import format_datetime, is_html_empty


class CabinetCoordination(models.Model):
    """Coordination of several parties around one subject, each party on its own ticket.

    The parties never share a thread: the organiser meets them, writes a synthesis, and
    ``action_send_synthesis`` posts it separately on each ticket, addressed to that ticket's
    requester only. One ticket per party, so that each party receives the synthesis once.
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

    @api.constrains('ticket_ids')
    def _check_ticket_ids_one_per_party(self):
        for coordination in self:
            parties = coordination.ticket_ids.commercial_partner_id
            if len(parties) != len(coordination.ticket_ids):
                raise ValidationError(
                    self.env._(
                        "Each party takes part in a coordination through one ticket only: remove the extra "
                        "tickets of the same party from %(coordination)s.",
                        coordination=coordination.name,
                    )
                )

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
            coordination.message_post(
                body=self.env._(
                    "Synthesis posted on %(count)s tickets, each to its own requester: %(numbers)s",
                    count=len(coordination.ticket_ids),
                    numbers=", ".join(coordination.ticket_ids.mapped('number')),
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
    # HELPERS
    # ------------------------------------------------------------

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
