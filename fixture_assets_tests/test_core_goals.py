"""Goal identity and the alert rules, on hand-built events (no I/O)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fixture_assets.core.goals import (
    GoalRecord,
    GoalRules,
    GoalState,
    NotificationKind,
    is_goal_event,
    reconcile_goals,
)
from fixture_assets.core.models import Event

FIXTURE = 1000
HOME, AWAY = 10, 20
RULES = GoalRules()


def goal(team: int, elapsed: int, extra: int | None = None, *, player: int | None = 7, name: str | None = "A. Player",
         detail: str = "Normal Goal", comments: str | None = None, event_type: str = "Goal") -> Event:
    return Event(elapsed, extra, team, None, player, name, None, None, event_type, detail, comments)


def poll(records: tuple[GoalRecord, ...], events: list[Event], home: int, away: int):
    return reconcile_goals(FIXTURE, {HOME: home, AWAY: away}, events, records, RULES)


def kinds(result) -> list[tuple[str, str]]:
    return [(notification.kind.value, notification.goal_key) for notification in result.notifications]


def test_counted_goal_alerts_once():
    first = poll((), [goal(HOME, 23)], 1, 0)
    second = poll(first.records, [goal(HOME, 23)], 1, 0)

    assert kinds(first) == [("goal", f"{FIXTURE}-{HOME}-1")]
    assert first.notifications[0].elapsed == 23
    assert second.notifications == ()


def test_uncounted_goal_waits_for_score():
    waiting = poll((), [goal(HOME, 41)], 0, 0)
    counted = poll(waiting.records, [goal(HOME, 41)], 1, 0)

    assert waiting.notifications == ()
    assert waiting.records[0].state is GoalState.PENDING
    assert kinds(counted) == [("goal", f"{FIXTURE}-{HOME}-1")]


@pytest.mark.parametrize(
    "correction",
    [
        pytest.param(dict(player=99, name="E. Garcia", detail="Own Goal"), id="scorer-to-own-goal"),
        pytest.param(dict(name="Federico Andrada"), id="player-name"),
        pytest.param(dict(player=None, name=None), id="scorer-unknown"),
        pytest.param(dict(elapsed=46), id="minute-45-to-46"),
        pytest.param(dict(elapsed=45, extra=1), id="stoppage-45+2-to-45+1"),
    ],
)
def test_correction_keeps_goal(correction):
    original = dict(elapsed=45, extra=2)
    first = poll((), [goal(HOME, **original)], 1, 0)
    corrected = poll(first.records, [goal(HOME, **{**original, **correction})], 1, 0)

    assert corrected.notifications == ()
    assert [record.key for record in corrected.records] == [first.records[0].key]
    assert corrected.records[0].alert_elapsed == 45
    assert corrected.records[0].alert_extra == 2


def test_reordered_events_keep_keys():
    events = [goal(HOME, 14, player=1), goal(AWAY, 52, player=2), goal(HOME, 66, player=3)]
    first = poll((), events, 2, 1)
    reordered = poll(first.records, list(reversed(events)), 2, 1)

    assert reordered.notifications == ()
    assert {record.key: record.player_id for record in reordered.records} == {
        record.key: record.player_id for record in first.records
    }


def test_withdrawn_after_two_absent_polls():
    first = poll((), [goal(HOME, 6)], 1, 0)
    once = poll(first.records, [], 0, 0)
    twice = poll(once.records, [], 0, 0)

    assert once.notifications == ()
    assert once.records[0].state is GoalState.CONFIRMED
    assert kinds(twice) == [("cancelled", f"{FIXTURE}-{HOME}-1")]
    assert twice.notifications[0].key == f"{FIXTURE}-{HOME}-1-cancelled-1"
    assert twice.records[0].state is GoalState.CANCELLED


def test_empty_events_with_score_keeps_goals():
    first = poll((), [goal(HOME, 12), goal(HOME, 55)], 2, 0)
    empty = first
    for _ in range(5):
        empty = poll(empty.records, [], 2, 0)

    assert empty.notifications == ()
    assert all(record.state is GoalState.CONFIRMED for record in empty.records)


def test_score_drop_alone_withdraws_nothing():
    first = poll((), [goal(AWAY, 38), goal(AWAY, 74)], 0, 2)
    dropped = poll(first.records, [goal(AWAY, 38), goal(AWAY, 74)], 0, 1)

    assert dropped.notifications == ()


def test_vanished_goal_withdrawn_while_others_stay():
    first = poll((), [goal(AWAY, 38), goal(AWAY, 61), goal(AWAY, 74)], 0, 3)
    after = first
    for _ in range(2):
        after = poll(after.records, [goal(AWAY, 38), goal(AWAY, 61)], 0, 2)

    assert kinds(after) == [("cancelled", f"{FIXTURE}-{AWAY}-3")]


def test_reinstated_goal_keeps_key():
    records = poll((), [goal(HOME, 30)], 1, 0).records
    for _ in range(2):
        records = poll(records, [], 0, 0).records
    back = poll(records, [goal(HOME, 31)], 1, 0)

    assert kinds(back) == [("reinstated", f"{FIXTURE}-{HOME}-1")]
    assert back.notifications[0].key == f"{FIXTURE}-{HOME}-1-reinstated-2"
    assert back.records[0].state is GoalState.CONFIRMED


def test_later_goal_after_withdrawal_is_new():
    records = poll((), [goal(HOME, 30)], 1, 0).records
    for _ in range(2):
        records = poll(records, [], 0, 0).records
    later = poll(records, [goal(HOME, 42)], 1, 0)

    assert kinds(later) == [("goal", f"{FIXTURE}-{HOME}-2")]


def test_new_goal_while_other_vanishes():
    first, second, third = goal(AWAY, 38, player=1), goal(AWAY, 74, player=2), goal(AWAY, 88, player=3)
    records = poll((), [first, second], 0, 2).records
    swapped = poll(records, [first, third], 0, 2)
    again = poll(swapped.records, [first, third], 0, 2)

    assert kinds(swapped) == [("goal", f"{FIXTURE}-{AWAY}-3")]
    assert kinds(again) == [("cancelled", f"{FIXTURE}-{AWAY}-2")]


def test_first_seen_finished_alerts_counted_goals():
    events = [goal(HOME, 13), goal(AWAY, 45, 2), goal(HOME, 55)]
    result = poll((), events, 1, 1)

    assert sorted(notification.elapsed for notification in result.notifications) == [13, 45]


@pytest.mark.parametrize(
    "event",
    [
        goal(HOME, 120, 3, detail="Penalty", comments="Penalty Shootout"),
        goal(HOME, 120, 4, detail="Missed Penalty", comments="Penalty Shootout"),
        goal(HOME, 12, detail="Missed Penalty"),
        goal(HOME, 12, detail="Goal Disallowed - offside", event_type="Var"),
    ],
    ids=["shootout-scored", "shootout-missed", "missed-penalty", "var-event"],
)
def test_non_goal_events_ignored(event):
    assert not is_goal_event(event)
    assert poll((), [event], 5, 0).records == ()


def test_own_goal_counts_for_beneficiary():
    own_goal = goal(AWAY, 8, player=555, detail="Own Goal")
    result = poll((), [own_goal], 0, 1)

    assert result.notifications[0].team_id == AWAY


def test_goal_of_unknown_team_ignored():
    result = poll((), [goal(999, 10)], 1, 0)

    assert result.records == ()
    assert len(result.ignored_events) == 1


def test_dropped_pending_goal_revives():
    records = poll((), [goal(HOME, 3)], 0, 0).records
    for _ in range(2):
        records = poll(records, [], 0, 0).records
    back = poll(records, [goal(HOME, 3)], 1, 0)

    assert records[0].state is GoalState.DROPPED
    assert kinds(back) == [("goal", f"{FIXTURE}-{HOME}-1")]


@pytest.mark.parametrize(
    "field, value",
    [("polls_to_withdraw", 0), ("reinstate_window_minutes", -1), ("match_window_minutes", "5")],
)
def test_rules_reject_invalid_values(field, value):
    with pytest.raises(ValueError, match=field):
        GoalRules(**{field: value})


def test_notification_kinds_are_strings():
    assert NotificationKind("cancelled") is NotificationKind.CANCELLED


_minutes = st.integers(min_value=1, max_value=120)
_events = st.lists(
    st.builds(lambda team, minute, extra, player: goal(team, minute, extra, player=player),
              st.sampled_from([HOME, AWAY]), _minutes, st.one_of(st.none(), st.integers(1, 5)), st.integers(1, 30)),
    max_size=8,
)


@settings(max_examples=200, deadline=None)
@given(first=_events, second=_events, home=st.integers(0, 6), away=st.integers(0, 6))
def test_repeated_poll_is_idempotent(first, second, home, away):
    records = poll((), first, home, away).records
    after = poll(records, second, home, away)
    again = poll(after.records, second, home, away)

    if not any(record.absent_polls for record in after.records):
        assert again.notifications == ()
        assert again.records == after.records


@settings(max_examples=200, deadline=None)
@given(events=_events, home=st.integers(0, 6), away=st.integers(0, 6))
def test_alerts_never_exceed_score(events, home, away):
    result = poll((), events, home, away)
    alerted = [notification.team_id for notification in result.notifications]

    assert alerted.count(HOME) <= home
    assert alerted.count(AWAY) <= away
