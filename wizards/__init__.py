# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from . import cabinet_ticket_legal_hold
from . import cabinet_ticket_merge
from . import cabinet_ticket_reassign
from . import res_partner_data_request
from . import privacy_lookup_wizard
from . import mail_compose_message
from . import cabinet_ticket_refuse
