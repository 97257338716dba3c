# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from . import cabinet_record_of_processing, cabinet_team_analytics, cabinet_ticket_analysis, cabinet_ticket_dossier
from . import cabinet_matter_reports
