"""``python tests/bench/peak.py RESULT.json COMMAND...``: run COMMAND, then write to RESULT.json
its exit code, wall time and peak resident memory (``ru_maxrss`` of ``os.wait4``, KiB on
Linux), and exit with its code.

Why a launcher: on Linux a child's ``ru_maxrss`` counts what its parent held when it was
forked (the memory is shared until ``exec``; with vfork, the parent's whole high-water mark).
Started from the bench — hundreds of megabytes after the pages and PDFs — the command would
report the bench's peak, not its own. Started from this small process (standard library
only), it reports its own: at most this launcher's few megabytes more."""

import json
import os
import signal
import subprocess
import sys
import time


def main() -> int:
    result_path, command = sys.argv[1], sys.argv[2:]
    start = time.perf_counter()
    process = subprocess.Popen(command)
    # Stopped by the bench (timeout): stop the command too.
    signal.signal(signal.SIGTERM, lambda *_: process.kill())
    while True:
        try:
            _pid, status, usage = os.wait4(process.pid, 0)
            break
        except InterruptedError:  # pragma: no cover - retried by Python (PEP 475) anyway
            continue
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    with open(result_path, "w", encoding="utf-8") as out:
        json.dump({"returncode": code, "wall_s": wall, "maxrss_kib": usage.ru_maxrss}, out)
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main())
