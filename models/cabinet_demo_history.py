# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
import random
from datetime import datetime, time, timedelta

from dateutil.relativedelta import relativedelta
from markupsafe import Markup

from odoo import api, fields, models
from odoo.fields import Command
from odoo.tools import SQL

from .const import PRIORITIES

# Marks a database whose history was built (the mandate of the history): building it is done once.
HISTORY_MARKER = 'cabinet_helpdesk.cabinet_mandate_history_demo'

# The parties of the history: the demo's own parties when they are loaded (found by their email),
# created otherwise. (key, name, party type, email, contact name, contact email)
HISTORY_PARTIES = [
    ('dupont', "Claire & Thomas Dupont", 'individual', 'dupont.family@example.com', None, None),
    (
        'lambert',
        "Brasserie Lambert SA",
        'company',
        'office@brasserie-lambert.example.com',
        "Julie Lambert",
        'julie@brasserie-lambert.example.com',
    ),
    ('martin', "Pierre Martin (Les Tilleuls, lot 3)", 'co_owner', 'p.martin@example.com', None, None),
    ('nguyen', "Linh Nguyen (Les Tilleuls, lot 5)", 'co_owner', 'linh.nguyen@example.com', None, None),
    ('rossi', "Marco & Elena Rossi (Les Tilleuls, lot 7)", 'co_owner', 'rossi.family@example.com', None, None),
    (
        'city',
        "City of Lindenburg, Urban Planning Office",
        'administration',
        'urbanisme@lindenburg.example.org',
        "Sophie Marchal",
        'sophie.marchal@lindenburg.example.org',
    ),
    (
        'stabilis',
        "Stabilis Structural Engineers",
        'engineering_office',
        'contact@stabilis.example.com',
        "Karim Haddad",
        'k.haddad@stabilis.example.com',
    ),
    (
        'agent',
        "Immo Gestion SPRL",
        'agent',
        'syndic@immo-gestion.example.com',
        "Paul Renard",
        'paul.renard@immo-gestion.example.com',
    ),
]

# (subject, the party's request, the firm's answer)
HISTORY_REQUESTS = [
    (
        "Copy of the approved plans",
        "Could you send us the approved plans in PDF? The bank asks for them.",
        "Here are the approved plans, stamped by the planning office.",
    ),
    (
        "Invoice of the design phase",
        "We do not understand the second line of the design invoice.",
        "The second line is the energy study, as agreed in the engagement letter.",
    ),
    (
        "Moisture on the north wall",
        "There is moisture again on the north wall of the living room.",
        "We will inspect the wall on Tuesday with the contractor.",
    ),
    (
        "Permit: question from the planning office",
        "The planning office asks for a section drawing of the roof.",
        "The section drawing was sent to the office this morning.",
    ),
    (
        "Change of the window supplier",
        "Can we choose another supplier for the windows?",
        "Yes: send us the new quote and we will check the performance values.",
    ),
    (
        "Site meeting next week",
        "Can the site meeting move to Thursday?",
        "Thursday at 9:00 works for us; the contractor is informed.",
    ),
    (
        "Crack in the garage slab",
        "A crack appeared in the garage slab after the frost.",
        "The engineer says it is a shrinkage crack; we will have it sealed.",
    ),
    (
        "Energy performance certificate",
        "Where is the energy performance certificate of the house?",
        "The certificate is attached; the original follows by post.",
    ),
    (
        "Acoustic insulation of the ceiling",
        "The neighbours hear the music from the bar.",
        "We propose a suspended ceiling with acoustic panels; estimate attached.",
    ),
    (
        "Deadline for the permit appeal",
        "Until when can we appeal against the permit refusal?",
        "The appeal must be filed within 30 days of notification; we prepare it.",
    ),
    (
        "Updated load calculation",
        "Please send the updated load plan so we can finish the calculation.",
        "The updated load plan is attached.",
    ),
    (
        "Handover of the keys",
        "When can we get the keys of the flat?",
        "The handover is planned after the final inspection, on the 15th.",
    ),
]

LOW_FEEDBACK = ["Nobody called back for a week.", "The answer came too late for the bank."]
MID_FEEDBACK = ["Fine, but it took a few reminders.", "OK in the end."]
HIGH_FEEDBACK = ["Quick and clear, thank you.", "Very helpful.", "Perfect."]


