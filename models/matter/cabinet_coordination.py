# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from odoo import fields, models


class CabinetCoordination(models.Model):
    """Matters: a coordination may belong to a matter, and its synthesis reaches each party
    also as a PDF attached to the synthesis message on the party's own ticket."""

    _inherit = 'cabinet.coordination'

    matter_id = fields.Many2one('cabinet.matter', index='btree_not_null', check_company=True, tracking=True)

    def action_send_synthesis(self):
        # one coordination at a time: each ticket's synthesis message carries that coordination's PDF
        for coordination in self:
            super(
                CabinetCoordination, coordination.with_context(cabinet_synthesis_pdf_coordination_id=coordination.id)
            ).action_send_synthesis()
        return True

    def _synthesis_pdf(self, ticket):
        """The synthesis as a PDF for ``ticket``'s party: the meeting date, the synthesis as
        written, and that ticket's number only.

        :return: ``(file name, content)`` for ``message_post(attachments=...)``
        """
        self.ensure_one()
        report = self.env['ir.actions.report'].with_context(lang=ticket.partner_id.lang or self.env.lang)
        content, _type = report._render_qweb_pdf(
            'cabinet_helpdesk.action_report_coordination_synthesis', self.ids, data={'ticket_id': ticket.id}
        )
        return (self.env._("Meeting summary %(number)s.pdf", number=ticket.number), content)
