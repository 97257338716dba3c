# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
"""Performance figures of cabinet_helpdesk, and of OCA helpdesk_mgmt side by side (see
tools/benchmark.sh, which builds the databases with tools/datagen.py and calls this script).

Each workload is a function measured at two database sizes (``--small`` and ``--big``
databases), so that the table says whether SQL queries per operation stay flat as the database
grows. A workload that fails prints an error row and the others go on. Workloads that write
(ticket creation, emails, scheduled actions) run on throwaway copies (``createdb -T``): the
reference databases stay as built and are reused by the next run.

Figures: the median of ``--runs`` timed runs after one warm-up run; the warm-up run is traced
(tracemalloc) for the peak of Python memory. Scheduled actions run each in a child process on its
own copy, with the growth of the process' peak resident memory (ru_maxrss) as their peak.
"""

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc

from lxml import etree
from werkzeug.test import Client

from odoo import api, http, sql_db
from odoo.modules.registry import Registry
from odoo.tools import config

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import datagen

PROGRESS = sys.stderr

RAW_EMAIL = """Return-Path: <{sender}>
From: {sender_name} <{sender}>
To: {to}
Cc: {cc}
Subject: {subject}
Date: {date}
Message-ID: {message_id}
{reply_headers}MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Hello, {body}
Regards
"""

SIZES = {
    # size: (small database, big database) in tickets, counts of the writing workloads
    'small': {'dbs': (1_000, 10_000), 'create': 100, 'bulk': 500, 'emails': 50, 'crons': (100, 500)},
    'medium': {'dbs': (10_000, 100_000), 'create': 1_000, 'bulk': 10_000, 'emails': 1_000, 'crons': (1_000, 10_000)},
    'large': {
        'dbs': (100_000, 1_000_000),
        'create': 1_000,
        'bulk': 10_000,
        'emails': 1_000,
        'crons': (10_000, 100_000),
    },
}


def say(message):
    PROGRESS.write(f"[benchmark] {time.strftime('%H:%M:%S')} {message}\n")
    PROGRESS.flush()


