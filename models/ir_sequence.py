# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from odoo import api, fields, models, tools
from odoo.tools import SQL


class IrSequence(models.Model):
    _inherit = 'ir.sequence'

    @api.model_create_multi
    def create(self, vals_list):
        sequences = super().create(vals_list)
        if any(vals.get('code') == 'cabinet.ticket' for vals in vals_list):
            self.env.registry.clear_cache()  # _cabinet_ticket_sequence_id
        return sequences

    def write(self, vals):
        res = super().write(vals)
        if vals.keys() & {'code', 'company_id', 'active'}:
            self.env.registry.clear_cache()  # _cabinet_ticket_sequence_id
        return res

    def unlink(self):
        ticket_sequences = self.filtered(lambda sequence: sequence.code == 'cabinet.ticket')
        res = super().unlink()
        if ticket_sequences:
            self.env.registry.clear_cache()  # _cabinet_ticket_sequence_id
        return res

    @api.model
    @tools.ormcache('company_id')
    def _cabinet_ticket_sequence_id(self, company_id):
        """The id of the ticket sequence of the company ``company_id``, or ``False``: looked up
        once, not at each ticket."""
        # sudo: the numbering of tickets, whoever creates them
        sequence = self.sudo().search([('code', '=', 'cabinet.ticket'), ('company_id', '=', company_id)], limit=1)
        return sequence.id

    def _cabinet_next_numbers(self, count):
        """The next ``count`` numbers of this sequence, in order, as ``next_by_id`` would give them
        one by one: a sequence of the standard implementation gives them all in one query (the
        date range of the day found in the same query); a sequence without gaps gives them one by
        one.

        :param int count: how many numbers
        :rtype: list
        """
        self.ensure_one()
        if self.implementation != 'standard':
            return [self._next() for _index in range(count)]
        sequence = self
        # nothing to flush for a sequence: the cursor directly, as ir.sequence does
        if self.use_date_range:
            # as ir.sequence._next does: the date range of today (or of the context's date), whose
            # PostgreSQL sequence gives the numbers, in the same query
            day = self.env.context.get('ir_sequence_date') or fields.Date.today()
            self.env.cr.execute(
                SQL(
                    """
                    SELECT date_range.date_from,
                           nextval(%(prefix)s
                                   || lpad(date_range.id::text, greatest(3, length(date_range.id::text)), '0'))
                      FROM (SELECT id, date_from
                              FROM ir_sequence_date_range
                             WHERE sequence_id = %(sequence)s AND date_from <= %(day)s AND date_to >= %(day)s
                             ORDER BY id
                             LIMIT 1) AS date_range
                     CROSS JOIN generate_series(1, %(count)s)
                    """,
                    prefix='ir_sequence_%03d_' % self.id,
                    sequence=self.id,
                    day=day,
                    count=count,
                )
            )
            rows = self.env.cr.fetchall()
            if not rows:
                date_range = self._create_date_range_seq(day)
                pg_sequence = 'ir_sequence_%03d_%03d' % (self.id, date_range.id)
                self.env.cr.execute(
                    SQL("SELECT %s, nextval(%s) FROM generate_series(1, %s)", date_range.date_from, pg_sequence, count)
                )
                rows = self.env.cr.fetchall()
            sequence = self.with_context(ir_sequence_date_range=rows[0][0])
        else:
            self.env.cr.execute(
                SQL("SELECT NULL, nextval(%s) FROM generate_series(1, %s)", 'ir_sequence_%03d' % self.id, count)
            )
            rows = self.env.cr.fetchall()
        values = sorted(value for _date, value in rows)
        # as ir.sequence.get_next_char, the prefix and suffix interpolated once for the batch
        prefix, suffix = sequence._get_prefix_suffix()
        return [f"{prefix}{value:0{self.padding}d}{suffix}" for value in values]
