# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from odoo import api, fields, models, tools


class CabinetStage(models.Model):
    _inherit = 'cabinet.stage'

    category_ids = fields.Many2many(
        'cabinet.category',
        'cabinet_stage_category_rel',
        'stage_id',
        'category_id',
        string="Request Types",
        help="Request types whose workflow uses this stage: their tickets move through these stages only. "
        "Leave empty to offer the stage to every request type of its teams that has no workflow of its own.",
    )

    is_refusal = fields.Boolean(
        string="Refusal Stage",
        help="Requests refused by their approver close in this stage (it should be a closing stage).",
    )

    def write(self, vals):
        res = super().write(vals)
        if 'category_ids' in vals:
            self.env.registry.clear_cache()  # _workflows (the other changes clear it in the base model)
        return res

    @api.model
    @tools.ormcache()
    def _workflows(self):
        """The workflows of the request types that have one, from the active stages naming them.

        :return: ``({category_id: ((stage_id, team_ids), ...)}, stage ids of every workflow)``,
            stages in their order
        :rtype: tuple
        """
        # sudo: stage configuration, the same for everyone; read once and cached
        stages = self.sudo().search([('category_ids', '!=', False)], order='sequence, id')
        workflows = {}
        for stage in stages:
            for category_id in stage.category_ids.ids:
                workflows.setdefault(category_id, []).append((stage.id, tuple(stage.team_ids.ids)))
        return {key: tuple(value) for key, value in workflows.items()}, frozenset(stages.ids)
