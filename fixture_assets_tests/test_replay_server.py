"""ReplayServer over HTTP: routing, the API's parameter errors, faults, request log, and the CLI."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from fixture_assets.replay import (
    ApiRequest,
    ApiResponse,
    DelayFault,
    ErrorsFault,
    ReplayServer,
    StatusFault,
)
from fixture_assets_tests.replay_fixtures import StartReplayServer, fixture_item, one_poll_scenario

IDS = [201, 202, 203]


@pytest.fixture
def server(start_replay_server: StartReplayServer) -> ReplayServer:
    return start_replay_server(one_poll_scenario([fixture_item(fixture_id) for fixture_id in IDS]))


def get(server: ReplayServer, path: str, **params: str) -> httpx.Response:
    return httpx.get(f"{server.url}{path}", params=params)


def test_server_binds_loopback(server: ReplayServer) -> None:
    assert server.url.startswith("http://127.0.0.1:")
    assert server.port > 0


def test_rapidapi_prefix_served(server: ReplayServer) -> None:
    plain = get(server, "/fixtures", ids="201")
    prefixed = get(server, "/v3/fixtures", ids="201")

    assert plain.json() == prefixed.json()
    assert [request.path for request in server.requests] == ["/fixtures", "/fixtures"]


def test_unknown_endpoint_is_404(server: ReplayServer) -> None:
    response = get(server, "/teams", search="Leipzig")

    assert response.status_code == 404
    assert "does not exist" in response.json()["message"]


@pytest.mark.parametrize(
    ("params", "error_key"),
    [
        ({}, "required"),
        ({"ids": "1-x-3"}, "ids"),
        ({"ids": "0"}, "ids"),
        ({"date": "2026-02-30"}, "date"),
        ({"date": "2026-09-19", "timezone": "Mars/Olympus"}, "timezone"),
        ({"date": "2026-09-19", "league": "abc"}, "league"),
        ({"live": "everything"}, "live"),
        ({"league": "39", "season": "2026"}, "parameters"),
    ],
)
def test_invalid_parameters_get_errors_envelope(server: ReplayServer, params: dict[str, str], error_key: str) -> None:
    response = get(server, "/fixtures", **params)

    body = response.json()
    assert response.status_code == 200
    assert list(body["errors"]) == [error_key]
    assert body["response"] == []
    assert body["results"] == 0


def test_more_than_20_ids_answer_nothing(server: ReplayServer) -> None:
    ids = "-".join(str(fixture_id) for fixture_id in range(201, 222))

    body = get(server, "/fixtures", ids=ids).json()

    assert body["errors"] == []
    assert body["response"] == []


def test_envelope_has_api_shape(server: ReplayServer) -> None:
    response = get(server, "/fixtures", ids="201-203")

    body = response.json()
    assert list(body) == ["get", "parameters", "errors", "results", "paging", "response"]
    assert body["get"] == "fixtures"
    assert body["paging"] == {"current": 1, "total": 1}
    assert response.headers["content-type"] == "application/json"


def test_fault_applies_given_times_then_stops(server: ReplayServer) -> None:
    server.inject_fault(StatusFault(status=503), times=2)

    statuses = [get(server, "/fixtures", ids="201").status_code for _ in range(3)]

    assert statuses == [503, 503, 200]
    assert [request.fault for request in server.requests] == ["StatusFault", "StatusFault", None]


def test_fault_matches_path_and_param(server: ReplayServer) -> None:
    server.inject_fault(ErrorsFault(errors={"rateLimit": "Too many requests."}, param="date"))

    by_ids = get(server, "/fixtures", ids="201").json()
    status = get(server, "/status").json()
    by_date = get(server, "/fixtures", date="2024-03-01").json()

    assert by_ids["errors"] == []
    assert status["errors"] == []
    assert by_date["errors"] == {"rateLimit": "Too many requests."}


def test_fault_times_must_be_positive(server: ReplayServer) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        server.inject_fault(StatusFault(status=500), times=0)


def test_requests_record_virtual_time_and_status(server: ReplayServer) -> None:
    get(server, "/fixtures", ids="201-202")

    served = server.requests[0]
    assert served.path == "/fixtures"
    assert served.params == {"ids": "201-202"}
    assert served.ids == (201, 202)
    assert served.at == server.clock.now()
    assert served.status == 200
    assert served.auth_header is None


def test_stop_cuts_delayed_answer_short(start_replay_server: StartReplayServer) -> None:
    server = start_replay_server(one_poll_scenario([fixture_item(201)]))
    server.inject_fault(DelayFault(seconds=30))
    url = server.url

    with httpx.Client(timeout=10) as http:
        results: list[BaseException | httpx.Response] = []

        def call() -> None:
            try:
                results.append(http.get(f"{url}/fixtures", params={"ids": "201"}))
            except httpx.HTTPError as error:
                results.append(error)

        caller = threading.Thread(target=call)
        caller.start()
        deadline = time.monotonic() + 5
        while server.peak_in_flight == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        server.stop()
        caller.join(timeout=5)

    assert not caller.is_alive()
    assert isinstance(results[0], httpx.HTTPError)


def test_source_crash_becomes_500(start_replay_server: StartReplayServer) -> None:
    class BrokenSource:
        description = "broken source"

        def initial_time(self) -> None:
            return None

        def respond(self, request: ApiRequest, now: object) -> ApiResponse:
            raise RuntimeError("bug in the source")

    server = start_replay_server(BrokenSource())

    response = get(server, "/fixtures", ids="1")

    assert response.status_code == 500
    assert "message" in response.json()


def test_start_twice_rejected(server: ReplayServer) -> None:
    with pytest.raises(RuntimeError, match="already running"):
        server.start()


def test_cli_prints_url_and_stops_on_sigterm(shared_dir: Path) -> None:
    scenario = shared_dir / "scenarios" / "tc01-var-cancel-with-var-event.json"
    command = [sys.executable, "-m", "fixture_assets.cli", "replay-server", "--scenario", str(scenario), "--speed", "0"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = process.stdout.readline().strip()  # type: ignore[union-attr]
        status = httpx.get(f"{url}/status", timeout=5)
        fixtures = httpx.get(f"{url}/fixtures", params={"ids": "1153127"}, timeout=5)
    finally:
        os.kill(process.pid, signal.SIGTERM)
        _, stderr = process.communicate(timeout=10)

    assert url.startswith("http://127.0.0.1:")
    assert status.status_code == 200
    assert fixtures.json()["results"] == 1
    assert process.returncode == 0
    assert "replay server started" in stderr
    assert "stopped" in stderr


def test_cli_rejects_bad_source(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "fixture_assets.cli", "replay-server", "--archive", str(tmp_path / "absent")]

    finished = subprocess.run(command, capture_output=True, text=True, timeout=30)

    assert finished.returncode == 2
    assert "does not exist" in finished.stderr
    assert finished.stdout == ""
