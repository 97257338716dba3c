# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from odoo import api, models


class CabinetTicketReferenceMixin(models.AbstractModel):
    """Records whose fields point at tickets chosen by the user: wizards, emails to qualify.

    The form shows a many-to-one ticket with its number and subject whatever the reader's rights
    (the web client reads the name of a many-to-one as superuser), and computed fields of such
    records may read the tickets they are given. So a ticket id given by the user (typed in a
    form, sent by RPC, in a default or through a form change) must be one the user may read:
    saving the record (constraint) and form changes (``onchange``) refuse any other with an
    AccessError, before anything of that ticket is shown.
    """

    _name = 'cabinet.ticket.reference.mixin'
    _description = "Record Pointing at Tickets"

    def _cabinet_ticket_fnames(self):
        """Names of the fields of this model pointing at tickets (many2one and many2many)."""
        return [
            fname
            for fname, field in self._fields.items()
            if field.type in ('many2one', 'many2many') and field.comodel_name == 'cabinet.ticket' and field.store
        ]

    @api.constrains(lambda self: self._cabinet_ticket_fnames())
    def _check_cabinet_ticket_access(self):
        tickets = self.env['cabinet.ticket']
        for fname in self._cabinet_ticket_fnames():
            tickets |= self[fname]
        tickets._origin.check_access('read')

    def onchange(self, values, field_names, fields_spec):
        result = super().onchange(values, field_names, fields_spec)
        ticket_ids = set()
        changes = result.get('value') or {}
        for fname in self._cabinet_ticket_fnames():
            value = changes.get(fname)
            if self._fields[fname].type == 'many2one':
                value = [value]
            for item in value or ():
                # many2one: id or {'id': .., 'display_name': ..}; many2many: commands
                if isinstance(item, dict):
                    item = item.get('id')
                elif isinstance(item, (list, tuple)):
                    item = item[1] if len(item) > 1 else False
                if isinstance(item, int) and item:
                    ticket_ids.add(item)
        self.env['cabinet.ticket'].browse(ticket_ids).check_access('read')
        return result
