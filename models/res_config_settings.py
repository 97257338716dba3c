# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from odoo import api, fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = 'res.config.settings'

    # Works council: per-employee figures stay off unless the firm turns them on
    cabinet_individual_analytics = fields.Boolean(
        string="Per-Employee Analytics",
        config_parameter='cabinet_helpdesk.individual_analytics',
        help="Show ticket figures per staff member in reports. Off by default: agree it with your works "
        "council first where the law requires it.",
    )
    # Reminders and stale-ticket review
    cabinet_deadline_reminder_days = fields.Integer(
        string="Deadline Reminder (working days before)",
        config_parameter='cabinet_helpdesk.deadline_reminder_days',
        default=2,
        help="The assignee (else the team leader) gets a to-do and an email this many working days "
        "before a ticket's promised deadline; a ticket's reminder date is set that many working days "
        "before its deadline unless someone chooses another day.",
    )
    cabinet_stale_days = fields.Integer(
        string="Stale After (days)",
        config_parameter='cabinet_helpdesk.stale_days',
        default=14,
        help="Open tickets without any message, note or change for this many days are listed in the "
        "weekly digest sent to each team leader.",
    )
    # Client portal
    cabinet_portal_show_deadline = fields.Boolean(
        string="Show Promised Deadline on the Portal",
        config_parameter='cabinet_helpdesk.portal_show_deadline',
        help="Clients see the deadline the firm promised them on their ticket's portal page. The "
        "service level's due dates are internal targets and are never shown.",
    )
    cabinet_portal_reopen_days = fields.Integer(
        string="Reopening Period (days)",
        config_parameter='cabinet_helpdesk.portal_reopen_days',
        default=30,
        help="Days after closing during which a client may reopen a ticket from the portal (0: never).",
    )
    cabinet_max_attachment_size_mb = fields.Integer(
        string="Maximum Attachment Size (MB)",
        config_parameter='cabinet_helpdesk.max_attachment_size_mb',
        default=20,
        help="Largest file accepted with a request, from the portal or by email.",
    )
    cabinet_privacy_notice = fields.Html(
        related='company_id.cabinet_privacy_notice',
        readonly=False,
        help="Privacy notice (GDPR art. 13) shown to clients on the portal before their first request.",
    )
    # Data protection
    cabinet_dpo_partner_id = fields.Many2one(
        related='company_id.cabinet_dpo_partner_id',
        readonly=False,
        help="The contact data subjects write to about their data: shown in the privacy notice, the "
        "acknowledgement email and the data exports.",
    )
    cabinet_processor_count = fields.Integer(
        compute='_compute_cabinet_processor_count', export_string_translation=False
    )

    @api.depends('company_id')
    def _compute_cabinet_processor_count(self):
        for settings in self:
            settings.cabinet_processor_count = self.env['cabinet.processor'].search_count(
                [('company_id', '=', settings.company_id.id)]
            )
