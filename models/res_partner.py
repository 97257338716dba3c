# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).

from odoo import api, fields, models

PARTY_TYPES = [
    ('individual', "Individual"),
    ('company', "Company"),
    ('co_owner', "Co-owner"),
    ('agent', "Agent"),
    ('administration', "Administration"),
    ('engineering_office', "Engineering Office"),
    ('supplier', "Supplier"),
    ('other', "Other"),
]


class ResPartner(models.Model):
    _inherit = 'res.partner'

    party_type = fields.Selection(
        PARTY_TYPES,
        compute='_compute_party_type',
        store=True,
        readonly=False,
        index=True,
        recursive=True,
        help="Role of this party towards the firm. Parties of different roles never share a ticket. "
        "Contacts of a company take the company's type.",
    )
    cabinet_ticket_ids = fields.One2many('cabinet.ticket', 'partner_id', string="Tickets")
    cabinet_ticket_count = fields.Integer(
        compute='_compute_cabinet_ticket_count', string="Ticket Count", export_string_translation=False
    )
    # Mandates the party gave (as principal) or holds (as agent)
    cabinet_mandate_ids = fields.Many2many(
        'cabinet.mandate',
        compute='_compute_cabinet_mandate_ids',
        string="Mandates",
        groups='cabinet_helpdesk.group_cabinet_user',
        help="Mandates this party gave as principal or holds as agent.",
    )
    cabinet_mandate_count = fields.Integer(
        compute='_compute_cabinet_mandate_ids',
        string="Mandate Count",
        export_string_translation=False,
        groups='cabinet_helpdesk.group_cabinet_user',
    )

    @api.depends('parent_id.party_type', 'is_company')
    def _compute_party_type(self):
        for partner in self:
            if partner.parent_id:
                partner.party_type = partner.commercial_partner_id.party_type
            elif not partner.party_type:
                partner.party_type = 'company' if partner.is_company else 'individual'

    def _compute_cabinet_ticket_count(self):
        """Tickets of the whole party, counted on the party and on each of its contacts, within
        what the current user may read (confidential tickets stay out of the count)."""
        self.cabinet_ticket_count = 0
        parties = self.commercial_partner_id
        counts = dict(
            self.env['cabinet.ticket']._read_group(
                [('commercial_partner_id', 'in', parties.ids)], ['commercial_partner_id'], ['__count']
            )
        )
        for partner in self:
            partner.cabinet_ticket_count = counts.get(partner.commercial_partner_id, 0)

    def _compute_cabinet_mandate_ids(self):
        parties = self.commercial_partner_id
        mandates = self.env['cabinet.mandate'].search(
            [
                '|',
                ('principal_id.commercial_partner_id', 'in', parties.ids),
                ('agent_id.commercial_partner_id', 'in', parties.ids),
            ]
        )
        by_party = {}
        for mandate in mandates:
            for party in (mandate.principal_id | mandate.agent_id).commercial_partner_id:
                by_party[party] = by_party.get(party, mandates.browse()) | mandate
        for partner in self:
            partner.cabinet_mandate_ids = by_party.get(partner.commercial_partner_id, mandates.browse())
            partner.cabinet_mandate_count = len(partner.cabinet_mandate_ids)

    def action_view_cabinet_mandates(self):
        self.ensure_one()
        party = self.commercial_partner_id
        action = self.env['ir.actions.act_window']._for_xml_id('cabinet_helpdesk.cabinet_mandate_action')
        action['domain'] = [
            '|',
            ('principal_id.commercial_partner_id', '=', party.id),
            ('agent_id.commercial_partner_id', '=', party.id),
        ]
        action['context'] = {'default_agent_id' if party.party_type == 'agent' else 'default_principal_id': party.id}
        return action

    def action_view_cabinet_tickets(self):
        self.ensure_one()
        action = self.env['ir.actions.act_window']._for_xml_id('cabinet_helpdesk.cabinet_ticket_action')
        action['domain'] = [('commercial_partner_id', '=', self.commercial_partner_id.id)]
        action['context'] = {'default_partner_id': self.id, 'search_default_open': 1}
        return action
