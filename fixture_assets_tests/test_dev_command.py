"""Checks of ``fixture-assets dev`` that stop it: bad input before it starts anything, and a MongoDB that exits."""

from __future__ import annotations

import logging
import os
import signal
import threading
from pathlib import Path

import pytest

from fixture_assets import cli, dev_stack
from fixture_assets.dev_stack import DevOptions, _data_dir_lock
from fixture_assets.store.embedded_server import EmbeddedMongo

from .conftest import REPO_ROOT


def test_port_zero_rejected(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        cli.main(["dev", "--port", "0"])

    assert stopped.value.code == cli.EXIT_USAGE
    assert "port 0 is not supported by dagster dev; pass a port from 1 to 65535" in capsys.readouterr().err


def test_unwritable_data_dir_named(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(REPO_ROOT)

    code = cli.main(["dev", "--data-dir", "/proc/fixture-assets-test"])

    assert code == cli.EXIT_FAILED
    error = capsys.readouterr().err
    assert "cannot create the data folder /proc/fixture-assets-test" in error
    assert "pass --data-dir with a folder you can write to" in error


def test_data_dir_in_use_rejected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(REPO_ROOT)
    data_dir = tmp_path / "data"

    with _data_dir_lock(data_dir):
        code = cli.main(["dev", "--data-dir", str(data_dir)])

    assert code == cli.EXIT_FAILED
    error = capsys.readouterr().err
    assert f"uses the data folder {data_dir}" in error
    assert "stop it, or pass another --data-dir" in error
    assert not (data_dir / "mongo").exists()


def test_stack_stops_when_mongodb_exits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # A stand-in for dagster dev that runs until it is stopped.
    fake_dagster = tmp_path / "dagster"
    fake_dagster.write_text("#!/bin/sh\nexec sleep 120\n", encoding="utf-8")
    fake_dagster.chmod(0o755)
    monkeypatch.setattr(dev_stack, "_dagster_executable", lambda: str(fake_dagster))
    options = DevOptions(project_dir=REPO_ROOT, data_dir=tmp_path / "data")
    environment = {**os.environ, "DAGSTER_HOME": str(tmp_path)}

    with EmbeddedMongo(tmp_path / "mongo") as mongo:
        assert mongo.pid is not None
        os.kill(mongo.pid, signal.SIGKILL)
        with caplog.at_level(logging.ERROR):
            code = dev_stack._run_dagster_dev(options, environment, threading.Event(), watched=mongo)

    assert code == 1
    assert "SecantusDB exited with code -9" in caplog.text
    assert "Stopping the dev stack; its data is kept, so start it again" in caplog.text


def test_debug_level_keeps_pymongo_at_info(monkeypatch: pytest.MonkeyPatch) -> None:
    pymongo_logger = logging.getLogger("pymongo")
    monkeypatch.setattr(pymongo_logger, "level", pymongo_logger.level)

    cli.configure_logging("DEBUG")

    assert pymongo_logger.level == logging.INFO
