# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL

from ..models.const import CHANNELS, PRIORITIES, SLA_STATUSES
from ..models.res_partner import PARTY_TYPES

AGE_BUCKETS = [
    ('0_7', "0-7 days"),
    ('8_30', "8-30 days"),
    ('31_90', "31-90 days"),
    ('90_plus', "Over 90 days"),
]


class CabinetTicketAnalysis(models.Model):
    """One row per active ticket, for the pivot and graph views and the team analytics report.

    Who sees which rows: the record rules of ``security/ir_rules.xml`` mirror those of
    ``cabinet.ticket`` (multi-company, confidential request types limited to their requester and
    handling team, helpdesk users limited to their teams, managers to everything else).
    ``user_id`` is filled only while per-employee analytics are on; grouping by a staff member,
    or aggregating staff members, is refused otherwise (see :meth:`_check_staff_groupby`).
    """

    _name = 'cabinet.ticket.analysis'
    _description = "Ticket Analysis"
    _auto = False
    _rec_name = 'number'
    _order = 'create_date desc, id desc'

    ticket_id = fields.Many2one('cabinet.ticket', readonly=True)
    number = fields.Char(string="Ticket Number", readonly=True)
    company_id = fields.Many2one('res.company', readonly=True)
    team_id = fields.Many2one('cabinet.team', readonly=True)
    category_id = fields.Many2one('cabinet.category', string="Request Type", readonly=True)
    stage_id = fields.Many2one('cabinet.stage', readonly=True)
    commercial_partner_id = fields.Many2one('res.partner', string="Party", readonly=True)
    party_type = fields.Selection(PARTY_TYPES, readonly=True)
    channel = fields.Selection(CHANNELS, readonly=True)
    priority = fields.Selection(PRIORITIES, readonly=True)
    user_id = fields.Many2one(
        'res.users',
        string="Assigned To",
        readonly=True,
        groups='cabinet_helpdesk.group_cabinet_individual_analytics',
        help="Filled only while per-employee analytics are on (works council setting).",
    )
    create_date = fields.Datetime(string="Created On", readonly=True)
    closed_date = fields.Datetime(string="Closed On", readonly=True)
    is_closed = fields.Boolean(string="Closed", readonly=True)
    # Service level
    sla_status = fields.Selection(SLA_STATUSES, string="Service Level Status", readonly=True)
    sla_compliance = fields.Float(
        string="Service Level Met (%)",
        readonly=True,
        aggregator='avg',
        help="100 for a ticket whose service level was met, 0 for a breached one, empty while undecided.",
    )
    # Measures
    response_hours = fields.Float(
        string="First Answer (hours)",
        readonly=True,
        aggregator='avg',
        help="Calendar hours from creation to the first public answer to the party.",
    )
    resolution_hours = fields.Float(
        string="Resolution (hours)",
        readonly=True,
        aggregator='avg',
        help="Calendar hours from creation to closing, for closed tickets.",
    )
    backlog_days = fields.Integer(
        string="Backlog Age (days)", readonly=True, aggregator='avg', help="Days since creation, for open tickets."
    )
    age_bucket = fields.Selection(AGE_BUCKETS, string="Backlog Age", readonly=True)
    rating = fields.Float(readonly=True, aggregator='avg', help="Last satisfaction rating given by the party, if any.")

    _depends = {
        'cabinet.ticket': [
            'number',
            'company_id',
            'team_id',
            'category_id',
            'stage_id',
            'commercial_partner_id',
            'channel',
            'priority',
            'user_id',
            'create_date',
            'closed_date',
            'is_closed',
            'active',
            'sla_status',
            'first_response_date',
        ],
        'res.partner': ['party_type'],
        'rating.rating': ['res_model', 'res_id', 'rating', 'consumed'],
    }

    @property
    def _table_query(self):
        individual = self.env['ir.config_parameter']._cabinet_individual_analytics()
        today = fields.Date.context_today(self)
        return SQL(
            """
            SELECT t.id AS id,
                   t.id AS ticket_id,
                   t.number AS number,
                   t.company_id AS company_id,
                   t.team_id AS team_id,
                   t.category_id AS category_id,
                   t.stage_id AS stage_id,
                   t.commercial_partner_id AS commercial_partner_id,
                   party.party_type AS party_type,
                   t.channel AS channel,
                   t.priority AS priority,
                   CASE WHEN %(individual)s THEN t.user_id END AS user_id,
                   t.create_date AS create_date,
                   t.closed_date AS closed_date,
                   COALESCE(t.is_closed, FALSE) AS is_closed,
                   t.sla_status AS sla_status,
                   CASE t.sla_status WHEN 'met' THEN 100.0 WHEN 'breached' THEN 0.0 END::float8 AS sla_compliance,
                   (EXTRACT(EPOCH FROM (t.first_response_date - t.create_date)) / 3600.0)::float8 AS response_hours,
                   CASE WHEN t.is_closed
                        THEN (EXTRACT(EPOCH FROM (t.closed_date - t.create_date)) / 3600.0)::float8
                   END AS resolution_hours,
                   CASE WHEN NOT COALESCE(t.is_closed, FALSE)
                        THEN %(today)s::date - t.create_date::date
                   END AS backlog_days,
                   CASE WHEN COALESCE(t.is_closed, FALSE) THEN NULL
                        WHEN %(today)s::date - t.create_date::date <= 7 THEN '0_7'
                        WHEN %(today)s::date - t.create_date::date <= 30 THEN '8_30'
                        WHEN %(today)s::date - t.create_date::date <= 90 THEN '31_90'
                        ELSE '90_plus'
                   END AS age_bucket,
                   last_rating.rating::float8 AS rating
              FROM cabinet_ticket t
              LEFT JOIN res_partner party ON party.id = t.commercial_partner_id
              LEFT JOIN (
                    SELECT DISTINCT ON (res_id) res_id, rating
                      FROM rating_rating
                     WHERE res_model = 'cabinet.ticket' AND consumed AND rating > 0
                  ORDER BY res_id, write_date DESC, id DESC
              ) last_rating ON last_rating.res_id = t.id
             WHERE t.active
            """,
            individual=individual,
            today=today,
        )

    def _read_group_groupby(self, alias, groupby_spec, query):
        self._check_staff_groupby(self, groupby_spec)
        return super()._read_group_groupby(alias, groupby_spec, query)

    def _read_group_select(self, aggregate_spec, query):
        self._check_staff_groupby(self, aggregate_spec)
        return super()._read_group_select(aggregate_spec, query)

    @api.model
    def _individual_analytics_allowed(self):
        """Whether the current user may see figures per staff member: only while the
        works-council switch is on, whoever asks (the data protection officer included)."""
        return self.env.su or self.env['ir.config_parameter']._cabinet_individual_analytics()

    @api.model
    def _check_staff_groupby(self, model, groupby_spec):
        """Refuse to group ``model`` by a staff member (a field pointing to users: assignee,
        creator, last editor...), or to aggregate staff members (``user_id:array_agg``,
        ``create_uid:count_distinct``..., also used to sort and filter groups), unless
        per-employee analytics are allowed.

        :param model: the model being grouped (``cabinet.ticket`` or this analysis)
        :param str groupby_spec: the group-by or aggregate specification, e.g. ``user_id``,
            ``create_date:month`` or ``user_id:array_agg``
        :raise AccessError: when the group-by would rank staff members and it is not allowed
        """
        fname = groupby_spec.split(':', 1)[0].split('.', 1)[0]
        field = model._fields.get(fname)
        if not field or field.type not in ('many2one', 'many2many') or field.comodel_name != 'res.users':
            return
        if not self._individual_analytics_allowed():
            raise AccessError(
                self.env._(
                    "Figures per staff member are turned off in this database (works council setting): "
                    "group by team instead. An administrator can turn per-employee analytics on in the "
                    "Helpdesk settings once the firm has agreed it."
                )
            )
