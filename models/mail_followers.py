# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
import logging

from odoo import api, models
from odoo.exceptions import MissingError, UserError

_logger = logging.getLogger(__name__)


class MailFollowers(models.Model):
    """Followers of a ticket are visible only to whoever may read the ticket (record rule on
    ``cabinet_ticket_readable``, see ``cabinet.ticket.linked.mixin``); who may follow a ticket at
    all is checked here, whatever the path."""

    _name = 'mail.followers'
    _inherit = ['mail.followers', 'cabinet.ticket.linked.mixin']

    @api.model_create_multi
    def create(self, vals_list):
        """Last line of defence of the ticket follower rule: whatever path creates followers of
        a ticket (auto-subscription, direct creation), partners outside the rule are dropped."""
        ticket_ids = {
            vals['res_id']
            for vals in vals_list
            if vals.get('res_model') == 'cabinet.ticket' and vals.get('res_id') and vals.get('partner_id')
        }
        if ticket_ids:
            vals_list = self._cabinet_filter_ticket_followers(vals_list, ticket_ids)
        return super().create(vals_list)

    def write(self, vals):
        if vals.keys() & {'partner_id', 'res_id', 'res_model'}:
            for follower in self:
                values = {
                    'res_model': vals.get('res_model', follower.res_model),
                    'res_id': vals.get('res_id', follower.res_id),
                    'partner_id': vals.get('partner_id', follower.partner_id.id),
                }
                if (
                    values['res_model'] == 'cabinet.ticket'
                    and values['partner_id']
                    and not (self._cabinet_filter_ticket_followers([values], {values['res_id']}))
                ):
                    raise UserError(
                        self.env._(
                            "Only contacts of a ticket's party, the agent of an active mandate of that party and the "
                            "firm's staff may follow the ticket."
                        )
                    )
        return super().write(vals)

    @api.model
    def _cabinet_filter_ticket_followers(self, vals_list, ticket_ids):
        # sudo: followers are technical records; the rule reads the tickets' party and mandates
        tickets = self.env['cabinet.ticket'].sudo().browse(ticket_ids)
        partners = self.env['res.partner'].browse(
            {vals['partner_id'] for vals in vals_list if vals.get('res_model') == 'cabinet.ticket'}
        )
        allowed = {}
        for ticket in tickets:
            try:
                allowed[ticket.id] = ticket._cabinet_filter_allowed_partners(partners).ids
            except MissingError:
                continue  # no such ticket: nobody may follow it
        kept = []
        for vals in vals_list:
            if (
                vals.get('res_model') == 'cabinet.ticket'
                and vals.get('partner_id')
                and (vals['partner_id'] not in allowed.get(vals.get('res_id'), ()))
            ):
                _logger.info(
                    "Ticket %s: partner %s not added as follower, outside its party",
                    vals.get('res_id'),
                    vals['partner_id'],
                )
                continue
            kept.append(vals)
        return kept
