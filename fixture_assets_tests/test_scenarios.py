"""Every shared scenario, replayed through discovery and the poll tick, gives its expected decisions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fixture_assets.replay.runner import compare_report, load_expect, read_report, run_scenario
from fixture_assets.replay.scenario_source import ScenarioSource
from fixture_assets.store.database import NOTIFICATIONS

from .conftest import SCENARIOS_DIR, scenario_files


@pytest.mark.parametrize("path", scenario_files(), ids=lambda path: path.stem)
def test_scenario_expectations(path: Path, shared_dir, mongo_db):
    run = run_scenario(ScenarioSource.from_file(path), mongo_db)

    assert compare_report(run.report, load_expect(path)) == []


def test_every_scenario_collected(shared_dir):
    assert len(scenario_files()) >= 22


def test_restart_alerts_nothing_again(shared_dir, mongo_db):
    source = ScenarioSource.from_file(SCENARIOS_DIR / "match-lifecycle-ns-to-ft.json")
    first = run_scenario(source, mongo_db)
    keys_before = sorted(document["key"] for document in mongo_db[NOTIFICATIONS].find())

    # A new process with a fresh poller state, replaying the same answers.
    second = run_scenario(ScenarioSource.from_file(SCENARIOS_DIR / "match-lifecycle-ns-to-ft.json"), mongo_db)

    assert len(first.report["alerts"]) == 3
    assert sorted(document["key"] for document in mongo_db[NOTIFICATIONS].find()) == keys_before
    assert second.report == read_report(mongo_db)


def _replay_cli(*arguments: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fixture_assets.cli", "replay", *arguments],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


@pytest.fixture
def cli_env(mongo_uri) -> dict[str, str]:
    return {**os.environ, "MONGO_URI": mongo_uri}


def test_cli_check_passes(shared_dir, cli_env):
    files = [str(SCENARIOS_DIR / "tc01-var-cancel-with-var-event.json"), str(SCENARIOS_DIR / "tc04-empty-events-array.json")]

    completed = _replay_cli("--check", *files, env=cli_env)

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.splitlines() == ["tc01-var-cancel-with-var-event.json: pass", "tc04-empty-events-array.json: pass"]


def test_cli_check_reports_mismatch(shared_dir, cli_env, tmp_path):
    scenario = json.loads((SCENARIOS_DIR / "tc01-var-cancel-with-var-event.json").read_text())
    scenario["expect"]["alerts"] = []
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(scenario))

    completed = _replay_cli("--check", str(changed), env=cli_env)

    assert completed.returncode == 1
    assert completed.stdout.startswith("changed.json: FAIL alerts: unexpected")


def test_cli_prints_report(shared_dir, cli_env):
    completed = _replay_cli(str(SCENARIOS_DIR / "tc05-scorer-reattributed-to-own-goal.json"), env=cli_env)

    assert completed.returncode == 0, completed.stderr
    assert sorted(json.loads(completed.stdout)) == ["alerts", "cancellations", "final", "followups"]


@pytest.mark.parametrize(
    "content, problem",
    [("{not json", "not valid JSON"), ("[1, 2]", "JSON object"), ('{"polls": []}', "no polls")],
    ids=["invalid-json", "not-an-object", "no-polls"],
)
def test_cli_rejects_bad_file(cli_env, tmp_path, content, problem):
    bad = tmp_path / "bad.json"
    bad.write_text(content)

    completed = _replay_cli("--check", str(bad), env=cli_env)

    assert completed.returncode == 2
    assert str(bad) in completed.stderr
    assert problem in completed.stderr


def test_cli_rejects_missing_file(cli_env, tmp_path):
    completed = _replay_cli(str(tmp_path / "absent.json"), env=cli_env)

    assert completed.returncode == 2
    assert "absent.json" in completed.stderr


def test_cli_warns_without_valid_responses(shared_dir, cli_env, tmp_path):
    scenario = json.loads((SCENARIOS_DIR / "tc01-var-cancel-with-var-event.json").read_text())
    for poll in scenario["polls"]:
        if isinstance(poll.get("body"), dict):
            poll["body"].pop("errors", None)
    stripped = tmp_path / "no-errors-key.json"
    stripped.write_text(json.dumps(scenario))

    completed = _replay_cli(str(stripped), env=cli_env)

    assert completed.returncode == 0, completed.stderr
    assert "nothing to replay: no poll lists a fixture in a valid API response" in completed.stderr


def test_cli_quiet_when_discovery_completes_all(shared_dir, cli_env):
    completed = _replay_cli(str(SCENARIOS_DIR / "first-seen-finished-cl-ties.json"), env=cli_env)

    assert completed.returncode == 0, completed.stderr
    assert "WARNING" not in completed.stderr