def human(n):
    for unit, div in (('M', 1_000_000), ('k', 1_000)):
        if n >= div and n % (div // 10 or 1) == 0:
            return f"{n / div:g}{unit}"
    return str(n)


class Result:
    """One row: a workload on one module at one database size."""

    def __init__(self, workload, module, size, unit, n=1):
        self.workload, self.module, self.size, self.unit, self.n = workload, module, size, unit, n
        self.ms = self.queries = self.peak_mb = None
        self.error = None
        self.note = ''

    @property
    def ms_per_unit(self):
        return self.ms / self.n if self.ms is not None else None

    @property
    def rate(self):
        return self.n * 1000 / self.ms if self.ms else None


def measure(result, env, func, runs, count_http=False):
    """Run ``func`` once traced (warm-up, peak memory), then ``runs`` times timed: median of the
    durations, queries of the last run divided by the number of units."""
    cr = env.cr

    def once():
        env.invalidate_all()
        before = sql_db.sql_counter if count_http else cr.sql_log_count
        start = time.perf_counter()
        func()
        env.flush_all()
        elapsed = (time.perf_counter() - start) * 1000
        return elapsed, (sql_db.sql_counter if count_http else cr.sql_log_count) - before

    tracemalloc.start()
    once()
    result.peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    timings = []
    queries = 0
    for _ in range(runs):
        elapsed, queries = once()
        timings.append(elapsed)
    result.ms = statistics.median(timings)
    result.queries = queries / result.n


# ------------------------------------------------------------------------------------------
# the two modules, seen through the same questions
# ------------------------------------------------------------------------------------------


class Side:
    module = model = ''
    list_url = ''

    def __init__(self, env):
        self.env = env
        Users = env['res.users'].with_context(active_test=False)
        self.manager = Users.search([('login', '=', 'bench_manager')])
        self.team_user = Users.search([('login', '=', 'bench_user_0')])
        self.portal = Users.search([('login', '=', datagen.PORTAL_LOGIN)])

    def create_vals(self, i, contact, teams, tags, categories):
        team = teams[i % len(teams)]
        if 'team_id' in categories._fields:
            categories = categories.filtered(lambda c: c.team_id == team) or categories
        return {
            'name': f"Benchmark request {i}",
            'partner_id': contact,
            'team_id': team.id,
            'user_id': self.members(team)[i % 2].id,
            'category_id': categories[i % len(categories)].id,
            'tag_ids': [(6, 0, [tags[i % len(tags)].id])],
            'priority': str(i % 4),
        } | self.extra_vals()

    def extra_vals(self):
        return {}


class CabinetSide(Side):
    module, model = 'cabinet', 'cabinet.ticket'
    list_url = '/my/tickets'

    def ticket_url(self, ticket_id):
        return f'/my/tickets/{ticket_id}'

    def teams(self):
        return self.env['cabinet.team'].search([('name', 'like', 'Bench ')])

    def members(self, team):
        return team.member_ids

    def tags(self):
        return self.env['cabinet.tag'].search([('name', 'like', 'bench ')])

    def categories(self):
        return self.env['cabinet.category'].search([('team_id', 'in', self.teams().ids)])


class PeerSide(Side):
    module, model = 'peer', 'helpdesk.ticket'
    list_url = '/my/tickets'

    def ticket_url(self, ticket_id):
        return f'/my/ticket/{ticket_id}'

    def teams(self):
        return self.env['helpdesk.ticket.team'].search([('name', 'like', 'Bench ')])

    def members(self, team):
        return team.user_ids

    def tags(self):
        return self.env['helpdesk.ticket.tag'].search([('name', 'like', 'bench ')])

    def categories(self):
        return self.env['helpdesk.ticket.category'].search([])

    def extra_vals(self):
        return {'description': "<p>Please find the documents attached.</p>"}


SIDES = {'cabinet': CabinetSide, 'peer': PeerSide}


def contacts(env, count):
    """Requesters of generated parties: (contact id, email, other party's contact email)."""
    env.cr.execute(
        """SELECT c.id, c.email FROM res_partner c
            WHERE c.name LIKE 'Requester %%' AND c.email IS NOT NULL ORDER BY c.id LIMIT %s""",
        [count + 1],
    )
    rows = env.cr.fetchall()
    return [(rows[i][0], rows[i][1], rows[(i + 1) % len(rows)][1]) for i in range(min(count, len(rows) - 1))]


# ------------------------------------------------------------------------------------------
# workloads: each takes (side, result, runs) and fills result
# ------------------------------------------------------------------------------------------


def wl_create(side, result, runs):
    """Ticket creation through the ORM as the manager, one create per ticket (assignee, request
    type, tag, priority): the form view's path."""
    env = side.env
    Ticket = env[side.model].with_user(side.manager).with_context(tracking_disable=False)
    teams, tags, categories = side.teams(), side.tags(), side.categories()
    people = contacts(env, 50)
    counter = iter(range(10**9))

    def run():
        for _ in range(result.n):
            i = next(counter)
            Ticket.create(side.create_vals(i, people[i % len(people)][0], teams, tags, categories))

    measure(result, env, run, runs)


def wl_bulk(side, result, runs):
    """Bulk creation through the ORM, tracking off, batches of 1,000 (an import)."""
    env = side.env
    Ticket = env[side.model].with_user(side.manager).with_context(tracking_disable=True, mail_create_nolog=True)
    teams, tags, categories = side.teams(), side.tags(), side.categories()
    people = contacts(env, 50)
    counter = iter(range(10**9))

    def run():
        for start in range(0, result.n, 1000):
            vals = []
            for _ in range(min(1000, result.n - start)):
                i = next(counter)
                vals.append(side.create_vals(i, people[i % len(people)][0], teams, tags, categories))
            Ticket.create(vals)

    measure(result, env, run, runs)


def _alias(side):
    team = side.teams()[:1]
    alias = team.alias_id
    domain = alias.alias_domain_id.name if alias.alias_domain_id else 'firm.example'
    return f"{alias.alias_name}@{domain}"


def _email(to, sender, cc, subject, message_id, body, in_reply_to=None):
    reply = f"In-Reply-To: {in_reply_to}\nReferences: {in_reply_to}\n" if in_reply_to else ''
    return RAW_EMAIL.format(
        sender=sender,
        sender_name="Requester",
        to=to,
        cc=cc,
        subject=subject,
        date=time.strftime('%a, %d %b %Y %H:%M:%S +0000', time.gmtime()),
        message_id=message_id,
        reply_headers=reply,
        body=body,
    )


def wl_email_new(side, result, runs, state):
    """New requests by email through the gateway (message_process on the team's alias), each with
    a contact of another party in Cc."""
    env = side.env
    to = _alias(side)
    people = contacts(env, 200)
    counter = iter(range(10**9))
    state['sent'] = []

    def run():
        sent = []
        for _ in range(result.n):
            i = next(counter)
            _contact, email, other = people[i % len(people)]
            message_id = f"<bench-new-{i}-{time.time_ns()}@party.example>"
            env['mail.thread'].message_process(
                False,
                _email(to, email, other, f"Question {i} about my file", message_id, "when is my file ready?"),
            )
            sent.append((email, other, message_id, i))
        state['sent'] = sent

    measure(result, env, run, runs)
    count = env[side.model].search_count([('name', 'like', 'Question %% about my file')])
    if not count:
        result.note = "no ticket created by the emails"


def wl_email_reply(side, result, runs, state):
    """Replies of the requester to the tickets opened by email (In-Reply-To), one per ticket."""
    env = side.env
    to = _alias(side)
    sent = state.get('sent') or []
    if len(sent) < result.n:
        raise RuntimeError("needs the new-email workload first")
    counter = iter(range(10**9))

    def run():
        for email, other, parent, i in sent[: result.n]:
            message_id = f"<bench-reply-{i}-{next(counter)}-{time.time_ns()}@party.example>"
            env['mail.thread'].message_process(
                False, _email(to, email, other, f"Re: Question {i} about my file", message_id, "here it is.", parent)
            )

    measure(result, env, run, runs)


class Portal:
    """A werkzeug test client against the WSGI application, logged in as the portal user."""

    def __init__(self, dbname):
        config['dbfilter'] = f'^{re.escape(dbname)}$'
        self.client = Client(http.root)
        self.environ = {'REMOTE_ADDR': '127.0.0.1'}
        page = self.client.get(f'/web/login?db={dbname}', environ_base=self.environ).get_data(as_text=True)
        token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        response = self.client.post(
            '/web/login',
            environ_base=self.environ,
            data={'login': datagen.PORTAL_LOGIN, 'password': datagen.PORTAL_PASSWORD, 'csrf_token': token},
        )
        if response.status_code not in (200, 303):
            raise RuntimeError(f"portal login answered {response.status_code}")

    def get(self, url):
        response = self.client.get(url, environ_base=self.environ)
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}")
        return response


