# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from odoo import api, fields, models

GDPR_ACTIONS = [
    ('export', "Personal data export"),
    ('erasure', "Erasure"),
    ('legal_hold', "Legal hold placed"),
    ('legal_hold_lift', "Legal hold lifted"),
]


class CabinetGdprLog(models.Model):
    """Audit trail of what the data protection officer did for data subjects (GDPR art. 5(2)).

    The officer's export, erasure and legal hold reach every ticket of a person, confidential ones
    included, without the ticket views: each such action leaves a row saying who did what, when,
    and on how many tickets (how many of them confidential). A row holds no personal data of the
    data subject: no partner, no name, no ticket number, no content. Rows are written by the
    system only; nobody edits or deletes them.
    """

    _name = 'cabinet.gdpr.log'
    _description = "Data Protection Log"
    _order = 'date desc, id desc'
    _rec_name = 'action'

    date = fields.Datetime(required=True, readonly=True, index=True, default=fields.Datetime.now)
    user_id = fields.Many2one(
        'res.users',
        string="Done By",
        required=True,
        readonly=True,
        ondelete='restrict',
        default=lambda self: self.env.user,
    )
    action = fields.Selection(GDPR_ACTIONS, required=True, readonly=True)
    ticket_count = fields.Integer(string="Tickets", readonly=True, aggregator='sum')
    confidential_count = fields.Integer(
        string="Confidential Tickets",
        readonly=True,
        aggregator='sum',
        help="Tickets of a confidential request type reached by the action, which the data protection "
        "officer cannot open in the ticket views.",
    )
    company_id = fields.Many2one('res.company', required=True, readonly=True, index=True)

    @api.model
    def _log_action(self, action, tickets):
        """Record that the current user did ``action`` on ``tickets``: one row per company.

        :param str action: a value of ``GDPR_ACTIONS``
        :param tickets: the ``cabinet.ticket`` records reached (read as sudo by the caller)
        """
        by_company = {}
        for ticket in tickets:
            by_company.setdefault(ticket.company_id, tickets.browse())
            by_company[ticket.company_id] |= ticket
        if not by_company:
            by_company[self.env.company] = tickets.browse()
        return self.sudo().create(
            [
                {
                    'user_id': self.env.user.id,
                    'action': action,
                    'ticket_count': len(company_tickets),
                    'confidential_count': len(company_tickets.filtered('category_id.confidential')),
                    'company_id': company.id,
                }
                for company, company_tickets in by_company.items()
            ]
        )
