"""Parse the ``response`` items of ``GET /fixtures`` into typed fixtures.

Parsing is strict per fixture and tolerant per batch: one malformed fixture
raises ``InvalidFixtureError`` for that fixture only, and ``parse_fixtures``
keeps the rest. A malformed event rejects its whole fixture, because dropping
one goal event would look like a goal withdrawn by the API.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import re
from datetime import UTC, datetime
from typing import Any

from fixture_assets.core.models import (
    Event,
    Fixture,
    FixtureStatus,
    League,
    Score,
    Team,
    TeamGoals,
)


class InvalidFixtureError(ValueError):
    """A ``response`` item that is not a usable fixture."""

    def __init__(self, fixture_id: int | None, reason: str) -> None:
        self.fixture_id = fixture_id
        self.reason = reason
        label = f"fixture {fixture_id}" if fixture_id is not None else "fixture without a valid id"
        super().__init__(f"invalid {label}: {reason}")


@dataclass(slots=True)
class ParsedFixtures:
    fixtures: list[Fixture] = field(default_factory=list)
    rejected: list[InvalidFixtureError] = field(default_factory=list)


def parse_fixtures(items: Any) -> ParsedFixtures:
    """Parse a ``response`` array, skipping the items that are not valid fixtures."""
    parsed = ParsedFixtures()
    if not isinstance(items, list):
        parsed.rejected.append(InvalidFixtureError(None, f"response is {_type_name(items)}, expected a list"))
        return parsed

    for item in items:
        try:
            parsed.fixtures.append(parse_fixture(item))
        except InvalidFixtureError as error:
            parsed.rejected.append(error)
    return parsed


def parse_fixture(item: Any) -> Fixture:
    """Parse one ``response`` item. Raises InvalidFixtureError naming the field."""
    fixture_id = _peek_fixture_id(item)
    try:
        return _parse_fixture(item)
    except _FieldError as error:
        raise InvalidFixtureError(fixture_id, str(error)) from None
    except RecursionError:
        raise InvalidFixtureError(fixture_id, "nested too deeply") from None
    except (OverflowError, ValueError, TypeError) as error:
        # A value the checks above let through but Python cannot represent,
        # such as a date at the edge of datetime's range once moved to UTC.
        raise InvalidFixtureError(fixture_id, f"unusable value: {error}") from None


def parse_events(items: Any, fixture_id: int | None = None) -> tuple[Event, ...]:
    """Parse an ``events`` array, such as the ``response`` of ``GET /fixtures/events``.

    Raises InvalidFixtureError naming ``fixture_id`` and the invalid field.
    """
    try:
        return _events(items)
    except _FieldError as error:
        raise InvalidFixtureError(fixture_id, str(error)) from None


class _FieldError(ValueError):
    pass


_SURROGATE = re.compile("[\ud800-\udfff]")
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
# Real events are 3 levels deep. Deeper raw values are rejected before they
# reach MongoDB, which refuses documents nested past 100 levels.
_MAX_RAW_DEPTH = 20
# A fixture above these sizes is rejected: MongoDB refuses a document over
# 16 MB, and one such fixture would fail the whole tick's write. A recorded
# match with extra time and a shoot-out has about 30 events, which take about
# 9,000 characters.
_MAX_EVENTS = 1_000
_MAX_RAW_EVENTS_SIZE = 1_000_000
_MAX_TEXT_CHARS = 10_000


def _parse_fixture(item: Any) -> Fixture:
    root = _mapping(item, "fixture item")
    fixture = _mapping(root.get("fixture"), "fixture")
    teams = _mapping(root.get("teams"), "teams")
    score = root.get("score")
    venue = fixture.get("venue")

    return Fixture(
        id=_int(fixture.get("id"), "fixture.id"),
        kickoff=_kickoff(fixture),
        status=_status(fixture.get("status")),
        league=_league(root.get("league")),
        home=_team(teams.get("home"), "teams.home"),
        away=_team(teams.get("away"), "teams.away"),
        goals=_team_goals(root.get("goals"), "goals"),
        score=_score(score) if score is not None else Score(),
        referee=_optional_str(fixture.get("referee"), "fixture.referee"),
        venue=_optional_str(venue.get("name"), "fixture.venue.name") if isinstance(venue, dict) else None,
        events=_events(root["events"]) if root.get("events") is not None else None,
        raw_events=_storable(root["events"], "events") if root.get("events") is not None else None,
    )


def _peek_fixture_id(item: Any) -> int | None:
    if isinstance(item, dict) and isinstance(item.get("fixture"), dict):
        value = item["fixture"].get("id")
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def _kickoff(fixture: dict[str, Any]) -> datetime:
    raw_date = fixture.get("date")
    if isinstance(raw_date, str):
        try:
            parsed = datetime.fromisoformat(raw_date)
        except ValueError:
            raise _FieldError(f"fixture.date {raw_date[:40]!r} is not an ISO 8601 date-time") from None
        if parsed.tzinfo is None:
            raise _FieldError(f"fixture.date {raw_date[:40]!r} has no UTC offset")
        try:
            return parsed.astimezone(UTC)
        except OverflowError:
            raise _FieldError(f"fixture.date {raw_date[:40]!r} is out of range in UTC") from None

    timestamp = fixture.get("timestamp")
    if isinstance(timestamp, int) and not isinstance(timestamp, bool):
        try:
            return datetime.fromtimestamp(timestamp, tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise _FieldError(f"fixture.timestamp {timestamp} is out of range") from None
    raise _FieldError("fixture.date and fixture.timestamp are both missing or invalid")


def _status(value: Any) -> FixtureStatus:
    status = _mapping(value, "fixture.status")
    short = status.get("short")
    if not isinstance(short, str) or not short:
        raise _FieldError("fixture.status.short is missing or not a string")
    return FixtureStatus(
        short=short,
        long=_optional_str(status.get("long"), "fixture.status.long"),
        elapsed=_optional_int(status.get("elapsed"), "fixture.status.elapsed"),
        extra=_optional_int(status.get("extra"), "fixture.status.extra"),
    )


def _league(value: Any) -> League:
    league = _mapping(value, "league")
    return League(
        id=_int(league.get("id"), "league.id"),
        name=_str(league.get("name"), "league.name"),
        country=_optional_str(league.get("country"), "league.country"),
        season=_optional_int(league.get("season"), "league.season"),
        round=_optional_str(league.get("round"), "league.round"),
    )


def _team(value: Any, path: str) -> Team:
    team = _mapping(value, path)
    return Team(
        id=_int(team.get("id"), f"{path}.id"),
        name=_str(team.get("name"), f"{path}.name"),
        logo=_optional_str(team.get("logo"), f"{path}.logo"),
    )


def _team_goals(value: Any, path: str) -> TeamGoals:
    if value is None:
        return TeamGoals()
    goals = _mapping(value, path)
    return TeamGoals(
        home=_optional_count(goals.get("home"), f"{path}.home"),
        away=_optional_count(goals.get("away"), f"{path}.away"),
    )


def _score(value: Any) -> Score:
    score = _mapping(value, "score")
    return Score(
        halftime=_team_goals(score.get("halftime"), "score.halftime"),
        fulltime=_team_goals(score.get("fulltime"), "score.fulltime"),
        extratime=_team_goals(score.get("extratime"), "score.extratime"),
        penalty=_team_goals(score.get("penalty"), "score.penalty"),
    )


def _events(value: Any) -> tuple[Event, ...]:
    if not isinstance(value, list):
        raise _FieldError(f"events is {_type_name(value)}, expected a list")
    if len(value) > _MAX_EVENTS:
        raise _FieldError(f"events has {len(value):,} items, more than the {_MAX_EVENTS:,} a fixture may have")
    return tuple(_event(item, index) for index, item in enumerate(value))


def _event(value: Any, index: int) -> Event:
    path = f"events[{index}]"
    event = _mapping(value, path)
    time = _mapping(event.get("time"), f"{path}.time")
    team = _optional_mapping(event.get("team"), f"{path}.team")
    player = _optional_mapping(event.get("player"), f"{path}.player")
    assist = _optional_mapping(event.get("assist"), f"{path}.assist")
    return Event(
        elapsed=_optional_int(time.get("elapsed"), f"{path}.time.elapsed"),
        extra=_optional_int(time.get("extra"), f"{path}.time.extra"),
        team_id=_optional_int(team.get("id"), f"{path}.team.id"),
        team_name=_optional_str(team.get("name"), f"{path}.team.name"),
        player_id=_optional_int(player.get("id"), f"{path}.player.id"),
        player_name=_optional_str(player.get("name"), f"{path}.player.name"),
        assist_id=_optional_int(assist.get("id"), f"{path}.assist.id"),
        assist_name=_optional_str(assist.get("name"), f"{path}.assist.name"),
        type=_str(event.get("type"), f"{path}.type"),
        detail=_optional_str(event.get("detail"), f"{path}.detail"),
        comments=_optional_str(event.get("comments"), f"{path}.comments"),
    )


# Field readers. Booleans are rejected where a number is expected, because
# ``True`` is an ``int`` in Python but never a valid id or count in the API.


def _mapping(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _FieldError(f"{path} is {_type_name(value)}, expected an object")
    return value


def _optional_mapping(value: Any, path: str) -> dict[str, Any]:
    return {} if value is None else _mapping(value, path)


def _int(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _FieldError(f"{path} is {_type_name(value)}, expected an integer")
    if not _INT64_MIN <= value <= _INT64_MAX:
        raise _FieldError(f"{path} is {value}, outside the 64-bit range MongoDB stores")
    return value


def _optional_int(value: Any, path: str) -> int | None:
    return None if value is None else _int(value, path)


def _optional_count(value: Any, path: str) -> int | None:
    count = _optional_int(value, path)
    if count is not None and count < 0:
        raise _FieldError(f"{path} is {count}, expected a count of 0 or more")
    return count


def _str(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise _FieldError(f"{path} is {_type_name(value)}, expected a string")
    if len(value) > _MAX_TEXT_CHARS:
        raise _FieldError(f"{path} has {len(value):,} characters, more than {_MAX_TEXT_CHARS:,}")
    return _valid_utf8(value)


def _optional_str(value: Any, path: str) -> str | None:
    return None if value is None else _str(value, path)


def _valid_utf8(value: str) -> str:
    """Replace lone surrogates, which JSON allows but BSON cannot store."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", value)
    return value


