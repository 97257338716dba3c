#!/usr/bin/env bash
# Runs the project's pre-commit checks (ruff, ruff format, pylint-odoo, XML) on every file.
# shellcheck source=tools/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

check_odoo_src
ensure_venv
if ! "$VENV/bin/python" -c "import pre_commit" 2>/dev/null; then
    log "Installing the linters (tools/requirements-dev.txt)"
    "$VENV/bin/pip" install -q --disable-pip-version-check -r "$REPO/tools/requirements-dev.txt" 2>&1 \
        | grep -v "^WARNING: Location" >&2 || true
fi
cd "$REPO"
export PRE_COMMIT_HOME=$CABINET_HOME/pre-commit
exec "$VENV/bin/pre-commit" run --all-files --show-diff-on-failure "$@"
