"""gunicorn settings of deploy/web.sh, read from the environment only.

    BIND             address to listen on (default 127.0.0.1:$PORT; the container sets
                     0.0.0.0:8000); several, comma-separated
    PORT             port when BIND is not set (default 8000)
    WEB_CONCURRENCY  worker processes (default 2 × cores + 1, at most 12)
    WEB_TIMEOUT      seconds before a stuck request's worker is replaced (default 60)
    WEB_MAX_REQUESTS a worker is replaced after about this many requests (default 2000)

The access log goes to stdout, errors to stderr: the service manager (systemd, the container
engine) keeps them. Any other gunicorn setting can still be given in GUNICORN_CMD_ARGS.
"""

import gc
import os

from config.logging_config import logging_config

_cores = os.cpu_count() or 1

bind = [part.strip() for part in
        os.environ.get("BIND", f"127.0.0.1:{os.environ.get('PORT', '8000')}").split(",")
        if part.strip()]
workers = int(os.environ.get("WEB_CONCURRENCY") or min(2 * _cores + 1, 12))
worker_class = "sync"
timeout = int(os.environ.get("WEB_TIMEOUT") or 60)
# A stop or restart lets requests in progress finish (a signature, an upload) this long.
graceful_timeout = 30
keepalive = 5
max_requests = int(os.environ.get("WEB_MAX_REQUESTS") or 2000)
max_requests_jitter = max_requests // 10
# The application is loaded once in the master, then forked: workers share its memory
# (copy-on-write) and a broken release fails at start, not at the first request.
preload_app = True
accesslog = "-"
errorlog = "-"
# The application's logging (JSON lines on stderr with the request id when DEBUG is off), for
# gunicorn's own loggers too: one format for every line of a web process.
logconfig_dict = logging_config(fmt=os.environ.get("LOG_FORMAT") or "json",
                                level=os.environ.get("LOG_LEVEL") or "INFO")
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'
# Heartbeat files of the workers in memory, not on a possibly slow or read-only disk.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108
# No control socket: its default path is per user, and two servers on one machine (or one
# read-only home directory) would collide on it.
control_socket_disable = True


def when_ready(server):
    """After the preload, before the fork: move everything loaded so far out of the garbage
    collector's reach, so that its passes do not touch (and copy) the shared pages."""
    gc.freeze()
