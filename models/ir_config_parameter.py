# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
import logging

from odoo import api, models
from odoo.tools import str2bool

_logger = logging.getLogger(__name__)

INDIVIDUAL_ANALYTICS_PARAM = 'cabinet_helpdesk.individual_analytics'

# Every setting the module reads (system parameters, most of them on the settings page), with
# its type, its default (unset, empty or invalid) and the least value it takes. Read them with
# ``ir.config_parameter._cabinet_get_setting(key)`` only.
SETTINGS = {
    # works council: per-employee figures in reports (off unless the firm turns them on)
    INDIVIDUAL_ANALYTICS_PARAM: (bool, False, None),
    # the assignee gets a to-do and an email this many working days before a ticket's promised
    # deadline; the default reminder date is as many working days before it (negative: neither)
    'cabinet_helpdesk.deadline_reminder_days': (int, 2, None),
    # open tickets without news for this many days go into the team leader's digest
    'cabinet_helpdesk.stale_days': (int, 14, 1),
    # days after closing during which the party may reopen a ticket from the portal (0: never)
    'cabinet_helpdesk.portal_reopen_days': (int, 30, 0),
    # the client portal shows the promised deadline of a ticket (never the service level's due dates)
    'cabinet_helpdesk.portal_show_deadline': (bool, False, None),
    # largest file accepted with a request, from the portal or by email, in MB (more than 0)
    'cabinet_helpdesk.max_attachment_size_mb': (float, 20, None),
}


class IrConfigParameter(models.Model):
    """Watch the works-council switch ``cabinet_helpdesk.individual_analytics``.

    Whatever path changes it (settings page, system parameters, ``set_param``), the change is
    logged in ``cabinet.analytics.log`` and the technical group
    ``group_cabinet_individual_analytics`` (which shows per-employee columns and group-bys in
    the views) is given to every internal user, or taken back, to match it; turning it off also
    forgets the staff member rated in tickets' ratings. The server-side refusals read the
    parameter itself, never the group.
    """

    _inherit = 'ir.config_parameter'

    @api.model_create_multi
    def create(self, vals_list):
        watched = any(vals.get('key') == INDIVIDUAL_ANALYTICS_PARAM for vals in vals_list)
        previous = watched and self._cabinet_individual_analytics()
        params = super().create(vals_list)
        if watched:
            self._cabinet_individual_analytics_changed(previous)
        return params

    def write(self, vals):
        watched = vals.get('key') == INDIVIDUAL_ANALYTICS_PARAM or any(
            param.key == INDIVIDUAL_ANALYTICS_PARAM for param in self
        )
        previous = watched and self._cabinet_individual_analytics()
        res = super().write(vals)
        if watched:
            self._cabinet_individual_analytics_changed(previous)
        return res

    def unlink(self):
        watched = any(param.key == INDIVIDUAL_ANALYTICS_PARAM for param in self)
        previous = watched and self._cabinet_individual_analytics()
        res = super().unlink()
        if watched:
            self.browse()._cabinet_individual_analytics_changed(previous)
        return res

    @api.model
    def _cabinet_get_setting(self, key):
        """The value of setting ``key`` of ``SETTINGS``, typed: its default when unset, empty or
        invalid (an invalid value is logged), raised to its least value. Read with ``sudo()``:
        any user may know the firm's settings, system parameters are readable by administrators
        only."""
        kind, default, minimum = SETTINGS[key]
        value = self.sudo().get_param(key)
        if value in (None, False, ''):
            return default
        if kind is bool:
            return str2bool(value, default=default)
        try:
            value = kind(value)
        except ValueError:
            _logger.warning("Setting %s is not a valid %s (%r): using %s", key, kind.__name__, value, default)
            return default
        if kind is float and value <= 0:
            _logger.warning("Setting %s must be more than 0 (%r): using %s", key, value, default)
            return default
        return value if minimum is None else max(value, minimum)

    @api.model
    def _cabinet_individual_analytics(self):
        """Whether per-employee analytics are on (the works-council switch, off by default).

        Any user may know whether the switch is on: the value is read with ``sudo()`` because
        system parameters are readable by administrators only.
        """
        return self._cabinet_get_setting(INDIVIDUAL_ANALYTICS_PARAM)

    @api.model
    def _cabinet_individual_analytics_changed(self, previous):
        """Log a change of the switch and give or take back the group that shows per-employee
        figures in the views. Called after the parameter was written, i.e. after the ORM checked
        that the current user may change system parameters."""
        current = self._cabinet_individual_analytics()
        if current == previous:
            return
        self.env['cabinet.analytics.log']._log_switch(previous, current)
        _logger.info("Per-employee analytics turned %s by user #%s", "on" if current else "off", self.env.uid)
        if not current:
            # ratings rate the firm's answer: the staff member rated is kept only while the switch is on
            self.env['rating.rating'].sudo().search(
                [('res_model', '=', 'cabinet.ticket'), ('rated_partner_id', '!=', False)]
            ).rated_partner_id = False
        group = self.env.ref('cabinet_helpdesk.group_cabinet_individual_analytics', raise_if_not_found=False)
        if not group:
            return
        internal_sudo = self.env.ref('base.group_user').sudo()
        if current:
            internal_sudo._apply_group(group.sudo())
        else:
            internal_sudo._remove_group(group.sudo())
