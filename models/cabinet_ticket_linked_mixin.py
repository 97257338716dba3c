# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from odoo import api, fields, models
from odoo.fields import Domain


class CabinetTicketLinkedMixin(models.AbstractModel):
    """Records attached to a document by ``res_model`` and ``res_id`` (ratings, followers):
    those attached to a ticket are visible only to whoever may read the ticket.

    Inheriting models get ``cabinet_ticket_readable``, true for records of other documents and
    for records of tickets the current user may read; their record rule
    (``security/ir_rules.xml``) keeps the records where it is true. The tickets' own record
    rules decide (:meth:`cabinet.ticket._readable_query`), applied to the real user even
    though record rules are evaluated in superuser mode.
    """

    _name = 'cabinet.ticket.linked.mixin'
    _description = "Attached to a Ticket"

    cabinet_ticket_readable = fields.Boolean(
        compute='_compute_cabinet_ticket_readable',
        search='_search_cabinet_ticket_readable',
        export_string_translation=False,
    )

    @api.depends('res_model', 'res_id')
    @api.depends_context('uid', 'allowed_company_ids')
    def _compute_cabinet_ticket_readable(self):
        ticket_ids = {record.res_id for record in self if record.res_model == 'cabinet.ticket'}
        readable_ids = self.env['cabinet.ticket']._readable_ids(ticket_ids)
        for record in self:
            record.cabinet_ticket_readable = record.res_model != 'cabinet.ticket' or record.res_id in readable_ids

    def _search_cabinet_ticket_readable(self, operator, value):
        if operator != 'in':
            return NotImplemented
        other_documents = Domain('res_model', '!=', 'cabinet.ticket')
        query = self.env['cabinet.ticket']._readable_query()
        readable = other_documents if query is None else other_documents | Domain('res_id', 'in', query)
        if True in value and False in value:
            return Domain.TRUE
        if True in value:
            return readable
        return ~readable if False in value else Domain.FALSE
