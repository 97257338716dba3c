# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
"""Performance figures of cabinet_helpdesk on a throwaway database (see tools/benchmark.sh).

Creates a team with working hours and service levels, a helpdesk user and N tickets, then
times the hot paths and prints a plain table: milliseconds and SQL queries.
"""

import argparse
import sys
import time
from contextlib import contextmanager
from datetime import timedelta

from werkzeug.test import Client

from odoo import api, fields, http, sql_db
from odoo.fields import Command
from odoo.modules.registry import Registry
from odoo.tools import config

RAW_EMAIL = """Return-Path: <{email}>
From: Jane Client <{email}>
To: {to}
Subject: Question about my building permit
Date: Tue, 10 Mar 2026 10:00:00 +0100
Message-ID: <bench-{n}@client.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Hello, when will the permit be filed? Regards, Jane
"""


class Bench:
    def __init__(self, env):
        self.env = env
        self.rows = []

    @contextmanager
    def measure(self, label, count=1, unit="op"):
        cr = self.env.cr
        self.env.flush_all()
        queries = cr.sql_log_count
        start = time.perf_counter()
        yield
        self.env.flush_all()
        elapsed = (time.perf_counter() - start) * 1000
        queries = cr.sql_log_count - queries
        self.rows.append((label, count, unit, elapsed, elapsed / count, queries / count))

    def print(self):
        header = f"{'measure':<44} {'n':>6} {'total ms':>10} {'ms/unit':>9} {'queries/unit':>13}  unit"
        lines = [header, '-' * len(header)] + [
            f"{label:<44} {count:>6} {total:>10.1f} {per_unit:>9.2f} {queries:>13.1f}  {unit}"
            for label, count, unit, total, per_unit, queries in self.rows
        ]
        # the table is the output of this command-line tool
        sys.stdout.write('\n'.join(lines) + '\n')


def commit(env):
    env.flush_all()
    env.cr.commit()


