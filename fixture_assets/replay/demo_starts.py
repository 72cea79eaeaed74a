"""The demo days that ``make dev`` started on one data folder, kept across restarts.

A restart while a demo day still plays resumes that day: its fixtures keep
their ids and their real-time schedule. A start after the day has ended
plays a new day under new fixture ids. The server also keeps serving the
recent earlier days, so that their fixtures stopped mid-match by a Ctrl-C
can reach their final status instead of staying live in MongoDB.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fixture_assets.replay.demo_day import DemoDaySource
from fixture_assets.replay.scripted_fixture import FixtureMode
from fixture_assets.replay.scripted_source import ScriptedDaySource

logger = logging.getLogger(__name__)

# The record's file name in the dev stack's data folder.
DEMO_STARTS_FILE = "demo_days.json"
# Earlier days served beside the current one. One is enough unless the
# stack was stopped again within a minute of starting.
_EARLIER_DAYS_SERVED = 2


@dataclass(frozen=True, slots=True)
class DemoStart:
    """One demo day: when it started, its fixture id offset and its pace."""

    started_at: datetime
    fixture_id_offset: int
    minute_seconds: float
    kickoff_delay_minutes: float

    def source(self) -> DemoDaySource:
        return DemoDaySource(
            started_at=self.started_at,
            minute_seconds=self.minute_seconds,
            kickoff_delay_minutes=self.kickoff_delay_minutes,
            fixture_id_offset=self.fixture_id_offset,
        )

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "started_at": self.started_at.isoformat()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DemoStart:
        started_at = datetime.fromisoformat(data["started_at"])
        if started_at.tzinfo is None:
            raise ValueError(f"started_at {data['started_at']!r} has no UTC offset")
        return cls(
            started_at=started_at.astimezone(UTC),
            fixture_id_offset=int(data["fixture_id_offset"]),
            minute_seconds=float(data["minute_seconds"]),
            kickoff_delay_minutes=float(data["kickoff_delay_minutes"]),
        )


@dataclass(frozen=True, slots=True)
class DemoPlan:
    """What the replay server serves for one start of the dev stack."""

    source: ScriptedDaySource
    current: DemoStart
    # The current day alone, with its kick-off times.
    current_source: DemoDaySource
    # True when a day that was still playing continues under its fixture ids.
    resumed: bool
    # The UTC dates of the current day's fixtures, to discover.
    match_dates: tuple[str, ...]


def demo_ends_at(source: DemoDaySource) -> datetime:
    """Return when the last fixture of the demo day reaches its final status."""
    ends = [
        fixture.time_at_clock(fixture.timeline.end)
        for fixture in source.fixtures()
        if fixture.mode is FixtureMode.LIVE and math.isfinite(fixture.timeline.end)
    ]
    return max(ends, default=source.started_at)


def plan_demo(path: Path, now: datetime, minute_seconds: float, kickoff_delay_minutes: float, new_offset: int) -> DemoPlan:
    """Resume the last demo day in ``path`` if it still plays at this pace, or else start a new one, and save the record."""
    starts = read_demo_starts(path)
    last = starts[-1] if starts else None
    last_source = last.source() if last is not None else None
    same_pace = last is not None and (last.minute_seconds, last.kickoff_delay_minutes) == (minute_seconds, kickoff_delay_minutes)
    resumed = last_source is not None and same_pace and now < demo_ends_at(last_source)

    if resumed:
        assert last is not None and last_source is not None
        current, current_source = last, last_source
    else:
        current = DemoStart(now, new_offset, minute_seconds, kickoff_delay_minutes)
        current_source = current.source()
        starts = [*starts, current]
    starts = starts[-(_EARLIER_DAYS_SERVED + 1) :]
    write_demo_starts(path, starts)

    fixtures = {fixture.id: fixture for start in starts[:-1] for fixture in start.source().fixtures()}
    # The current day's fixtures win over an earlier day's with the same id.
    fixtures.update({fixture.id: fixture for fixture in current_source.fixtures()})
    source = ScriptedDaySource(fixtures.values(), started_at=current.started_at, description=current_source.description)
    match_dates = tuple(sorted({fixture.kickoff.strftime("%Y-%m-%d") for fixture in current_source.fixtures()}))
    return DemoPlan(source, current, current_source, resumed, match_dates)


def read_demo_starts(path: Path) -> list[DemoStart]:
    """Read the saved demo days, oldest first. A missing or damaged file counts as none."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return [DemoStart.from_json(item) for item in data["starts"]]
    except FileNotFoundError:
        return []
    except (OSError, ValueError, KeyError, TypeError) as error:
        logger.warning("ignoring the demo day record %s, which cannot be read (%s); a new demo day starts", path, error)
        return []


def write_demo_starts(path: Path, starts: list[DemoStart]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps({"starts": [start.to_json() for start in starts]}, indent=2), encoding="utf-8")
    # A rename is atomic, so a crash mid-write leaves the previous record.
    temporary.replace(path)
