# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from odoo import models
from odoo.fields import Domain

from .mail_thread import GATEWAY_RUN


class MailAliasDomain(models.Model):
    """Odoo's gateway lists all alias domains at several steps of one email (recipients, bounce
    detection, catchall): while the gateway processes an email (see ``mail.thread``), they are
    searched once. Alias domains are configuration: an email does not change them."""

    _inherit = 'mail.alias.domain'

    def _search(self, domain, offset=0, limit=None, order=None, *, active_test=True, bypass_access=False):
        run = self.env.cr.cache.get(GATEWAY_RUN)
        if run is None or offset or limit or not Domain(domain).is_true():
            return super()._search(domain, offset, limit, order, active_test=active_test, bypass_access=bypass_access)
        key = ('alias_domains', self.env.uid, self.env.su, order, active_test, bypass_access)
        if key not in run:
            query = super()._search(domain, offset, limit, order, active_test=active_test, bypass_access=bypass_access)
            run[key] = tuple(query.get_result_ids())
        return self.browse(run[key])._as_query()
