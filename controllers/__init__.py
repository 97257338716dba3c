# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from . import portal
from . import thread
