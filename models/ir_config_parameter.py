# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
import logging

from odoo import api, models
from odoo.tools import str2bool

_logger = logging.getLogger(__name__)

INDIVIDUAL_ANALYTICS_PARAM = 'cabinet_helpdesk.individual_analytics'


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
    def _cabinet_individual_analytics(self):
        """Whether per-employee analytics are on (the works-council switch, off by default).

        Any user may know whether the switch is on: the value is read with ``sudo()`` because
        system parameters are readable by administrators only.
        """
        return str2bool(self.sudo().get_param(INDIVIDUAL_ANALYTICS_PARAM) or 'False', default=False)

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
