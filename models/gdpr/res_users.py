# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from odoo import models


class ResUsers(models.Model):
    _inherit = 'res.users'

    def _cabinet_is_dpo(self):
        """Whether this user is the firm's data protection officer (``group_cabinet_dpo``): the one
        check behind every data subject tool, legal hold and record of processing."""
        self.ensure_one()
        return self.has_group('cabinet_helpdesk.group_cabinet_dpo')
