"""``make prod-smoke`` (issue 11 §1): production as it runs, driven over HTTP as a user would.

Starts what a deployment starts, through the same entrypoints (deploy/*.sh) and with the same
environment variables only: a fresh PostgreSQL database, Redis (broker and shared cache), a
local S3-compatible object store (moto's server mode), ``deploy/build.sh`` and
``deploy/migrate.sh``, then **two** web servers (gunicorn), one Celery worker and beat. Then:
an evaluator signs in on server A; with that session, the grid is filled and signed on server B
(re-authentication with the password); the worker renders the PDF into the object store; the PDF
is downloaded from server A, its code checked on ``/verify/``; a hashed static file and
``/healthz`` answer. Proof that any web process serves any request: nothing lives on one.

Everything it started is stopped and its database dropped, whatever happens. Exit 0 when every
step passed, 1 otherwise. Logs of each process: var/smoke/*.log.

    python -m tests.prod_smoke.run
    SMOKE_PG_URL (admin connection, default postgres://postgres@127.0.0.1:5432/postgres),
    SMOKE_BROKER_URL (default redis://127.0.0.1:6379/12), SMOKE_CACHE_URL (…/13).
"""

import contextlib
import hashlib
import io
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlparse

import boto3
import psycopg2
import redis
import requests
from pypdf import PdfReader

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = (ROOT / os.environ.get("VENV", ".venv") / "bin").resolve()
SMOKE_DIR = ROOT / "var" / "smoke"
PG_ADMIN_URL = os.environ.get("SMOKE_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")
BROKER_URL = os.environ.get("SMOKE_BROKER_URL", "redis://127.0.0.1:6379/12")
CACHE_URL = os.environ.get("SMOKE_CACHE_URL", "redis://127.0.0.1:6379/13")
BUCKET = "uimm-smoke"
SIGNERS = ("evaluateur1", "evaluateur2", "evaluateur3")  # evaluateur1 opens and fills
HTTP_TIMEOUT = 30
CODE_RE = re.compile(r"[A-Z2-9]{5}(?:-[A-Z2-9]{5}){3}")
STARTED = time.monotonic()


class SmokeFailure(Exception):
    """A step did not give what production must give."""


def step(message: str) -> None:
    print(f"[{time.monotonic() - STARTED:6.1f} s] {message}", flush=True)


def check(condition, message: str) -> None:
    if not condition:
        raise SmokeFailure(message)


