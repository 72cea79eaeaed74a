"""A local HTTP server that replays API-Football responses, for tests, demos and benchmarks."""

from fixture_assets.replay.api_source import FixturesApiSource
from fixture_assets.replay.archive_source import ArchiveSource
from fixture_assets.replay.clock import VirtualClock
from fixture_assets.replay.demo_day import DemoDaySource
from fixture_assets.replay.faults import (
    DelayFault,
    ErrorsFault,
    Fault,
    MissingIdFault,
    StatusFault,
    TruncatedBodyFault,
)
from fixture_assets.replay.protocol import ApiRequest, ApiResponse, ReplayInputError, ReplaySource
from fixture_assets.replay.recorded_source import RecordedMatchSource
from fixture_assets.replay.scenario_source import ScenarioSource
from fixture_assets.replay.scripted_source import ScriptedDaySource
from fixture_assets.replay.server import ReplayServer, ServedRequest

__all__ = [
    "ApiRequest",
    "ApiResponse",
    "ArchiveSource",
    "DelayFault",
    "DemoDaySource",
    "ErrorsFault",
    "Fault",
    "FixturesApiSource",
    "MissingIdFault",
    "RecordedMatchSource",
    "ReplayInputError",
    "ReplayServer",
    "ReplaySource",
    "ScenarioSource",
    "ScriptedDaySource",
    "ServedRequest",
    "StatusFault",
    "TruncatedBodyFault",
    "VirtualClock",
]
