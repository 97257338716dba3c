# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
"""Benchmark data generator: fills a database where cabinet_helpdesk (``--module cabinet``) or OCA
helpdesk_mgmt (``--module peer``) is installed with N tickets of a realistic shape.

The shape, the same for both modules:

* parties: one company with one contact each, about one party for 20 tickets; the tickets of a
  party follow a Pareto-like law (most parties have a few tickets, a few have thousands);
* 70 % of the tickets closed (done or cancelled), the others in the open stages; closed tickets
  spread over two years, open ones over the last two months;
* 3 teams of 2 members with a leader and a mail alias, a manager, tags, request types,
  service levels (cabinet), mandates, matters and recurring tasks (cabinet);
* half of the tickets carry their chatter (creation message, tracked changes of stage and
  assignee, a message of the party, an internal note), one in twenty an attachment;
* one party with exactly 50 tickets and a portal user (login ``bench_portal``), used by the
  portal workloads.

How: about a hundred *template* tickets are created through the ORM (so that every stored
computed field, number, access token, follower and tracking value is what the module makes),
then copied in SQL batches of 100,000 rows (``INSERT ... SELECT`` from the templates), with
their own party, requester, subject, number and access token. Every date of a copy is the
template's moved back by a whole number of weeks, so that weekday and hour stay those the
service level computed its deadlines from (working hours); the retention date is computed again
from the moved closing date. The generator ends by reading a sample of copies through the ORM
(every stored field, python constraints, search and read_group) and fails if anything is wrong.

Run by tools/benchmark.sh; by hand::

    python tools/datagen.py --database DB --module cabinet --tickets 100000 \
        --addons-path ... --data-dir ...
"""

import argparse
import random
import subprocess
import sys
import time
from datetime import timedelta

from odoo import api, fields
from odoo.fields import Command
from odoo.modules.registry import Registry
from odoo.tools import SQL, config

BATCH = 100_000
TEAMS = ("Tax", "Legal", "Payroll")
TAGS = ("urgent", "follow-up", "document", "call back", "billing", "signature", "annual", "audit")
PORTAL_LOGIN = 'bench_portal'
PORTAL_PASSWORD = 'bench-portal-pw'
STAFF_PASSWORD = 'bench-staff-pw'
PORTAL_PARTY_TICKETS = 50


def say(message):
    sys.stderr.write(f"[datagen] {time.strftime('%H:%M:%S')} {message}\n")
    sys.stderr.flush()


def columns(cr, table):
    cr.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = %s ORDER BY ordinal_position",
        [table],
    )
    return cr.fetchall()


def copy_select(cr, table, overrides, source, shift_dates="", skip=()):
    """INSERT INTO ``table`` SELECT every column of the template row ``t`` (from ``source``,
    a FROM clause), replaced by ``overrides`` (column -> SQL expression) where given. Dates and
    datetimes are moved back by ``shift_dates`` (an SQL interval expression) when given."""
    names, exprs = [], []
    for name, data_type in columns(cr, table):
        if name in skip:
            continue
        names.append(name)
        if name in overrides:
            exprs.append(overrides[name])
        elif shift_dates and data_type == 'date':
            exprs.append(f'(t."{name}" - {shift_dates})::date')
        elif shift_dates and data_type.startswith('timestamp'):
            exprs.append(f't."{name}" - {shift_dates}')
        else:
            exprs.append(f't."{name}"')
    cr.execute(
        SQL(
            "INSERT INTO %s (%s) SELECT %s FROM %s",
            SQL.identifier(table),
            SQL(", ").join(SQL.identifier(name) for name in names),
            SQL(", ").join(SQL(expr) for expr in exprs),
            SQL(source),
        )
    )
    return cr.rowcount


