#!/usr/bin/env bash
# Celery beat, the clock of the periodic tasks (reminders, outbox sweep, declarations,
# backups). EXACTLY ONE for the whole deployment: two would send every task twice.
#   BEAT_STATE_DIR  writable directory for its schedule file (default: $VAR_DIR, else var/)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
state_dir="${BEAT_STATE_DIR:-${VAR_DIR:-var}}"
mkdir -p "$state_dir"
exec celery -A config beat \
  --loglevel="${LOG_LEVEL:-INFO}" \
  --schedule="$state_dir/celerybeat-schedule"
