# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from odoo import api, fields, models

LEGAL_BASES = [
    ('contract', "Contract (art. 6(1)(b))"),
    ('legal_obligation', "Legal obligation (art. 6(1)(c))"),
    ('legitimate_interest', "Legitimate interest (art. 6(1)(f))"),
    ('consent', "Consent (art. 6(1)(a))"),
    ('vital_interest', "Vital interest (art. 6(1)(d))"),
    ('public_task', "Public task (art. 6(1)(e))"),
]


class CabinetCategory(models.Model):
    _name = 'cabinet.category'
    _description = "Request Type"
    _order = 'sequence, name'
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    description = fields.Text(translate=True, help="Shown to whoever files a request of this type.")
    company_id = fields.Many2one(
        'res.company',
        compute='_compute_company_id',
        store=True,
        readonly=False,
        index=True,
        help="Company of the handling team. Leave empty to share a type without team across companies.",
    )
    team_id = fields.Many2one(
        'cabinet.team',
        string="Handling Team",
        check_company=True,
        index=True,
        help="Team that handles requests of this type; new tickets go to it.",
    )
    internal = fields.Boolean(
        string="Staff Requests",
        help="Staff may file requests of this type for themselves (IT incident, HR, administration).",
    )
    portal_visible = fields.Boolean(
        string="Offered on the Portal",
        default=True,
        help="Clients may choose this type when they file a request on the portal.",
    )
    confidential = fields.Boolean(
        help="Tickets of this type are visible only to their requester and the handling team's "
        "members; managers outside the team do not see them either."
    )
    # GDPR: processing purpose and legal basis (art. 6 and 30)
    legal_basis = fields.Selection(
        LEGAL_BASES,
        required=True,
        default='contract',
        help="Legal basis of the processing of personal data for this purpose (GDPR art. 6(1)).",
    )
    purpose = fields.Text(translate=True, help="Why the firm processes personal data in these requests.")
    data_categories = fields.Text(translate=True, help="Categories of personal data these requests usually contain.")
    retention_policy_id = fields.Many2one(
        'cabinet.retention.policy',
        index=True,
        help="How long closed tickets of this type are kept, and what happens to them then.",
    )
    sla_policy_id = fields.Many2one(
        'cabinet.sla.policy',
        string="Service Level",
        index=True,
        check_company=True,
        help="Response and resolution times promised for this type of request.",
    )

    @api.depends('team_id')
    def _compute_company_id(self):
        for category in self:
            category.company_id = category.team_id.company_id or category.company_id
