# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
import uuid
from datetime import timedelta

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.fields import Command
from odoo.tools import format_datetime


def _ics_text(value):
    """Escape a TEXT value of an iCalendar property (RFC 5545, 3.3.11)."""
    value = (value or '').replace('\\', '\\\\').replace(';', '\\;').replace(',', '\\,')
    return value.replace('\r\n', '\\n').replace('\n', '\\n')


def _ics_param(value):
    """A parameter value (e.g. CN): quoted, without the characters a quoted value may not hold."""
    return '"%s"' % (value or '').replace('"', '').replace('\n', ' ').replace('\r', ' ')


def _ics_fold(line):
    """Fold a content line at 75 octets (RFC 5545, 3.1)."""
    data = line.encode()
    parts = []
    while len(data) > 75:
        cut = 75 if not parts else 74
        while cut and (data[cut] & 0xC0) == 0x80:  # never split a UTF-8 character
            cut -= 1
        parts.append(data[:cut])
        data = data[cut:]
    parts.append(data)
    return b'\r\n '.join(parts)


class CabinetMatterMeeting(models.TransientModel):
    """Plan a meeting with some parties of a matter: each party gets its own invitation, on its
    own ticket, with an ``.ics`` naming that party only; a coordination of the matter gathers
    the tickets for the synthesis."""

    _name = 'cabinet.matter.meeting'
    _description = "Plan a Matter Meeting"

    matter_id = fields.Many2one('cabinet.matter', required=True, readonly=True)
    name = fields.Char(
        string="Subject",
        required=True,
        help="Sent to every invited party: name no party here.",
    )
    start = fields.Datetime(required=True)
    duration = fields.Float(default=1.0, help="In hours.")
    location = fields.Char()
    note = fields.Html(
        string="Message",
        help="Sent as written to every invited party, each on its own ticket: name no other party.",
    )
    ticket_ids = fields.Many2many(
        'cabinet.ticket',
        string="Tickets",
        required=True,
        domain="[('matter_id', '=', matter_id), ('is_closed', '=', False)]",
        help="One ticket per invited party: the invitation goes to that ticket's requester only.",
    )

    @api.constrains('duration')
    def _check_duration(self):
        if any(meeting.duration <= 0 for meeting in self):
            raise ValidationError(self.env._("A meeting lasts more than zero hours."))

    def action_send(self):
        """Create the coordination and post one invitation per ticket, to its requester only."""
        self.ensure_one()
        matter = self.matter_id
        tickets = self.ticket_ids
        tickets.check_access('read')
        if tickets.filtered(lambda ticket: ticket.matter_id != matter):
            raise UserError(
                self.env._(
                    "Only tickets of matter %s can be invited: add the ticket to the matter first.", matter.display_name
                )
            )
        if len(tickets.commercial_partner_id) != len(tickets):
            raise UserError(
                self.env._("Choose one ticket per party: each party receives the invitation once, on one ticket.")
            )
        stop = self.start + timedelta(hours=self.duration)
        coordination = self.env['cabinet.coordination'].create(
            {
                'name': self.name,
                'meeting_date': self.start,
                'matter_id': matter.id,
                'company_id': matter.company_id.id,
                'ticket_ids': [Command.set(tickets.ids)],
            }
        )
        for ticket in tickets:
            ticket.with_context(mail_post_autofollow_author_skip=True, mail_post_autofollow=False).message_post(
                body=self._invitation_body(ticket),
                subject=self.env._("Invitation: %(subject)s", subject=self.name),
                partner_ids=ticket.partner_id.ids,
                message_type='comment',
                subtype_xmlid='mail.mt_comment',
                attachments=[('invitation.ics', self._invitation_ics(ticket, stop))],
            )
        self._add_to_calendar(stop)
        return coordination._get_records_action()

    def _invitation_body(self, ticket):
        partner = ticket.partner_id
        when = format_datetime(
            self.env, self.start, tz=partner.tz or self.env.user.tz, dt_format='medium', lang_code=partner.lang
        )
        body = Markup("<p><strong>%s</strong></p><p>%s</p>") % (
            self.name,
            self.env._("Date: %(when)s", when=when),
        )
        if self.location:
            body += Markup("<p>%s</p>") % self.env._("Place: %(place)s", place=self.location)
        if self.note:
            body += self.note
        return body

    def _invitation_ics(self, ticket, stop):
        """The ``.ics`` invitation of ``ticket``'s requester: one event, one attendee (them)."""
        fmt = '%Y%m%dT%H%M%SZ'
        company = self.matter_id.company_id
        organizer = self.env.user.email or company.email
        partner = ticket.partner_id
        lines = [
            'BEGIN:VCALENDAR',
            'VERSION:2.0',
            'PRODID:-//Cabinet Helpdesk//Meeting//EN',
            'METHOD:REQUEST',
            'BEGIN:VEVENT',
            f'UID:{uuid.uuid4()}@cabinet-helpdesk',
            f'DTSTAMP:{fields.Datetime.now().strftime(fmt)}',
            f'DTSTART:{self.start.strftime(fmt)}',
            f'DTEND:{stop.strftime(fmt)}',
            f'SUMMARY:{_ics_text(self.name)}',
            f'DESCRIPTION:{_ics_text(ticket.number)}',
        ]
        if self.location:
            lines.append(f'LOCATION:{_ics_text(self.location)}')
        if organizer:
            lines.append(f'ORGANIZER;CN={_ics_param(company.name)}:mailto:{organizer}')
        if partner.email:
            lines.append(f'ATTENDEE;CN={_ics_param(partner.name)};RSVP=TRUE:mailto:{partner.email}')
        lines += ['END:VEVENT', 'END:VCALENDAR']
        return b'\r\n'.join(_ics_fold(line) for line in lines) + b'\r\n'

    def _add_to_calendar(self, stop):
        """When Calendar is installed, put the meeting in the responsible's calendar (only them
        as attendee: the parties receive their own invitations on their tickets)."""
        if 'calendar.event' not in self.env:
            return
        responsible = self.matter_id.user_id or self.env.user
        self.env['calendar.event'].with_context(no_mail_to_attendees=True).create(
            {
                'name': self.name,
                'start': self.start,
                'stop': stop,
                'location': self.location,
                'user_id': responsible.id,
                'partner_ids': [Command.set(responsible.partner_id.ids)],
                'privacy': 'private',
            }
        )
