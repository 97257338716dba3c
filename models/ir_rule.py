# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
import logging

from odoo import models
from odoo.exceptions import AccessError

_logger = logging.getLogger(__name__)

# Records whose name is confidential: a ticket's number and subject, a coordination's, a
# mandate's, the subject of an email to qualify (and records attached to a ticket, see below).
CONFIDENTIAL_MODELS = frozenset({'cabinet.ticket', 'cabinet.coordination', 'cabinet.mail.pending', 'cabinet.mandate'})


class IrRule(models.Model):
    _inherit = 'ir.rule'

    def _make_access_error(self, operation, records):
        """Name no confidential record in the error refusing it.

        In debug mode Odoo lists the refused records by their name, read as superuser, and the
        rules that refused them: any employee could then enumerate the subjects of tickets by id,
        and learn which ones are confidential. For the module's confidential models, and for
        ratings and followers of tickets (named after the ticket or the follower), the error
        names the kind of document only; it still offers to switch company when the company is
        all that stands in the way (the user may then read the record anyway).
        """
        if not self._cabinet_hide_names(records):
            return super()._make_access_error(operation, records)
        _logger.info(
            "Access denied by record rules for operation %s on %s records %r, uid %s",
            operation,
            records._name,
            records.ids[:6],
            self.env.uid,
        )
        self_lang = self.with_context(**self.env.user.context_get())
        description = self_lang.env['ir.model']._get(records._name).name or records._name
        message = self_lang.env._(
            "You may not open or change this %(document)s: it is kept to the people who handle it. "
            "If you need it, ask a helpdesk manager.",
            document=description,
        )
        context = None
        rules = self_lang._get_failing(records, mode=operation).sudo()
        if rules and all('company_id' in (rule.domain_force or '') for rule in rules):
            company = records[:6].sudo()._get_redirect_suggested_company()
            if company and len(company) == 1 and company in self.env.user.company_ids:
                context = {'suggested_company': {'id': company.id, 'display_name': company.display_name}}
                message += "\n\n" + self_lang.env._(
                    "It belongs to company %(company)s: switch to that company to open it.",
                    company=company.display_name,
                )
        # records were read as superuser to decide: forget them
        records.invalidate_recordset()
        error = AccessError(message)
        if context:
            error.context = context
        return error

    def _cabinet_hide_names(self, records):
        """Whether an access error about ``records`` must not name them."""
        if records._name in CONFIDENTIAL_MODELS:
            return True
        # sudo: only the kind of document the refused records are attached to is read, to decide
        return isinstance(records, self.env.registry['cabinet.ticket.linked.mixin']) and (
            'cabinet.ticket' in records.sudo().mapped('res_model')
        )
