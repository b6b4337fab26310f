# Sourced by every entrypoint of deploy/ (never run alone): the project's root as working
# directory, the tools of the virtualenv ${VENV:-.venv} first on PATH when it exists (a plain
# Debian server), else those already on PATH (the container installs them system-wide).
# Production is configured by environment variables only (README « Mise en production »).

cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ -x "${VENV:-.venv}/bin/python" ]; then
  PATH="$(cd "${VENV:-.venv}/bin" && pwd):$PATH"
  export PATH
fi

# The settings default to DEBUG on (a laptop's `make run`); a production process started
# without DEBUG=0 would serve debug pages and accept the demo password: refuse to start.
case "$(printf '%s' "${DEBUG:-}" | tr '[:upper:]' '[:lower:]')" in
  "" | 1 | true | yes | on | oui)
    echo "deploy/$(basename "$0") : DEBUG doit valoir 0 en production (variable d'environnement)." >&2
    exit 2 ;;
esac
