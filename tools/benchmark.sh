#!/usr/bin/env bash
# Performance figures of cabinet_helpdesk: builds a throwaway database (module without demo
# data), creates tickets and prints a table of timings and SQL query counts, then drops it.
#
#   CABINET_BENCH_DB       database name (default cabinet_helpdesk_bench; dropped first and at the end)
#   CABINET_BENCH_TICKETS  number of tickets to create (default 2000)
#   CABINET_BENCH_KEEP     1 = keep the database afterwards to look at it
# shellcheck source=tools/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DB=${CABINET_BENCH_DB:-cabinet_helpdesk_bench}
TICKETS=${CABINET_BENCH_TICKETS:-2000}
setup_all

install_log=$CABINET_HOME/$DB-install.log
mkdir -p "$CABINET_HOME"
log "Building the throwaway database $DB"
dropdb --if-exists "$DB"
rm -rf "$CABINET_HOME/data/filestore/$DB"
if ! odoo_bin -d "$DB" -i cabinet_helpdesk --stop-after-init --log-level=warn --max-cron-threads=0 \
        >"$install_log" 2>&1; then
    grep -E ' (ERROR|CRITICAL) ' -A 20 "$install_log" | head -n 60 >&2
    die "Installing cabinet_helpdesk failed: full log in $install_log"
fi

log "Measuring with $TICKETS tickets"
status=0
"$VENV/bin/python" "$REPO/tools/benchmark.py" --database "$DB" --tickets "$TICKETS" \
    --addons-path "$ODOO_SRC/addons,$ODOO_SRC/odoo/addons,$ADDONS" --data-dir "$CABINET_HOME/data" || status=$?

if [ "${CABINET_BENCH_KEEP:-0}" != 1 ]; then
    dropdb --if-exists "$DB"
    rm -rf "$CABINET_HOME/data/filestore/$DB"
fi
exit "$status"
