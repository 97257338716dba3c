# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
import bisect
from datetime import datetime, time, timedelta

from pytz import timezone, utc

from odoo import api, fields, models
from odoo.fields import Domain
from odoo.tools import split_every


class CabinetTicket(models.Model):
    """Tickets waiting for the party: one reminder to the requester after the team's
    ``inactive_reminder_days`` working days without news, then closing after
    ``inactive_close_days`` more working days. The party's public answer resets the clock."""

    _inherit = 'cabinet.ticket'

    waiting_since = fields.Datetime(
        string="Waiting for the Party Since",
        compute='_compute_waiting_since',
        store=True,
        precompute=True,
        copy=False,
        help="When the ticket entered the stage waiting for the party, or when the party last answered since.",
    )
    inactive_reminder_date = fields.Date(
        compute='_compute_waiting_since',
        store=True,
        precompute=True,
        copy=False,
        export_string_translation=False,
        help="When the party was reminded that the firm waits for their answer; cleared when the party "
        "answers or the stage changes.",
    )

    @api.depends('stage_id')
    def _compute_waiting_since(self):
        waiting = self._waiting_party_stages()
        now = fields.Datetime.now()
        tickets_waiting = self.filtered(lambda ticket: ticket.stage_id in waiting)
        tickets_waiting.waiting_since = now
        (self - tickets_waiting).waiting_since = False
        self.inactive_reminder_date = False

    def _message_post_after_hook(self, message, msg_values):
        """A public message of the party on a ticket waiting for them restarts the clock of the
        reminder and of the closing."""
        result = super()._message_post_after_hook(message, msg_values)
        author = message.author_id
        if (
            self.waiting_since
            and msg_values.get('message_type') in ('comment', 'email')
            and msg_values.get('subtype_id') == self.env['ir.model.data']._xmlid_to_res_id('mail.mt_comment')
            and author
            and author.commercial_partner_id == self.commercial_partner_id
            and not self._is_staff(author)
        ):
            # whoever may post on the ticket restarts the clock, even without write access
            self.sudo().write({'waiting_since': message.date or fields.Datetime.now(), 'inactive_reminder_date': False})
        return result

    @api.model
    def _cron_close_inactive(self, batch_size=100):
        """Remind the party once of the tickets waiting for their answer for the team's
        ``inactive_reminder_days`` working days, then close those still without news
        ``inactive_close_days`` working days after the reminder, with a note. Working days follow
        the team's working hours (leaves of the calendar included).

        Resumable: the reminder is marked (``inactive_reminder_date``) in the same transaction as
        it is posted and a closed ticket leaves the waiting stage, so a rerun repeats nothing.
        """
        waiting = self._waiting_party_stages()
        if not waiting:
            return
        candidates = self.search(
            Domain('stage_id', 'in', waiting.ids)
            & Domain('waiting_since', '!=', False)
            & Domain('team_id.inactive_reminder_days', '>', 0)
        )
        to_remind, to_close = candidates._inactive_due()
        due = to_remind | to_close
        done = 0
        for ids in split_every(batch_size, due.ids):
            tickets = self.browse(ids).try_lock_for_update()
            tickets = tickets.filtered(lambda t: t.stage_id in waiting)
            (tickets & to_remind).filtered(lambda t: not t.inactive_reminder_date)._remind_inactive_party()
            (tickets & to_close).filtered('inactive_reminder_date')._close_inactive()
            done += len(ids)
            if not self.env['ir.cron']._commit_progress(len(ids), remaining=len(due) - done):
                break

    @api.model
    def _waiting_party_stages(self):
        """The stages in which a ticket waits for the party (from the cached identifier: no query)."""
        stage_id = self.env['ir.model.data']._xmlid_to_res_id(
            'cabinet_helpdesk.cabinet_stage_waiting', raise_if_not_found=False
        )
        return self.env['cabinet.stage'].browse(stage_id or [])

    def _inactive_due(self):
        """Split the waiting tickets of ``self`` into those whose party is due for the reminder and
        those due for closing, counting the working days of each team's calendar after the day
        the clock started (the day of the last news, then the day of the reminder), today
        included.

        :return: ``(to_remind, to_close)`` ``cabinet.ticket`` recordsets
        """
        to_remind = to_close = self.browse()
        for team, tickets in self.grouped('team_id').items():
            calendar = team.resource_calendar_id
            tz = timezone(calendar.tz or 'UTC')
            today = utc.localize(fields.Datetime.now()).astimezone(tz).date()
            starts = {
                ticket: ticket.inactive_reminder_date or utc.localize(ticket.waiting_since).astimezone(tz).date()
                for ticket in tickets
            }
            work_days = self._inactive_work_days(calendar, tz, min(starts.values()), today)
            for ticket, start in starts.items():
                elapsed = len(work_days) - bisect.bisect_right(work_days, start)
                if not ticket.inactive_reminder_date:
                    if elapsed >= team.inactive_reminder_days:
                        to_remind |= ticket
                elif team.inactive_close_days and elapsed >= team.inactive_close_days:
                    to_close |= ticket
        return to_remind, to_close

    @api.model
    def _inactive_work_days(self, calendar, tz, first, last):
        """Sorted dates from ``first`` to ``last`` (included) with working time in ``calendar``
        (Monday to Friday without calendar)."""
        if not calendar:
            return [
                first + timedelta(days=n)
                for n in range((last - first).days + 1)
                if (first + timedelta(days=n)).weekday() < 5
            ]
        start = tz.localize(datetime.combine(first, time.min))
        stop = tz.localize(datetime.combine(last + timedelta(days=1), time.min))
        intervals = calendar._work_intervals_batch(start, stop, tz=tz)[False]
        return sorted({interval[0].astimezone(tz).date() for interval in intervals})

    def _remind_inactive_party(self):
        """Post the reminder of the waiting tickets of ``self`` to their requester, and only to
        them, then mark it as given today."""
        template = self.env.ref('cabinet_helpdesk.mail_template_inactive_reminder', raise_if_not_found=False)
        if not template:
            return
        today = fields.Date.context_today(self)
        bodies = template._render_field('body_html', self.ids, compute_lang=True)
        subjects = template._render_field('subject', self.ids, compute_lang=True)
        for ticket in self:
            ticket.message_post(
                body=bodies[ticket.id],
                subject=subjects[ticket.id],
                message_type='comment',
                subtype_xmlid='mail.mt_comment',
                partner_ids=ticket.partner_id.ids,
            )
        self.inactive_reminder_date = today

    def _close_inactive(self):
        """Close the tickets of ``self`` still waiting for the party after the reminder, with a note."""
        for ticket in self:
            stage = ticket._inactive_closing_stage()
            if not stage:
                continue
            ticket.message_post(
                body=self.env._(
                    "Closed without an answer from the party %(days)s working days after the reminder.",
                    days=ticket.team_id.inactive_close_days,
                ),
                message_type='comment',
                subtype_xmlid='mail.mt_note',
            )
            ticket.stage_id = stage

    def _inactive_closing_stage(self):
        """The stage an inactive ticket is closed in: the first closing stage of its team other than
        the cancelling one."""
        self.ensure_one()
        cancelled = self.env.ref('cabinet_helpdesk.cabinet_stage_cancelled', raise_if_not_found=False)
        stages = self._stages_for_team(self.team_id).filtered(lambda s: s.is_closed and s != cancelled)
        return stages[:1] or self._closing_stage()
