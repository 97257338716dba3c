# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
import logging

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Domain

_logger = logging.getLogger(__name__)


class CabinetMatter(models.Model):
    """A case, building project or file that several parties' tickets belong to.

    A matter is internal to the firm: it gathers tickets, each of which stays the ticket of
    one party, and never opens a path between them.

    Who may do what (``security/ir_rules.xml``): helpdesk users read and edit the matters of
    the teams they belong to or lead and those they are responsible for; managers all of
    their companies; portal users and staff requesters never read a matter (no access right).
    Inside a matter, every list, counter and document is computed with the reader's own
    rights: the tickets a user may not read (a confidential request type of another team)
    stay hidden, counts included. A matter has no thread of its own, so that nobody outside
    the firm can follow it.
    """

    _name = 'cabinet.matter'
    _description = "Matter"
    _order = 'id desc'
    _rec_names_search = ['reference', 'name']
    _check_company_auto = True

    # Identity
    name = fields.Char(required=True, index='trigram')
    reference = fields.Char(readonly=True, copy=False, index=True, help="Quote it as [reference] in an email subject.")
    company_id = fields.Many2one('res.company', required=True, index=True, default=lambda self: self.env.company)
    active = fields.Boolean(default=True)
    state = fields.Selection([('open', "Open"), ('closed', "Closed")], required=True, default='open', copy=False)
    anonymized = fields.Boolean(readonly=True, copy=False, index=True)
    # People
    client_id = fields.Many2one(
        'res.partner',
        index='btree_not_null',
        help="The party that instructs the firm.",
    )
    user_id = fields.Many2one(
        'res.users',
        string="Responsible",
        index=True,
        default=lambda self: self.env.user,
        domain="[('share', '=', False), ('company_ids', 'in', company_id)]",
    )
    team_id = fields.Many2one('cabinet.team', index=True, check_company=True)
    # Tickets, parties, coordinations
    ticket_ids = fields.One2many('cabinet.ticket', 'matter_id', string="Tickets")
    coordination_ids = fields.One2many('cabinet.coordination', 'matter_id', string="Coordinations")
    lane_ids = fields.One2many('cabinet.matter.lane', 'matter_id', string="Parties", readonly=True)
    ticket_count = fields.Integer(compute='_compute_counts', export_string_translation=False)
    open_ticket_count = fields.Integer(compute='_compute_counts', export_string_translation=False)
    party_count = fields.Integer(compute='_compute_counts', export_string_translation=False)
    coordination_count = fields.Integer(compute='_compute_counts', export_string_translation=False)
    document_count = fields.Integer(compute='_compute_counts', export_string_translation=False)
    message_count = fields.Integer(compute='_compute_counts', export_string_translation=False)

    _reference_company_uniq = models.UniqueIndex(
        '(company_id, reference) WHERE reference IS NOT NULL', "A matter reference is unique within a company."
    )

    @api.depends('reference', 'name')
    def _compute_display_name(self):
        for matter in self:
            matter.display_name = f"[{matter.reference}] {matter.name}" if matter.reference else matter.name

    @api.depends_context('uid')
    def _compute_counts(self):
        # everything with the reader's rights: tickets they may not read are not counted
        tickets_by_matter = self._readable_tickets_by_matter()
        all_ticket_ids = [tid for ids in tickets_by_matter.values() for tid in ids]
        coordinations = dict(
            self.env['cabinet.coordination']._read_group([('matter_id', 'in', self.ids)], ['matter_id'], ['__count'])
        )
        docs, msgs = {}, {}
        if all_ticket_ids:
            ticket_matter = {tid: mid for mid, ids in tickets_by_matter.items() for tid in ids}
            for res_id, count in self.env['ir.attachment']._read_group(
                [('res_model', '=', 'cabinet.ticket'), ('res_id', 'in', all_ticket_ids)], ['res_id'], ['__count']
            ):
                docs[ticket_matter[res_id]] = docs.get(ticket_matter[res_id], 0) + count
            for res_id, count in self.env['mail.message']._read_group(
                self._timeline_domain(all_ticket_ids), ['res_id'], ['__count']
            ):
                msgs[ticket_matter[res_id]] = msgs.get(ticket_matter[res_id], 0) + count
        open_counts = {
            matter.id: count
            for matter, count in self.env['cabinet.ticket']._read_group(
                [('id', 'in', all_ticket_ids), ('is_closed', '=', False)], ['matter_id'], ['__count']
            )
        }
        party_counts = {
            matter.id: count
            for matter, count in self.env['cabinet.matter.lane']._read_group(
                [('matter_id', 'in', self.ids)], ['matter_id'], ['__count']
            )
        }
        for matter in self:
            matter.ticket_count = len(tickets_by_matter.get(matter.id, ()))
            matter.open_ticket_count = open_counts.get(matter.id, 0)
            matter.party_count = party_counts.get(matter.id, 0)
            matter.coordination_count = coordinations.get(matter, 0)
            matter.document_count = docs.get(matter.id, 0)
            matter.message_count = msgs.get(matter.id, 0)

    # ------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        vals_list = [dict(vals) for vals in vals_list]
        for vals in vals_list:
            company = self.env['res.company'].browse(vals.get('company_id')) or self.env.company
            vals['reference'] = self._next_reference(company)
        return super().create(vals_list)

    def write(self, vals):
        if 'reference' in vals and not self.env.su:
            vals = {key: value for key, value in vals.items() if key != 'reference'}
        return super().write(vals)

    def read(self, fields=None, load='_classic_read'):
        if not self.env.su and (fields is None or {'ticket_ids', 'coordination_ids', 'lane_ids'} & set(fields)):
            # read the tickets again with the user's rights, never from a cache filled as superuser
            self.invalidate_recordset(['ticket_ids', 'coordination_ids', 'lane_ids'])
        return super().read(fields, load=load)

    def copy_data(self, default=None):
        vals_list = super().copy_data(default=default)
        return [
            dict(vals, name=self.env._("%s (copy)", matter.name)) for matter, vals in zip(self, vals_list, strict=True)
        ]

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_close(self):
        self.write({'state': 'closed'})

    def action_reopen(self):
        if self.filtered('anonymized'):
            raise UserError(self.env._("An anonymized matter cannot be reopened."))
        self.write({'state': 'open'})

    def action_view_tickets(self):
        self.ensure_one()
        action = self.env['ir.actions.act_window']._for_xml_id('cabinet_helpdesk.cabinet_ticket_action')
        action.update(
            domain=[('matter_id', '=', self.id)],
            context={'default_matter_id': self.id, 'search_default_group_party': 1},
            view_mode='list,form,kanban',
            views=[(False, 'list'), (False, 'form'), (False, 'kanban')],
        )
        return action

    def action_new_ticket(self):
        """Open a new ticket of this matter: it is still the ticket of one party, chosen in the form."""
        self.ensure_one()
        if self.state != 'open':
            raise UserError(self.env._("Matter %(matter)s is closed: reopen it first.", matter=self.display_name))
        return {
            'type': 'ir.actions.act_window',
            'name': self.env._("New ticket"),
            'res_model': 'cabinet.ticket',
            'view_mode': 'form',
            'views': [(False, 'form')],
            'target': 'current',
            'context': {
                'default_matter_id': self.id,
                'default_team_id': self.team_id.id,
                'default_company_id': self.company_id.id,
            },
        }

    def action_view_coordinations(self):
        self.ensure_one()
        action = self.env['ir.actions.act_window']._for_xml_id('cabinet_helpdesk.cabinet_coordination_action')
        action.update(domain=[('matter_id', '=', self.id)], context={'default_matter_id': self.id})
        return action

    def action_view_documents(self):
        """The documents of the matter's tickets the user may read, each with its party and ticket."""
        self.ensure_one()
        ticket_ids = self._readable_tickets_by_matter().get(self.id, [])
        return {
            'type': 'ir.actions.act_window',
            'name': self.env._("Documents of %(matter)s", matter=self.display_name),
            'res_model': 'ir.attachment',
            'view_mode': 'list,form',
            'views': [
                (self.env.ref('cabinet_helpdesk.ir_attachment_view_list_cabinet_matter').id, 'list'),
                (False, 'form'),
            ],
            'domain': [('res_model', '=', 'cabinet.ticket'), ('res_id', 'in', ticket_ids)],
            'context': {'create': False},
        }

    def action_view_timeline(self):
        """The messages of the matter's tickets the user may read, oldest first (internal notes and
        tracked changes included, as the user may read them)."""
        self.ensure_one()
        ticket_ids = self._readable_tickets_by_matter().get(self.id, [])
        return {
            'type': 'ir.actions.act_window',
            'name': self.env._("Timeline of %(matter)s", matter=self.display_name),
            'res_model': 'mail.message',
            'view_mode': 'list',
            'views': [(self.env.ref('cabinet_helpdesk.mail_message_view_list_cabinet_matter').id, 'list')],
            'domain': list(self._timeline_domain(ticket_ids)),
            'context': {'create': False},
        }

    def action_plan_meeting(self):
        self.ensure_one()
        action = self.env['ir.actions.act_window']._for_xml_id('cabinet_helpdesk.cabinet_matter_meeting_action')
        action['context'] = {'default_matter_id': self.id}
        return action

    # ------------------------------------------------------------
    # RETENTION
    # ------------------------------------------------------------

    @api.model
    def _cron_apply_retention(self, batch_size=100):
        """Anonymize the closed matters none of whose tickets still holds personal data (every
        ticket anonymized or deleted), in batches; a rerun goes on where the last one stopped,
        as anonymized matters leave the due domain."""
        Matter = self.sudo().with_context(active_test=False)
        while matters := Matter.search(
            self._retention_due_domain(), limit=batch_size, order='id'
        ).try_lock_for_update():
            matters._anonymize()
            if not self.env['ir.cron']._commit_progress(
                len(matters), remaining=Matter.search_count(self._retention_due_domain())
            ):
                break

    @api.model
    def _retention_due_domain(self):
        """Closed matters, not yet anonymized, without a ticket that is not anonymized."""
        busy = (
            self.env['cabinet.ticket']
            .sudo()
            .with_context(active_test=False)
            ._read_group([('matter_id', '!=', False), ('anonymized', '=', False)], ['matter_id'])
        )
        return Domain(
            [('state', '=', 'closed'), ('anonymized', '=', False), ('id', 'not in', [matter.id for (matter,) in busy])]
        )

    def _anonymize(self):
        """Remove what names a person from the matters; the reference and dates stay."""
        self.sudo().write({'name': self.env._("Anonymized matter"), 'client_id': False, 'anonymized': True})
        _logger.info("Anonymized %s matter(s) whose tickets were all anonymized or deleted", len(self))

    # ------------------------------------------------------------
    # HELPERS
    # ------------------------------------------------------------

    def _readable_tickets_by_matter(self):
        """Ids of the tickets of each matter that the current user may read (record rules applied).

        :return: ``{matter_id: [ticket ids]}``
        """
        Ticket = self.env['cabinet.ticket']
        if not self.ids or not Ticket.has_access('read'):
            return {}
        result = {}
        for ticket in Ticket.search_fetch([('matter_id', 'in', self.ids)], ['matter_id'], order='id'):
            result.setdefault(ticket.matter_id.id, []).append(ticket.id)
        return result

    @api.model
    def _timeline_domain(self, ticket_ids):
        return Domain(
            [
                ('model', '=', 'cabinet.ticket'),
                ('res_id', 'in', list(ticket_ids)),
                ('message_type', 'in', ['email', 'comment', 'email_outgoing', 'notification']),
            ]
        )

    @api.model
    def _next_reference(self, company):
        """Next matter reference of ``company``, from the company's own sequence (created on the
        first matter of a company that has none)."""
        Sequence = self.env['ir.sequence'].sudo()
        sequence = Sequence.search([('code', '=', 'cabinet.matter'), ('company_id', '=', company.id)], limit=1)
        if not sequence:
            template = self.env.ref('cabinet_helpdesk.ir_sequence_cabinet_matter', raise_if_not_found=False)
            sequence = Sequence.create(
                {
                    'name': self.env._("Matters of %s", company.name),
                    'code': 'cabinet.matter',
                    'company_id': company.id,
                    'prefix': template.prefix if template else 'M%(year)s-',
                    'padding': template.padding if template else 4,
                    'use_date_range': template.use_date_range if template else True,
                }
            )
        return sequence._next()
