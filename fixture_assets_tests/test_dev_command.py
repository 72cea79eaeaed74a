"""Input checks of ``fixture-assets dev`` that stop it before it starts anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixture_assets import cli
from fixture_assets.dev_stack import _data_dir_lock

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