def run(env, count):
    bench = Bench(env)
    Ticket = env['cabinet.ticket']
    user = env['res.users'].create(
        {
            'name': "Bench User",
            'login': 'bench_user',
            'email': 'bench@firm.example',
            'group_ids': [Command.set([env.ref('cabinet_helpdesk.group_cabinet_user').id])],
        }
    )
    team = env['cabinet.team'].create(
        {
            'name': "Bench Team",
            'member_ids': [Command.set(user.ids)],
            'leader_id': user.id,
            'alias_name': 'bench-requests',
        }
    )
    env['cabinet.sla.policy'].create(
        [
            {'name': "Bench standard", 'team_id': team.id, 'priority': '0', 'response_hours': 8, 'resolve_hours': 40},
            {'name': "Bench urgent", 'team_id': team.id, 'priority': '2', 'response_hours': 2, 'resolve_hours': 16},
        ]
    )
    parties = env['res.partner'].create(
        [{'name': f"Bench Party {i}", 'is_company': True, 'email': f'party{i}@client.example'} for i in range(50)]
    )
    commit(env)

    # 1. ticket creation, by a helpdesk user, in batches of 100 (record rules, numbering, SLA)
    user_env = env(user=user)
    created = Ticket
    with bench.measure("ticket create (batches of 100)", count, "ticket"):
        for start in range(0, count, 100):
            created |= user_env['cabinet.ticket'].create(
                [
                    {
                        'name': f"Bench ticket {i}",
                        'partner_id': parties[i % len(parties)].id,
                        'team_id': team.id,
                        'priority': str(i % 4),
                        'reminder_date': fields.Date.today() if i % 10 == 0 else False,
                        'date_deadline': fields.Date.today() + timedelta(days=i % 7),
                    }
                    for i in range(start, min(start + 100, count))
                ]
            )
    commit(env)
    created = Ticket.browse(created.ids)

    # 2. the list view: 80 tickets read as the helpdesk user
    user_env.invalidate_all()
    specification = {
        field: {}
        for field in (
            'priority',
            'number',
            'name',
            'category_id',
            'date_deadline',
            'sla_status',
            'channel',
            'create_date',
            'is_closed',
        )
    } | {field: {'fields': {'display_name': {}}} for field in ('partner_id', 'team_id', 'user_id', 'stage_id')}
    with bench.measure("ticket list: web_search_read of 80", 1, "page"):
        user_env['cabinet.ticket'].web_search_read(
            [('is_closed', '=', False)], specification, limit=80, count_limit=10001
        )
    commit(env)

    # 3. service level cron: every ticket due for a status check; then 10% breached and escalated
    env.cr.execute("UPDATE cabinet_ticket SET sla_next_check = now() at time zone 'UTC' - interval '1 minute'")
    env.invalidate_all()
    with bench.measure("SLA cron: status refresh", count // 100, "100 tickets"):
        Ticket._cron_update_sla()
    breached = created[::10]
    env.cr.execute(
        "UPDATE cabinet_ticket SET create_date = create_date - interval '30 days' WHERE id = ANY(%s)", [breached.ids]
    )
    env.invalidate_all()
    for name in ('sla_response_deadline', 'sla_resolve_deadline'):
        env.add_to_compute(Ticket._fields[name], breached)
    breached.flush_recordset()
    env.cr.execute(
        "UPDATE cabinet_ticket SET sla_next_check = now() at time zone 'UTC' - interval '1 minute' WHERE id = ANY(%s)",
        [breached.ids],
    )
    env.invalidate_all()
    commit(env)
    escalate_count = max(len(breached) // 100, 1)
    with bench.measure("SLA cron: escalation of 10% breached", escalate_count, "100 tickets"):
        Ticket._cron_update_sla()
    commit(env)

    # 4. reminders cron: reminder dates of today (10%) and deadlines within 2 days
    due = Ticket.search_count([('reminder_date', '<=', fields.Date.today()), ('reminder_sent_date', '=', False)])
    due += Ticket.search_count(
        [('date_deadline', '<=', fields.Date.today() + timedelta(days=2)), ('deadline_reminder_date', '=', False)]
    )
    with bench.measure("reminders cron", max(due, 1), "reminder"):
        Ticket._cron_send_reminders()
    commit(env)

    # 5. stale digest cron (tickets made stale by hand)
    env.cr.execute("UPDATE mail_message SET date = date - interval '30 days' WHERE model = 'cabinet.ticket'")
    env.cr.execute("UPDATE cabinet_ticket SET create_date = create_date - interval '30 days'")
    env.invalidate_all()
    with bench.measure("stale digest cron (one team)", 1, "team"):
        Ticket._cron_stale_digest()
    commit(env)

    # 6. email ingestion: one new request through the team's alias
    alias_email = team.alias_id.display_name if team.alias_id else False
    if alias_email and '@' in alias_email:
        to = alias_email
        with bench.measure("email ingestion: one new ticket", 1, "email"):
            env['mail.thread'].message_process(False, RAW_EMAIL.format(email='jane@client.example', to=to, n=1))
        commit(env)
    else:
        with bench.measure("email ingestion: one new ticket (model route)", 1, "email"):
            env['mail.thread'].message_process(
                'cabinet.ticket',
                RAW_EMAIL.format(email='jane@client.example', to='requests@firm.example', n=1),
                custom_values={'team_id': team.id},
            )
        commit(env)
    # 7. portal list route, through the WSGI application, as a client of the busiest party
    measure_portal(env, bench, parties[0])
    bench.print()


def measure_portal(env, bench, party):
    portal = env['res.users'].create(
        {
            'name': "Bench Portal",
            'login': 'bench_portal',
            'password': 'bench-portal-pw',
            'email': 'portal@client.example',
            'group_ids': [Command.set([env.ref('base.group_portal').id])],
        }
    )
    portal.partner_id.parent_id = party
    commit(env)
    client = Client(http.root)
    environ = {'REMOTE_ADDR': '127.0.0.1'}
    page = client.get('/web/login', environ_base=environ).get_data(as_text=True)
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    client.post(
        '/web/login',
        environ_base=environ,
        data={'login': 'bench_portal', 'password': 'bench-portal-pw', 'csrf_token': token},
    )
    response = client.get('/my/tickets', environ_base=environ)  # warm-up (templates, caches)
    if response.status_code != 200:
        sys.stdout.write(f"portal list route: answered {response.status_code}, not measured\n")
        return
    queries = sql_db.sql_counter
    start = time.perf_counter()
    client.get('/my/tickets', environ_base=environ)
    elapsed = (time.perf_counter() - start) * 1000
    bench.rows.append(("portal: /my/tickets (first page)", 1, "page", elapsed, elapsed, sql_db.sql_counter - queries))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--database', required=True)
    parser.add_argument('--addons-path', required=True)
    parser.add_argument('--data-dir', required=True)
    parser.add_argument('--tickets', type=int, default=2000)
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
        env = env(context=env['res.users'].context_get() | {'mail_create_nolog': False, 'tracking_disable': False})
        run(env, args.tickets)


if __name__ == '__main__':
    main()