class _SizeBudget:
    """The characters and values that the rest of one raw value may take."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.left = _MAX_RAW_EVENTS_SIZE

    def spend(self, size: int) -> None:
        self.left -= size
        if self.left < 0:
            raise _FieldError(f"{self.path} is larger than {_MAX_RAW_EVENTS_SIZE:,} characters and values")


def _storable(value: Any, path: str, depth: int = 0, budget: _SizeBudget | None = None) -> Any:
    """Return a copy of a raw JSON value that MongoDB can store, or raise _FieldError."""
    budget = budget or _SizeBudget(path)
    if depth > _MAX_RAW_DEPTH:
        raise _FieldError(f"{path} is nested more than {_MAX_RAW_DEPTH} levels deep")
    if isinstance(value, str):
        budget.spend(len(value))
        return _valid_utf8(value)
    budget.spend(len(value) if isinstance(value, list | dict) else 1)
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return value
    if isinstance(value, int):
        return _int(value, path)
    if isinstance(value, list):
        return [_storable(item, path, depth + 1, budget) for item in value]
    if isinstance(value, dict):
        copy = {}
        for key, item in value.items():
            if key.startswith("$") or "." in key or "\x00" in key:
                raise _FieldError(f"{path} has the key {key[:40]!r}, which MongoDB cannot store")
            budget.spend(len(key))
            copy[_valid_utf8(key)] = _storable(item, path, depth + 1, budget)
        return copy
    raise _FieldError(f"{path} contains {_type_name(value)}, which is not JSON")


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__
