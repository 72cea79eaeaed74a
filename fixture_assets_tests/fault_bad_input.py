"""Hypothesis strategies for bad API-Football bodies, and a replay source that serves raw bytes.

A generated batch mixes valid fixtures with broken ones: keys removed, values
of the wrong type, unknown status codes and event types, huge arrays, deep
nesting and invalid UTF-8 inside strings. Garbage bodies break the envelope
itself. The bodies are bytes, served unchanged by ``RawBodySource``, so the
client parses exactly what a faulty API would send.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from fixture_assets.replay.envelopes import JSON_HEADERS
from fixture_assets.replay.protocol import ApiRequest, ApiResponse

KICKOFF = datetime(2024, 3, 1, 11, 0, tzinfo=UTC)
SEEDED_AT = KICKOFF + timedelta(minutes=20)
POLLED_AT = KICKOFF + timedelta(minutes=60)
HOME, AWAY = 1, 2
# Marks a string that the encoder replaces with invalid UTF-8 bytes.
INVALID_UTF8_MARK = "INVALID-UTF8-MARK"
INVALID_UTF8_BYTES = (b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf0\x28\x8c\x28", b"\x80")


class RawBodySource:
    """Responds to every ``/fixtures`` request with the same raw body, whatever ids it requests."""

    description = "raw bodies for bad-input tests"

    def __init__(self) -> None:
        self.body = b""

    def initial_time(self) -> datetime:
        return POLLED_AT

    def respond(self, request: ApiRequest, now: datetime) -> ApiResponse:
        return ApiResponse(200, None, JSON_HEADERS, raw_body=self.body)


def goal_event(minute: int) -> dict[str, Any]:
    return {
        "time": {"elapsed": minute, "extra": None},
        "team": {"id": HOME, "name": "Home"},
        "player": {"id": 100 + minute, "name": f"Scorer {minute}"},
        "assist": {"id": None, "name": None},
        "type": "Goal",
        "detail": "Normal Goal",
        "comments": None,
    }


def fixture_item(fixture_id: int, *, status: str, home_goals: int) -> dict[str, Any]:
    return {
        "fixture": {
            "id": fixture_id,
            "referee": "A. Referee",
            "timezone": "UTC",
            "date": KICKOFF.isoformat(),
            "timestamp": int(KICKOFF.timestamp()),
            "venue": {"id": 5, "name": "Ground", "city": "Town"},
            "status": {"long": "Second Half", "short": status, "elapsed": 60 if status == "2H" else 20, "extra": None},
        },
        "league": {"id": 39, "name": "Premier League", "country": "England", "season": 2023, "round": "Round 1"},
        "teams": {
            "home": {"id": HOME, "name": "Home", "logo": None},
            "away": {"id": AWAY, "name": "Away", "logo": None},
        },
        "goals": {"home": home_goals, "away": 0},
        "score": {"halftime": {"home": home_goals, "away": 0}, "fulltime": {"home": None, "away": None}},
        "events": [goal_event(10 + 5 * index) for index in range(home_goals)],
    }


def seeded_item(fixture_id: int) -> dict[str, Any]:
    """The fixture as stored before the tick: in the first half, goalless."""
    return fixture_item(fixture_id, status="1H", home_goals=0)


def served_item(fixture_id: int) -> dict[str, Any]:
    """The fixture as the tick receives it: in the second half, with a goal."""
    return fixture_item(fixture_id, status="2H", home_goals=1)


# Where a mutation applies in a served item. Integers index into lists.
PATHS: tuple[tuple[str | int, ...], ...] = (
    ("fixture",),
    ("fixture", "id"),
    ("fixture", "date"),
    ("fixture", "timestamp"),
    ("fixture", "status"),
    ("fixture", "status", "short"),
    ("fixture", "status", "elapsed"),
    ("fixture", "venue"),
    ("fixture", "referee"),
    ("league",),
    ("league", "id"),
    ("league", "name"),
    ("league", "season"),
    ("teams",),
    ("teams", "home"),
    ("teams", "home", "id"),
    ("teams", "away", "name"),
    ("goals",),
    ("goals", "home"),
    ("score",),
    ("score", "halftime"),
    ("events",),
    ("events", 0),
    ("events", 0, "type"),
    ("events", 0, "detail"),
    ("events", 0, "comments"),
    ("events", 0, "time"),
    ("events", 0, "time", "elapsed"),
    ("events", 0, "team"),
    ("events", 0, "team", "id"),
    ("events", 0, "player", "name"),
)
STRING_PATHS: tuple[tuple[str | int, ...], ...] = (
    ("teams", "home", "name"),
    ("league", "name"),
    ("events", 0, "player", "name"),
    ("fixture", "referee"),
)


def nested(depth: int, leaf: Any = 0) -> Any:
    value = leaf
    for level in range(depth):
        value = [value] if level % 2 else {"n": value}
    return value


wrong_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=3),
    st.integers(min_value=21, max_value=120).map(nested),
    st.integers(min_value=1_000, max_value=20_000).map(lambda size: list(range(size))),
)


@dataclass
class Mutation:
    """One change to a served item, described for failure messages."""

    kind: str
    path: tuple[str | int, ...]
    value: Any = None

    def __repr__(self) -> str:
        return f"{self.kind} {'.'.join(map(str, self.path))} {repr(self.value)[:60]}"


mutations = st.one_of(
    st.builds(Mutation, st.just("delete"), st.sampled_from(PATHS)),
    st.builds(Mutation, st.just("replace"), st.sampled_from(PATHS), wrong_values),
    st.builds(Mutation, st.just("replace"), st.just(("fixture", "status", "short")), st.text(min_size=1, max_size=6)),
    st.builds(Mutation, st.just("replace"), st.just(("events", 0, "type")), st.text(max_size=10)),
    st.builds(
        Mutation,
        st.just("huge events"),
        st.just(("events",)),
        st.integers(min_value=200, max_value=3_000),
    ),
    st.builds(Mutation, st.just("invalid utf-8"), st.sampled_from(STRING_PATHS), st.sampled_from(INVALID_UTF8_BYTES)),
)


def apply_mutation(item: dict[str, Any], mutation: Mutation) -> dict[str, Any]:
    """Return a copy of ``item`` with ``mutation`` applied."""
    changed = copy.deepcopy(item)
    if mutation.kind == "huge events":
        changed["events"] = [goal_event(10)] + [
            {**goal_event(1 + index % 90), "type": "Card", "detail": "Yellow Card"} for index in range(mutation.value)
        ]
        return changed

    *parents, last = mutation.path
    target: Any = changed
    for key in parents:
        target = target[key]
    if mutation.kind == "delete":
        del target[last]
    elif mutation.kind == "replace":
        target[last] = mutation.value
    else:
        target[last] = INVALID_UTF8_MARK
    return changed


@dataclass
class Batch:
    """One generated ``ids=`` response: the valid fixtures, the changed ones, and the body bytes."""

    good_ids: list[int]
    changed: dict[int, Mutation]
    items: list[dict[str, Any]]
    invalid_utf8: bytes = b""
    envelope_extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ids(self) -> list[int]:
        return [*self.good_ids, *self.changed]

    def body(self) -> bytes:
        envelope = {
            "get": "fixtures",
            "parameters": {"ids": "-".join(str(fixture_id) for fixture_id in self.ids)},
            "errors": [],
            "results": len(self.items),
            "paging": {"current": 1, "total": 1},
            "response": self.items,
            **self.envelope_extra,
        }
        encoded = json.dumps(envelope, ensure_ascii=False).encode("utf-8")
        return encoded.replace(INVALID_UTF8_MARK.encode(), self.invalid_utf8 or b"")

    def __repr__(self) -> str:
        return f"Batch(good={self.good_ids}, changed={self.changed})"


@st.composite
def batches(draw: Any, first_id: int = 1_000) -> Batch:
    good = draw(st.integers(min_value=1, max_value=3))
    bad = draw(st.integers(min_value=1, max_value=4))
    ids = list(range(first_id, first_id + good + bad))
    changed = {fixture_id: draw(mutations) for fixture_id in ids[good:]}
    items = [served_item(fixture_id) for fixture_id in ids[:good]]
    items += [apply_mutation(served_item(fixture_id), mutation) for fixture_id, mutation in changed.items()]
    invalid = next((mutation.value for mutation in changed.values() if mutation.kind == "invalid utf-8"), b"")
    return Batch(ids[:good], changed, draw(st.permutations(items)), invalid_utf8=invalid)


def _garbage_envelopes(ids: list[int]) -> st.SearchStrategy[bytes]:
    base = Batch(ids, {}, [served_item(fixture_id) for fixture_id in ids])
    replaced = st.sampled_from(["get", "errors", "results", "paging", "response", "parameters"]).flatmap(
        lambda key: wrong_values.map(lambda value: Batch(ids, {}, base.items, envelope_extra={key: value}).body())
    )
    return replaced


def garbage_bodies(ids: list[int]) -> st.SearchStrategy[bytes]:
    """Bodies that are no usable envelope, or whose envelope is broken."""
    valid = Batch(ids, {}, [served_item(fixture_id) for fixture_id in ids]).body()
    return st.one_of(
        st.binary(max_size=300),
        st.just(b""),
        st.integers(min_value=1, max_value=len(valid) - 1).map(lambda cut: valid[:cut]),
        st.sampled_from(INVALID_UTF8_BYTES).map(lambda invalid: valid.replace(b'"get"', b'"g' + invalid + b'et"')),
        st.integers(min_value=1_000, max_value=200_000).map(lambda depth: b"[" * depth + b"]" * depth),
        st.integers(min_value=1_000, max_value=200_000).map(
            lambda depth: b'{"get":"fixtures","errors":[],"response":' + b"[" * depth + b"]" * depth + b"}"
        ),
        st.just(json.dumps({"response": list(range(200_000))}).encode()),
        _garbage_envelopes(ids),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=5),
            lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=4), children, max_size=4),
            max_leaves=20,
        ).map(lambda value: json.dumps(value).encode()),
    )

