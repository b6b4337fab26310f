#!/usr/bin/env bash
# A Celery worker (PDF rendering, e-mails, exports). Any number, on any machine; tasks are
# acknowledged late (config/settings.py), so a worker that dies loses none.
#   CELERY_CONCURRENCY          processes of this worker (default: the machine's cores)
#   CELERY_MAX_TASKS_PER_CHILD  a process is replaced after this many tasks (default 200:
#                               WeasyPrint's memory does not grow for ever)
#   CELERY_WORKER_NAME          node name, unique per worker (default worker@<host>)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
exec celery -A config worker \
  --loglevel="${LOG_LEVEL:-INFO}" \
  --concurrency="${CELERY_CONCURRENCY:-$(nproc)}" \
  --max-tasks-per-child="${CELERY_MAX_TASKS_PER_CHILD:-200}" \
  --hostname="${CELERY_WORKER_NAME:-worker@%h}" \
  --without-gossip --without-mingle
