#!/usr/bin/env bash
# Serves cabinet_helpdesk with demo data at http://localhost:8069 (login admin / admin).
# Safe to run again: the database is created once, later runs update the module.
#
#   CABINET_DB    database name (default cabinet_helpdesk_demo)
#   CABINET_PORT  HTTP port (default 8069)
# shellcheck source=tools/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DB=${CABINET_DB:-cabinet_helpdesk_demo}
PORT=${CABINET_PORT:-8069}
setup_all

if db_exists "$DB"; then
    log "Updating cabinet_helpdesk in $DB"
    odoo_bin -d "$DB" -u cabinet_helpdesk --stop-after-init --log-level=warn
else
    log "Creating $DB with demo data (a few minutes the first time)"
    odoo_bin -d "$DB" -i cabinet_helpdesk --with-demo --stop-after-init --log-level=warn
fi

cat >&2 <<MSG

  cabinet_helpdesk is served at http://localhost:$PORT
  Log in as admin / admin (manager); demo staff: anna / anna, marc / marc;
  demo client on the portal: portal / portal.   Stop with Ctrl+C.

MSG
exec "$VENV/bin/python" "$ODOO_SRC/odoo-bin" \
    --addons-path="$ODOO_SRC/addons,$ODOO_SRC/odoo/addons,$ADDONS" --data-dir="$CABINET_HOME/data" \
    -d "$DB" --db-filter="^$DB\$" --http-port="$PORT" --log-level=info
