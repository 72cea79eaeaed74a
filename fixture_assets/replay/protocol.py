"""The interface between the replay server and the sources of its responses."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol


class ReplayInputError(ValueError):
    """A scenario, archive or recording that the replay server cannot use."""


def read_json_file(path: Path, description: str) -> Any:
    """Return the JSON value in ``path``, or raise ReplayInputError naming the ``description`` and the path."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise ReplayInputError(f"cannot read the {description} {path}: {error.strerror}") from None
    except ValueError as error:
        raise ReplayInputError(f"the {description} {path} is not valid JSON: {error}") from None


@dataclass(frozen=True, slots=True)
class ApiRequest:
    """One GET request as the server passes it to a source.

    ``path`` has no ``/v3`` prefix (RapidAPI's base URL adds one), and
    ``params`` contains the query parameters as strings.
    """

    path: str
    params: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class ApiResponse:
    """One response to send.

    ``body`` is a JSON value, or None for an empty body. ``raw_body``, when
    set, is sent as is in place of ``body``: archived bodies that were not
    JSON replay that way. ``delay_s`` and ``truncate`` are set by faults.
    """

    status: int
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    raw_body: bytes | None = None
    delay_s: float = 0.0
    truncate: bool = False

    def encoded_body(self) -> bytes:
        # HTTP forbids a body in a 204 response, so a recorded 204 body is dropped.
        if self.status == 204:
            return b""
        if self.raw_body is not None:
            return self.raw_body
        if self.body is None:
            return b""
        return json.dumps(self.body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def with_changes(self, **changes: Any) -> ApiResponse:
        return replace(self, **changes)


class ReplaySource(Protocol):
    """Where a replay server's responses come from.

    ``respond`` is called from the server's request threads, so it must be
    thread-safe. ``now`` is the server's virtual time.
    """

    @property
    def description(self) -> str:
        """A short name for logs, such as ``scenario tc01 (3 polls)``."""
        ...

    def initial_time(self) -> datetime | None:
        """Return where a free-running clock starts, or None for the real time now."""
        ...

    def respond(self, request: ApiRequest, now: datetime) -> ApiResponse: ...
