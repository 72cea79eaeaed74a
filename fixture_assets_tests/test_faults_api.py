"""API faults from the replay server, under the real minute sensor: nothing lost, each fault logged once.

Every poll of a scenario fails twice with the fault and then succeeds, as if
the API recovered a minute later. A failed poll must change nothing, so the
match ends with exactly the expected decisions. The first failure logs one
error line that names the fixtures and what happens next. The repeat is only
counted, and the recovery logs how many times the fault occurred.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from fixture_assets.defs.resources import MongoResource
from fixture_assets.replay import DelayFault, ErrorsFault, MissingIdFault, StatusFault, TruncatedBodyFault
from fixture_assets.replay.envelopes import JSON_HEADERS
from fixture_assets.replay.faults import Fault
from fixture_assets.replay.protocol import ApiRequest, ApiResponse
from fixture_assets.replay.runner import compare_report, load_expect, read_report
from fixture_assets.replay.scenario_source import ScenarioSource
from fixture_assets.store.discoveries import record_discovery

from .conftest import SCENARIOS_DIR
from .fault_replay import MinuteSensorReplay, skip_message

pytestmark = pytest.mark.faults

READ_TIMEOUT_S = 0.5
FAILED_EVALUATIONS_PER_POLL = 2


@dataclass(frozen=True, kw_only=True)
class RawBodyFault(Fault):
    """Respond with HTTP 200 and ``body`` sent byte for byte, with a correct Content-Length."""

    body: bytes

    def apply(self, request: ApiRequest, response: ApiResponse) -> ApiResponse:
        return ApiResponse(200, None, JSON_HEADERS, raw_body=self.body)


@dataclass(frozen=True)
class ApiFault:
    make: Callable[[], Fault]
    # Requests one failed tick sends: the client retries a server error once.
    requests_per_tick: int
    # Text that the error line must contain about the failure.
    described_as: str


API_FAULTS = {
    "429": ApiFault(lambda: StatusFault(status=429, body={"message": "Too many requests"}), 1, "HTTP 429"),
    "500": ApiFault(lambda: StatusFault(status=500), 2, "HTTP 500"),
    "timeout": ApiFault(lambda: DelayFault(seconds=3.0), 1, f"no response within the read timeout of {READ_TIMEOUT_S} s"),
    "truncated connection": ApiFault(TruncatedBodyFault, 2, "RemoteProtocolError"),
    "truncated JSON": ApiFault(
        lambda: RawBodyFault(body=b'{"get":"fixtures","errors":[],"results":1,"response":[{"fixture":{"id":14'),
        2,
        "HTTP 200 with a body that is not valid JSON",
    ),
    "errors object": ApiFault(
        lambda: ErrorsFault(errors={"rateLimit": "Too many requests. Your rate limit is 10 requests per minute."}),
        1,
        "the API returned errors: rateLimit: Too many requests",
    ),
    "missing id": ApiFault(MissingIdFault, 1, "the response lacks 1 requested fixture(s): 1490412"),
}


def scenario(name: str) -> tuple[ScenarioSource, dict[str, Any]]:
    path = SCENARIOS_DIR / f"{name}.json"
    return ScenarioSource.from_file(path), load_expect(path)


def mongo_resource(mongo_uri: str, mongo_db) -> MongoResource:
    return MongoResource(uri=mongo_uri, database=mongo_db.name)


@pytest.mark.parametrize("kind", API_FAULTS)
def test_api_fault_at_every_poll(shared_dir, mongo_uri, mongo_db, kind: str) -> None:
    fault = API_FAULTS[kind]
    source, expect = scenario("tc02-var-cancel-without-var-event")
    failed: list[tuple[int, str]] = []
    lines_by_poll: list[tuple[list[str], list[str]]] = []

    with MinuteSensorReplay(source, mongo_resource(mongo_uri, mongo_db), read_timeout_s=READ_TIMEOUT_S) as replay:
        replay.discover()
        for index, at in replay.polls():
            replay.clear_lines()
            replay.server.inject_fault(fault.make(), times=fault.requests_per_tick * FAILED_EVALUATIONS_PER_POLL)
            for _ in range(FAILED_EVALUATIONS_PER_POLL):
                failed.append((index, skip_message(replay.evaluate(at))))
            recovered = replay.evaluate(at)
            assert "not fetched" not in skip_message(recovered), f"poll {index}: the fault outlived its requests"
            lines_by_poll.append((replay.lines(logging.ERROR), replay.lines(logging.INFO)))
        faulted = [request for request in replay.server.requests if request.fault]

    assert compare_report(read_report(mongo_db), expect) == []
    assert len(faulted) == len(source.polls) * fault.requests_per_tick * FAILED_EVALUATIONS_PER_POLL
    for index, reason in failed:
        # The first poll also requests the first discovery of its dates, so it does not skip.
        if index > 0:
            assert reason.endswith("1 not fetched (they keep their stored state)"), (index, reason)
    for index, (errors, infos) in enumerate(lines_by_poll):
        assert len(errors) == 1, (index, errors)
        assert errors[0].startswith("poll of fixtures 1490412 failed: GET /fixtures?ids=1490412 failed: "), errors[0]
        assert fault.described_as in errors[0]
        assert errors[0].endswith("These fixtures keep their stored state; the next tick retries."), errors[0]
        resolved = [line for line in infos if line.startswith("resolved after")]
        assert len(resolved) == 1, (index, infos)
        assert f"resolved after {FAILED_EVALUATIONS_PER_POLL} occurrences" in resolved[0]
        assert resolved[0].endswith("for fixtures 1490412"), resolved[0]


def test_daily_quota_pauses_until_midnight(shared_dir, mongo_uri, mongo_db) -> None:
    source, expect = scenario("match-lifecycle-ns-to-ft")
    exhausted_at = 5
    midnight = datetime(2026, 9, 20, tzinfo=UTC)
    reasons: dict[int, str] = {}

    with MinuteSensorReplay(source, mongo_resource(mongo_uri, mongo_db)) as replay:
        replay.discover()
        # The day after the match has no fixtures. Recorded as discovered, it
        # adds no discovery request to the ticks, so each paused tick skips.
        record_discovery(mongo_db, midnight.date().isoformat(), midnight, fixtures=0)
        for index, at in replay.polls():
            if index == exhausted_at:
                replay.server.inject_fault(
                    ErrorsFault(errors={"requests": "You have reached the request limit for the day, Go to ..."})
                )
                replay.clear_lines()
            reasons[index] = skip_message(replay.evaluate(at))
        requests_while_paused = [request for request in replay.server.requests if request.at > source.polls[exhausted_at].at]
        errors = replay.lines(logging.ERROR)
        resumed = replay.evaluate(midnight + timedelta(seconds=30))
        resume_lines = replay.lines(logging.INFO)

    assert requests_while_paused == []
    assert len(errors) == 1
    assert errors[0].startswith("GET /fixtures?ids=1575165 failed: the API returned errors: requests: ")
    assert errors[0].endswith("Fixtures 1575165 keep their stored state; polling pauses until 2026-09-20T00:00:00+00:00.")
    for index in range(exhausted_at + 1, len(source.polls)):
        assert reasons[index] == (
            "polling is paused until 2026-09-20 00:00 UTC because the API's daily quota is exhausted"
        ), index
    assert skip_message(resumed) == ""
    assert any("the daily quota pause ended at 2026-09-20T00:00:00+00:00; polling resumes" in line for line in resume_lines)
    # The poll after midnight gets the finished match and decides every goal it missed.
    assert compare_report(read_report(mongo_db), expect) == []
