# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from . import cabinet_sla_policy
from . import cabinet_stage
from . import cabinet_ticket
from . import cabinet_team