class CabinetDemoHistory(models.AbstractModel):
    """A year of history for the demonstration (and the tests of the reports that need one).

    ``_demo_build_history()`` files requests of the demo's parties month by month over the past
    twelve months, answered and closed in time or late (service levels met and breached), rated,
    escalated, reassigned; with one mandate and a ticket filed under it, one coordination whose
    synthesis was sent, one legal hold, old tickets whose retention period ran out (anonymized
    and deleted, with their audit rows), two emails to qualify and the per-employee analytics
    switch turned on and off again. Dates that the ORM sets itself (creation, closing, first
    answer) are written in SQL afterwards, then the service level figures are computed again.
    """

    _name = 'cabinet.demo.history'
    _description = "Demo History"

    @api.model
    def _demo_build_history(self, seed=2718):
        """Build the history once (later calls do nothing); return whether it was built."""
        if self.env.ref(HISTORY_MARKER, raise_if_not_found=False):
            return False
        rng = random.Random(seed)
        now = fields.Datetime.now().replace(microsecond=0)
        parties = self._demo_parties()
        categories = self.env['cabinet.category'].search(
            [
                ('internal', '=', False),
                ('confidential', '=', False),
                ('team_id', '!=', False),
                ('company_id', 'in', [self.env.company.id, False]),
            ]
        )
        if not categories:
            return False
        self._demo_service_levels(categories.team_id)
        self._demo_mandate(parties, now)
        plans = self._demo_plans(rng, now, parties, categories)
        tickets = self._demo_create_tickets(plans)
        # like the demo's own records, they go when the module is uninstalled
        self.env['ir.model.data']._update_xmlids(
            [
                {'xml_id': f'cabinet_helpdesk.cabinet_ticket_history_{index}_demo', 'record': ticket, 'noupdate': True}
                for index, ticket in enumerate(tickets, start=1)
            ]
        )
        self._demo_write_dates(tickets, plans, now)
        self._demo_messages(tickets, plans)
        self._demo_ratings(rng, tickets, plans)
        open_tickets = tickets.filtered(lambda t: not t.is_closed)
        for ticket in open_tickets:
            ticket._message_auto_subscribe({'partner_id': ticket.partner_id.id, 'team_id': ticket.team_id.id})
        open_tickets.filtered(lambda t: t.sla_status == 'breached')._sla_escalate()
        by_key = {plan['key']: ticket for ticket, plan in zip(tickets, plans, strict=True) if plan.get('key')}
        self._demo_reassign(open_tickets - by_key['mandate'], categories.team_id)
        self._demo_coordination(by_key, now)
        self._demo_legal_hold(by_key['dispute'])
        self._demo_retention(by_key, now)
        self._demo_mail_pending(categories.team_id[:1], now)
        self._demo_analytics_switch(now)
        return True

    # ------------------------------------------------------------
    # Parties, service levels, mandate
    # ------------------------------------------------------------

    @api.model
    def _demo_parties(self):
        """``{key: (party, contacts)}``: the demo's parties, created when missing."""
        Partner = self.env['res.partner']
        parties = {}
        for key, name, party_type, email, contact_name, contact_email in HISTORY_PARTIES:
            party = Partner.search([('email', '=', email), ('parent_id', '=', False)], limit=1)
            if not party:
                party = Partner.create(
                    {'name': name, 'email': email, 'party_type': party_type, 'is_company': party_type != 'individual'}
                )
                self._demo_xmlid(party, f'res_partner_{key}_history_demo')
            contacts = Partner
            if contact_email:
                contacts = Partner.search([('email', '=', contact_email), ('parent_id', '=', party.id)], limit=1)
                if not contacts:
                    contacts = Partner.create({'name': contact_name, 'email': contact_email, 'parent_id': party.id})
                    self._demo_xmlid(contacts, f'res_partner_{key}_contact_history_demo')
            parties[key] = (party, contacts)
        return parties

    @api.model
    def _demo_service_levels(self, teams):
        """Give a standard service level to the teams of the history that have none."""
        Policy = self.env['cabinet.sla.policy']
        covered = Policy.search([('team_id', 'in', teams.ids)]).team_id
        Policy.create(
            [
                {'name': f"{team.name}: standard", 'team_id': team.id, 'response_hours': 8, 'resolve_hours': 40}
                for team in teams - covered
            ]
        )

    @api.model
    def _demo_mandate(self, parties, now):
        """The property manager has acted for a co-owner under an active mandate for eight months."""
        mandate = self.env['cabinet.mandate'].create(
            {
                'agent_id': parties['agent'][0].id,
                'principal_id': parties['martin'][0].id,
                'date_start': (now - relativedelta(months=8)).date(),
                'notes': Markup("<p>Signed mandate of the co-owners' meeting of Les Tilleuls.</p>"),
            }
        )
        mandate.action_activate()
        self._demo_xmlid(mandate, HISTORY_MARKER.split('.', 1)[1])
        return mandate

    # ------------------------------------------------------------
    # Tickets
    # ------------------------------------------------------------

    @api.model
    def _demo_plans(self, rng, now, parties, categories):
        """What happens to each ticket of the history: a list of dicts with the ticket's values
        (``vals``), its dates (``create``, ``answer``, ``close``), the request and answer texts,
        the rating to give and, for the tickets the other steps need, a ``key``."""
        stages = {
            xmlid: self.env.ref(f'cabinet_helpdesk.cabinet_stage_{xmlid}')
            for xmlid in ('new', 'in_progress', 'waiting', 'done', 'cancelled')
        }
        requesters = [
            contacts or party
            for key, (party, contacts) in parties.items()
            if key not in ('agent', 'martin', 'nguyen', 'rossi')
        ]
        plans = []
        today_start = datetime.combine(now.date(), time.min)
        for months_ago in range(11, -1, -1):
            month_start = datetime.combine(now.date().replace(day=1), time.min) - relativedelta(months=months_ago)
            for _index in range(rng.randint(6, 9)):
                created = month_start + timedelta(days=rng.randint(0, 27), hours=rng.randint(7, 15))
                if created >= today_start - timedelta(days=1):
                    created = today_start - timedelta(days=rng.randint(1, 3), hours=rng.randint(3, 12))
                plans.append(self._demo_plan(rng, now, created, rng.choice(requesters), categories, stages))
        # the other steps' tickets: filed under the mandate, coordinated, in dispute, past retention
        agent_contact = parties['agent'][1]
        plans.append(
            dict(
                self._demo_plan(rng, now, now - timedelta(days=12), parties['martin'][0], categories, stages),
                key='mandate',
                close=None,
                stage=stages['in_progress'],
                subject="Les Tilleuls: water infiltration at lot 3",
            )
        )
        plans[-1]['vals']['agent_partner_id'] = agent_contact.id
        for key in ('martin', 'nguyen', 'rossi'):
            plans.append(
                dict(
                    self._demo_plan(rng, now, now - timedelta(days=40), parties[key][0], categories, stages),
                    key=f'coordination_{key}',
                    subject="Les Tilleuls: roof renovation",
                )
            )
        # client correspondence is kept five years after closing
        client_category = self.env.ref('cabinet_helpdesk.cabinet_category_client_request', raise_if_not_found=False)
        lambert = parties['lambert'][1] or parties['lambert'][0]
        created = now - relativedelta(months=64)
        plans.append(
            dict(
                self._demo_plan(rng, now, created, lambert, categories, stages, category=client_category),
                key='dispute',
                close=created + timedelta(days=45),
                stage=stages['done'],
                subject="Terrace: disagreement on the final invoice",
            )
        )
        created = now - relativedelta(months=70)
        plans.append(
            dict(
                self._demo_plan(rng, now, created, parties['dupont'][0], categories, stages, category=client_category),
                key='expired',
                close=created + timedelta(days=6),
                stage=stages['done'],
            )
        )
        it_category = self.env.ref('cabinet_helpdesk.cabinet_category_it_incident', raise_if_not_found=False)
        if it_category:
            created = now - relativedelta(months=15)
            plans.append(
                {
                    'key': 'expired_it',
                    'vals': {
                        'partner_id': self.env.ref('base.user_admin').partner_id.id,
                        'category_id': it_category.id,
                        'team_id': it_category.team_id.id,
                        'channel': 'internal',
                        'priority': '1',
                        'user_id': (it_category.team_id.leader_id or self.env.ref('base.user_admin')).id,
                    },
                    'subject': "Printer on the first floor offline",
                    'request': "The printer on the first floor does not answer.",
                    'reply': "The printer got a new network address; it works again.",
                    'stage': stages['done'],
                    'create': created,
                    'answer': created + timedelta(hours=2),
                    'close': created + timedelta(days=1),
                    'rating': None,
                }
            )
        for plan in plans:
            plan['vals'].update({'name': plan['subject'], 'stage_id': plan['stage'].id})
            if plan['close'] and not plan['stage'].is_closed:
                plan['stage'] = stages['done']
                plan['vals']['stage_id'] = plan['stage'].id
            if not plan['close'] and plan['stage'].is_closed:
                plan['close'] = plan['create'] + timedelta(days=3)
            if plan['answer'] and plan['close'] and plan['answer'] > plan['close']:
                plan['answer'] = plan['close'] - timedelta(hours=1)
            if not plan['close'] or plan['stage'] != stages['done']:
                plan['rating'] = None
        return plans

    @api.model
    def _demo_plan(self, rng, now, created, requester, categories, stages, category=None):
        category = category or rng.choice(categories)
        team = category.team_id
        staff = (team.member_ids | team.leader_id).filtered(lambda user: user.active and not user.share).sorted('id')
        subject, request, reply = rng.choice(HISTORY_REQUESTS)
        on_time = rng.random() < 0.7
        if on_time:
            answer = created + timedelta(hours=rng.randint(1, 5))
            close = created + timedelta(days=rng.randint(1, 4), hours=rng.randint(0, 6))
        else:
            answer = created + timedelta(days=rng.randint(3, 6), hours=rng.randint(0, 6))
            close = answer + timedelta(days=rng.randint(10, 30))
        age = (now - created).days
        stays_open = rng.random() < (0.5 if age < 30 else 0.25 if age < 60 else 0.08)
        if stays_open or close >= now:
            close = None
            stage = rng.choice([stages['new'], stages['in_progress'], stages['waiting']])
            if stage == stages['new'] and rng.random() < 0.6:
                answer = None
        else:
            stage = stages['cancelled'] if rng.random() < 0.05 else stages['done']
        if answer and answer >= now:
            answer = None
        rating = None
        if close and stage == stages['done'] and rng.random() < 0.55:
            value = 5 if on_time and rng.random() < 0.8 else rng.choice([1, 3, 3, 5])
            feedback = rng.choice(LOW_FEEDBACK if value == 1 else MID_FEEDBACK if value == 3 else HIGH_FEEDBACK)
            rating = (value, feedback)
        vals = {
            'partner_id': requester.id,
            'category_id': category.id,
            'team_id': team.id,
            'channel': rng.choice(['email', 'email', 'portal', 'portal', 'phone']),
            'priority': rng.choice([key for key, _label in PRIORITIES[:3]] + ['0', '0', '0']),
            'user_id': rng.choice(staff).id if staff else False,
        }
        if not close and rng.random() < 0.3:
            vals['date_deadline'] = (now + timedelta(days=rng.randint(-6, 20))).date()
        return {
            'vals': vals,
            'subject': subject,
            'request': request,
            'reply': reply,
            'stage': stage,
            'create': created,
            'answer': answer,
            'close': close,
            'rating': rating,
        }

    @api.model
    def _demo_create_tickets(self, plans):
        """Create the tickets in one go per year (their numbers follow the year they were filed
        in), quietly: no creation message, no tracking, no notification."""
        Ticket = self.env['cabinet.ticket'].with_context(
            tracking_disable=True, mail_create_nolog=True, mail_notrack=True, mail_auto_subscribe_no_notify=True
        )
        ids_by_index = {}
        for year in sorted({plan['create'].year for plan in plans}):
            indexes = [index for index, plan in enumerate(plans) if plan['create'].year == year]
            created = Ticket.with_context(ir_sequence_date=fields.Date.to_string(datetime(year, 12, 31))).create(
                [
                    dict(plans[index]['vals'], description=Markup("<p>%s</p>") % plans[index]['request'])
                    for index in indexes
                ]
            )
            ids_by_index.update(zip(indexes, created.ids, strict=True))
        tickets = Ticket.browse([ids_by_index[index] for index in range(len(plans))])
        return self.env['cabinet.ticket'].browse(tickets.ids)

    @api.model
    def _demo_write_dates(self, tickets, plans, now):
        """Write the dates the ORM sets itself, then compute the service level figures and the
        retention dates again from them."""
        rows = [
            SQL(
                "(%s, %s::timestamp, %s::timestamp, %s::timestamp, %s::timestamp)",
                ticket.id,
                plan['create'],
                plan['close'] or plan['answer'] or plan['create'],
                plan['close'],
                plan['answer'],
            )
            for ticket, plan in zip(tickets, plans, strict=True)
        ]
        # what the ORM still holds for these tickets (their closing date among others) is written first
        self.env.flush_all()
        self.env.execute_query(
            SQL(
                """
                UPDATE cabinet_ticket AS t
                   SET create_date = v.create_date,
                       write_date = v.write_date,
                       closed_date = v.closed_date,
                       first_response_date = v.first_response_date
                  FROM (VALUES %s) AS v(id, create_date, write_date, closed_date, first_response_date)
                 WHERE t.id = v.id
                """,
                SQL(", ").join(rows),
            )
        )
        tickets.invalidate_recordset(['create_date', 'write_date', 'closed_date', 'first_response_date'])
        fnames = ['sla_response_deadline', 'sla_resolve_deadline', 'sla_status', 'sla_next_check', 'retention_date']
        for fname in fnames:
            self.env.add_to_compute(tickets._fields[fname], tickets)
        tickets._recompute_recordset(fnames)
        tickets.flush_recordset()

    @api.model
    def _demo_messages(self, tickets, plans):
        """The party's request and the firm's first answer, in each ticket's conversation."""
        comment = self.env.ref('mail.mt_comment')
        vals_list = []
        for ticket, plan in zip(tickets, plans, strict=True):
            vals_list.append(
                {
                    'model': ticket._name,
                    'res_id': ticket.id,
                    'body': Markup("<p>%s</p>") % plan['request'],
                    'message_type': 'email' if ticket.channel == 'email' else 'comment',
                    'subtype_id': comment.id,
                    'author_id': ticket.partner_id.id,
                    'email_from': ticket.partner_id.email_formatted,
                    'date': plan['create'],
                }
            )
            if plan['answer'] and ticket.user_id:
                vals_list.append(
                    {
                        'model': ticket._name,
                        'res_id': ticket.id,
                        'body': Markup("<p>%s</p>") % plan['reply'],
                        'message_type': 'comment',
                        'subtype_id': comment.id,
                        'author_id': ticket.user_id.partner_id.id,
                        'email_from': ticket.user_id.partner_id.email_formatted,
                        'date': plan['answer'],
                    }
                )
        self.env['mail.message'].sudo().create(vals_list)

    @api.model
    def _demo_ratings(self, rng, tickets, plans):
        """The satisfaction ratings the parties gave, a day after closing."""
        rated = [(ticket, plan) for ticket, plan in zip(tickets, plans, strict=True) if plan['rating']]
        if not rated:
            return
        model_id = self.env['ir.model']._get_id('cabinet.ticket')
        ratings = (
            self.env['rating.rating']
            .sudo()
            .create(
                [
                    {
                        'res_model_id': model_id,
                        'res_id': ticket.id,
                        'partner_id': ticket.partner_id.id,
                        'rated_partner_id': ticket.user_id.partner_id.id,
                        'rating': plan['rating'][0],
                        'feedback': plan['rating'][1],
                        'consumed': True,
                    }
                    for ticket, plan in rated
                ]
            )
        )
        rows = [
            SQL("(%s, %s::timestamp)", rating.id, plan['close'] + timedelta(days=1, hours=rng.randint(0, 8)))
            for rating, (_ticket, plan) in zip(ratings, rated, strict=True)
        ]
        self.env.flush_all()
        self.env.execute_query(
            SQL(
                """
                UPDATE rating_rating AS r
                   SET create_date = v.date, write_date = v.date
                  FROM (VALUES %s) AS v(id, date)
                 WHERE r.id = v.id
                """,
                SQL(", ").join(rows),
            )
        )
        ratings.invalidate_recordset(['create_date', 'write_date'])

    # ------------------------------------------------------------
    # What happened to some of them
    # ------------------------------------------------------------

    @api.model
    def _demo_reassign(self, tickets, handling_teams):
        """Two open tickets changed hands, each with the reason in its history: to another team
        handling the parties' requests (else any team with members but the staff services)."""
        internal_teams = self.env['cabinet.category'].search([('internal', '=', True)]).team_id
        teams = handling_teams.filtered('member_ids') or self.env['cabinet.team'].search(
            [('member_ids', '!=', False), ('id', 'not in', internal_teams.ids)], order='id'
        )
        reassigned = 0
        for ticket in tickets.sorted('id'):
            team = (teams - ticket.team_id)[:1]
            if not team or reassigned == 2:
                continue
            self.env['cabinet.ticket.reassign'].create(
                {
                    'ticket_ids': [Command.set(ticket.ids)],
                    'team_id': team.id,
                    'user_id': team.member_ids.sorted('id')[:1].id,
                    'reason': "Handled by the team that follows this project.",
                }
            ).action_reassign()
            reassigned += 1

    @api.model
    def _demo_coordination(self, by_key, now):
        """A meeting of the three co-owners' tickets about the roof, whose synthesis was sent."""
        tickets = by_key['coordination_martin'] | by_key['coordination_nguyen'] | by_key['coordination_rossi']
        coordination = self.env['cabinet.coordination'].create(
            {
                'name': "Les Tilleuls: roof renovation meeting",
                'ticket_ids': [Command.set(tickets.ids)],
                'meeting_date': now - timedelta(days=30),
                'synthesis': Markup(
                    "<p>The roofer starts on the 3rd. Each lot keeps access to its attic; the scaffolding "
                    "stays six weeks. Questions about your own lot: answer on your ticket.</p>"
                ),
            }
        )
        coordination.action_send_synthesis()
        coordination.sent_date = now - timedelta(days=29)

    @api.model
    def _demo_legal_hold(self, ticket):
        """The brasserie disputes an old invoice: its ticket is kept past its retention period."""
        body = Markup("<p>%s</p><p>%s</p>") % (
            self.env._("Legal hold placed. Reason:"),
            "Dispute about the final invoice of the terrace: keep the file until the court decides.",
        )
        ticket._track_set_log_message(body)
        ticket.sudo().legal_hold = True

    @api.model
    def _demo_retention(self, by_key, now):
        """The retention period of two old tickets ran out: one was anonymized, one deleted, each
        leaving its audit row (the legal hold keeps the disputed one)."""
        expired = by_key['expired'] | by_key.get('expired_it', by_key['expired'])
        numbers = expired.mapped('number')
        expired.filtered_domain(self.env['cabinet.ticket']._retention_due_domain()).sudo()._apply_retention()
        logs = self.env['cabinet.retention.log'].search([('ticket_number', 'in', numbers)])
        if logs:
            self.env.execute_query(
                SQL(
                    "UPDATE cabinet_retention_log SET date = %s WHERE id IN %s",
                    now - timedelta(days=20),
                    tuple(logs.ids),
                )
            )
            logs.invalidate_recordset(['date'])

    @api.model
    def _demo_mail_pending(self, team, now):
        """Two emails nobody could attribute, waiting for someone to qualify them."""
        Pending = self.env['cabinet.mail.pending']
        for days, email_from, subject, body in (
            (3, "Jean Dupuis <jean.dupuis@>", "Question about my parking space", "Is my parking space included?"),
            (1, "", "Photos of the façade", "Here are the photos of the façade you asked for."),
        ):
            Pending._create_from_mail(
                {
                    'email_from': email_from,
                    'subject': subject,
                    'body': Markup("<p>%s</p>") % body,
                    'date': fields.Datetime.to_string(now - timedelta(days=days)),
                    'message_id': f'<history-{days}@demo.example>',
                },
                {'team_id': team.id, 'company_id': (team.company_id or self.env.company).id},
                [],
            )

    @api.model
    def _demo_analytics_switch(self, now):
        """The firm tried per-employee analytics for a month, then turned them off again."""
        Param = self.env['ir.config_parameter'].sudo()
        if Param._cabinet_individual_analytics():
            return
        Log = self.env['cabinet.analytics.log']
        before = Log.search([]).ids
        Param.set_param('cabinet_helpdesk.individual_analytics', 'True')
        Param.set_param('cabinet_helpdesk.individual_analytics', False)
        logs = Log.search([('id', 'not in', before)], order='id')
        for log, days in zip(logs, (95, 64), strict=False):
            self.env.execute_query(
                SQL("UPDATE cabinet_analytics_log SET date = %s WHERE id = %s", now - timedelta(days=days), log.id)
            )
        logs.invalidate_recordset(['date'])

    @api.model
    def _demo_xmlid(self, record, name):
        """Give ``record`` an external id of the module, so that uninstalling removes it."""
        self.env['ir.model.data']._update_xmlids(
            [{'xml_id': f'cabinet_helpdesk.{name}', 'record': record, 'noupdate': True}]
        )
