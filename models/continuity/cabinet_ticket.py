# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from markupsafe import Markup

from odoo import api, fields, models


class CabinetTicket(models.Model):
    _inherit = 'cabinet.ticket'

    @api.model_create_multi
    def create(self, vals_list):
        explicit = [bool(vals.get('user_id')) for vals in vals_list]
        tickets = super().create(vals_list)
        # automatic assignment already skips absent members; a ticket given by hand to someone away
        # goes to their deputy, or to another present member
        assigned = tickets.browse(
            ticket.id for ticket, is_explicit in zip(tickets, explicit, strict=True) if is_explicit and ticket.team_id
        )
        now = fields.Datetime.now()
        for team, team_tickets in assigned.grouped('team_id').items():
            absent = team_tickets.user_id._cabinet_absent_at(now, team.company_id, team.resource_calendar_id)
            if not absent:
                continue
            for ticket in team_tickets:
                if ticket.user_id in absent:
                    ticket._hand_over_from_absent()
        return tickets

    def _hand_over_from_absent(self):
        """Give this new ticket, assigned to someone away, to their substitute and say so in its history."""
        self.ensure_one()
        team, absent_user = self.team_id, self.user_id
        substitute = team._get_substitute(absent_user, self)
        if substitute == absent_user:
            return
        if substitute:
            body = self.env._(
                "%(user)s is away: assigned to %(substitute)s instead.",
                user=absent_user.display_name,
                substitute=substitute.display_name,
            )
        else:
            body = self.env._("%(user)s is away: the ticket waits in the team's queue.", user=absent_user.display_name)
        # sudo: the assignment the creator chose is replaced by the one the team's rules give
        self.sudo().write({'user_id': substitute.id})
        self.sudo().message_post(body=Markup("<p>%s</p>") % body, subtype_xmlid='mail.mt_note')
