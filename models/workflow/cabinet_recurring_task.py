# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
import logging
from datetime import timedelta

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.fields import Domain

_logger = logging.getLogger(__name__)

# A task long overdue opens at most this many missed due dates per run; the next run goes on.
MAX_DUE_DATES_PER_RUN = 60


class CabinetRecurringTask(models.Model):
    """A deadline task that comes back (a tax filing, an insurance renewal, a quarterly
    report): the scheduled action opens one ticket ``lead_days`` before each due date, with the
    due date as deadline, exactly once per due date however often or late it runs."""

    _name = 'cabinet.recurring.task'
    _description = "Recurring Task"
    _order = 'next_date, id'
    _check_company_auto = True

    def _default_partner_id(self):
        return self.env.company.partner_id

    name = fields.Char(required=True, translate=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one('res.company', required=True, index=True, default=lambda self: self.env.company)
    category_id = fields.Many2one('cabinet.category', string="Request Type", check_company=True, index=True)
    team_id = fields.Many2one(
        'cabinet.team', check_company=True, index=True, help="Team of the tickets; empty: the request type's team."
    )
    partner_id = fields.Many2one(
        'res.partner',
        string="Requester",
        required=True,
        check_company=True,
        default=lambda self: self._default_partner_id(),
        help="Whose request the tickets are: the firm itself by default.",
    )
    user_id = fields.Many2one(
        'res.users', string="Assigned To", domain="[('share', '=', False)]", help="Who handles each ticket."
    )
    description = fields.Html(help="Copied into each ticket.")
    interval_number = fields.Integer(string="Every", required=True, default=1)
    interval_type = fields.Selection(
        [('weeks', "Weeks"), ('months', "Months"), ('years', "Years")], required=True, default='months'
    )
    next_date = fields.Date(string="Next Due Date", required=True, help="Due date of the next ticket to open.")
    lead_days = fields.Integer(
        string="Open Days Ahead", default=14, help="The ticket opens this many days before its due date."
    )
    next_open_date = fields.Date(
        compute='_compute_next_open_date', store=True, index=True, export_string_translation=False
    )
    ticket_ids = fields.One2many('cabinet.ticket', 'recurring_task_id', string="Tickets")
    ticket_count = fields.Integer(compute='_compute_ticket_count')

    _interval_positive = models.Constraint(
        'CHECK (interval_number > 0)', "A recurring task comes back after at least one week, month or year."
    )
    _lead_days_positive = models.Constraint('CHECK (lead_days >= 0)', "The ticket cannot open after its due date.")

    @api.depends('next_date', 'lead_days')
    def _compute_next_open_date(self):
        for task in self:
            task.next_open_date = task.next_date and task.next_date - timedelta(days=task.lead_days)

    def _compute_ticket_count(self):
        counts = dict(
            self.env['cabinet.ticket']
            .with_context(active_test=False)
            ._read_group([('recurring_task_id', 'in', self.ids)], ['recurring_task_id'], ['__count'])
        )
        for task in self:
            task.ticket_count = counts.get(task, 0)

    def action_view_tickets(self):
        self.ensure_one()
        action = self.env['ir.actions.act_window']._for_xml_id('cabinet_helpdesk.cabinet_ticket_action')
        action['domain'] = [('recurring_task_id', '=', self.id)]
        action['context'] = {'active_test': False}
        action['display_name'] = self.name
        return action

    @api.model
    def _cron_generate_tickets(self, batch_size=50):
        """Open the tickets of every due date whose opening day has come, ``batch_size`` tasks at a
        time. Each task's tickets and its moved ``next_date`` are written in the same transaction,
        on a locked row: a run that stops, is repeated or runs late opens each due date once."""
        today = fields.Date.context_today(self)
        domain = Domain('next_open_date', '<=', today)
        while True:
            tasks = self.search(domain, limit=batch_size)
            locked = tasks.try_lock_for_update()
            for task in locked:
                task._generate_due_tickets(today)
            remaining = self.search_count(domain) if locked else 0
            if not locked or not self.env['ir.cron']._commit_progress(len(locked), remaining=remaining):
                break
            if not remaining:
                break

    def _generate_due_tickets(self, today):
        """Open one ticket per due date of the task whose opening day has come (missed ones
        included) and move ``next_date`` past them."""
        self.ensure_one()
        Ticket = self.env['cabinet.ticket'].sudo().with_company(self.company_id)
        due = self.next_date
        done = set(
            Ticket.with_context(active_test=False)
            .search([('recurring_task_id', '=', self.id), ('date_deadline', '>=', due)])
            .mapped('date_deadline')
        )
        opened = 0
        while due - timedelta(days=self.lead_days) <= today and opened < MAX_DUE_DATES_PER_RUN:
            if due not in done:
                # sudo: the scheduled action owns recurring_task_id; the task was set by a manager
                Ticket.create(self._ticket_values(due))
            opened += 1
            due += relativedelta(**{self.interval_type: self.interval_number})
        self.next_date = due
        _logger.info("Recurring task %s: %s due date(s) opened, next due %s", self.id, opened, due)

    def _ticket_values(self, due):
        self.ensure_one()
        vals = {
            'name': self.env._("%(task)s (due %(date)s)", task=self.name, date=fields.Date.to_string(due)),
            'description': self.description,
            'partner_id': self.partner_id.id,
            'category_id': self.category_id.id,
            'team_id': (self.team_id or self.category_id.team_id).id,
            'company_id': self.company_id.id,
            'date_deadline': due,
            'recurring_task_id': self.id,
            'channel': 'internal',
        }
        if self.user_id:
            vals['user_id'] = self.user_id.id
        return vals