def wait_for(what: str, probe, timeout: float, interval: float = 0.5):
    """Call ``probe`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise SmokeFailure(f"{what} : toujours rien après {timeout:.0f} s")
        time.sleep(interval)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


# ---------------------------------------------------------------------------
# Processes: started in their own session, stopped (TERM, then KILL) in reverse order
# ---------------------------------------------------------------------------
class Processes:
    def __init__(self):
        self.running: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, command: list[str], env: dict) -> subprocess.Popen:
        log = open(SMOKE_DIR / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        log.close()  # the child holds its own copy
        self.running.append((name, process))
        return process

    def ensure_alive(self) -> None:
        for name, process in self.running:
            if process.poll() is not None and name not in {"build"}:
                raise SmokeFailure(f"le processus {name} s'est arrêté (code {process.returncode})"
                                   f" — voir var/smoke/{name}.log")

    def stop_all(self) -> None:
        for _name, process in reversed(self.running):
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + 20
        for name, process in reversed(self.running):
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                step(f"{name} ne s'arrête pas : SIGKILL")
            # The process group is the session started for it: its children (gunicorn and
            # Celery workers) go with it, never anything else.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def run(name: str, command: list[str], env: dict, timeout: float = 120) -> None:
    """A one-shot command (build, migrate, seed); its output in var/smoke/<name>.log."""
    with open(SMOKE_DIR / f"{name}.log", "wb") as log:
        try:
            result = subprocess.run(command, cwd=ROOT, env=env, stdout=log,
                                    stderr=subprocess.STDOUT, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise SmokeFailure(f"{name} : plus de {timeout:.0f} s") from exc
    if result.returncode != 0:
        print(tail(name), file=sys.stderr)
        raise SmokeFailure(f"{name} a échoué (code {result.returncode})")


def tail(name: str, lines: int = 40) -> str:
    path = SMOKE_DIR / f"{name}.log"
    if not path.exists():
        return ""
    text = path.read_text(errors="replace").splitlines()[-lines:]
    return f"--- var/smoke/{name}.log (fin) ---\n" + "\n".join(text)


# ---------------------------------------------------------------------------
# HTTP as a browser behind the TLS proxy: X-Forwarded-Proto https (the settings trust that
# header, SECURE_PROXY_SSL_HEADER), cookies kept by hand because they are « Secure »
# ---------------------------------------------------------------------------
class Browser:
    def __init__(self, label: str):
        self.label = label
        self.cookies: dict[str, str] = {}

    def request(self, base: str, method: str, path: str, *, data=None, headers=None,
                expect: int | tuple = 200) -> requests.Response:
        sent = {"X-Forwarded-Proto": "https", "User-Agent": "uimm-prod-smoke",
                **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if method == "POST":
            # What a browser sends on a same-origin form; Django compares it to the host.
            sent["Origin"] = "https://" + urlparse(base).netloc
            if "csrftoken" in self.cookies:
                sent["X-CSRFToken"] = self.cookies["csrftoken"]
        response = requests.request(method, base + path, data=data, headers=sent,
                                    allow_redirects=False, timeout=HTTP_TIMEOUT)
        for cookie in response.cookies:
            self.cookies[cookie.name] = cookie.value
        expected = expect if isinstance(expect, tuple) else (expect,)
        if response.status_code not in expected:
            raise SmokeFailure(f"{self.label} : {method} {base}{path} → {response.status_code}"
                               f" (attendu {expected}) {response.text[:300]!r}")
        return response

    def get(self, base: str, path: str, **kwargs) -> requests.Response:
        return self.request(base, "GET", path, **kwargs)

    def post(self, base: str, path: str, data: dict, **kwargs) -> requests.Response:
        return self.request(base, "POST", path, data=data, **kwargs)

    def login(self, base: str, username: str, password: str) -> None:
        self.get(base, "/accounts/login/")
        response = self.post(base, "/accounts/login/", {
            "csrfmiddlewaretoken": self.cookies.get("csrftoken", ""),
            "username": username, "password": password}, expect=(302, 200))
        check(response.status_code == 302 and "sessionid" in self.cookies,
              f"connexion de {username} refusée sur {base}")


class Tags(HTMLParser):
    """Every start tag's attributes, in document order: enough to read the grid page."""

    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, {k: v or "" for k, v in attrs}))