def wl_portal_list(side, result, runs):
    """The portal's ticket list (first page) of the 50-ticket party, through HTTP."""
    portal = Portal(side.env.cr.dbname)
    if 'Portal request' not in portal.get(side.list_url).get_data(as_text=True):
        raise RuntimeError("the party's tickets are not listed")
    measure(result, side.env, lambda: portal.get(side.list_url), runs, count_http=True)


def wl_portal_ticket(side, result, runs):
    """A ticket page of the 50-ticket party on the portal, through HTTP."""
    env = side.env
    ticket = env[side.model].search(
        [('commercial_partner_id', '=', side.portal.partner_id.commercial_partner_id.id)], limit=1
    )
    portal = Portal(env.cr.dbname)
    measure(result, env, lambda: portal.get(side.ticket_url(ticket.id)), runs, count_http=True)


def list_specification(model):
    """The web client's specification of the default list view's fields."""
    arch = model.get_views([(False, 'list')])['views']['list']['arch']
    spec = {}
    for node in etree.fromstring(arch).iter('field'):
        name = node.get('name')
        field = model._fields.get(name)
        if not field:
            continue
        if field.type == 'many2one':
            spec[name] = {'fields': {'display_name': {}}}
        elif field.type in ('many2many', 'one2many'):
            spec[name] = {'fields': {'display_name': {}}} if field.type == 'many2many' else {}
        else:
            spec[name] = {}
    return spec


