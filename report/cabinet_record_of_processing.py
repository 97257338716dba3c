# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import AccessError

RECORD_GROUPS = (
    'cabinet_helpdesk.group_cabinet_user',
    'cabinet_helpdesk.group_cabinet_manager',
    'cabinet_helpdesk.group_cabinet_dpo',
)


class ReportCabinetRecordOfProcessing(models.AbstractModel):
    """Record of processing activities (GDPR art. 30) of the helpdesk: one section per
    controller (company), one entry per request type (processing purpose)."""

    _name = 'report.cabinet_helpdesk.report_record_of_processing'
    _description = "Record of Processing Activities Report"

    @api.model
    def _get_report_values(self, docids, data=None):
        user = self.env.user
        if not (user._cabinet_is_dpo() or user.has_group('cabinet_helpdesk.group_cabinet_manager')):
            raise AccessError(
                self.env._(
                    "Only the data protection officer and helpdesk administrators print the record of "
                    "processing activities."
                )
            )
        categories = self.env['cabinet.category'].browse(docids)
        categories.check_access('read')
        by_company = defaultdict(lambda: self.env['cabinet.category'])
        for category in categories:
            by_company[category.company_id or self.env.company] |= category
        processors = self.env['cabinet.processor'].search([('company_id', 'in', [c.id for c in by_company])])
        controllers = []
        for company, company_categories in sorted(by_company.items(), key=lambda item: item[0].name):
            company_processors = processors.filtered(lambda p, company=company: p.company_id == company)
            controllers.append(
                {
                    'company': company,
                    'dpo_contact': company.cabinet_dpo_partner_id,
                    'processors': company_processors,
                    'activities': [self._activity(category, company_processors) for category in company_categories],
                }
            )
        return {
            'doc_ids': categories.ids,
            'doc_model': 'cabinet.category',
            'docs': categories,
            'controllers': controllers,
            'dpo_names': self._dpo_names(),
            'security': self._security_measures(),
            'individual_analytics': self.env['ir.config_parameter']._cabinet_individual_analytics(),
            'generated_on': fields.Datetime.now(),
        }

    @api.model
    def _activity(self, category, processors=None):
        """The entry of the record for one request type (one processing purpose).

        :param processors: the ``cabinet.processor`` records of the category's controller; those
            for this request type (or for all) are the activity's processors
        """
        processors = (processors or self.env['cabinet.processor']).filtered(
            lambda p: not p.category_ids or category in p.category_ids
        )
        Category = self.env['cabinet.category']
        legal_bases = dict(Category._fields['legal_basis']._description_selection(self.env))
        policy = category.retention_policy_id
        actions = dict(policy._fields['action']._description_selection(self.env))
        clients = category.portal_visible or not category.internal
        subjects = []
        if clients:
            subjects.append(self.env._("Clients and their contacts, and the agents acting for them"))
        if category.internal:
            subjects.append(self.env._("Staff of the firm filing their own requests"))
        return {
            'category': category,
            'clients': clients,
            'legal_basis': legal_bases.get(category.legal_basis, ""),
            'subjects': subjects,
            'team': category.team_id,
            'retention_action': actions.get(policy.action, "") if policy else "",
            'processors': processors,
            'transfers': processors.filtered('transfer'),
        }

    @api.model
    def _dpo_names(self):
        # access checked in _get_report_values: DPO or helpdesk administrator
        group_sudo = self.env.ref('cabinet_helpdesk.group_cabinet_dpo').sudo()
        return group_sudo.all_user_ids.filtered(lambda u: u.active and not u.share).sorted('name').mapped('name')

    @api.model
    def _security_measures(self):
        """Access rules and groups that protect tickets, as they are configured in this database
        (record rules may have been adapted by the firm)."""
        # access checked in _get_report_values: DPO or helpdesk administrator
        rules_sudo = (
            self.env['ir.rule']
            .sudo()
            .search([('model_id.model', '=', 'cabinet.ticket'), ('active', '=', True)], order='id')
        )
        groups_sudo = self.env['res.groups'].sudo().browse([self.env.ref(xmlid).id for xmlid in RECORD_GROUPS])
        return {
            'rules': [
                {
                    'name': rule.name,
                    'scope': ", ".join(rule.groups.mapped('full_name')) or self.env._("Everyone"),
                }
                for rule in rules_sudo
            ],
            'groups': [
                {
                    'name': group.full_name,
                    'comment': group.comment or "",
                    'user_count': len(group.all_user_ids.filtered(lambda u: u.active)),
                }
                for group in groups_sudo
            ],
        }
