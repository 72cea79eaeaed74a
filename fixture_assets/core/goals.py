"""Goal identity and the alert rules, applied to one successful poll of one fixture.

The API gives events no ids, so a goal is tracked as a ``GoalRecord`` that
each poll's goal events are matched against. The rules:

1. A goal event is a ``Goal`` event with detail ``Normal Goal``, ``Own Goal``
   or ``Penalty`` that is not a shoot-out kick.
2. A goal is confirmed, and alerted, on the first poll in which its event is
   present and the team's score counts it: the score is at least the event's
   rank among that team's goal events in ``(elapsed, extra)`` order.
3. A goal is alerted once. Corrections of scorer, detail, player name or
   minute, and reordered events, match the same record, as ``goal_matching``
   describes.
4. A confirmed goal is withdrawn after ``polls_to_withdraw`` consecutive
   polls in which its event is absent and the score no longer counts it. An
   event that returns within ``reinstate_window_minutes`` of a withdrawn
   goal's minute reinstates it, and any other event is a new goal.

Failed polls never reach this module, so nothing here ever sees "no answer".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from fixture_assets.core.goal_matching import match_events
from fixture_assets.core.models import Event

GOAL_DETAILS = frozenset({"Normal Goal", "Own Goal", "Penalty"})
SHOOTOUT_COMMENT = "Penalty Shootout"


@dataclass(frozen=True, slots=True)
class GoalRules:
    """Thresholds of the goal rules."""

    # Consecutive successful polls of absence, uncounted by the score, before
    # an alerted goal is withdrawn.
    polls_to_withdraw: int = 2
    # A returning event within this many minutes of a withdrawn goal is that goal.
    reinstate_window_minutes: int = 2
    # Largest minute correction still treated as the same goal. The API's
    # corrections seen so far move a goal by one or two minutes.
    match_window_minutes: int = 5
    # Two different known scorers are the same goal, re-attributed, only
    # within this many minutes.
    reattribution_window_minutes: int = 1

    def __post_init__(self) -> None:
        for name in (
            "polls_to_withdraw",
            "reinstate_window_minutes",
            "match_window_minutes",
            "reattribution_window_minutes",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"GoalRules.{name} is {value!r}, expected an integer of 0 or more")
        if self.polls_to_withdraw < 1:
            raise ValueError(f"GoalRules.polls_to_withdraw is {self.polls_to_withdraw}, expected 1 or more")


class GoalState(StrEnum):
    PENDING = "pending"  # event seen, score does not count it yet; never alerted
    CONFIRMED = "confirmed"  # counted by the score; alerted
    CANCELLED = "cancelled"  # alerted, then withdrawn
    DROPPED = "dropped"  # pending, then gone; never alerted


class NotificationKind(StrEnum):
    GOAL = "goal"
    CANCELLED = "cancelled"
    REINSTATED = "reinstated"


@dataclass(frozen=True, slots=True)
class GoalRecord:
    """The pipeline's record of one goal of one fixture, stored with the fixture."""

    key: str
    team_id: int
    seq: int
    elapsed: int
    extra: int | None
    player_id: int | None
    player_name: str | None
    assist_id: int | None
    assist_name: str | None
    detail: str
    state: GoalState
    absent_polls: int = 0
    alerted: bool = False
    # The minute the goal had when it was first alerted; alerts are named by it.
    alert_elapsed: int | None = None
    alert_extra: int | None = None
    followups: int = 0

    @property
    def minute(self) -> int:
        return _minute(self.elapsed, self.extra)


@dataclass(frozen=True, slots=True)
class GoalNotification:
    """One twitter job run to launch: an alert or a follow-up of one goal."""

    key: str  # the run key
    goal_key: str
    kind: NotificationKind
    fixture_id: int
    team_id: int
    elapsed: int
    extra: int | None


@dataclass(frozen=True, slots=True)
class GoalReconciliation:
    records: tuple[GoalRecord, ...]
    notifications: tuple[GoalNotification, ...]
    # Goal events that name no team of the fixture or no minute; never matched.
    ignored_events: tuple[Event, ...] = ()


