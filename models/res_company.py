# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
import json

from markupsafe import Markup

from odoo import api, fields, models
from odoo.tools import SQL

# Default privacy notice (GDPR art. 13). The portal page adds, around this text, the firm's
# identity and contact details and, per request type, the purpose, legal basis, categories of
# data and retention period, so the text itself stays general.
PRIVACY_NOTICE_DEFAULT = {
    'en_US': Markup(
        "<p>We process the personal data you give us in your requests (identity, contact details, "
        "the content of your messages and documents) only to handle those requests within our "
        "engagement with you, for the purposes and on the legal bases listed below for each type "
        "of request.</p>"
        "<p>Only the people at the firm who handle your request, and the contacts of your own "
        "organisation, can read it. We never share it with another client, and we send nothing "
        "in copy to third parties. Our hosting and IT providers process data on our behalf under "
        "a written agreement.</p>"
        "<p>We keep closed requests for the period shown for their type, then anonymize or delete "
        "them, unless a legal hold (such as a dispute) requires us to keep them longer.</p>"
        "<p>You may ask to access, rectify or erase your data, to restrict or object to its "
        "processing, and to receive it in a portable format; where processing relies on your "
        "consent, you may withdraw it at any time. You can download your data from this portal. "
        "For any other request, write to us at the address above. You may also lodge a complaint "
        "with your data protection supervisory authority.</p>"
    ),
    'fr_FR': Markup(
        "<p>Nous traitons les données personnelles que vous nous communiquez dans vos demandes "
        "(identité, coordonnées, contenu de vos messages et documents) uniquement pour traiter ces "
        "demandes dans le cadre de notre mission, pour les finalités et sur les bases légales "
        "indiquées ci-dessous pour chaque type de demande.</p>"
        "<p>Seules les personnes du cabinet qui traitent votre demande, ainsi que les contacts de "
        "votre propre organisation, peuvent la lire. Nous ne la communiquons jamais à un autre "
        "client et n'envoyons rien en copie à des tiers. Nos prestataires d'hébergement et "
        "informatiques traitent les données pour notre compte, dans le cadre d'un contrat écrit.</p>"
        "<p>Nous conservons les demandes clôturées pendant la durée indiquée pour leur type, puis "
        "nous les anonymisons ou les supprimons, sauf si une obligation de conservation (par exemple "
        "un litige) nous impose de les garder plus longtemps.</p>"
        "<p>Vous pouvez demander l'accès à vos données, leur rectification ou leur effacement, la "
        "limitation du traitement ou vous y opposer, et recevoir vos données dans un format "
        "portable ; lorsque le traitement repose sur votre consentement, vous pouvez le retirer à "
        "tout moment. Vous pouvez télécharger vos données depuis ce portail. Pour toute autre "
        "demande, écrivez-nous à l'adresse ci-dessus. Vous pouvez aussi introduire une réclamation "
        "auprès de votre autorité de contrôle de la protection des données.</p>"
    ),
    'de_DE': Markup(
        "<p>Wir verarbeiten die personenbezogenen Daten, die Sie uns in Ihren Anfragen mitteilen "
        "(Identität, Kontaktdaten, Inhalt Ihrer Nachrichten und Dokumente), ausschließlich zur "
        "Bearbeitung dieser Anfragen im Rahmen unseres Auftrags, zu den Zwecken und auf den "
        "Rechtsgrundlagen, die unten für jede Art von Anfrage angegeben sind.</p>"
        "<p>Nur die Personen unseres Büros, die Ihre Anfrage bearbeiten, und die Kontakte Ihrer "
        "eigenen Organisation können sie lesen. Wir geben sie nie an andere Mandanten weiter und "
        "senden nichts in Kopie an Dritte. Unsere Hosting- und IT-Dienstleister verarbeiten Daten "
        "in unserem Auftrag auf Grundlage eines schriftlichen Vertrags.</p>"
        "<p>Abgeschlossene Anfragen bewahren wir für die bei ihrer Art angegebene Dauer auf und "
        "anonymisieren oder löschen sie danach, es sei denn, eine Aufbewahrungspflicht (etwa bei "
        "einem Rechtsstreit) verlangt eine längere Aufbewahrung.</p>"
        "<p>Sie können Auskunft über Ihre Daten, ihre Berichtigung oder Löschung, die "
        "Einschränkung der Verarbeitung verlangen, der Verarbeitung widersprechen und Ihre Daten "
        "in einem übertragbaren Format erhalten; beruht die Verarbeitung auf Ihrer Einwilligung, "
        "können Sie diese jederzeit widerrufen. Ihre Daten können Sie in diesem Portal "
        "herunterladen. Für alle anderen Anliegen schreiben Sie uns an die oben genannte Adresse. "
        "Sie können sich außerdem bei Ihrer Datenschutz-Aufsichtsbehörde beschweren.</p>"
    ),
}


class ResCompany(models.Model):
    _inherit = 'res.company'

    # Privacy notice shown to clients on the portal before their first request (GDPR art. 13)
    cabinet_privacy_notice = fields.Html(
        string="Privacy Notice",
        translate=True,
        sanitize=True,
        default=lambda self: PRIVACY_NOTICE_DEFAULT['en_US'],
        help="Shown to clients on the portal before their first request and from every ticket page. "
        "The firm's identity and, per request type, the purpose, legal basis and retention "
        "period are added around this text.",
    )

    # Data protection officer's contact, given in the privacy notice (GDPR art. 13(1)(b), 37(7))
    cabinet_dpo_partner_id = fields.Many2one(
        'res.partner',
        string="Data Protection Officer",
        help="The contact (name, email) data subjects write to about their data. Shown in the privacy "
        "notice, the acknowledgement email, the data exports and the record of processing activities.",
    )
    # Processors and transfers outside the EEA (GDPR art. 28, chapter V; record of processing, art. 30)
    cabinet_processor_ids = fields.One2many('cabinet.processor', 'company_id', string="Data Processors")

    @api.model_create_multi
    def create(self, vals_list):
        companies = super().create(vals_list)
        companies.browse(
            company.id
            for company, vals in zip(companies, vals_list, strict=True)
            if 'cabinet_privacy_notice' not in vals
        )._cabinet_set_default_privacy_notice()
        return companies

    @api.model
    def _cabinet_install_privacy_notice(self):
        """Give every company the default notice in all its languages (at install and update);
        a notice a firm has already written is left as it is."""
        companies = self.search([])
        companies.filtered(lambda c: not c.cabinet_privacy_notice).cabinet_privacy_notice = PRIVACY_NOTICE_DEFAULT[
            'en_US'
        ]
        companies._cabinet_set_default_privacy_notice()

    def _cabinet_set_default_privacy_notice(self):
        """Add the French and German versions of the default notice, whether or not these
        languages are active yet, so that they show as soon as a firm activates them. Only
        companies still showing the default English text get them, and existing translations
        are kept."""
        if not self:
            return
        self.flush_recordset(['cabinet_privacy_notice'])
        translations = {lang: str(text) for lang, text in PRIVACY_NOTICE_DEFAULT.items() if lang != 'en_US'}
        self.env.execute_query(
            SQL(
                """UPDATE res_company
                  SET cabinet_privacy_notice = %(translations)s::jsonb || cabinet_privacy_notice
                WHERE id IN %(ids)s AND cabinet_privacy_notice->>'en_US' = %(default)s""",
                translations=json.dumps(translations),
                ids=tuple(self.ids),
                default=str(PRIVACY_NOTICE_DEFAULT['en_US']),
            )
        )
        self.invalidate_recordset(['cabinet_privacy_notice'])
