# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
import re

from odoo import api, fields, models
from odoo.exceptions import UserError

# a matter reference quoted in an email subject, e.g. "[M2026-0007]"
MATTER_REFERENCE_RE = re.compile(r'\[([A-Za-z0-9/_-]{2,32})\]')


class CabinetTicket(models.Model):
    """Matters: a ticket may belong to one matter of its company and stays its party's ticket.

    ``matter_id`` is for the firm's helpdesk users only (``groups``): a portal user or a staff
    requester never reads it, nor the matter's name through it. Whoever sets it must be able to
    read the matter; an email quoting a matter's reference files the new ticket into that matter
    only when the sender's party already has a ticket in it.
    """

    _inherit = 'cabinet.ticket'

    matter_id = fields.Many2one(
        'cabinet.matter',
        index='btree_not_null',
        check_company=True,
        copy=False,
        groups='cabinet_helpdesk.group_cabinet_user',
        domain="[('state', '=', 'open'), ('company_id', '=', company_id)]",
        help="The case or project this ticket belongs to. The party never sees it.",
    )

    # ------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        # the default from the context too: it is applied after this check
        default_matter_id = self.env.context.get('default_matter_id')
        self._check_matters([vals.get('matter_id', default_matter_id) for vals in vals_list])
        return super().create(vals_list)

    def write(self, vals):
        if vals.get('matter_id'):
            self._check_matters([vals['matter_id']])
        return super().write(vals)

    # ------------------------------------------------------------
    # MAIL GATEWAY
    # ------------------------------------------------------------

    @api.model
    def message_new(self, msg_dict, custom_values=None):
        """File a new ticket into the matter whose reference its subject quotes, when the
        sender's party already has a ticket in that matter; otherwise nothing happens and the
        sender learns nothing about the matter."""
        record = super().message_new(msg_dict, custom_values=custom_values)
        if record._name == self._name and record:
            record._file_into_quoted_matter(msg_dict.get('subject') or '')
        return record

    # ------------------------------------------------------------
    # SYNTHESIS PDF
    # ------------------------------------------------------------

    def message_post(self, **kwargs):
        """Attach the synthesis PDF to the synthesis a coordination posts on this ticket (see
        ``cabinet.coordination.action_send_synthesis``)."""
        coordination_id = self.env.context.get('cabinet_synthesis_pdf_coordination_id')
        if coordination_id and len(self) == 1 and kwargs.get('subtype_xmlid') == 'mail.mt_comment':
            coordination = self.env['cabinet.coordination'].browse(coordination_id)
            if self in coordination.ticket_ids:
                kwargs['attachments'] = [*(kwargs.get('attachments') or []), coordination._synthesis_pdf(self)]
                # once: nothing else posted meanwhile on the ticket gets it
                ticket = self.with_context(cabinet_synthesis_pdf_coordination_id=False)
                return super(CabinetTicket, ticket).message_post(**kwargs)
        return super().message_post(**kwargs)

    # ------------------------------------------------------------
    # HELPERS
    # ------------------------------------------------------------

    @api.model
    def _check_matters(self, matter_ids):
        """Only a matter the user may read, and an open one, takes tickets in.

        :param list matter_ids: ids of matters about to be set on tickets (falsy ones ignored)
        """
        matters = self.env['cabinet.matter'].browse({mid for mid in matter_ids if mid})
        if not matters or self.env.su:
            return
        matters.check_access('read')
        if closed := matters.filtered(lambda matter: matter.state != 'open'):
            raise UserError(
                self.env._(
                    "Matter %(matter)s is closed: reopen it before adding tickets.",
                    matter=", ".join(closed.mapped('display_name')),
                )
            )

    def _file_into_quoted_matter(self, subject):
        """Set the matter quoted as ``[reference]`` in ``subject`` on this new ticket if its
        party already has another ticket in that matter (same company, matter open)."""
        self.ensure_one()
        references = MATTER_REFERENCE_RE.findall(subject)
        if not references:
            return
        # sudo: the gateway's user may not read matters; the lookup decides, nothing is shown
        ticket_sudo = self.sudo()
        candidates = (
            self.env['cabinet.matter']
            .sudo()
            .search(
                [
                    ('reference', 'in', references),
                    ('company_id', '=', ticket_sudo.company_id.id),
                    ('state', '=', 'open'),
                ]
            )
        )
        if not candidates:
            return
        Ticket = self.sudo().with_context(active_test=False)
        for matter in candidates:
            if Ticket.search_count(
                [
                    ('matter_id', '=', matter.id),
                    ('commercial_partner_id', '=', ticket_sudo.commercial_partner_id.id),
                    ('id', '!=', self.id),
                ],
                limit=1,
            ):
                ticket_sudo.matter_id = matter
                return
