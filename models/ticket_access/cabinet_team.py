# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from odoo import api, models

# fields deciding whose team a team is (res.users.cabinet_team_ids)
MEMBERSHIP_FIELDS = frozenset({'member_ids', 'leader_id'})


class CabinetTeam(models.Model):
    _inherit = 'cabinet.team'

    @api.model_create_multi
    def create(self, vals_list):
        teams = super().create(vals_list)
        if any(MEMBERSHIP_FIELDS & vals.keys() for vals in vals_list):
            self._reset_membership_caches()
        return teams

    def write(self, vals):
        res = super().write(vals)
        if MEMBERSHIP_FIELDS & vals.keys():
            self._reset_membership_caches()
        return res

    def unlink(self):
        res = super().unlink()
        self._reset_membership_caches()
        return res

    def _reset_membership_caches(self):
        """The record rules of tickets hold each user's teams (``res.users.cabinet_team_ids``),
        evaluated once and cached per user: forget them when a membership changes."""
        self.env['res.users'].invalidate_model(['cabinet_team_ids'])
        self.env.registry.clear_cache()
