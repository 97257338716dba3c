# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from . import cabinet_gdpr_log
from . import cabinet_retention_log
from . import cabinet_retention_policy
from . import cabinet_ticket
from . import res_partner
from . import res_users
