"""What the client's calls return: fixtures, failed chunks, quota and account status."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fixture_assets.core.models import Fixture
from fixture_assets.core.parse import InvalidFixtureError
from fixture_assets.football_api.errors import FootballApiError
from fixture_assets.football_api.quota import Quota


@dataclass
class FixturesPage:
    """The fixtures of one successful ``GET /fixtures?date=`` call.

    ``rejected`` lists the items that were not valid fixtures and were skipped.
    ``requests`` counts the HTTP requests the call sent, the retry included.
    """

    fixtures: list[Fixture]
    rejected: list[InvalidFixtureError]
    quota: Quota | None
    requests: int


@dataclass
class ChunkFailure:
    """One ``ids=`` request of at most 20 ids that failed as a whole."""

    ids: tuple[int, ...]
    error: FootballApiError


@dataclass
class IdsBatch:
    """The result of ``fixtures_by_ids``: every successful chunk's fixtures, once each.

    A chunk that failed contributes nothing to ``fixtures`` and is listed in
    ``failures``. ``quota`` comes from the last response that carried quota headers.
    """

    fixtures: list[Fixture] = field(default_factory=list)
    rejected: list[InvalidFixtureError] = field(default_factory=list)
    failures: list[ChunkFailure] = field(default_factory=list)
    quota: Quota | None = None
    requests: int = 0

    @property
    def failed_ids(self) -> tuple[int, ...]:
        """The ids of every failed chunk, in request order."""
        return tuple(fixture_id for failure in self.failures for fixture_id in failure.ids)


@dataclass(frozen=True, slots=True)
class AccountStatus:
    """The ``GET /status`` response: the subscription and today's request count.

    The account's name and e-mail are left out on purpose: the pipeline has no
    use for them, and they would end up in logs.
    """

    plan: str | None
    active: bool | None
    subscription_end: datetime | None
    requests_today: int | None
    daily_limit: int | None
    quota: Quota | None


def parse_account_status(response: Any, quota: Quota | None) -> AccountStatus:
    """Read the ``response`` object of ``GET /status``. Absent or mistyped fields become None.

    NOTE: the field names follow the API-Football v3 documentation. No recorded
    ``/status`` response was available to check them against.
    """
    response = response if isinstance(response, dict) else {}
    subscription = response.get("subscription") if isinstance(response.get("subscription"), dict) else {}
    requests = response.get("requests") if isinstance(response.get("requests"), dict) else {}
    return AccountStatus(
        plan=_optional(subscription.get("plan"), str),
        active=_optional(subscription.get("active"), bool),
        subscription_end=_optional_datetime(subscription.get("end")),
        requests_today=_optional_int(requests.get("current")),
        daily_limit=_optional_int(requests.get("limit_day")),
        quota=quota,
    )


def _optional(value: Any, kind: type) -> Any:
    return value if isinstance(value, kind) else None


def _optional_int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


def _optional_datetime(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
