#!/usr/bin/env bash
# Refreshes i18n/cabinet_helpdesk.pot and the fr, de, nl catalogues from the module's current
# strings (translations already in the .po files are kept). Run it after changing any string.
# shellcheck source=tools/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DB=${CABINET_I18N_DB:-cabinet_helpdesk_i18n}
setup_all
if db_exists "$DB"; then
    odoo_bin -d "$DB" -u cabinet_helpdesk --stop-after-init --log-level=warn
else
    odoo_bin -d "$DB" -i cabinet_helpdesk --stop-after-init --log-level=warn
fi
odoo_cli() { "$VENV/bin/python" "$ODOO_SRC/odoo-bin" --addons-path="$ODOO_SRC/addons,$ODOO_SRC/odoo/addons,$ADDONS" "$@"; }
odoo_cli i18n loadlang -d "$DB" -l fr de nl
odoo_bin -d "$DB" -u cabinet_helpdesk --i18n-overwrite --stop-after-init --log-level=warn
odoo_cli i18n export -d "$DB" cabinet_helpdesk -l pot fr de nl
log "Updated $(ls "$REPO"/i18n/*.po* | tr '\n' ' ')"
