# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from odoo import fields, models
from odoo.exceptions import UserError


class CabinetTeam(models.Model):
    _inherit = 'cabinet.team'

    away_user_ids = fields.Many2many(
        'res.users',
        string="Away Today",
        compute='_compute_away_user_ids',
        help="Members and leader away now: a leave of their working calendar covers this moment.",
    )

    def _compute_away_user_ids(self):
        now = fields.Datetime.now()
        for (company, calendar), teams in self.grouped(lambda t: (t.company_id, t.resource_calendar_id)).items():
            staff = teams.member_ids | teams.leader_id
            absent = staff._cabinet_absent_at(now, company, calendar)
            for team in teams:
                team.away_user_ids = (team.member_ids | team.leader_id) & absent

    def _filter_assignable(self, users):
        """Automatic assignment never picks an absent member."""
        users = super()._filter_assignable(users)
        absent = users._cabinet_absent_at(fields.Datetime.now(), self.company_id, self.resource_calendar_id)
        return users - absent

    def _get_substitute(self, user, tickets):
        """Return who takes ``tickets`` of this team meant for ``user`` while ``user`` is away: their
        deputy when the deputy handles the team (member or leader), is present and may read the
        tickets; otherwise another present member chosen by the team's assignment method (nobody
        with manual assignment).

        :param user: the absent ``res.users``
        :param tickets: ``cabinet.ticket`` records of this team
        """
        self.ensure_one()
        deputy = self._get_deputy(user, tickets)
        return deputy or self._get_assignee_for_new_ticket(tickets)

    def _get_deputy(self, user, tickets):
        """Return ``user``'s deputy when they may take ``tickets`` of this team now, or no user."""
        self.ensure_one()
        deputy = user.cabinet_deputy_id
        if (
            not deputy.active
            or deputy not in self.member_ids | self.leader_id
            or deputy._cabinet_absent_at(fields.Datetime.now(), self.company_id, self.resource_calendar_id)
            or len(tickets._cabinet_filtered_readable(deputy)) != len(tickets)
        ):
            return self.env['res.users']
        return deputy

    def action_hand_over_to_deputies(self):
        """Give the open tickets of this team held by members away today to their deputies, with the
        reassignment wizard: the reason is kept in each ticket's history along with the tracked change,
        and the open activities follow the tickets. Tickets a deputy may not read stay where they are."""
        self.ensure_one()
        handed_over = 0
        Reassign = self.env['cabinet.ticket.reassign']
        for user in self.away_user_ids:
            tickets = self.env['cabinet.ticket'].search(
                [('team_id', '=', self.id), ('user_id', '=', user.id), ('is_closed', '=', False)]
            )
            deputy = user.cabinet_deputy_id
            tickets = tickets._cabinet_filtered_readable(deputy) if deputy else tickets.browse()
            if not tickets or not self._get_deputy(user, tickets):
                continue
            reason = self.env._(
                "%(user)s is away: their open tickets go to their deputy %(deputy)s.",
                user=user.display_name,
                deputy=deputy.display_name,
            )
            Reassign.create(
                {'ticket_ids': tickets.ids, 'team_id': self.id, 'user_id': deputy.id, 'reason': reason}
            ).action_reassign()
            handed_over += len(tickets)
        if not handed_over:
            raise UserError(
                self.env._(
                    "Nothing to hand over: no member of %(team)s away today has open tickets and a deputy "
                    "who is present and handles the team.",
                    team=self.display_name,
                )
            )
        return {
            'type': 'ir.actions.client',
            'tag': 'display_notification',
            'params': {
                'type': 'success',
                'message': self.env._("%(count)s tickets handed over to deputies.", count=handed_over),
                'next': {'type': 'ir.actions.act_window_close'},
            },
        }
