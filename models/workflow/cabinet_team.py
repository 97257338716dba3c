# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from odoo import fields, models
from odoo.fields import Domain


class CabinetTeam(models.Model):
    _inherit = 'cabinet.team'

    to_approve_ticket_count = fields.Integer(compute='_compute_workflow_counts', string="Requests to Approve")
    urgency_high_count = fields.Integer(compute='_compute_workflow_counts', string="Open: High Urgency")
    urgency_medium_count = fields.Integer(compute='_compute_workflow_counts', string="Open: Medium Urgency")
    urgency_low_count = fields.Integer(compute='_compute_workflow_counts', string="Open: Low Urgency")

    def _compute_workflow_counts(self):
        """Counts of the overview, of the tickets the current user may read: requests waiting for
        approval, open incidents by urgency."""
        Ticket = self.env['cabinet.ticket']
        base = Domain('team_id', 'in', self.ids)
        to_approve = dict(
            Ticket._read_group(base & Domain('approval_state', '=', 'to_approve'), ['team_id'], ['__count'])
        )
        by_urgency = {
            (team, urgency): count
            for team, urgency, count in Ticket._read_group(
                base & Domain('is_closed', '=', False) & Domain('urgency', '!=', False),
                ['team_id', 'urgency'],
                ['__count'],
            )
        }
        for team in self:
            team.to_approve_ticket_count = to_approve.get(team, 0)
            team.urgency_high_count = by_urgency.get((team, 'high'), 0)
            team.urgency_medium_count = by_urgency.get((team, 'medium'), 0)
            team.urgency_low_count = by_urgency.get((team, 'low'), 0)

    def action_view_to_approve_tickets(self):
        return self._action_team_tickets(
            [('approval_state', '=', 'to_approve')], self.env._("%s: to approve", self.name)
        )

    def action_view_urgency_tickets(self):
        urgency = self.env.context.get('cabinet_urgency')
        if urgency not in ('low', 'medium', 'high'):
            urgency = 'high'
        labels = dict(self.env['cabinet.ticket']._fields['urgency']._description_selection(self.env))
        return self._action_team_tickets(
            [('is_closed', '=', False), ('urgency', '=', urgency)],
            self.env._("%(team)s: %(urgency)s urgency", team=self.name, urgency=labels[urgency]),
        )
