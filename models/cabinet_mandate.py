# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
import logging
from collections import defaultdict

from markupsafe import Markup

from odoo import api, fields, models, tools
from odoo.exceptions import UserError, ValidationError
from odoo.fields import Domain

_logger = logging.getLogger(__name__)


class CabinetMandate(models.Model):
    """A written mandate by which a party (the principal) lets an agent act for it.

    While a mandate is active, its dates cover today and its scope covers a ticket's request
    type, the agent party and its contacts may follow and receive the principal's tickets
    (see ``cabinet.ticket._filter_allowed_partners``), and the agent's portal users read
    the tickets filed under it (record rule on ``cabinet.ticket.mandate_agent_ids``). When it is
    revoked, expires or loses a request type, they are unsubscribed from the tickets it no longer
    covers, each ticket gets an internal note, and the links to those tickets handed out before
    stop working (see ``write``).

    What "covers" means is written once here, in three forms that must say the same: a domain
    of mandates (``_live_domain``, ``_covering_domain``), a test of one mandate
    (``_is_live``, ``_covers``) and a domain of tickets for record rules
    (``cabinet.ticket._search_mandate_agent_ids``).
    """

    _name = 'cabinet.mandate'
    _description = "Mandate"
    _inherit = ['mail.thread']
    _order = 'date_start desc, id desc'
    _check_company_auto = True

    def _default_date_start(self):
        return fields.Date.context_today(self)

    name = fields.Char(compute='_compute_name', store=True, readonly=True)
    company_id = fields.Many2one('res.company', required=True, index=True, default=lambda self: self.env.company)
    # Parties
    agent_id = fields.Many2one(
        'res.partner',
        required=True,
        index=True,
        tracking=True,
        ondelete='restrict',
        domain="[('party_type', '=', 'agent'), ('parent_id', '=', False)]",
        help="The agent party acting for the principal (a contact stands for its whole party). The "
        "agent's contacts may follow the principal's tickets while the mandate is active.",
    )
    principal_id = fields.Many2one(
        'res.partner',
        required=True,
        index=True,
        tracking=True,
        ondelete='restrict',
        domain="[('parent_id', '=', False)]",
        help="The party that gave the mandate (a contact stands for its whole party).",
    )
    # Scope and validity
    category_ids = fields.Many2many(
        'cabinet.category',
        'cabinet_mandate_category_rel',
        'mandate_id',
        'category_id',
        string="Request Types",
        help="Request types the agent may act on. Leave empty for every type.",
    )
    date_start = fields.Date(
        string="Valid From", required=True, tracking=True, default=lambda self: self._default_date_start()
    )
    date_end = fields.Date(
        string="Valid Until",
        tracking=True,
        index=True,
        help="The mandate expires after this day. Leave empty for a mandate without end date.",
    )
    state = fields.Selection(
        [('draft', "Draft"), ('active', "Active"), ('revoked', "Revoked"), ('expired', "Expired")],
        required=True,
        default='draft',
        tracking=True,
        index=True,
        copy=False,
    )
    # Evidence
    document_ids = fields.Many2many(
        'ir.attachment',
        'cabinet_mandate_ir_attachment_rel',
        'mandate_id',
        'attachment_id',
        string="Signed Mandate",
        copy=False,
        help="The signed mandate document(s).",
    )
    notes = fields.Html()
    revoke_reason = fields.Text(
        copy=False, tracking=True, help="Why the mandate was revoked; fill it in before revoking."
    )

    _dates_ordered = models.Constraint(
        'CHECK (date_end IS NULL OR date_end >= date_start)', "A mandate cannot end before it starts."
    )

    @api.depends('agent_id.name', 'principal_id.name')
    def _compute_name(self):
        for mandate in self:
            if mandate.agent_id and mandate.principal_id:
                mandate.name = self.env._(
                    "%(agent)s for %(principal)s", agent=mandate.agent_id.name, principal=mandate.principal_id.name
                )
            else:
                mandate.name = False

    @api.constrains('agent_id', 'principal_id')
    def _check_parties(self):
        for mandate in self:
            if mandate.agent_id.commercial_partner_id.party_type != 'agent':
                raise ValidationError(
                    self.env._(
                        "The agent of a mandate must be a party of type Agent: set the party type of %(party)s "
                        "to Agent or pick the agent party.",
                        party=mandate.agent_id.commercial_partner_id.display_name,
                    )
                )
            if mandate.principal_id.commercial_partner_id == mandate.agent_id.commercial_partner_id:
                raise ValidationError(self.env._("A party cannot hold a mandate from itself."))

    @api.model_create_multi
    def create(self, vals_list):
        mandates = super().create(vals_list)
        # the portal rule of agents holds the mandates in force (``cabinet.ticket.mandate_agent_ids``)
        self.env.registry.clear_cache()
        return mandates

    def unlink(self):
        res = super().unlink()
        self.env.registry.clear_cache()  # the portal rule of agents, see ``create``
        return res

    @api.ondelete(at_uninstall=False)
    def _unlink_except_active(self):
        if any(mandate.state == 'active' for mandate in self):
            raise UserError(self.env._("An active mandate cannot be deleted: revoke it first."))

    def write(self, vals):
        if vals.keys() & {'agent_id', 'principal_id'} and any(m.state != 'draft' for m in self):
            raise UserError(
                self.env._(
                    "The parties of a mandate cannot change once it is active: revoke it and register a new one."
                )
            )
        ending = self.browse()
        narrowing = self.browse()
        if vals.get('state') in ('revoked', 'expired', 'draft'):
            ending = self.filtered(lambda m: m.state == 'active')
        elif vals.keys() & {'category_ids', 'date_start', 'date_end'}:
            narrowing = self.filtered(lambda m: m.state == 'active')
        # an active mandate past its end date still counts: its agent may hold links from before
        covered_before = {mandate: mandate._covered_tickets(live=False) for mandate in ending | narrowing}
        res = super().write(vals)
        # the portal rule of agents holds the mandates in force (``cabinet.ticket.mandate_agent_ids``)
        self.env.registry.clear_cache()
        if ending:
            ending._release_agent(ended=True)
        if narrowing:
            narrowing._release_agent(ended=False)
        for mandate, tickets in covered_before.items():
            # links to the tickets the agent could open until now must not outlive the mandate
            (tickets - mandate._covered_tickets())._rotate_access_token()
        return res

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_activate(self):
        today = fields.Date.context_today(self)
        for mandate in self:
            if mandate.state != 'draft':
                raise UserError(self.env._("Only a draft mandate can be activated."))
            if mandate.date_end and mandate.date_end < today:
                raise UserError(
                    self.env._(
                        "This mandate ended on %(date)s: correct its end date before activating it.",
                        date=mandate.date_end,
                    )
                )
        self.write({'state': 'active'})

    def action_revoke(self, reason=None):
        """Revoke active mandates: the agent stops following the principal's tickets.

        :param str reason: why the mandate is revoked, kept on the mandate and in its history
        """
        if any(mandate.state != 'active' for mandate in self):
            raise UserError(self.env._("Only an active mandate can be revoked."))
        vals = {'state': 'revoked'}
        if reason:
            vals['revoke_reason'] = reason
        self.write(vals)

    def action_reset(self):
        if any(mandate.state == 'draft' for mandate in self):
            raise UserError(self.env._("This mandate is already a draft."))
        self.write({'state': 'draft', 'revoke_reason': False})

    # ------------------------------------------------------------
    # CRON
    # ------------------------------------------------------------

    @api.model
    def _cron_expire_mandates(self, batch_size=100):
        """Expire the active mandates whose end date has passed, in batches. Expiring takes a
        mandate out of the domain in the same transaction, so an interrupted run resumes where it
        stopped."""
        domain = self._expired_domain()
        while mandates := self.search(domain, limit=batch_size, order='date_end, id').try_lock_for_update():
            mandates.write({'state': 'expired'})
            _logger.info("Expired %s mandate(s): %s", len(mandates), mandates.ids)
            if not self.env['ir.cron']._commit_progress(len(mandates), remaining=self.search_count(domain)):
                break

    # ------------------------------------------------------------
    # HELPERS
    # ------------------------------------------------------------

    @api.model
    def _expired_domain(self):
        return Domain('state', '=', 'active') & Domain('date_end', '<', fields.Date.context_today(self))

    @api.model
    def _live_domain(self, date=None):
        """Domain of the mandates in force on ``date`` (today by default): active and dated
        around that day, whatever the daily expiry job has done yet."""
        date = date or fields.Date.context_today(self)
        return (
            Domain('state', '=', 'active')
            & Domain('date_start', '<=', date)
            & (Domain('date_end', '=', False) | Domain('date_end', '>=', date))
        )

    @api.model
    def _covering_domain(self, principal, category, date=None, company=None):
        """Domain of the mandates that let an agent act for ``principal`` on a ticket of
        ``category`` on ``date`` (today by default): in force that day (``_live_domain``),
        with a scope that is empty or holds the category, and registered in ``company`` when
        given."""
        scope = Domain('category_ids', '=', False)
        if category:
            scope |= Domain('category_ids', 'in', category.ids)
        domain = self._live_domain(date) & Domain('principal_id.commercial_partner_id', '=', principal.id) & scope
        if company:
            domain &= Domain('company_id', '=', company.id)
        return domain

    def _is_live(self, date=None):
        """Whether this mandate is in force on ``date`` (the test of ``_live_domain``)."""
        self.ensure_one()
        date = date or fields.Date.context_today(self)
        return self.state == 'active' and self.date_start <= date and (not self.date_end or self.date_end >= date)

    def _covers(self, principal, category, date=None):
        """Whether this mandate lets its agent act for ``principal`` on ``category`` today."""
        self.ensure_one()
        return (
            self._is_live(date)
            and self.principal_id.commercial_partner_id == principal
            and (not self.category_ids or category in self.category_ids)
        )

    def _covered_tickets(self, live=True):
        """Tickets of the principal within this mandate's scope (sudo, archived ones included):
        every ticket of a request type of the scope, or every ticket when the scope is empty.

        :param bool live: only when the mandate is in force today (else nothing), i.e. the
            tickets it lets its agent act on now
        """
        self.ensure_one()
        # sudo: deciding which links to invalidate concerns tickets the caller may not read
        Ticket = self.env['cabinet.ticket'].sudo().with_context(active_test=False)
        if live and not self._is_live():
            return Ticket
        domain = Domain('commercial_partner_id', '=', self.principal_id.commercial_partner_id.id)
        if self.category_ids:
            domain &= Domain('category_id', 'in', self.category_ids.ids)
        return Ticket.search(domain)

    @api.model
    @tools.ormcache('agent_party_ids', 'date')
    def _live_mandates_of_agents(self, agent_party_ids, date):
        """The mandates in force on ``date`` held by the agent parties ``agent_party_ids``, as
        ``(mandate id, principal party id, request type ids of the scope)``: what the portal rule
        of agents checks on each ticket (``cabinet.ticket._search_mandate_agent_ids``). Cached;
        a change of a mandate or of a party's contacts clears it.

        :param tuple agent_party_ids: ids of agent parties (commercial partners), sorted
        :rtype: tuple
        """
        # sudo: the rule reads mandates the portal user has no access to; only ids come out
        Mandate = self.sudo().with_context(active_test=True)
        mandates = Mandate.search(
            Mandate._live_domain(date) & Domain('agent_id.commercial_partner_id', 'in', list(agent_party_ids)),
            order='id',
        )
        return tuple(
            (mandate.id, mandate.principal_id.commercial_partner_id.id, tuple(mandate.category_ids.ids))
            for mandate in mandates
        )

    def _release_agent(self, ended=True):
        """Unsubscribe the agent party and its contacts from the principal's tickets where no
        active mandate allows them any more, and leave an internal note on each ticket concerned:
        those the agent stopped following, and, when the mandate ended, those filed under it.

        :param bool ended: the mandate was revoked, expired or reset (else its scope or dates
            changed)
        """
        # sudo: the caller changed the mandate (write access checked by write); the agent may
        # follow tickets the caller cannot read, e.g. those of another team
        Ticket = self.env['cabinet.ticket'].sudo().with_context(active_test=False)
        state_labels = dict(self._fields['state']._description_selection(self.env))
        for mandate in self:
            agent_contacts = (
                self.env['res.partner']
                .sudo()
                .with_context(active_test=False)
                .search([('commercial_partner_id', '=', mandate.agent_id.commercial_partner_id.id)])
            )
            followers = (
                self.env['mail.followers']
                .sudo()
                .search([('res_model', '=', 'cabinet.ticket'), ('partner_id', 'in', agent_contacts.ids)])
            )
            followers_by_ticket = defaultdict(lambda: self.env['res.partner'])
            for follower in followers:
                followers_by_ticket[follower.res_id] |= follower.partner_id
            domain = Domain('id', 'in', list(followers_by_ticket))
            if ended:
                domain |= Domain('mandate_id', '=', mandate.id)
            principal = mandate.principal_id.commercial_partner_id
            tickets = Ticket.search(Domain('commercial_partner_id', '=', principal.id) & domain)
            for ticket in tickets:
                agent_followers = followers_by_ticket[ticket.id]
                removed = agent_followers - ticket._filter_allowed_partners(agent_followers)
                if removed:
                    ticket.message_unsubscribe(partner_ids=removed.ids)
                if ended and (removed or ticket.mandate_id == mandate):
                    text = self.env._(
                        "The mandate %(mandate)s is now %(state)s.",
                        mandate=mandate.name,
                        state=state_labels[mandate.state],
                    )
                elif removed:
                    text = self.env._("The mandate %(mandate)s no longer covers this ticket.", mandate=mandate.name)
                else:
                    continue
                if removed:
                    text = "%s %s" % (
                        text,
                        self.env._("The agent no longer follows this ticket and receives nothing more from it."),
                    )
                ticket.message_post(
                    body=Markup("<p>%s</p>") % text, message_type='comment', subtype_xmlid='mail.mt_note'
                )
