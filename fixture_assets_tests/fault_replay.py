"""Drive the real minute sensor through a scenario, one evaluation per poll, at the poll's time.

``fixture_poll_sensor`` reads the time with ``datetime.now``. ``MinuteSensorReplay``
replaces that clock in the sensor module with the replay's virtual time, and
sets the replay server's clock to the same time, so the sensor polls each
recorded response as the daemon would have polled it live. The cursor is
carried from one evaluation to the next, as the daemon carries it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from types import TracebackType
from typing import Any
from unittest import mock

from dagster import DagsterInstance, SensorResult, build_sensor_context, instance_for_test

from fixture_assets.defs.fixtures import sensors as minute_sensor_module
from fixture_assets.defs.fixtures.resources import FootballApiResource, PollingResource
from fixture_assets.defs.resources import MongoResource
from fixture_assets.discovery import DiscoveryFilter, discover_match_date
from fixture_assets.football_api import ApiClientSettings, FootballApiClient
from fixture_assets.observe import PollSettings
from fixture_assets.replay.clock import VirtualClock
from fixture_assets.replay.runner import _discovery_dates
from fixture_assets.replay.scenario_source import ScenarioSource
from fixture_assets.replay.server import ReplayServer
from fixture_assets.store.fixtures import FixtureStore


class _RecordList(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class MinuteSensorReplay:
    """A replay server, a Dagster instance and a patched clock around ``fixture_poll_sensor``.

    Use it as a context manager. ``evaluate`` runs one sensor evaluation at a
    virtual time and returns its result; ``discover`` stores the scenario's
    fixtures as the first discovery run would. ``records`` collects what the
    sensor logged through ``context.log``, which Dagster does not pass on to
    Python's root logger.
    """

    def __init__(
        self,
        source: ScenarioSource,
        mongo: MongoResource,
        *,
        polling: PollingResource | None = None,
        api_key: str | None = None,
        read_timeout_s: float = 10.0,
        expected_api_key: str | None = None,
    ) -> None:
        self.source = source
        self.mongo = mongo
        self.polling = polling or PollingResource()
        self.api_key = api_key
        self.read_timeout_s = read_timeout_s
        self.clock = VirtualClock(source.initial_time(), speed=0)
        self.server = ReplayServer(source, clock=self.clock, expected_api_key=expected_api_key)
        self.cursor: str | None = None
        self.now = source.initial_time()
        self.instance: DagsterInstance | None = None
        self._log = _RecordList()
        self._stack = ExitStack()

    def __enter__(self) -> MinuteSensorReplay:
        self._stack.enter_context(self.server)
        self.instance = self._stack.enter_context(instance_for_test())
        replay = self

        class _VirtualDatetime(datetime):
            @classmethod
            def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
                return replay.now if tz is None else replay.now.astimezone(tz)

        self._stack.enter_context(mock.patch.object(minute_sensor_module, "datetime", _VirtualDatetime))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stack.close()

    @property
    def football_api(self) -> FootballApiResource:
        return FootballApiResource(base_url=self.server.url, api_key=self.api_key, read_timeout_s=self.read_timeout_s)

    def discover(self) -> None:
        """Store the scenario's fixtures as the first discovery of their dates does."""
        at = self.source.polls[0].at
        self.clock.set(at)
        settings = ApiClientSettings(base_url=self.server.url, api_key=self.api_key, retry_delay_s=0.01)
        store = FixtureStore(self.mongo.get_database())
        with FootballApiClient(settings) as client:
            for match_date in _discovery_dates(self.source):
                discover_match_date(store, client, match_date, DiscoveryFilter(), PollSettings(), at)

    def evaluate(self, at: datetime, *, polling: PollingResource | None = None) -> SensorResult:
        """Run one evaluation of the minute sensor at virtual time ``at`` and keep its cursor."""
        assert self.instance is not None, "use MinuteSensorReplay as a context manager"
        self.now = at.astimezone(UTC)
        self.clock.set(at)
        context = build_sensor_context(
            instance=self.instance,
            cursor=self.cursor,
            resources={"mongo": self.mongo, "football_api": self.football_api, "polling": polling or self.polling},
        )
        context.log.addHandler(self._log)
        result = minute_sensor_module.fixture_poll_sensor(context)
        assert isinstance(result, SensorResult)
        self.cursor = result.cursor
        return result

    def polls(self) -> Iterator[tuple[int, datetime]]:
        return ((index, poll.at) for index, poll in enumerate(self.source.polls))

    @property
    def records(self) -> list[logging.LogRecord]:
        return self._log.records

    def lines(self, level: int) -> list[str]:
        """Return the messages logged through ``context.log`` at ``level``, oldest first."""
        return [record.getMessage() for record in self._log.records if record.levelno == level]

    def clear_lines(self) -> None:
        self._log.records.clear()


def skip_message(result: SensorResult) -> str:
    """Return the result's skip reason as text, or "" when the evaluation did not skip."""
    return result.skip_reason.skip_message or "" if result.skip_reason is not None else ""
