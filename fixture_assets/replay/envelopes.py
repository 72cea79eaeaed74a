"""Build API-Football v3 envelopes and filter the fixture items in them."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fixture_assets.core.status import LIVE_STATUSES
from fixture_assets.replay.protocol import ApiResponse

JSON_HEADERS = {"Content-Type": "application/json"}

# Error texts as API-Football sends them.
REQUIRED_PARAMETER_ERROR = {"required": "At least one parameter is required."}
MISSING_KEY_ERROR = {
    "token": "Error/Missing application key. Go to https://www.api-football.com/documentation-v3 "
    "to learn how to get your API application key."
}


def envelope(
    get: str,
    parameters: Mapping[str, str],
    response: Any,
    errors: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Build an envelope. Empty ``parameters`` and ``errors`` are ``[]``, as the API sends them."""
    if isinstance(response, list):
        results = len(response)
    else:
        results = 1 if response else 0
    return {
        "get": get,
        "parameters": dict(parameters) if parameters else [],
        "errors": dict(errors) if errors else [],
        "results": results,
        "paging": {"current": 1, "total": 1},
        "response": response,
    }


def ok_response(
    get: str, parameters: Mapping[str, str], response: Any, headers: Mapping[str, str] | None = None
) -> ApiResponse:
    return ApiResponse(200, envelope(get, parameters, response), {**JSON_HEADERS, **(headers or {})})


def errors_response(
    get: str, parameters: Mapping[str, str], errors: Mapping[str, str], headers: Mapping[str, str] | None = None
) -> ApiResponse:
    """Build the API's HTTP 200 response with an ``errors`` object and no results."""
    return ApiResponse(200, envelope(get, parameters, [], errors), {**JSON_HEADERS, **(headers or {})})


@dataclass(frozen=True, slots=True)
class DateQuery:
    """The filters of a ``GET /fixtures?date=`` request."""

    date: str
    timezone: str = "UTC"
    league: int | None = None
    season: int | None = None
    team: int | None = None

    def select(self, items: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """Return the items on this date in this timezone that pass the filters, without events.

        As in the API, ``fixture.date`` is given in the requested timezone.
        """
        zone = ZoneInfo(self.timezone)
        selected = []
        for item in items:
            kickoff = _kickoff(item)
            try:
                on_date = kickoff is not None and kickoff.astimezone(zone).date().isoformat() == self.date
            except OverflowError:
                # A date at the edge of datetime's range; the API would not list it either.
                on_date = False
            if not on_date:
                continue
            if not self._passes_filters(item):
                continue
            selected.append(_in_timezone(without_events(item), kickoff, zone, self.timezone))
        return selected

    def _passes_filters(self, item: dict[str, Any]) -> bool:
        league = item.get("league") or {}
        teams = item.get("teams") or {}
        if self.league is not None and league.get("id") != self.league:
            return False
        if self.season is not None and league.get("season") != self.season:
            return False
        if self.team is not None:
            team_ids = {(teams.get(side) or {}).get("id") for side in ("home", "away")}
            if self.team not in team_ids:
                return False
        return True


def fixture_id(item: Any) -> int | None:
    if not isinstance(item, dict) or not isinstance(item.get("fixture"), dict):
        return None
    value = item["fixture"].get("id")
    return value if isinstance(value, int) else None


def status_short(item: dict[str, Any]) -> str | None:
    status = (item.get("fixture") or {}).get("status") or {}
    return status.get("short")


def select_ids(items: Iterable[Any], ids: Sequence[int]) -> list[Any]:
    """Return the items whose fixture id is requested, in the order of ``items``."""
    requested = set(ids)
    return [item for item in items if fixture_id(item) in requested]


def select_live(items: Iterable[dict[str, Any]], leagues: frozenset[int] | None) -> list[dict[str, Any]]:
    """Return the items in play, optionally only those of ``leagues``, as ``live=`` does."""
    selected = []
    for item in items:
        if status_short(item) not in LIVE_STATUSES:
            continue
        if leagues is not None and (item.get("league") or {}).get("id") not in leagues:
            continue
        selected.append(item)
    return selected


def without_events(item: dict[str, Any]) -> dict[str, Any]:
    """Return a shallow copy without the keys that only ``ids=`` responses carry."""
    return {key: value for key, value in item.items() if key not in ("events", "lineups", "statistics", "players")}


def _kickoff(item: dict[str, Any]) -> datetime | None:
    raw = (item.get("fixture") or {}).get("date")
    if not isinstance(raw, str):
        return None
    try:
        kickoff = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return kickoff if kickoff.tzinfo is not None else None


def _in_timezone(item: dict[str, Any], kickoff: datetime, zone: ZoneInfo, name: str) -> dict[str, Any]:
    if name == "UTC":
        return item
    shifted = copy.copy(item)
    shifted["fixture"] = {**item["fixture"], "timezone": name, "date": kickoff.astimezone(zone).isoformat()}
    return shifted
