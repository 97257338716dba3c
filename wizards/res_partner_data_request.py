# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from dateutil.relativedelta import relativedelta
from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError

REQUEST_TYPES = [
    ('access', "Access (art. 15)"),
    ('rectification', "Rectification (art. 16)"),
    ('erasure', "Erasure (art. 17)"),
    ('restriction', "Restriction of processing (art. 18)"),
    ('objection', "Objection (art. 21)"),
]


class ResPartnerDataRequest(models.TransientModel):
    """Records a data subject request on the partner's chatter (and on a ticket if one is chosen),
    with a to-do for the data protection officer due one month later (GDPR art. 12(3))."""

    _name = 'res.partner.data.request'
    _inherit = ['cabinet.ticket.reference.mixin']
    _description = "Record a Data Subject Request"

    partner_id = fields.Many2one('res.partner', string="Data Subject", required=True)
    request_type = fields.Selection(REQUEST_TYPES, required=True, default='access')
    request_date = fields.Date(string="Received On", required=True, default=fields.Date.context_today)
    date_due = fields.Date(
        string="Answer Due",
        compute='_compute_date_due',
        help="One month after receipt (GDPR art. 12(3)); it may be extended by two months for complex requests.",
    )
    note = fields.Text(
        required=True,
        help="What the person asked (e.g. the data to correct, the processing objected to) "
        "and how the identity was checked.",
    )
    ticket_id = fields.Many2one(
        'cabinet.ticket',
        domain="[('commercial_partner_id', '=', commercial_partner_id)]",
        help="Also record the request on this ticket of the person's party, as an internal note.",
    )
    commercial_partner_id = fields.Many2one(related='partner_id.commercial_partner_id')
    schedule_activity = fields.Boolean(
        string="Remind Me", default=True, help="Plan a to-do on the partner, due when the answer is due."
    )

    @api.depends('request_date')
    def _compute_date_due(self):
        for request in self:
            request.date_due = request.request_date and request.request_date + relativedelta(months=1)

    @api.constrains('ticket_id', 'partner_id')
    def _check_ticket_id(self):
        """The ticket must be of the data subject's party; access is checked first, so that the
        message never names a ticket the user may not read."""
        for request in self.filtered('ticket_id'):
            request.ticket_id.check_access('read')
            if request.ticket_id.commercial_partner_id != request.partner_id.commercial_partner_id:
                raise ValidationError(
                    self.env._(
                        "Ticket %(ticket)s belongs to another party: choose a ticket of %(party)s, the data "
                        "subject's party.",
                        ticket=request.ticket_id.display_name,
                        party=request.partner_id.commercial_partner_id.display_name,
                    )
                )

    def action_record(self):
        """Post the request on the partner (and the ticket) and plan the reminder."""
        self.ensure_one()
        if not self.env.user._cabinet_is_dpo():
            raise AccessError(self.env._("Only the data protection officer records data subject requests."))
        self.partner_id.check_access('read')
        if self.ticket_id:
            self.ticket_id.check_access('read')
        type_label = dict(self._fields['request_type']._description_selection(self.env))[self.request_type]
        body = Markup("<p><b>%s</b></p><p>%s</p><p>%s</p>") % (
            self.env._("Data subject request: %(type)s", type=type_label),
            self.env._(
                "Received on %(date)s, answer due by %(due)s.",
                date=fields.Date.to_string(self.request_date),
                due=fields.Date.to_string(self.date_due),
            ),
            self.note.strip(),
        )
        partner_sudo = self.partner_id.sudo()
        # a subtype of its own: the request is found again for the person's data export
        partner_sudo._cabinet_gdpr_note(body)
        if self.ticket_id:
            self.ticket_id.sudo().message_post(body=body, message_type='comment', subtype_xmlid='mail.mt_note')
        if self.schedule_activity:
            partner_sudo.activity_schedule(
                'mail.mail_activity_data_todo',
                date_deadline=self.date_due,
                user_id=self.env.uid,
                summary=self.env._("Answer the data subject request (%(type)s)", type=type_label),
            )
        return {'type': 'ir.actions.act_window_close'}
