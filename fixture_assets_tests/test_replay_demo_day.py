"""The shipped demo day: what a client sees at given match minutes, over a real socket."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from fixture_assets.core.models import Fixture
from fixture_assets.football_api import FootballApiClient
from fixture_assets.replay import DemoDaySource, ReplayInputError, ReplayServer
from fixture_assets.replay.demo_day import load_demo_data
from fixture_assets_tests.replay_fixtures import DEMO_STARTED_AT, MakeApiClient

NORMAL = 9100001
OWN_GOAL_AND_PENALTY = 9100002
MISSED_PENALTY = 9100003
STOPPAGE_GOALS = 9100004
VAR_CANCELLED = 9100005
SCORER_CORRECTED = 9100006
EXTRA_TIME = 9100007
SHOOTOUT = 9100008
POSTPONED = 9100009
FINISHED = 9100010


@pytest.fixture
def client(demo_server: ReplayServer, make_api_client: MakeApiClient) -> FootballApiClient:
    return make_api_client(demo_server)


def seen_at(server: ReplayServer, client: FootballApiClient, moment: datetime, fixture_id: int) -> Fixture:
    server.clock.set(moment)
    batch = client.fixtures_by_ids([fixture_id])
    assert batch.failures == []
    return batch.fixtures[0]


def goal_scorers(fixture: Fixture) -> list[tuple[int | None, int | None, str | None, str | None]]:
    assert fixture.events is not None
    return [
        (event.elapsed, event.extra, event.player_name, event.detail)
        for event in fixture.events
        if event.type == "Goal" and event.comments != "Penalty Shootout"
    ]


def test_demo_day_discovered_by_date(demo_server: ReplayServer, client: FootballApiClient) -> None:
    page = client.fixtures_by_date("2026-05-01")

    assert 10 <= len(page.fixtures) <= 20
    assert page.rejected == []
    assert all(fixture.events is None for fixture in page.fixtures)
    statuses = {fixture.id: fixture.status.short for fixture in page.fixtures}
    assert statuses[POSTPONED] == "PST"
    assert statuses[FINISHED] == "FT"
    assert {status for fixture_id, status in statuses.items() if fixture_id not in (POSTPONED, FINISHED)} == {"NS"}


def test_kickoffs_follow_server_start(demo_day: DemoDaySource) -> None:
    kickoffs = sorted(fixture.kickoff for fixture in demo_day.fixtures() if fixture.id != FINISHED)

    assert kickoffs[0] == datetime(2026, 5, 1, 12, 3, tzinfo=UTC)
    assert kickoffs[-1] - kickoffs[0] <= timedelta(minutes=10)
    assert demo_day.fixture(FINISHED).kickoff < DEMO_STARTED_AT


def test_before_kickoff_not_started(demo_server: ReplayServer, client: FootballApiClient) -> None:
    fixture = seen_at(demo_server, client, DEMO_STARTED_AT, NORMAL)

    assert fixture.status.short == "NS"
    assert fixture.goals.home is None
    assert fixture.events == ()


def test_normal_goals_by_minute(demo_server: ReplayServer, demo_day: DemoDaySource, client: FootballApiClient) -> None:
    script = demo_day.fixture(NORMAL)

    at_11 = seen_at(demo_server, client, script.time_at(11), NORMAL)
    at_12 = seen_at(demo_server, client, script.time_at(12), NORMAL)
    at_67 = seen_at(demo_server, client, script.time_at(67), NORMAL)

    assert (at_11.status.short, at_11.status.elapsed) == ("1H", 11)
    assert (at_11.goals.home, at_11.goals.away) == (0, 0)
    assert (at_12.goals.home, at_12.goals.away) == (1, 0)
    assert goal_scorers(at_12) == [(12, None, "A. Marlow", "Normal Goal")]
    assert (at_67.status.short, at_67.status.elapsed) == ("2H", 67)
    assert (at_67.goals.home, at_67.goals.away) == (2, 1)


def test_halftime_and_full_time(demo_server: ReplayServer, demo_day: DemoDaySource, client: FootballApiClient) -> None:
    script = demo_day.fixture(NORMAL)

    halftime = seen_at(demo_server, client, script.time_at_status("HT"), NORMAL)
    full_time = seen_at(demo_server, client, script.time_at_status("FT"), NORMAL)

    assert (halftime.status.short, halftime.status.elapsed, halftime.status.extra) == ("HT", 45, 2)
    assert (halftime.score.halftime.home, halftime.score.halftime.away) == (1, 1)
    assert halftime.score.fulltime.home is None
    assert (full_time.status.short, full_time.status.elapsed, full_time.status.extra) == ("FT", 90, 4)
    assert (full_time.score.fulltime.home, full_time.score.fulltime.away) == (2, 1)
    assert full_time.score.extratime.home is None


def test_own_goal_and_penalty(demo_server: ReplayServer, demo_day: DemoDaySource, client: FootballApiClient) -> None:
    script = demo_day.fixture(OWN_GOAL_AND_PENALTY)

    fixture = seen_at(demo_server, client, script.time_at(55), OWN_GOAL_AND_PENALTY)

    assert goal_scorers(fixture) == [(21, None, "M. Duarte", "Penalty"), (55, None, "P. Hale", "Own Goal")]
    own_goal = [event for event in fixture.events or () if event.detail == "Own Goal"][0]
    assert own_goal.team_id == fixture.home.id
    assert (fixture.goals.home, fixture.goals.away) == (1, 1)


def test_missed_penalty_not_counted(
    demo_server: ReplayServer, demo_day: DemoDaySource, client: FootballApiClient
) -> None:
    script = demo_day.fixture(MISSED_PENALTY)

    fixture = seen_at(demo_server, client, script.time_at(30), MISSED_PENALTY)

    assert goal_scorers(fixture) == [(30, None, "D. Voss", "Missed Penalty")]
    assert (fixture.goals.home, fixture.goals.away) == (0, 0)


def test_stoppage_time_goals(demo_server: ReplayServer, demo_day: DemoDaySource, client: FootballApiClient) -> None:
    script = demo_day.fixture(STOPPAGE_GOALS)

    before = seen_at(demo_server, client, script.time_at(45, 1), STOPPAGE_GOALS)
    first = seen_at(demo_server, client, script.time_at(45, 2), STOPPAGE_GOALS)
    late = seen_at(demo_server, client, script.time_at(90, 3), STOPPAGE_GOALS)

    assert (before.status.elapsed, before.status.extra, before.goals.home) == (45, 1, 0)
    assert (first.status.short, first.status.elapsed, first.status.extra) == ("1H", 45, 2)
    assert goal_scorers(first) == [(45, 2, "L. Ferreira", "Normal Goal")]
    assert (late.status.short, late.status.elapsed, late.status.extra) == ("2H", 90, 3)
    assert (late.goals.home, late.goals.away) == (1, 1)


def test_goal_cancelled_by_var(demo_server: ReplayServer, demo_day: DemoDaySource, client: FootballApiClient) -> None:
    script = demo_day.fixture(VAR_CANCELLED)

    scored = seen_at(demo_server, client, script.time_at(45, 1), VAR_CANCELLED)
    cancelled = seen_at(demo_server, client, script.time_at(45, 2), VAR_CANCELLED)

    assert goal_scorers(scored) == [(27, None, "E. Novak", "Normal Goal")]
    assert (scored.goals.home, scored.goals.away) == (1, 0)
    assert goal_scorers(cancelled) == []
    assert [(event.type, event.detail) for event in cancelled.events or ()] == [("Var", "Goal Disallowed - offside")]
    assert (cancelled.goals.home, cancelled.goals.away) == (0, 0)


def test_scorer_corrected_later(demo_server: ReplayServer, demo_day: DemoDaySource, client: FootballApiClient) -> None:
    script = demo_day.fixture(SCORER_CORRECTED)

    published = seen_at(demo_server, client, script.time_at(74), SCORER_CORRECTED)
    corrected = seen_at(demo_server, client, script.time_at(75), SCORER_CORRECTED)

    assert goal_scorers(published)[1] == (52, None, "H. Tanaka", "Normal Goal")
    assert goal_scorers(corrected)[1] == (52, None, "G. Ruiz", "Normal Goal")
    assert (corrected.goals.home, corrected.goals.away) == (1, 1)


def test_extra_time_win(demo_server: ReplayServer, demo_day: DemoDaySource, client: FootballApiClient) -> None:
    script = demo_day.fixture(EXTRA_TIME)

    break_time = seen_at(demo_server, client, script.time_at_status("BT"), EXTRA_TIME)
    at_104 = seen_at(demo_server, client, script.time_at(104), EXTRA_TIME)
    final = seen_at(demo_server, client, script.time_at_status("AET"), EXTRA_TIME)

    assert (break_time.status.short, break_time.goals.home, break_time.goals.away) == ("BT", 1, 1)
    assert (at_104.status.short, at_104.status.elapsed) == ("ET", 104)
    assert (at_104.goals.home, at_104.goals.away) == (2, 1)
    assert (at_104.score.extratime.home, at_104.score.extratime.away) == (1, 0)
    assert (final.status.short, final.status.elapsed) == ("AET", 120)
    assert (final.score.fulltime.home, final.score.fulltime.away) == (1, 1)


def test_penalty_shootout(demo_server: ReplayServer, demo_day: DemoDaySource, client: FootballApiClient) -> None:
    script = demo_day.fixture(SHOOTOUT)

    starting = seen_at(demo_server, client, script.time_at_status("P"), SHOOTOUT)
    after_five = seen_at(demo_server, client, script.time_at_kick(5), SHOOTOUT)
    final = seen_at(demo_server, client, script.time_at_status("PEN"), SHOOTOUT)

    assert (starting.status.short, starting.status.elapsed) == ("P", 120)
    assert (starting.score.penalty.home, starting.score.penalty.away) == (0, 0)
    assert (after_five.score.penalty.home, after_five.score.penalty.away) == (2, 1)
    assert (after_five.goals.home, after_five.goals.away) == (1, 1)
    assert final.status.short == "PEN"
    assert (final.score.penalty.home, final.score.penalty.away) == (4, 3)
    kicks = [event for event in final.events or () if event.comments == "Penalty Shootout"]
    assert [kick.extra for kick in kicks] == list(range(1, 11))


def test_postponed_stays_postponed(
    demo_server: ReplayServer, demo_day: DemoDaySource, client: FootballApiClient
) -> None:
    later = demo_day.fixture(NORMAL).time_at_status("FT")

    fixture = seen_at(demo_server, client, later, POSTPONED)

    assert fixture.status.short == "PST"
    assert fixture.goals.home is None
    assert fixture.events == ()


def test_finished_fixture_complete_from_start(demo_server: ReplayServer, client: FootballApiClient) -> None:
    fixture = seen_at(demo_server, client, DEMO_STARTED_AT, FINISHED)

    assert fixture.status.short == "FT"
    assert (fixture.goals.home, fixture.goals.away) == (3, 0)
    assert len(goal_scorers(fixture)) == 3


def test_live_all_lists_fixtures_in_play(demo_server: ReplayServer, demo_day: DemoDaySource) -> None:
    moment = demo_day.fixture(NORMAL).time_at(20)
    demo_server.clock.set(moment)
    in_play = {fixture.id for fixture in demo_day.fixtures() if fixture.moment(moment).short in ("1H", "HT", "2H")}

    body = httpx.get(f"{demo_server.url}/fixtures", params={"live": "all"}).json()

    assert {item["fixture"]["id"] for item in body["response"]} == in_play
    assert NORMAL in in_play
    assert POSTPONED not in in_play


def test_minute_seconds_sets_match_pace() -> None:
    day = DemoDaySource(started_at=DEMO_STARTED_AT, minute_seconds=1.0, kickoff_delay_minutes=0)
    script = day.fixture(NORMAL)

    assert script.kickoff == datetime(2026, 5, 1, 12, 1, tzinfo=UTC)
    assert script.time_at(12) == script.kickoff + timedelta(seconds=11.5)
    assert script.moment(script.kickoff + timedelta(seconds=11.5)).elapsed == 12


def test_invalid_demo_data_rejected() -> None:
    data = copy.deepcopy(load_demo_data())
    data["fixtures"][0]["events"][0]["minute"] = "45+9"

    with pytest.raises(ReplayInputError, match="demo fixture 9100001 .*45\\+9"):
        DemoDaySource(started_at=DEMO_STARTED_AT, data=data)


def test_scripted_changes_outlast_slow_polls() -> None:
    # The daemon runs the minute sensor about every 60 to 90 s, so at the
    # default pace each scripted state must last longer than 90 s to be seen.
    day = DemoDaySource(started_at=DEMO_STARTED_AT)
    shortest = timedelta(seconds=90)
    spans = {}
    for script in day.fixtures():
        for event in script.events:
            changes = [change for change in (event.withdrawn_at, *(at for at, _ in event.corrections)) if change is not None]
            for change in changes:
                spans[(script.id, event.event["time"]["elapsed"])] = script.time_at_clock(change) - script.time_at_clock(event.appears_at)

    assert set(spans) == {(VAR_CANCELLED, 27), (SCORER_CORRECTED, 52)}
    for key, span in spans.items():
        assert span > shortest, key
