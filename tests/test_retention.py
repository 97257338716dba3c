# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from unittest.mock import patch

from markupsafe import Markup

from odoo.exceptions import AccessError, UserError
from odoo.tests import freeze_time, tagged
from odoo.tools import mute_logger

from .common import CabinetCommon

PERSON_NAME = "Zacharie Quuxwell"
PERSON_EMAIL = "zacharie.quuxwell@quux-mail.example"


class CabinetRetentionCommon(CabinetCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user_dpo = cls._create_dpo()
        Policy = cls.env['cabinet.retention.policy']
        cls.policy_anonymize = Policy.create({'name': "Keep one year", 'period_months': 12, 'action': 'anonymize'})
        cls.policy_delete = Policy.create({'name': "Delete after a year", 'period_months': 12, 'action': 'delete'})
        Category = cls.env['cabinet.category']
        cls.category_anonymize = Category.create(
            {
                'name': "Project question",
                'team_id': cls.team_a.id,
                'retention_policy_id': cls.policy_anonymize.id,
            }
        )
        cls.category_delete = Category.create(
            {
                'name': "Printer jam",
                'team_id': cls.team_a.id,
                'retention_policy_id': cls.policy_delete.id,
            }
        )
        cls.person = cls._create_party(PERSON_NAME, party_type='individual', email=PERSON_EMAIL)

    @classmethod
    def _closed_ticket(cls, partner, category, closed_on='2020-01-15 10:00:00', **values):
        with freeze_time(closed_on):
            return cls._create_ticket(partner, category_id=category.id, stage_id=cls.stage_done.id, **values)

    @classmethod
    def _flush_tracking(cls):
        """Tracking values are written when the transaction ends: write them now."""
        cls.env.flush_all()
        cls.env.cr.precommit.run()

    def _run_retention(self, batch_size=100, stop_after=None):
        """Run the retention cron; ``_commit_progress`` is replaced (tests cannot commit) and
        answers "no time left" after ``stop_after`` batches."""
        calls = []

        def commit_progress(cron, processed=0, *, remaining=None, deactivate=False):
            calls.append((processed, remaining))
            return 0 if stop_after is not None and len(calls) >= stop_after else 1000

        with patch.object(self.registry['ir.cron'], '_commit_progress', autospec=True, side_effect=commit_progress):
            self.env['cabinet.ticket']._cron_apply_retention(batch_size=batch_size)
        return calls


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestRetention(CabinetRetentionCommon):
    def test_default_request_types_document_their_processing(self):
        """Default request types state purpose, data and retention; periods follow the law they cite."""
        for xmlid in ('client_request', 'deadline', 'it_incident', 'hr_request', 'admin_task'):
            category = self.env.ref(f'cabinet_helpdesk.cabinet_category_{xmlid}')
            self.assertTrue(category.purpose and category.data_categories and category.retention_policy_id, xmlid)
        building = self.env.ref('cabinet_helpdesk.cabinet_retention_policy_building')
        accounting = self.env.ref('cabinet_helpdesk.cabinet_retention_policy_accounting')
        it_policy = self.env.ref('cabinet_helpdesk.cabinet_retention_policy_it')
        self.assertEqual(building.period_months, 120, "Decennial liability: ten years")
        self.assertTrue(72 <= accounting.period_months <= 120, "Accounting records: six to ten years")
        self.assertLessEqual(it_policy.period_months, 12, "IT incidents are kept briefly")

    def test_retention_date_on_close(self):
        """The retention period starts when the ticket closes, and stops if it reopens."""
        ticket = self._create_ticket(self.person, category_id=self.category_anonymize.id)
        self.assertFalse(ticket.retention_date, "An open ticket has no retention date")
        with freeze_time('2024-03-10 09:00:00'):
            ticket.stage_id = self.stage_done
            self.assertEqual(str(ticket.retention_date), '2025-03-10')
        ticket.stage_id = self.stage_progress
        self.assertFalse(ticket.retention_date, "A reopened ticket is no longer counted down")
        no_policy = self.env['cabinet.category'].create({'name': "No policy", 'team_id': self.team_a.id})
        ticket.write({'category_id': no_policy.id, 'stage_id': self.stage_done.id})
        self.assertFalse(ticket.retention_date, "Without a retention policy nothing is planned")

    def test_anonymize_leaves_no_trace(self):
        ticket = self._create_ticket(
            self.contact_a,
            category_id=self.category_anonymize.id,
            name=f"Water leak at {PERSON_NAME}'s flat",
            description=f"<p>{PERSON_NAME} ({PERSON_EMAIL}) reports a leak.</p>",
        )
        # tracked changes: the requester and the subject
        self._flush_tracking()
        ticket.partner_id = self.person
        ticket.name = f"Leak at {PERSON_NAME}'s flat, second floor"
        self._flush_tracking()
        attachment = self.env['ir.attachment'].create(
            {
                'name': f"{PERSON_NAME} passport.pdf",
                'raw': f"Passport of {PERSON_NAME}".encode(),
                'res_model': 'cabinet.ticket',
                'res_id': ticket.id,
            }
        )
        ticket.message_post(
            body=Markup(f"<p>Hello, this is {PERSON_NAME}, call me at {PERSON_EMAIL}</p>"),
            subject=f"From {PERSON_NAME}",
            author_id=self.person.id,
            email_from=f'"{PERSON_NAME}" <{PERSON_EMAIL}>',
            message_type='email',
            subtype_xmlid='mail.mt_comment',
            attachment_ids=attachment.ids,
        )
        ticket.with_user(self.user_a).message_post(
            body=Markup(f"<p>Dear {PERSON_NAME}, we send a plumber.</p>"),
            message_type='comment',
            subtype_xmlid='mail.mt_comment',
            partner_ids=self.person.ids,
        )
        ticket.activity_schedule('mail.mail_activity_data_todo', summary=f"Call {PERSON_NAME}", user_id=self.user_a.id)
        with freeze_time('2020-01-15 10:00:00'):
            ticket.stage_id = self.stage_done
            self._flush_tracking()
        number, closed_date = ticket.number, ticket.closed_date
        self.assertTrue(
            self.env['mail.tracking.value'].search(
                [('mail_message_id.res_id', '=', ticket.id), ('old_value_char', 'ilike', PERSON_NAME)]
            ),
            "The subject history names the person before anonymization",
        )
        self.assertTrue(
            self.env['mail.tracking.value'].search(
                [('mail_message_id.res_id', '=', ticket.id), ('new_value_integer', '=', self.person.id)]
            )
        )

        self._run_retention()

        anonymous = self.env.ref('cabinet_helpdesk.res_partner_anonymous')
        self.assertRecordValues(
            ticket,
            [
                {
                    'anonymized': True,
                    'partner_id': anonymous.id,
                    'number': number,
                    'closed_date': closed_date,
                    'category_id': self.category_anonymize.id,
                    'team_id': self.team_a.id,
                    'stage_id': self.stage_done.id,
                    'description': False,
                }
            ],
        )
        self.assertNotIn(PERSON_NAME, ticket.name)
        for needle in (PERSON_NAME, PERSON_EMAIL, "Zacharie", "quux-mail"):
            self.assertFalse(
                self.env['cabinet.ticket']
                .with_context(active_test=False)
                .search(['|', ('name', 'ilike', needle), ('description', 'ilike', needle)]),
                needle,
            )
            self.assertFalse(
                self.env['mail.message'].search(
                    ['|', '|', ('body', 'ilike', needle), ('subject', 'ilike', needle), ('email_from', 'ilike', needle)]
                ),
                f"No message may keep {needle}",
            )
            self.assertFalse(
                self.env['mail.tracking.value'].search(
                    [
                        '|',
                        '|',
                        '|',
                        ('old_value_char', 'ilike', needle),
                        ('new_value_char', 'ilike', needle),
                        ('old_value_text', 'ilike', needle),
                        ('new_value_text', 'ilike', needle),
                    ]
                ),
                f"No tracking value may keep {needle}",
            )
            self.assertFalse(self.env['ir.attachment'].search([('name', 'ilike', needle)]), needle)
            self.assertFalse(self.env['mail.activity'].search([('summary', 'ilike', needle)]), needle)
        messages = self.env['mail.message'].search([('model', '=', 'cabinet.ticket'), ('res_id', '=', ticket.id)])
        self.assertTrue(messages, "Messages are kept (empty) for the statistics of the thread")
        self.assertFalse(messages.author_id - anonymous)
        self.assertFalse(messages.partner_ids)
        self.assertFalse(self.env['mail.notification'].search([('mail_message_id', 'in', messages.ids)]))
        self.assertFalse(
            self.env['ir.attachment'].search([('res_model', '=', 'cabinet.ticket'), ('res_id', '=', ticket.id)])
        )
        self.assertFalse(
            self.env['mail.followers'].search([('res_model', '=', 'cabinet.ticket'), ('res_id', '=', ticket.id)])
        )
        self.assertFalse(
            self.env['mail.tracking.value'].search(
                [
                    ('mail_message_id', 'in', messages.ids),
                    ('field_id.name', '=', 'partner_id'),
                    '|',
                    ('old_value_integer', '=', self.person.id),
                    ('new_value_integer', '=', self.person.id),
                ]
            )
        )
        self.assertTrue(
            self.env['mail.tracking.value'].search(
                [('mail_message_id', 'in', messages.ids), ('field_id.name', '=', 'stage_id')]
            ),
            "Stage history is kept for the statistics",
        )
        self.assertFalse(
            self.env['cabinet.ticket'].with_context(active_test=False).search([('partner_id', '=', self.person.id)])
        )
        self.assertTrue(self.person.exists(), "The partner record itself is left to the privacy lookup")

        log = self.env['cabinet.retention.log'].search([('ticket_number', '=', number)])
        self.assertRecordValues(
            log,
            [
                {
                    'action': 'anonymize',
                    'reason': 'retention',
                    'category_id': self.category_anonymize.id,
                    'policy_id': self.policy_anonymize.id,
                    'company_id': self.company.id,
                }
            ],
        )
        self.assertFalse(
            [
                name
                for name, field in log._fields.items()
                if field.type in ('many2one', 'many2many', 'one2many') and field.comodel_name == 'res.partner'
            ],
            "The audit trail keeps no partner",
        )

        # a second run finds nothing more to do
        self.assertFalse(self._run_retention())
        self.assertEqual(self.env['cabinet.retention.log'].search_count([('ticket_number', '=', number)]), 1)

    def test_delete_policy(self):
        ticket = self._closed_ticket(self.person, self.category_delete)
        ticket.message_post(body=Markup("<p>The printer is jammed</p>"), message_type='comment')
        number, ticket_id = ticket.number, ticket.id
        self._run_retention()
        self.assertFalse(ticket.exists())
        self.assertFalse(
            self.env['mail.message'].search([('model', '=', 'cabinet.ticket'), ('res_id', '=', ticket_id)])
        )
        self.assertRecordValues(
            self.env['cabinet.retention.log'].search([('ticket_number', '=', number)]),
            [
                {
                    'action': 'delete',
                    'reason': 'retention',
                    'policy_id': self.policy_delete.id,
                }
            ],
        )

    def test_only_due_tickets(self):
        """Open tickets, tickets still in their period and tickets under legal hold are left alone."""
        due = self._closed_ticket(self.person, self.category_anonymize)
        recent = self._closed_ticket(self.person, self.category_anonymize, closed_on='2025-11-01 10:00:00')
        still_open = self._create_ticket(self.person, category_id=self.category_anonymize.id)
        held = self._closed_ticket(self.person, self.category_delete)
        held.legal_hold = True
        with freeze_time('2026-10-31'):
            self._run_retention()
        self.assertTrue(due.anonymized)
        self.assertFalse((recent | still_open | held).filtered('anonymized'))
        self.assertTrue(held.exists(), "A ticket under legal hold is never deleted")
        self.assertEqual(held.partner_id, self.person)

        # once the hold is lifted, the next run deletes it
        held.sudo().legal_hold = False
        self._run_retention()
        self.assertFalse(held.exists())

    def test_resume_after_interruption(self):
        tickets = self.env['cabinet.ticket']
        for index in range(5):
            tickets |= self._closed_ticket(self.person, self.category_anonymize, name=f"Request {index}")
        numbers = tickets.sorted('id').mapped('number')
        Log = self.env['cabinet.retention.log']

        calls = self._run_retention(batch_size=2, stop_after=1)
        self.assertEqual(calls, [(2, 3)], "One batch of two, three left")
        self.assertEqual(tickets.sorted('id').mapped('anonymized'), [True, True, False, False, False])
        self.assertEqual(
            Log.search([('ticket_number', 'in', numbers)]).mapped('ticket_number'), list(reversed(numbers[:2]))
        )

        calls = self._run_retention(batch_size=2)
        self.assertEqual(calls, [(2, 1), (1, 0)])
        self.assertTrue(all(tickets.mapped('anonymized')))
        logs = Log.search([('ticket_number', 'in', numbers)])
        self.assertEqual(
            sorted(logs.mapped('ticket_number')),
            sorted(numbers),
            "Every ticket is processed exactly once across the two runs",
        )

    def test_scheduled_action(self):
        """The scheduled action runs the retention as the scheduler would, committing each batch."""
        due = self._closed_ticket(self.person, self.category_anonymize)
        to_delete = self._closed_ticket(self.person, self.category_delete)
        cron = self.env.ref('cabinet_helpdesk.ir_cron_retention')
        self.assertEqual(cron.code.strip(), "model._cron_apply_retention()")
        with self.enter_registry_test_mode():
            cron.method_direct_trigger()
        self.assertTrue(due.anonymized)
        self.assertFalse(to_delete.exists())

    @mute_logger('odoo.addons.cabinet_helpdesk.models.gdpr.cabinet_ticket')
    def test_failing_ticket_is_isolated(self):
        tickets = self.env['cabinet.ticket']
        for index in range(3):
            tickets |= self._closed_ticket(self.person, self.category_anonymize, name=f"Request {index}")
        broken = tickets[1]
        apply_retention = self.registry['cabinet.ticket']._apply_retention

        def failing_apply(records):
            if broken in records:
                raise ValueError("broken ticket")
            return apply_retention(records)

        with patch.object(
            self.registry['cabinet.ticket'], '_apply_retention', autospec=True, side_effect=failing_apply
        ):
            self._run_retention(batch_size=10)
        self.assertEqual(tickets.mapped('anonymized'), [True, False, True])
        self.assertFalse(
            self.env['cabinet.retention.log'].search([('ticket_number', '=', broken.number)]),
            "The failed ticket leaves no audit row: nothing happened to it",
        )

    def test_cron_batch_query_count(self):
        tickets = self.env['cabinet.ticket']
        for index in range(3):
            ticket = self._closed_ticket(self.person, self.category_anonymize, name=f"Request {index}")
            ticket.message_post(body=Markup("<p>Question</p>"), author_id=self.person.id, message_type='comment')
            tickets |= ticket
        self.env.flush_all()
        self.env.invalidate_all()
        # measured: export clean-up, then one batch of three tickets (their followers and the team's
        # notifications wiped too, a fixed number of queries per batch)
        with self.assertQueryCount(__system__=43):
            self._run_retention(batch_size=3, stop_after=1)
        self.assertTrue(all(tickets.mapped('anonymized')))


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestLegalHold(CabinetRetentionCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ticket = cls._create_ticket(cls.contact_a, category_id=cls.category_anonymize.id)
        cls._flush_tracking()

    @mute_logger('odoo.addons.base.models.ir_rule', 'odoo.addons.base.models.ir_model')
    def test_only_dpo_sets_legal_hold(self):
        for user in (self.user_a, self.user_manager):
            with self.assertRaises(AccessError, msg=f"{user.login} may not place a legal hold"):
                self.ticket.with_user(user).write({'legal_hold': True})
            with self.assertRaises(AccessError):
                self.env['cabinet.ticket.legal.hold'].with_user(user).create(
                    {'ticket_ids': self.ticket.ids, 'reason': "Dispute"}
                )
            with self.assertRaises(AccessError):
                self.env['cabinet.ticket'].with_user(user).create(
                    {
                        'name': "Held from the start",
                        'partner_id': self.contact_a.id,
                        'team_id': self.team_a.id,
                        'legal_hold': True,
                    }
                )
        self.assertFalse(self.ticket.legal_hold)
        # the data protection officer may, and the hold then protects the ticket from deletion
        held = (
            self.env['cabinet.ticket']
            .with_user(self.user_dpo)
            .create({'name': "Held from the start", 'partner_id': self.contact_a.id, 'legal_hold': True})
        )
        self.assertTrue(held.legal_hold)
        with self.assertRaises(UserError):
            held.with_user(self.user_manager).unlink()

    def test_dpo_wizard_places_and_lifts_hold(self):
        Wizard = self.env['cabinet.ticket.legal.hold'].with_user(self.user_dpo)
        action = self.ticket.with_user(self.user_dpo).action_open_legal_hold_wizard()
        wizard = Wizard.with_context(**action['context']).create({'reason': "Claim filed by the contractor"})
        self.assertEqual(wizard.legal_hold, 'place')
        wizard.action_apply()
        self._flush_tracking()
        self.assertTrue(self.ticket.legal_hold)
        tracking = self.env['mail.tracking.value'].search(
            [
                ('mail_message_id.model', '=', 'cabinet.ticket'),
                ('mail_message_id.res_id', '=', self.ticket.id),
                ('field_id.name', '=', 'legal_hold'),
                ('new_value_integer', '=', 1),
            ]
        )
        self.assertEqual(len(tracking), 1, "The hold is tracked")
        note = tracking.mail_message_id
        self.assertIn("Claim filed by the contractor", note.body, "The reason goes with the tracked change")
        self.assertTrue(note.subtype_id.internal, "The reason is an internal note, the party does not see it")
        self.assertEqual(note.author_id, self.user_dpo.partner_id)

        with self.assertRaises(UserError):
            self.ticket.with_user(self.user_manager).unlink()

        action = self.ticket.with_user(self.user_dpo).action_open_legal_hold_wizard()
        wizard = Wizard.with_context(**action['context']).create({'reason': "   "})
        self.assertEqual(wizard.legal_hold, 'lift')
        with self.assertRaises(UserError):
            wizard.action_apply()
        wizard.reason = "Settlement signed"
        wizard.action_apply()
        self.assertFalse(self.ticket.legal_hold)

    @mute_logger('odoo.addons.base.models.ir_rule')
    def test_dpo_cannot_hold_what_they_cannot_read(self):
        hr_ticket = self._create_ticket(self.user_a.partner_id, category_id=self.category_hr.id)
        with self.assertRaises(AccessError):
            self.env['cabinet.ticket.legal.hold'].with_user(self.user_dpo).create(
                {'ticket_ids': hr_ticket.ids, 'reason': "Dispute"}
            ).action_apply()
        self.assertFalse(hr_ticket.legal_hold)


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestAnonymizedLock(CabinetRetentionCommon):
    def test_anonymized_ticket_cannot_come_back(self):
        """Once anonymized, a ticket is neither reopened, edited nor answered: nothing personal returns."""
        ticket = self._closed_ticket(self.person, self.category_anonymize)
        other = self._closed_ticket(self.person, self.category_anonymize, closed_on='2026-01-15 10:00:00')
        self._run_retention()
        self.assertTrue(ticket.anonymized)
        self.assertFalse(other.anonymized, "A ticket still within its retention period is kept as is")
        ticket_as_user = ticket.with_user(self.user_a)
        for values in (
            {'stage_id': self.stage_progress.id},
            {'name': f"Back to {PERSON_NAME}"},
            {'partner_id': self.person.id},
        ):
            with self.assertRaises(UserError, msg=f"Anonymized tickets refuse {values}"):
                ticket_as_user.write(values)
        with self.assertRaises(UserError):
            ticket_as_user.message_post(body=f"Hello {PERSON_NAME}", message_type='comment')
        self.assertRecordValues(ticket, [{'is_closed': True, 'name': "Anonymized request"}])
        ticket_as_user.kanban_state = 'done'  # technical fields stay writable
        other.with_user(self.user_a).name = "Still the party's"
        self.assertEqual(other.name, "Still the party's", "The lock concerns anonymized tickets only")
