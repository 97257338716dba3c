# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from odoo import api, models
from odoo.exceptions import AccessError

# What ties a rating to its ticket (and to the person rated): set by the system only
TICKET_LINK_FIELDS = frozenset(
    {
        'res_model_id',
        'res_model',
        'res_id',
        'parent_res_model_id',
        'parent_res_model',
        'parent_res_id',
        'rated_partner_id',
    }
)


class RatingRating(models.Model):
    """Ratings of tickets are visible only to whoever may read the ticket (record rule on
    ``cabinet_ticket_readable``, see ``cabinet.ticket.linked.mixin``). Only the system ties a
    rating to a ticket: nobody re-points a rating to another ticket (its name is computed as
    superuser) nor files one on a ticket by hand."""

    _name = 'rating.rating'
    _inherit = ['rating.rating', 'cabinet.ticket.linked.mixin']

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su and any(self._cabinet_targets_ticket(vals) for vals in vals_list):
            raise self._cabinet_link_error()
        return super().create(vals_list)

    def write(self, vals):
        if not self.env.su and vals.keys() & TICKET_LINK_FIELDS:
            # sudo: the document of ratings the user may write, to decide
            if self._cabinet_targets_ticket(vals) or 'cabinet.ticket' in self.sudo().mapped('res_model'):
                raise self._cabinet_link_error()
        return super().write(vals)

    @api.model
    def _cabinet_targets_ticket(self, vals):
        """Whether the values ``vals`` of a rating point it to a ticket."""
        if vals.get('res_model') == 'cabinet.ticket' or vals.get('parent_res_model') == 'cabinet.ticket':
            return True
        model_ids = {vals.get('res_model_id'), vals.get('parent_res_model_id')} - {None, False}
        # sudo: model names are not secret, employees may not read ir.model
        return 'cabinet.ticket' in self.env['ir.model'].sudo().browse(list(model_ids)).mapped('model')

    @api.model
    def _cabinet_link_error(self):
        return AccessError(
            self.env._(
                "Ratings of tickets are filed by the helpdesk when a client rates an answer: they cannot be "
                "created by hand nor moved to another document or person."
            )
        )
