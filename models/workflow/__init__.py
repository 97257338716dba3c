# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
# Staff requests with predefined workflows: the stages of each request type, approvals,
# guidance when filing, urgency and impact of IT incidents, deadline tasks that come back.
from . import cabinet_stage
from . import cabinet_category
from . import cabinet_recurring_task
from . import cabinet_ticket
from . import cabinet_team
