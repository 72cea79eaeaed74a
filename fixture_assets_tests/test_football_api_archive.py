"""Raw archive: every response appended per UTC day, and an archived day served again as it happened."""

from __future__ import annotations

import gzip
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from fixture_assets.football_api import RawArchive, read_archive_file
from fixture_assets.football_api.archive import archive_line
from fixture_assets.replay import ArchiveSource, ReplayInputError, ScenarioSource, StatusFault, VirtualClock
from fixture_assets_tests.replay_fixtures import MakeApiClient, StartReplayServer

POLL_KEYS = {"at", "status", "headers", "body"}


def test_client_archives_every_response(
    shared_dir: Path, start_replay_server: StartReplayServer, make_api_client: MakeApiClient, tmp_path: Path
) -> None:
    scenario = ScenarioSource.from_file(shared_dir / "scenarios" / "tc20-non-200-responses.json")
    server = start_replay_server(scenario)
    client = make_api_client(server, archive_dir=tmp_path)
    server.inject_fault(StatusFault(status=500))

    client.fixtures_by_ids([1539415])
    client.fixtures_by_date("2026-09-19")
    client.account_status()

    files = list(tmp_path.iterdir())
    assert [file.name for file in files] == [f"{datetime.now(UTC).date().isoformat()}.jsonl.gz"]
    lines = list(read_archive_file(files[0]))
    assert [(line["path"], line["status"]) for line in lines] == [
        ("/fixtures", 500),
        ("/fixtures", 200),
        ("/fixtures", 200),
        ("/status", 200),
    ]
    assert all(POLL_KEYS <= set(line) for line in lines)
    assert lines[0]["body"] == {"message": "Something went wrong while fetching details. Try again later."}
    assert lines[1]["params"] == {"ids": "1539415"}
    assert lines[1]["headers"]["x-ratelimit-requests-remaining"] == "2099"
    assert lines[2]["params"] == {"date": "2026-09-19", "timezone": "UTC"}
    assert datetime.fromisoformat(lines[0]["at"]).tzinfo is not None


def test_archive_splits_by_utc_day(tmp_path: Path) -> None:
    archive = RawArchive(tmp_path / "raw")
    for hour, day in ((23, 1), (0, 2)):
        at = datetime(2026, 3, day, hour, 59, tzinfo=UTC)
        archive.append(archive_line(at=at, path="/status", params={}, status=200, headers={}, content=b"{}"))

    names = sorted(path.name for path in (tmp_path / "raw").iterdir())

    assert names == ["2026-03-01.jsonl.gz", "2026-03-02.jsonl.gz"]


def test_archive_keeps_non_json_body_as_text(tmp_path: Path) -> None:
    archive = RawArchive(tmp_path)
    at = datetime(2026, 3, 1, tzinfo=UTC)

    line = archive_line(at=at, path="/fixtures", params={"ids": "1"}, status=502, headers={}, content=b"<html>")

    path = archive.append(line)

    line = next(read_archive_file(path))
    assert line["body"] is None
    assert line["body_text"] == "<html>"


def test_archive_skips_damaged_lines(tmp_path: Path) -> None:
    path = tmp_path / "2026-03-01.jsonl.gz"
    good = json.dumps({"at": "2026-03-01T10:00:00+00:00", "path": "/status", "params": {}, "status": 200, "body": {}})
    path.write_bytes(gzip.compress(f"{good}\nnot json\n[1]\n".encode()) + b"\x1f\x8b\x08garbage")

    lines = list(read_archive_file(path))

    assert len(lines) == 1
    assert lines[0]["path"] == "/status"


def test_archived_day_replays_as_recorded(
    shared_dir: Path, start_replay_server: StartReplayServer, make_api_client: MakeApiClient, tmp_path: Path
) -> None:
    scenario = ScenarioSource.from_file(shared_dir / "scenarios" / "tc20-non-200-responses.json")
    recording = start_replay_server(scenario)
    client = make_api_client(recording, archive_dir=tmp_path)
    for poll in scenario.polls:
        recording.clock.set(poll.at)
        client.fixtures_by_ids([1539415])
    archived = [line for file in sorted(tmp_path.iterdir()) for line in read_archive_file(file)]

    replay = start_replay_server(ArchiveSource(tmp_path))
    replayed = []
    with httpx.Client(base_url=replay.url) as http:
        for line in archived:
            replay.clock.set(datetime.fromisoformat(line["at"]))
            response = http.get(line["path"], params=line["params"])
            replayed.append((response.status_code, response.json() if response.content else None))

    assert replayed == [(line["status"], line["body"] if line["status"] != 204 else None) for line in archived]
    # 4 successes, 499, 500 and 204 each sent twice (one retry), and one 429.
    assert len(archived) == 11


def test_archive_folder_rejects_link_outside(tmp_path: Path) -> None:
    folder = tmp_path / "archive"
    folder.mkdir()
    outside = tmp_path / "secret.jsonl.gz"
    outside.write_bytes(gzip.compress(b"{}\n"))
    os.symlink(outside, folder / "2026-03-01.jsonl.gz")

    with pytest.raises(ReplayInputError, match="outside the archive folder"):
        ArchiveSource(folder)


@pytest.mark.parametrize("day", ["../secret", "2026-3-1", "2026-02-30"])
def test_archive_day_must_be_a_date(tmp_path: Path, day: str) -> None:
    with pytest.raises(ReplayInputError, match="archive day"):
        ArchiveSource(tmp_path, days=[day])


def test_archive_missing_folder_or_files(tmp_path: Path) -> None:
    with pytest.raises(ReplayInputError, match="does not exist"):
        ArchiveSource(tmp_path / "absent")
    with pytest.raises(ReplayInputError, match="no \\*.jsonl.gz files"):
        ArchiveSource(tmp_path)
    with pytest.raises(ReplayInputError, match="does not exist or is not a regular file"):
        ArchiveSource(tmp_path, days=["2026-03-01"])


def test_archive_source_starts_at_first_response(tmp_path: Path) -> None:
    archive = RawArchive(tmp_path)
    first = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    archive.append(archive_line(at=first, path="/status", params={}, status=200, headers={}, content=b"{}"))

    source = ArchiveSource(tmp_path)

    assert source.initial_time() == first
    assert VirtualClock(source.initial_time(), speed=0).now() == first
