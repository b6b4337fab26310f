"""``python -m tests.bench.environment``: the environment of ``make bench``, as shell exports.

PostgreSQL at 127.0.0.1:5432 (user postgres) when it answers — its database ``uimm_bench``
created if missing — otherwise the SQLite file ``var/bench.sqlite3``; the Redis broker
``redis://127.0.0.1:6379/15`` when Redis answers; SCALE 20 on PostgreSQL, 2 on SQLite unless
given (the volume is loaded once: ``--fresh`` drops the bench database first, to load
another). Settings as in production (DEBUG off, HTTPS behind a proxy), a bench-only secret key.
Imports nothing of Django (it runs before any database exists)."""

import argparse
import shlex
import shutil
import socket
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
PG_HOST, PG_PORT, PG_USER, PG_DB = "127.0.0.1", 5432, "postgres", "uimm_bench"
REDIS_URL = "redis://127.0.0.1:6379/15"
DEFAULT_SCALE = {"postgresql": 20, "sqlite": 2}


def postgres_database(*, fresh: bool = False) -> str | None:
    """The bench database URL on the local PostgreSQL (created if missing, dropped first when
    ``fresh``), None if PostgreSQL does not answer."""
    try:
        import psycopg2
    except ImportError:
        return None
    try:
        conn = psycopg2.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres",
                                connect_timeout=3)
    except psycopg2.Error:
        return None
    try:
        conn.autocommit = True
        with conn.cursor() as cursor:
            if fresh:
                cursor.execute(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [PG_DB])
            if cursor.fetchone() is None:
                cursor.execute(f'CREATE DATABASE "{PG_DB}"')
    finally:
        conn.close()
    return f"postgres://{PG_USER}@{PG_HOST}:{PG_PORT}/{PG_DB}"


def redis_answers(host: str = "127.0.0.1", port: int = 6379) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def exports(*, database: str, scale: str, fresh: bool = False) -> dict[str, str]:
    url = postgres_database(fresh=fresh) if database in ("auto", "postgresql") else None
    if database == "postgresql" and url is None:
        sys.exit("PostgreSQL ne répond pas sur 127.0.0.1:5432 (utilisateur postgres).")
    vendor = "postgresql" if url else "sqlite"
    from tests.bench.run import BENCH_ENVIRONMENT

    if url is None:
        url = f"sqlite:///{BASE_DIR / 'var' / 'bench.sqlite3'}"
        if fresh:
            (BASE_DIR / "var" / "bench.sqlite3").unlink(missing_ok=True)
    if fresh:
        shutil.rmtree(BENCH_ENVIRONMENT["MEDIA_ROOT"], ignore_errors=True)
    values = {**BENCH_ENVIRONMENT, "DATABASE_URL": url,
              "CELERY_BROKER_URL": REDIS_URL if redis_answers() else "",
              "SCALE": scale or str(DEFAULT_SCALE[vendor]), "BENCH_VENDOR": vendor}
    return values


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.environment")
    parser.add_argument("--db", default="auto", choices=["auto", "postgresql", "sqlite"])
    parser.add_argument("--scale", default="")
    parser.add_argument("--fresh", action="store_true",
                        help="supprime d'abord la base du banc (pour changer de volume)")
    args = parser.parse_args(argv)
    for key, value in exports(database=args.db, scale=args.scale.strip(),
                              fresh=args.fresh).items():
        print(f"export {key}={shlex.quote(value)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
