"""Faults that a test injects into a replay server's next responses.

Each fault applies to requests on ``path`` and, when ``param`` is set, only to
requests that carry that query parameter (``ids``, ``date``, ``live``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fixture_assets.replay.envelopes import JSON_HEADERS, envelope, fixture_id
from fixture_assets.replay.protocol import ApiRequest, ApiResponse

SERVER_ERROR_BODY = {"message": "Something went wrong while fetching details. Try again later."}


@dataclass(frozen=True, kw_only=True)
class Fault:
    """Base of the faults: which requests one applies to."""

    path: str = "/fixtures"
    param: str | None = None

    def matches(self, request: ApiRequest) -> bool:
        return request.path == self.path and (self.param is None or self.param in request.params)

    def apply(self, request: ApiRequest, response: ApiResponse) -> ApiResponse:
        """Return the response to send in place of ``response``."""
        raise NotImplementedError


@dataclass(frozen=True, kw_only=True)
class StatusFault(Fault):
    """Respond with ``status`` and ``body``, such as 500 with the API's ``{"message"}`` body."""

    status: int
    body: Any = field(default_factory=lambda: dict(SERVER_ERROR_BODY))
    headers: dict[str, str] = field(default_factory=dict)

    def apply(self, request: ApiRequest, response: ApiResponse) -> ApiResponse:
        return ApiResponse(self.status, self.body, {**JSON_HEADERS, **self.headers})


@dataclass(frozen=True, kw_only=True)
class ErrorsFault(Fault):
    """Respond with HTTP 200, an ``errors`` object such as ``{"token": "..."}``, and no results."""

    errors: dict[str, str]

    def apply(self, request: ApiRequest, response: ApiResponse) -> ApiResponse:
        get = request.path.strip("/")
        return ApiResponse(200, envelope(get, request.params, [], self.errors), response.headers)


@dataclass(frozen=True, kw_only=True)
class DelayFault(Fault):
    """Wait ``seconds`` before responding, to run past the client's read timeout."""

    seconds: float

    def apply(self, request: ApiRequest, response: ApiResponse) -> ApiResponse:
        return response.with_changes(delay_s=self.seconds)


@dataclass(frozen=True, kw_only=True)
class TruncatedBodyFault(Fault):
    """Send the headers and half the body, then close the connection."""

    def apply(self, request: ApiRequest, response: ApiResponse) -> ApiResponse:
        return response.with_changes(truncate=True)


@dataclass(frozen=True, kw_only=True)
class MissingIdFault(Fault):
    """Drop fixtures from a successful response: ``fixture_ids``, or else the first requested id."""

    fixture_ids: tuple[int, ...] = ()
    param: str | None = "ids"

    def apply(self, request: ApiRequest, response: ApiResponse) -> ApiResponse:
        body = response.body
        if response.status != 200 or not isinstance(body, dict) or not isinstance(body.get("response"), list):
            return response

        dropped = set(self.fixture_ids) or self._first_requested(request)
        items = [item for item in body["response"] if fixture_id(item) not in dropped]
        return response.with_changes(body={**body, "response": items, "results": len(items)})

    @staticmethod
    def _first_requested(request: ApiRequest) -> set[int]:
        first = request.params.get("ids", "").split("-")[0]
        return {int(first)} if first.isdigit() else set()
