"""The one HTTP client for API-Football v3: ``/fixtures`` by date or ids, and ``/status``.

A sync ``httpx.Client`` shares its connection pool between threads, and a
thread pool of ``max_in_flight`` workers fetches ``ids=`` chunks concurrently,
because the Dagster sensor that calls this is sync.
"""

from __future__ import annotations

import logging
import random
import re
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from datetime import date as calendar_date
from types import TracebackType
from typing import Any

import httpx

from fixture_assets.core.models import Fixture
from fixture_assets.core.parse import InvalidFixtureError, ParsedFixtures
from fixture_assets.football_api.archive import RawArchive, archive_line
from fixture_assets.football_api.errors import (
    ApiTimeoutError,
    AuthenticationError,
    DailyQuotaExhaustedError,
    FootballApiError,
    MissingFixturesError,
    RateLimitError,
    ServerError,
)
from fixture_assets.football_api.parsing import parse_response_items
from fixture_assets.football_api.quota import LowQuotaWarning, Quota, parse_quota
from fixture_assets.football_api.responses import decode_envelope
from fixture_assets.football_api.results import (
    AccountStatus,
    ChunkFailure,
    FixturesPage,
    IdsBatch,
    parse_account_status,
)
from fixture_assets.football_api.settings import ApiClientSettings

__all__ = [
    "AccountStatus",
    "ApiClientSettings",
    "ChunkFailure",
    "FixturesPage",
    "FootballApiClient",
    "IdsBatch",
    "MAX_IDS_PER_REQUEST",
    "Quota",
]

logger = logging.getLogger(__name__)

# API-Football returns no fixtures at all for an ``ids=`` request of more than 20 ids.
MAX_IDS_PER_REQUEST = 20

# Errors that hold for the whole account, so the chunks not yet sent would fail the same way.
_ACCOUNT_ERRORS = (AuthenticationError, DailyQuotaExhaustedError, RateLimitError)
_DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass
class _Tally:
    """Requests sent and the latest quota seen by one call or one chunk."""

    requests: int = 0
    quota: Quota | None = None


@dataclass
class _ChunkResult:
    ids: tuple[int, ...]
    tally: _Tally
    fixtures: list[Fixture] = field(default_factory=list)
    rejected: list[InvalidFixtureError] = field(default_factory=list)
    failure: ChunkFailure | None = None