def wl_backend_list(side, result, runs):
    """The backend ticket list: web_search_read of 80 tickets as a team user (record rules),
    with the list view's field specification."""
    Ticket = side.env[side.model].with_user(side.team_user)
    spec = list_specification(Ticket)
    measure(result, side.env, lambda: Ticket.web_search_read([], spec, limit=80, count_limit=10001), runs)


def wl_group_user(side, result, runs):
    """web_read_group team x stage as a team user (record rules)."""
    Ticket = side.env[side.model].with_user(side.team_user)
    measure(result, side.env, lambda: Ticket.web_read_group([], ['team_id', 'stage_id'], ['__count']), runs)


def wl_group_manager(side, result, runs):
    """web_read_group team x stage as the manager."""
    Ticket = side.env[side.model].with_user(side.manager)
    measure(result, side.env, lambda: Ticket.web_read_group([], ['team_id', 'stage_id'], ['__count']), runs)


def wl_pivot(side, result, runs):
    """The analysis pivot team x month (cabinet.ticket.analysis formatted_read_group) as the manager."""
    if side.module != 'cabinet':
        raise NotApplicable("no analysis model")
    Analysis = side.env['cabinet.ticket.analysis'].with_user(side.manager)
    measure(
        result,
        side.env,
        lambda: Analysis.formatted_read_group([], ['team_id', 'create_date:month'], ['__count']),
        runs,
    )


class NotApplicable(Exception):
    pass


READ_WORKLOADS = [
    ('portal list', 'page', wl_portal_list),
    ('portal ticket page', 'page', wl_portal_ticket),
    ('backend list 80 (team user)', 'call', wl_backend_list),
    ('read_group team x stage (team user)', 'call', wl_group_user),
    ('read_group team x stage (manager)', 'call', wl_group_manager),
    ('analysis pivot team x month', 'call', wl_pivot),
]

# ------------------------------------------------------------------------------------------
# scheduled actions: each in a child process on its own copy
# ------------------------------------------------------------------------------------------

