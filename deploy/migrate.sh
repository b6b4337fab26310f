#!/usr/bin/env bash
# Once per release, BEFORE the new web and worker processes start (README « Mise en
# production »): the production checks, then the database migrations. Stops at the first
# error, so a misconfigured release never reaches the database.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
python manage.py check --deploy
python manage.py migrate --noinput
