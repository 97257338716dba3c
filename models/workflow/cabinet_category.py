# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from odoo import api, fields, models


class CabinetCategory(models.Model):
    _inherit = 'cabinet.category'

    guidance = fields.Html(
        translate=True,
        help="Shown to whoever files a request of this type (My Requests and the portal): what to give, "
        "what happens next, where else to go.",
    )
    stage_ids = fields.Many2many(
        'cabinet.stage',
        'cabinet_stage_category_rel',
        'category_id',
        'stage_id',
        string="Workflow",
        help="Stages requests of this type move through. Leave empty to use the shared stages of the team.",
    )
    asks_urgency = fields.Boolean(
        string="Ask Urgency and Impact",
        help="Whoever files a request of this type says how urgent it is and what it affects; both give its "
        "priority (IT incidents).",
    )
    approval_required = fields.Boolean(
        help="New requests of this type wait for their approver's decision before being handled."
    )
    approver_id = fields.Many2one(
        'res.users',
        domain="[('share', '=', False)]",
        help="Who approves or refuses requests of this type. Empty: the handling team's leader. Nobody "
        "approves their own request: then a helpdesk manager decides.",
    )

    def write(self, vals):
        res = super().write(vals)
        if 'stage_ids' in vals or 'active' in vals:
            self.env.registry.clear_cache()
        return res

    @api.model_create_multi
    def create(self, vals_list):
        categories = super().create(vals_list)
        if any('stage_ids' in vals for vals in vals_list):
            self.env.registry.clear_cache()
        return categories
