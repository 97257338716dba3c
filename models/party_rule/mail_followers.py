# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
import logging
from collections import defaultdict

from odoo import api, models
from odoo.exceptions import MissingError, UserError

from .cabinet_party_thread import is_party_thread

_logger = logging.getLogger(__name__)


class MailFollowers(models.Model):
    """Followers of a ticket are visible only to whoever may read the ticket (record rule on
    ``cabinet_ticket_readable``, see ``cabinet.ticket.linked.mixin``); who may follow a thread of
    one party (``cabinet.party.thread``) at all is checked here, whatever the path."""

    _name = 'mail.followers'
    _inherit = ['mail.followers', 'cabinet.ticket.linked.mixin']

    @api.model_create_multi
    def create(self, vals_list):
        """Last line of defence of the party rule on followers: whatever path creates followers
        of a thread of one party (auto-subscription, direct creation), partners outside the rule
        are dropped."""
        if any(
            vals.get('res_id') and vals.get('partner_id') and is_party_thread(self.env, vals.get('res_model'))
            for vals in vals_list
        ):
            vals_list = self._cabinet_filter_party_followers(vals_list)
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
                    is_party_thread(self.env, values['res_model'])
                    and values['partner_id']
                    and not (self._cabinet_filter_party_followers([values]))
                ):
                    raise UserError(
                        self.env._(
                            "Only contacts of a ticket's party, the agent of an active mandate of that party and the "
                            "firm's staff may follow the ticket."
                        )
                    )
        return super().write(vals)

    @api.model
    def _cabinet_filter_party_followers(self, vals_list):
        """Drop the values of followers of threads of one party whose partner may not follow them."""
        # sudo: followers are technical records; the rule reads the threads' party and mandates
        thread_ids = defaultdict(set)
        partner_ids = set()
        for vals in vals_list:
            if vals.get('res_id') and vals.get('partner_id') and is_party_thread(self.env, vals.get('res_model')):
                thread_ids[vals['res_model']].add(vals['res_id'])
                partner_ids.add(vals['partner_id'])
        partners = self.env['res.partner'].browse(partner_ids)
        allowed = {}
        for model, res_ids in thread_ids.items():
            for thread in self.env[model].sudo().browse(res_ids):
                try:
                    allowed[model, thread.id] = thread._filter_allowed_partners(partners).ids
                except MissingError:
                    continue  # no such record: nobody may follow it
        kept = []
        for vals in vals_list:
            if (
                is_party_thread(self.env, vals.get('res_model'))
                and vals.get('partner_id')
                and (vals['partner_id'] not in allowed.get((vals['res_model'], vals.get('res_id')), ()))
            ):
                _logger.info(
                    "Ticket %s: partner %s not added as follower, outside its party",
                    vals.get('res_id'),
                    vals['partner_id'],
                )
                continue
            kept.append(vals)
        return kept