class Profile:
    """What differs between the two modules: model names, groups, stages, template creation and
    the columns of a copy that are not the template's."""

    model = table = None
    rng = random.Random(1234)

    def __init__(self, env, commit=True):
        self.env = env
        self.commit = commit

    def checkpoint(self):
        """End of a step: commit (or, inside a test, only flush and run the pre-commit hooks,
        which is what records the tracked changes)."""
        self.env.flush_all()
        if self.commit:
            self.env.cr.commit()
        else:
            self.env.cr.flush()

    # -- helpers common to both
    def user(self, login, name, groups):
        Users = self.env['res.users'].with_context(no_reset_password=True)
        user = Users.search([('login', '=', login)])
        if not user:
            user = Users.create(
                {
                    'name': name,
                    'login': login,
                    'password': STAFF_PASSWORD,
                    'email': f'{login}@firm.example',
                    'group_ids': [Command.set([self.env.ref(g).id for g in groups])],
                }
            )
        return user

    def alias_domain(self):
        """Mail gateway: the company's alias domain (``firm.example`` unless it has one)."""
        company = self.env.company
        if not company.alias_domain_id:
            domain = self.env['mail.alias.domain'].search([], limit=1) or self.env['mail.alias.domain'].create(
                {'name': 'firm.example'}
            )
            company.alias_domain_id = domain

    def party_template(self):
        Partner = self.env['res.partner']
        company = Partner.create({'name': "Bench Party Template", 'is_company': True, 'email': 'tpl@party.example'})
        contact = Partner.create(
            {'name': "Bench Requester Template", 'parent_id': company.id, 'email': 'requester@party.example'}
        )
        return company, contact

    def make_parties(self, count, company_tpl, contact_tpl):
        """``count`` parties (company + one contact), copied in SQL from the template pair.
        Returns the list of (company id, contact id)."""
        cr = self.env.cr
        self.env.flush_all()
        cr.execute(
            """CREATE TEMP TABLE gen_party AS
               SELECT g, nextval('res_partner_id_seq')::int AS company, nextval('res_partner_id_seq')::int AS contact
                 FROM generate_series(1, %s) g""",
            [count],
        )
        name = "'Bench Party ' || lpad(p.g::text, 7, '0')"
        copy_select(
            cr,
            'res_partner',
            {
                'id': 'p.company',
                'name': name,
                'complete_name': name,
                'commercial_partner_id': 'p.company',
                'email': "'office' || p.g || '@party' || p.g || '.example'",
                'email_normalized': "'office' || p.g || '@party' || p.g || '.example'",
                'create_date': "now() at time zone 'UTC'",
                'write_date': "now() at time zone 'UTC'",
            },
            f"gen_party p, res_partner t WHERE t.id = {company_tpl.id}",
        )
        contact_name = "'Requester ' || lpad(p.g::text, 7, '0')"
        copy_select(
            cr,
            'res_partner',
            {
                'id': 'p.contact',
                'name': contact_name,
                'complete_name': f"{name} || ', ' || {contact_name}",
                'parent_id': 'p.company',
                'commercial_partner_id': 'p.company',
                'email': "'requester' || p.g || '@party' || p.g || '.example'",
                'email_normalized': "'requester' || p.g || '@party' || p.g || '.example'",
                'create_date': "now() at time zone 'UTC'",
                'write_date': "now() at time zone 'UTC'",
            },
            f"gen_party p, res_partner t WHERE t.id = {contact_tpl.id}",
        )
        cr.execute("SELECT company, contact FROM gen_party ORDER BY g")
        parties = cr.fetchall()
        cr.execute("DROP TABLE gen_party")
        return parties

    def portal_party(self):
        """The party of the portal workloads, with its portal user."""
        Partner = self.env['res.partner']
        party = Partner.create({'name': "Bench Portal Party", 'is_company': True, 'email': 'office@portal.example'})
        user = (
            self.env['res.users']
            .with_context(no_reset_password=True)
            .create(
                {
                    'name': "Bench Portal Client",
                    'login': PORTAL_LOGIN,
                    'password': PORTAL_PASSWORD,
                    'email': 'client@portal.example',
                    'group_ids': [Command.set([self.env.ref('base.group_portal').id])],
                }
            )
        )
        user.partner_id.parent_id = party
        return party, user.partner_id

    # the stage field that closes a ticket, and extra values of the portal party's tickets
    closed_field = None
    portal_ticket_values = {}

    def portal_tickets(self, contact):
        """The 50 tickets of the portal party, through the ORM (70 % closed)."""
        Ticket = self.env[self.model].with_user(self.manager)
        closed = self.stages.filtered(self.closed_field)[:1]
        for i in range(PORTAL_PARTY_TICKETS):
            ticket = Ticket.create(
                {
                    'name': f"Portal request {i}",
                    'partner_id': contact.id,
                    'team_id': self.teams[i % 3].id,
                    'priority': str(i % 4),
                    'tag_ids': [Command.set(self.tags.ids[i % 8 : i % 8 + 1])],
                    **self.portal_ticket_values,
                }
            )
            ticket.message_post(body="Here is my question.", author_id=contact.id, subtype_xmlid='mail.mt_comment')
            if i % 10 < 7:
                ticket.stage_id = closed
        self.env.flush_all()

    @staticmethod
    def post_history(ticket, contact):
        """The chatter of a template ticket: the party's message with a document, a staff note."""
        ticket.message_post(
            body="Hello, here is the missing document.",
            author_id=contact.id,
            message_type='comment',
            subtype_xmlid='mail.mt_comment',
            attachments=[('statement.txt', b'bench statement\n' * 20)],
        )
        ticket.message_post(body="Checked with the party.", subtype_xmlid='mail.mt_note')

    def move(self, moves):
        """Second life of the templates, in a later transaction than their creation so that the
        changes are tracked: hand over to the other member, then move to the template's stage."""
        self.checkpoint()
        for ticket, stage, members in moves:
            other = members - ticket.user_id
            if other:
                ticket.write({'user_id': other[:1].id})
            if stage != ticket.stage_id:
                ticket.write({'stage_id': stage.id})
        self.checkpoint()

    # -- the copy
    def copy_tickets(self, templates, parties, count, start):
        """Copy ``count`` tickets from ``templates`` (list of (id, is_closed, weight)) in batches."""
        cr = self.env.cr
        pool = [tid for tid, _closed, weight in templates for _ in range(weight)]
        closed = {tid for tid, is_closed, _w in templates if is_closed}
        cr.execute("CREATE TEMP TABLE gen_pool (idx int, tpl int, closed bool)")
        cr.execute(
            "INSERT INTO gen_pool SELECT i - 1, tpl, tpl = ANY(%s) FROM unnest(%s::int[]) WITH ORDINALITY u(tpl, i)",
            [list(closed), pool],
        )
        cr.execute("CREATE TEMP TABLE gen_party (idx int, company int, contact int)")
        cr.execute(
            "INSERT INTO gen_party SELECT i - 1, c, p FROM unnest(%s::int[], %s::int[]) WITH ORDINALITY u(c, p, i)",
            [[c for c, _p in parties], [p for _c, p in parties]],
        )
        cr.execute("CREATE INDEX ON gen_pool (idx); CREATE INDEX ON gen_party (idx)")
        cr.execute("SELECT setseed(0.42)")
        done = 0
        while done < count:
            size = min(BATCH, count - done)
            started = time.perf_counter()
            # one row per copy: its template, its party (Pareto-like: a few parties get most
            # tickets) and how many weeks back its dates go
            cr.execute(
                """CREATE TEMP TABLE gen AS
                   SELECT g, nextval(%s)::int AS new_id, pool.tpl, pool.closed, party.company, party.contact,
                          CASE WHEN pool.closed THEN 1 + floor(random() * 104)
                               ELSE floor(random() * 9) END::int AS weeks
                     FROM (SELECT g, floor(random() * %s)::int AS pick,
                                  floor(%s * power(random(), 3))::int AS who
                             FROM generate_series(%s, %s) g) s
                     JOIN gen_pool pool ON pool.idx = s.pick
                     JOIN gen_party party ON party.idx = s.who""",
                [f'{self.table}_id_seq', len(pool), len(parties), start + done, start + done + size - 1],
            )
            cr.execute("CREATE INDEX ON gen (tpl)")
            copy_select(
                cr,
                self.table,
                self.ticket_overrides(),
                f"gen JOIN {self.table} t ON t.id = gen.tpl",
                shift_dates="gen.weeks * interval '7 days'",
            )
            self.after_copy()
            self.copy_relations()
            self.copy_chatter()
            cr.execute("DROP TABLE gen")
            self.checkpoint()
            done += size
            say(
                f"{self.model}: {done:,}/{count:,} copies "
                f"({size / (time.perf_counter() - started):,.0f} tickets/s for this batch)"
            )
        cr.execute("DROP TABLE gen_pool; DROP TABLE gen_party")

    def copy_relations(self):
        """Many2many rows of the templates (tags, ...) for their copies."""
        cr = self.env.cr
        for field in self.env[self.model]._fields.values():
            if field.type != 'many2many' or not field.store or field.name in self.skip_many2many:
                continue
            rel, col1, col2 = field.relation, field.column1, field.column2
            cr.execute(
                SQL(
                    "INSERT INTO %(rel)s (%(col1)s, %(col2)s) SELECT gen.new_id, r.%(col2)s "
                    "FROM gen JOIN %(rel)s r ON r.%(col1)s = gen.tpl ON CONFLICT DO NOTHING",
                    rel=SQL.identifier(rel),
                    col1=SQL.identifier(col1),
                    col2=SQL.identifier(col2),
                )
            )

    def copy_chatter(self):
        """Followers of every copy; messages, tracking values and attachments of some."""
        cr = self.env.cr
        # followers: the template's requester becomes the copy's
        cr.execute(
            SQL(
                """CREATE TEMP TABLE gen_fol AS
                   SELECT nextval('mail_followers_id_seq')::int AS new_id, f.id AS old_id, gen.new_id AS res_id,
                          CASE WHEN f.partner_id = tpl_t.partner_id THEN gen.contact ELSE f.partner_id END AS partner_id
                     FROM gen JOIN mail_followers f ON f.res_model = %s AND f.res_id = gen.tpl
                     JOIN %s tpl_t ON tpl_t.id = gen.tpl""",
                self.model,
                SQL.identifier(self.table),
            )
        )
        copy_select(
            cr,
            'mail_followers',
            {'id': 'x.new_id', 'res_id': 'x.res_id', 'partner_id': 'x.partner_id'},
            "gen_fol x JOIN mail_followers t ON t.id = x.old_id",
        )
        cr.execute(
            """INSERT INTO mail_followers_mail_message_subtype_rel (mail_followers_id, mail_message_subtype_id)
               SELECT x.new_id, r.mail_message_subtype_id FROM gen_fol x
                 JOIN mail_followers_mail_message_subtype_rel r ON r.mail_followers_id = x.old_id"""
        )
        cr.execute("DROP TABLE gen_fol")
        # messages on half of the copies
        cr.execute(
            SQL(
                """CREATE TEMP TABLE gen_msg AS
                   SELECT nextval('mail_message_id_seq')::int AS new_id, m.id AS old_id, gen.new_id AS res_id,
                          gen.weeks, gen.g, gen.contact, tpl_t.partner_id AS tpl_contact
                     FROM gen JOIN mail_message m ON m.model = %s AND m.res_id = gen.tpl
                     JOIN %s tpl_t ON tpl_t.id = gen.tpl
                    WHERE gen.g %% 2 = 0""",
                self.model,
                SQL.identifier(self.table),
            )
        )
        copy_select(
            cr,
            'mail_message',
            {
                'id': 'x.new_id',
                'res_id': 'x.res_id',
                'author_id': 'CASE WHEN t.author_id = x.tpl_contact THEN x.contact ELSE t.author_id END',
                'message_id': "'<bench-' || x.new_id || '@bench.example>'",
                'parent_id': 'NULL',
            },
            "gen_msg x JOIN mail_message t ON t.id = x.old_id",
            shift_dates="x.weeks * interval '7 days'",
        )
        copy_select(
            cr,
            'mail_tracking_value',
            {'id': "nextval('mail_tracking_value_id_seq')", 'mail_message_id': 'x.new_id'},
            "gen_msg x JOIN mail_tracking_value t ON t.mail_message_id = x.old_id",
            shift_dates="x.weeks * interval '7 days'",
        )
        # attachments on one copy in twenty (the file itself is shared: same checksum)
        cr.execute(
            """CREATE TEMP TABLE gen_att AS
               SELECT nextval('ir_attachment_id_seq')::int AS new_id, a.id AS old_id, x.res_id,
                      x.new_id AS msg_id, x.weeks
                 FROM gen_msg x JOIN message_attachment_rel r ON r.message_id = x.old_id
                 JOIN ir_attachment a ON a.id = r.attachment_id
                WHERE x.g % 20 = 0"""
        )
        copy_select(
            cr,
            'ir_attachment',
            {'id': 'x.new_id', 'res_id': 'x.res_id', 'access_token': 'NULL'},
            "gen_att x JOIN ir_attachment t ON t.id = x.old_id",
            shift_dates="x.weeks * interval '7 days'",
        )
        cr.execute("INSERT INTO message_attachment_rel (message_id, attachment_id) SELECT msg_id, new_id FROM gen_att")
        cr.execute("DROP TABLE gen_att; DROP TABLE gen_msg")

    skip_many2many = ()

    def after_copy(self):
        pass

    def verify(self, sample_size=300):
        """Read a sample of copies through the ORM: every stored field, the python constraints, a
        search and a read_group; raise when something is off."""
        env = self.env
        env.invalidate_all()
        Model = env[self.model].with_context(active_test=False)
        env.cr.execute(SQL("SELECT id FROM %s ORDER BY random() LIMIT %s", SQL.identifier(self.table), sample_size))
        sample = Model.browse([r[0] for r in env.cr.fetchall()])
        stored = [name for name, field in Model._fields.items() if field.store and field.column_type]
        sample.read(stored)
        sample.mapped('display_name')
        sample._validate_fields(stored)
        for ticket in sample[:20]:
            ticket.message_ids.mapped('body')
            ticket.message_follower_ids.mapped('partner_id')
        total = Model.search_count([])
        groups = Model._read_group([], ['team_id', 'stage_id'], ['__count'])
        assert sum(count for _team, _stage, count in groups) == total, "read_group does not add up"
        self.verify_module(sample)
        say(f"verified {len(sample)} tickets through the ORM; {total:,} tickets in all")
        return total


