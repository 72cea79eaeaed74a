"""Replay a raw archive folder: every archived response, at the virtual time it was received.

An ``ids=`` request at virtual time t gets, for each requested id, the last
archived ``ids=`` response at or before t whose request included that id.
When one of those responses failed, the latest failure is replayed exactly
as recorded. Otherwise each fixture is taken from its id's response, and a
fixture that this response lacked stays missing, as it was.
"""

from __future__ import annotations

import bisect
import logging
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from fixture_assets.football_api.archive import ARCHIVE_SUFFIX, archive_file_name, read_archive_file
from fixture_assets.replay.api_source import FixturesApiSource
from fixture_assets.replay.envelopes import DateQuery, select_ids, select_live
from fixture_assets.replay.protocol import ApiResponse, ReplayInputError
from fixture_assets.replay.scenario_source import RecordedPoll, parse_poll

logger = logging.getLogger(__name__)

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True, slots=True)
class ArchivedResponse:
    path: str
    params: dict[str, str]
    poll: RecordedPoll

    @property
    def at(self) -> datetime:
        return self.poll.at


class _Timeline:
    """Archived responses sorted by time, for "the last one at or before t" look-ups."""

    def __init__(self, responses: Iterable[ArchivedResponse]) -> None:
        self.responses = sorted(responses, key=lambda archived: archived.at)
        self._times = [archived.at for archived in self.responses]

    def latest(self, now: datetime) -> ArchivedResponse | None:
        index = bisect.bisect_right(self._times, now)
        return self.responses[index - 1] if index else None

    def first(self) -> ArchivedResponse | None:
        return self.responses[0] if self.responses else None


def archive_files(folder: Path, days: Sequence[str] | None = None) -> list[Path]:
    """Return the archive files to read, all of the folder's or those of ``days``.

    Only regular files inside ``folder`` are accepted: a name or a symbolic
    link that leads outside it raises ReplayInputError.
    """
    root = Path(folder)
    if not root.is_dir():
        raise ReplayInputError(f"the archive folder {root} does not exist or is not a folder")
    root = root.resolve()

    if days is None:
        candidates = sorted(root.glob(f"*{ARCHIVE_SUFFIX}"))
    else:
        candidates = [root / archive_file_name(_archive_day(day)) for day in days]

    files = []
    for candidate in candidates:
        resolved = candidate.resolve()
        if not resolved.is_relative_to(root):
            raise ReplayInputError(
                f"the archive file {candidate} leads to {resolved}, outside the archive folder {root}. "
                "Only files inside the folder are read, so copy the file into it"
            )
        if not resolved.is_file():
            raise ReplayInputError(f"the archive file {candidate} does not exist or is not a regular file")
        files.append(resolved)
    if not files:
        raise ReplayInputError(f"the archive folder {root} has no *{ARCHIVE_SUFFIX} files")
    return files


def _archive_day(day: str) -> date:
    if not isinstance(day, str) or not _DAY.match(day):
        raise ReplayInputError(f"archive day {day!r} is invalid: use YYYY-MM-DD")
    try:
        return date.fromisoformat(day)
    except ValueError:
        raise ReplayInputError(f"archive day {day!r} is not a calendar date") from None


def read_responses(files: Iterable[Path]) -> list[ArchivedResponse]:
    """Read every usable line of the files. Malformed lines are logged and skipped."""
    archived = []
    for file in files:
        for number, line in enumerate(read_archive_file(file), start=1):
            try:
                poll = parse_poll(line, f"{file.name} line {number}")
            except ReplayInputError as error:
                logger.warning("skipped an archived response: %s", error)
                continue
            path = line.get("path")
            params = line.get("params")
            if not isinstance(path, str) or not isinstance(params, dict):
                logger.warning("skipped %s line %d: it has no request path and params", file.name, number)
                continue
            archived.append(ArchivedResponse(path=path, params={str(k): str(v) for k, v in params.items()}, poll=poll))
    return archived


class ArchiveSource(FixturesApiSource):
    """Serves a raw archive folder at the server's virtual time."""

    def __init__(self, folder: Path, *, days: Sequence[str] | None = None) -> None:
        super().__init__()
        self.folder = Path(folder)
        responses = read_responses(archive_files(self.folder, days))
        if not responses:
            raise ReplayInputError(f"the archive folder {self.folder} has no readable archived responses")

        self._all = _Timeline(responses)
        self._by_id: dict[int, _Timeline] = {}
        self._by_date: dict[str, _Timeline] = {}
        self._live = _Timeline(r for r in responses if r.path == "/fixtures" and "live" in r.params)
        self._status = _Timeline(r for r in responses if r.path == "/status")
        self._index(responses)
        self.description = f"archive {self.folder} ({len(responses)} responses)"

    def _index(self, responses: list[ArchivedResponse]) -> None:
        by_id: dict[int, list[ArchivedResponse]] = defaultdict(list)
        by_date: dict[str, list[ArchivedResponse]] = defaultdict(list)
        for archived in responses:
            if archived.path != "/fixtures":
                continue
            if "ids" in archived.params:
                for part in archived.params["ids"].split("-"):
                    if part.isdigit():
                        by_id[int(part)].append(archived)
            elif "date" in archived.params:
                by_date[archived.params["date"]].append(archived)
        self._by_id = {fixture_id: _Timeline(found) for fixture_id, found in by_id.items()}
        self._by_date = {day: _Timeline(found) for day, found in by_date.items()}

    def initial_time(self) -> datetime:
        first = self._all.first()
        assert first is not None  # the constructor rejects an empty archive
        return first.at

    def fixtures_by_ids(self, ids: list[int], params: Mapping[str, str], now: datetime) -> ApiResponse:
        sources: dict[int, ArchivedResponse] = {}
        for fixture_id in ids:
            timeline = self._by_id.get(fixture_id)
            archived = timeline.latest(now) if timeline is not None else None
            if archived is not None:
                sources[fixture_id] = archived
        if not sources:
            return self.ok(params, [], now)

        failed = [archived for archived in sources.values() if not archived.poll.succeeded]
        if failed:
            return max(failed, key=lambda archived: archived.at).poll.as_recorded()

        items = []
        for fixture_id, archived in sources.items():
            items.extend(select_ids(archived.poll.body["response"], [fixture_id]))
        newest = max(sources.values(), key=lambda archived: archived.at)
        return newest.poll.filtered(items, params)

    def fixtures_by_date(self, query: DateQuery, params: Mapping[str, str], now: datetime) -> ApiResponse:
        timeline = self._by_date.get(query.date)
        # A request made before the first archived date= response still gets that response.
        archived = (timeline.latest(now) or timeline.first()) if timeline is not None else None
        if archived is None:
            return self.ok(params, [], now)
        if not archived.poll.succeeded:
            return archived.poll.as_recorded()
        return archived.poll.filtered(query.select(archived.poll.body["response"]), params)

    def live_fixtures(self, leagues: frozenset[int] | None, params: Mapping[str, str], now: datetime) -> ApiResponse:
        archived = self._live.latest(now)
        if archived is None:
            return self.ok(params, [], now)
        if not archived.poll.succeeded:
            return archived.poll.as_recorded()
        return archived.poll.filtered(select_live(archived.poll.body["response"], leagues), params)

    def account_status(self, now: datetime) -> ApiResponse:
        archived = self._status.latest(now)
        if archived is None:
            return super().account_status(now)
        return archived.poll.as_recorded()
