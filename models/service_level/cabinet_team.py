# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from datetime import timedelta

from odoo import api, fields, models
from odoo.fields import Domain

# The stale-ticket digest lists at most this many tickets (the longest idle) and counts the rest.
STALE_DIGEST_MAX_LINES = 100


class CabinetTeam(models.Model):
    """Team-level review of service: the stale-ticket digest sent to each team leader."""

    _inherit = 'cabinet.team'

    @api.model
    def _cron_stale_digest(self, batch_size=20):
        """Send each team leader one email listing the team's open tickets without news for
        ``cabinet_helpdesk.stale_days`` days (14 by default). Team-level review only: the digest
        names tickets, never ranks the people working on them.

        Resumable: ``cabinet.team.last_stale_digest_date`` is set in the same transaction as the
        email is queued, so a team gets at most one digest a day.
        """
        today = fields.Date.context_today(self)
        days = self.env['ir.config_parameter']._cabinet_get_setting('cabinet_helpdesk.stale_days')
        template = self.env.ref('cabinet_helpdesk.mail_template_stale_digest', raise_if_not_found=False)
        Team = self
        domain = Domain('leader_id', '!=', False) & (
            Domain('last_stale_digest_date', '=', False) | Domain('last_stale_digest_date', '<', today)
        )
        while teams := Team.search(domain, limit=batch_size, order='id').try_lock_for_update():
            for team in teams:
                lines = team._stale_digest_lines(days)
                if lines and template and team.leader_id.active and team.leader_id.partner_id.email:
                    template.with_context(
                        stale_lines=lines[:STALE_DIGEST_MAX_LINES],
                        stale_days=days,
                        stale_more=max(len(lines) - STALE_DIGEST_MAX_LINES, 0),
                    ).send_mail(team.id)
            teams.last_stale_digest_date = today
            if not self.env['ir.cron']._commit_progress(len(teams), remaining=Team.search_count(domain)):
                break

    def _stale_digest_lines(self, days):
        """Lines of the stale-ticket digest of this team: its open tickets without any message,
        note or tracked change for ``days`` days, longest idle first.

        The digest names only tickets its reader, the team leader, may read. A confidential
        ticket handed to a team whose leader cannot read it is reviewed by the leader of its
        request type's handling team instead.

        :return: list of dicts with ``number``, ``name``, ``stage``, ``age`` and ``idle`` (days), ``url``
        """
        self.ensure_one()
        team = self
        Ticket = self.env['cabinet.ticket']
        now = fields.Datetime.now()
        threshold = now - timedelta(days=days)
        tickets = Ticket.search(
            Domain('is_closed', '=', False)
            & Domain('create_date', '<', threshold)
            & (
                Domain('team_id', '=', team.id)
                | (Domain('category_id.team_id', '=', team.id) & Domain('category_id.confidential', '=', True))
            )
        )
        tickets = tickets._stale_reviewed_by(team)
        if not tickets:
            return []
        # automatic notes of the scheduled actions are not news (they are logged by the system user)
        last_news = dict(
            self.env['mail.message']
            .sudo()
            ._read_group(
                [
                    ('model', '=', Ticket._name),
                    ('res_id', 'in', tickets.ids),
                    ('author_id', '!=', self.env.ref('base.partner_root').id),
                ],
                ['res_id'],
                ['date:max'],
            )
        )
        base_url = team.get_base_url()
        lines = []
        for ticket in tickets:
            last = last_news.get(ticket.id) or ticket.create_date
            if last >= threshold:
                continue
            lines.append(
                {
                    'number': ticket.number,
                    'name': ticket.name,
                    'stage': ticket.stage_id.name,
                    'age': (now - ticket.create_date).days,
                    'idle': (now - last).days,
                    'url': f'{base_url}/odoo/cabinet.ticket/{ticket.id}',
                }
            )
        return sorted(lines, key=lambda line: (-line['idle'], line['number']))