# ---------------------------------------------------------------------------
# The smoke
# ---------------------------------------------------------------------------
def production_env(database_url: str, s3_port: int) -> dict:
    """The whole configuration, as an operator writes it in /etc/uimm/env: nothing inherited
    but PATH, HOME and the locale."""
    inherited = {k: v for k, v in os.environ.items()
                 if k in {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VENV"}}
    return {
        **inherited,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": BROKER_URL,
        "CACHE_URL": CACHE_URL,
        "STORAGE_BACKEND": "s3",
        "S3_BUCKET": BUCKET,
        "S3_ENDPOINT_URL": f"http://127.0.0.1:{s3_port}",
        "S3_ACCESS_KEY_ID": "smoke",
        "S3_SECRET_ACCESS_KEY": secrets.token_urlsafe(20),
        "S3_REGION": "fr-par",
        "S3_ADDRESSING_STYLE": "path",
        "VAR_DIR": str(SMOKE_DIR / "var"),
        "EMAIL_URL": f"file://{SMOKE_DIR / 'mail'}",
        "HEALTHZ_TOKEN": secrets.token_urlsafe(20),
        # Beat asks a worker for a heartbeat this often (default 60 s): /healthz sees the
        # worker within seconds of its start.
        "HEALTH_HEARTBEAT_SECONDS": "5",
        "WEB_CONCURRENCY": "2",
        "CELERY_CONCURRENCY": "2",
        "BEAT_STATE_DIR": str(SMOKE_DIR / "var" / "beat"),
    }


def s3_client(env: dict):
    return boto3.client("s3", endpoint_url=env["S3_ENDPOINT_URL"],
                        aws_access_key_id=env["S3_ACCESS_KEY_ID"],
                        aws_secret_access_key=env["S3_SECRET_ACCESS_KEY"],
                        region_name=env["S3_REGION"])


def bucket_keys(s3) -> set[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
    return {item["Key"] for page in pages for item in page.get("Contents", [])}


def load_data(env: dict) -> dict[str, str]:
    """Migrations through the entrypoint, the demo (seed_demo refuses DEBUG off: loaded with
    DEBUG=1 and eager tasks into the same database and store), then real passwords for the
    evaluators — the demo password is refused in production."""
    run("migrate", ["deploy/migrate.sh"], env, timeout=150)
    check("System check identified no issues" in (SMOKE_DIR / "migrate.log").read_text(),
          "check --deploy signale des problèmes — voir var/smoke/migrate.log")
    step("migrate.sh : check --deploy sans remarque, migrations appliquées")
    python = str(VENV_BIN / "python")
    run("seed", [python, "manage.py", "seed_demo"],
        {**env, "DEBUG": "1", "CELERY_BROKER_URL": ""}, timeout=150)
    passwords = {name: secrets.token_urlsafe(16) for name in SIGNERS}
    code = ("import json, os\n"
            "from django.contrib.auth import get_user_model\n"
            "for name, password in json.loads(os.environ['SMOKE_PASSWORDS']).items():\n"
            "    user = get_user_model().objects.get(username=name)\n"
            "    user.set_password(password)\n"
            "    user.save()\n")
    run("passwords", [python, "manage.py", "shell", "-v", "0", "-c", code],
        {**env, "SMOKE_PASSWORDS": json.dumps(passwords)})
    step("démo chargée, mots de passe réels donnés aux évaluateurs")
    return passwords


def find_grid_to_fill(browser: Browser, server: str) -> tuple[int, str]:
    """From « Mes commissions », the first candidate's grid still in draft."""
    mine = browser.get(server, "/commissions/mes-commissions/").text
    for commission in re.findall(r'data-testid="my-commission-(\d+)"', mine):
        detail = browser.get(server, f"/commissions/{commission}/").text
        for scheduled in re.findall(r'href="/grilles/ouvrir/(\d+)/"', detail):
            opened = browser.get(server, f"/grilles/ouvrir/{scheduled}/", expect=302)
            path = opened.headers["Location"]
            page = browser.get(server, path).text
            if 'data-editable="1"' in page and "Brouillon" in page:
                return int(path.strip("/").split("/")[-1]), page
    raise SmokeFailure("aucune grille à remplir pour evaluateur1 dans la démo")


def fill_grid(browser: Browser, servers: list[str], grid: int, page: str) -> int:
    """Every criterion « satisfait », every competence at a mastered level, one autosave per
    field (the page's htmx requests), alternately on each server. Returns the saves made."""
    tags = Tags(page).tags
    rows = [(a["data-row-kind"], a["data-row-id"], int(a["data-revision"]))
            for _tag, a in tags if "data-revision" in a and "data-row-id" in a]
    mastered = {}
    for tag, attrs in tags:
        if tag == "input" and attrs.get("name", "").startswith("level-") \
                and attrs.get("data-mastered") == "1":
            mastered.setdefault(attrs["name"].removeprefix("level-"), attrs["value"])
    check(rows and mastered, "la grille ne montre ni critères ni niveaux à saisir")
    for index, (kind, row_id, revision) in enumerate(rows):
        field, value = (("satisfied", "oui") if kind == "criterion"
                        else ("level", mastered[row_id]))
        response = browser.post(servers[index % 2], f"/grilles/{grid}/champ/", {
            "row_kind": kind, "row_id": row_id, "field": field, "value": value,
            "revision": revision}, headers={"HX-Request": "true"})
        check(response.headers.get("X-Grid-Revision") == str(revision + 1),
              f"autosave {kind} {row_id} : révision {response.headers.get('X-Grid-Revision')}")
    return len(rows)


def sign(browser: Browser, server: str, grid: int, password: str) -> bool:
    """Sign as the signed-in member (password re-entered, consent); False if not a member."""
    page = browser.get(server, f"/grilles/{grid}/signer/", expect=(200, 403, 404))
    if page.status_code != 200:
        return False
    response = browser.post(server, f"/grilles/{grid}/signer/", {
        "csrfmiddlewaretoken": browser.cookies.get("csrftoken", ""),
        "consent": "on", "password": password}, expect=(302, 200))
    errors = re.findall(r'alert[^>]*>([^<]+)', response.text)
    check(response.status_code == 302, f"{browser.label} : signature refusée — {errors}")
    return True


def healthy(server: str, token: str):
    try:
        response = requests.get(server + "/healthz", timeout=5,
                                headers={"Authorization": f"Bearer {token}"})
    except requests.RequestException:
        return None
    return response if response.status_code == 200 else None


def smoke(processes: Processes, database_url: str) -> None:
    s3_port, port_a, port_b = free_port(), free_port(), free_port()
    env = production_env(database_url, s3_port)

    processes.start("moto", [str(VENV_BIN / "moto_server"), "-H", "127.0.0.1",
                             "-p", str(s3_port)], env)
    build = processes.start("build", ["deploy/build.sh"], env)  # in parallel with the data
    wait_for("stockage S3 (moto) à l'écoute", lambda: port_open(s3_port), 30)
    s3 = s3_client(env)
    s3.create_bucket(Bucket=BUCKET,
                     CreateBucketConfiguration={"LocationConstraint": env["S3_REGION"]})
    step(f"stockage S3-compatible (moto) sur 127.0.0.1:{s3_port}, bucket {BUCKET} créé")

    passwords = load_data(env)
    check(bucket_keys(s3), "la démo n'a rien écrit dans le stockage S3")
    try:
        build.wait(timeout=180)
    except subprocess.TimeoutExpired as exc:
        raise SmokeFailure("build.sh : plus de 180 s") from exc
    if build.returncode:
        print(tail("build"), file=sys.stderr)
        raise SmokeFailure(f"build.sh a échoué (code {build.returncode})")
    step("build.sh : traductions compilées, fichiers statiques collectés")

    server_a, server_b = f"http://127.0.0.1:{port_a}", f"http://127.0.0.1:{port_b}"
    processes.start("web-a", ["deploy/web.sh"], {**env, "PORT": str(port_a)})
    processes.start("web-b", ["deploy/web.sh"], {**env, "PORT": str(port_b)})
    processes.start("worker", ["deploy/worker.sh"], env)
    processes.start("beat", ["deploy/beat.sh"], env)
    for server in (server_a, server_b):
        def up(server=server):
            processes.ensure_alive()
            return healthy(server, env["HEALTHZ_TOKEN"])
        response = wait_for(f"{server}/healthz à 200", up, 90, interval=1)
        step(f"{server}/healthz → 200 {response.text}")

    # Sign in on A; the same session serves B.
    evaluator = Browser("evaluateur1")
    evaluator.login(server_a, "evaluateur1", passwords["evaluateur1"])
    step(f"evaluateur1 connecté sur le serveur A ({server_a})")
    grid, page = find_grid_to_fill(evaluator, server_b)
    step(f"sur le serveur B ({server_b}) avec la session de A : grille {grid} ouverte")
    saves = fill_grid(evaluator, [server_b, server_a], grid, page)
    step(f"grille remplie : {saves} enregistrements automatiques, alternés entre B et A")
    submitted = evaluator.post(server_b, f"/grilles/{grid}/signature/", {}, expect=302)
    check(submitted.headers["Location"].endswith("#signatures"),
          f"passage à la signature refusé : {submitted.headers['Location']}")

    keys_before = bucket_keys(s3)
    signers = [evaluator]
    check(sign(evaluator, server_b, grid, passwords["evaluateur1"]),
          "evaluateur1 ne peut pas signer")
    for name in SIGNERS[1:]:
        other = Browser(name)
        other.login(server_a, name, passwords[name])
        if sign(other, server_b, grid, passwords[name]):
            signers.append(other)
        if 'data-testid="grid-locked"' in other.get(server_b, f"/grilles/{grid}/").text:
            break
    page = evaluator.get(server_a, f"/grilles/{grid}/").text
    check('data-testid="grid-locked"' in page, "la grille n'est pas verrouillée après signatures")
    code = CODE_RE.search(page.split('data-testid="grid-locked"', 1)[1])
    check(code, "pas de code de vérification sur la grille signée")
    code = code.group(0)
    step(f"grille signée sur B par {', '.join(b.label for b in signers)} : verrouillée, "
         f"code {code}")

    def new_pdf():
        processes.ensure_alive()
        return [k for k in bucket_keys(s3) - keys_before if k.endswith(".pdf")]
    key = wait_for("le PDF rendu par le worker dans le stockage S3", new_pdf, 90)[0]
    check("render_grid_pdf" in (SMOKE_DIR / "worker.log").read_text(errors="replace"),
          "le journal du worker ne mentionne pas render_grid_pdf")
    step(f"le worker a rendu le PDF : s3://{BUCKET}/{key}")

    download = evaluator.get(server_a, f"/grilles/{grid}/pdf/")
    body = download.content
    check(download.headers.get("Content-Type") == "application/pdf" and body[:5] == b"%PDF-",
          "le téléchargement n'est pas un PDF")
    stored = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    check(hashlib.sha256(stored).digest() == hashlib.sha256(body).digest(),
          "le PDF téléchargé diffère de l'objet du stockage S3")
    text = "".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(body)).pages)
    check(code in text.replace(" ", ""), f"le code {code} n'est pas dans le PDF")
    step(f"PDF téléchargé depuis A ({len(body)} octets) : identique à l'objet S3, "
         f"porte le code {code}")

    verify = Browser("public").get(server_a, f"/verify/{code}/")
    check('data-testid="verify-valid"' in verify.text, "/verify/ ne dit pas « authentique »")
    step(f"/verify/{code}/ sur A : « Document authentique et valide »")

    login_page = Browser("anonyme").get(server_b, "/accounts/login/").text
    static = re.search(r'(/static/[^"\']+\.[0-9a-f]{12}\.css)', login_page)
    check(static, "aucun fichier statique à nom haché dans la page de connexion")
    asset = Browser("anonyme").get(server_b, static.group(1),
                                   headers={"Accept-Encoding": "br, gzip"})
    check("immutable" in asset.headers.get("Cache-Control", ""),
          f"{static.group(1)} sans cache long : {asset.headers.get('Cache-Control')}")
    step(f"statique WhiteNoise {static.group(1)} : 200, "
         f"{asset.headers.get('Content-Encoding', 'non compressé')}, "
         f"{asset.headers['Cache-Control']}")
    for server in (server_a, server_b):
        response = requests.get(server + "/healthz", timeout=10)
        check(response.status_code == 200, f"{server}/healthz → {response.status_code}")
    step("/healthz → 200 sur A et B")


def pg_admin(sql: str) -> None:
    """CREATE/DROP DATABASE: outside a transaction, on the server's maintenance database."""
    connection = psycopg2.connect(PG_ADMIN_URL)
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(sql)
    finally:
        connection.close()


def main() -> int:
    SMOKE_DIR.mkdir(parents=True, exist_ok=True)
    # A `make` interrupted by SIGTERM still stops what was started (the finally below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    name = f"uimm_smoke_{os.getpid()}"
    admin = urlparse(PG_ADMIN_URL)
    database_url = admin._replace(path=f"/{name}").geturl()
    processes = Processes()
    redis_dbs = [redis.Redis.from_url(url) for url in (BROKER_URL, CACHE_URL)]
    status = 1
    try:
        for db in redis_dbs:
            db.flushdb()
        pg_admin(f'CREATE DATABASE "{name}"')
        step(f"base PostgreSQL {name} créée ; Redis {BROKER_URL} (broker), {CACHE_URL} (cache)")
        smoke(processes, database_url)
        status = 0
    except SmokeFailure as exc:
        print(f"ÉCHEC : {exc}", file=sys.stderr)
        for log in ("web-a", "web-b", "worker", "beat"):
            print(tail(log, 15), file=sys.stderr)
    finally:
        processes.stop_all()
        try:
            pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            for db in redis_dbs:
                db.flushdb()
        except Exception as exc:  # noqa: BLE001 - report, the status stays what it was
            print(f"nettoyage incomplet : {exc}", file=sys.stderr)
        step("tout est arrêté, base supprimée")
    step("PROD-SMOKE OK" if status == 0 else "PROD-SMOKE EN ÉCHEC")
    return status


if __name__ == "__main__":
    sys.exit(main())
