# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from collections import defaultdict

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Command
from odoo.tools import is_html_empty


class CabinetTicketMerge(models.TransientModel):
    """Merge duplicate tickets of one party into one of them (the target).

    Only tickets of the same party may be merged: one ticket = one party. The history of the
    other tickets (messages, attachments, activities) moves to the target; their followers join
    the target only as far as the target's follower rule allows; the other tickets are closed,
    archived and point to the target. Anonymized tickets and tickets under legal hold are kept
    as they are.
    """

    _name = 'cabinet.ticket.merge'
    _inherit = ['cabinet.ticket.reference.mixin']
    _description = "Merge Tickets"

    ticket_ids = fields.Many2many('cabinet.ticket', string="Tickets", required=True)
    target_ticket_id = fields.Many2one(
        'cabinet.ticket',
        string="Merge Into",
        compute='_compute_target_ticket_id',
        compute_sudo=False,
        store=True,
        readonly=False,
        domain="[('id', 'in', ticket_ids)]",
        help="The ticket that goes on; by default the oldest. The others are closed and archived.",
    )
    warning = fields.Text(compute='_compute_warning', export_string_translation=False)

    @api.depends('ticket_ids')
    def _compute_target_ticket_id(self):
        for wizard in self:
            tickets = wizard._checked_tickets()
            if wizard.target_ticket_id._origin not in tickets or not wizard.target_ticket_id:
                wizard.target_ticket_id = tickets.sorted(lambda t: (t.create_date or fields.Datetime.now(), t.id))[:1]

    @api.depends('ticket_ids', 'target_ticket_id')
    def _compute_warning(self):
        for wizard in self:
            wizard.warning = "\n".join(wizard._get_merge_problems(wizard._checked_tickets())) or False

    @api.model
    def default_get(self, fields):
        """The tickets selected in the list (action menu)."""
        defaults = super().default_get(fields)
        context = self.env.context
        if (
            'ticket_ids' in fields
            and not defaults.get('ticket_ids')
            and context.get('active_model') == 'cabinet.ticket'
            and context.get('active_ids')
        ):
            defaults['ticket_ids'] = [Command.set(context['active_ids'])]
        return defaults

    def action_merge(self):
        """Merge the tickets into the target and open it."""
        self.ensure_one()
        tickets = self._checked_tickets(self.target_ticket_id)
        target = self.target_ticket_id
        if len(tickets) < 2:
            raise UserError(self.env._("Select at least two tickets of the same party to merge them."))
        if target not in tickets:
            raise UserError(self.env._("Choose the ticket to merge into among the selected tickets."))
        problems = self._get_merge_problems(tickets)
        if problems:
            raise UserError("\n".join(problems))
        tickets.check_access('write')
        self._merge_into(target, tickets - target)
        return {
            'type': 'ir.actions.act_window',
            'res_model': 'cabinet.ticket',
            'res_id': target.id,
            'view_mode': 'form',
            'views': [(False, 'form')],
        }

    def _checked_tickets(self, extra=None):
        """The selected tickets, once checked that the current user may read them (and ``extra``):
        an id of a ticket they may not read gets an AccessError, never its number or subject.

        :param extra: other ``cabinet.ticket`` records given by the user, e.g. the target
        :return: the selected tickets (real records)
        """
        tickets = self.ticket_ids._origin
        (tickets | (extra or tickets.browse())._origin).check_access('read')
        return tickets

    def _get_merge_problems(self, tickets):
        """Why ``tickets`` cannot be merged, as sentences for the user (empty when they can)."""
        problems = []
        if len(tickets.commercial_partner_id) > 1:
            by_party = defaultdict(list)
            for ticket in tickets:
                by_party[ticket.commercial_partner_id].append(ticket.number)
            problems.append(
                self.env._(
                    "These tickets belong to different parties: %(parties)s. Only tickets of the same party can be "
                    "merged (one ticket, one party); coordinate the parties instead.",
                    parties="; ".join(
                        f"{party.display_name} ({', '.join(numbers)})" for party, numbers in by_party.items()
                    ),
                )
            )
        if len(tickets.company_id) > 1:
            problems.append(self.env._("These tickets belong to different companies: merge tickets of one company."))
        anonymized = tickets.filtered('anonymized')
        if anonymized:
            problems.append(
                self.env._(
                    "Tickets %(numbers)s are anonymized: they are kept as they are and cannot be merged.",
                    numbers=", ".join(anonymized.mapped('number')),
                )
            )
        held = tickets.filtered('legal_hold')
        if held:
            problems.append(
                self.env._(
                    "Tickets %(numbers)s are under legal hold: they are kept as they are until the data protection "
                    "officer lifts the hold.",
                    numbers=", ".join(held.mapped('number')),
                )
            )
        confidential = tickets.filtered('category_id.confidential')
        if confidential and (confidential != tickets or len(tickets.category_id) > 1):
            problems.append(
                self.env._(
                    "Tickets %(numbers)s are of a confidential request type: they can be merged only with tickets of "
                    "the same request type, so that their history stays with its handling team.",
                    numbers=", ".join(confidential.mapped('number')),
                )
            )
        problems += self._get_mandate_problems(tickets)
        return problems

    def _get_mandate_problems(self, tickets):
        """The agent of the target's mandate sees the target's whole thread: every merged ticket
        must be one the mandate covers, or the agent would read what it was never given."""
        target = self.target_ticket_id._origin
        mandate = target.mandate_id
        if not mandate or target not in tickets:
            return []
        # sudo: the mandate's scope (state, dates, request types) is read to decide, nothing shown
        mandate_sudo = mandate.sudo()
        uncovered = (tickets - target).filtered(
            lambda t: t.mandate_id != mandate and not mandate_sudo._covers(t.commercial_partner_id, t.category_id)
        )
        if not uncovered:
            return []
        return [
            self.env._(
                "Ticket %(target)s was filed under mandate %(mandate)s, whose agent sees its history; the mandate "
                "does not cover tickets %(numbers)s. Merge into another ticket, or keep them apart.",
                target=target.number,
                mandate=mandate_sudo.name,
                numbers=", ".join(uncovered.mapped('number')),
            )
        ]

    def _merge_into(self, target, others):
        """Move the history of ``others`` to ``target``, then close and archive ``others``.

        The caller checked that all are tickets of one party the user may write. Messages,
        attachments and activities move (the thread stays in chronological order, by date);
        followers join the target only if the target's follower rule allows them; coordinations
        of the merged tickets are linked to the target. The target keeps its own service level,
        rating, mandate and description.

        :param target: ``cabinet.ticket`` that goes on
        :param others: ``cabinet.ticket`` records merged into ``target``
        """
        target.ensure_one()
        model = target._name
        # sudo: the user may write all these tickets (checked by the caller); their followers,
        # messages, attachments and activities are technical records moved along with them
        followers_sudo = (
            self.env['mail.followers'].sudo().search([('res_model', '=', model), ('res_id', 'in', others.ids)])
        )
        newcomers = followers_sudo.partner_id - target.sudo().message_partner_ids
        allowed = target._filter_allowed_partners(newcomers)
        partners_by_subtypes = defaultdict(list)
        for follower_sudo in followers_sudo.filtered(lambda f: f.partner_id in allowed):
            subtypes = tuple(sorted(follower_sudo.subtype_ids.ids))
            if follower_sudo.partner_id.id not in partners_by_subtypes[subtypes]:
                partners_by_subtypes[subtypes].append(follower_sudo.partner_id.id)
        seen = set()
        for subtypes, partner_ids in partners_by_subtypes.items():
            partner_ids = [pid for pid in partner_ids if pid not in seen]
            seen.update(partner_ids)
            if partner_ids:
                target.message_subscribe(partner_ids=partner_ids, subtype_ids=list(subtypes) or None)
        domain = [('model', '=', model), ('res_id', 'in', others.ids)]
        self.env['mail.message'].sudo().search(domain).write({'res_id': target.id})
        self.env['ir.attachment'].sudo().search([('res_model', '=', model), ('res_id', 'in', others.ids)]).write(
            {'res_id': target.id}
        )
        self.env['mail.activity'].sudo().search([('res_model', '=', model), ('res_id', 'in', others.ids)]).write(
            {'res_id': target.id}
        )
        # coordinations: one ticket per party, so the target takes the merged ticket's place
        for coordination_sudo in others.sudo().coordination_ids:
            commands = [Command.unlink(ticket.id) for ticket in others if ticket in coordination_sudo.ticket_ids]
            if target not in coordination_sudo.ticket_ids:
                commands.append(Command.link(target.id))
            coordination_sudo.write({'ticket_ids': commands})

        lines = Markup()
        for ticket in others:
            line = Markup("<li>%s</li>") % ticket.display_name
            if not is_html_empty(ticket.description):
                line = Markup("<li>%s%s</li>") % (ticket.display_name, ticket.description)
            lines += line
        target.message_post(
            body=Markup("<p>%s</p><ul>%s</ul>")
            % (
                self.env._(
                    "Merged into this ticket, with their messages, attachments and activities: %(numbers)s",
                    numbers=", ".join(others.mapped('number')),
                ),
                lines,
            ),
            message_type='comment',
            subtype_xmlid='mail.mt_note',
        )
        closing_by_stage = defaultdict(lambda: self.env['cabinet.ticket'])
        closing_by_team = {}
        for ticket in others:
            note = self.env._("Merged into ticket %(number)s: the request goes on there.", number=target.number)
            ticket.message_post(body=note, message_type='comment', subtype_xmlid='mail.mt_note')
            # the closing message (which the party may receive) says where the request goes on
            ticket._track_set_log_message(Markup("<p>%s</p>") % note)
            if ticket.is_closed:
                stage = ticket.stage_id
            else:
                key = (ticket.team_id, ticket.category_id)  # the request type may have its own workflow
                if key not in closing_by_team:
                    closing_by_team[key] = self._closing_stage(ticket)
                stage = closing_by_team[key]
            closing_by_stage[stage] |= ticket
        for stage, tickets in closing_by_stage.items():
            tickets.write({'stage_id': stage.id, 'active': False})

    def _closing_stage(self, ticket):
        """The closing stage a merged ticket goes to: the first of its workflow (its request type's
        or its team's), else any."""
        Stage = self.env['cabinet.stage']
        stages = ticket.workflow_stage_ids.filtered(lambda stage: stage.is_closed and not stage.is_refusal)
        stage = stages[:1] or Stage.search([('is_closed', '=', True)], limit=1)
        if not stage:
            raise UserError(self.env._("No closing stage is configured: create a stage flagged as closing."))
        return stage