def goal_key(fixture_id: int, team_id: int, seq: int) -> str:
    """Build a goal's run key. ``seq`` counts the team's goal records in the fixture."""
    return f"{fixture_id}-{team_id}-{seq}"


def notification_key(goal: str, kind: NotificationKind, number: int) -> str:
    if kind is NotificationKind.GOAL:
        return goal
    return f"{goal}-{kind.value}-{number}"


def is_goal_event(event: Event) -> bool:
    return event.type == "Goal" and event.detail in GOAL_DETAILS and event.comments != SHOOTOUT_COMMENT


def reconcile_goals(
    fixture_id: int,
    team_scores: dict[int, int | None],
    events: Sequence[Event],
    records: Sequence[GoalRecord],
    rules: GoalRules,
) -> GoalReconciliation:
    """Apply one successful poll's events and score to a fixture's goal records.

    ``team_scores`` maps the home and away team ids to the score the API
    reports for each. Returns the new records and the runs to launch.
    """
    goal_events = [event for event in events if is_goal_event(event)]
    usable = [event for event in goal_events if event.team_id in team_scores and event.elapsed is not None]
    ignored = tuple(event for event in goal_events if event not in usable)

    new_records: list[GoalRecord] = []
    notifications: list[GoalNotification] = []
    for team_id, score in team_scores.items():
        team_events = _sorted_events(event for event in usable if event.team_id == team_id)
        team_records = [record for record in records if record.team_id == team_id]
        team_result = _reconcile_team(fixture_id, team_id, score or 0, team_events, team_records, rules)
        new_records.extend(team_result.records)
        notifications.extend(team_result.notifications)

    # Records of teams that are no longer home or away are kept as they are.
    new_records.extend(record for record in records if record.team_id not in team_scores)
    return GoalReconciliation(tuple(new_records), tuple(notifications), ignored)


def _reconcile_team(
    fixture_id: int,
    team_id: int,
    score: int,
    events: list[Event],
    records: list[GoalRecord],
    rules: GoalRules,
) -> GoalReconciliation:
    active = [record for record in records if record.state in (GoalState.PENDING, GoalState.CONFIRMED)]
    gone = [record for record in records if record.state in (GoalState.CANCELLED, GoalState.DROPPED)]

    matches = match_events(
        active,
        gone,
        events,
        score,
        match_window=rules.match_window_minutes,
        reinstate_window=rules.reinstate_window_minutes,
        reattribution_window=rules.reattribution_window_minutes,
    )
    counted = {index for index in range(len(events)) if index < score}

    updated: dict[str, GoalRecord] = {record.key: record for record in records}
    notifications: list[GoalNotification] = []

    for record_key, event_index in matches.items():
        record = _with_event(updated[record_key], events[event_index])
        record, notification = _observe_present(record, fixture_id, event_index in counted)
        updated[record_key] = record
        if notification:
            notifications.append(notification)

    next_seq = max((record.seq for record in records), default=0) + 1
    for event_index, event in enumerate(events):
        if event_index in matches.values():
            continue
        record = _new_record(fixture_id, team_id, next_seq, event)
        next_seq += 1
        record, notification = _observe_present(record, fixture_id, event_index in counted)
        updated[record.key] = record
        if notification:
            notifications.append(notification)

    absent = [record for record in active if record.key not in matches]
    still_counted = _absent_still_counted(absent, events, score)
    for record in absent:
        record, notification = _observe_absent(record, fixture_id, record.key in still_counted, rules)
        updated[record.key] = record
        if notification:
            notifications.append(notification)

    ordered = sorted(updated.values(), key=lambda record: record.seq)
    return GoalReconciliation(tuple(ordered), tuple(notifications))


