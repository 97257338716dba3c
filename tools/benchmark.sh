#!/usr/bin/env bash
# Performance figures of cabinet_helpdesk, optionally side by side with OCA helpdesk_mgmt.
#
#   bash tools/benchmark.sh --quick              small databases (1k and 10k tickets), under 10 minutes
#   bash tools/benchmark.sh --quick --peer       the same, with helpdesk_mgmt 19.0 side by side
#   bash tools/benchmark.sh --size large --peer  100k and 1M tickets (builds take a while; prints progress)
#
# Options:
#   --quick              same as --size small (the default)
#   --size S             small (1k / 10k tickets), medium (10k / 100k), large (100k / 1M)
#   --peer               also measure helpdesk_mgmt (installed from PyPI into $CABINET_HOME/peer)
#   --runs N             timed runs per workload (default 3; plus one warm-up run)
#   --markdown           print the table in Markdown (for the README)
#   --only A,B           only the workloads whose name contains A or B (e.g. --only portal,cron)
#   --no-crons           skip the scheduled actions
#   --rebuild            build the benchmark databases again even if they are up to date
#   --build-only         build (or check) the databases and stop
#
# Databases: cab_bench_<size> and peer_bench_<size> (e.g. cab_bench_10k), built from a template
# database with the module freshly installed (cab_bench_tmpl, peer_bench_tmpl) and filled by
# tools/datagen.py. A database is reused while its stamp (module source, generator, size) is
# current; writing workloads run on throwaway copies, so the references stay as built.
#
#   CABINET_BENCH_PREFIX  prefix of the cabinet databases (default cab_bench)
#   CABINET_PEER_PREFIX   prefix of the peer databases (default peer_bench)
# shellcheck source=tools/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SIZE=small
PEER=0
RUNS=3
MARKDOWN=()
ONLY=()
NO_CRONS=()
REBUILD=0
BUILD_ONLY=0
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) SIZE=small ;;
        --size) SIZE=$2; shift ;;
        --peer) PEER=1 ;;
        --runs) RUNS=$2; shift ;;
        --markdown) MARKDOWN=(--markdown) ;;
        --only) ONLY=(--only "$2"); shift ;;
        --no-crons) NO_CRONS=(--no-crons) ;;
        --rebuild) REBUILD=1 ;;
        --build-only) BUILD_ONLY=1 ;;
        -h|--help) sed -n '2,26p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "Unknown option $1 (see --help)" ;;
    esac
    shift
done
case "$SIZE" in
    small) SIZES=(1000 10000) ;;
    medium) SIZES=(10000 100000) ;;
    large) SIZES=(100000 1000000) ;;
    *) die "--size is small, medium or large" ;;
esac

CAB_PREFIX=${CABINET_BENCH_PREFIX:-cab_bench}
PEER_PREFIX=${CABINET_PEER_PREFIX:-peer_bench}
PEER_HOME=$CABINET_HOME/peer
PEER_ADDONS=$PEER_HOME/odoo/addons
setup_all

label() {
    case "$1" in
        *000000) echo "$(( $1 / 1000000 ))m" ;;
        *000) echo "$(( $1 / 1000 ))k" ;;
        *) echo "$1" ;;
    esac
}

ensure_peer() {
    # helpdesk_mgmt from PyPI, pinned in tools/requirements-bench.txt, into its own folder
    local stamp wanted
    wanted=$(grep -E '^odoo-addon' "$REPO/tools/requirements-bench.txt" | sha1sum | cut -c1-40)
    stamp=$PEER_HOME/.requirements.sha1
    if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ] || [ ! -d "$PEER_ADDONS/helpdesk_mgmt" ]; then
        log "Installing helpdesk_mgmt into $PEER_HOME (tools/requirements-bench.txt)"
        rm -rf "$PEER_HOME"
        mkdir -p "$PEER_HOME"
        grep -E '^odoo-addon' "$REPO/tools/requirements-bench.txt" > "$PEER_HOME/requirements.txt"
        "$VENV/bin/pip" install -q --disable-pip-version-check --no-deps --target "$PEER_HOME" \
            -r "$PEER_HOME/requirements.txt" 2>&1 | grep -v "^WARNING: Location" >&2 || true
        [ -f "$PEER_ADDONS/helpdesk_mgmt/__manifest__.py" ] || die "helpdesk_mgmt did not install into $PEER_ADDONS"
        echo "$wanted" > "$stamp"
    fi
}

ADDONS_PATH="$ODOO_SRC/addons,$ODOO_SRC/odoo/addons,$ADDONS"
[ "$PEER" = 1 ] && ensure_peer
[ -d "$PEER_ADDONS" ] && ADDONS_PATH="$ADDONS_PATH,$PEER_ADDONS"

