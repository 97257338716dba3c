# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from . import cabinet_mail_pending
from . import cabinet_ticket
from . import mail_thread
from . import mail_alias_domain
from . import mail_message