class _AccountErrorLatch:
    """The first account-wide error of an ``ids=`` call. Chunks not sent yet are skipped after it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.error: FootballApiError | None = None

    def set(self, error: FootballApiError) -> None:
        with self._lock:
            if self.error is None:
                self.error = error


class FootballApiClient:
    """Client for API-Football v3. It is thread-safe. Close it, or use it as a context manager."""

    def __init__(self, settings: ApiClientSettings) -> None:
        self.settings = settings
        self._http = httpx.Client(
            base_url=settings.base_url,
            headers={**settings.auth_headers(), "accept": "application/json"},
            timeout=httpx.Timeout(settings.read_timeout_s, connect=settings.connect_timeout_s),
            # One spare connection lets an account_status call run beside a full set of chunks.
            limits=httpx.Limits(
                max_connections=settings.max_in_flight + 1,
                max_keepalive_connections=settings.max_in_flight + 1,
            ),
            follow_redirects=False,
        )
        self._executor: ThreadPoolExecutor | None = None
        self._executor_lock = threading.Lock()
        self._archive = RawArchive(settings.archive_dir) if settings.archive_dir is not None else None
        self._low_quota = LowQuotaWarning(settings.quota_warning_floor)
        self._requests_made = 0
        self._counter_lock = threading.Lock()
        logger.debug(
            "API-Football client created for %s (%s auth, %d in flight)",
            settings.base_url,
            settings.auth_mode,
            settings.max_in_flight,
        )

    @property
    def requests_made(self) -> int:
        """HTTP requests sent since the client was created, retries included."""
        with self._counter_lock:
            return self._requests_made

    def fixtures_by_date(
        self,
        date: str,
        *,
        league: int | None = None,
        season: int | None = None,
        team: int | None = None,
        timezone: str = "UTC",
    ) -> FixturesPage:
        """Fetch the fixtures of one day, ``GET /fixtures?date=YYYY-MM-DD``. Raises FootballApiError."""
        params = {"date": _validated_date(date)}
        for name, value in (("league", league), ("season", season), ("team", team)):
            if value is not None:
                params[name] = str(_validated_id(value, name))
        params["timezone"] = _validated_timezone(timezone)

        tally = _Tally()
        envelope = self._get("/fixtures", params, tally)
        parsed = parse_response_items(envelope["response"], request_line=_request_line("/fixtures", params))
        return FixturesPage(
            fixtures=parsed.fixtures, rejected=parsed.rejected, quota=tally.quota, requests=tally.requests
        )

    def fixtures_by_ids(self, ids: Sequence[int]) -> IdsBatch:
        """Fetch fixtures with their events, ``GET /fixtures?ids=``, in chunks of at most 20 ids.

        Duplicate ids are fetched once. Chunks run concurrently, at most
        ``max_in_flight`` at a time. A chunk that fails, or whose response lacks
        a requested fixture, is reported in ``failures`` and none of its
        fixtures are used. After an account-wide error (bad key or plan,
        daily quota, rate limit) the chunks not yet sent fail with it unsent.
        Raises ValueError for an id that is not a positive integer.
        """
        unique_ids = _unique_ids(ids)
        chunks = [
            tuple(unique_ids[start : start + MAX_IDS_PER_REQUEST])
            for start in range(0, len(unique_ids), MAX_IDS_PER_REQUEST)
        ]
        latch = _AccountErrorLatch()

        if len(chunks) <= 1:
            # One chunk runs on the caller's thread: a pool hop would only add latency.
            results = [self._fetch_chunk(chunk, latch) for chunk in chunks]
        else:
            results = list(self._chunk_executor().map(lambda chunk: self._fetch_chunk(chunk, latch), chunks))

        return _merge_chunks(results)

    def account_status(self) -> AccountStatus:
        """Fetch the subscription and today's request count, ``GET /status``. Raises FootballApiError."""
        tally = _Tally()
        envelope = self._get("/status", {}, tally)
        return parse_account_status(envelope["response"], tally.quota)

    def close(self) -> None:
        """Close the connections and stop the chunk threads."""
        with self._executor_lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)
        self._http.close()
        logger.debug("API-Football client for %s closed", self.settings.base_url)

    def __enter__(self) -> FootballApiClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _chunk_executor(self) -> ThreadPoolExecutor:
        with self._executor_lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(
                    max_workers=self.settings.max_in_flight, thread_name_prefix="football-api"
                )
            return self._executor

    def _fetch_chunk(self, chunk: tuple[int, ...], latch: _AccountErrorLatch) -> _ChunkResult:
        params = {"ids": "-".join(str(fixture_id) for fixture_id in chunk)}
        result = _ChunkResult(ids=chunk, tally=_Tally())

        if latch.error is not None:
            result.failure = ChunkFailure(chunk, _unsent_error(latch.error, params))
            return result

        try:
            envelope = self._get("/fixtures", params, result.tally)
            parsed = parse_response_items(envelope["response"], request_line=_request_line("/fixtures", params))
            result.fixtures = _requested_fixtures(chunk, parsed, params, result.tally.quota)
            result.rejected = parsed.rejected
        except FootballApiError as error:
            if isinstance(error, _ACCOUNT_ERRORS):
                latch.set(error)
            # The caller gets the failure and logs it once, with what it does next.
            logger.debug("chunk of %d fixture ids failed: %s", len(chunk), error)
            result.failure = ChunkFailure(chunk, error)
        return result

    def _get(self, path: str, params: Mapping[str, str], tally: _Tally) -> dict[str, Any]:
        """Send one GET and return its envelope, retrying a ServerError once after a jittered delay."""
        try:
            return self._send(path, params, tally)
        except ServerError as error:
            delay = random.uniform(0.5, 1.5) * self.settings.retry_delay_s
            logger.warning(
                "retrying GET %s in %.2f s after a server error: %s", error.request_line, delay, error.detail
            )
            time.sleep(delay)
        return self._send(path, params, tally)

    def _send(self, path: str, params: Mapping[str, str], tally: _Tally) -> dict[str, Any]:
        with self._counter_lock:
            self._requests_made += 1
        tally.requests += 1

        started = time.monotonic()
        try:
            response = self._http.get(path, params=params)
        except httpx.TimeoutException as error:
            raise ApiTimeoutError(self._timeout_detail(error), path=path, params=params) from error
        except httpx.TransportError as error:
            raise ServerError(
                f"the connection to {self.settings.base_url} failed ({type(error).__name__}: {error})",
                path=path,
                params=params,
            ) from error

        quota = parse_quota(response.headers)
        if quota is not None:
            tally.quota = quota
        self._low_quota.observe(quota)
        self._archive_response(path, params, response)
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "GET %s: HTTP %d, %d bytes in %.0f ms",
                _request_line(path, params),
                response.status_code,
                len(response.content),
                (time.monotonic() - started) * 1000,
            )
        return decode_envelope(
            response.status_code,
            response.content,
            path=path,
            params=params,
            quota=quota,
            secret=self.settings.api_key,
        )

    def _timeout_detail(self, error: httpx.TimeoutException) -> str:
        if isinstance(error, httpx.ConnectTimeout):
            return f"connecting to {self.settings.base_url} timed out after {self.settings.connect_timeout_s} s"
        if isinstance(error, httpx.PoolTimeout):
            return f"no free connection in the pool within {self.settings.read_timeout_s} s"
        return f"no response within the read timeout of {self.settings.read_timeout_s} s"

    def _archive_response(self, path: str, params: Mapping[str, str], response: httpx.Response) -> None:
        if self._archive is None:
            return
        line = archive_line(
            at=datetime.now(UTC),
            path=path,
            params=params,
            status=response.status_code,
            headers=_original_case_headers(response.headers),
            content=response.content,
        )
        try:
            self._archive.append(line)
        except OSError as error:
            # Losing an archive line must not lose the poll.
            logger.error("could not append GET %s to the raw archive in %s: %s", path, self._archive.folder, error)


