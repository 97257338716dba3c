# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from odoo import fields, models


class CabinetRetentionLog(models.Model):
    """Audit trail of anonymized and deleted tickets (GDPR art. 5(1)(e) and 5(2)).

    A row says which ticket number was anonymized or deleted, when, why and under which policy;
    it holds no personal data of the party: no partner, no subject, no message.
    """

    _name = 'cabinet.retention.log'
    _description = "Retention Log"
    _order = 'date desc, id desc'
    _rec_name = 'ticket_number'

    date = fields.Datetime(required=True, readonly=True, index=True, default=fields.Datetime.now)
    ticket_number = fields.Char(required=True, readonly=True, index='trigram')
    closed_date = fields.Date(string="Closed On", readonly=True)
    category_id = fields.Many2one(
        'cabinet.category', string="Request Type", readonly=True, index=True, ondelete='set null'
    )
    policy_id = fields.Many2one(
        'cabinet.retention.policy', string="Retention Policy", readonly=True, index=True, ondelete='set null'
    )
    action = fields.Selection([('anonymize', "Anonymized"), ('delete', "Deleted")], required=True, readonly=True)
    reason = fields.Selection(
        [('retention', "Retention period over"), ('erasure', "Erasure request")], required=True, readonly=True
    )
    company_id = fields.Many2one('res.company', required=True, readonly=True, index=True)
    user_id = fields.Many2one(
        'res.users',
        string="Done By",
        readonly=True,
        default=lambda self: self.env.user,
        help="The data protection officer who handled an erasure request, or the system for retention.",
    )
