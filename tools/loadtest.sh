#!/usr/bin/env bash
# Load test of cabinet_helpdesk: serves a copy of a benchmark database with 2 workers on loopback
# and drives it with locust (headless) for a bounded time: the portal list and ticket page of a
# logged-in portal client, and the backend list (JSON-RPC web_search_read) of a team user.
# Prints requests/s, p50/p95/p99 and errors per request, stops the server, and fails when any
# request failed.
#
#   bash tools/loadtest.sh                      10k-ticket database, 60 s, 6 simulated users
#   bash tools/loadtest.sh --size large --duration 120 --users 10
#
# Options:
#   --size S        benchmark database of tools/benchmark.sh --size S: its big one (default small: 10k)
#   --duration SEC  how long the load lasts (default 60)
#   --users N       simultaneous simulated users (default 6), started 2 per second
#   --port P        HTTP port on 127.0.0.1 (default 8175)
#
# locust runs from its own virtualenv, $CABINET_HOME/bench-venv (created on first use, pinned in
# tools/requirements-bench.txt). The server runs on a throwaway copy (<db>_load), dropped at the end.
# shellcheck source=tools/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SIZE=small
DURATION=60
USERS=6
PORT=8175
while [ $# -gt 0 ]; do
    case "$1" in
        --size) SIZE=$2; shift ;;
        --duration) DURATION=$2; shift ;;
        --users) USERS=$2; shift ;;
        --port) PORT=$2; shift ;;
        -h|--help) sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "Unknown option $1 (see --help)" ;;
    esac
    shift
done
case "$SIZE" in
    small) SOURCE=${CABINET_BENCH_PREFIX:-cab_bench}_10k ;;
    medium) SOURCE=${CABINET_BENCH_PREFIX:-cab_bench}_100k ;;
    large) SOURCE=${CABINET_BENCH_PREFIX:-cab_bench}_1m ;;
    *) die "--size is small, medium or large" ;;
esac
[[ "$DURATION" =~ ^[0-9]+$ ]] && [ "$DURATION" -le 3600 ] || die "--duration is a number of seconds, at most 3600"
[[ "$USERS" =~ ^[0-9]+$ ]] && [ "$USERS" -le 200 ] || die "--users is a number, at most 200"

setup_all
# the benchmark database, built or checked by the benchmark command
bash "$REPO/tools/benchmark.sh" --size "$SIZE" --build-only

BENCH_VENV=$CABINET_HOME/bench-venv
if [ ! -x "$BENCH_VENV/bin/locust" ] \
        || [ "$(cat "$BENCH_VENV/.requirements.sha1" 2>/dev/null)" != "$(sha1sum < "$REPO/tools/requirements-bench.txt")" ]; then
    log "Installing locust into $BENCH_VENV"
    [ -x "$BENCH_VENV/bin/python" ] || "$PYTHON" -m venv "$BENCH_VENV"
    grep -E '^locust' "$REPO/tools/requirements-bench.txt" > "$BENCH_VENV/requirements.txt"
    "$BENCH_VENV/bin/pip" install -q --disable-pip-version-check -r "$BENCH_VENV/requirements.txt" 2>&1 \
        | grep -v "^WARNING: Location" >&2 || true
    [ -x "$BENCH_VENV/bin/locust" ] || die "locust did not install into $BENCH_VENV"
    sha1sum < "$REPO/tools/requirements-bench.txt" > "$BENCH_VENV/.requirements.sha1"
fi

DB=${SOURCE}_load
OUT=$CABINET_HOME/loadtest
mkdir -p "$OUT"
SERVER_LOG=$OUT/server.log
SERVER_PID=
cleanup() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 1 30); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 1; done
        kill -9 "$SERVER_PID" 2>/dev/null || true
    fi
    dropdb --if-exists "$DB" 2>/dev/null || true
}
trap cleanup EXIT INT TERM

log "Copying $SOURCE to $DB"
dropdb --if-exists "$DB"
createdb -T "$SOURCE" "$DB"

log "Serving $DB on 127.0.0.1:$PORT with 2 workers (log: $SERVER_LOG)"
"$VENV/bin/python" "$ODOO_SRC/odoo-bin" --addons-path="$ODOO_SRC/addons,$ODOO_SRC/odoo/addons,$ADDONS" \
    --data-dir="$CABINET_HOME/data" -d "$DB" --db-filter="^$DB\$" --http-interface=127.0.0.1 --http-port="$PORT" \
    --gevent-port="$((PORT + 1))" --workers=2 --max-cron-threads=0 --log-level=warn --no-database-list \
    --limit-time-real=600 >"$SERVER_LOG" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 120); do
    curl -fs -o /dev/null "http://127.0.0.1:$PORT/web/login" && break
    kill -0 "$SERVER_PID" 2>/dev/null || die "The server stopped: see $SERVER_LOG"
    sleep 1
done
curl -fs -o /dev/null "http://127.0.0.1:$PORT/web/login" || die "The server does not answer: see $SERVER_LOG"

log "Load: $USERS users for $DURATION s"
rm -f "$OUT"/locust_*.csv
CABINET_LOAD_DB=$DB "$BENCH_VENV/bin/locust" -f "$REPO/tools/locustfile.py" --headless --only-summary \
    --host "http://127.0.0.1:$PORT" -u "$USERS" -r 2 -t "${DURATION}s" --stop-timeout 10 \
    --csv "$OUT/locust" --loglevel WARNING >"$OUT/locust.log" 2>&1 || true

[ -f "$OUT/locust_stats.csv" ] || die "locust wrote no statistics: see $OUT/locust.log"
"$BENCH_VENV/bin/python" - "$OUT/locust_stats.csv" "$DURATION" "$USERS" "$SIZE" <<'PY'
import csv
import sys

path, duration, users, size = sys.argv[1:]
rows = list(csv.DictReader(open(path, encoding='utf-8')))
print(f"Load test: {users} users for {duration} s on the {size} benchmark database, 2 workers\n")
print("| request | requests | req/s | p50 ms | p95 ms | p99 ms | errors |")
print("|---|---:|---:|---:|---:|---:|---:|")
failures = 0
for row in rows:
    name = row['Name'] if row['Name'] != 'Aggregated' else '**all**'
    print(
        f"| {name} | {row['Request Count']} | {float(row['Requests/s']):.1f} | {row['50%']} | {row['95%']} "
        f"| {row['99%']} | {row['Failure Count']} |"
    )
    if row['Name'] == 'Aggregated':
        failures = int(row['Failure Count'])
sys.exit(1 if failures else 0)
PY
status=$?
[ "$status" = 0 ] || log "Some requests failed: see $OUT/locust_failures.csv and $SERVER_LOG"
exit "$status"
