# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
"""Values shared by the module's models, reports and controllers."""

import re

# How a request reached the firm (``cabinet.ticket.channel`` and its analysis).
CHANNELS = [
    ('email', "Email"),
    ('portal', "Portal"),
    ('phone', "Phone"),
    ('internal', "Internal"),
]

PRIORITIES = [
    ('0', "Normal"),
    ('1', "Important"),
    ('2', "Urgent"),
    ('3', "Critical"),
]

SLA_STATUSES = [
    ('ok', "On Track"),
    ('at_risk', "At Risk"),
    ('breached', "Breached"),
    ('met', "Met"),
    ('excluded', "Not Counted"),
]

# Mail gateway: automated senders and headers that never get an answer (RFC 3834)
AUTOMATED_PRECEDENCES = ('bulk', 'junk', 'list', 'auto_reply')
AUTOMATED_HEADERS = ('X-Autoreply', 'X-Autorespond', 'List-Unsubscribe')
AUTOMATED_SENDERS = ('mailer-daemon', 'postmaster', 'noreply', 'no-reply', 'donotreply', 'do-not-reply')
# something looking like an email address, in the display name of a sender
ADDRESS_LIKE = re.compile(r'[^\s@<>"]+@[^\s@<>"]+')
