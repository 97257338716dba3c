# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from collections import defaultdict

from odoo import api, models


class ReportCabinetTicketDossier(models.AbstractModel):
    """Ticket dossier: the ticket as its party knows it, with its history.

    Everything the template shows is read here for all the printed tickets at once (messages,
    tracked changes, documents), so that printing hundreds of dossiers, as the personal data
    export does, costs a few queries rather than a few per message.
    """

    _name = 'report.cabinet_helpdesk.report_ticket_dossier'
    _description = "Ticket Dossier Report"

    @api.model
    def _get_report_values(self, docids, data=None):
        tickets = self.env['cabinet.ticket'].with_context(active_test=False).browse(docids)
        tickets.check_access('read')
        messages = tickets._dossier_messages()
        # grouped: the groups share the prefetch of all messages (authors, documents: one query each)
        exchanges = defaultdict(lambda: messages.browse(), messages.grouped('res_id'))
        # the history is written in the language of each dossier: its requester's
        history = {}
        by_lang = defaultdict(lambda: tickets.browse())
        for ticket in tickets:
            by_lang[ticket.partner_id.lang or self.env.user.lang] |= ticket
        for lang, lang_tickets in by_lang.items():
            history.update(lang_tickets.with_context(lang=lang)._dossier_history())
        return {
            'doc_ids': tickets.ids,
            'doc_model': 'cabinet.ticket',
            'docs': tickets,
            'exchanges': exchanges,
            'history': history,
            'documents': tickets._dossier_documents(),
        }
