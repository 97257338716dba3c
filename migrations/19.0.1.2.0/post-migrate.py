# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
"""19.0.1.2.0: one deadline model, reminders by email.

- A ticket's reminder date now defaults from its promised deadline (working days before it) and
  follows it while nobody chose another day. Every reminder date set before this version was
  chosen by hand: it is marked so (``reminder_date_manual``), and a later change of the deadline
  leaves it alone.
- The reminder email template (``mail_template_ticket_reminder``) is new: the data file creates it.
"""

import logging

from odoo.tools import SQL

_logger = logging.getLogger(__name__)


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        SQL(
            "UPDATE cabinet_ticket SET reminder_date_manual = TRUE "
            "WHERE reminder_date IS NOT NULL AND reminder_date_manual IS NOT TRUE"
        )
    )
    _logger.info("%s reminder date(s) kept as chosen by hand", cr.rowcount)
