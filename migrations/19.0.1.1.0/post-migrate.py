# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
"""19.0.1.1.0: access ends when the reason for it ends.

- The portal rule of agents (``cabinet_ticket_rule_portal_mandate``, a noupdate record) now
  follows the mandate's dates and scope: its definition is applied again from
  ``security/ir_rules.xml``, the one place it is written.
- The confidential rule lets an approver read a request while it waits for their decision.
- The helpdesk users' rule (and its mirror on the analysis) lets the handling team of a
  confidential request type keep the tickets of that type when they are handed to another team.
- The message opening a ticket (subtype ``mt_ticket_new``) is public: the party sees its own
  request. The acknowledgement email links the privacy notice and the DPO's contact and signs
  its link for the requester; it is applied again unless someone edited it.
- Until this version a portal user could read a ticket's access token, so an agent may still
  hold the token of a ticket filed under its mandate: those tickets get new tokens (the links
  sent before to their requesters stop working; the next notification brings a new one).
- The shipped stage "Waiting for the Party" (a noupdate record) pauses the service levels; the
  shipped cancelled, refused and withdrawn stages are not counted in the service levels.
"""

import io
import logging

from lxml import etree

from odoo import SUPERUSER_ID, api
from odoo.tools import convert, file_open

_logger = logging.getLogger(__name__)

RULES_FILE = 'cabinet_helpdesk/security/ir_rules.xml'
SUBTYPES_FILE = 'cabinet_helpdesk/data/mail_message_subtype_data.xml'
TEMPLATES_FILE = 'cabinet_helpdesk/data/mail_template_data.xml'
EXCLUDED_STAGE_IDS = (
    'cabinet_helpdesk.cabinet_stage_cancelled',
    'cabinet_helpdesk.cabinet_stage_staff_cancelled',
    'cabinet_helpdesk.cabinet_stage_hr_refused',
    'cabinet_helpdesk.cabinet_stage_hr_withdrawn',
)
RULE_IDS = (
    'cabinet_ticket_rule_portal_mandate',
    'cabinet_ticket_rule_confidential',
    'cabinet_ticket_rule_user',
    'cabinet_ticket_analysis_rule_user',
)


def _reload_records(env, path, record_ids):
    """Apply again the XML definition of the noupdate records ``record_ids`` of file ``path``
    (only those; every other record of the file stays as the database has it)."""
    with file_open(path, 'rb') as file:
        document = etree.parse(file)
    root = etree.Element('odoo')
    for record_id in record_ids:
        root.extend(document.xpath('//record[@id=$record_id]', record_id=record_id))
    stream = io.BytesIO(etree.tostring(root))
    stream.name = path
    # mode 'init' writes records that exist already; noupdate keeps them protected afterwards
    convert.convert_xml_import(env, 'cabinet_helpdesk', stream, idref={}, mode='init', noupdate=True)


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    _reload_records(env, RULES_FILE, RULE_IDS)
    _reload_records(env, SUBTYPES_FILE, ('mt_ticket_new',))
    template = env.ref('cabinet_helpdesk.mail_template_ticket_acknowledgement', raise_if_not_found=False)
    if template and template.write_uid.id in (SUPERUSER_ID, env.ref('base.user_root').id):
        _reload_records(env, TEMPLATES_FILE, ('mail_template_ticket_acknowledgement',))
    elif template:
        _logger.warning(
            "The acknowledgement template was edited: add the privacy notice link and the signed ticket link by hand"
        )
    waiting = env.ref('cabinet_helpdesk.cabinet_stage_waiting', raise_if_not_found=False)
    if waiting and not waiting.sla_paused:
        waiting.sla_paused = True
    for xmlid in EXCLUDED_STAGE_IDS:
        stage = env.ref(xmlid, raise_if_not_found=False)
        if stage and stage.is_closed and not stage.sla_excluded:
            stage.sla_excluded = True
    tickets = env['cabinet.ticket'].with_context(active_test=False).search([('mandate_id', '!=', False)])
    tickets._rotate_access_token()
    _logger.info("Portal rule of agents updated; new access tokens for %s ticket(s) under a mandate", len(tickets))
