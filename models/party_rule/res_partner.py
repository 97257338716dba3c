# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from odoo import models


class ResPartner(models.Model):
    _inherit = 'res.partner'

    def write(self, vals):
        if not vals.keys() & {'parent_id', 'is_company'}:
            return super().write(vals)
        # a contact leaving its party (or a party joining another) loses its access to the
        # former party's tickets: see cabinet.ticket._release_contacts
        # sudo: the contacts under the changed partners, whoever may read them
        family = self.sudo().with_context(active_test=False).search([('id', 'child_of', self.ids)])
        former = {partner: partner.commercial_partner_id for partner in family}
        res = super().write(vals)
        moved = {partner: party for partner, party in former.items() if partner.commercial_partner_id != party}
        if moved:
            # record rules are cached with the users' parties and the parties of the mandates in
            # force at the time: drop them
            self.env.registry.clear_cache()
            self.env['cabinet.ticket']._release_contacts(moved)
        return res
