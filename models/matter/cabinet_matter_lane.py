# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from odoo import fields, models
from odoo.tools import SQL


class CabinetMatterLane(models.Model):
    """One party of a matter: its tickets in the matter, as the current user may read them.

    The rows are computed at query time from the tickets the current user may read (their own
    record rules, ``cabinet.ticket._readable_query``) of the matters the user may read:
    a party whose only tickets are hidden from the user has no lane, and hidden tickets are in
    no count.
    """

    _name = 'cabinet.matter.lane'
    _description = "Party of a Matter"
    _auto = False
    _order = 'last_exchange_date desc nulls last, id'

    matter_id = fields.Many2one('cabinet.matter', readonly=True)
    partner_id = fields.Many2one('res.partner', string="Party", readonly=True)
    ticket_count = fields.Integer(string="Tickets", readonly=True)
    open_count = fields.Integer(string="Open", readonly=True)
    overdue_count = fields.Integer(
        string="Overdue", readonly=True, help="Open tickets past their deadline or service level."
    )
    last_exchange_date = fields.Datetime(
        string="Last Exchange", readonly=True, help="Last message exchanged with the party (internal notes excluded)."
    )

    @property
    def _table_query(self):
        tickets = self.env['cabinet.ticket']._readable_query()
        Matter = self.env['cabinet.matter'].sudo(False).with_context(active_test=False)
        if tickets is None or not Matter.has_access('read'):
            return SQL(
                """SELECT NULL::integer AS id, NULL::integer AS matter_id, NULL::integer AS partner_id,
                          0 AS ticket_count, 0 AS open_count, 0 AS overdue_count,
                          NULL::timestamp AS last_exchange_date
                    WHERE FALSE"""
            )
        return SQL(
            """
            SELECT MIN(t.id) AS id,
                   t.matter_id,
                   t.commercial_partner_id AS partner_id,
                   COUNT(*) AS ticket_count,
                   COUNT(*) FILTER (WHERE NOT COALESCE(t.is_closed, FALSE)) AS open_count,
                   COUNT(*) FILTER (
                       WHERE NOT COALESCE(t.is_closed, FALSE)
                         AND (t.date_deadline < %(today)s OR t.sla_status = 'breached')
                   ) AS overdue_count,
                   MAX(last_message.date) AS last_exchange_date
              FROM cabinet_ticket t
              LEFT JOIN LATERAL (
                    SELECT MAX(msg.date) AS date
                      FROM mail_message msg
                      JOIN mail_message_subtype subtype ON subtype.id = msg.subtype_id
                     WHERE msg.model = 'cabinet.ticket'
                       AND msg.res_id = t.id
                       AND msg.message_type IN ('email', 'comment', 'email_outgoing')
                       AND NOT COALESCE(subtype.internal, FALSE)
                   ) last_message ON TRUE
             WHERE t.matter_id IS NOT NULL
               AND t.active
               AND t.id IN %(tickets)s
               AND t.matter_id IN %(matters)s
             GROUP BY t.matter_id, t.commercial_partner_id
            """,
            today=fields.Date.context_today(self),
            tickets=tickets.subselect(),
            matters=Matter._search([]).subselect(),
        )

    def action_open_tickets(self):
        """The tickets of this party in the matter (those the user may read)."""
        self.ensure_one()
        action = self.env['ir.actions.act_window']._for_xml_id('cabinet_helpdesk.cabinet_ticket_action')
        action.update(
            name=self.env._(
                "%(party)s in %(matter)s", party=self.partner_id.display_name, matter=self.matter_id.display_name
            ),
            domain=[('matter_id', '=', self.matter_id.id), ('commercial_partner_id', '=', self.partner_id.id)],
            context={'default_matter_id': self.matter_id.id},
            view_mode='list,form',
            views=[(False, 'list'), (False, 'form')],
        )
        return action
