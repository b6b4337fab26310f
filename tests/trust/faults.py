"""Fault injection for the trust suite: point this process's Celery app at another broker
(a dead port, or a private redis-server the test starts and stops), start and stop real
processes (redis-server, a Celery worker) on the test database."""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import kombu.pools
from django.db import connection

from config.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def dead_broker_url() -> str:
    """A Redis URL on which nothing listens: every publish is refused."""
    return f"redis://127.0.0.1:{free_port()}/0"


def _reset_producer_pools() -> None:
    # Celery caches its connection and producer pools (kombu keeps them in a registry keyed
    # by connection): close and forget them all, so that the next publish connects to the
    # URL now configured.
    kombu.pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@contextlib.contextmanager
def broker(url: str, *, eager: bool = False):
    """Publish to ``url`` (not eagerly) for the duration of the block. Celery reads the
    CELERY_BROKER_URL environment variable before its configuration (as .ci/run sets it):
    both are pointed at ``url``."""
    previous = (celery_app.conf.broker_url, celery_app.conf.task_always_eager)
    previous_env = os.environ.get("CELERY_BROKER_URL")
    os.environ["CELERY_BROKER_URL"] = url
    celery_app.conf.broker_url = url
    celery_app.conf.task_always_eager = eager
    _reset_producer_pools()
    try:
        assert celery_app.connection_for_write().as_uri().endswith(url.rsplit(":", 1)[-1])
        yield
    finally:
        if previous_env is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = previous_env
        celery_app.conf.broker_url, celery_app.conf.task_always_eager = previous
        _reset_producer_pools()


def wait_for(predicate, *, timeout: float = 45, step: float = 0.2, message: str = ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(message or "condition not met in time")


class RedisServer:
    """A private redis-server on a free port, that a test may stop and start again."""

    def __init__(self, workdir: Path):
        self.port = free_port()
        self.workdir = workdir
        self.process = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server introuvable")
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def answers():
            with contextlib.suppress(OSError), socket.create_connection(
                    ("127.0.0.1", self.port), timeout=0.2) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
            return False

        wait_for(answers, timeout=10, message="redis-server ne démarre pas")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None


def database_url() -> str:
    """The URL of the database this test runs on (pytest-django's test database)."""
    params = connection.settings_dict
    return (f"postgres://{params['USER']}@{params['HOST'] or '127.0.0.1'}:"
            f"{params['PORT'] or 5432}/{params['NAME']}")


class Worker:
    """A real Celery worker process on ``broker_url`` and the test database. ``app`` may be a
    module that wraps the project's app (fault hooks for the test only)."""

    def __init__(self, broker_url: str, media_root: Path, log: Path, *,
                 app: str = "config", concurrency: int = 1, extra_env: dict | None = None):
        self.broker_url, self.media_root, self.log = broker_url, media_root, log
        self.app, self.concurrency = app, concurrency
        self.extra_env = extra_env or {}
        self.process = None
        self._log_stream = None

    def start(self) -> None:
        self._log_stream = self.log.open("ab")
        env = {**os.environ, "DATABASE_URL": database_url(), "CELERY_BROKER_URL": self.broker_url,
               "MEDIA_ROOT": str(self.media_root), "DJANGO_SETTINGS_MODULE": "config.settings",
               "PYTHONPATH": str(ROOT), **self.extra_env}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", self.app, "worker", "--loglevel=INFO",
             f"--concurrency={self.concurrency}", "--pool=prefork", "--without-heartbeat",
             "--without-gossip", "--without-mingle"],
            cwd=ROOT, env=env, stdout=self._log_stream, stderr=subprocess.STDOUT,
            start_new_session=True)

    def stop(self, sig=signal.SIGTERM) -> None:
        if self.process and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        self.process = None
        if self._log_stream is not None:
            self._log_stream.close()
            self._log_stream = None

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""
