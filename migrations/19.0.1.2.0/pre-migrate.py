# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
"""19.0.1.2.0: tickets carry their request type's confidentiality and handling team, and their
party's type.

``is_confidential`` and ``category_team_id`` (read by the record rules) and ``party_type`` (shown
in the list of tickets), stored related fields of the ticket from now on, are filled here in one
statement each, before the module's update: the ORM would otherwise compute them ticket by ticket.
Copies of an email posted twice on the same ticket (the same email delivered twice at once) lose
their Message-ID's exclusivity before the unique index on it is created: the first one keeps it.
"""

from odoo.tools import SQL
from odoo.tools.sql import column_exists, create_column


def _fill_ticket_confidentiality_columns(cr):
    """Create and fill ``cabinet_ticket.is_confidential`` and ``category_team_id`` from the
    tickets' request types."""
    if not column_exists(cr, 'cabinet_ticket', 'is_confidential'):
        create_column(cr, 'cabinet_ticket', 'is_confidential', 'boolean')
    if not column_exists(cr, 'cabinet_ticket', 'category_team_id'):
        create_column(cr, 'cabinet_ticket', 'category_team_id', 'int4')
    cr.execute(
        SQL("""
            UPDATE cabinet_ticket ticket
               SET is_confidential = COALESCE(category.confidential, FALSE),
                   category_team_id = category.team_id
              FROM cabinet_category category
             WHERE category.id = ticket.category_id
        """)
    )
    cr.execute(SQL("UPDATE cabinet_ticket SET is_confidential = FALSE WHERE category_id IS NULL"))


def _fill_ticket_party_type_column(cr):
    """Create and fill ``cabinet_ticket.party_type`` from the tickets' parties."""
    if column_exists(cr, 'cabinet_ticket', 'party_type'):
        return
    create_column(cr, 'cabinet_ticket', 'party_type', 'varchar')
    cr.execute(
        SQL("""
            UPDATE cabinet_ticket ticket
               SET party_type = party.party_type
              FROM res_partner party
             WHERE party.id = ticket.commercial_partner_id
        """)
    )


def _mark_duplicate_ticket_emails(cr):
    """Give the later copies of an email posted twice on a ticket a Message-ID of their own, so
    that ``mail_message._cabinet_ticket_email_uniq`` can be created: replies keep threading on the
    first copy."""
    cr.execute(
        SQL("""
            UPDATE mail_message copy
               SET message_id = copy.message_id || '-copy-' || copy.id
              FROM mail_message first
             WHERE copy.model = 'cabinet.ticket' AND copy.message_type = 'email'
               AND first.model = 'cabinet.ticket' AND first.message_type = 'email'
               AND first.res_id = copy.res_id AND first.message_id = copy.message_id
               AND first.id < copy.id
        """)
    )


def migrate(cr, version):
    if not version:
        return
    _fill_ticket_confidentiality_columns(cr)
    _fill_ticket_party_type_column(cr)
    _mark_duplicate_ticket_emails(cr)
