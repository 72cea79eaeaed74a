"""Pair one poll's goal events of a team with the team's stored goal records.

The API gives events no ids, so a record is matched to an event by minute and
scorer:

- A live record (pending or confirmed) matches an event within
  ``match_window_minutes``: one of the same or an unknown scorer first,
  then the nearest in minutes. Two different known scorers pair only within
  ``reattribution_window_minutes``, where the API re-attributes a goal (a
  normal goal turned into an own goal by the other team's player).
  Otherwise a different scorer nearby is a different goal.
- A withdrawn or dropped record is reinstated by an event left over from the
  live records, within ``reinstate_window_minutes`` and under the same scorer
  rule.
- A confirmed record whose event is gone, and a new event of the same or an
  unknown scorer, are the same goal moved, however far, when the score cannot
  count both. Without this, a correction of more than the match window would
  post a second alert for one goal.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Protocol

from fixture_assets.core.models import Event


class MatchedRecord(Protocol):
    """What matching reads of a goal record; ``GoalRecord`` provides it."""

    key: str
    seq: int
    player_id: int | None
    state: str

    @property
    def minute(self) -> int: ...


def match_events(
    live: Sequence[MatchedRecord],
    withdrawn: Sequence[MatchedRecord],
    events: Sequence[Event],
    score: int,
    *,
    match_window: int,
    reinstate_window: int,
    reattribution_window: int,
) -> dict[str, int]:
    """Return record key to event index for every record found in ``events``. Windows are in minutes."""
    matches = _pair(live, events, match_window, reattribution_window, taken=())
    matches.update(_pair(withdrawn, events, reinstate_window, reattribution_window, taken=set(matches.values())))
    matches.update(_pair_moved_goals(live, events, matches, score))
    return matches


def event_minute(event: Event) -> int:
    return (event.elapsed or 0) + (event.extra or 0)


def _pair(
    records: Sequence[MatchedRecord],
    events: Sequence[Event],
    window: int,
    reattribution_window: int,
    taken: Collection[int],
) -> dict[str, int]:
    """Pair records with events, same scorer first, then closest minutes, each used at most once."""
    candidates = []
    for record in records:
        for index, event in enumerate(events):
            if index in taken:
                continue
            distance = abs(record.minute - event_minute(event))
            other_scorer = _scorers_differ(record, event)
            if distance > (reattribution_window if other_scorer else window):
                continue
            candidates.append((other_scorer, distance, record.seq, index, record.key))
    return _take_in_order(candidates, taken)


def _pair_moved_goals(
    live: Sequence[MatchedRecord], events: Sequence[Event], matches: dict[str, int], score: int
) -> dict[str, int]:
    absent = [record for record in live if record.key not in matches and record.state == "confirmed"]
    unmatched = [index for index in range(len(events)) if index not in matches.values()]
    excess = len(events) + len(absent) - score
    if excess <= 0 or not absent or not unmatched:
        return {}

    candidates = [
        (abs(record.minute - event_minute(events[index])), record.seq, index, record.key)
        for record in absent
        for index in unmatched
        if not _scorers_differ(record, events[index])
    ]
    moved: dict[str, int] = {}
    used: set[int] = set()
    for _distance, _seq, index, key in sorted(candidates):
        if len(moved) == excess:
            break
        if key in moved or index in used:
            continue
        moved[key] = index
        used.add(index)
    return moved


def _take_in_order(candidates: list[tuple], taken: Collection[int]) -> dict[str, int]:
    matches: dict[str, int] = {}
    used = set(taken)
    for *_order, index, key in sorted(candidates):
        if key in matches or index in used:
            continue
        matches[key] = index
        used.add(index)
    return matches


def _scorers_differ(record: MatchedRecord, event: Event) -> bool:
    # Names change format between polls, so only two known ids can differ.
    return record.player_id is not None and event.player_id is not None and record.player_id != event.player_id
