# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from . import cabinet_ticket_analysis
from . import cabinet_team_analytics
from . import cabinet_record_of_processing
