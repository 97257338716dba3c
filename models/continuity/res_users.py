# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.fields import Domain


class ResUsers(models.Model):
    _inherit = 'res.users'

    cabinet_deputy_id = fields.Many2one(
        'res.users',
        string="Helpdesk Deputy",
        domain=[('share', '=', False)],
        help="Receives the new tickets meant for this user while they are away (a leave of their "
        "working calendar), when the deputy handles the ticket's team.",
    )

    @property
    def SELF_READABLE_FIELDS(self):
        return [*super().SELF_READABLE_FIELDS, 'cabinet_deputy_id']

    @property
    def SELF_WRITEABLE_FIELDS(self):
        return [*super().SELF_WRITEABLE_FIELDS, 'cabinet_deputy_id']

    @api.constrains('cabinet_deputy_id')
    def _check_cabinet_deputy_id(self):
        for user in self:
            if user.cabinet_deputy_id == user:
                raise ValidationError(self.env._("A user cannot be their own deputy."))
            if user.cabinet_deputy_id.share:
                raise ValidationError(
                    self.env._("%(user)s cannot be a deputy: only staff may.", user=user.cabinet_deputy_id.name)
                )

    def write(self, vals):
        # helpdesk managers choose the deputies of the staff, and only that, without the right to
        # manage users; the rest of a user record stays theirs to keep
        if (
            set(vals) == {'cabinet_deputy_id'}
            and not self.env.su
            and self != self.env.user
            and self.env.user.has_group('cabinet_helpdesk.group_cabinet_manager')
            and not any(self.mapped('share'))
        ):
            return super(ResUsers, self.sudo()).write(vals)
        return super().write(vals)

    def _cabinet_absent_at(self, moment, company=None, calendar=None):
        """Return the users of ``self`` who are away at ``moment``: a leave of their working calendar
        covers it, i.e. a leave of their resource on ``company`` (Time Off fills these), or a public
        holiday of their calendar (a leave of the calendar without resource). Users without a
        resource on ``company`` follow ``calendar``'s public holidays.

        One search of leaves for all users, and one more read only when a public holiday is found.

        :param datetime moment: the moment (UTC, naive)
        :param company: ``res.company`` whose resources count (default: the current company)
        :param calendar: ``resource.calendar`` of users without a resource (default: ``company``'s)
        """
        users = self.filtered(lambda user: not user.share)
        if not users:
            return self.browse()
        company = company or self.env.company
        calendar = calendar if calendar is not None else company.resource_calendar_id
        # sudo: absences decide who gets the work, whoever files it (requester, mail gateway);
        # nothing of the leaves is shown
        Resource = self.env['resource.resource'].sudo()
        resource_domain = Domain('user_id', 'in', users.ids) & Domain('company_id', 'in', [company.id, False])
        calendars_query = Resource._search(resource_domain & Domain('calendar_id', '!=', False))
        holiday_domain = Domain('resource_id', '=', False) & (
            Domain('calendar_id', 'in', calendars_query.subselect('calendar_id'))
            | Domain('calendar_id', 'in', calendar.ids)
        )
        leaves = (
            self.env['resource.calendar.leaves']
            .sudo()
            .search(
                Domain('time_type', '=', 'leave')
                & Domain('date_from', '<=', moment)
                & Domain('date_to', '>=', moment)
                & (Domain('resource_id', 'any', resource_domain) | holiday_domain)
            )
        )
        absent_ids = set(leaves.resource_id.user_id.ids)
        holiday_calendars = leaves.filtered(lambda leave: not leave.resource_id).calendar_id
        if holiday_calendars:
            resources = Resource.search(resource_domain)
            calendar_by_user = {resource.user_id.id: resource.calendar_id for resource in resources}
            absent_ids.update(user.id for user in users if calendar_by_user.get(user.id, calendar) in holiday_calendars)
        return users.filtered(lambda user: user.id in absent_ids)
