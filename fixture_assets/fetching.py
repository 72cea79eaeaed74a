"""Fetch the tracked fixtures, with the API requests overlapping the MongoDB read.

A tick starts fetching the fixtures the previous tick expected to track
while MongoDB returns the fixtures tracked now, and then fetches the
few it did not expect. In the steady state of a match day the two sets are
equal, so the read costs no time on top of the fetch.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from fixture_assets.football_api import FootballApiClient, IdsBatch, MissingFixturesError
from fixture_assets.store.fixtures import LoadedFixtures


def fetch_while_loading(
    client: FootballApiClient,
    load: Callable[[], LoadedFixtures],
    expected_ids: Sequence[int],
    missing_ids: Sequence[int],
    skipped_ids: Collection[int] = (),
) -> tuple[LoadedFixtures, IdsBatch]:
    """Run ``load`` while fetching ``expected_ids``; return the load and the fetch of the loaded ids.

    Fixtures fetched but no longer tracked are dropped from the batch, so a
    wrong expectation costs requests, never a wrong write. ``skipped_ids``
    are not fetched this time; they keep their stored state.
    """
    expected = [fixture_id for fixture_id in expected_ids if fixture_id not in skipped_ids]
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="tick-fetch") as executor:
        early: Future[IdsBatch] | None = None
        if expected:
            early = executor.submit(fetch_fixtures, client, expected, missing_ids)
        loaded = load()
        batch = early.result() if early else empty_batch()

    tracked = set(loaded.by_id)
    unexpected = [
        fixture_id for fixture_id in sorted(tracked) if fixture_id not in set(expected) and fixture_id not in skipped_ids
    ]
    if unexpected:
        merge_batch(batch, fetch_fixtures(client, unexpected, missing_ids))
    batch.fixtures = [fixture for fixture in batch.fixtures if fixture.id in tracked]
    return loaded, batch


def fetch_fixtures(client: FootballApiClient, fixture_ids: Sequence[int], missing_ids: Sequence[int]) -> IdsBatch:
    """Fetch fixtures, with the ids that a recent response lacked in requests of their own.

    One missing id fails its whole chunk, so it is isolated: it cannot keep
    the 19 fixtures that shared its chunk from being polled.
    """
    previously_missing = set(missing_ids)
    regular = [fixture_id for fixture_id in fixture_ids if fixture_id not in previously_missing]
    batch = client.fixtures_by_ids(regular) if regular else empty_batch()
    for fixture_id in fixture_ids:
        if fixture_id in previously_missing:
            merge_batch(batch, client.fixtures_by_ids([fixture_id]))
    return batch


def still_missing(batch: IdsBatch, missing_ids: Sequence[int]) -> tuple[int, ...]:
    """Return the ids to isolate next tick: newly missing ones, and isolated ones still absent from the responses."""
    missing = {
        fixture_id
        for failure in batch.failures
        if isinstance(failure.error, MissingFixturesError)
        for fixture_id in failure.error.missing_ids
    }
    answered = {fixture.id for fixture in batch.fixtures}
    return tuple(sorted(missing | (set(missing_ids) - answered)))


def empty_batch() -> IdsBatch:
    return IdsBatch(fixtures=[], rejected=[], failures=[], quota=None, requests=0)


def merge_batch(into: IdsBatch, other: IdsBatch) -> None:
    into.fixtures += other.fixtures
    into.rejected += other.rejected
    into.failures += other.failures
    into.requests += other.requests
    into.quota = other.quota or into.quota
