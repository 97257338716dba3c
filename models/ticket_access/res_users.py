# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from odoo import api, fields, models
from odoo.fields import Domain


class ResUsers(models.Model):
    _inherit = 'res.users'

    cabinet_team_ids = fields.Many2many(
        'cabinet.team',
        compute='_compute_cabinet_team_ids',
        compute_sudo=True,
        groups='base.group_user',
        string="Helpdesk Teams",
        export_string_translation=False,
        help="Teams the user belongs to (staff only) or leads, archived teams and other companies "
        "included: the record rules of tickets read them.",
    )

    @api.depends('share')
    def _compute_cabinet_team_ids(self):
        # the same teams as the paths team_id.member_ids / team_id.leader_id did in the rules:
        # membership counts for staff only (the members' field domain), leading for anyone
        Team = self.env['cabinet.team'].with_context(active_test=False)
        for user in self:
            domain = Domain('leader_id', '=', user.id)
            if not user.share:
                domain |= Domain('member_ids', 'in', user.ids)
            user.cabinet_team_ids = Team.search(domain) if user.id else Team
