"""``fixture-assets replay``: run scenario files and print or check their reports."""

from __future__ import annotations

import json
import logging
import sys
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from pymongo import MongoClient
from pymongo.errors import PyMongoError

from fixture_assets.replay.protocol import ReplayInputError
from fixture_assets.replay.runner import compare_report, load_expect, run_scenario
from fixture_assets.replay.scenario_source import ScenarioSource
from fixture_assets.store.database import connect, ensure_indexes, mask_uri
from fixture_assets.store.embedded_server import EmbeddedMongo, EmbeddedMongoError

logger = logging.getLogger(__name__)

EXIT_OK, EXIT_MISMATCH, EXIT_UNUSABLE = 0, 1, 2


def replay_files(paths: Sequence[Path], *, check: bool, mongo_uri: str | None, out: TextIO = sys.stdout) -> int:
    """Replay each file in a fresh database; return 0, 1 on a mismatch, or 2 when a file is unusable."""
    loaded: list[tuple[Path, ScenarioSource, dict[str, Any] | None]] = []
    unusable = False
    for path in paths:
        try:
            source = ScenarioSource.from_file(path)
            expect = load_expect(path) if check else None
        except (ReplayInputError, ValueError) as error:
            print(f"fixture-assets replay: {path}: {error}", file=sys.stderr)
            unusable = True
            continue
        loaded.append((path, source, expect))

    if not loaded:
        return EXIT_UNUSABLE

    try:
        with _mongo_client(mongo_uri) as client:
            reports, mismatched = _run_all(client, loaded, out if check else None)
    except EmbeddedMongoError as error:
        print(f"fixture-assets replay: {error}", file=sys.stderr)
        return EXIT_UNUSABLE
    except PyMongoError as error:
        where = mask_uri(mongo_uri) if mongo_uri else "the embedded SecantusDB"
        print(
            f"fixture-assets replay: MongoDB at {where} failed ({type(error).__name__}: {error}). "
            "Check that it runs and that MONGO_URI is right, or unset MONGO_URI to use the embedded SecantusDB.",
            file=sys.stderr,
        )
        return EXIT_UNUSABLE

    if not check:
        document = next(iter(reports.values())) if len(paths) == 1 and reports else reports
        json.dump(document, out, indent=2, sort_keys=True)
        out.write("\n")
    if unusable:
        return EXIT_UNUSABLE
    return EXIT_MISMATCH if mismatched else EXIT_OK


def _run_all(
    client: MongoClient, loaded: list[tuple[Path, ScenarioSource, dict[str, Any] | None]], check_out: TextIO | None
) -> tuple[dict[str, Any], bool]:
    reports: dict[str, Any] = {}
    mismatched = False
    for path, source, expect in loaded:
        database_name = f"fixture_assets_replay_{uuid.uuid4().hex[:12]}"
        database = client[database_name]
        try:
            ensure_indexes(database)
            run = run_scenario(source, database)
        finally:
            client.drop_database(database_name)
        for problem in run.failed_ticks:
            logger.warning("%s: %s", path, problem)
        if not run.discovered_dates:
            logger.warning(
                "%s: nothing to replay: no poll lists a fixture in a valid API response (an object with get, "
                "parameters, errors, results, paging and response, and no errors), so no fixture was discovered",
                path,
            )
        elif run.ticks == run.skipped_ticks and not run.report.get("final"):
            logger.warning("%s: nothing was stored: every tick failed or had nothing to poll", path)
        reports[str(path)] = run.report

        if expect is not None and check_out is not None:
            differences = compare_report(run.report, expect)
            mismatched = mismatched or bool(differences)
            verdict = "pass" if not differences else "FAIL " + "; ".join(differences)
            print(f"{path.name}: {verdict}", file=check_out, flush=True)
    return reports, mismatched


@contextmanager
def _mongo_client(mongo_uri: str | None) -> Iterator[MongoClient]:
    if mongo_uri:
        logger.info("replaying against %s", mask_uri(mongo_uri))
        client = connect(mongo_uri, timeout_ms=5_000)
        try:
            yield client
        finally:
            client.close()
        return

    with EmbeddedMongo(":memory:") as server:
        client = connect(server.uri)
        try:
            yield client
        finally:
            client.close()
