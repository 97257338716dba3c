# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
import statistics
from collections import defaultdict

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.fields import Domain
from odoo.tools import format_date

from ..models.const import SLA_STATUSES
from .cabinet_ticket_analysis import AGE_BUCKETS

MONTHS = 6


class ReportCabinetTeamAnalytics(models.AbstractModel):
    """Figures of the team analytics PDF, computed from ``cabinet.ticket.analysis`` as the
    current user: rows they may not read (other teams, confidential request types) are left out
    as everywhere else. Per-employee figures only while the works-council switch is on."""

    _name = 'report.cabinet_helpdesk.report_team_analytics'
    _description = "Team Analytics Report"

    @api.model
    def _get_report_values(self, docids, data=None):
        teams = self.env['cabinet.team'].browse(docids)
        teams.check_access('read')
        individual = self.env['ir.config_parameter']._cabinet_individual_analytics()
        return {
            'doc_ids': teams.ids,
            'doc_model': 'cabinet.team',
            'docs': teams,
            'figures': self._team_figures(teams, individual),
            'individual_analytics': individual,
            'age_buckets': AGE_BUCKETS,
            'sla_statuses': SLA_STATUSES,
            'generated_on': fields.Datetime.now(),
        }

    @api.model
    def _team_figures(self, teams, individual=False):
        """Return ``{team_id: figures}`` for ``teams``, with a constant number of queries.

        :param teams: ``cabinet.team`` records
        :param bool individual: whether to add the per-employee table
        """
        Analysis = self.env['cabinet.ticket.analysis']
        domain = Domain('team_id', 'in', teams.ids)
        figures = {team.id: self._empty_figures() for team in teams}

        for (
            team,
            count,
            open_count,
            closed_count,
            response_avg,
            responses,
            resolution_avg,
            resolutions,
            sla_compliance,
            sla_decided,
            rating_avg,
            rating_count,
        ) in Analysis._read_group(
            domain,
            ['team_id'],
            [
                '__count',
                'backlog_days:count',
                'resolution_hours:count',
                'response_hours:avg',
                'response_hours:array_agg',
                'resolution_hours:avg',
                'resolution_hours:array_agg',
                'sla_compliance:avg',
                'sla_compliance:count',
                'rating:avg',
                'rating:count',
            ],
        ):
            figures[team.id].update(
                {
                    'count': count,
                    'open': open_count,
                    'closed': closed_count,
                    'response_avg': self._value(response_avg),
                    'response_median': self._median(responses),
                    'resolution_avg': self._value(resolution_avg),
                    'resolution_median': self._median(resolutions),
                    'sla_compliance': self._value(sla_compliance),
                    'sla_decided': sla_decided,
                    'rating_avg': self._value(rating_avg),
                    'rating_count': rating_count,
                }
            )

        for team, status, count in Analysis._read_group(
            domain & Domain('sla_status', '!=', False), ['team_id', 'sla_status'], ['__count']
        ):
            figures[team.id]['sla_statuses'][status] = count

        for team, bucket, count in Analysis._read_group(
            domain & Domain('is_closed', '=', False), ['team_id', 'age_bucket'], ['__count']
        ):
            figures[team.id]['buckets'][bucket] = count

        # volume of the last months, the current one included
        today = fields.Date.context_today(self)
        start = today.replace(day=1) - relativedelta(months=MONTHS - 1)
        start_dt = fields.Datetime.to_datetime(start)
        months = [start + relativedelta(months=i) for i in range(MONTHS)]
        created = defaultdict(int)
        closed = defaultdict(int)
        for team, month, count in Analysis._read_group(
            domain & Domain('create_date', '>=', start_dt), ['team_id', 'create_date:month'], ['__count']
        ):
            created[team.id, month.year, month.month] = count
        for team, month, count in Analysis._read_group(
            domain & Domain('closed_date', '>=', start_dt), ['team_id', 'closed_date:month'], ['__count']
        ):
            closed[team.id, month.year, month.month] = count
        for team in teams:
            figures[team.id]['months'] = [
                {
                    'label': format_date(self.env, month, date_format='MMM yyyy'),
                    'created': created[team.id, month.year, month.month],
                    'closed': closed[team.id, month.year, month.month],
                }
                for month in months
            ]

        if individual:
            for team, user, count, open_count, resolution_avg, sla_compliance in Analysis._read_group(
                domain,
                ['team_id', 'user_id'],
                ['__count', 'backlog_days:count', 'resolution_hours:avg', 'sla_compliance:avg'],
                order='team_id, user_id',
            ):
                figures[team.id]['employees'].append(
                    {
                        'name': user.name if user else self.env._("Unassigned"),
                        'count': count,
                        'open': open_count,
                        'resolution_avg': self._value(resolution_avg),
                        'sla_compliance': self._value(sla_compliance),
                    }
                )
        return figures

    @api.model
    def _empty_figures(self):
        return {
            'count': 0,
            'open': 0,
            'closed': 0,
            'response_avg': None,
            'response_median': None,
            'resolution_avg': None,
            'resolution_median': None,
            'sla_compliance': None,
            'sla_decided': 0,
            'sla_statuses': defaultdict(int),
            'rating_avg': None,
            'rating_count': 0,
            'buckets': defaultdict(int),
            'months': [],
            'employees': [],
        }

    @api.model
    def _value(self, aggregate):
        """An average over no value comes back as ``False`` from ``_read_group``: say ``None``."""
        return None if aggregate is False else aggregate

    @api.model
    def _median(self, values):
        values = [value for value in values or () if value is not None]
        return statistics.median(values) if values else None
