"""Base class of the replay sources: routes requests and checks parameters as API-Football does."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fixture_assets.replay.envelopes import (
    JSON_HEADERS,
    REQUIRED_PARAMETER_ERROR,
    DateQuery,
    errors_response,
    ok_response,
)
from fixture_assets.replay.protocol import ApiRequest, ApiResponse
from fixture_assets.replay.simulated_quota import SimulatedQuota

# API-Football returns no fixtures for an ``ids=`` request of more than 20 ids.
MAX_IDS_PER_REQUEST = 20

# Ids of at most 18 digits fit MongoDB's 64-bit integers, as real fixture ids do.
_ID_LIST = re.compile(r"^[1-9][0-9]{0,17}(-[1-9][0-9]{0,17})*$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_POSITIVE_INT = re.compile(r"^[1-9][0-9]*$")

# Parameter error texts written for the replay server in the style of the API.
_IDS_ERROR = {"ids": "The Ids field must contain fixture ids separated by a dash, e.g. 1-2-3."}
_LIVE_ERROR = {"live": "The Live field must be 'all' or league ids separated by a dash, e.g. 39-61."}
_DATE_ERROR = {"date": "The Date field must contain a valid date, e.g. 2024-05-25."}
_TIMEZONE_ERROR = {"timezone": "The Timezone field must contain a valid timezone."}
_UNSUPPORTED_ERROR = {"parameters": "The replay server supports /fixtures only with ids, live or date."}


class FixturesApiSource(ABC):
    """Serves ``/fixtures`` (``ids``, ``live``, ``date``) and ``/status`` from fixture items.

    Subclasses provide the fixtures at a virtual time. Parameter checks, error
    envelopes and simulated quota headers are implemented here, so that every
    source rejects bad requests the same way. A synthetic source for
    benchmarks can subclass this too.
    """

    description = "fixtures source"

    def __init__(self, quota: SimulatedQuota | None = None) -> None:
        self.quota = quota or SimulatedQuota()

    def initial_time(self) -> datetime | None:
        return None

    def respond(self, request: ApiRequest, now: datetime) -> ApiResponse:
        if request.path == "/status":
            return self.account_status(now)
        if request.path != "/fixtures":
            return ApiResponse(404, {"message": f"Endpoint '{request.path}' does not exist."}, JSON_HEADERS)
        return self._route_fixtures(request.params, now)

    @abstractmethod
    def fixtures_by_ids(self, ids: list[int], params: Mapping[str, str], now: datetime) -> ApiResponse:
        """Respond to ``ids=`` with at most 20 valid ids."""

    @abstractmethod
    def fixtures_by_date(self, query: DateQuery, params: Mapping[str, str], now: datetime) -> ApiResponse:
        """Respond to ``date=`` with a valid date and timezone."""

    @abstractmethod
    def live_fixtures(self, leagues: frozenset[int] | None, params: Mapping[str, str], now: datetime) -> ApiResponse:
        """Respond to ``live=all`` (``leagues`` None) or ``live=<league ids>``."""

    def account_status(self, now: datetime) -> ApiResponse:
        """Respond to ``/status`` from the simulated quota. As in the real API, it is not counted."""
        response = {
            "account": {"firstname": "Replay", "lastname": "Server", "email": "replay@localhost"},
            "subscription": {"plan": "Pro", "end": (now + timedelta(days=30)).isoformat(), "active": True},
            "requests": {"current": self.quota.used_today(now), "limit_day": self.quota.day_limit},
        }
        return ok_response("status", {}, response, self.quota.headers(now))

    def ok(self, params: Mapping[str, str], items: list[Any], now: datetime) -> ApiResponse:
        """Build a successful ``/fixtures`` response with simulated quota headers."""
        return ok_response("fixtures", params, items, self.quota.count_request(now))

    def _route_fixtures(self, params: Mapping[str, str], now: datetime) -> ApiResponse:
        if not params:
            return errors_response("fixtures", params, REQUIRED_PARAMETER_ERROR)

        if "ids" in params:
            if not _ID_LIST.match(params["ids"]):
                return errors_response("fixtures", params, _IDS_ERROR)
            ids = [int(part) for part in params["ids"].split("-")]
            if len(ids) > MAX_IDS_PER_REQUEST:
                return self.ok(params, [], now)
            return self.fixtures_by_ids(ids, params, now)

        if "live" in params:
            leagues = _live_leagues(params["live"])
            if leagues is False:
                return errors_response("fixtures", params, _LIVE_ERROR)
            return self.live_fixtures(leagues, params, now)

        if "date" in params:
            query = _date_query(params)
            if isinstance(query, dict):
                return errors_response("fixtures", params, query)
            return self.fixtures_by_date(query, params, now)

        return errors_response("fixtures", params, _UNSUPPORTED_ERROR)


def _live_leagues(value: str) -> frozenset[int] | None | bool:
    """Return None for ``all``, the league ids for ``39-61``, or False when invalid."""
    if value == "all":
        return None
    if not _ID_LIST.match(value):
        return False
    return frozenset(int(part) for part in value.split("-"))


def _date_query(params: Mapping[str, str]) -> DateQuery | dict[str, str]:
    """Return the query, or the API's ``errors`` object for the first invalid parameter."""
    raw_date = params["date"]
    if not _DATE.match(raw_date):
        return _DATE_ERROR
    try:
        date.fromisoformat(raw_date)
    except ValueError:
        return _DATE_ERROR

    timezone = params.get("timezone", "UTC")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return _TIMEZONE_ERROR

    filters: dict[str, int] = {}
    for name in ("league", "season", "team"):
        if name in params:
            if not _POSITIVE_INT.match(params[name]):
                return {name: f"The {name.capitalize()} field must contain an integer."}
            filters[name] = int(params[name])
    return DateQuery(date=raw_date, timezone=timezone, **filters)
