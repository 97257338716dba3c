# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Command


class CabinetTicketReassign(models.TransientModel):
    _name = 'cabinet.ticket.reassign'
    _inherit = ['cabinet.ticket.reference.mixin']
    _description = "Reassign Tickets"

    ticket_ids = fields.Many2many('cabinet.ticket', string="Tickets", required=True)
    team_id = fields.Many2one('cabinet.team', string="New Team", required=True)
    team_user_ids = fields.Many2many('res.users', compute='_compute_team_user_ids', export_string_translation=False)
    user_id = fields.Many2one(
        'res.users',
        string="New Assignee",
        domain="[('share', '=', False), ('id', 'in', team_user_ids)]",
        help="A member or the leader of the new team. Empty: the tickets wait unassigned in the team's queue.",
    )
    reason = fields.Text(
        required=True,
        help="Why the tickets change hands. Posted as an internal note on each ticket, with the change.",
    )

    @api.depends('team_id')
    def _compute_team_user_ids(self):
        for wizard in self:
            wizard.team_user_ids = (wizard.team_id.member_ids | wizard.team_id.leader_id).filtered(
                lambda user: not user.share
            )

    @api.model
    def default_get(self, fields):
        """Tickets selected in a list (action menu) or the ticket of the form; their team when they share one."""
        defaults = super().default_get(fields)
        context = self.env.context
        if context.get('active_model') != 'cabinet.ticket' or not context.get('active_ids'):
            return defaults
        tickets = self.env['cabinet.ticket'].browse(context['active_ids'])
        if 'ticket_ids' in fields and not defaults.get('ticket_ids'):
            defaults['ticket_ids'] = [Command.set(tickets.ids)]
        if 'team_id' in fields and not defaults.get('team_id') and len(tickets.team_id) == 1:
            defaults['team_id'] = tickets.team_id.id
        return defaults

    @api.onchange('team_id')
    def _onchange_team_id(self):
        if self.user_id and self.user_id not in self.team_user_ids:
            self.user_id = False

    def action_reassign(self):
        """Give the tickets to the chosen team and assignee. Each ticket gets one internal note
        holding the tracked change (old and new team and assignee) and the reason; the open
        activities of the former assignee on the ticket go to the new assignee. Followers,
        messages and activities are kept."""
        self.ensure_one()
        reason = (self.reason or '').strip()
        if not reason:
            raise UserError(self.env._("Say why the tickets are reassigned: the reason is kept in their history."))
        team, user = self.team_id, self.user_id
        # the tickets come from the user: check them before anything of them is read or shown
        self.ticket_ids.check_access('write')
        if user and (user.share or user not in self.team_user_ids):
            raise UserError(
                self.env._(
                    "%(user)s is not a member of %(team)s: choose a member of the team or add them to it first.",
                    user=user.display_name,
                    team=team.display_name,
                )
            )
        tickets = self.ticket_ids.filtered(lambda t: t.team_id != team or t.user_id != user)
        if not tickets:
            raise UserError(self.env._("Nothing changes: the tickets already belong to this team and assignee."))
        Activity = self.env['mail.activity']
        activities_by_ticket = {}
        if user:
            # sudo: the user may write these tickets (checked above); the activities of the former
            # assignee on them are handed over with the tickets, and only those
            activities_sudo = Activity.sudo().search(
                [('res_model', '=', 'cabinet.ticket'), ('res_id', 'in', tickets.ids), ('user_id', '!=', False)]
            )
            for activity_sudo in activities_sudo:
                ticket = tickets.browse(activity_sudo.res_id)
                if ticket.user_id and activity_sudo.user_id == ticket.user_id and ticket.user_id != user:
                    activities_by_ticket.setdefault(ticket, Activity.sudo())
                    activities_by_ticket[ticket] |= activity_sudo
        for ticket in tickets:
            body = Markup("<p>%s</p><p>%s</p>") % (self.env._("Reassigned. Reason:"), reason)
            activities_sudo = activities_by_ticket.get(ticket)
            if activities_sudo:
                body += Markup("<p>%s</p>") % self.env._(
                    "Open activities of %(old)s on this ticket handed over to %(new)s: %(count)s.",
                    count=len(activities_sudo),
                    old=ticket.user_id.display_name,
                    new=user.display_name,
                )
            if self._tracking_pending(ticket):
                # one internal note per ticket holding both the tracked change and its reason
                ticket._track_set_log_message(body)
            else:
                # no tracking for this ticket in this transaction (e.g. created in it): the
                # reason is recorded all the same
                ticket.message_post(body=body, subtype_xmlid='cabinet_helpdesk.mt_ticket_reassigned')
        tickets.write({'team_id': team.id, 'user_id': user.id})
        for activities_sudo in activities_by_ticket.values():
            activities_sudo.write({'user_id': user.id})
        if user:
            # sudo: the user could write these tickets (checked above) and may no longer see those
            # given to another team; the new assignee follows them, now that they may read them
            tickets_sudo = tickets.sudo()
            tickets_sudo.filtered(lambda t: user.partner_id not in t.message_partner_ids).message_subscribe(
                partner_ids=user.partner_id.ids
            )
        return {'type': 'ir.actions.act_window_close'}

    def _tracking_pending(self, ticket):
        """Whether changes of ``ticket`` will be tracked when the transaction ends: not when
        tracking is disabled, nor for a ticket created in the same transaction."""
        context = self.env.context
        if context.get('tracking_disable') or context.get('mail_notrack'):
            return False
        return self.env.cr.precommit.data.get(f'mail.tracking.{ticket._name}', {}).get(ticket.id, {}) is not None
