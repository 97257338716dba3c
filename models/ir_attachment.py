# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
import unicodedata

from odoo import api, models

# Invisible characters a file name keeps: the zero-width non-joiner and joiner shape Persian,
# Indic and emoji text, and reorder nothing
KEPT_FORMAT_CHARACTERS = frozenset('\u200c\u200d')


def _clean_file_name_character(char):
    category = unicodedata.category(char)
    if char.isspace() and category != 'Zs':  # tab, line and paragraph breaks
        return ' '
    if category in ('Cc', 'Cf') and char not in KEPT_FORMAT_CHARACTERS:
        return ''
    return char


def clean_file_name(name):
    """Return ``name`` without the characters that make a file name show something else than
    what it is: bidirectional controls (a right-to-left override shows ``invoice``, U+202E,
    ``fdp.exe`` as "invoiceexe.pdf"), other invisible format characters (U+200B, U+2060,
    U+FEFF...) and control characters; tab and line breaks become spaces. The rest of the name
    is kept as it is.

    :param str name: a file name
    :rtype: str
    """
    if not isinstance(name, str) or name.isprintable():
        return name
    cleaned = ''.join(_clean_file_name_character(char) for char in name)
    return cleaned if cleaned.strip() else 'attachment'


class IrAttachment(models.Model):
    """File names are cleaned where every attachment is made or renamed, so that an email, a
    portal upload, the chatter and any RPC call store the same harmless name."""

    _inherit = 'ir.attachment'

    @api.model_create_multi
    def create(self, vals_list):
        vals_list = [
            dict(vals, name=clean_file_name(vals['name'])) if isinstance(vals.get('name'), str) else vals
            for vals in vals_list
        ]
        return super().create(vals_list)

    def write(self, vals):
        if isinstance(vals.get('name'), str):
            vals = dict(vals, name=clean_file_name(vals['name']))
        return super().write(vals)
