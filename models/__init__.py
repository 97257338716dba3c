# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from . import cabinet_stage
from . import cabinet_tag
from . import cabinet_team
from . import cabinet_category
from . import cabinet_ticket
from . import cabinet_ticket_linked_mixin
from . import cabinet_ticket_reference_mixin
from . import cabinet_mandate
from . import rating_rating
from . import ir_rule
from . import cabinet_coordination
from . import res_partner
from . import res_company
from . import res_config_settings
from . import cabinet_analytics_log
from . import ir_config_parameter
from . import ir_sequence
from . import ir_attachment
from . import cabinet_processor
from . import cabinet_demo_history
from . import matter

# concerns extending the models above, each in its own folder (the last one runs first)
from . import party_rule
from . import mail_gateway
from . import service_level
from . import notifications
from . import portal
from . import gdpr
from . import ticket_access

# staff request workflows extend the ticket as the concerns above leave it
from . import workflow

# continuity: absences, deputies and hand-over
from . import continuity

# follow-up: the daily overdue list, reminding and closing tickets waiting for the party
from . import follow_up
