#!/usr/bin/env bash
# The container's entrypoint: its first argument names the process — web (default), worker,
# beat, migrate — and runs the same deploy/<name>.sh as a plain server; anything else is run
# as given (e.g. `python manage.py createsuperuser`).
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-web}" in
  web | worker | beat | migrate) exec "deploy/${1:-web}.sh" ;;
  *) exec "$@" ;;
esac
