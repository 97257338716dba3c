#!/usr/bin/env bash
# Runs the whole test suite of cabinet_helpdesk with pytest-odoo, on a test database
# built afresh (module installed without demo data). Extra arguments go to pytest,
# e.g. `tools/test.sh -k portal` or `tools/test.sh tests/test_ticket.py`.
#
#   CABINET_TEST_DB     test database name (default cabinet_helpdesk_test)
#   CABINET_TEST_REUSE  1 = keep the existing test database and only update the module
#   CABINET_TEST_PORT   HTTP port of the browser and HTTP tests (default 8069)
# shellcheck source=tools/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DB=${CABINET_TEST_DB:-cabinet_helpdesk_test}
setup_all

install_log=$CABINET_HOME/$DB-install.log
mkdir -p "$CABINET_HOME"
if [ "${CABINET_TEST_REUSE:-0}" = 1 ] && db_exists "$DB"; then
    log "Updating cabinet_helpdesk in $DB"
    action=(-u cabinet_helpdesk)
else
    log "Building the test database $DB"
    dropdb --if-exists "$DB"
    rm -rf "$CABINET_HOME/data/filestore/$DB"
    action=(-i cabinet_helpdesk)
fi
if ! odoo_bin -d "$DB" "${action[@]}" --stop-after-init --log-level=warn --max-cron-threads=0 \
        >"$install_log" 2>&1 || grep -qE '^[0-9-]+ [0-9:,]+ [0-9]+ (ERROR|CRITICAL) ' "$install_log"; then
    grep -E ' (ERROR|CRITICAL) ' -A 20 "$install_log" | head -n 60 >&2
    die "Installing cabinet_helpdesk failed: full log in $install_log"
fi

# Test files (tests/...) are given relative to the module; present them through the generated folder so
# that pytest-odoo imports them as odoo.addons.cabinet_helpdesk.tests.*
args=()
has_path=0
for arg in "$@"; do
    if [[ "$arg" == tests* && -e "$REPO/${arg%%::*}" ]]; then
        args+=("cabinet_helpdesk/$arg")
        has_path=1
    else
        args+=("$arg")
    fi
done
[ "$has_path" = 1 ] || args+=("cabinet_helpdesk/tests")

cd "$ADDONS"
exec "$VENV/bin/python" -m pytest -p no:cacheprovider \
    --odoo-database="$DB" \
    --odoo-addons-path="$ODOO_SRC/addons,$ODOO_SRC/odoo/addons,$ADDONS" \
    --odoo-extra="data-dir=$CABINET_HOME/data" --odoo-extra="http-interface=127.0.0.1" \
    --odoo-extra="http-port=${CABINET_TEST_PORT:-8069}" \
    --odoo-log-level=warn --odoo-http \
    "${args[@]}"
