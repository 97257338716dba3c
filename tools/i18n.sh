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
# One language at a time through a temporary file: exporting in place truncates the catalogue
# before its code translations are read back from it.
for lang in pot fr de nl; do
    case $lang in pot) target=$REPO/i18n/cabinet_helpdesk.pot; tmp=$(mktemp --suffix=.pot) ;;
                  *) target=$REPO/i18n/$lang.po; tmp=$(mktemp --suffix=.po) ;; esac
    odoo_cli i18n export -d "$DB" cabinet_helpdesk -l "$lang" -o "$tmp"
    if [ "$lang" != pot ] && [ -f "$target" ]; then
        # Odoo leaves msgstr empty where the translation equals the source (e.g. "Date" in
        # French): keep the catalogue's own entry so that every string stays translated.
        "$VENV/bin/python" - "$target" "$tmp" <<'PY'
import sys

import polib

old = {entry.msgid: entry.msgstr for entry in polib.pofile(sys.argv[1]) if entry.msgstr}
new = polib.pofile(sys.argv[2])
for entry in new:
    if not entry.msgstr and entry.msgid in old:
        entry.msgstr = old[entry.msgid]
new.save(sys.argv[2])
PY
    fi
    chmod 644 "$tmp"
    mv "$tmp" "$target"
done
log "Updated $(ls "$REPO"/i18n/*.po* | tr '\n' ' ')"
