# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

LEVELS = [('low', "Low"), ('medium', "Medium"), ('high', "High")]
# Priority of an incident from its urgency (how soon it hurts) and impact (how many it hurts):
#
#   urgency \ impact   low             medium          high
#   low                '0' Normal      '0' Normal      '1' Important
#   medium             '0' Normal      '1' Important   '2' Urgent
#   high               '1' Important   '2' Urgent      '3' Critical
PRIORITY_MATRIX = {
    ('low', 'low'): '0',
    ('low', 'medium'): '0',
    ('low', 'high'): '1',
    ('medium', 'low'): '0',
    ('medium', 'medium'): '1',
    ('medium', 'high'): '2',
    ('high', 'low'): '1',
    ('high', 'medium'): '2',
    ('high', 'high'): '3',
}
APPROVAL_STATES = [
    ('none', "No Approval"),
    ('to_approve', "To Approve"),
    ('approved', "Approved"),
    ('refused', "Refused"),
]
# Set only by the approval and the recurring tasks, as superuser after their own checks.
WORKFLOW_PROTECTED_FIELDS = frozenset({'approval_state', 'approver_id', 'recurring_task_id'})


class CabinetTicket(models.Model):
    """Workflows per request type: a ticket whose type has stages of its own (``cabinet.stage``
    ``category_ids``) moves through those stages only; the others through the shared stages of
    their team. A type with ``approval_required`` makes new requests wait for their approver
    (``action_approve``/``action_refuse``), never the requester; urgency and impact give the
    priority; recurring tasks open tickets ahead of each due date."""

    _inherit = 'cabinet.ticket'

    stage_id = fields.Many2one(domain="[('id', 'in', workflow_stage_ids)]")
    workflow_stage_ids = fields.Many2many(
        'cabinet.stage',
        compute='_compute_workflow_stage_ids',
        string="Workflow Stages",
        export_string_translation=False,
    )
    category_guidance = fields.Html(related='category_id.guidance', string="Guidance")
    category_asks_urgency = fields.Boolean(related='category_id.asks_urgency', export_string_translation=False)
    # Approval
    approval_state = fields.Selection(
        APPROVAL_STATES, required=True, default='none', copy=False, index=True, tracking=True, readonly=True
    )
    approver_id = fields.Many2one('res.users', copy=False, index='btree_not_null', readonly=True)
    # Incidents: the priority follows urgency and impact when both are set
    urgency = fields.Selection(LEVELS, tracking=True, help="How soon the problem hurts the firm's work.")
    impact = fields.Selection(LEVELS, tracking=True, help="How many people or how much work the problem affects.")
    recurring_task_id = fields.Many2one(
        'cabinet.recurring.task',
        copy=False,
        readonly=True,
        index='btree_not_null',
        ondelete='set null',
    )

    @api.depends('category_id', 'team_id')
    def _compute_workflow_stage_ids(self):
        shared = {}
        for ticket in self:
            stage_ids = self._workflow_stage_ids(ticket.category_id, ticket.team_id)
            if stage_ids is None:
                if ticket.team_id not in shared:
                    shared[ticket.team_id] = self._stages_for_team(ticket.team_id)
                ticket.workflow_stage_ids = shared[ticket.team_id]
            else:
                ticket.workflow_stage_ids = self.env['cabinet.stage'].browse(stage_ids)

    @api.depends('stage_id', 'team_id', 'category_id')
    def _compute_is_new(self):
        """In a workflow of its own, a ticket is new while in the workflow's first open stage."""
        super()._compute_is_new()
        for ticket in self:
            stage_ids = self._workflow_stage_ids(ticket.category_id, ticket.team_id)
            if stage_ids is not None:
                ticket.is_new = not ticket.stage_id.is_closed and ticket.stage_id == self._first_open_stage(stage_ids)

    @api.model
    def _read_group_expand_stage_ids(self, stages, domain):
        """Kanban columns: the stages of the workflows of the team's request types (from the
        context's team) and the shared stages, besides the stages holding tickets."""
        expanded = super()._read_group_expand_stage_ids(stages, domain)
        workflows, workflow_stage_ids = self.env['cabinet.stage']._workflows()
        wanted = set()
        if team_id := self.env.context.get('default_team_id'):
            categories = self.env['cabinet.category'].search([('team_id', '=', team_id)])
            for category in categories:
                wanted.update(stage_id for stage_id, _team_ids in workflows.get(category.id, ()))
        return expanded.filtered(
            lambda stage: stage in stages or stage.id not in workflow_stage_ids or stage.id in wanted
        )

    @api.onchange('category_id', 'team_id')
    def _onchange_category_id_workflow(self):
        if self.category_id and self.stage_id not in self.workflow_stage_ids:
            self.stage_id = self.workflow_stage_ids.filtered(lambda stage: not stage.is_closed)[:1]

    @api.onchange('urgency', 'impact')
    def _onchange_urgency_impact(self):
        if self.urgency and self.impact:
            self.priority = PRIORITY_MATRIX[self.urgency, self.impact]

    @api.model_create_multi
    def create(self, vals_list):
        vals_list = [dict(vals) for vals in vals_list]
        priority_given = []
        for vals in vals_list:
            priority_given.append('priority' in vals)
            category = self.env['cabinet.category'].browse(vals.get('category_id'))
            if category:
                team = self.env['cabinet.team'].browse(vals.get('team_id') or category.team_id.id)
                stage_ids = self._workflow_stage_ids(category, team)
                if stage_ids and vals.get('stage_id') not in stage_ids:
                    vals['stage_id'] = self._workflow_equivalent(stage_ids, vals.get('stage_id')).id
            if vals.get('urgency') and vals.get('impact'):
                vals['priority'] = PRIORITY_MATRIX[vals['urgency'], vals['impact']]
        tickets = super().create(vals_list)
        if not self.env.su:
            # a requester chooses urgency and impact, never the priority itself
            claimed = tickets.browse(
                ticket.id
                for ticket, given, vals in zip(tickets, priority_given, vals_list, strict=True)
                if given and not (vals.get('urgency') and vals.get('impact')) and ticket.priority != '0'
            )
            partner = self.env.user.partner_id
            if claimed := claimed.filtered(lambda t: t.partner_id == partner):
                if refused := claimed - claimed._filter_handled():
                    raise AccessError(
                        self.env._(
                            "You request %(numbers)s: say how urgent it is and what it affects; the team "
                            "handling it sets its priority.",
                            numbers=", ".join(refused.mapped('number')),
                        )
                    )
        # the request types are looked at once, the tickets only when one of them needs an approval
        if categories := tickets.category_id.filtered('approval_required'):
            if to_approve := tickets.filtered(lambda ticket: ticket.category_id in categories):
                to_approve._request_approval()
        return tickets

    def write(self, vals):
        if vals.get('stage_id') and not self.env.su:
            # who may move the ticket at all is said first (protected fields, requesters)
            self._check_protected_fields(vals)
            self._check_requester_write(vals)
            self._check_workflow_stage(vals)
        res = super().write(vals)
        if 'urgency' in vals or 'impact' in vals:
            by_priority = {}
            for ticket in self.filtered(lambda t: t.urgency and t.impact):
                priority = PRIORITY_MATRIX[ticket.urgency, ticket.impact]
                if ticket.priority != priority:
                    by_priority.setdefault(priority, self.browse())
                    by_priority[priority] |= ticket
            for priority, tickets in by_priority.items():
                tickets.write({'priority': priority})
        if ('category_id' in vals or 'team_id' in vals) and 'stage_id' not in vals:
            # a ticket changing type or team joins the new workflow at its first open stage
            for ticket in self:
                if ticket.stage_id not in ticket.workflow_stage_ids and (
                    stage := self._first_open_stage(ticket.workflow_stage_ids.ids)
                ):
                    ticket.write({'stage_id': stage.id})
        return res

    # ------------------------------------------------------------
    # WORKFLOWS
    # ------------------------------------------------------------

    @api.model
    def _protected_fields(self):
        return super()._protected_fields() | (WORKFLOW_PROTECTED_FIELDS & self._fields.keys())

    @api.model
    def _workflow_stage_ids(self, category, team):
        """Ids of the stages of ``category``'s own workflow usable by ``team``, in their order, or
        ``None`` when the type has no workflow of its own (its tickets use the shared stages)."""
        workflows, _stage_ids = self.env['cabinet.stage']._workflows()
        steps = workflows.get(category.id)
        if not steps:
            return None
        return [stage_id for stage_id, team_ids in steps if not team_ids or team.id in team_ids] or [
            stage_id for stage_id, _team_ids in steps
        ]

    @api.model
    def _stages_for_team(self, team):
        """The shared stages of ``team``: the stages of a request type's own workflow are left out."""
        _workflows, workflow_stage_ids = self.env['cabinet.stage']._workflows()
        return super()._stages_for_team(team).filtered(lambda stage: stage.id not in workflow_stage_ids)

    @api.model
    def _first_open_stage(self, stage_ids):
        stages = self.env['cabinet.stage'].browse(stage_ids)
        return stages.filtered(lambda stage: not stage.is_closed)[:1] or stages[:1]

    @api.model
    def _workflow_equivalent(self, stage_ids, stage_id):
        """The stage of the workflow ``stage_ids`` standing for ``stage_id`` of another one: its
        first closing stage (not a refusal) for a closing stage, else its first open stage."""
        stage = self.env['cabinet.stage'].browse(stage_id)
        if stage.is_closed:
            stages = self.env['cabinet.stage'].browse(stage_ids)
            if closing := stages.filtered(lambda s: s.is_closed and not s.is_refusal)[:1]:
                return closing
        return self._first_open_stage(stage_ids)

    def _check_workflow_stage(self, vals):
        """Refuse moving tickets to a stage outside the workflow of their request type, and moving
        a request that waits for approval."""
        stage = self.env['cabinet.stage'].browse(vals['stage_id'])
        category = 'category_id' in vals and self.env['cabinet.category'].browse(vals['category_id'])
        team = 'team_id' in vals and self.env['cabinet.team'].browse(vals['team_id'])
        _workflows, workflow_stage_ids = self.env['cabinet.stage']._workflows()
        for ticket in self:
            if ticket.stage_id == stage:
                continue
            if ticket.approval_state == 'to_approve':
                raise UserError(
                    self.env._(
                        "Ticket %(number)s waits for approval: it moves on once approved or refused.",
                        number=ticket.number,
                    )
                )
            ticket_category = ticket.category_id if category is False else category
            ticket_team = ticket.team_id if team is False else team
            stage_ids = self._workflow_stage_ids(ticket_category, ticket_team)
            allowed = stage.id in stage_ids if stage_ids is not None else stage.id not in workflow_stage_ids
            if not allowed:
                raise UserError(
                    self.env._(
                        "Ticket %(number)s is a %(type)s: it cannot go to stage %(stage)s, which is not part of "
                        "that type's workflow. Choose one of its stages: %(stages)s.",
                        number=ticket.number,
                        type=ticket_category.display_name or self.env._("request without type"),
                        stage=stage.display_name,
                        stages=", ".join(
                            self.env['cabinet.stage'].browse(stage_ids).mapped('display_name')
                            if stage_ids is not None
                            else self._stages_for_team(ticket_team).mapped('display_name')
                        ),
                    )
                )

    def _withdrawn_stage(self):
        """In a workflow of its own, a withdrawn ticket goes to the workflow's last closing stage
        that is not its refusal stage."""
        self.ensure_one()
        stage_ids = self._workflow_stage_ids(self.category_id, self.team_id)
        if stage_ids is None:
            return super()._withdrawn_stage()
        stages = self.env['cabinet.stage'].browse(stage_ids).filtered('is_closed')
        return (stages.filtered(lambda stage: not stage.is_refusal) or stages)[-1:] or super()._withdrawn_stage()

    def _reopen_stage(self):
        self.ensure_one()
        stage_ids = self._workflow_stage_ids(self.category_id, self.team_id)
        if stage_ids is None:
            return super()._reopen_stage()
        return self.env['cabinet.stage'].browse(stage_ids).filtered(lambda stage: not stage.is_closed)[:1]

    def action_close(self):
        """Close in the first closing stage of each ticket's workflow (the shared one otherwise)."""
        shared = self.browse()
        for ticket in self:
            stage_ids = self._workflow_stage_ids(ticket.category_id, ticket.team_id)
            if stage_ids is None:
                shared |= ticket
                continue
            closing = (
                self.env['cabinet.stage']
                .browse(stage_ids)
                .filtered(lambda stage: stage.is_closed and not stage.is_refusal)
            )
            if not closing:
                raise UserError(self.env._("No closing stage is configured: create a stage flagged as closing."))
            ticket.write({'stage_id': closing[0].id})
        if shared:
            return super(CabinetTicket, shared).action_close()
        return True

    # ------------------------------------------------------------
    # APPROVAL
    # ------------------------------------------------------------

    def _natural_approver(self):
        """The approver the request type names, else the leader of the type's handling team, else
        (not for a confidential type, which stays with its handling team) the leader of the
        ticket's team; may be empty."""
        self.ensure_one()
        # sudo: configuration read to decide who approves
        category = self.sudo().category_id
        if category.approver_id or category.team_id.leader_id or category.confidential:
            return category.approver_id or category.team_id.leader_id
        return self.sudo().team_id.leader_id

    def _approved_by_managers(self):
        """Whether the helpdesk managers decide: the type names nobody, or its approver requested it."""
        self.ensure_one()
        approver = self._natural_approver()
        return not approver or approver.partner_id == self.sudo().partner_id

    def _pick_approver(self):
        """The user who approves: the natural approver, unless they requested it; then a helpdesk
        manager of the ticket's company who did not request it, one of the type's team first."""
        self.ensure_one()
        if not self._approved_by_managers():
            return self._natural_approver()
        ticket_sudo = self.sudo()
        managers = (
            self.env.ref('cabinet_helpdesk.group_cabinet_manager')
            .sudo()
            .all_user_ids.filtered(
                lambda user: (
                    not user.share
                    and user.active
                    and ticket_sudo.company_id in user.company_ids
                    and user.partner_id != ticket_sudo.partner_id
                    and not user._is_superuser()
                )
            )
            .sorted('id')
        )
        team = ticket_sudo.category_id.team_id
        in_team = managers.filtered(lambda user: user in team.member_ids | team.leader_id)
        if ticket_sudo.category_id.confidential:
            # a confidential request stays with its handling team, managers included
            return in_team[:1]
        return (in_team or managers)[:1]

    def _request_approval(self):
        """Put new requests in ``to_approve``, name their approver and give them a to-do."""
        for ticket in self:
            approver = ticket._pick_approver()
            # sudo: the approval owns these protected fields and schedules the approver's to-do
            ticket_sudo = ticket.sudo()
            ticket_sudo.write({'approval_state': 'to_approve', 'approver_id': approver.id})
            if approver:
                ticket_sudo.activity_schedule(
                    'mail.mail_activity_data_todo',
                    user_id=approver.id,
                    summary=self.env._("Approve or refuse this request"),
                )
            else:
                ticket_sudo._message_log(
                    body=self.env._(
                        "Nobody may approve this request yet: name an approver on its request type or give its "
                        "team a leader (a helpdesk manager of the team decides when the approver requested it)."
                    )
                )

    def _check_approver(self):
        """Only the approver decides, or a helpdesk manager when the approver requested it; never
        the requester."""
        self.check_access('read')
        user = self.env.user
        for ticket in self:
            ticket_sudo = ticket.sudo()
            if ticket_sudo.approval_state != 'to_approve':
                raise UserError(self.env._("Ticket %(number)s does not wait for approval.", number=ticket_sudo.number))
            if self.env.su:
                continue
            if ticket_sudo.partner_id == user.partner_id:
                raise AccessError(
                    self.env._(
                        "You requested %(number)s: someone else approves or refuses it.", number=ticket_sudo.number
                    )
                )
            if user == ticket_sudo.approver_id:
                continue
            if not ticket_sudo.approver_id and user == ticket._pick_approver():
                continue  # named since the request was filed
            if ticket._approved_by_managers() and user.has_group('cabinet_helpdesk.group_cabinet_manager'):
                continue
            raise AccessError(
                self.env._(
                    "Only %(approver)s may approve or refuse ticket %(number)s.",
                    approver=ticket_sudo.approver_id.display_name or self.env._("a helpdesk manager"),
                    number=ticket_sudo.number,
                )
            )

    def _close_approval_activity(self, feedback):
        for ticket in self:
            # sudo: the decision closes the to-do of whoever was asked to decide
            ticket.sudo().activity_feedback(
                ['mail.mail_activity_data_todo'], user_id=ticket.sudo().approver_id.id or None, feedback=feedback
            )

    def _release_approvers(self):
        """Once decided, an approver who reads the request only to decide it stops following it."""
        for ticket in self.sudo():
            approver = ticket.approver_id
            if approver and approver.partner_id in ticket.message_partner_ids:
                if not ticket.with_user(approver).has_access('read'):
                    ticket.message_unsubscribe(partner_ids=approver.partner_id.ids)

    def action_approve(self):
        """Approve requests waiting for it: they go on to the next stage of their workflow and their
        requester is told."""
        self._check_approver()
        for ticket in self:
            ticket_sudo = ticket.sudo()
            vals = {'approval_state': 'approved'}
            stage_ids = self._workflow_stage_ids(ticket_sudo.category_id, ticket_sudo.team_id) or []
            if ticket_sudo.stage_id.id in stage_ids:
                following = self.env['cabinet.stage'].browse(stage_ids[stage_ids.index(ticket_sudo.stage_id.id) + 1 :])
                if stage := following.filtered(lambda s: not s.is_closed)[:1]:
                    vals['stage_id'] = stage.id
            ticket.message_post(
                body=self.env._("Your request was approved by %(user)s.", user=self.env.user.display_name),
                message_type='comment',
                subtype_xmlid='mail.mt_comment',
            )
            ticket._close_approval_activity(self.env._("Approved"))
            # sudo: approving is checked above; the approval owns approval_state
            ticket_sudo.write(vals)
        self._release_approvers()
        return True

    def action_refuse(self, reason):
        """Refuse requests waiting for approval, saying why: they close as refused and their
        requester is told why in their ticket.

        :param str reason: why the request is refused (required)
        """
        reason = (reason or '').strip()
        if not reason:
            raise UserError(self.env._("Say why the request is refused: its requester will read it."))
        self._check_approver()
        for ticket in self:
            ticket_sudo = ticket.sudo()
            stage_ids = self._workflow_stage_ids(ticket_sudo.category_id, ticket_sudo.team_id)
            stages = self.env['cabinet.stage'].browse(stage_ids) if stage_ids is not None else self.browse()
            stage = stages.filtered('is_refusal')[:1] or ticket_sudo._withdrawn_stage()
            ticket.message_post(
                body=self.env._(
                    "Your request was refused by %(user)s: %(reason)s", user=self.env.user.display_name, reason=reason
                ),
                message_type='comment',
                subtype_xmlid='mail.mt_comment',
            )
            ticket._close_approval_activity(self.env._("Refused: %(reason)s", reason=reason))
            # sudo: refusing is checked above; the approval owns approval_state and closes the request
            ticket_sudo.write({'approval_state': 'refused', 'stage_id': stage.id})
        self._release_approvers()
        return True

    def action_open_refuse_wizard(self):
        self._check_approver()
        return {
            'type': 'ir.actions.act_window',
            'name': self.env._("Refuse Request"),
            'res_model': 'cabinet.ticket.refuse',
            'view_mode': 'form',
            'target': 'new',
            'context': {'default_ticket_ids': self.ids},
        }
