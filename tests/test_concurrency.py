# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
import uuid
from contextlib import contextmanager
from datetime import date, timedelta
from unittest.mock import patch

import psycopg2

from odoo import SUPERUSER_ID, api, fields
from odoo.exceptions import UserError
from odoo.fields import Command
from odoo.modules.registry import Registry
from odoo.tests import BaseCase, tagged
from odoo.tests.common import get_db_name
from odoo.tools import SQL

from .common import MAIL_TEMPLATE_PLAIN

# how long the second run waits for a row the first one holds before giving up (a run that
# waited for ever would hang the test instead of failing it)
LOCK_TIMEOUT = '3s'


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestConcurrentRuns(BaseCase):
    """Two runs of each scheduled action at once, and two deliveries of the same email at once,
    process each record once.

    The runs use their own cursors and commit, as two cron workers (or two mail gateways) do:
    the second run starts while the first holds its first batch (locked, not committed yet) and
    ends before the first commits it; then the first one goes on. Everything the tests create
    is deleted afterwards.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.registry = Registry(get_db_name())

    def setUp(self):
        super().setUp()
        self.mark = f"Concurrency {uuid.uuid4().hex[:8]}"
        self.created = []  # (model, ids) to delete, in order
        self.numbers = {}  # ticket numbers by created ids: the retention log names tickets by number
        self.addCleanup(self._delete_created)
        with self._cursor() as env:
            self.party = env['res.partner'].create({'name': f"{self.mark} Party", 'is_company': True})
            self.contact = env['res.partner'].create(
                {
                    'name': f"{self.mark} Contact",
                    'parent_id': self.party.id,
                    'email': f'{uuid.uuid4().hex}@party.example',
                }
            )
            admin = env.ref('base.user_admin')
            self.team = env['cabinet.team'].create(
                {'name': f"{self.mark} Team", 'leader_id': admin.id, 'member_ids': [Command.set(admin.ids)]}
            )
            self.created += [('res.partner', (self.contact | self.party).ids), ('cabinet.team', self.team.ids)]
            self.contact_email = self.contact.email

    # ------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------

    @contextmanager
    def _cursor(self):
        """A superuser environment on a cursor of its own, committed at the end."""
        with self.registry.cursor() as cr:
            yield api.Environment(cr, SUPERUSER_ID, {})

    def _delete_created(self):
        with self._cursor() as env:
            for model, ids in reversed(self.created):
                records = env[model].with_context(active_test=False).browse(ids).exists()
                if model == 'cabinet.ticket':
                    numbers = self.numbers.get(tuple(ids), [])
                    env['cabinet.retention.log'].search([('ticket_number', 'in', numbers)]).unlink()
                    try:
                        with env.cr.savepoint():
                            records.unlink()
                    except UserError:
                        # a ticket its rules keep (e.g. closed ones): removed with what hangs on it
                        records.message_unsubscribe(records.message_partner_ids.ids)
                        records.activity_ids.unlink()
                        records.message_ids.unlink()
                        env.cr.execute(SQL("DELETE FROM cabinet_ticket WHERE id IN %s", tuple(records.ids)))
                    continue
                records.unlink()

    def _tickets(self, count, **values):
        with self._cursor() as env:
            tickets = env['cabinet.ticket'].create(
                [
                    {
                        'name': f"{self.mark} ticket {index}",
                        'partner_id': self.contact.id,
                        'team_id': self.team.id,
                        'user_id': env.ref('base.user_admin').id,
                        **values,
                    }
                    for index in range(count)
                ]
            )
            self.created.append(('cabinet.ticket', tickets.ids))
            self.numbers[tuple(tickets.ids)] = tickets.mapped('number')
            return tickets.ids

    def _run_twice(self, model, method, **kwargs):
        """Run ``model.method(**kwargs)`` on a cursor; at its first batch (before committing it),
        run it again, whole, on another cursor. A run may fail on a serialization error (both
        touched a shared row, e.g. the party of the tickets): its batch is rolled back, as the
        cron runner does, and it runs again at the next trigger, here right after. Return
        whether a run failed so."""
        IrCron = self.registry['ir.cron']
        commit_progress = IrCron._commit_progress
        second = []
        failures = []

        def interleaved(cron, processed=0, *, remaining=None, deactivate=False):
            if not second:
                second.append(True)
                with self._cursor() as env:
                    env.cr.execute(SQL("SET lock_timeout = %s", LOCK_TIMEOUT))
                    try:
                        getattr(env[model], method)(**kwargs)
                    except psycopg2.errors.SerializationFailure as error:
                        failures.append(error)
                    finally:
                        env.cr.rollback()  # what the run did not commit is lost, as in a failed job
                        env.cr.execute(SQL("RESET lock_timeout"))
            return commit_progress(cron, processed, remaining=remaining, deactivate=deactivate)

        with patch.object(IrCron, '_commit_progress', interleaved), self._cursor() as env:
            try:
                getattr(env[model], method)(**kwargs)
            except psycopg2.errors.SerializationFailure as error:
                failures.append(error)
                env.cr.rollback()
        self.assertTrue(second, "the second run started while the first one held its first batch")
        if failures:
            # the next trigger of the scheduled action
            with self._cursor() as env:
                getattr(env[model], method)(**kwargs)
        return bool(failures)

    def _deliver_twice_at_once(self, email, values):
        """Deliver ``email`` on a cursor and, before that delivery commits, again on another one
        (which waits for the first at most ``LOCK_TIMEOUT``). Return the errors of the second."""
        errors = []
        with self._cursor() as env_a:
            env_a['mail.thread'].message_process('cabinet.ticket', email, custom_values=values)
            with self._cursor() as env_b:
                env_b.cr.execute(SQL("SET lock_timeout = %s", LOCK_TIMEOUT))
                try:
                    env_b['mail.thread'].message_process('cabinet.ticket', email, custom_values=values)
                except Exception as error:
                    errors.append(error)
                    env_b.cr.rollback()
                finally:
                    env_b.cr.execute(SQL("RESET lock_timeout"))
        return errors

    def _count(self, model, domain):
        with self._cursor() as env:
            return env[model].with_context(active_test=False).search_count(domain)

    def _read(self, model, ids, fnames):
        with self._cursor() as env:
            return env[model].with_context(active_test=False).browse(ids).read(fnames)

    # ------------------------------------------------------------
    # Scheduled actions
    # ------------------------------------------------------------

    def test_send_reminders(self):
        ids = self._tickets(4, reminder_date=fields.Date.today() - timedelta(days=1))
        self._run_twice('cabinet.ticket', '_cron_send_reminders', batch_size=2)
        for ticket_id in ids:
            self.assertEqual(
                self._count('mail.activity', [('res_model', '=', 'cabinet.ticket'), ('res_id', '=', ticket_id)]),
                1,
                "one reminder per ticket",
            )

    def test_update_sla(self):
        with self._cursor() as env:
            policy = env['cabinet.sla.policy'].create(
                {'name': f"{self.mark} policy", 'team_id': self.team.id, 'response_hours': 1, 'resolve_hours': 2}
            )
            self.created.append(('cabinet.sla.policy', policy.ids))
        ids = self._tickets(4)
        with self._cursor() as env:
            # filed long ago: both deadlines are missed, the status is due for a check
            past = fields.Datetime.now() - timedelta(days=30)
            env.cr.execute(
                SQL(
                    """UPDATE cabinet_ticket SET sla_response_deadline = %s, sla_resolve_deadline = %s,
                              sla_next_check = %s, sla_status = 'ok' WHERE id IN %s""",
                    past,
                    past,
                    past,
                    tuple(ids),
                )
            )
        self._run_twice('cabinet.ticket', '_cron_update_sla', batch_size=2)
        for values in self._read('cabinet.ticket', ids, ['escalation_level', 'priority']):
            self.assertEqual(values['escalation_level'], 2, "each missed deadline escalated once")
            self.assertEqual(values['priority'], '2', "the priority raised once per deadline")

    def test_stale_digest(self):
        self._tickets(2)
        with self._cursor() as env:
            env.cr.execute(
                SQL(
                    "UPDATE cabinet_ticket SET write_date = %s WHERE team_id = %s",
                    fields.Datetime.now() - timedelta(days=60),
                    self.team.id,
                )
            )
            teams = env['cabinet.team'].search([('leader_id', '!=', False)])
            # only this test's team is due today
            before = {team.id: team.last_stale_digest_date for team in teams}
            (teams - self.team).last_stale_digest_date = fields.Date.today()
        try:
            self._run_twice('cabinet.team', '_cron_stale_digest', batch_size=1)
            digests = self._count(
                'mail.mail', [('model', '=', 'cabinet.team'), ('res_id', '=', self.team.id)]
            ) or self._count('mail.message', [('model', '=', 'cabinet.team'), ('res_id', '=', self.team.id)])
            self.assertEqual(digests, 1, "one digest for the team")
        finally:
            with self._cursor() as env:
                for team in env['cabinet.team'].browse(list(before)).exists() - env['cabinet.team'].browse(
                    self.team.id
                ):
                    team.last_stale_digest_date = before[team.id]

    def test_apply_retention(self):
        with self._cursor() as env:
            done = env.ref('cabinet_helpdesk.cabinet_stage_done')
        ids = self._tickets(4, stage_id=done.id)
        with self._cursor() as env:
            env.cr.execute(
                SQL(
                    "UPDATE cabinet_ticket SET retention_date = %s WHERE id IN %s",
                    fields.Date.today() - timedelta(days=1),
                    tuple(ids),
                )
            )
        self._run_twice('cabinet.ticket', '_cron_apply_retention', batch_size=2)
        for number in self.numbers[tuple(ids)]:
            self.assertEqual(
                self._count('cabinet.retention.log', [('ticket_number', '=', number)]),
                1,
                "one retention action per ticket",
            )

    def test_expire_mandates(self):
        with self._cursor() as env:
            agent = env['res.partner'].create({'name': f"{self.mark} Agent", 'is_company': True, 'party_type': 'agent'})
            self.created.insert(0, ('res.partner', agent.ids))
            mandates = env['cabinet.mandate'].create(
                [
                    {
                        'agent_id': agent.id,
                        'principal_id': self.party.id,
                        'date_start': date.today() - timedelta(days=60),
                        'date_end': date.today() + timedelta(days=1),
                    }
                    for _index in range(4)
                ]
            )
            mandates.action_activate()
            env.cr.execute(
                SQL(
                    "UPDATE cabinet_mandate SET date_end = %s WHERE id IN %s",
                    date.today() - timedelta(days=1),
                    tuple(mandates.ids),
                )
            )
            self.created.append(('cabinet.mandate', mandates.ids))
        self._run_twice('cabinet.mandate', '_cron_expire_mandates', batch_size=2)
        for values in self._read('cabinet.mandate', mandates.ids, ['state']):
            self.assertEqual(values['state'], 'expired')
        with self._cursor() as env:
            changes = env['mail.tracking.value'].search_count(
                [
                    ('mail_message_id.model', '=', 'cabinet.mandate'),
                    ('mail_message_id.res_id', 'in', mandates.ids),
                    ('field_id.name', '=', 'state'),
                    ('new_value_char', '=', 'Expired'),
                ]
            )
        self.assertLessEqual(changes, len(mandates.ids), "each mandate expired once")

    def test_generate_recurring_tickets(self):
        with self._cursor() as env:
            tasks = env['cabinet.recurring.task'].create(
                [
                    {
                        'name': f"{self.mark} task {index}",
                        'team_id': self.team.id,
                        'partner_id': self.contact.id,
                        'interval_number': 1,
                        'interval_type': 'months',
                        'next_date': date.today() + timedelta(days=2),
                        'lead_days': 5,
                    }
                    for index in range(4)
                ]
            )
            self.created.append(('cabinet.recurring.task', tasks.ids))
        self._run_twice('cabinet.recurring.task', '_cron_generate_tickets', batch_size=2)
        with self._cursor() as env:
            generated = (
                env['cabinet.ticket'].with_context(active_test=False).search([('recurring_task_id', 'in', tasks.ids)])
            )
            self.created.append(('cabinet.ticket', generated.ids))
            counts = [
                len(generated.filtered(lambda ticket, task=task: ticket.recurring_task_id == task)) for task in tasks
            ]
        self.assertEqual(counts, [1] * len(tasks), "one ticket per task and due date")

    def test_close_inactive(self):
        with self._cursor() as env:
            waiting = env.ref('cabinet_helpdesk.cabinet_stage_waiting')
            env['cabinet.team'].browse(self.team.id).write({'inactive_reminder_days': 2, 'inactive_close_days': 3})
        ids = self._tickets(4, stage_id=waiting.id)
        with self._cursor() as env:
            env.cr.execute(
                SQL(
                    "UPDATE cabinet_ticket SET waiting_since = %s, inactive_reminder_date = NULL WHERE id IN %s",
                    fields.Datetime.now() - timedelta(days=10),
                    tuple(ids),
                )
            )
        self._run_twice('cabinet.ticket', '_cron_close_inactive', batch_size=2)
        for values in self._read('cabinet.ticket', ids, ['inactive_reminder_date', 'message_ids']):
            self.assertTrue(values['inactive_reminder_date'], "the party was reminded")
        with self._cursor() as env:
            for ticket in env['cabinet.ticket'].browse(ids):
                reminders = ticket.message_ids.filtered(
                    lambda message: message.message_type == 'comment' and message.date.date() == date.today()
                )
                self.assertEqual(len(reminders), 1, "one reminder per ticket")

    # ------------------------------------------------------------
    # Mail gateway
    # ------------------------------------------------------------

    def test_same_email_delivered_twice_at_once(self):
        """The same email (same Message-Id) reaching two gateways at once opens one ticket: the
        second delivery waits for the first, then fails and is delivered again later (the mail
        transfer agent or the incoming server retries), when it is recognised as known."""
        message_id = f'<{uuid.uuid4().hex}@party.example>'
        email = MAIL_TEMPLATE_PLAIN.format(
            return_path=self.contact_email,
            to=f'requests@{self.team.id}.firm.example',
            cc='',
            email_from=self.contact_email,
            subject=f"{self.mark} email",
            date='Fri, 10 Aug 2012 14:16:26 +0000',
            msg_id=message_id,
            extra='',
        )
        values = {'team_id': self.team.id}
        errors = self._deliver_twice_at_once(email, values)
        self.assertTrue(errors, "the second delivery did not open a second ticket: it failed")
        # delivered again later, as the mail transfer agent does after a failure
        with self._cursor() as env:
            env['mail.thread'].message_process('cabinet.ticket', email, custom_values=values)
            tickets = (
                env['cabinet.ticket'].with_context(active_test=False).search([('name', '=', f"{self.mark} email")])
            )
            self.created.append(('cabinet.ticket', tickets.ids))
        self.assertEqual(len(tickets), 1, "one ticket for one email")
        self.assertEqual(self._count('mail.message', [('message_id', '=', message_id)]), 1)

    def test_same_reply_delivered_twice_at_once(self):
        """The same answer of the party (same Message-Id) reaching two gateways at once is posted
        once on its ticket: the second delivery waits for the first, then fails and is delivered
        again later, when it is recognised as known."""
        opening_id = f'<{uuid.uuid4().hex}@party.example>'
        reply_id = f'<{uuid.uuid4().hex}@party.example>'

        def email(message_id, subject, extra=''):
            return MAIL_TEMPLATE_PLAIN.format(
                return_path=self.contact_email,
                to=f'requests@{self.team.id}.firm.example',
                cc='',
                email_from=self.contact_email,
                subject=subject,
                date='Fri, 10 Aug 2012 14:16:26 +0000',
                msg_id=message_id,
                extra=extra,
            )

        values = {'team_id': self.team.id}
        with self._cursor() as env:
            env['mail.thread'].message_process('cabinet.ticket', email(opening_id, f"{self.mark} reply"), values)
            ticket = env['cabinet.ticket'].search([('name', '=', f"{self.mark} reply")])
            self.created.append(('cabinet.ticket', ticket.ids))
        self.assertEqual(len(ticket), 1)
        reply = email(reply_id, f"Re: {self.mark} reply", f'In-Reply-To: {opening_id}\nReferences: {opening_id}\n')
        errors = self._deliver_twice_at_once(reply, values)
        self.assertTrue(errors, "the second delivery did not post the answer again: it failed")
        # delivered again later, as the mail transfer agent does after a failure
        with self._cursor() as env:
            env['mail.thread'].message_process('cabinet.ticket', reply, custom_values=values)
        self.assertEqual(self._count('mail.message', [('message_id', '=', reply_id)]), 1, "one message, once")
        self.assertEqual(self._count('cabinet.ticket', [('name', 'like', f"{self.mark} reply")]), 1)
