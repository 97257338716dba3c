# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from . import cabinet_matter
from . import cabinet_matter_lane
from . import cabinet_ticket
from . import cabinet_coordination
from . import ir_attachment
