# shellcheck shell=bash
# Shared set-up of tools/run.sh and tools/test.sh: every step checks before it acts,
# so running it again only does what is missing.
#
# Environment (all optional):
#   ODOO_SRC        Odoo 19.0 source tree holding odoo-bin (default /opt/odoo)
#   PYTHON          Python 3.11 interpreter used to build the virtualenv (default python3.11)
#   CABINET_HOME    where the virtualenv and the generated addons folder live
#                   (default ~/.cache/cabinet_helpdesk)
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ODOO_SRC=${ODOO_SRC:-/opt/odoo}
PYTHON=${PYTHON:-python3.11}
HOME=${HOME:-$(getent passwd "$(id -un)" | cut -d: -f6)}
CABINET_HOME=${CABINET_HOME:-$HOME/.cache/cabinet_helpdesk}
VENV=$CABINET_HOME/venv
# One generated addons folder per checkout, so that two clones never share a symlink.
BUILD=$CABINET_HOME/build/$(printf '%s' "$REPO" | sha1sum | cut -c1-12)
ADDONS=$BUILD/addons
MODULE_DIR=$ADDONS/cabinet_helpdesk

log() { printf '[cabinet_helpdesk] %s\n' "$*" >&2; }
die() { printf '[cabinet_helpdesk] %s\n' "$*" >&2; exit 1; }

check_odoo_src() {
    [ -f "$ODOO_SRC/odoo-bin" ] && [ -d "$ODOO_SRC/addons/mail" ] || die \
        "Odoo 19.0 source not found in $ODOO_SRC: check it out there or set ODOO_SRC to its folder (the one holding odoo-bin)."
}

ensure_system_packages() {
    # Browser for the portal tour, wkhtmltopdf for PDF reports, poppler for PDF checks, and the
    # IMAP server the end-to-end mail test runs privately on loopback (tests/mail_servers.py).
    local missing=()
    command -v chromium >/dev/null || missing+=(chromium)
    command -v chromedriver >/dev/null || missing+=(chromium-driver)
    command -v wkhtmltopdf >/dev/null || missing+=(wkhtmltopdf)
    command -v pdftotext >/dev/null || missing+=(poppler-utils)
    [ -x /usr/lib/dovecot/imap ] || [ -x /usr/libexec/dovecot/imap ] || missing+=(dovecot-imapd)
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
        log "Missing system packages (${missing[*]}): install them to run the browser tests, PDF reports and the mail test through an IMAP server."
        return 0
    fi
    log "Installing ${missing[*]} from Debian"
    apt-get update -qq >/dev/null
    # Debian starts and enables a package's service on installation: the system's IMAP server must
    # neither start nor start at boot (it would listen on every address); the tests run their own.
    local policy=/usr/sbin/policy-rc.d imap=0 own_policy=0 status=0
    [[ " ${missing[*]} " == *" dovecot-imapd "* ]] && imap=1
    if [ "$imap" = 1 ] && [ ! -e "$policy" ]; then
        printf '#!/bin/sh\n# Keep services from starting while packages are installed.\nexit 101\n' >"$policy"
        chmod 755 "$policy"
        own_policy=1
        trap 'rm -f /usr/sbin/policy-rc.d' EXIT INT TERM
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null || status=$?
    if [ "$own_policy" = 1 ]; then
        rm -f "$policy"
        trap - EXIT INT TERM
    fi
    if [ "$imap" = 1 ]; then
        if command -v systemctl >/dev/null; then
            systemctl disable --quiet dovecot.service dovecot.socket >/dev/null 2>&1 || true
        fi
        update-rc.d dovecot disable >/dev/null 2>&1 || true
    fi
    [ "$status" = 0 ] || die "Installing ${missing[*]} failed (apt-get exit status $status)."
}

ensure_venv() {
    command -v "$PYTHON" >/dev/null || die "$PYTHON not found: install Python 3.11 or set PYTHON to a Python 3.11 interpreter."
    local stamp wanted
    wanted=$(cat "$REPO/tools/requirements.txt" | sha1sum | cut -c1-40)
    stamp=$VENV/.requirements.sha1
    if [ ! -x "$VENV/bin/python" ]; then
        log "Creating the virtualenv in $VENV"
        mkdir -p "$CABINET_HOME"
        "$PYTHON" -m venv "$VENV"
    fi
    if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
        log "Installing Python packages (tools/requirements.txt)"
        "$VENV/bin/pip" install -q --disable-pip-version-check -r "$REPO/tools/requirements.txt" 2>&1 \
            | grep -v "^WARNING: Location" >&2 || true
        "$VENV/bin/python" -c "import lxml, psycopg2, werkzeug, pytest" \
            || die "Python packages failed to install: see the messages above."
        echo "$wanted" > "$stamp"
    fi
    # Odoo itself is imported from ODOO_SRC (pytest-odoo imports it too).
    local site
    site=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    [ "$(cat "$site/odoo_src.pth" 2>/dev/null)" = "$ODOO_SRC" ] || echo "$ODOO_SRC" > "$site/odoo_src.pth"
}

ensure_postgres() {
    if ! pg_isready -q 2>/dev/null; then
        log "Starting PostgreSQL"
        if command -v pg_ctlcluster >/dev/null && [ -n "$(pg_lsclusters -h 2>/dev/null)" ]; then
            read -r version cluster _ < <(pg_lsclusters -h | head -n 1)
            pg_ctlcluster "$version" "$cluster" start
        elif command -v service >/dev/null; then
            service postgresql start >/dev/null
        fi
        for _ in $(seq 1 30); do pg_isready -q && break; sleep 1; done
        pg_isready -q || die "PostgreSQL does not answer: start it, or check its log."
    fi
    # Odoo connects through the local socket as the current system user.
    local role
    role=$(id -un)
    if ! psql -d postgres -tAc 'SELECT 1' >/dev/null 2>&1; then
        if [ "$(id -u)" -eq 0 ]; then
            su postgres -c "createuser --superuser '$role'" 2>/dev/null \
                || su postgres -c "psql -qc 'ALTER ROLE \"$role\" SUPERUSER'" >/dev/null
        else
            die "PostgreSQL has no role '$role': create it (createuser --createdb $role) and run again."
        fi
    fi
}

ensure_addons_folder() {
    # Odoo and pytest-odoo know the module by its folder name: present the checkout,
    # whatever its own folder is called, as cabinet_helpdesk.
    mkdir -p "$ADDONS"
    if [ "$(readlink "$MODULE_DIR" 2>/dev/null)" != "$REPO" ]; then
        ln -sfn "$REPO" "$MODULE_DIR"
    fi
}

odoo_bin() {
    "$VENV/bin/python" "$ODOO_SRC/odoo-bin" --addons-path="$ODOO_SRC/addons,$ODOO_SRC/odoo/addons,$ADDONS" \
        --data-dir="$CABINET_HOME/data" "$@"
}

db_exists() {
    [ "$(psql -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$1'")" = "1" ]
}

setup_all() {
    check_odoo_src
    ensure_system_packages
    ensure_venv
    ensure_postgres
    ensure_addons_folder
}
