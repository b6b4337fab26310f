"""Locust load run: evaluators autosaving their grid against gunicorn (started by
``tests.bench.load``, never by the test suite; it imports nothing of Django).

Each simulated user is an evaluator sitting on the commission of a draft grid (sessions
prepared by the bench, in ``BENCH_LOAD_USERS``). It opens the grid page, reads the rows'
revisions and the CSRF token from it, then saves one field at a time as static/js/grid.js
does: row, field, value and the revision it holds. A 409 « stale » (another member saved the
row since) is not an error: it takes the row's new revision from the answer and sends its
value again (« garder ma saisie »). Every acknowledged write (200) is recorded with the
revision the server returned, so that the bench checks afterwards in the database that none
was lost. The record is written to ``BENCH_LOAD_OUT`` when the run stops."""

import itertools
import json
import os
import random
import time
from html.parser import HTMLParser
from pathlib import Path

from locust import HttpUser, between, events, task

USERS = json.loads(Path(os.environ["BENCH_LOAD_USERS"]).read_text(encoding="utf-8"))
OUT = os.environ["BENCH_LOAD_OUT"]
WAIT = [float(x) for x in os.environ.get("BENCH_LOAD_WAIT", "1,3").split(",")]
MAX_ATTEMPTS = 3
# Relative frequency of each field among the saves (what members fill most).
FIELD_WEIGHTS = {"notes": 30, "satisfied": 35, "concerned": 5, "comment": 10, "level": 20}

_next_user = itertools.count()
RECORD = {"acks": [], "unanswered": [], "saves": [], "pages": [], "stale": 0, "errors": [],
          "started": time.time(), "stopped": None}
PENDING: dict[int, dict] = {}  # user number -> the write on its way


class GridPage(HTMLParser):
    """What the grid page tells the script: rows and revisions, fields, levels, CSRF."""

    def __init__(self):
        super().__init__()
        self.revisions: dict[tuple[str, int], int] = {}
        self.fields: list[tuple[str, int, str]] = []
        self.levels: dict[int, list[str]] = {}
        self.csrf = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "body" and a.get("hx-headers"):
            self.csrf = json.loads(a["hx-headers"]).get("X-CSRFToken", "")
        if "data-revision" in a and "data-row-id" in a:
            self.revisions[(a["data-row-kind"], int(a["data-row-id"]))] = int(a["data-revision"])
        if "data-field" in a and "data-row-id" in a:
            self.fields.append((a["data-row-kind"], int(a["data-row-id"]), a["data-field"]))
        name = a.get("name") or ""
        if tag == "input" and a.get("type") == "radio" and name.startswith("level-"):
            self.levels.setdefault(int(name.split("-", 1)[1]), []).append(a.get("value", ""))


class Evaluator(HttpUser):
    wait_time = between(*WAIT)

    def on_start(self):
        self.number = next(_next_user)
        self.me = USERS[self.number % len(USERS)]
        self.seq = 0
        https = self.host.replace("http://", "https://", 1).rstrip("/")
        self.grid_url = f"/grilles/{self.me['grid_id']}/"
        self.save_url = f"{self.grid_url}champ/"
        # Cookies by hand: Django marks them Secure (HTTPS behind the proxy), which a client
        # speaking plain HTTP to gunicorn would otherwise never send back.
        cookie = f"sessionid={self.me['sessionid']}; csrftoken={self.me['csrftoken']}"
        self.headers = {"X-Forwarded-Proto": "https", "Cookie": cookie}
        self.save_headers = {**self.headers, "HX-Request": "true", "Origin": https,
                             "Referer": https + self.grid_url}
        self.open_grid()

    def open_grid(self):
        start = time.perf_counter()
        with self.client.get(self.grid_url, headers=self.headers, name="page de la grille",
                             catch_response=True, allow_redirects=False) as response:
            RECORD["pages"].append(round((time.perf_counter() - start) * 1000, 2))
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
                RECORD["errors"].append({"request": "page", "status": response.status_code})
                self.fields = []
                return
            page = GridPage()
            page.feed(response.text)
        self.client.cookies.clear()
        self.revisions, self.levels = page.revisions, page.levels
        self.fields = [f for f in page.fields if f[2] in FIELD_WEIGHTS
                       and (f[2] != "level" or self.levels.get(f[1]))]
        self.weights = [FIELD_WEIGHTS[f[2]] for f in self.fields]
        self.save_headers["X-CSRFToken"] = page.csrf or self.me["csrftoken"]

    def value_for(self, kind: str, row_id: int, field: str) -> str:
        self.seq += 1
        if field in ("notes", "comment"):
            return f"u{self.number}-{self.seq} {random.choice(['ok', 'vu', 'à revoir'])}"
        if field == "satisfied":
            return random.choice(["oui", "non"])
        if field == "concerned":
            return random.choice(["on", ""])
        return random.choice(self.levels[row_id])

    @task
    def autosave(self):
        if not self.fields:
            self.open_grid()
            return
        kind, row_id, field = random.choices(self.fields, weights=self.weights)[0]
        value = self.value_for(kind, row_id, field)
        for _attempt in range(MAX_ATTEMPTS):
            if not self.save(kind, row_id, field, value):
                break

    def save(self, kind: str, row_id: int, field: str, value: str) -> bool:
        """One request; True when it must be sent again (stale revision)."""
        revision = self.revisions.get((kind, row_id), 1)
        write = {"kind": kind, "row": row_id, "field": field, "value": value,
                 "sent_revision": revision, "user": self.number}
        PENDING[self.number] = write
        start, wall = time.perf_counter(), time.time()
        with self.client.post(self.save_url, data={
                "row_kind": kind, "row_id": row_id, "field": field, "value": value,
                "revision": revision}, headers=self.save_headers, name="enregistrement",
                catch_response=True, allow_redirects=False) as response:
            elapsed = round((time.perf_counter() - start) * 1000, 2)
            status = response.status_code
            RECORD["saves"].append([wall, elapsed, status])
            PENDING.pop(self.number, None)
            if status == 200 and response.headers.get("X-Grid-Revision"):
                new = int(response.headers["X-Grid-Revision"])
                self.revisions[(kind, row_id)] = new
                RECORD["acks"].append({**write, "revision": new, "t": wall})
                response.success()
                return False
            data = {}
            if status == 409:
                try:
                    data = response.json()
                except ValueError:
                    data = {}
            if status == 409 and data.get("error") == "stale":
                RECORD["stale"] += 1
                self.revisions[(kind, row_id)] = int(data["revision"])
                response.success()
                return True
            response.failure(f"HTTP {status}")
            RECORD["errors"].append({"request": "save", "status": status, "field": field,
                                     "body": response.text[:200] if response.text else ""})
            if status == 0 or status >= 500:
                RECORD["unanswered"].append(write)  # may or may not have been written
            return False


def dump(**_kwargs):
    RECORD["stopped"] = time.time()
    RECORD["unanswered"] += list(PENDING.values())
    PENDING.clear()
    with open(OUT, "w", encoding="utf-8") as stream:
        json.dump(RECORD, stream)


events.test_stop.add_listener(dump)
events.quitting.add_listener(dump)
