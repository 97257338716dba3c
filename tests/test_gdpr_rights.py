# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
import io
import json
import zipfile
from ast import literal_eval
from datetime import timedelta

from markupsafe import Markup

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, freeze_time, tagged
from odoo.tools import mute_logger

from .common import CabinetCommon, CabinetFactories


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestGdprRights(CabinetCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user_dpo = cls._create_dpo()
        cls.ticket_a = cls._create_ticket(
            cls.contact_a,
            name="Cracks in the north wall",
            category_id=cls.category_client.id,
            description="<p>Alice noticed cracks after the works.</p>",
        )
        cls.document_a = cls.env['ir.attachment'].create(
            {
                'name': "cracks.jpg",
                'raw': b"photo of the cracks",
                'res_model': 'cabinet.ticket',
                'res_id': cls.ticket_a.id,
            }
        )
        cls.ticket_a.message_post(
            body=Markup("<p>Here is a photo of the cracks.</p>"),
            author_id=cls.contact_a.id,
            message_type='email',
            subtype_xmlid='mail.mt_comment',
            attachment_ids=cls.document_a.ids,
        )
        cls.ticket_a.message_post(
            body=Markup("<p>CONFIDENTIAL-STAFF-NOTE: contractor at fault?</p>"),
            message_type='comment',
            subtype_xmlid='mail.mt_note',
        )
        cls.ticket_b = cls._create_ticket(cls.contact_b, name="SECRET-B-SUBJECT", team=cls.team_b)
        cls.ticket_b.message_post(
            body=Markup("<p>SECRET-B-MESSAGE</p>"),
            author_id=cls.contact_b.id,
            message_type='email',
            subtype_xmlid='mail.mt_comment',
        )

    def _read_zip(self, attachment):
        self.assertEqual(attachment.mimetype, 'application/zip')
        archive = zipfile.ZipFile(io.BytesIO(attachment.raw))
        return {name: archive.read(name) for name in archive.namelist()}

    def _close(self, tickets, when='2026-01-10 10:00:00'):
        with freeze_time(when):
            tickets.write({'stage_id': self.stage_done.id})

    # ------------------------------------------------------------
    # Access and portability
    # ------------------------------------------------------------

    def test_export_contains_only_own_party(self):
        attachment = self.contact_a.with_user(self.user_dpo)._cabinet_export_data()
        members = self._read_zip(attachment)
        data = json.loads(members['data.json'])
        self.assertEqual(data['party']['name'], "Party A Ltd")
        self.assertEqual(sorted(c['name'] for c in data['contacts']), ["Alan A", "Alice A"])
        self.assertEqual([t['number'] for t in data['tickets']], [self.ticket_a.number])
        ticket_data = data['tickets'][0]
        self.assertEqual(ticket_data['subject'], "Cracks in the north wall")
        self.assertIn("Here is a photo of the cracks.", [m['body'] for m in ticket_data['messages']])
        # a PDF, or an HTML page where no PDF can be made (test runs)
        dossier_names = {f'dossiers/{self.ticket_a.number}.{ext}' for ext in ('pdf', 'html')}
        self.assertTrue(dossier_names & members.keys())
        self.assertIn(f'attachments/{self.ticket_a.number}/{self.document_a.id}_cracks.jpg', members)
        self.assertEqual(
            members[f'attachments/{self.ticket_a.number}/{self.document_a.id}_cracks.jpg'], b"photo of the cracks"
        )
        everything = b"".join(members.values())
        for secret in (
            b"SECRET-B-SUBJECT",
            b"SECRET-B-MESSAGE",
            b"Bob B",
            b"bob@party-b.example",
            self.ticket_b.number.encode(),
        ):
            self.assertNotIn(secret, everything, "Nothing of another party goes into the export")
        self.assertNotIn(b"CONFIDENTIAL-STAFF-NOTE", everything, "Internal notes stay out of the export")

    def test_export_replaces_previous_and_is_logged(self):
        first = self.party_a.with_user(self.user_dpo)._cabinet_export_data()
        second = self.party_a.with_user(self.user_dpo)._cabinet_export_data()
        self.assertFalse(first.exists(), "Only the latest export of a party is kept")
        self.assertTrue(second.exists())
        self.assertTrue(self.party_a.message_ids.filtered(lambda m: "Personal data exported" in (m.body or '')))

    @mute_logger('odoo.addons.base.models.ir_attachment')
    def test_export_readable_only_by_its_requester(self):
        """The ZIP is not attached to the partner: colleagues who read the partner cannot open it."""
        attachment = self.party_a.with_user(self.user_dpo)._cabinet_export_data()
        attachment.sudo(False).with_user(self.user_dpo).check_access('read')
        for user in (self.user_a, self.user_manager, self.portal_a):
            with self.assertRaises(AccessError, msg=f"{user.login} may not open the DPO's export"):
                attachment.with_user(user).sudo(False).check_access('read')

    def test_old_exports_are_deleted(self):
        attachment = self.party_a.with_user(self.user_dpo)._cabinet_export_data()
        self.env['cabinet.ticket']._cron_apply_retention()
        self.assertTrue(attachment.exists(), "A fresh export waits to be downloaded")
        with freeze_time(fields.Datetime.now() + timedelta(days=8)):
            self.env['cabinet.ticket']._cron_apply_retention()
        self.assertFalse(attachment.exists(), "Exports are deleted after a week")

    def test_export_by_the_party_itself(self):
        """A portal user downloads their own party's data; never another party's."""
        attachment = self.portal_a.partner_id.commercial_partner_id.with_user(self.portal_a)._cabinet_export_data()
        data = json.loads(self._read_zip(attachment)['data.json'])
        self.assertEqual([t['number'] for t in data['tickets']], [self.ticket_a.number])
        with self.assertRaises(AccessError):
            self.party_b.with_user(self.portal_a)._cabinet_export_data()

    @mute_logger('odoo.addons.base.models.ir_rule', 'odoo.addons.base.models.ir_model')
    def test_export_and_erase_are_dpo_only(self):
        for user in (self.user_a, self.user_manager, self.user_employee):
            with self.assertRaises(AccessError, msg=f"{user.login} may not export a party's data"):
                self.party_a.with_user(user)._cabinet_export_data()
            with self.assertRaises(AccessError, msg=f"{user.login} may not erase a party's data"):
                self.contact_a.with_user(user)._cabinet_erase()
            with self.assertRaises(AccessError):
                self.env['res.partner.data.request'].with_user(user).create(
                    {'partner_id': self.contact_a.id, 'note': "Wants a copy"}
                ).action_record()
        self.assertFalse(self.ticket_a.anonymized)

    def test_dossier_report(self):
        html = (
            self.env['ir.actions.report']
            .with_user(self.user_a)
            ._render_qweb_html('cabinet_helpdesk.action_report_ticket_dossier', self.ticket_a.ids)[0]
            .decode()
        )
        self.assertIn("Cracks in the north wall", html)
        self.assertIn("Here is a photo of the cracks.", html)
        self.assertIn("cracks.jpg", html)
        self.assertNotIn("CONFIDENTIAL-STAFF-NOTE", html, "The dossier shows what the party can see")

    # ------------------------------------------------------------
    # Erasure
    # ------------------------------------------------------------

    def test_erase_refused_under_legal_hold(self):
        self._close(self.ticket_a)
        self.ticket_a.legal_hold = True
        with self.assertRaisesRegex(UserError, f"{self.ticket_a.number} .*legal hold"):
            self.contact_a.with_user(self.user_dpo)._cabinet_erase()
        self.assertFalse(self.ticket_a.anonymized)
        self.assertEqual(self.ticket_a.partner_id, self.contact_a)

    def test_erase_refused_while_kept_by_law(self):
        policy = self.env['cabinet.retention.policy'].create(
            {'name': "Accounting", 'period_months': 120, 'legal_reference': "Commercial Code L123-22"}
        )
        category = self.env['cabinet.category'].create(
            {'name': "Invoice question", 'legal_basis': 'legal_obligation', 'retention_policy_id': policy.id}
        )
        self.ticket_a.category_id = category
        self._close(self.ticket_a)
        with self.assertRaisesRegex(UserError, "2036-01-10.*L123-22"):
            self.contact_a.with_user(self.user_dpo)._cabinet_erase()
        self.assertFalse(self.ticket_a.anonymized)

    def test_erase_anonymizes_tickets_and_messages(self):
        self._close(self.ticket_a)
        self.contact_a.with_user(self.user_dpo)._cabinet_erase()
        anonymous = self.env.ref('cabinet_helpdesk.res_partner_anonymous')
        self.assertRecordValues(self.ticket_a, [{'anonymized': True, 'partner_id': anonymous.id}])
        self.assertFalse(self.env['mail.message'].search([('body', 'ilike', "photo of the cracks")]))
        self.assertFalse(self.env['mail.message'].search([('author_id', '=', self.contact_a.id)]))
        self.assertFalse(self.document_a.exists())
        log = self.env['cabinet.retention.log'].search([('ticket_number', '=', self.ticket_a.number)])
        self.assertRecordValues(log, [{'action': 'anonymize', 'reason': 'erasure', 'user_id': self.user_dpo.id}])
        self.assertFalse(self.ticket_b.anonymized, "Another party's tickets are untouched")
        self.assertIn("SECRET-B-MESSAGE", self.ticket_b.message_ids.mapped('body')[0])

    def test_erase_party_covers_its_contacts(self):
        self._close(self.ticket_a)
        self.party_a.with_user(self.user_dpo)._cabinet_erase()
        self.assertTrue(self.ticket_a.anonymized)

    # ------------------------------------------------------------
    # Requests and privacy lookup
    # ------------------------------------------------------------

    def test_record_data_subject_request(self):
        wizard = (
            self.env['res.partner.data.request']
            .with_user(self.user_dpo)
            .create(
                {
                    'partner_id': self.contact_a.id,
                    'request_type': 'rectification',
                    'request_date': '2026-03-02',
                    'note': "Her new address is 3 Rue Neuve",
                    'ticket_id': self.ticket_a.id,
                }
            )
        )
        self.assertEqual(str(wizard.date_due), '2026-04-02')
        wizard.action_record()
        note = self.contact_a.message_ids.filtered(lambda m: "3 Rue Neuve" in (m.body or ''))
        self.assertEqual(len(note), 1)
        self.assertIn("Rectification", note.body)
        self.assertTrue(note.subtype_id.internal)
        ticket_note = self.ticket_a.message_ids.filtered(lambda m: "3 Rue Neuve" in (m.body or ''))
        self.assertTrue(ticket_note.subtype_id.internal, "Recorded on the ticket as an internal note")
        activity = self.contact_a.activity_ids
        self.assertRecordValues(activity, [{'user_id': self.user_dpo.id}])
        self.assertEqual(str(activity.date_deadline), '2026-04-02')

    def test_privacy_lookup_finds_tickets_and_messages(self):
        staff_answer = self.ticket_a.with_user(self.user_a).message_post(
            body=Markup("<p>We send an engineer.</p>"), message_type='comment', subtype_xmlid='mail.mt_comment'
        )
        wizard = self.env['privacy.lookup.wizard'].create({'name': "Alice A", 'email': 'alice@party-a.example'})
        wizard.action_lookup()
        found = {(line.res_model, line.res_id) for line in wizard.line_ids}
        self.assertIn(('cabinet.ticket', self.ticket_a.id), found)
        self.assertIn(('mail.message', staff_answer.id), found, "Staff answers on the person's ticket are found")
        self.assertIn(('ir.attachment', self.document_a.id), found)
        self.assertNotIn(('cabinet.ticket', self.ticket_b.id), found)
        self.assertFalse(
            [
                line
                for line in wizard.line_ids
                if line.res_model == 'mail.message' and line.res_id in self.ticket_b.message_ids.ids
            ]
        )


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestGdprExportDownload(CabinetFactories, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_cabinet_data()
        cls.user_dpo = cls._create_dpo()
        cls.ticket_a = cls._create_ticket(cls.contact_a, name="Cracks in the north wall")

    def test_dpo_button_downloads_the_export(self):
        action = self.contact_a.with_user(self.user_dpo).action_cabinet_export_data()
        self.assertEqual(action['type'], 'ir.actions.act_url')
        self.authenticate('cab_dpo', 'cab_dpox')
        response = self.url_open(action['url'])
        self.assertEqual(response.status_code, 200)
        with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
            data = json.loads(archive.read('data.json'))
        self.assertEqual([t['subject'] for t in data['tickets']], ["Cracks in the north wall"])

        # a colleague who reads the partner cannot fetch the same file by its id
        self.authenticate('cab_user', 'cab_user')
        with mute_logger('odoo.http', 'odoo.addons.base.models.ir_attachment'):
            response = self.url_open(action['url'], allow_redirects=False)
        self.assertIn(response.status_code, (403, 404))
        self.assertNotIn(b"Cracks in the north wall", response.content)


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestDataProtectionMenu(CabinetCommon):
    def test_dpo_reaches_every_task_from_the_menu(self):
        """Data Protection gathers the DPO's tasks; helpdesk users do not see it."""
        dpo = self._create_dpo()
        Menu = self.env['ir.ui.menu']
        entries = {
            'res_partner_menu_data_subjects',
            'cabinet_ticket_menu_legal_hold',
            'cabinet_retention_log_menu',
            'cabinet_category_menu_record_of_processing',
            'cabinet_analytics_log_menu',
        }
        menu_ids = {self.env.ref(f'cabinet_helpdesk.{xmlid}').id for xmlid in entries}
        self.assertLessEqual(menu_ids, Menu.with_user(dpo)._visible_menu_ids(), "The DPO sees every entry")
        root = self.env.ref('cabinet_helpdesk.cabinet_helpdesk_menu_gdpr')
        self.assertIn(root.id, Menu.with_user(dpo)._visible_menu_ids())
        self.assertNotIn(root.id, Menu.with_user(self.user_a)._visible_menu_ids(), "A helpdesk user does not see it")
        ticket = self._create_ticket(self.contact_a)
        action = self.env.ref('cabinet_helpdesk.res_partner_action_data_subjects')
        subjects = self.env['res.partner'].with_user(dpo).search(literal_eval(action.domain))
        self.assertIn(ticket.partner_id, subjects, "Requesters are listed as data subjects")
