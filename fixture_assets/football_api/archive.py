"""Raw archive of API responses: one gzip JSON-lines file per UTC day.

Each line is one response, in the shape of one poll of a replay scenario
(``at``, ``status``, ``headers``, ``body``) plus the request's ``path`` and
``params``, so that ``fixture-assets replay-server --archive`` can serve an
archived day again. A body that is not JSON is kept as text in ``body_text``
with ``body`` null. The API key is never written: it travels in a request
header, and only response headers are archived.
"""

from __future__ import annotations

import gzip
import json
import logging
import threading
import zlib
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

ARCHIVE_SUFFIX = ".jsonl.gz"
# Cookies can be session secrets, so they are not archived.
_SKIPPED_HEADERS = frozenset({"set-cookie"})
# Level 5 compresses JSON almost as well as 9 at a fraction of the CPU time.
_COMPRESS_LEVEL = 5


def archive_file_name(day: date) -> str:
    return f"{day.isoformat()}{ARCHIVE_SUFFIX}"


def archive_line(
    *,
    at: datetime,
    path: str,
    params: Mapping[str, str],
    status: int,
    headers: Mapping[str, str],
    content: bytes,
) -> dict[str, Any]:
    """Build the archive line of one raw response received at ``at``."""
    line: dict[str, Any] = {
        "at": at.astimezone(UTC).isoformat(),
        "path": path,
        "params": dict(params),
        "status": status,
        "headers": {name: value for name, value in headers.items() if name.lower() not in _SKIPPED_HEADERS},
    }
    if not content:
        line["body"] = None
        return line
    try:
        line["body"] = json.loads(content)
    except (ValueError, RecursionError):
        line["body"] = None
        line["body_text"] = content.decode("utf-8", "replace")
    return line


class RawArchive:
    """Appends archive lines to ``<folder>/<YYYY-MM-DD>.jsonl.gz``, by the line's UTC day.

    Every append opens the file, writes one gzip member and closes it, so a
    crash loses at most the line being written. Appends are thread-safe within
    one process, but two processes must not share a folder.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._lock = threading.Lock()

    def path_for(self, day: date) -> Path:
        return self.folder / archive_file_name(day)

    def append(self, line: Mapping[str, Any]) -> Path:
        """Append one line to the file of its UTC day and return that file's path."""
        day = datetime.fromisoformat(line["at"]).astimezone(UTC).date()
        path = self.path_for(day)
        encoded = (json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
        with self._lock:
            self.folder.mkdir(parents=True, exist_ok=True)
            with gzip.open(path, "ab", compresslevel=_COMPRESS_LEVEL) as file:
                file.write(encoded)
        return path


def read_archive_file(path: Path) -> Iterator[dict[str, Any]]:
    """Yield the lines of one archive file.

    A line that is not a JSON object is skipped with a warning. A file cut
    short by a crash yields the lines before the damage.
    """
    try:
        with gzip.open(path, "rt", encoding="utf-8") as file:
            for number, text in enumerate(file, start=1):
                line = _decode_line(text, path, number)
                if line is not None:
                    yield line
    except (EOFError, gzip.BadGzipFile, zlib.error) as error:
        logger.warning("stopped reading the archive file %s at damaged data: %s", path, error)


def _decode_line(text: str, path: Path, number: int) -> dict[str, Any] | None:
    if not text.strip():
        return None
    try:
        line = json.loads(text)
    except ValueError:
        logger.warning("skipped line %d of the archive file %s: it is not valid JSON", number, path)
        return None
    if not isinstance(line, dict):
        logger.warning("skipped line %d of the archive file %s: it is not a JSON object", number, path)
        return None
    return line