def _merge_chunks(results: list[_ChunkResult]) -> IdsBatch:
    batch = IdsBatch()
    for result in results:
        batch.requests += result.tally.requests
        if result.tally.quota is not None:
            batch.quota = result.tally.quota
        if result.failure is not None:
            batch.failures.append(result.failure)
            continue
        batch.fixtures.extend(result.fixtures)
        batch.rejected.extend(result.rejected)
    return batch


def _requested_fixtures(
    chunk: tuple[int, ...], parsed: ParsedFixtures, params: Mapping[str, str], quota: Quota | None
) -> list[Fixture]:
    """Return each requested fixture once, or raise MissingFixturesError if one is absent.

    A fixture that is present but invalid counts as present: it is in
    ``parsed.rejected`` and logged, and the rest of the chunk is used.
    """
    present = {fixture.id for fixture in parsed.fixtures}
    present.update(rejection.fixture_id for rejection in parsed.rejected if rejection.fixture_id is not None)
    missing = tuple(fixture_id for fixture_id in chunk if fixture_id not in present)
    if missing:
        raise MissingFixturesError(missing, path="/fixtures", params=params, status_code=200, quota=quota)

    requested = set(chunk)
    seen: set[int] = set()
    fixtures: list[Fixture] = []
    for fixture in parsed.fixtures:
        if fixture.id not in requested:
            logger.warning("ignored fixture %d in the response to GET /fixtures: it was not requested", fixture.id)
        elif fixture.id in seen:
            logger.warning("ignored a second copy of fixture %d in the response to GET /fixtures", fixture.id)
        else:
            seen.add(fixture.id)
            fixtures.append(fixture)
    return fixtures


def _unsent_error(cause: FootballApiError, params: Mapping[str, str]) -> FootballApiError:
    return type(cause)(
        f"not sent, because another chunk of the same call failed with: {cause.detail}",
        path=cause.path,
        params=params,
        status_code=None,
        quota=cause.quota,
    )


def _unique_ids(ids: Sequence[int]) -> list[int]:
    if isinstance(ids, (str, bytes)):
        raise ValueError(f"ids must be a sequence of fixture ids, got the string {ids[:40]!r}")
    unique: dict[int, None] = {}
    for value in ids:
        unique[_validated_id(value, "fixture id")] = None
    return list(unique)


def _validated_id(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name} {value!r} is invalid: API-Football ids are positive integers")
    return value


def _validated_date(value: str) -> str:
    if not isinstance(value, str) or not _DATE_PATTERN.match(value):
        raise ValueError(f"date {value!r} is invalid: use YYYY-MM-DD, for example 2024-05-25")
    try:
        calendar_date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"date {value!r} is not a calendar date: use YYYY-MM-DD, for example 2024-05-25") from None
    return value


def _validated_timezone(value: str) -> str:
    if not isinstance(value, str) or not value or any(character.isspace() for character in value):
        raise ValueError(f"timezone {value!r} is invalid: use an IANA name such as 'UTC' or 'Europe/London'")
    return value


def _request_line(path: str, params: Mapping[str, str]) -> str:
    query = "&".join(f"{name}={value}" for name, value in params.items())
    return f"{path}?{query}" if query else path


def _original_case_headers(headers: httpx.Headers) -> dict[str, str]:
    """Return the response headers with the names spelled as the server sent them."""
    merged: dict[str, str] = {}
    for raw_name, raw_value in headers.raw:
        name = raw_name.decode("latin-1")
        value = raw_value.decode("latin-1")
        merged[name] = f"{merged[name]}, {value}" if name in merged else value
    return merged