CRONS = {
    # name: (model, method, SQL preparing ``n`` candidates (%(n)s), SQL counting the candidates)
    'SLA update': (
        'cabinet.ticket',
        '_cron_update_sla',
        """UPDATE cabinet_ticket SET sla_next_check = now() at time zone 'UTC' + interval '30 days'
            WHERE sla_next_check IS NOT NULL;
           UPDATE cabinet_ticket SET sla_next_check = now() at time zone 'UTC' - interval '1 minute'
            WHERE id IN (SELECT id FROM cabinet_ticket WHERE NOT is_closed AND sla_policy_id IS NOT NULL
                          ORDER BY id LIMIT %(n)s)""",
        "SELECT count(*) FROM cabinet_ticket WHERE sla_next_check <= now() at time zone 'UTC'"
        " AND sla_policy_id IS NOT NULL",
    ),
    'reminders': (
        'cabinet.ticket',
        '_cron_send_reminders',
        """UPDATE cabinet_ticket SET reminder_date = NULL, deadline_reminder_date = current_date WHERE NOT is_closed;
           UPDATE cabinet_ticket SET reminder_date = current_date, reminder_sent_date = NULL
            WHERE id IN (SELECT id FROM cabinet_ticket WHERE NOT is_closed ORDER BY id LIMIT %(n)s)""",
        "SELECT count(*) FROM cabinet_ticket WHERE NOT is_closed AND reminder_date <= current_date"
        " AND reminder_sent_date IS NULL",
    ),
    'retention': (
        'cabinet.ticket',
        '_cron_apply_retention',
        """UPDATE cabinet_ticket SET retention_date = current_date + 3650 WHERE retention_date IS NOT NULL;
           UPDATE cabinet_ticket SET retention_date = current_date - 1
            WHERE id IN (SELECT id FROM cabinet_ticket WHERE is_closed AND NOT coalesce(legal_hold, false)
                          ORDER BY id LIMIT %(n)s)""",
        "SELECT count(*) FROM cabinet_ticket WHERE is_closed AND retention_date <= current_date"
        " AND NOT coalesce(legal_hold, false) AND NOT coalesce(anonymized, false)",
    ),
    'stale digest': (
        'cabinet.ticket',
        '_cron_stale_digest',
        """UPDATE cabinet_ticket SET create_date = now() at time zone 'UTC' WHERE NOT is_closed;
           CREATE TEMP TABLE stale AS SELECT id FROM cabinet_ticket WHERE NOT is_closed ORDER BY id LIMIT %(n)s;
           UPDATE cabinet_ticket SET create_date = create_date - interval '60 days' WHERE id IN (SELECT id FROM stale);
           UPDATE mail_message SET date = date - interval '60 days'
            WHERE model = 'cabinet.ticket' AND res_id IN (SELECT id FROM stale)""",
        "SELECT count(*) FROM stale",
    ),
    'mandate expiry': (
        'cabinet.mandate',
        '_cron_expire_mandates',
        """UPDATE cabinet_mandate SET date_end = current_date + 400;
           INSERT INTO cabinet_mandate (name, company_id, agent_id, principal_id, date_start, date_end, state,
                                        create_uid, write_uid, create_date, write_date)
           SELECT m.name, m.company_id, m.agent_id, p.id, m.date_start, current_date - 1, 'active',
                  m.create_uid, m.write_uid, m.create_date, m.write_date
             FROM (SELECT * FROM cabinet_mandate ORDER BY id LIMIT 1) m,
                  (SELECT id FROM res_partner WHERE is_company AND name LIKE 'Bench Party 0%%'
                    ORDER BY id OFFSET 100) p
            LIMIT %(n)s""",
        "SELECT count(*) FROM cabinet_mandate WHERE state = 'active' AND date_end < current_date",
    ),
    'recurring tasks': (
        'cabinet.recurring.task',
        '_cron_generate_tickets',
        """UPDATE cabinet_recurring_task SET next_date = current_date + 365, next_open_date = current_date + 300;
           INSERT INTO cabinet_recurring_task (name, active, company_id, team_id, partner_id, interval_number,
                                               interval_type, next_date, lead_days, next_open_date,
                                               create_uid, write_uid, create_date, write_date)
           SELECT t.name, true, t.company_id, t.team_id, c.id, 1, 'years', current_date + 7, 14, current_date - 7,
                  t.create_uid, t.write_uid, t.create_date, t.write_date
             FROM (SELECT * FROM cabinet_recurring_task ORDER BY id LIMIT 1) t,
                  (SELECT id FROM res_partner WHERE name LIKE 'Requester %%' ORDER BY id) c
            LIMIT %(n)s""",
        "SELECT count(*) FROM cabinet_recurring_task WHERE active AND next_open_date <= current_date",
    ),
    'close inactive': (
        'cabinet.ticket',
        '_cron_close_inactive',
        """UPDATE cabinet_team SET inactive_reminder_days = 5, inactive_close_days = 5;
           UPDATE cabinet_ticket SET stage_id = (SELECT res_id FROM ir_model_data
                                                  WHERE module = 'cabinet_helpdesk' AND name = 'cabinet_stage_new')
            WHERE NOT is_closed AND stage_id = (SELECT res_id FROM ir_model_data
                                                 WHERE module = 'cabinet_helpdesk' AND name = 'cabinet_stage_waiting');
           UPDATE cabinet_ticket SET stage_id = (SELECT res_id FROM ir_model_data
                                                  WHERE module = 'cabinet_helpdesk' AND name = 'cabinet_stage_waiting'),
                  waiting_since = now() at time zone 'UTC' - interval '30 days', inactive_reminder_date = NULL
            WHERE id IN (SELECT id FROM cabinet_ticket WHERE NOT is_closed ORDER BY id LIMIT %(n)s)""",
        "SELECT count(*) FROM cabinet_ticket WHERE waiting_since IS NOT NULL"
        " AND stage_id = (SELECT res_id FROM ir_model_data WHERE module = 'cabinet_helpdesk' AND name ="
        " 'cabinet_stage_waiting')",
    ),
}


