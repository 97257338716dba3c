# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from odoo import models


class ResPartner(models.Model):
    _inherit = 'res.partner'

    def signup_prepare(self, signup_type='signup'):
        # every email to a party computes its sign-up link, which marks the contact as invited:
        # a contact already marked so is left as it is, not rewritten at each email
        # sudo: the marker is readable by administrators only; it is compared, not shown
        to_prepare = self.filtered(lambda partner: partner.sudo().signup_type != signup_type)
        if not to_prepare:
            return True
        return super(ResPartner, to_prepare).signup_prepare(signup_type=signup_type)
