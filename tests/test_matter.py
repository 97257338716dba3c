# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
import base64
from datetime import datetime, timedelta

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.fields import Command
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tests.common import JsonRpcException
from odoo.tools import email_normalize, mute_logger

from odoo.addons.mail.tests.common import MailCommon

from .common import MAIL_TEMPLATE_PLAIN, CabinetFactories


class MatterFactories(CabinetFactories):
    """A matter of team A ("Villa Horizon", client party A) with tickets of three parties and
    one confidential HR ticket that team A may not read."""

    @classmethod
    def _setup_matter_data(cls):
        cls._setup_cabinet_data()
        cls.party_c = cls._create_party("Stabilis Engineers", party_type='company', email='office@stabilis.example')
        cls.contact_c = cls._create_party("Carl C", parent=cls.party_c, email='carl@stabilis.example')
        cls.hr_team = cls.category_hr.team_id
        cls.user_hr = new_test_user(
            cls.env, login='cab_hr', name="Hanna HR", groups='cabinet_helpdesk.group_cabinet_user'
        )
        cls.hr_team.member_ids = [Command.link(cls.user_hr.id)]
        cls.team_a.member_ids = [Command.link(cls.user_hr.id)]
        cls.matter = cls.env['cabinet.matter'].create(
            {
                'name': "Villa Horizon",
                'client_id': cls.party_a.id,
                'user_id': cls.user_a.id,
                'team_id': cls.team_a.id,
            }
        )
        cls.ticket_a1 = cls._create_ticket(cls.contact_a, name="Permit plans", matter_id=cls.matter.id)
        cls.ticket_a2 = cls._create_ticket(
            cls.contact_a,
            name="Kitchen windows",
            matter_id=cls.matter.id,
            date_deadline=fields.Date.today() - timedelta(days=3),
        )
        cls.ticket_b = cls._create_ticket(cls.contact_b, name="Boundary wall", matter_id=cls.matter.id)
        cls.ticket_c = cls._create_ticket(cls.contact_c, name="Beam calculation", matter_id=cls.matter.id)
        cls.ticket_hr = cls.env['cabinet.ticket'].create(
            {
                'name': "Overtime on the Villa Horizon site",
                'partner_id': cls.user_employee.partner_id.id,
                'category_id': cls.category_hr.id,
                'team_id': cls.team_a.id,
                'matter_id': cls.matter.id,
            }
        )
        cls.tickets = cls.ticket_a1 | cls.ticket_a2 | cls.ticket_b | cls.ticket_c


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestMatter(MatterFactories, MailCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_matter_data()

    def _attach(self, ticket, name):
        return self.env['ir.attachment'].create(
            {'name': name, 'raw': b'content', 'res_model': 'cabinet.ticket', 'res_id': ticket.id}
        )

    # ------------------------------------------------------------
    # Reference, lanes, counts, documents, timeline
    # ------------------------------------------------------------

    def test_reference_per_company_sequence(self):
        year = fields.Date.today().year
        self.assertRegex(self.matter.reference, rf'^M{year}-\d{{4}}$')
        other = self.env['cabinet.matter'].create({'name': "Other", 'team_id': self.team_a.id})
        self.assertNotEqual(other.reference, self.matter.reference)
        self.assertEqual(other.display_name, f"[{other.reference}] Other")
        other.with_user(self.user_a).write({'reference': 'M1999-0001'})
        self.assertNotEqual(other.reference, 'M1999-0001', "The reference is kept by the sequence")

    def test_lanes_and_counts(self):
        self.ticket_b.with_user(self.portal_b).message_post(body="Our surveyor comes on Monday", message_type='comment')
        matter = self.matter.with_user(self.user_a)
        lanes = {lane.partner_id: lane for lane in matter.lane_ids}
        self.assertEqual(set(lanes), {self.party_a, self.party_b, self.party_c}, "One lane per party")
        self.assertRecordValues(lanes[self.party_a], [{'ticket_count': 2, 'open_count': 2, 'overdue_count': 1}])
        self.assertRecordValues(lanes[self.party_b], [{'ticket_count': 1, 'open_count': 1, 'overdue_count': 0}])
        self.assertTrue(lanes[self.party_b].last_exchange_date, "The party's message is an exchange")
        self.assertFalse(lanes[self.party_c].last_exchange_date)
        self.assertRecordValues(matter, [{'ticket_count': 4, 'open_ticket_count': 4, 'party_count': 3}])
        self.assertEqual(matter.ticket_ids, self.tickets)
        # closing a ticket moves it out of the open count
        self.ticket_a2.with_user(self.user_a).action_close()
        self.env.invalidate_all()
        lane_a = matter.lane_ids.filtered(lambda lane: lane.partner_id == self.party_a)
        self.assertRecordValues(lane_a, [{'ticket_count': 2, 'open_count': 1, 'overdue_count': 0}])
        # the lane opens that party's tickets
        action = lane_a.action_open_tickets()
        self.assertEqual(
            self.env['cabinet.ticket'].with_user(self.user_a).search(action['domain']), self.ticket_a1 | self.ticket_a2
        )

    def test_confidential_ticket_hidden_in_lanes_counts_documents_timeline(self):
        self._attach(self.ticket_a1, 'plans.pdf')
        self.ticket_a1.message_post(body="Plans sent to the city", message_type='comment')
        self._attach(self.ticket_hr, 'medical_certificate.pdf')
        self.ticket_hr.message_post(body="Confidential HR note", message_type='comment', subtype_xmlid='mail.mt_note')
        hr_party = self.user_employee.partner_id.commercial_partner_id
        # team A's user, in a request of their own (fresh cache): the HR ticket is nowhere
        self.env.invalidate_all()
        matter = self.matter.with_user(self.user_a)
        self.assertNotIn(self.ticket_hr, matter.ticket_ids)
        self.assertNotIn(hr_party, matter.lane_ids.partner_id)
        self.assertEqual(matter.ticket_count, 4)
        self.assertEqual(matter.party_count, 3)
        self.assertEqual(matter.document_count, 1)
        documents = self.env['ir.attachment'].with_user(self.user_a).search(matter.action_view_documents()['domain'])
        self.assertEqual(documents.mapped('name'), ['plans.pdf'])
        self.assertRecordValues(
            documents, [{'cabinet_ticket_id': self.ticket_a1.id, 'cabinet_party_id': self.party_a.id}]
        )
        timeline = self.env['mail.message'].with_user(self.user_a).search(matter.action_view_timeline()['domain'])
        self.assertTrue(timeline)
        self.assertNotIn(self.ticket_hr.id, timeline.mapped('res_id'))
        self.assertFalse(
            self.env['cabinet.matter.lane'].with_user(self.user_a).search([('partner_id', '=', hr_party.id)])
        )
        # the form's read (web_read), even with the tickets in cache as read by the superuser
        self.env.invalidate_all()
        self.assertIn(self.ticket_hr, self.matter.sudo().ticket_ids)
        data = self.matter.with_user(self.user_a).web_read(
            {
                'ticket_ids': {'fields': {'number': {}}},
                'lane_ids': {'fields': {'partner_id': {}, 'ticket_count': {}}},
                'ticket_count': {},
                'document_count': {},
            }
        )[0]
        self.assertEqual({t['id'] for t in data['ticket_ids']}, set(self.tickets.ids))
        self.assertEqual(sum(lane['ticket_count'] for lane in data['lane_ids']), 4)
        self.assertEqual((data['ticket_count'], data['document_count']), (4, 1))
        # positive control: a member of the HR team (and of team A) sees it in the matter (another request)
        self.env.invalidate_all()
        matter_hr = self.matter.with_user(self.user_hr)
        self.assertIn(self.ticket_hr, matter_hr.ticket_ids)
        self.assertIn(hr_party, matter_hr.lane_ids.partner_id)
        self.assertEqual(matter_hr.ticket_count, 5)
        self.assertEqual(matter_hr.document_count, 2)
        # the dossier of the matter, printed by team A's user, does not name it either
        html, _type = (
            self.env['ir.actions.report']
            .with_user(self.user_a)
            ._render_qweb_html('cabinet_helpdesk.action_report_matter_dossier', self.matter.ids)
        )
        html = html.decode()
        self.assertIn(self.ticket_a1.number, html)
        self.assertIn("Party B Ltd", html)
        self.assertNotIn(self.ticket_hr.number, html)
        self.assertNotIn("Overtime", html)

    # ------------------------------------------------------------
    # Visibility
    # ------------------------------------------------------------

    @mute_logger('odoo.addons.base.models.ir_rule', 'odoo.addons.base.models.ir_model')
    def test_matter_rules_teams(self):
        Matter = self.env['cabinet.matter']
        self.assertEqual(Matter.with_user(self.user_a).search([('id', '=', self.matter.id)]), self.matter)
        self.assertEqual(Matter.with_user(self.user_manager).search([('id', '=', self.matter.id)]), self.matter)
        self.assertFalse(Matter.with_user(self.user_b).search([('id', '=', self.matter.id)]))
        with self.assertRaises(AccessError):
            self.matter.with_user(self.user_b).read(['name'])
        self.assertFalse(self.env['cabinet.matter.lane'].with_user(self.user_b).search([]))
        # nor may another team file its tickets into it
        ticket_team_b = self._create_ticket(self.contact_b, team=self.team_b, name="Other team")
        with self.assertRaises(AccessError):
            ticket_team_b.with_user(self.user_b).write({'matter_id': self.matter.id})
        # not through a default of the context either (applied after create's own checks)
        for user in (self.user_b, self.user_employee):
            with self.assertRaises(AccessError):
                self.env['cabinet.ticket'].with_user(user).with_context(default_matter_id=self.matter.id).create(
                    {'name': "Sneaked in", 'partner_id': user.partner_id.id, 'team_id': self.team_b.id}
                )
        # the responsible sees the matter even outside its team
        self.matter.user_id = self.user_b
        self.assertEqual(Matter.with_user(self.user_b).search([('id', '=', self.matter.id)]), self.matter)
        self.assertFalse(self.matter.with_user(self.user_b).ticket_ids, "Its tickets stay those of team A")

    @mute_logger('odoo.addons.base.models.ir_rule', 'odoo.addons.base.models.ir_model')
    def test_portal_and_requesters_never_read_matters(self):
        for user in (self.portal_a, self.user_employee):
            with self.assertRaises(AccessError):
                self.env['cabinet.matter'].with_user(user).search([])
            with self.assertRaises(AccessError):
                self.matter.with_user(user).read(['name'])
            with self.assertRaises(AccessError):
                self.env['cabinet.matter.lane'].with_user(user).search([])
        with self.assertRaises(AccessError):
            self.ticket_a1.with_user(self.portal_a).read(['matter_id'])
        with self.assertRaises(AccessError):
            self.env['cabinet.ticket'].with_user(self.portal_a).search([('matter_id', '=', self.matter.id)])
        # positive control: the portal user still reads their own ticket, and only their party's
        self.assertEqual(self.ticket_a1.with_user(self.portal_a).read(['name'])[0]['name'], "Permit plans")
        self.assertEqual(
            self.env['cabinet.ticket'].with_user(self.portal_a).search([('id', 'in', self.tickets.ids)]),
            self.ticket_a1 | self.ticket_a2,
        )

    def test_add_to_matter_wizard_and_new_ticket(self):
        ticket = self._create_ticket(self.contact_b, name="Fence")
        wizard = (
            self.env['cabinet.matter.add']
            .with_user(self.user_a)
            .with_context(active_model='cabinet.ticket', active_ids=ticket.ids)
            .create({'matter_id': self.matter.id})
        )
        self.assertEqual(wizard.ticket_ids, ticket)
        wizard.action_apply()
        self.assertEqual(ticket.matter_id, self.matter)
        action = self.matter.with_user(self.user_a).action_new_ticket()
        new = (
            self.env['cabinet.ticket']
            .with_user(self.user_a)
            .with_context(**action['context'])
            .create({'name': "From the matter", 'partner_id': self.contact_c.id})
        )
        self.assertRecordValues(new, [{'matter_id': self.matter.id, 'commercial_partner_id': self.party_c.id}])
        self.matter.action_close()
        with self.assertRaises(UserError):
            self._create_ticket(self.contact_c, name="Late").with_user(self.user_a).write({'matter_id': self.matter.id})

    # ------------------------------------------------------------
    # Meetings and synthesis
    # ------------------------------------------------------------

    def _plan_meeting(self, tickets):
        return (
            self.env['cabinet.matter.meeting']
            .with_user(self.user_a)
            .create(
                {
                    'matter_id': self.matter.id,
                    'name': "Site meeting",
                    'start': datetime(2030, 3, 4, 9, 0),
                    'duration': 1.5,
                    'location': "On site, 12 Garden Street",
                    'ticket_ids': [Command.set(tickets.ids)],
                }
            )
        )

    def test_meeting_invitations_one_per_party(self):
        tickets = self.ticket_a1 | self.ticket_b | self.ticket_c
        with self.mock_mail_gateway():
            action = self._plan_meeting(tickets).action_send()
        coordination = self.env['cabinet.coordination'].browse(action['res_id'])
        self.assertRecordValues(coordination, [{'matter_id': self.matter.id, 'state': 'draft'}])
        self.assertEqual(coordination.ticket_ids, tickets)
        names = {
            self.ticket_a1: ("Alice A", "alice@party-a.example", "Party A"),
            self.ticket_b: ("Bob B", "bob@party-b.example", "Party B"),
            self.ticket_c: ("Carl C", "carl@stabilis.example", "Stabilis"),
        }
        for ticket in tickets:
            invitation = ticket.message_ids.filtered(lambda m: m.subject == "Invitation: Site meeting")
            self.assertEqual(len(invitation), 1, "One invitation per party, on its own ticket")
            self.assertEqual(invitation.partner_ids, ticket.partner_id)
            self.assertEqual(len(invitation.attachment_ids), 1)
            ics = base64.b64decode(invitation.attachment_ids.datas).decode()
            self.assertTrue(ics.startswith('BEGIN:VCALENDAR\r\n'))
            self.assertIn('DTSTART:20300304T090000Z', ics)
            self.assertIn('DTEND:20300304T103000Z', ics)
            self.assertIn(f'mailto:{ticket.partner_id.email}', ics.replace('\r\n ', ''))
            for other, words in names.items():
                if other == ticket:
                    continue
                for word in (*words, other.number, "Villa Horizon", self.matter.reference):
                    self.assertNotIn(word, ics, "The .ics names no other party nor the matter")
                    self.assertNotIn(word, invitation.body)
                    self.assertNotIn(word, invitation.subject)
        # every email goes to one party, never with another party's address
        self.assertTrue(self._mails)
        reached = self.env['res.partner']
        for mail in self._mails:
            recipients = self.env['res.partner'].search(
                [('email_normalized', 'in', [email_normalize(address) for address in mail['email_to']])]
            )
            external = recipients.filtered('partner_share')
            if not external:
                self.assertFalse(
                    recipients.filtered(lambda p: p.commercial_partner_id in tickets.commercial_partner_id)
                )
                continue  # the firm's staff hearing of their tickets
            self.assertEqual(len(external.commercial_partner_id), 1, "Each email reaches a single party")
            self.assertFalse(mail.get('email_cc'))
            reached |= external.commercial_partner_id
        self.assertEqual(reached, tickets.commercial_partner_id)
        # each party once
        with self.assertRaises(UserError):
            self._plan_meeting(self.ticket_a1 | self.ticket_a2).action_send()
        outsider = self._create_ticket(self.contact_b, name="Not in the matter")
        with self.assertRaises(UserError):
            self._plan_meeting(outsider).action_send()

    def test_meeting_in_responsible_calendar(self):
        if 'calendar.event' not in self.env:
            self.skipTest("Calendar is not installed: the meeting goes to the parties' tickets only")
        self._plan_meeting(self.ticket_a1 | self.ticket_b).action_send()
        event = self.env['calendar.event'].search([('name', '=', "Site meeting")])
        self.assertEqual(len(event), 1)
        self.assertEqual(event.partner_ids, self.user_a.partner_id, "The responsible only, never the parties")

    def test_synthesis_pdf_attached_per_party(self):
        tickets = self.ticket_a1 | self.ticket_b | self.ticket_c
        action = self._plan_meeting(tickets).action_send()
        coordination = self.env['cabinet.coordination'].with_user(self.user_a).browse(action['res_id'])
        coordination.synthesis = "<p>The scaffolding goes up on Monday.</p>"
        with self.mock_mail_gateway():
            coordination.action_send_synthesis()
        for ticket in tickets:
            synthesis = ticket.message_ids.filtered(lambda m: 'scaffolding' in (m.body or ''))
            self.assertEqual(len(synthesis), 1)
            self.assertEqual(synthesis.partner_ids, ticket.partner_id)
            self.assertEqual(synthesis.attachment_ids.mapped('name'), [f"Meeting summary {ticket.number}.pdf"])
            content = base64.b64decode(synthesis.attachment_ids.datas).decode()
            self.assertIn("scaffolding goes up", content)
            self.assertIn(ticket.number, content)
            for other in tickets - ticket:
                self.assertNotIn(other.number, content)
                self.assertNotIn(other.commercial_partner_id.name, content)
            self.assertNotIn("Villa Horizon", content)
        # nothing else posted on the tickets carries the PDF
        for ticket in tickets:
            with_pdf = ticket.message_ids.filtered(
                lambda m: m.attachment_ids.filtered(lambda a: a.name.endswith('.pdf'))
            )
            self.assertEqual(len(with_pdf), 1)

    # ------------------------------------------------------------
    # Email reference
    # ------------------------------------------------------------

    def _process(self, email_from, subject):
        self.team_a.write({'alias_name': 'team-a-matters', 'alias_domain_id': self.mail_alias_domain.id})
        return self.format_and_process(
            MAIL_TEMPLATE_PLAIN,
            email_from,
            f'team-a-matters@{self.alias_domain}',
            subject=subject,
            target_model='cabinet.ticket',
            target_field='name',
        )

    def test_email_reference_files_ticket_of_known_party_only(self):
        reference = self.matter.reference
        with self.mock_mail_gateway():
            ticket = self._process('Bob B <bob@party-b.example>', f"[{reference}] Wall height")
        self.assertEqual(ticket.commercial_partner_id, self.party_b)
        self.assertEqual(ticket.matter_id, self.matter, "Party B has a ticket in the matter: filed")
        # a party without ticket in the matter quotes the reference: not filed, and told nothing
        stranger = self._create_party("Dana D", party_type='individual', email='dana@elsewhere.example')
        with self.mock_mail_gateway():
            ticket = self._process('Dana D <dana@elsewhere.example>', f"[{reference}] Let me in")
        self.assertEqual(ticket.partner_id, stranger)
        self.assertFalse(ticket.matter_id, "No ticket of this party in the matter: not filed")
        for mail in self._mails:
            for word in ("Villa Horizon", "Party A", "Party B", "Stabilis", self.ticket_a1.number):
                self.assertNotIn(word, mail['body'])
                self.assertNotIn(word, mail['subject'])
        # a closed matter, or another company's, takes nothing
        self.matter.action_close()
        with self.mock_mail_gateway():
            ticket = self._process('Bob B <bob@party-b.example>', f"[{reference}] After closing")
        self.assertFalse(ticket.matter_id)

    # ------------------------------------------------------------
    # Retention
    # ------------------------------------------------------------

    def test_retention_anonymizes_closed_matter_without_tickets(self):
        other = self.env['cabinet.matter'].create(
            {'name': "Lambert brasserie", 'client_id': self.party_b.id, 'team_id': self.team_a.id}
        )
        ticket = self._create_ticket(self.contact_b, name="Terrace", matter_id=other.id)
        self._run_cron('_cron_apply_retention', model='cabinet.matter')
        self.assertFalse(other.anonymized, "Open matter: kept")
        other.action_close()
        self._run_cron('_cron_apply_retention', model='cabinet.matter')
        self.assertFalse(other.anonymized, "A ticket still holds personal data: kept")
        self.assertFalse(self.matter.anonymized)
        ticket.sudo()._anonymize()
        self._run_cron('_cron_apply_retention', model='cabinet.matter')
        self.assertRecordValues(
            other, [{'anonymized': True, 'name': "Anonymized matter", 'client_id': False, 'state': 'closed'}]
        )
        self.assertTrue(other.reference)
        self.assertFalse(self.matter.anonymized, "The open matter is untouched")
        with self.assertRaises(UserError):
            other.action_reopen()
        # a rerun changes nothing more
        self.assertEqual(self._run_cron('_cron_apply_retention', model='cabinet.matter'), [])

    def test_retention_deleted_tickets_batched_and_resumable(self):
        matters = self.env['cabinet.matter'].create(
            [{'name': f"Closed matter {index}", 'client_id': self.party_b.id} for index in range(3)]
        )
        tickets = self.env['cabinet.ticket']
        for matter in matters:
            tickets |= self._create_ticket(self.contact_b, name="Gone", matter_id=matter.id)
        matters.action_close()
        tickets.sudo().unlink()
        # interrupted after one batch of two: the next run does the rest, nothing twice
        batches = self._run_cron('_cron_apply_retention', stop_after_batches=1, model='cabinet.matter', batch_size=2)
        self.assertEqual(batches, [2])
        self.assertEqual(matters.mapped('anonymized'), [True, True, False])
        self.assertEqual(self._run_cron('_cron_apply_retention', model='cabinet.matter', batch_size=2), [1])
        self.assertTrue(all(matters.mapped('anonymized')))
        self.assertFalse(matters.client_id)


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestMatterPortalHttp(MatterFactories, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_matter_data()

    def test_portal_pages_and_rpc_show_no_matter_nor_other_party(self):
        self.authenticate('cab_portal', 'cab_portal')
        page = self.url_open(f'/my/tickets/{self.ticket_a1.id}')
        self.assertEqual(page.status_code, 200)
        self.assertIn("Permit plans", page.text, "Positive control: the party's own ticket")
        for word in ("Villa Horizon", self.matter.reference, "Party B", "Stabilis", self.ticket_b.number):
            self.assertNotIn(word, page.text)
        listing = self.url_open('/my/tickets')
        self.assertIn(self.ticket_a1.number, listing.text)
        for ticket in (self.ticket_b, self.ticket_c, self.ticket_hr):
            self.assertNotIn(ticket.number, listing.text)
            response = self.url_open(f'/my/tickets/{ticket.id}')
            self.assertNotIn(ticket.name, response.text)
        for model, method, args, kwargs in (
            ('cabinet.matter', 'search_read', [[]], {'fields': ['name']}),
            ('cabinet.matter', 'read', [self.matter.ids, ['name']], {}),
            ('cabinet.matter.lane', 'search_read', [[]], {'fields': ['partner_id']}),
            ('cabinet.ticket', 'read', [self.ticket_a1.ids, ['matter_id']], {}),
            ('cabinet.ticket', 'search_read', [[('matter_id', '!=', False)]], {'fields': ['name']}),
        ):
            with self.subTest(model=model, method=method), mute_logger('odoo.http'):
                with self.assertRaises(JsonRpcException):
                    self.make_jsonrpc_request(
                        f'/web/dataset/call_kw/{model}/{method}',
                        {'model': model, 'method': method, 'args': args, 'kwargs': kwargs},
                    )
        # positive control: the same path reads the party's own ticket
        result = self.make_jsonrpc_request(
            '/web/dataset/call_kw/cabinet.ticket/read',
            {'model': 'cabinet.ticket', 'method': 'read', 'args': [self.ticket_a1.ids, ['name']], 'kwargs': {}},
        )
        self.assertEqual(result[0]['name'], "Permit plans")