def copy_db(source, target):
    sql_db.close_db(source)
    subprocess.run(['dropdb', '--if-exists', target], check=True, capture_output=True)
    subprocess.run(['createdb', '-T', source, target], check=True, capture_output=True)


def drop_db(name):
    sql_db.close_db(name)
    Registry.delete(name)
    subprocess.run(['dropdb', '--if-exists', name], check=True, capture_output=True)


def _status_kb(key):
    with open('/proc/self/status', encoding='ascii') as status:
        for line in status:
            if line.startswith(key + ':'):
                return int(line.split()[1])
    return 0


def start_peak():
    """Reset the process' peak resident memory (Linux: ``clear_refs`` 5) and return the current
    resident memory in kB; without /proc, the peak so far (ru_maxrss)."""
    try:
        with open('/proc/self/clear_refs', 'w', encoding='ascii') as clear:
            clear.write('5')
        return _status_kb('VmRSS')
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def peak_rss_kb():
    """Peak resident memory in kB since ``start_peak``."""
    try:
        return _status_kb('VmHWM')
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def cron_child(args):
    """In a child process on a throwaway copy: prepare the candidates, run the scheduled action,
    print its figures as JSON."""
    model, method, prepare, count = CRONS[args.cron]
    registry = Registry(args.database)
    with registry.cursor() as cr:
        cr.execute(prepare % {'n': int(args.candidates)})
        cr.execute(count)
        candidates = cr.fetchone()[0]
        cr.commit()
        env = api.Environment(cr, api.SUPERUSER_ID, {})
        env[model].search_count([])  # warm the registry
        env.invalidate_all()
        base = start_peak()
        queries = cr.sql_log_count
        start = time.perf_counter()
        getattr(env[model], method)()
        env.flush_all()
        cr.commit()
        elapsed = (time.perf_counter() - start) * 1000
        peak = peak_rss_kb()
    sys.stdout.write(
        json.dumps({'ms': elapsed, 'queries': cr.sql_log_count - queries, 'peak_kb': peak - base, 'n': candidates})
        + '\n'
    )


def run_cron(args, name, source, candidates):
    result = Result(f"cron: {name}", 'cabinet', args.big_size, 'candidate', candidates)
    copy = f"{source}_cron"
    try:
        copy_db(source, copy)
        command = [sys.executable, __file__, '--cron-child', '--cron', name, '--candidates', str(candidates)]
        command += ['--database', copy, '--addons-path', args.addons_path, '--data-dir', args.data_dir]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode:
            raise RuntimeError(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else 'failed')
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        result.n = figures['n']  # as many as the database holds, up to the number asked
        if not result.n:
            raise RuntimeError("no candidate in this database")
        result.ms, result.queries = figures['ms'], figures['queries'] / result.n
        result.peak_mb = figures['peak_kb'] / 1024
    except Exception as error:
        result.error = str(error)[:120]
    finally:
        subprocess.run(['dropdb', '--if-exists', copy], check=False, capture_output=True)
    return result


# ------------------------------------------------------------------------------------------
# driving and printing
# ------------------------------------------------------------------------------------------


def open_env(dbname):
    registry = Registry(dbname)
    cr = registry.cursor()
    env = api.Environment(cr, api.SUPERUSER_ID, {})
    return env


def run_guarded(result, func, *args):
    try:
        func(*args)
    except NotApplicable as reason:
        result.error = f"n/a ({reason})"
    except Exception as error:
        result.error = f"error: {type(error).__name__}: {str(error).splitlines()[0][:100] if str(error) else ''}"
    return result


