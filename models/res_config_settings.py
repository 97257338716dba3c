# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = 'res.config.settings'

    # Works council: per-employee figures stay off unless the firm turns them on
    cabinet_individual_analytics = fields.Boolean(
        string="Per-Employee Analytics", config_parameter='cabinet_helpdesk.individual_analytics',
        help="Show ticket figures per staff member in reports. Off by default: agree it with your works "
             "council first where the law requires it.")
