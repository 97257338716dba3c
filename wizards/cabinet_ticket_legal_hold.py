# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.fields import Command


class CabinetTicketLegalHold(models.TransientModel):
    _name = 'cabinet.ticket.legal.hold'
    _inherit = ['cabinet.ticket.reference.mixin']
    _description = "Place or Lift a Legal Hold"

    ticket_ids = fields.Many2many('cabinet.ticket', string="Tickets")
    # From the person's record: every ticket of the person, confidential ones included
    partner_id = fields.Many2one(
        'res.partner',
        string="Data Subject",
        readonly=True,
        help="The hold applies to every ticket of this person and of their contacts, confidential ones "
        "included, without opening them.",
    )
    partner_ticket_count = fields.Integer(
        string="Tickets of the Person", compute='_compute_partner_ticket_count', export_string_translation=False
    )
    legal_hold = fields.Selection(
        [('place', "Place a legal hold"), ('lift', "Lift the legal hold")],
        string="Action",
        required=True,
        default='place',
    )
    reason = fields.Text(
        required=True,
        help="Why the tickets must be kept (dispute, claim, authority request) or may be "
        "released. Posted as an internal note on each ticket.",
    )

    @api.depends('partner_id', 'legal_hold')
    def _compute_partner_ticket_count(self):
        for wizard in self:
            wizard.partner_ticket_count = len(wizard._partner_tickets_sudo()) if wizard.partner_id else 0

    @api.model
    def default_get(self, fields):
        """Tickets selected in a list (action menu): hold them, or lift the hold when all are held."""
        defaults = super().default_get(fields)
        context = self.env.context
        if (
            context.get('active_model') != 'cabinet.ticket'
            or not context.get('active_ids')
            or context.get('default_ticket_ids')
        ):
            return defaults
        tickets = self.env['cabinet.ticket'].browse(context['active_ids'])
        if 'ticket_ids' in fields:
            defaults['ticket_ids'] = [Command.set(tickets.ids)]
        if 'legal_hold' in fields and 'default_legal_hold' not in context and all(tickets.mapped('legal_hold')):
            defaults['legal_hold'] = 'lift'
        return defaults

    def action_apply(self):
        """Place or lift the hold on the tickets the data protection officer may read; the tracked
        change carries the reason, as an internal note on each ticket."""
        self.ensure_one()
        if not self.env.user._cabinet_is_dpo():
            raise AccessError(self.env._("Only the data protection officer may place or lift a legal hold."))
        reason = (self.reason or '').strip()
        if not reason:
            raise UserError(self.env._("Say why the legal hold is placed or lifted."))
        hold = self.legal_hold == 'place'
        if self.partner_id:
            tickets_sudo = self._partner_tickets_sudo()
        elif self.ticket_ids:
            self.ticket_ids.check_access('read')
            tickets_sudo = self.ticket_ids.sudo()
        else:
            raise UserError(self.env._("Choose the tickets to hold."))
        tickets_sudo = tickets_sudo.filtered(lambda t: t.legal_hold != hold)
        if not tickets_sudo:
            return {'type': 'ir.actions.act_window_close'}
        self.env['cabinet.gdpr.log']._log_action('legal_hold' if hold else 'legal_hold_lift', tickets_sudo)
        if hold:
            body = Markup("<p>%s</p><p>%s</p>") % (self.env._("Legal hold placed. Reason:"), reason)
        else:
            body = Markup("<p>%s</p><p>%s</p>") % (self.env._("Legal hold lifted. Reason:"), reason)
        # one internal note per ticket holding both the tracked change and its reason
        tickets_sudo._track_set_log_message(body)
        tickets_sudo.write({'legal_hold': hold})
        return {'type': 'ir.actions.act_window_close'}

    def _partner_tickets_sudo(self):
        """The tickets of the data subject and of their contacts in the user's companies, for the
        data protection officer only (sudo: confidential tickets are reached without being read
        in the ticket views)."""
        self.ensure_one()
        if not self.env.user._cabinet_is_dpo():
            raise AccessError(self.env._("Only the data protection officer may place or lift a legal hold."))
        self.partner_id.check_access('read')
        persons_sudo = self.partner_id._cabinet_gdpr_persons()
        return (
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
