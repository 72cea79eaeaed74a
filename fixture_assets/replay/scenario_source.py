"""Replay a scenario file: API responses recorded poll by poll, on a virtual clock.

A scenario is a JSON object with ``polls`` (each with ``at``, ``status``,
optional ``headers``, and ``body``) and an optional ``discovery`` envelope.
An ``ids=`` request at virtual time t gets its response from the last poll whose
``at`` is not after t: a successful poll filtered to the requested ids, with
``results`` and ``parameters`` fixed, and a failed poll exactly as recorded.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fixture_assets.replay.api_source import FixturesApiSource
from fixture_assets.replay.envelopes import JSON_HEADERS, DateQuery, select_ids, select_live, without_events
from fixture_assets.replay.protocol import ApiResponse, ReplayInputError, read_json_file

_ENVELOPE_KEYS = ("get", "parameters", "errors", "results", "paging", "response")


@dataclass(frozen=True, slots=True)
class RecordedPoll:
    """One recorded response and the virtual time it belongs to."""

    at: datetime
    status: int
    headers: dict[str, str]
    body: Any
    raw_body: bytes | None = None

    @property
    def succeeded(self) -> bool:
        """True for HTTP 200 with an envelope whose ``errors`` is empty."""
        body = self.body
        if self.status != 200 or not isinstance(body, dict):
            return False
        if any(key not in body for key in _ENVELOPE_KEYS):
            return False
        return body["errors"] in ([], {}) and isinstance(body["response"], list)

    def as_recorded(self) -> ApiResponse:
        return ApiResponse(self.status, self.body, {**JSON_HEADERS, **self.headers}, raw_body=self.raw_body)

    def filtered(self, items: list[Any], parameters: Mapping[str, str]) -> ApiResponse:
        """Return this successful poll's response with only ``items``, as a request for them gets it."""
        body = {**self.body, "parameters": dict(parameters), "results": len(items), "response": items}
        return ApiResponse(200, body, {**JSON_HEADERS, **self.headers})


def parse_poll(raw: Any, where: str) -> RecordedPoll:
    """Read one poll object. ``where`` names it in errors, such as ``tc01 polls[2]``."""
    if not isinstance(raw, dict):
        raise ReplayInputError(f"{where} is {type(raw).__name__}, expected an object with at, status and body")
    at = _parse_at(raw.get("at"), where)
    status = raw.get("status")
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        raise ReplayInputError(f"{where}.status is {status!r}, expected an HTTP status code")
    headers = raw.get("headers") or {}
    if not isinstance(headers, dict) or not all(isinstance(value, str) for value in headers.values()):
        raise ReplayInputError(f"{where}.headers must be an object of strings")
    if "body" not in raw:
        raise ReplayInputError(f"{where} has no body: use null for an empty body")
    raw_body = raw["body_text"].encode("utf-8") if isinstance(raw.get("body_text"), str) else None
    return RecordedPoll(at=at, status=status, headers=dict(headers), body=raw["body"], raw_body=raw_body)


def _parse_at(value: Any, where: str) -> datetime:
    if not isinstance(value, str):
        raise ReplayInputError(f"{where}.at is {value!r}, expected an ISO 8601 time such as 2024-02-19T21:06:00+00:00")
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise ReplayInputError(f"{where}.at {value!r} is not an ISO 8601 time") from None
    if at.tzinfo is None:
        raise ReplayInputError(f"{where}.at {value!r} has no UTC offset")
    return at.astimezone(UTC)


class ScenarioSource(FixturesApiSource):
    """Serves one scenario's polls at the server's virtual time."""

    def __init__(self, scenario: Mapping[str, Any], *, name: str | None = None) -> None:
        super().__init__()
        self.name = name or str(scenario.get("name") or "scenario")
        raw_polls = scenario.get("polls")
        if not isinstance(raw_polls, list) or not raw_polls:
            raise ReplayInputError(f"scenario {self.name} has no polls: it needs a non-empty polls array")

        polls = [parse_poll(raw, f"{self.name} polls[{index}]") for index, raw in enumerate(raw_polls)]
        # A stable sort keeps file order among polls recorded at the same time.
        self.polls = sorted(polls, key=lambda poll: poll.at)
        self._poll_times = [poll.at for poll in self.polls]
        self._discovery = scenario.get("discovery")
        self.description = f"scenario {self.name} ({len(self.polls)} polls)"

    @classmethod
    def from_file(cls, path: Path) -> ScenarioSource:
        scenario = read_json_file(path, "scenario file")
        if not isinstance(scenario, dict):
            raise ReplayInputError(f"the scenario file {path} must contain a JSON object with polls")
        return cls(scenario, name=scenario.get("name") or Path(path).stem)

    def initial_time(self) -> datetime:
        return self.polls[0].at

    def poll_at(self, now: datetime) -> RecordedPoll | None:
        """Return the last poll whose ``at`` is not after ``now``, or None before the first."""
        index = bisect.bisect_right(self._poll_times, now)
        return self.polls[index - 1] if index else None

    def fixtures_by_ids(self, ids: list[int], params: Mapping[str, str], now: datetime) -> ApiResponse:
        poll = self.poll_at(now)
        if poll is None:
            return self.ok(params, [], now)
        if not poll.succeeded:
            return poll.as_recorded()
        return poll.filtered(select_ids(poll.body["response"], ids), params)

    def live_fixtures(self, leagues: frozenset[int] | None, params: Mapping[str, str], now: datetime) -> ApiResponse:
        poll = self.poll_at(now)
        if poll is None:
            return self.ok(params, [], now)
        if not poll.succeeded:
            return poll.as_recorded()
        return poll.filtered(select_live(poll.body["response"], leagues), params)

    def fixtures_by_date(self, query: DateQuery, params: Mapping[str, str], now: datetime) -> ApiResponse:
        discovery = self._discovery
        if isinstance(discovery, dict) and discovery.get("errors") not in ([], {}, None):
            return ApiResponse(200, discovery, JSON_HEADERS)
        return self.ok(params, query.select(self.discovery_items()), now)

    def discovery_items(self) -> list[Any]:
        """Return every fixture item that ``date=`` requests are answered from, before date filtering.

        That is the ``discovery`` envelope's response when the scenario has
        one, else the fixtures of the first successful poll without events.
        """
        discovery = self._discovery
        if isinstance(discovery, dict):
            return list(discovery.get("response") or [])
        first_success = next((poll for poll in self.polls if poll.succeeded), None)
        items = first_success.body["response"] if first_success is not None else []
        return [without_events(item) for item in items]
