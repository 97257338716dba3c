# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
import logging
from datetime import timedelta

from odoo import api, fields, models

from odoo.addons.rating.models.rating_data import RATING_LIMIT_OK

_logger = logging.getLogger(__name__)


class CabinetTicket(models.Model):
    """Nobody left unheard: the requester and the firm's staff follow the ticket, the party's answers on
    a closed ticket reopen it or reach someone, a low rating reaches the team."""

    _inherit = 'cabinet.ticket'

    @api.model_create_multi
    def create(self, vals_list):
        # whoever creates the tickets follows them as the mail thread makes them, but together with
        # everyone the creation brings (``_message_auto_subscribe_followers``): one subscription
        user = self.env.user
        if self.env.context.get('mail_create_nosubscribe') or not user.active or user.share:
            return super().create(vals_list)
        creating = self.with_context(mail_create_nosubscribe=True, cabinet_creator_follows=True)
        return super(CabinetTicket, creating).create(vals_list).with_env(self.env)

    def _message_auto_subscribe_followers(self, updated_values, default_subtype_ids):
        """Besides the assignee, who follows a ticket when it is created or changes hands:

        - its requester, so that every answer of the firm reaches them whatever posts it (the
          default subtypes a party gets, never internal ones, even for a staff requester);
        - the staff its team names (``cabinet.team.notify_mode``), with the new request and low
          rating subtypes on top of the defaults (so the party's answers reach them too),
          provided they may read the ticket: a confidential request type stays with its
          handling team.
        """
        followers = []
        requester = self.env['res.partner'].browse(updated_values.get('partner_id'))
        if requester:
            external_subtypes = self.env['mail.message.subtype'].default_subtypes(self._name)[2]
            followers.append((requester.id, external_subtypes.ids, False))
        team = self.env['cabinet.team'].browse(updated_values.get('team_id'))
        if team:
            staff = self.env['res.users']
            # sudo: the team's notification setting decides who follows; only its users come out
            for candidates in team.sudo()._notification_candidates():
                if staff := self._users_who_may_read(candidates):
                    break
            if staff:
                xmlid_to_res_id = self.env['ir.model.data']._xmlid_to_res_id
                staff_subtype_ids = list(
                    {
                        *(default_subtype_ids or []),
                        xmlid_to_res_id('cabinet_helpdesk.mt_ticket_new'),
                        xmlid_to_res_id('cabinet_helpdesk.mt_ticket_rating_low'),
                    }
                )
                followers.extend((user.partner_id.id, staff_subtype_ids, False) for user in staff)
        # ours first: the first entry of a partner gives their subtypes (the assignee's included)
        followers += super()._message_auto_subscribe_followers(updated_values, default_subtype_ids)
        if self.env.context.get('cabinet_creator_follows') and 'partner_id' in updated_values:
            # the creator of the ticket (see ``create``; a ticket is created with its requester,
            # writes in the meantime leave it out): the default subtypes, and those they get above
            creator_id = self.env.user.partner_id.id
            given = next(
                (subtype_ids for partner_id, subtype_ids, _template in followers if partner_id == creator_id), ()
            )
            defaults = self.env['mail.message.subtype'].default_subtypes(self._name)[0].ids
            followers.insert(0, (creator_id, list({*defaults, *given}), False))
        return followers

    def _message_auto_subscribe_notify(self, partner_ids, template):
        # the "you have been assigned" notice is queued: its message is made now, its email and
        # inbox notification by the scheduled messages' job right after the ticket is saved, so
        # that saving does not wait for the email's rendering
        queued = self.with_context(cabinet_notify_queued=True)
        return super(CabinetTicket, queued)._message_auto_subscribe_notify(partner_ids, template)

    def message_notify(self, **kwargs):
        if self.env.context.get('cabinet_notify_queued') and not kwargs.get('scheduled_date'):
            # a moment after this transaction began: in the queue of scheduled messages (see
            # ``mail.thread._is_notification_scheduled``), whose job is triggered for then
            kwargs['scheduled_date'] = self.env.cr.now() + timedelta(seconds=1)
        return super().message_notify(**kwargs)

    def _users_who_may_read(self, users):
        """Return those of ``users`` who may read all of these tickets, record rules included (a
        confidential request type stays with its requester and handling team), in any of their
        companies."""
        # each user is checked in all their companies, not in the current user's selection
        return users.filtered(
            lambda user: (
                self.with_user(user).with_context(allowed_company_ids=list(user._get_company_ids())).has_access('read')
            )
        )

    def rating_apply(self, rate, token=None, rating=None, feedback=None, subtype_xmlid=None, notify_delay_send=False):
        """No rating reaches an anonymized ticket (its rating links are renewed by the
        anonymization, see ``_anonymize``). A low rating is also told to the firm: an
        internal note of the low rating subtype, which the assignee and the staff the team
        notifies follow."""
        self._check_anonymized()
        rating = super().rating_apply(
            rate,
            token=token,
            rating=rating,
            feedback=feedback,
            subtype_xmlid=subtype_xmlid,
            notify_delay_send=notify_delay_send,
        )
        if 0 < rate < RATING_LIMIT_OK:
            for ticket in self:
                ticket._notify_low_rating(rating)
        return rating

    def _notify_low_rating(self, rating):
        self.ensure_one()
        feedback = (rating.sudo().feedback or '').strip()
        if feedback:
            body = self.env._(
                "Low satisfaction rating from %(partner)s on ticket %(number)s: %(feedback)s",
                partner=rating.sudo().partner_id.display_name,
                number=self.number,
                feedback=feedback,
            )
        else:
            body = self.env._(
                "Low satisfaction rating from %(partner)s on ticket %(number)s.",
                partner=rating.sudo().partner_id.display_name,
                number=self.number,
            )
        self._mail_bot().message_post(
            body=body, message_type='notification', subtype_xmlid='cabinet_helpdesk.mt_ticket_rating_low'
        )

    def _message_post_after_hook(self, message, msg_values):
        """The party writing on a closed ticket is heard (``_closed_ticket_answered``)."""
        result = super()._message_post_after_hook(message, msg_values)
        if self.is_closed and self._is_party_message(message, msg_values):
            self._closed_ticket_answered(message.author_id)
        return result

    def _is_party_message(self, message, msg_values):
        """Whether ``message`` is the party writing to the firm: a public message (portal chatter
        or email) of someone outside the firm, which is neither a rating nor an automated email.
        Whoever posted it was allowed to (access rules, email routing)."""
        return bool(
            msg_values.get('message_type') in ('comment', 'email')
            and msg_values.get('subtype_id') == self.env['ir.model.data']._xmlid_to_res_id('mail.mt_comment')
            and not msg_values.get('rating_id')
            and not self.env.context.get('cabinet_mail_automated')
            and message.author_id
            and not self._is_staff(message.author_id)
        )

    def _closed_ticket_answered(self, author):
        """The party (``author``) wrote on this closed ticket: within the reopen period the ticket
        reopens; after it, the assignee (else the team leader) gets a to-do and the party is told
        their message was received. Nothing the party writes is left unread."""
        self.ensure_one()
        # sudo: the party's message was accepted on the ticket (access was checked to post it);
        # reopening it or warning the firm is the firm's own handling of that message
        ticket_sudo = self.sudo()
        stage = ticket_sudo._reopen_stage()
        if stage and ticket_sudo._portal_can_reopen():
            ticket_sudo.write({'stage_id': stage.id})
            ticket_sudo._mail_bot().message_post(
                body=self.env._(
                    "Reopened: %(author)s wrote on the ticket after it was closed.", author=author.display_name
                ),
                message_type='notification',
                subtype_xmlid='mail.mt_note',
            )
            return
        ticket_sudo._create_todos(
            {
                ticket_sudo: (
                    ticket_sudo._reminder_user(),
                    self.env._("Message on closed ticket %(number)s", number=ticket_sudo.number),
                    fields.Date.context_today(self),
                    self.env._(
                        "%(author)s wrote on this ticket after it was closed, too late to reopen it: answer them, "
                        "or open a new ticket if it is a new request.",
                        author=author.display_name,
                    ),
                )
            },
            notify=True,
        )
        ticket_sudo._mail_bot().message_post(
            body=self.env._(
                "We received your message on ticket %(number)s. As this ticket is closed, it was passed on to "
                "the person in charge, who will get back to you. For a new question, please file a new request.",
                number=ticket_sudo.number,
            ),
            author_id=ticket_sudo.company_id.partner_id.id,
            partner_ids=author.ids,
            message_type='auto_comment',
            # a public message (the party sees it in the portal conversation) told to its writer alone
            subtype_xmlid='mail.mt_comment',
            notify_skip_followers=True,
            email_layout_xmlid='mail.mail_notification_light',
        )
