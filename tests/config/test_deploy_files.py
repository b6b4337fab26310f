"""The packaging files of deploy/ (issue 11 §2) call the tested entrypoints, and those are
sound. No container engine runs here: what `make prod-smoke` cannot start (the Dockerfile, the
compose file, the systemd units, the nginx site) is checked to refer to scripts that exist and
to say what production needs; the entrypoints themselves are parsed and, where it is cheap,
run."""

import os
import re
import runpy
import subprocess
from pathlib import Path

import pytest
import yaml
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
PROCESSES = ("web", "worker", "beat", "migrate")
ENTRYPOINTS = [*PROCESSES, "build", "entrypoint", "system-deps"]
SYSTEMD_UNITS = sorted((DEPLOY / "systemd").glob("*.service"))


def script(name: str) -> Path:
    return DEPLOY / f"{name}.sh"


# Ids « web.sh »…: a bare « worker » would get the suite's `worker` marker (tests/conftest.py).
@pytest.mark.parametrize("name", ENTRYPOINTS, ids=lambda name: f"{name}.sh")
def test_entrypoints_are_executable_strict_bash(name):
    path = script(name)
    assert os.access(path, os.X_OK), f"{path} n'est pas exécutable"
    text = path.read_text()
    assert text.startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in text
    subprocess.run(["bash", "-n", str(path)], check=True)


def test_no_runserver_anywhere_in_production():
    for path in DEPLOY.rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts:
            assert "runserver" not in path.read_text(), path


@pytest.mark.parametrize("debug", [None, "", "1", "True", "oui"])
def test_entrypoints_refuse_to_run_without_debug_off(debug):
    env = {"PATH": os.environ["PATH"]}
    if debug is not None:
        env["DEBUG"] = debug
    result = subprocess.run([str(script("web"))], env=env, capture_output=True, text=True,
                            timeout=30, check=False)
    assert result.returncode == 2
    assert "DEBUG doit valoir 0" in result.stderr


def gunicorn_settings(monkeypatch, **env) -> dict:
    for key in ("BIND", "PORT", "WEB_CONCURRENCY", "WEB_TIMEOUT", "WEB_MAX_REQUESTS"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))


def test_gunicorn_settings_come_from_the_environment(monkeypatch):
    conf = gunicorn_settings(monkeypatch, PORT="9123", WEB_CONCURRENCY="3", WEB_TIMEOUT="90")
    assert conf["bind"] == ["127.0.0.1:9123"]
    assert (conf["workers"], conf["timeout"]) == (3, 90)
    assert conf["preload_app"] is True
    assert conf["accesslog"] == "-"
    conf = gunicorn_settings(monkeypatch, BIND="0.0.0.0:8000")
    assert conf["bind"] == ["0.0.0.0:8000"]
    assert conf["workers"] == min(2 * (os.cpu_count() or 1) + 1, 12)


def test_dockerfile_builds_with_the_entrypoints():
    text = (DEPLOY / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim-bookworm$", text, re.M)
    for package in ("libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz-subset0",
                    "fonts-dejavu-core", "gettext"):
        assert package in script("system-deps").read_text()
    assert "COPY deploy/system-deps.sh" in text and "deploy/system-deps.sh run" in text
    assert "pip install -c requirements.lock ." in text
    assert re.search(r"DEBUG=0 SECRET_KEY=\S+ *\\\n *deploy/build\.sh", text)
    assert re.search(r"^USER uimm$", text, re.M)
    assert 'ENTRYPOINT ["deploy/entrypoint.sh"]' in text
    assert 'CMD ["web"]' in text


def dispatched() -> set[str]:
    """The process names deploy/entrypoint.sh runs as deploy/<name>.sh."""
    match = re.search(r"^\s*([\w |]+)\) exec \"deploy/\$\{1:-web\}\.sh\"",
                      script("entrypoint").read_text(), re.M)
    return {name.strip() for name in match.group(1).split("|")}


def test_container_entrypoint_dispatches_to_existing_scripts():
    assert dispatched() == set(PROCESSES)
    for name in dispatched():
        assert script(name).is_file()


def test_compose_runs_every_process_through_the_entrypoints():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", *PROCESSES} <= set(services)
    for name in PROCESSES:
        service = services[name]
        assert service["command"] == [name] and name in dispatched()
        assert service["build"]["dockerfile"] == "deploy/Dockerfile"
        assert (DEPLOY / service["build"]["context"] / service["build"]["dockerfile"]).is_file()
        assert service["environment"]["CACHE_URL"].startswith("redis://")
    # migrate first; the others only once it succeeded. One beat, never scaled.
    for name in ("web", "worker", "beat"):
        assert services[name]["depends_on"]["migrate"]["condition"] == \
            "service_completed_successfully"
    assert "deploy" not in services["beat"]
    assert services["objectstore"]["profiles"] == ["objectstore"]


@pytest.mark.parametrize("unit", SYSTEMD_UNITS, ids=lambda p: p.name)
def test_systemd_units_run_the_entrypoints(unit):
    text = unit.read_text()
    start = re.search(r"^ExecStart=/opt/uimm/(\S+)$", text, re.M).group(1)
    assert (ROOT / start).is_file() and os.access(ROOT / start, os.X_OK), start
    assert re.search(r"^User=uimm$", text, re.M)
    assert re.search(r"^EnvironmentFile=/etc/uimm/env$", text, re.M)
    if "Type=oneshot" not in text:
        assert re.search(r"^Restart=on-failure$", text, re.M)


def test_systemd_has_one_unit_per_process():
    assert {unit.stem for unit in SYSTEMD_UNITS} == {f"uimm-{name}" for name in PROCESSES}


def test_nginx_site_proxies_over_tls_and_serves_no_private_files():
    text = (DEPLOY / "nginx" / "uimm.conf").read_text()
    assert "listen 443 ssl" in text and "ssl_certificate " in text
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in text
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in text
    assert not re.search(r"location\s+[^{]*media", text)
    assert "alias" not in text and "root " not in text
    # The largest upload the application accepts must get through.
    size = int(re.search(r"client_max_body_size (\d+)m;", text).group(1)) * 1024 * 1024
    assert size > max(settings.CANDIDATES["DOCUMENT_MAX_BYTES"],
                      settings.CDC_DECLARATION["RECEIPT_MAX_BYTES"],
                      settings.CERTIFICATION["REFERENTIAL_MAX_BYTES"])


def test_ci_runs_the_production_smoke_after_the_tests():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^\.PHONY:.*\bprod-smoke\b", makefile, re.M)
    assert "-m tests.prod_smoke.run" in makefile
    ci = (ROOT / ".ci" / "run").read_text()
    commands = [line for line in ci.splitlines() if line and not line.startswith(("#", " "))]
    assert commands.index("make test") < commands.index("make prod-smoke")
    assert ci.index("-m pytest") < ci.rindex("make prod-smoke")
