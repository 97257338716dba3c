# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from odoo import api, fields, models

# Countries of the European Economic Area: transfers outside them fall under GDPR chapter V
EEA_COUNTRY_CODES = {
    'AT',
    'BE',
    'BG',
    'HR',
    'CY',
    'CZ',
    'DK',
    'EE',
    'FI',
    'FR',
    'DE',
    'GR',
    'HU',
    'IE',
    'IT',
    'LV',
    'LT',
    'LU',
    'MT',
    'NL',
    'PL',
    'PT',
    'RO',
    'SK',
    'SI',
    'ES',
    'SE',
    'IS',
    'LI',
    'NO',
}

TRANSFER_SAFEGUARDS = [
    ('adequacy', "Adequacy decision (art. 45)"),
    ('scc', "Standard contractual clauses (art. 46(2)(c))"),
    ('bcr', "Binding corporate rules (art. 47)"),
    ('derogation', "Derogation for a specific situation (art. 49)"),
]


class CabinetProcessor(models.Model):
    """A processor handling the helpdesk's personal data for the firm (GDPR art. 28): hosting,
    email delivery, IT support... Listed, with any transfer outside the European Economic Area
    and its safeguard (chapter V), in the record of processing activities (art. 30(1)(d), (e))."""

    _name = 'cabinet.processor'
    _description = "Data Processor"
    _order = 'sequence, id'
    _check_company_auto = True

    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    partner_id = fields.Many2one(
        'res.partner', string="Processor", required=True, index=True, ondelete='restrict', check_company=True
    )
    service = fields.Char(required=True, translate=True, help="What the processor does with the data, e.g. Hosting.")
    category_ids = fields.Many2many(
        'cabinet.category',
        string="Request Types",
        check_company=True,
        help="Request types whose data the processor handles. Leave empty for all of them.",
    )
    country_id = fields.Many2one(
        'res.country',
        string="Processing Country",
        required=True,
        help="Where the processor stores or accesses the data (its sub-processors included).",
    )
    transfer = fields.Boolean(
        string="Transfer outside the EEA",
        compute='_compute_transfer',
        store=True,
        help="The data leaves the European Economic Area (GDPR chapter V).",
    )
    safeguard = fields.Selection(
        TRANSFER_SAFEGUARDS, help="The legal ground of the transfer outside the European Economic Area."
    )
    agreement_date = fields.Date(
        string="Agreement Signed On", help="Date of the data processing agreement (art. 28(3))."
    )
    agreement_reference = fields.Char()
    company_id = fields.Many2one('res.company', required=True, index=True, default=lambda self: self.env.company)

    @api.depends('country_id.code')
    def _compute_transfer(self):
        for processor in self:
            processor.transfer = bool(processor.country_id) and processor.country_id.code not in EEA_COUNTRY_CODES

    @api.depends('partner_id.name', 'service')
    def _compute_display_name(self):
        for processor in self:
            processor.display_name = " - ".join(filter(None, [processor.partner_id.name, processor.service]))
