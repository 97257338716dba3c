# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
import re

import polib

from odoo.tests import TransactionCase, tagged
from odoo.tools.misc import file_path

PLACEHOLDER = re.compile(r'%\([a-z_]+\)[sdf]|%[sdf]|\{\{.*?\}\}')


@tagged('post_install', '-at_install', 'cabinet_helpdesk')
class TestCabinetTranslations(TransactionCase):
    def test_catalogues_complete(self):
        """French and German (and Dutch) translate every string with the same placeholders."""
        template = polib.pofile(file_path('cabinet_helpdesk/i18n/cabinet_helpdesk.pot'))
        msgids = {entry.msgid for entry in template}
        for lang in ('fr', 'de', 'nl'):
            catalogue = polib.pofile(file_path(f'cabinet_helpdesk/i18n/{lang}.po'))
            self.assertEqual({entry.msgid for entry in catalogue}, msgids, f"{lang}.po follows the template")
            for entry in catalogue:
                self.assertTrue(entry.msgstr.strip(), f"{lang}.po translates {entry.msgid[:60]!r}")
                self.assertEqual(
                    sorted(PLACEHOLDER.findall(entry.msgid)),
                    sorted(PLACEHOLDER.findall(entry.msgstr)),
                    f"{lang}.po keeps the placeholders of {entry.msgid[:60]!r}",
                )

    def test_french_interface(self):
        """The French catalogue loads: default data and code messages speak French."""
        self.env['res.lang']._activate_lang('fr_FR')
        self.env['ir.module.module']._load_module_terms(['cabinet_helpdesk'], ['fr_FR'], overwrite=True)
        env_fr = self.env(context={'lang': 'fr_FR'})
        stage = env_fr.ref('cabinet_helpdesk.cabinet_stage_in_progress')
        self.assertNotEqual(stage.name, "In Progress", "Default stages are translated")
        message = (
            env_fr['cabinet.ticket']
            .with_context(lang='fr_FR')
            .env._("A ticket needs exactly one requester: choose the contact who asked.")
        )
        self.assertIn("demandeur", message, "Code messages are translated")
