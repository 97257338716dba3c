# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
import base64

from odoo.exceptions import AccessError, UserError
from odoo.fields import Command
from odoo.service.model import call_kw
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tests.common import JsonRpcException
from odoo.tools import mute_logger

from .common import CabinetCommon, CabinetFactories

PARAM = 'cabinet_helpdesk.individual_analytics'
HR_SUBJECT = "Harassment by my team leader"
HR_FEEDBACK = "Nobody believed me at first"
MUTED = (
    'odoo.addons.base.models.ir_rule',
    'odoo.addons.base.models.ir_model',
    'odoo.addons.cabinet_helpdesk.models.ir_rule',
)


class SideChannelsCommon(CabinetFactories):
    """A confidential HR request of ``user_employee`` handled by ``user_hr`` and a client ticket
    of team A, each rated and followed; a rating and a follower of another document."""

    @classmethod
    def _setup_side_channels(cls):
        cls.env['ir.config_parameter'].set_param(PARAM, False)
        cls.hr_team = cls.category_hr.team_id
        cls.user_hr = new_test_user(
            cls.env, login='cab_hr', name="Hanna HR", groups='cabinet_helpdesk.group_cabinet_user'
        )
        cls.hr_team.member_ids = [Command.link(cls.user_hr.id)]
        cls.user_snoop = new_test_user(
            cls.env, login='cab_snoop', name="Sid Snoop", groups='base.group_user,base.group_no_one'
        )
        cls.user_dpo = cls._create_dpo()
        cls.ticket_hr = cls.env['cabinet.ticket'].create(
            {
                'name': HR_SUBJECT,
                'partner_id': cls.user_employee.partner_id.id,
                'category_id': cls.category_hr.id,
                'user_id': cls.user_hr.id,
            }
        )
        cls.ticket_a = cls._create_ticket(cls.contact_a, user_id=cls.user_a.id, name="Roof leak of party A")
        cls.ticket_hr.message_subscribe(partner_ids=(cls.user_employee.partner_id | cls.user_hr.partner_id).ids)
        cls.ticket_a.message_subscribe(partner_ids=cls.contact_a.ids)
        cls.rating_hr = cls._rate(cls.ticket_hr, cls.user_employee.partner_id, 1, HR_FEEDBACK)
        cls.rating_a = cls._rate(cls.ticket_a, cls.contact_a, 5, "Quick and clear")
        # another document: a rating and a follower of a contact, untouched by the ticket rules
        cls.rating_other = cls.env['rating.rating'].create(
            {
                'res_model_id': cls.env['ir.model']._get_id('res.partner'),
                'res_id': cls.party_b.id,
                'partner_id': cls.contact_b.id,
                'rating': 4,
                'consumed': True,
            }
        )
        cls.party_b.message_subscribe(partner_ids=cls.contact_b.ids)
        cls.follower_other = cls.env['mail.followers'].search(
            [('res_model', '=', 'res.partner'), ('res_id', '=', cls.party_b.id), ('partner_id', '=', cls.contact_b.id)]
        )
        cls.followers_hr = cls.env['mail.followers'].search(
            [('res_model', '=', 'cabinet.ticket'), ('res_id', '=', cls.ticket_hr.id)]
        )

    @classmethod
    def _rate(cls, ticket, partner, value, feedback):
        token = ticket._rating_get_access_token(partner=partner)
        return ticket.rating_apply(value, token=token, feedback=feedback)


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestSideChannelsRatings(SideChannelsCommon, CabinetCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_side_channels()

    def _rpc(self, user, model, method, *args, **kwargs):
        """Call ``method`` as an RPC client of ``user`` would."""
        return call_kw(self.env[model].with_user(user), method, list(args), kwargs)

    def _assert_hidden(self, user, model, records, other, label):
        """``user`` finds none of ``records`` by any RPC read path, but still ``other``."""
        ticket_domain = [('res_model', '=', 'cabinet.ticket')]
        found = self._rpc(user, model, 'search', [])
        self.assertFalse(set(records.ids) & set(found), f"{user.name} searched {label}")
        self.assertIn(other.id, found, f"{user.name} still finds {model} of other documents")
        self.assertEqual(
            self._rpc(user, model, 'search_count', [('id', 'in', records.ids)]), 0, f"{user.name} counted {label}"
        )
        rows = self._rpc(user, model, 'search_read', ticket_domain, ['res_id'])
        self.assertFalse({row['id'] for row in rows} & set(records.ids), f"{user.name} search_read {label}")
        result = self._rpc(
            user,
            model,
            'web_search_read',
            [('id', 'in', records.ids)],
            specification={'res_id': {}, 'display_name': {}},
        )
        self.assertEqual(result['length'], 0, f"{user.name} web_search_read {label}")
        groups = self._rpc(user, model, 'formatted_read_group', ticket_domain, ['res_id'], ['__count'])
        self.assertNotIn(self.ticket_hr.id, [group['res_id'] for group in groups], f"{user.name} grouped {label}")
        for record in records:
            with self.assertRaises(AccessError, msg=f"{user.name} read {label} #{record.id} by id"):
                self._rpc(user, model, 'read', record.ids, ['res_id'])

    # ------------------------------------------------------------
    # Ratings
    # ------------------------------------------------------------

    @mute_logger(*MUTED)
    def test_ratings_follow_the_ticket(self):
        for user in (self.user_snoop, self.user_b, self.user_a, self.user_manager, self.user_dpo):
            self._assert_hidden(user, 'rating.rating', self.rating_hr, self.rating_other, "the HR request's rating")
            rows = self._rpc(user, 'rating.rating', 'search_read', [], ['res_name', 'feedback', 'partner_id'])
            self.assertNotIn(HR_SUBJECT, str(rows), f"{user.name} read the HR subject through a rating")
            self.assertNotIn(HR_FEEDBACK, str(rows), f"{user.name} read the HR feedback")
        for user in (self.user_snoop, self.user_b):
            self._assert_hidden(user, 'rating.rating', self.rating_a, self.rating_other, "team A's rating")
        # positive controls: the handling team, the requester and the ticket's team read them
        for user, rating in (
            (self.user_hr, self.rating_hr),
            (self.user_employee, self.rating_hr),
            (self.user_a, self.rating_a),
            (self.user_manager, self.rating_a),
        ):
            [row] = self._rpc(user, 'rating.rating', 'read', rating.ids, ['res_name', 'feedback'])
            self.assertEqual(row['res_name'], rating.res_name)
            self.assertIn(rating.id, self._rpc(user, 'rating.rating', 'search', [('res_model', '=', 'cabinet.ticket')]))
        self.assertEqual(
            self.env['cabinet.ticket'].with_user(self.user_hr).browse(self.ticket_hr.id).rating_ids, self.rating_hr
        )

    @mute_logger(*MUTED)
    def test_portal_users_read_no_rating(self):
        for user in (self.portal_a, self.portal_b):
            for rating in (self.rating_a, self.rating_hr):
                with self.assertRaises(AccessError):
                    self._rpc(user, 'rating.rating', 'read', rating.ids, ['res_name'])
            with self.assertRaises(AccessError):
                self._rpc(user, 'rating.rating', 'search_read', [], ['res_name'])

    @mute_logger(*MUTED)
    def test_rating_cannot_be_pointed_at_a_ticket(self):
        """Re-pointing a rating recomputes its name as superuser: it would tell any ticket's subject."""
        cases = [
            (self.user_a, self.rating_a, {'res_id': self.ticket_hr.id}),
            (self.user_a, self.rating_a, {'parent_res_id': self.hr_team.id}),
            (self.user_a, self.rating_a, {'rated_partner_id': self.user_b.partner_id.id}),
            (
                self.user_snoop,
                self.rating_other,
                {'res_model_id': self.env['ir.model']._get_id('cabinet.ticket'), 'res_id': self.ticket_hr.id},
            ),
            (self.user_snoop, self.rating_other, {'res_model': 'cabinet.ticket', 'res_id': self.ticket_hr.id}),
            (self.user_hr, self.rating_hr, {'res_id': self.ticket_a.id}),
        ]
        for user, rating, vals in cases:
            with self.assertRaises(AccessError, msg=f"{user.name} re-pointed a rating with {vals}"):
                self._rpc(user, 'rating.rating', 'write', rating.ids, vals)
        self.assertRecordValues(
            self.rating_a | self.rating_hr | self.rating_other,
            [
                {'res_model': 'cabinet.ticket', 'res_id': self.ticket_a.id, 'res_name': self.ticket_a.display_name},
                {'res_model': 'cabinet.ticket', 'res_id': self.ticket_hr.id, 'res_name': self.ticket_hr.display_name},
                {'res_model': 'res.partner', 'res_id': self.party_b.id, 'res_name': self.party_b.display_name},
            ],
        )
        for user, ticket in ((self.user_snoop, self.ticket_hr), (self.user_a, self.ticket_a)):
            with self.assertRaises(AccessError, msg=f"{user.name} filed a rating on a ticket"):
                self._rpc(
                    user,
                    'rating.rating',
                    'create',
                    {'res_model_id': self.env['ir.model']._get_id('cabinet.ticket'), 'res_id': ticket.id, 'rating': 1},
                )
        # positive controls: the feedback itself, and ratings of other documents, stay as the rating module has them
        self._rpc(self.user_a, 'rating.rating', 'write', self.rating_a.ids, {'feedback': "Quick, clear and kind"})
        self.assertEqual(self.rating_a.feedback, "Quick, clear and kind")
        self._rpc(self.user_snoop, 'rating.rating', 'write', self.rating_other.ids, {'res_id': self.party_a.id})
        self.assertEqual(self.rating_other.res_name, self.party_a.display_name)

    def test_rating_rates_the_firm_not_a_person(self):
        ticket = self._create_ticket(self.contact_a, user_id=self.user_a.id, name="Fence")
        self._rate(ticket, self.contact_a, 4, "Fine")
        self.assertTrue(ticket.rating_ids)
        self.assertFalse(ticket.rating_ids.rated_partner_id, "No staff member is rated while the setting is off")
        self.env['ir.config_parameter'].set_param(PARAM, True)
        ticket_on = self._create_ticket(self.contact_a, user_id=self.user_a.id, name="Gate")
        self._rate(ticket_on, self.contact_a, 4, "Fine")
        self.assertEqual(ticket_on.rating_ids.rated_partner_id, self.user_a.partner_id, "Rated person once it is on")
        self.assertEqual(
            dict(
                self.env['rating.rating']
                .with_user(self.user_manager)
                ._read_group([('res_model', '=', 'cabinet.ticket')], ['rated_partner_id'], ['__count'])
            ).get(self.user_a.partner_id),
            1,
        )
        self.env['ir.config_parameter'].set_param(PARAM, False)
        self.assertFalse(ticket_on.rating_ids.rated_partner_id, "Turning the setting off forgets who was rated")
        groups = (
            self.env['rating.rating']
            .with_user(self.user_manager)
            ._read_group([('res_model', '=', 'cabinet.ticket')], ['rated_partner_id'], ['__count'])
        )
        self.assertEqual([partner for partner, _count in groups], [self.env['res.partner']])

    # ------------------------------------------------------------
    # Followers, activities, messages, attachments
    # ------------------------------------------------------------

    @mute_logger(*MUTED)
    def test_followers_follow_the_ticket(self):
        for user in (self.user_snoop, self.user_b, self.user_a, self.user_manager, self.user_dpo):
            self._assert_hidden(user, 'mail.followers', self.followers_hr, self.follower_other, "the HR followers")
            rows = self._rpc(user, 'mail.followers', 'search_read', [('res_model', '=', 'cabinet.ticket')], ['name'])
            self.assertNotIn(self.user_employee.name, str(rows), f"{user.name} learnt who filed the HR request")
        for user in (self.user_hr, self.user_employee):
            rows = self._rpc(
                user, 'mail.followers', 'search_read', [('res_id', '=', self.ticket_hr.id)], ['res_model', 'partner_id']
            )
            self.assertEqual(
                {row['id'] for row in rows if row['res_model'] == 'cabinet.ticket'}, set(self.followers_hr.ids)
            )
            ticket = self.env['cabinet.ticket'].with_user(user).browse(self.ticket_hr.id)
            self.assertEqual(ticket.message_partner_ids, self.user_employee.partner_id | self.user_hr.partner_id)
        with self.assertRaises(AccessError):
            self._rpc(self.portal_b, 'mail.followers', 'search_read', [], ['name'])

    @mute_logger(*MUTED)
    def test_follower_rule_still_checked(self):
        """The party rule reads followers as superuser: it keeps working for the handling team."""
        colleague = new_test_user(
            self.env, login='cab_hr_colleague', name="Hugo HR", groups='cabinet_helpdesk.group_cabinet_user'
        )
        self.ticket_hr.category_id.team_id.member_ids = [Command.link(colleague.id)]
        ticket = self.env['cabinet.ticket'].with_user(self.user_hr).browse(self.ticket_hr.id)
        ticket.message_subscribe(partner_ids=colleague.partner_id.ids)
        self.assertIn(colleague.partner_id, self.ticket_hr.message_partner_ids)
        with self.assertRaises(UserError, msg="Staff who cannot read the HR request cannot follow it"):
            ticket.message_subscribe(partner_ids=self.user_manager.partner_id.ids)
        with self.assertRaises(UserError, msg="An outsider cannot follow the HR request"):
            ticket.message_subscribe(partner_ids=self.contact_b.ids)
        self.assertNotIn(self.contact_b, self.ticket_hr.message_partner_ids)
        self.assertTrue(self.ticket_hr.with_user(self.user_employee).message_is_follower)

    @mute_logger(*MUTED)
    def test_activities_messages_attachments_follow_the_ticket(self):
        activity = self.ticket_hr.activity_schedule(
            'mail.mail_activity_data_todo', summary="Call the employee", user_id=self.user_hr.id
        )
        message = self.ticket_hr.message_post(
            body="Interview notes", message_type='comment', subtype_xmlid='mail.mt_note'
        )
        attachment = self.env['ir.attachment'].create(
            {
                'name': 'statement.txt',
                'datas': base64.b64encode(b"What happened"),
                'res_model': 'cabinet.ticket',
                'res_id': self.ticket_hr.id,
            }
        )
        for user in (self.user_snoop, self.user_b, self.user_manager):
            for model, record, domain in (
                ('mail.activity', activity, [('res_model', '=', 'cabinet.ticket')]),
                ('mail.message', message, [('model', '=', 'cabinet.ticket'), ('res_id', '=', self.ticket_hr.id)]),
                (
                    'ir.attachment',
                    attachment,
                    [('res_model', '=', 'cabinet.ticket'), ('res_id', '=', self.ticket_hr.id)],
                ),
            ):
                self.assertNotIn(record.id, self._rpc(user, model, 'search', domain), f"{user.name} found a {model}")
                with self.assertRaises(AccessError, msg=f"{user.name} read a {model} of the HR request"):
                    self._rpc(user, model, 'read', record.ids, ['display_name'])
        # positive control: the handling team reads them
        for model, record in (('mail.activity', activity), ('mail.message', message), ('ir.attachment', attachment)):
            self.assertTrue(self._rpc(self.user_hr, model, 'read', record.ids, ['display_name']))

    # ------------------------------------------------------------
    # Access errors in debug mode
    # ------------------------------------------------------------

    @mute_logger(*MUTED)
    def test_access_error_still_suggests_the_company(self):
        company_c = self.env['res.company'].create({'name': "Subsidiary C"})
        self.user_a.company_ids = [Command.link(company_c.id)]
        team_c = self.env['cabinet.team'].create({'name': "Team of the subsidiary", 'company_id': company_c.id})
        ticket_c = self._create_ticket(
            self.contact_a, team=team_c, user_id=self.user_a.id, name="Subsidiary subject", company_id=company_c.id
        )
        with self.assertRaises(AccessError) as caught:
            self.env['cabinet.ticket'].with_user(self.user_a).with_context(allowed_company_ids=self.company.ids).browse(
                ticket_c.id
            ).read(['name'])
        self.assertEqual(caught.exception.context['suggested_company']['id'], company_c.id)
        self.assertNotIn("Subsidiary subject", str(caught.exception))
        self.assertEqual(
            self.env['cabinet.ticket']
            .with_user(self.user_a)
            .with_context(allowed_company_ids=company_c.ids)
            .browse(ticket_c.id)
            .name,
            "Subsidiary subject",
            "After switching company the user reads it",
        )

    # ------------------------------------------------------------
    # Works council: no per-employee figures while the setting is off
    # ------------------------------------------------------------

    @mute_logger(*MUTED)
    def test_staff_aggregates_refused_when_off(self):
        for user in (self.user_manager, self.user_dpo, self.user_a):
            Ticket = self.env['cabinet.ticket'].with_user(user)
            for aggregate in (
                'user_id:array_agg',
                'user_id:count_distinct',
                'create_uid:array_agg',
                'write_uid:recordset',
                'user_id:max',
            ):
                with self.assertRaises(AccessError, msg=f"{user.name} aggregated {aggregate}"):
                    Ticket._read_group([], ['team_id'], [aggregate])
            with self.assertRaises(AccessError, msg="Through the web client's grouping too"):
                self._rpc(user, 'cabinet.ticket', 'formatted_read_group', [], ['stage_id'], ['user_id:array_agg'])
            with self.assertRaises(AccessError, msg="Sorting groups by a staff member"):
                Ticket._read_group([], ['team_id'], ['__count'], order='user_id:max')
            with self.assertRaises(AccessError, msg="Filtering groups on staff members"):
                Ticket._read_group([], ['team_id'], ['__count'], having=[('user_id:count_distinct', '>', 1)])
            with self.assertRaises(AccessError, msg="Per-employee groups"):
                self._rpc(user, 'cabinet.ticket', 'formatted_read_group', [], ['user_id'], ['__count'])
            Analysis = self.env['cabinet.ticket.analysis'].with_user(user)
            for aggregate in ('user_id:array_agg', 'user_id:count_distinct'):
                with self.assertRaises(AccessError, msg=f"{user.name} aggregated {aggregate} in the analysis"):
                    Analysis._read_group([], ['team_id'], [aggregate])
            # team figures remain
            self.assertTrue(Ticket._read_group([], ['team_id'], ['__count', 'id:count_distinct']))

    def test_staff_aggregates_allowed_when_on(self):
        self.env['ir.config_parameter'].set_param(PARAM, True)
        for user in (self.user_manager, self.user_dpo):
            groups = dict(
                self.env['cabinet.ticket']
                .with_user(user)
                ._read_group([('id', '=', self.ticket_a.id)], ['team_id'], ['user_id:array_agg'])
            )
            self.assertEqual(groups, {self.team_a: [self.user_a.id]})
            counts = dict(
                self.env['cabinet.ticket']
                .with_user(user)
                ._read_group([('id', '=', self.ticket_a.id)], ['user_id'], ['__count'])
            )
            self.assertEqual(counts, {self.user_a: 1})
            rows = (
                self.env['cabinet.ticket.analysis']
                .with_user(user)
                ._read_group([('ticket_id', '=', self.ticket_a.id)], ['team_id'], ['user_id:array_agg'])
            )
            self.assertEqual(rows, [(self.team_a, [self.user_a.id])])


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestSideChannelsRatingsHttp(SideChannelsCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_cabinet_data()
        cls._setup_side_channels()

    @mute_logger('odoo.http', *MUTED)
    def test_chatter_followers(self):
        """The chatter's follow buttons answer with the thread's followers: not of a ticket one may
        not read (Odoo refuses the call). The handling team's chatter still lists them."""
        self.authenticate('cab_snoop', 'cab_snoop')
        for route, partner_ids in (
            ('/mail/thread/unsubscribe', []),
            ('/mail/thread/subscribe', self.user_snoop.partner_id.ids),
        ):
            try:
                result = self.make_jsonrpc_request(
                    route, {'res_model': 'cabinet.ticket', 'res_id': self.ticket_hr.id, 'partner_ids': partner_ids}
                )
            except JsonRpcException as error:  # a refusal is fine, a leak is not
                result = str(error)
            self.assertNotIn(self.user_employee.name, str(result), f"{route} told who filed the HR request")
            self.assertNotIn(self.user_hr.name, str(result), f"{route} told who handles the HR request")
        self.assertNotIn(self.user_snoop.partner_id, self.ticket_hr.message_partner_ids)
        # positive control: the handling team gets its followers in the chatter
        self.authenticate('cab_hr', 'cab_hr')
        result = self.make_jsonrpc_request(
            '/mail/data',
            {
                'fetch_params': [
                    [
                        'mail.thread',
                        {
                            'thread_model': 'cabinet.ticket',
                            'thread_id': self.ticket_hr.id,
                            'request_list': ['followers'],
                        },
                    ]
                ]
            },
        )
        self.assertIn(self.user_employee.name, str(result))

    def _call_kw_debug(self, model, method, args, kwargs=None):
        """Call ``method`` through the web client's RPC route, in debug mode; return the error
        message, or None when the call succeeded."""
        response = self.url_open(
            f'/web/dataset/call_kw/{model}/{method}?debug=1',
            json={
                'id': 0,
                'jsonrpc': '2.0',
                'method': 'call',
                'params': {'model': model, 'method': method, 'args': args, 'kwargs': kwargs or {}},
            },
        )
        error = response.json().get('error')
        return error and error['data']['message']

    @mute_logger('odoo.http', *MUTED)
    def test_debug_access_error_names_no_ticket(self):
        """In debug mode Odoo names refused records, read as superuser: an employee could list
        the subjects of HR requests by id."""
        for login in ('cab_snoop', 'cab_manager', 'cab_user_b'):
            user = self.env['res.users'].search([('login', '=', login)])
            user.group_ids = [Command.link(self.env.ref('base.group_no_one').id)]
            self.authenticate(login, login)
            for method, args in (
                ('read', [self.ticket_hr.ids, ['name']]),
                ('write', [self.ticket_hr.ids, {'priority': '1'}]),
            ):
                message = self._call_kw_debug('cabinet.ticket', method, args)
                self.assertTrue(message, f"{login} could {method} the HR request")
                self.assertNotIn(HR_SUBJECT, message, f"The error told {login} the subject")
                self.assertNotIn(self.ticket_hr.number, message, f"The error told {login} the number")
                self.assertNotIn("confidential", message.lower(), "Nor which rule refused it")
            # ratings and followers are named after the ticket and the follower
            follower = self.followers_hr.filtered(lambda f: f.partner_id == self.user_employee.partner_id)
            for model, record in (('rating.rating', self.rating_hr), ('mail.followers', follower)):
                message = self._call_kw_debug(model, 'read', [record.ids, ['res_id']])
                self.assertTrue(message, f"{login} could read a {model} of the HR request")
                self.assertNotIn(HR_SUBJECT, message, f"The {model} error told {login} the subject")
                self.assertNotIn(record.sudo().partner_id.name, message, f"The {model} error told {login} a name")
        # the module's other confidential records are not named either
        company_c = self.env['res.company'].create({'name': "Subsidiary C"})
        agent = self._create_party("Discreet Agency", party_type='agent')
        mandate = self.env['cabinet.mandate'].create(
            {'agent_id': agent.id, 'principal_id': self.party_a.id, 'company_id': company_c.id}
        )
        self.authenticate('cab_user_b', 'cab_user_b')
        message = self._call_kw_debug('cabinet.mandate', 'read', [mandate.ids, ['name']])
        self.assertTrue(message, "A user of another company read the mandate")
        self.assertNotIn(mandate.name, message)
        self.assertNotIn("Discreet Agency", message)
        # positive controls: the handling team reads it in debug mode; Odoo's own error still names
        # records of other models in debug mode
        self.user_hr.group_ids = [Command.link(self.env.ref('base.group_no_one').id)]
        self.authenticate('cab_hr', 'cab_hr')
        self.assertIsNone(self._call_kw_debug('cabinet.ticket', 'read', [self.ticket_hr.ids, ['name']]))
        team_c = self.env['cabinet.team'].create({'name': "Team of the subsidiary", 'company_id': company_c.id})
        self.authenticate('cab_snoop', 'cab_snoop')
        self.assertIn("Team of the subsidiary", self._call_kw_debug('cabinet.team', 'read', [team_c.ids, ['name']]))
