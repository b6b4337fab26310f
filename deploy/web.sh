#!/usr/bin/env bash
# The web process: gunicorn serving config.wsgi, tuned by deploy/gunicorn.conf.py from the
# environment (BIND or PORT, WEB_CONCURRENCY, WEB_TIMEOUT…). Static files are served by
# WhiteNoise from STATIC_ROOT, filled by deploy/build.sh. Run as many as needed, anywhere:
# nothing a request needs stays on one machine.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
exec gunicorn --config deploy/gunicorn.conf.py config.wsgi:application