# What a benchmark database depends on: the module's source (tracked files) or the peer's pin; the
# generated ones also on tools/datagen.py and their size.
module_stamp() {
    local module=$1
    {
        if [ "$module" = cabinet ]; then
            git -C "$REPO" ls-files -s -- . ':!tools' ':!tests' ':!i18n' ':!README.md' 2>/dev/null \
                || find "$REPO" -name '*.py' -o -name '*.xml' -o -name '*.csv' | sort | xargs cat
            git -C "$REPO" diff -- . ':!tools' ':!tests' ':!i18n' ':!README.md' 2>/dev/null
        else
            grep -E '^odoo-addon' "$REPO/tools/requirements-bench.txt"
        fi
    } | sha1sum | cut -c1-16
}
generator_stamp() { sha1sum < "$REPO/tools/datagen.py" | cut -c1-8; }

db_stamp() {
    psql -d "$1" -tAc "SELECT value FROM ir_config_parameter WHERE key = 'benchmark.stamp'" 2>/dev/null || true
}

ensure_template() {
    local module=$1 db=$2 stamp=$3 odoo_module
    [ "$module" = cabinet ] && odoo_module=cabinet_helpdesk || odoo_module=helpdesk_mgmt
    if [ "$REBUILD" = 0 ] && db_exists "$db" && [ "$(db_stamp "$db")" = "$stamp" ]; then
        return 0
    fi
    log "Installing $odoo_module into $db"
    dropdb --if-exists "$db"
    rm -rf "$CABINET_HOME/data/filestore/$db"
    local install_log=$CABINET_HOME/$db-install.log
    if ! "$VENV/bin/python" "$ODOO_SRC/odoo-bin" --addons-path="$ADDONS_PATH" --data-dir="$CABINET_HOME/data" \
            -d "$db" -i "$odoo_module" --stop-after-init --log-level=warn --max-cron-threads=0 \
            --http-interface=127.0.0.1 >"$install_log" 2>&1; then
        grep -E ' (ERROR|CRITICAL) ' -A 20 "$install_log" | head -n 40 >&2
        die "Installing $odoo_module failed: full log in $install_log"
    fi
    psql -qd "$db" -c "INSERT INTO ir_config_parameter (key, value) VALUES ('benchmark.stamp', '$stamp')
                       ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value"
}

ensure_data() {
    local module=$1 prefix=$2 tickets=$3 template=$4 stamp=$5
    local db="${prefix}_$(label "$tickets")"
    local want="$stamp-$(generator_stamp)-$tickets"
    if [ "$REBUILD" = 0 ] && db_exists "$db" && [ "$(db_stamp "$db")" = "$want" ]; then
        log "Reusing $db ($tickets tickets)"
        echo "$db"
        return 0
    fi
    log "Building $db: $tickets tickets (tools/datagen.py)"
    dropdb --if-exists "$db"
    rm -rf "$CABINET_HOME/data/filestore/$db"
    createdb -T "$template" "$db"
    [ -d "$CABINET_HOME/data/filestore/$template" ] \
        && cp -r "$CABINET_HOME/data/filestore/$template" "$CABINET_HOME/data/filestore/$db"
    local started=$SECONDS
    "$VENV/bin/python" "$REPO/tools/datagen.py" --database "$db" --module "$module" --tickets "$tickets" \
        --addons-path "$ADDONS_PATH" --data-dir "$CABINET_HOME/data" >&2 \
        || die "Generating $db failed: see the messages above"
    psql -qd "$db" -c "UPDATE ir_config_parameter SET value = '$want' WHERE key = 'benchmark.stamp'"
    log "$db built in $(( SECONDS - started )) s"
    echo "$db"
}

CAB_STAMP=$(module_stamp cabinet)
ensure_template cabinet "${CAB_PREFIX}_tmpl" "$CAB_STAMP"
CAB_DBS=()
for n in "${SIZES[@]}"; do
    CAB_DBS+=("$(ensure_data cabinet "$CAB_PREFIX" "$n" "${CAB_PREFIX}_tmpl" "$CAB_STAMP")")
done
PEER_ARGS=()
if [ "$PEER" = 1 ]; then
    PEER_STAMP=$(module_stamp peer)
    ensure_template peer "${PEER_PREFIX}_tmpl" "$PEER_STAMP"
    PEER_DBS=()
    for n in "${SIZES[@]}"; do
        PEER_DBS+=("$(ensure_data peer "$PEER_PREFIX" "$n" "${PEER_PREFIX}_tmpl" "$PEER_STAMP")")
    done
    PEER_ARGS=(--peer "${PEER_DBS[@]}")
fi
[ "$BUILD_ONLY" = 1 ] && exit 0

log "Measuring ($SIZE: ${SIZES[*]} tickets, $RUNS runs per workload)"
exec "$VENV/bin/python" "$REPO/tools/benchmark.py" --size "$SIZE" --runs "$RUNS" \
    --addons-path "$ADDONS_PATH" --data-dir "$CABINET_HOME/data" \
    --cabinet "${CAB_DBS[@]}" "${PEER_ARGS[@]}" "${MARKDOWN[@]}" "${ONLY[@]}" "${NO_CRONS[@]}"
