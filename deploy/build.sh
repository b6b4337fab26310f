#!/usr/bin/env bash
# Once per release, on the release's code (the Dockerfile runs it at build time): the
# compiled translations and the static files with hashed names that WhiteNoise serves
# (STATIC_ROOT = $VAR_DIR/staticfiles). Needs no database; needs gettext (msgfmt). The
# previous release's hashed files are kept: a web process not yet restarted still finds them.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
python manage.py compilemessages --ignore=.venv --ignore=node_modules -v 0
python manage.py collectstatic --noinput -v 0
