# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
"""19.0.1.2.0: one deadline model, reminders by email, record rules on the ticket's own columns.

- A ticket's reminder date now defaults from its promised deadline (working days before it) and
  follows it while nobody chose another day. Every reminder date set before this version was
  chosen by hand: it is marked so (``reminder_date_manual``), and a later change of the deadline
  leaves it alone.
- The confidential rule (``cabinet_ticket_rule_confidential``) and the helpdesk users' rule
  (``cabinet_ticket_rule_user``), noupdate records, say the same as before through
  ``is_confidential``, ``category_team_id`` (filled by the pre-migration) and the user's teams
  (``res.users.cabinet_team_ids``) instead of joining request types and teams: their definition is
  applied again from ``security/ir_rules.xml``, the one place it is written.
"""

import io
import logging

from lxml import etree

from odoo import SUPERUSER_ID, api
from odoo.tools import SQL, convert, file_open

_logger = logging.getLogger(__name__)

TICKET_RULES_FILE = 'cabinet_helpdesk/security/ir_rules.xml'
SARGABLE_TICKET_RULE_IDS = ('cabinet_ticket_rule_confidential', 'cabinet_ticket_rule_user')


def _reload_sargable_ticket_rules(env):
    """Apply again the XML definition of the ticket rules ``SARGABLE_TICKET_RULE_IDS`` (only
    those; every other record of the file stays as the database has it)."""
    with file_open(TICKET_RULES_FILE, 'rb') as file:
        document = etree.parse(file)
    root = etree.Element('odoo')
    for record_id in SARGABLE_TICKET_RULE_IDS:
        root.extend(document.xpath('//record[@id=$record_id]', record_id=record_id))
    stream = io.BytesIO(etree.tostring(root))
    stream.name = TICKET_RULES_FILE
    # mode 'init' writes records that exist already; noupdate keeps them protected afterwards
    convert.convert_xml_import(env, 'cabinet_helpdesk', stream, idref={}, mode='init', noupdate=True)


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
    env = api.Environment(cr, SUPERUSER_ID, {})
    _reload_sargable_ticket_rules(env)
    _logger.info("Ticket rules %s applied again", ", ".join(SARGABLE_TICKET_RULE_IDS))