class CabinetProfile(Profile):
    model = 'cabinet.ticket'
    closed_field = 'is_closed'
    table = 'cabinet_ticket'
    skip_many2many = ('mandate_agent_ids', 'coordination_ids')

    def skeleton(self):
        env = self.env
        self.alias_domain()
        self.manager = self.user('bench_manager', "Bench Manager", ['cabinet_helpdesk.group_cabinet_manager'])
        staff = [
            self.user(f'bench_user_{i}', f"Bench User {i}", ['cabinet_helpdesk.group_cabinet_user']) for i in range(6)
        ]
        self.teams = env['cabinet.team']
        for i, name in enumerate(TEAMS):
            members = staff[2 * i : 2 * i + 2]
            team = env['cabinet.team'].create(
                {
                    'name': f"Bench {name}",
                    'member_ids': [Command.set([u.id for u in members])],
                    'leader_id': members[0].id,
                    'alias_name': f'bench-{name.lower()}',
                }
            )
            env['cabinet.sla.policy'].create(
                [
                    {
                        'name': f"Bench {name} standard",
                        'team_id': team.id,
                        'priority': '0',
                        'response_hours': 8,
                        'resolve_hours': 40,
                    },
                    {
                        'name': f"Bench {name} urgent",
                        'team_id': team.id,
                        'priority': '2',
                        'response_hours': 2,
                        'resolve_hours': 16,
                    },
                ]
            )
            self.teams |= team
        self.tags = env['cabinet.tag'].create([{'name': f"bench {t}"} for t in TAGS])
        # request types of each team, copied from the module's own (retention policy, legal basis)
        models = env['cabinet.category'].search([('confidential', '=', False)], limit=2)
        for team in self.teams:
            for model in models:
                model.copy({'name': f"{model.name} ({team.name})", 'team_id': team.id})
        self.stages = env['cabinet.stage'].search([])

    def make_templates(self, contact):
        """Templates: per team and priority, one ticket in each stage (open and closed), created
        and moved through the ORM as the manager, with chatter and one attachment."""
        env = self.env
        Ticket = env['cabinet.ticket'].with_user(self.manager).with_context(mail_notrack=False)
        templates, moves = [], []
        rng = self.rng
        today = fields.Date.today()
        for team in self.teams:
            for priority in ('0', '1', '2', '3'):
                category = rng.choice(env['cabinet.category'].search([('team_id', '=', team.id)]))
                stages = Ticket.new({'team_id': team.id, 'category_id': category.id}).workflow_stage_ids._origin
                open_stages = stages.filtered(lambda s: not s.is_closed)
                closed_stages = stages.filtered('is_closed')
                for stage in open_stages | closed_stages:
                    vals = {
                        'name': f"Template {team.name} {priority} {stage.name}",
                        'partner_id': contact.id,
                        'team_id': team.id,
                        'priority': priority,
                        'user_id': team.member_ids[rng.randrange(len(team.member_ids))].id,
                        'tag_ids': [Command.set(rng.sample(self.tags.ids, 2))],
                        'date_deadline': today + timedelta(days=rng.randrange(5, 40)),
                        'description': "<p>Please find the documents of the year attached.</p>",
                    }
                    vals['category_id'] = category.id
                    ticket = Ticket.create(vals)
                    self.post_history(ticket, contact)
                    moves.append((ticket, stage, team.member_ids))
                    weight = 7 * len(open_stages) if stage.is_closed else 3 * len(closed_stages)
                    templates.append((ticket.id, bool(stage.is_closed), weight))
        self.move(moves)
        return templates

    def ticket_overrides(self):
        return {
            'id': 'gen.new_id',
            'name': "'Request ' || gen.g || ' ' || t.name",
            'number': (
                "'G' || to_char(t.create_date - gen.weeks * interval '7 days', 'YYYY') || '-' "
                "|| lpad(gen.new_id::text, 8, '0')"
            ),
            'partner_id': 'gen.contact',
            'commercial_partner_id': 'gen.company',
            'access_token': 'gen_random_uuid()::text',
            'message_main_attachment_id': 'NULL',
        }

    def after_copy(self):
        # the retention date is months after the closing date: computed again on the moved date
        self.env.cr.execute(
            """UPDATE cabinet_ticket tk
                  SET retention_date = (tk.closed_date::date + make_interval(months => p.period_months))::date
                 FROM gen, cabinet_category c, cabinet_retention_policy p
                WHERE tk.id = gen.new_id AND tk.closed_date IS NOT NULL
                  AND c.id = tk.category_id AND p.id = c.retention_policy_id"""
        )

    def extras(self, parties):
        """Mandates between parties, matters and recurring tasks, through the ORM."""
        env = self.env
        rng = self.rng
        Partner = env['res.partner']
        mandates = []
        for i in range(min(20, len(parties) // 2)):
            agent, principal = parties[2 * i][0], parties[2 * i + 1][0]
            Partner.browse(agent).party_type = 'agent'
            mandates.append(
                {
                    'agent_id': agent,
                    'principal_id': principal,
                    'date_start': fields.Date.today() - timedelta(days=400),
                    'date_end': fields.Date.today() + timedelta(days=rng.randrange(30, 400)),
                }
            )
        env['cabinet.mandate'].create(mandates)
        for i in range(5):
            client = Partner.browse(parties[i][0])
            env['cabinet.matter'].create(
                {'name': f"Bench matter {i}", 'client_id': client.id, 'team_id': self.teams[i % 3].id}
            )
            env['cabinet.recurring.task'].create(
                {
                    'name': f"Bench yearly return {i}",
                    'team_id': self.teams[i % 3].id,
                    'partner_id': Partner.browse(parties[i][1]).id,
                    'interval_number': 1,
                    'interval_type': 'years',
                    'next_date': fields.Date.today() + timedelta(days=60 + i),
                }
            )

    def verify_module(self, sample):
        sample.mapped('sla_status')
        sample.mapped('access_url')
        self.env['cabinet.ticket.analysis'].formatted_read_group([], ['team_id', 'create_date:month'], ['__count'])
        bad = sample.filtered(lambda t: t.commercial_partner_id != t.partner_id.commercial_partner_id)
        assert not bad, f"party mismatch on {bad.ids}"
        bad = sample.filtered(lambda t: t.is_closed != t.stage_id.is_closed or (t.is_closed and not t.closed_date))
        assert not bad, f"closing state mismatch on {bad.ids}"


class PeerProfile(Profile):
    model = 'helpdesk.ticket'
    closed_field = 'closed'
    portal_ticket_values = {'description': "<p>Here is my question.</p>"}
    table = 'helpdesk_ticket'

    def skeleton(self):
        env = self.env
        self.alias_domain()
        self.manager = self.user('bench_manager', "Bench Manager", ['helpdesk_mgmt.group_helpdesk_manager'])
        staff = [
            self.user(f'bench_user_{i}', f"Bench User {i}", ['helpdesk_mgmt.group_helpdesk_user_team'])
            for i in range(6)
        ]
        self.teams = env['helpdesk.ticket.team']
        for i, name in enumerate(TEAMS):
            members = staff[2 * i : 2 * i + 2]
            self.teams |= env['helpdesk.ticket.team'].create(
                {
                    'name': f"Bench {name}",
                    'user_ids': [Command.set([u.id for u in members])],
                    'user_id': members[0].id,
                    'alias_name': f'bench-{name.lower()}',
                }
            )
        self.tags = env['helpdesk.ticket.tag'].create([{'name': f"bench {t}"} for t in TAGS])
        self.categories = env['helpdesk.ticket.category'].search([]) or env['helpdesk.ticket.category'].create(
            [{'name': f"Bench category {i}"} for i in range(4)]
        )
        self.stages = env['helpdesk.ticket.stage'].search([])

    def make_templates(self, contact):
        env = self.env
        Ticket = env['helpdesk.ticket'].with_user(self.manager)
        open_stages = self.stages.filtered(lambda s: not s.closed)
        closed_stages = self.stages.filtered('closed')
        templates, moves = [], []
        rng = self.rng
        for team in self.teams:
            for priority in ('0', '1', '2', '3'):
                for stage in open_stages | closed_stages:
                    ticket = Ticket.create(
                        {
                            'name': f"Template {team.name} {priority} {stage.name}",
                            'description': "<p>Please find the documents of the year attached.</p>",
                            'partner_id': contact.id,
                            'team_id': team.id,
                            'priority': priority,
                            'user_id': team.user_ids[rng.randrange(len(team.user_ids))].id,
                            'category_id': rng.choice(self.categories).id,
                            'tag_ids': [Command.set(rng.sample(self.tags.ids, 2))],
                        }
                    )
                    self.post_history(ticket, contact)
                    moves.append((ticket, stage, team.user_ids))
                    weight = 7 * len(open_stages) if stage.closed else 3 * len(closed_stages)
                    templates.append((ticket.id, bool(stage.closed), weight))
        self.move(moves)
        return templates

    def ticket_overrides(self):
        return {
            'id': 'gen.new_id',
            'name': "'Request ' || gen.g || ' ' || t.name",
            'number': "'G' || lpad(gen.new_id::text, 8, '0')",
            'partner_id': 'gen.contact',
            'commercial_partner_id': 'gen.company',
            'partner_name': "'Requester ' || lpad((gen.contact)::text, 7, '0')",
            'partner_email': "'requester' || gen.contact || '@party.example'",
            'access_token': 'gen_random_uuid()::text',
            'message_main_attachment_id': 'NULL',
        }

    def extras(self, parties):
        pass

    def verify_module(self, sample):
        bad = sample.filtered(lambda t: t.commercial_partner_id != t.partner_id.commercial_partner_id)
        assert not bad, f"party mismatch on {bad.ids}"


PROFILES = {'cabinet': CabinetProfile, 'peer': PeerProfile}


def generate(env, module, tickets, verify=True, commit=True):
    """Fill the database of ``env`` (superuser) with ``tickets`` tickets; return the count.
    ``commit=False`` keeps everything in the current transaction (tests)."""
    started = time.perf_counter()
    profile = PROFILES[module](env, commit=commit)
    env = profile.env = env(context=dict(env.context, mail_create_nosubscribe=False, tracking_disable=False))
    say(f"{module}: users, teams, tags, request types")
    profile.skeleton()
    company_tpl, contact_tpl = profile.party_template()
    portal_party, portal_contact = profile.portal_party()
    say(f"{module}: template tickets through the ORM")
    templates = profile.make_templates(contact_tpl)
    profile.portal_tickets(portal_contact)
    profile.checkpoint()
    copies = max(tickets - len(templates) - PORTAL_PARTY_TICKETS, 0)
    party_count = max(copies // 20, 10)
    say(f"{module}: {party_count:,} parties")
    parties = profile.make_parties(party_count, company_tpl, contact_tpl)
    profile.extras(parties)
    profile.checkpoint()
    say(f"{module}: {copies:,} ticket copies in SQL batches of {BATCH:,}")
    profile.copy_tickets(templates, parties, copies, start=1)
    env.registry.clear_cache()
    env.invalidate_all()
    for table in (
        profile.table,
        'res_partner',
        'mail_message',
        'mail_followers',
        'mail_tracking_value',
        'ir_attachment',
    ):
        env.cr.execute(SQL("ANALYZE %s", SQL.identifier(table)))
    profile.checkpoint()
    total = profile.verify() if verify else env[profile.model].with_context(active_test=False).search_count([])
    say(f"{module}: {total:,} tickets in {time.perf_counter() - started:,.0f} s")
    return total


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--database', required=True)
    parser.add_argument('--module', choices=sorted(PROFILES), default='cabinet')
    parser.add_argument('--tickets', type=int, default=10_000)
    parser.add_argument('--addons-path', required=True)
    parser.add_argument('--data-dir', required=True)
    args = parser.parse_args()
    config.parse_config(
        [
            '-d',
            args.database,
            f'--addons-path={args.addons_path}',
            f'--data-dir={args.data_dir}',
            '--log-level=warn',
            '--max-cron-threads=0',
        ],
        setup_logging=True,
    )
    registry = Registry(args.database)
    with registry.cursor() as cr:
        env = api.Environment(cr, api.SUPERUSER_ID, {})
        generate(env, args.module, args.tickets)
    # as autovacuum leaves a live database after such a load: the visibility map set, so that
    # index-only scans read no table page, and fresh statistics (VACUUM runs outside a transaction)
    say(f"{args.module}: VACUUM ANALYZE")
    subprocess.run(['vacuumdb', '--analyze', '--quiet', args.database], check=True)


if __name__ == '__main__':
    main()
