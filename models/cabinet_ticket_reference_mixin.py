# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from odoo import api, models
from odoo.fields import Command


class CabinetTicketReferenceMixin(models.AbstractModel):
    """Records whose fields point at tickets chosen by the user: wizards, emails to qualify.

    The form shows a many-to-one ticket with its number and subject whatever the reader's rights
    (the web client reads the name of a many-to-one as superuser), and computed fields of such
    records may read the tickets they are given. So a ticket id given by the user (typed in a
    form, sent by RPC, in a default or through a form change) must be one the user may read:
    saving the record and form changes (``onchange``) refuse any other with an AccessError,
    before anything of that ticket is shown. Code running as superuser is trusted.
    """

    _name = 'cabinet.ticket.reference.mixin'
    _description = "Record Pointing at Tickets"

    def _ticket_fnames(self):
        """Names of the fields of this model pointing at tickets (many2one and many2many)."""
        return [
            fname
            for fname, field in self._fields.items()
            if field.type in ('many2one', 'many2many') and field.comodel_name == 'cabinet.ticket' and field.store
        ]

    @api.model_create_multi
    def create(self, vals_list):
        self._check_ticket_values(vals_list)
        return super().create(vals_list)

    def write(self, vals):
        self._check_ticket_values([vals])
        return super().write(vals)

    def onchange(self, values, field_names, fields_spec):
        # what the user sends, then what the form would show (defaults and computed values); the
        # tickets the record already points at were checked when they were saved
        # sudo: only the ids of the record's tickets are read, to leave them out of the check
        known = {ticket.id for fname in self._ticket_fnames() for ticket in self.sudo().mapped(fname)}
        self._check_ticket_values([values], known_ids=known)
        result = super().onchange(values, field_names, fields_spec)
        self._check_ticket_values([result.get('value') or {}], known_ids=known)
        return result

    def _check_ticket_values(self, vals_list, known_ids=()):
        """Raise an AccessError unless the current user may read every ticket the values of
        ``vals_list`` point at (many2one ids or ``{'id': ..}``, many2many commands or ids).

        :param list vals_list: values of a create, a write or a form change
        :param known_ids: ids of tickets not to check (those the record already points at)
        """
        if self.env.su:
            return
        ticket_ids = set()
        for vals in vals_list:
            for fname in self._ticket_fnames():
                value = vals.get(fname)
                if self._fields[fname].type == 'many2one':
                    value = [value]
                for item in value or ():
                    if isinstance(item, dict):
                        ticket_ids.add(item.get('id'))
                    elif isinstance(item, (list, tuple)) and item and item[0] == Command.SET:
                        ticket_ids.update(item[2] or ())
                    elif isinstance(item, (list, tuple)) and len(item) > 1:
                        ticket_ids.add(item[1])
                    else:
                        ticket_ids.add(item)
        ticket_ids = {
            ticket_id
            for ticket_id in ticket_ids
            if isinstance(ticket_id, int) and ticket_id and ticket_id not in known_ids
        }
        self.env['cabinet.ticket'].browse(ticket_ids).check_access('read')
