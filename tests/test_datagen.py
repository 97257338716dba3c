# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
"""The benchmark data generator (tools/datagen.py) makes tickets the ORM takes for its own."""

import importlib.util
from pathlib import Path

from odoo.tests import TransactionCase, tagged
from odoo.tools import email_normalize


def _datagen():
    path = Path(__file__).resolve().parents[1] / 'tools' / 'datagen.py'
    spec = importlib.util.spec_from_file_location('cabinet_helpdesk_datagen', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@tagged('post_install', '-at_install')
class TestDatagen(TransactionCase):
    def test_generated_tickets_are_valid(self):
        datagen = _datagen()
        Ticket = self.env['cabinet.ticket'].with_context(active_test=False)
        before = Ticket.search([])
        total = datagen.generate(self.env, 'cabinet', len(before) + 400, commit=False)
        tickets = Ticket.search([]) - before
        self.assertEqual(total, len(before) + 400)
        self.assertEqual(len(tickets), 400)
        copies = tickets.filtered(lambda t: t.name.startswith('Request '))
        self.assertTrue(copies, "copies made in SQL")

        # every stored field reads back, python constraints hold, numbers and tokens are unique
        stored = [name for name, field in Ticket._fields.items() if field.store and field.column_type]
        tickets.read(stored)
        tickets._validate_fields(stored)
        self.assertEqual(len(set(tickets.mapped('number'))), 400)
        self.assertEqual(len(set(tickets.mapped('access_token'))), 400)
        self.assertFalse(tickets.filtered(lambda t: t.commercial_partner_id != t.partner_id.commercial_partner_id))
        self.assertFalse(tickets.filtered(lambda t: t.is_closed != t.stage_id.is_closed))
        self.assertFalse(tickets.filtered(lambda t: t.is_closed and not t.closed_date))
        self.assertFalse(tickets.filtered(lambda t: t.stage_id not in t.workflow_stage_ids))

        # stored computed fields are what the ORM computes itself
        sample = copies[:40]
        expected = {}
        for name in ('legal_basis', 'retention_date', 'sla_policy_id', 'is_closed', 'commercial_partner_id'):
            expected[name] = {ticket.id: ticket[name] for ticket in sample}
            self.env.add_to_compute(Ticket._fields[name], sample)
        sample._recompute_recordset(list(expected))
        for name, values in expected.items():
            for ticket in sample:
                self.assertEqual(ticket[name], values[ticket.id], f"{name} of ticket {ticket.id}")

        # generated contacts are found by their address, as the mail gateway looks them up
        requesters = copies.partner_id[:20]
        for partner in requesters | requesters.commercial_partner_id:
            self.assertEqual(
                self.env['res.partner'].search([('email_normalized', '=', email_normalize(partner.email))]),
                partner,
                f"contact {partner.id} found by its address",
            )

        # about 70 % closed; chatter, tracked changes and attachments on some copies
        closed = len(tickets.filtered('is_closed')) / len(tickets)
        self.assertGreater(closed, 0.55)
        self.assertLess(closed, 0.85)
        messages = self.env['mail.message'].search([('model', '=', 'cabinet.ticket'), ('res_id', 'in', copies.ids)])
        self.assertTrue(messages.tracking_value_ids)
        self.assertTrue(copies.message_follower_ids)

        # the ORM works on them: search, grouping, the analysis and writing
        groups = Ticket._read_group([('id', 'in', tickets.ids)], ['team_id', 'stage_id'], ['__count'])
        self.assertEqual(sum(count for *_keys, count in groups), 400)
        self.env['cabinet.ticket.analysis'].formatted_read_group([], ['team_id', 'create_date:month'], ['__count'])
        open_copy = copies.filtered(lambda t: not t.is_closed)[:1]
        open_copy.action_close()
        self.assertTrue(open_copy.is_closed)

        # the portal party has its 50 tickets and its portal user
        portal = self.env['res.users'].search([('login', '=', datagen.PORTAL_LOGIN)])
        self.assertEqual(Ticket.search_count([('commercial_partner_id', '=', portal.commercial_partner_id.id)]), 50)