def _absent_still_counted(absent: list[GoalRecord], events: list[Event], score: int) -> set[str]:
    """Return the keys of absent confirmed goals that the score still counts.

    The present events take the first places in the score, and the absent
    goals take the rest in minute order. So an empty events array under an
    unchanged score withdraws nothing, while a goal that vanished as the score
    dropped is no longer counted.
    """
    confirmed = sorted(
        (record for record in absent if record.state is GoalState.CONFIRMED),
        key=lambda record: (record.minute, record.seq),
    )
    return {record.key for rank, record in enumerate(confirmed, start=1) if len(events) + rank <= score}


def _observe_present(
    record: GoalRecord, fixture_id: int, counted: bool
) -> tuple[GoalRecord, GoalNotification | None]:
    record = replace(record, absent_polls=0)
    if not counted:
        if record.state is GoalState.DROPPED:
            return replace(record, state=GoalState.PENDING), None
        return record, None

    if record.state in (GoalState.PENDING, GoalState.DROPPED):
        record = replace(
            record,
            state=GoalState.CONFIRMED,
            alerted=True,
            alert_elapsed=record.elapsed,
            alert_extra=record.extra,
        )
        return record, _notification(record, fixture_id, NotificationKind.GOAL)

    if record.state is GoalState.CANCELLED:
        record = replace(record, state=GoalState.CONFIRMED, followups=record.followups + 1)
        return record, _notification(record, fixture_id, NotificationKind.REINSTATED)

    return record, None


def _observe_absent(
    record: GoalRecord, fixture_id: int, counted: bool, rules: GoalRules
) -> tuple[GoalRecord, GoalNotification | None]:
    if counted:
        return replace(record, absent_polls=0), None

    record = replace(record, absent_polls=record.absent_polls + 1)
    if record.absent_polls < rules.polls_to_withdraw:
        return record, None

    if record.state is GoalState.PENDING:
        return replace(record, state=GoalState.DROPPED), None
    record = replace(record, state=GoalState.CANCELLED, followups=record.followups + 1)
    return record, _notification(record, fixture_id, NotificationKind.CANCELLED)


def _notification(record: GoalRecord, fixture_id: int, kind: NotificationKind) -> GoalNotification:
    return GoalNotification(
        key=notification_key(record.key, kind, record.followups),
        goal_key=record.key,
        kind=kind,
        fixture_id=fixture_id,
        team_id=record.team_id,
        elapsed=record.alert_elapsed if record.alert_elapsed is not None else record.elapsed,
        extra=record.alert_extra if record.alert_elapsed is not None else record.extra,
    )


def _new_record(fixture_id: int, team_id: int, seq: int, event: Event) -> GoalRecord:
    return _with_event(
        GoalRecord(
            key=goal_key(fixture_id, team_id, seq),
            team_id=team_id,
            seq=seq,
            elapsed=0,
            extra=None,
            player_id=None,
            player_name=None,
            assist_id=None,
            assist_name=None,
            detail="",
            state=GoalState.PENDING,
        ),
        event,
    )


def _with_event(record: GoalRecord, event: Event) -> GoalRecord:
    """Copy the event's latest minute, scorer and detail onto the record."""
    return replace(
        record,
        elapsed=event.elapsed or 0,
        extra=event.extra,
        player_id=event.player_id,
        player_name=event.player_name,
        assist_id=event.assist_id,
        assist_name=event.assist_name,
        detail=event.detail or "",
    )


def _sorted_events(events: Iterable[Event]) -> list[Event]:
    return sorted(events, key=lambda event: (event.elapsed or 0, event.extra or 0))


def _minute(elapsed: int, extra: int | None) -> int:
    return elapsed + (extra or 0)


def score_mismatch(team_scores: dict[int, int | None], records: Sequence[GoalRecord]) -> str | None:
    """Describe how the confirmed goals disagree with the API's score, or return None.

    A null score counts as 0, as before kick-off. Shoot-out kicks are never
    goal records and the API's ``goals`` leaves them out too.
    """
    differences = []
    for team_id, score in team_scores.items():
        confirmed = sum(1 for record in records if record.team_id == team_id and record.state is GoalState.CONFIRMED)
        if confirmed != (score or 0):
            differences.append(f"team {team_id}: score {score or 0}, confirmed goals {confirmed}")
    return "; ".join(differences) or None
