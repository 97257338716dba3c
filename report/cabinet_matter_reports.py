# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from odoo import api, models


class ReportCabinetMatterDossier(models.AbstractModel):
    """Matter dossier (internal): the matter, its parties, its tickets with their status and
    key dates, its coordinations, all read with the printing user's rights."""

    _name = 'report.cabinet_helpdesk.report_matter_dossier'
    _description = "Matter Dossier Report"

    @api.model
    def _get_report_values(self, docids, data=None):
        matters = self.env['cabinet.matter'].with_context(active_test=False).browse(docids)
        matters.check_access('read')
        tickets = self.env['cabinet.ticket'].search(
            [('matter_id', 'in', matters.ids)], order='commercial_partner_id, id'
        )
        lanes = self.env['cabinet.matter.lane'].search([('matter_id', 'in', matters.ids)])
        coordinations = self.env['cabinet.coordination'].search([('matter_id', 'in', matters.ids)])
        return {
            'doc_ids': matters.ids,
            'doc_model': 'cabinet.matter',
            'docs': matters,
            'tickets': tickets.grouped('matter_id'),
            'lanes': lanes.grouped('matter_id'),
            'coordinations': coordinations.grouped('matter_id'),
        }


class ReportCabinetCoordinationSynthesis(models.AbstractModel):
    """Synthesis of a coordination as a PDF for one party: the meeting date, the synthesis as
    written and that party's ticket number, nothing about the other parties."""

    _name = 'report.cabinet_helpdesk.report_coordination_synthesis'
    _description = "Coordination Synthesis Report"

    @api.model
    def _get_report_values(self, docids, data=None):
        coordinations = self.env['cabinet.coordination'].browse(docids)
        coordinations.check_access('read')
        ticket = self.env['cabinet.ticket'].browse((data or {}).get('ticket_id'))
        if ticket:
            ticket.check_access('read')
        return {
            'doc_ids': coordinations.ids,
            'doc_model': 'cabinet.coordination',
            'docs': coordinations,
            'ticket': ticket,
        }
