# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from odoo import models
from odoo.tools.mail import email_normalize_all


def is_party_thread(env, model_name):
    """Whether ``model_name`` is a thread of one party (it inherits ``cabinet.party.thread``):
    the guards on followers, outgoing mail and the composer apply to it."""
    registry = env.registry
    return (
        bool(model_name)
        and model_name in registry
        and issubclass(registry[model_name], registry['cabinet.party.thread'])
    )


class CabinetPartyThread(models.AbstractModel):
    """A thread that belongs to one party: its followers and recipients outside staff are the
    party's contacts and the agent of a mandate covering it, whatever the path (chatter,
    composer, email, scheduled action), and its mails carry no copies to anyone else.

    The inheriting model says who is allowed (``_filter_allowed_partners``), refuses or
    drops the others (``_enforce_allowed_partners``, ``_refuse_addresses``),
    maps addresses to allowed partners (``_partners_from_emails``) and restricts its
    outgoing mails (``_restrict_outgoing_mails``). This mixin applies the rule to the
    thread; ``mail.followers``, ``mail.mail`` and the composer apply it to every model
    inheriting it (``is_party_thread``). A person who adds anyone else gets a UserError; an
    email or a scheduled action drops them and logs it; notifications and outgoing mails
    always drop them.
    """

    _name = 'cabinet.party.thread'
    _description = "Thread of One Party"
    _inherit = ['mail.thread']

    def _mail_driven(self, message_type=None):
        """Whether the current change comes from an email or a scheduled action rather than from a
        person: outsiders are then dropped and logged instead of refused with an error. The email
        gateway passes ``message_type='email'`` and sets the context key ``cabinet_mail_automated``
        (or ``cabinet_mail_gateway``, also set for stage templates); the scheduler sets
        ``cron_id``. This only chooses between refusing and dropping: no context key lets an
        outsider through."""
        context = self.env.context
        return (
            message_type == 'email'
            or 'cabinet_mail_automated' in context
            or bool(context.get('cabinet_mail_gateway') or context.get('cron_id'))
        )

    def _message_subscribe(self, partner_ids=None, subtype_ids=None, customer_ids=None):
        if not self or not partner_ids:
            return super()._message_subscribe(partner_ids, subtype_ids, customer_ids=customer_ids)
        partners = self.env['res.partner'].browse(partner_ids)
        allowed_by_ticket = {ticket: ticket._enforce_allowed_partners(partners, what="follower(s)") for ticket in self}
        if all(allowed == partners for allowed in allowed_by_ticket.values()):
            return super()._message_subscribe(partner_ids, subtype_ids, customer_ids=customer_ids)
        for ticket, allowed in allowed_by_ticket.items():
            if allowed:
                super(CabinetPartyThread, ticket)._message_subscribe(
                    allowed.ids,
                    subtype_ids,
                    customer_ids=customer_ids and [pid for pid in customer_ids if pid in allowed.ids],
                )
        return True

    def message_post(self, *, partner_ids=None, outgoing_email_to=False, **kwargs):
        if (partner_ids or outgoing_email_to) and self and all(isinstance(pid, int) for pid in partner_ids or []):
            self.ensure_one()
            message_type = kwargs.get('message_type', 'notification')
            partners = self.env['res.partner'].browse(partner_ids or [])
            if outgoing_email_to:
                # addresses without partner: only those of allowed partners are kept, as partners
                emails = email_normalize_all(outgoing_email_to)
                found, unknown = self._partners_from_emails(emails)
                if unknown:
                    self._refuse_addresses(unknown, message_type=message_type)
                partners |= self.env['res.partner'].browse([partner.id for partner in found.values()])
                outgoing_email_to = False
            partner_ids = self._enforce_allowed_partners(partners, message_type=message_type).ids
        return super().message_post(partner_ids=partner_ids, outgoing_email_to=outgoing_email_to, **kwargs)

    def _message_track_post_template(self, changes):
        """Stage templates are sent by the system, not chosen by the person who moved the ticket:
        their recipients outside the rule are dropped and logged rather than blocking the change."""
        return super(CabinetPartyThread, self.with_context(cabinet_mail_gateway=True))._message_track_post_template(
            changes
        )

    def _message_update_content(
        self, message, /, *, body, attachment_ids=None, partner_ids=None, strict=True, **kwargs
    ):
        if partner_ids:
            partner_ids = self._enforce_allowed_partners(
                self.env['res.partner'].browse([int(pid) for pid in partner_ids])
            ).ids
        return super()._message_update_content(
            message, body=body, attachment_ids=attachment_ids, partner_ids=partner_ids, strict=strict, **kwargs
        )

    def _message_get_suggested_recipients_batch(
        self, reply_discussion=False, reply_message=None, no_create=True, primary_email=False, additional_partners=None
    ):
        """Suggest only partners allowed by the rule; bare addresses (Cc of incoming mail, unknown
        senders) are never suggested."""
        suggested = super()._message_get_suggested_recipients_batch(
            reply_discussion=reply_discussion,
            reply_message=reply_message,
            no_create=no_create,
            primary_email=primary_email,
            additional_partners=additional_partners,
        )
        for ticket in self:
            recipients = suggested.get(ticket.id) or []
            partners = self.env['res.partner'].browse([r['partner_id'] for r in recipients if r.get('partner_id')])
            allowed = ticket._filter_allowed_partners(partners)
            suggested[ticket.id] = [r for r in recipients if r.get('partner_id') in allowed.ids]
        return suggested

    def _notify_by_email_get_headers(self, headers=None):
        """No Cc or Bcc, and no other recipients added to the To header: each recipient sees
        only themselves."""
        headers = super()._notify_by_email_get_headers(headers=headers)
        for key in [key for key in headers if key.lower() in ('cc', 'bcc', 'x-msg-to-add')]:
            del headers[key]
        return headers
