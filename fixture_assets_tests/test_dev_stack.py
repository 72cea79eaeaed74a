"""Smoke test of ``make dev``: the embedded stack, the webserver's GraphQL API, and a clean Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import psutil
import pytest

from fixture_assets.store.embedded_server import free_port

from .conftest import REPO_ROOT

STARTUP_DEADLINE_S = 300
STOP_DEADLINE_S = 60

STATE_QUERY = """
{
  assetNodes { assetKey { path } }
  repositoriesOrError { ... on RepositoryConnection { nodes { sensors { name } } } }
  runsOrError(filter: {pipelineName: "twitter_job", statuses: [SUCCESS]}) { ... on Runs { results { runId } } }
}
"""


def graphql(port: int, query: str) -> dict[str, Any] | None:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)["data"]
    except (urllib.error.URLError, ConnectionError, TimeoutError, KeyError, ValueError):
        return None


def stack_state(data: dict[str, Any]) -> tuple[set[str], set[str], int]:
    assets = {"/".join(node["assetKey"]["path"]) for node in data["assetNodes"]}
    sensors = {sensor["name"] for repository in data["repositoriesOrError"]["nodes"] for sensor in repository["sensors"]}
    return assets, sensors, len(data["runsOrError"]["results"])


def listening_addresses(root: psutil.Process) -> set[str]:
    addresses = set()
    for process in [root, *root.children(recursive=True)]:
        try:
            connections = process.net_connections(kind="inet")
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        addresses |= {connection.laddr.ip for connection in connections if connection.status == psutil.CONN_LISTEN}
    return addresses


@pytest.mark.slow
@pytest.mark.timeout(STARTUP_DEADLINE_S + STOP_DEADLINE_S + 60)
def test_make_dev_stack(tmp_path: Path):
    port = free_port()
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("MONGO_", "API_FOOTBALL_", "X_", "DAGSTER_HOME"))}
    log_path = tmp_path / "dev.log"
    with open(log_path, "wb") as log:
        launcher = subprocess.Popen(
            [sys.executable, "-m", "fixture_assets.cli", "dev", "--port", str(port), "--data-dir", str(tmp_path / "data"),
             "--minute-seconds", "1", "--kickoff-delay", "0"],
            cwd=REPO_ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    root = psutil.Process(launcher.pid)
    try:
        state = _wait_for_stack(port, launcher, log_path)
        addresses = listening_addresses(root)
        started = {(process.pid, process.create_time()) for process in root.children(recursive=True)}
    finally:
        launcher.send_signal(signal.SIGINT)
        try:
            launcher.wait(timeout=STOP_DEADLINE_S)
        finally:
            if launcher.poll() is None:
                os.killpg(launcher.pid, signal.SIGKILL)

    assets, sensors, successful_runs = state
    assert assets == {"staged_fixtures", "live_fixtures", "completed_fixtures"}
    assert sensors == {"fixture_poll_sensor", "goal_notification_sensor"}
    assert successful_runs >= 1
    assert addresses == {"127.0.0.1"}
    assert launcher.returncode == 0
    assert [pid for pid, created in started if _still_running(pid, created)] == []


def _still_running(pid: int, created: float) -> bool:
    """Return True if the process started as ``pid`` at ``created`` still runs (a reused pid does not count)."""
    try:
        process = psutil.Process(pid)
        return process.create_time() == created and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _wait_for_stack(port: int, launcher: subprocess.Popen, log_path: Path) -> tuple[set[str], set[str], int]:
    deadline = time.monotonic() + STARTUP_DEADLINE_S
    state: tuple[set[str], set[str], int] = (set(), set(), 0)
    while time.monotonic() < deadline:
        if launcher.poll() is not None:
            pytest.fail(f"fixture-assets dev exited with {launcher.returncode}:\n{log_path.read_text()[-4000:]}")
        data = graphql(port, STATE_QUERY)
        if data is not None:
            state = stack_state(data)
            if len(state[0]) == 3 and len(state[1]) == 2 and state[2] >= 1:
                return state
        time.sleep(2)
    pytest.fail(f"the dev stack did not reach 3 assets, 2 sensors and a successful twitter_job run within "
                f"{STARTUP_DEADLINE_S} s (last seen {state}):\n{log_path.read_text()[-4000:]}")