def run_side(args, module, dbs, results, only):
    """All workloads of one module on its two databases."""
    sizes = SIZES[args.size]
    for size_label, dbname in dbs:
        # read-only workloads on the reference database
        env = open_env(dbname)
        try:
            side = SIDES[module](env)
            for label, unit, func in READ_WORKLOADS:
                if only and not any(o in label for o in only):
                    continue
                say(f"{module} {size_label}: {label}")
                result = Result(label, module, size_label, unit)
                results.append(run_guarded(result, func, side, result, args.runs))
                env.cr.rollback()
        finally:
            env.cr.rollback()
            env.cr.close()
        # writing workloads on a copy
        writing = [
            ('create ticket (ORM, one by one)', 'ticket', sizes['create'], wl_create),
            ('bulk create (tracking off)', 'ticket', sizes['bulk'], wl_bulk),
            ('email: new request with Cc', 'email', sizes['emails'], wl_email_new),
            ('email: reply', 'email', sizes['emails'], wl_email_reply),
        ]
        if args.size != 'small' and size_label == human(sizes['dbs'][1]):
            label = f"create ticket (ORM, one by one) x{human(10 * sizes['create'])}"
            writing.insert(1, (label, 'ticket', 10 * sizes['create'], wl_create))
        writing = [w for w in writing if not only or any(o in w[0] for o in only)]
        if not writing:
            continue
        copy = f"{dbname}_work"
        copy_db(dbname, copy)
        env = open_env(copy)
        state = {}
        try:
            side = SIDES[module](env)
            for label, unit, count, func in writing:
                say(f"{module} {size_label}: {label} x {count}")
                result = Result(label, module, size_label, unit, count)
                extra = (state,) if func in (wl_email_new, wl_email_reply) else ()
                results.append(run_guarded(result, func, side, result, args.runs, *extra))
                env.cr.commit()
        finally:
            env.cr.rollback()
            env.cr.close()
            drop_db(copy)


def fmt(value, digits=1):
    if value is None:
        return ''
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:,.{digits}f}"


def table(args, results, cron_results):
    """Markdown or plain table: cabinet, peer side by side, then the flatness verdicts."""
    peer = {(r.workload, r.size): r for r in results if r.module == 'peer'}
    cab = [r for r in results if r.module == 'cabinet']
    with_peer = bool(peer)
    head = ['workload', 'DB size', 'n', 'median ms', 'ms/unit', 'queries/unit', 'units/s', 'peak MB']
    if with_peer:
        head += ['peer ms/unit', 'peer queries/unit', 'peer peak MB', 'time cabinet/peer']
    rows = []
    for r in cab:
        row = [r.workload, r.size, f"{r.n:,} {r.unit}{'s' if r.n > 1 else ''}"]
        if r.error:
            row += [r.error, '', '', '', '']
        else:
            row += [fmt(r.ms), fmt(r.ms_per_unit, 2), fmt(r.queries), fmt(r.rate), fmt(r.peak_mb)]
        if with_peer:
            p = peer.get((r.workload, r.size))
            if p is None or p.error:
                row += [p.error if p else 'n/a', '', '', '']
            else:
                ratio = f"{r.ms / p.ms:.2f}" if r.ms and p.ms else ''
                row += [fmt(p.ms_per_unit, 2), fmt(p.queries), fmt(p.peak_mb), ratio]
        rows.append(row)
    for r in cron_results:
        row = [r.workload, r.size, f"{r.n:,} candidates"]
        if r.error:
            row += [f"error: {r.error}", '', '', '', '']
        else:
            row += [fmt(r.ms), fmt(r.ms_per_unit, 2), fmt(r.queries), fmt(r.rate), fmt(r.peak_mb)]
        if with_peer:
            row += ['n/a', '', '', '']
        rows.append(row)
    out = []
    if args.markdown:
        out.append('| ' + ' | '.join(head) + ' |')
        out.append('|' + '|'.join(['---'] + ['---:'] * (len(head) - 1)) + '|')
        out += ['| ' + ' | '.join(cell.replace('|', '/') for cell in row) + ' |' for row in rows]
    else:
        widths = [max(len(str(x)) for x in col) for col in zip(head, *rows, strict=False)]

        def line(cells):
            return '  '.join(
                f"{c:<{w}}" if i == 0 else f"{c:>{w}}" for i, (c, w) in enumerate(zip(cells, widths, strict=False))
            )

        out.append(line(head))
        out.append('-' * len(out[0]))
        out += [line(row) for row in rows]
    out.append('')
    out += flatness(args, results, cron_results)
    sys.stdout.write('\n'.join(out) + '\n')


