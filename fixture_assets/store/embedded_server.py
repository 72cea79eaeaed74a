"""Start and stop SecantusDB, the embedded MongoDB used by tests and local runs.

SecantusDB is GPL-2.0-only, so it runs as a separate process through its
``secantusd-py`` command and this package never imports it. It is installed
by the ``test`` extra; production sets ``MONGO_URI`` to a real MongoDB.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import pymongo
from pymongo.errors import PyMongoError

logger = logging.getLogger(__name__)

SERVER_COMMAND = "secantusd-py"


class EmbeddedMongoError(RuntimeError):
    """SecantusDB could not be started."""


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port that was free on ``host`` a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class EmbeddedMongo:
    """One SecantusDB server process on 127.0.0.1.

    ``storage_path`` keeps the data across restarts; ``":memory:"`` gives a
    throwaway store. ``test_commands`` enables ``configureFailPoint``, which
    must stay off outside tests because any client could then break the server.
    """

    def __init__(
        self,
        storage_path: str | Path,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        test_commands: bool = False,
        log_path: str | Path | None = None,
        start_timeout_s: float = 30.0,
    ) -> None:
        self.storage_path = str(storage_path)
        self.host = host
        self.port = port or free_port(host)
        self.test_commands = test_commands
        self.log_path = Path(log_path) if log_path else None
        self.start_timeout_s = start_timeout_s
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def uri(self) -> str:
        return f"mongodb://{self.host}:{self.port}/"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def exit_code(self) -> int | None:
        """Return the server's exit code if it has exited, or None while it runs or before it starts."""
        return self._process.poll() if self._process else None

    def start(self) -> EmbeddedMongo:
        command = self._command()
        if self.storage_path != ":memory:":
            Path(self.storage_path).mkdir(parents=True, exist_ok=True)
        log_file = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        logger.info("starting SecantusDB on %s:%s, data in %s", self.host, self.port, self.storage_path)
        self._process = subprocess.Popen(
            command,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            # Its own process group, so a Ctrl-C meant for the parent does not
            # stop the database before the processes that still write to it.
            start_new_session=True,
        )
        if log_file is not subprocess.DEVNULL:
            log_file.close()
        self._wait_until_ready()
        return self

    def stop(self, timeout_s: float = 15.0) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        logger.info("stopping SecantusDB on %s:%s", self.host, self.port)
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            logger.warning("SecantusDB on port %s did not stop within %.0f s; killing it", self.port, timeout_s)
            process.kill()
            process.wait()

    def kill(self) -> None:
        """Stop the server with SIGKILL, as a crash would."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()

    def __enter__(self) -> EmbeddedMongo:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _command(self) -> list[str]:
        executable = shutil.which(SERVER_COMMAND) or _beside_python(SERVER_COMMAND)
        if executable is None:
            raise EmbeddedMongoError(
                f"{SERVER_COMMAND} was not found on PATH. Install the test extra "
                "(pip install -e '.[test]', or make install), or set MONGO_URI to a MongoDB server."
            )
        command = [
            executable,
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--storage-path",
            self.storage_path,
            # Without it, writes acknowledged just before a crash can be lost.
            "--sync-on-commit",
            "--log-level",
            "WARNING",
        ]
        if self.test_commands:
            command.append("--enable-test-commands")
        return command

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout_s
        client: pymongo.MongoClient = pymongo.MongoClient(self.uri, serverSelectionTimeoutMS=500)
        try:
            while True:
                if self._process is not None and self._process.poll() is not None:
                    raise EmbeddedMongoError(
                        f"SecantusDB exited with code {self._process.returncode} while starting on "
                        f"port {self.port}{self._log_hint()}"
                    )
                try:
                    client.admin.command("ping")
                    return
                except PyMongoError:
                    if time.monotonic() > deadline:
                        self.kill()
                        raise EmbeddedMongoError(
                            f"SecantusDB did not answer ping on {self.uri} within "
                            f"{self.start_timeout_s:.0f} s{self._log_hint()}"
                        ) from None
                    time.sleep(0.1)
        finally:
            client.close()

    def _log_hint(self) -> str:
        return f"; see {self.log_path}" if self.log_path else ""


def _beside_python(name: str) -> str | None:
    """Find a console script installed in the running interpreter's environment."""
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() and os.access(candidate, os.X_OK) else None
