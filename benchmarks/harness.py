"""Shared parts of the benchmarks: worker processes, command counting, RSS and the machine.

The measured code runs in a worker process of its own (``python -m
benchmarks.workers``), so that its peak RSS and its CPU time are not mixed
with the replay server, which runs in threads of the parent process. Parent
and worker exchange one JSON object per line: the parent sends the
configuration first, the worker sends requests (such as "set the replay
clock") and the parent replies to each, and the worker ends with
``{"op": "result"}``.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import resource
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any, TextIO

from pymongo.monitoring import CommandListener, CommandStartedEvent

from fixture_assets.store.embedded_server import EmbeddedMongo

REPO_ROOT = Path(__file__).resolve().parent.parent

# Commands the driver sends on its own: connection handshakes, server
# monitoring and session clean-up. They are not part of the measured work.
DRIVER_COMMANDS = frozenset({"hello", "ismaster", "isMaster", "ping", "endSessions", "saslStart", "saslContinue"})

# The parent kills a worker that has not finished by then.
WORKER_TIMEOUT_S = 900.0

Handler = Callable[[dict[str, Any]], dict[str, Any]]


class MongoCommandCounter(CommandListener):
    """Counts the data commands a MongoClient sends, by name, leaving out driver commands."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._names: list[str] = []

    def started(self, event: CommandStartedEvent) -> None:
        if event.command_name not in DRIVER_COMMANDS:
            with self._lock:
                self._names.append(event.command_name)

    def succeeded(self, event: object) -> None:
        pass

    def failed(self, event: object) -> None:
        pass

    def take(self) -> Counter[str]:
        """Return the commands counted since the last call, by name, and start counting anew."""
        with self._lock:
            names, self._names = self._names, []
        return Counter(names)


def peak_rss_mb() -> float:
    """Return this process's peak resident set size so far, in MiB (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    """Return this process's resident set size now, in MiB, from /proc/self/statm."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def configure_benchmark_logging() -> None:
    """Log the benchmark's progress, and only warnings from the pipeline and httpx, which log every request."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("fixture_assets").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)


def machine_summary() -> dict[str, Any]:
    """Return the cores, memory, CPU model, Python version and 1-minute load average of this machine.

    Taken before a run, the load average shows whether other processes were
    competing for the cores.
    """
    memory_kib = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            memory_kib = int(line.split()[1])
    cpu_model = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu_model = line.split(":", 1)[1].strip()
            break
    return {
        "cores": len(os.sched_getaffinity(0)),
        "memory_gib": round(memory_kib / 2**20, 1),
        "cpu": cpu_model,
        "python": platform.python_version(),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def start_secantus(stack: ExitStack, prefix: str) -> str:
    """Start SecantusDB with its data in a new temporary folder, both closed by ``stack``, and return its URI."""
    folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=prefix)))
    server = stack.enter_context(EmbeddedMongo(folder / "db", log_path=folder / "secantus.log"))
    return server.uri


def run_worker(kind: str, config: dict[str, Any], handler: Handler) -> dict[str, Any]:
    """Run ``python -m benchmarks.workers KIND`` with ``config`` and return its result.

    ``handler`` returns the reply to each request the worker sends before its
    result. Raises RuntimeError when the worker exits without a result or
    runs longer than WORKER_TIMEOUT_S.
    """
    process = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.workers", kind],
        cwd=REPO_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        bufsize=1,
    )
    assert process.stdin is not None and process.stdout is not None
    timed_out = threading.Event()

    def kill_on_timeout() -> None:
        timed_out.set()
        process.kill()

    watchdog = threading.Timer(WORKER_TIMEOUT_S, kill_on_timeout)
    watchdog.start()
    try:
        _send(process.stdin, config)
        for line in process.stdout:
            message = json.loads(line)
            if message.get("op") == "result":
                return message["result"]
            _send(process.stdin, handler(message))
    finally:
        watchdog.cancel()
        process.stdin.close()
        code = process.wait()
    if timed_out.is_set():
        raise RuntimeError(f"the {kind} worker timed out after {WORKER_TIMEOUT_S:.0f} s and was killed")
    raise RuntimeError(f"the {kind} worker exited with code {code} before sending its result; see its traceback above")


class WorkerChannel:
    """The worker's side of the line protocol.

    It keeps the original stdout for the protocol and points ``sys.stdout``
    at stderr, so that a stray print cannot corrupt a message.
    """

    def __init__(self) -> None:
        self._out = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
        sys.stdout = sys.stderr
        self.config: dict[str, Any] = json.loads(sys.stdin.readline())

    def request(self, op: str, **fields: Any) -> dict[str, Any]:
        """Send a request to the parent and return its reply."""
        _send(self._out, {"op": op, **fields})
        reply = sys.stdin.readline()
        if not reply:
            raise RuntimeError(f"the parent closed the channel before replying to {op}")
        return json.loads(reply)

    def finish(self, result: dict[str, Any]) -> None:
        _send(self._out, {"op": "result", "result": result})


def _send(stream: TextIO, message: dict[str, Any]) -> None:
    stream.write(json.dumps(message) + "\n")
    stream.flush()


def format_table(headers: list[str], rows: list[list[str]]) -> str:
    """Format rows as a Markdown table with right-aligned columns."""
    widths = [max(len(headers[column]), *(len(row[column]) for row in rows)) for column in range(len(headers))]
    lines = [
        "| " + " | ".join(header.rjust(width) for header, width in zip(headers, widths)) + " |",
        "|" + "|".join("-" * (width + 1) + ":" for width in widths) + "|",
    ]
    lines += ["| " + " | ".join(cell.rjust(width) for cell, width in zip(row, widths)) + " |" for row in rows]
    return "\n".join(lines)
