# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from . import test_access_rights
from . import test_ticket
from . import test_views_performance
from . import test_portal