def flatness(args, results, cron_results):
    """Verdicts: queries per unit at the small and big database sizes; cron memory at two
    numbers of candidates."""
    small, big = args.labels or [human(n) for n in SIZES[args.size]['dbs']]
    lines = [f"Queries per unit as the database grows ({small} -> {big} tickets):", '']
    bullet = '- ' if args.markdown else '  '
    for module in ('cabinet', 'peer'):
        by = {(r.workload, r.size): r for r in results if r.module == module and not r.error}
        for workload in dict.fromkeys(r.workload for r in results if r.module == module):
            a, b = by.get((workload, small)), by.get((workload, big))
            if not a or not b:
                continue
            grown = b.queries - a.queries
            verdict = 'flat' if abs(grown) <= max(1.0, 0.05 * a.queries) else f"grows by {grown:+.1f}"
            lines.append(f"{bullet}{module}: {workload}: {a.queries:.1f} -> {b.queries:.1f} ({verdict})")
    if cron_results:
        lines += [
            '',
            "Scheduled actions, peak memory growth and queries per candidate at two numbers of candidates:",
            '',
        ]
        by = {}
        for r in cron_results:
            by.setdefault(r.workload, []).append(r)
        for workload, pair in by.items():
            ok = [r for r in pair if not r.error]
            if len(ok) < 2:
                lines.append(f"{bullet}{workload}: not measured at two sizes")
                continue
            a, b = ok[0], ok[-1]
            ratio = b.n / a.n
            mem = (
                'flat'
                if b.peak_mb <= max(a.peak_mb * 2, a.peak_mb + 20)
                else f"grows ({a.peak_mb:.0f} -> {b.peak_mb:.0f} MB for {ratio:g}x candidates)"
            )
            lines.append(
                f"{bullet}{workload}: {a.n:,} -> {b.n:,} candidates: memory {mem} "
                f"({a.peak_mb:.1f} -> {b.peak_mb:.1f} MB), queries/candidate {a.queries:.1f} -> {b.queries:.1f}"
            )
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--addons-path', required=True)
    parser.add_argument('--data-dir', required=True)
    parser.add_argument('--size', choices=sorted(SIZES), default='small')
    parser.add_argument('--runs', type=int, default=3)
    parser.add_argument('--cabinet', nargs=2, metavar=('SMALL_DB', 'BIG_DB'))
    parser.add_argument('--peer', nargs=2, metavar=('SMALL_DB', 'BIG_DB'))
    parser.add_argument('--only', default='', help="comma-separated parts of workload names")
    parser.add_argument('--no-crons', action='store_true')
    parser.add_argument('--markdown', action='store_true')
    parser.add_argument('--labels', nargs=2, metavar=('SMALL', 'BIG'), help="size labels of the two databases")
    # child mode: one scheduled action on a copy
    parser.add_argument('--cron-child', action='store_true')
    parser.add_argument('--cron')
    parser.add_argument('--candidates')
    parser.add_argument('--database')
    args = parser.parse_args()
    databases = [db for pair in (args.cabinet or (), args.peer or ()) for db in pair] or [args.database]
    config.parse_config(
        [
            '-d',
            ','.join(databases),
            f'--addons-path={args.addons_path}',
            f'--data-dir={args.data_dir}',
            '--log-level=warn',
            '--max-cron-threads=0',
            '--http-interface=127.0.0.1',
        ],
        setup_logging=True,
    )
    if args.cron_child:
        cron_child(args)
        return
    sizes = SIZES[args.size]
    labels = args.labels or [human(n) for n in sizes['dbs']]
    args.big_size = labels[1]
    only = [o.strip() for o in args.only.split(',') if o.strip()]
    results, cron_results = [], []
    for module, pair in (('cabinet', args.cabinet), ('peer', args.peer)):
        if pair:
            run_side(args, module, list(zip(labels, pair, strict=True)), results, only)
    if args.cabinet and not args.no_crons:
        for name in CRONS:
            if only and not any(o in f"cron: {name}" for o in only):
                continue
            for candidates in sizes['crons']:
                say(f"cabinet {labels[1]}: cron {name}, {candidates:,} candidates")
                cron_results.append(run_cron(args, name, args.cabinet[1], candidates))
    table(args, results, cron_results)


if __name__ == '__main__':
    main()
