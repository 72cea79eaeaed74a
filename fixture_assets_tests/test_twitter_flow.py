"""From API responses to posts: the tick's goal decisions, the sensor and twitter_job runs on the X stand-in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from dagster import DagsterInstance, RetryPolicy, RunRequest, build_sensor_context, instance_for_test
from pymongo.database import Database

from fixture_assets.core.parse import parse_fixture
from fixture_assets.defs.resources import MongoResource
from fixture_assets.defs.twitter import XResource, build_goal_notification_sensor, build_twitter_job
from fixture_assets.observe import PollSettings, observe_fixtures
from fixture_assets.store.database import NOTIFICATIONS
from fixture_assets.store.fixtures import FixtureStore

from .twitter_fixtures import x_environment, x_stub  # noqa: F401
from .x_api_stub import CREATE, XApiStub

START = datetime(2026, 5, 2, 15, 0, tzinfo=UTC)
FIXTURE_ID = 1153127
GOAL_EVENT = {
    "time": {"elapsed": 23, "extra": None},
    "team": {"id": 42, "name": "Arsenal"},
    "player": {"id": 1460, "name": "Bukayo Saka"},
    "assist": {"id": 37127, "name": "Martin Ødegaard"},
    "type": "Goal",
    "detail": "Normal Goal",
    "comments": None,
}

job = build_twitter_job(name="twitter_job_flow", retry_policy=RetryPolicy(max_retries=1))


def api_fixture(home_goals: int, events: list[dict[str, Any]]) -> dict[str, Any]:
    kickoff = START - timedelta(minutes=30)
    return {
        "fixture": {
            "id": FIXTURE_ID,
            "date": kickoff.isoformat(),
            "timestamp": int(kickoff.timestamp()),
            "status": {"short": "1H", "long": "First Half", "elapsed": 30, "extra": None},
        },
        "league": {"id": 39, "name": "Premier League", "country": "England", "season": 2025, "round": "Regular Season - 35"},
        "teams": {"home": {"id": 42, "name": "Arsenal"}, "away": {"id": 49, "name": "Chelsea"}},
        "goals": {"home": home_goals, "away": 0},
        "score": {},
        "events": events,
    }


def poll(database: Database, response: dict[str, Any], now: datetime) -> None:
    """Store one poll's response as the tick does: goal records and notifications in one transaction."""
    store = FixtureStore(database)
    loaded = store.load_fixtures([FIXTURE_ID])
    batch = observe_fixtures(loaded.by_id, [parse_fixture(response)], PollSettings(), now)
    store.write(batch.updates, batch.notification_writes, now)


def tick_sensor(database: Database, mongo_uri: str, instance: DagsterInstance, now: datetime) -> list[RunRequest]:
    sensor = build_goal_notification_sensor(job=job, clock=lambda: now)
    context = build_sensor_context(
        instance=instance, resources={"mongo": MongoResource(uri=mongo_uri, database=database.name)}
    )
    result = sensor(context)
    return result if isinstance(result, list) else []


def launch(request: RunRequest, database: Database, mongo_uri: str, instance: DagsterInstance) -> None:
    """Run what the sensor requested, as the daemon would."""
    result = job.execute_in_process(
        run_config=request.run_config,
        tags=request.tags,
        resources={"mongo": MongoResource(uri=mongo_uri, database=database.name), "x": XResource.from_env()},
        instance=instance,
    )
    assert result.success


def test_withdrawn_and_reinstated_goal_end_to_end(
    mongo_db: Database, mongo_uri: str, x_environment: XApiStub  # noqa: F811
) -> None:
    responses = [
        api_fixture(1, [GOAL_EVENT]),  # goal counted: alert
        api_fixture(0, []),  # VAR: gone, first poll of absence
        api_fixture(0, []),  # second poll of absence: withdrawn
        api_fixture(1, [GOAL_EVENT]),  # back: reinstated
    ]
    requested: list[str] = []
    with instance_for_test() as instance:
        for minute, response in enumerate(responses):
            now = START + timedelta(minutes=minute)
            poll(mongo_db, response, now)
            for request in tick_sensor(mongo_db, mongo_uri, instance, now):
                requested.append(request.run_key or "")
                launch(request, mongo_db, mongo_uri, instance)

    # A wiped DAGSTER_HOME and every run launched again post nothing more.
    with instance_for_test() as wiped:
        assert tick_sensor(mongo_db, mongo_uri, wiped, START + timedelta(hours=1)) == []
        for key in requested:
            launch(
                RunRequest(run_key=key, run_config={"ops": {"deliver_goal_notification": {"config": {"notification_key": key}}}}),
                mongo_db,
                mongo_uri,
                wiped,
            )

    assert requested == ["1153127-42-1", "1153127-42-1-cancelled-1", "1153127-42-1-reinstated-2"]
    posts = x_environment.posts
    alerts = [post_id for post_id, post in posts.items() if post["in_reply_to"] is None]
    assert len(alerts) == 1
    assert posts[alerts[0]]["text"] == "GOAL! Arsenal 1-0 Chelsea\n23' Bukayo Saka\nAssist: Martin Ødegaard\nPremier League"
    replies = [post for post in posts.values() if post["in_reply_to"] == alerts[0]]
    assert [reply["text"] for reply in replies] == [
        "Correction: the 23' goal by Bukayo Saka has been disallowed.\nArsenal 0-0 Chelsea",
        "Goal stands: the 23' goal by Bukayo Saka counts after all.\nArsenal 1-0 Chelsea",
    ]
    assert len(x_environment.requests_to(CREATE)) == 3
    states = {document["key"]: document["state"] for document in mongo_db[NOTIFICATIONS].find()}
    assert set(states.values()) == {"posted"}
