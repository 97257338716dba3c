# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from odoo import api, fields, models
from odoo.fields import Domain

# The daily overdue list names at most this many tickets (the most overdue) and counts the rest.
OVERDUE_LIST_MAX_LINES = 100


class CabinetTeam(models.Model):
    """Follow-up of the team's work: the daily overdue list sent to the team leader, and the
    reminder and closing of tickets left waiting for the party."""

    _inherit = 'cabinet.team'

    inactive_reminder_days = fields.Integer(
        string="Remind the Party After",
        default=0,
        help="Working days a ticket may wait for the party without news before the party is reminded "
        "once (0: never remind, never close).",
    )
    inactive_close_days = fields.Integer(
        string="Close After Reminder",
        default=0,
        help="Working days after the reminder before a ticket still without news from the party is "
        "closed (0: never close).",
    )
    overdue_list_sent_date = fields.Date(
        readonly=True,
        copy=False,
        export_string_translation=False,
        help="When the team leader last received the daily list of the team's overdue tickets.",
    )

    _inactive_days_positive = models.Constraint(
        'CHECK (inactive_reminder_days >= 0 AND inactive_close_days >= 0)',
        "The days before reminding the party or closing a ticket cannot be negative.",
    )

    @api.model
    def _cron_overdue_list(self, batch_size=20):
        """Send each team leader one email listing the team's overdue open tickets: their deadline
        has passed or their resolution service level is breached. Nothing when none is overdue.
        Team-level follow-up only: the list names tickets, never ranks the people working on them.

        Resumable: ``overdue_list_sent_date`` is set in the same transaction as the email is
        queued, so a team's leader gets at most one list a day.
        """
        today = fields.Date.context_today(self)
        template = self.env.ref('cabinet_helpdesk.mail_template_overdue_list', raise_if_not_found=False)
        domain = Domain('leader_id', '!=', False) & (
            Domain('overdue_list_sent_date', '=', False) | Domain('overdue_list_sent_date', '<', today)
        )
        while teams := self.search(domain, limit=batch_size, order='id').try_lock_for_update():
            for team in teams:
                lines = team._overdue_list_lines()
                if lines and template and team.leader_id.active and team.leader_id.partner_id.email:
                    template.with_context(
                        overdue_lines=lines[:OVERDUE_LIST_MAX_LINES],
                        overdue_more=max(len(lines) - OVERDUE_LIST_MAX_LINES, 0),
                    ).send_mail(team.id)
            teams.overdue_list_sent_date = today
            if not self.env['ir.cron']._commit_progress(len(teams), remaining=self.search_count(domain)):
                break

    def _overdue_list_lines(self):
        """Lines of the overdue list of this team: its open tickets whose deadline has passed or
        whose resolution service level is breached, most overdue first. Only tickets the team
        leader may read with their own rights are listed (as in the stale-ticket digest, a
        confidential ticket handed to a team whose leader cannot read it goes to the leader of its
        request type's handling team).

        :return: list of dicts with ``number``, ``name``, ``stage``, ``due`` (date), ``late``
            (days), ``url``
        """
        self.ensure_one()
        team = self
        now = fields.Datetime.now()
        today = fields.Date.context_today(self)
        tickets = self.env['cabinet.ticket'].search(
            Domain('is_closed', '=', False)
            & (Domain('date_deadline', '<', today) | Domain('sla_resolve_deadline', '<', now))
            & (
                Domain('team_id', '=', team.id)
                | (Domain('category_id.team_id', '=', team.id) & Domain('category_id.confidential', '=', True))
            )
        )
        tickets = tickets._stale_reviewed_by(team)
        base_url = team.get_base_url()
        lines = []
        for ticket in tickets:
            dues = [ticket.date_deadline] if ticket.date_deadline and ticket.date_deadline < today else []
            if ticket.sla_resolve_deadline and ticket.sla_resolve_deadline < now:
                dues.append(fields.Date.context_today(self, ticket.sla_resolve_deadline))
            due = min(dues)
            lines.append(
                {
                    'number': ticket.number,
                    'name': ticket.name,
                    'stage': ticket.stage_id.name,
                    'due': due,
                    'late': (today - due).days,
                    'url': f'{base_url}/odoo/cabinet.ticket/{ticket.id}',
                }
            )
        return sorted(lines, key=lambda line: (line['due'], line['number']))
