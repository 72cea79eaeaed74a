"""Parse ``response`` arrays with the core parser, and log what it skipped or did not know."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import Any

from fixture_assets.core.models import Fixture
from fixture_assets.core.parse import ParsedFixtures, parse_fixtures
from fixture_assets.core.status import KNOWN_STATUSES

logger = logging.getLogger(__name__)

# Event types seen in API-Football v3 responses. Others are kept as received.
KNOWN_EVENT_TYPES = frozenset({"Goal", "Card", "subst", "Var"})
# Items without a fixture id are logged one by one up to this many per
# response, and then in one line with their count, so a response full of
# junk cannot flood the log.
MAX_LOGGED_WITHOUT_ID = 5

# A fixture rejected for the same reason poll after poll is logged the first
# time, then at these counts, and after that every _REPEAT_LOG_EVERY-th time
# (once a day at one poll a minute), with the count.
_REPEAT_LOG_AT = frozenset({10, 60})
_REPEAT_LOG_EVERY = 1440

# Unknown codes are logged once per process, not on every poll.
_reported_codes: set[tuple[str, str]] = set()
# How often each fixture id (None for items without one) was rejected, by reason.
# A fixture that parses again is forgotten, so a new fault of it is logged at once.
_rejections: dict[int | None, dict[str, int]] = {}
_reported_lock = threading.Lock()


def parse_response_items(items: Any, *, request_line: str) -> ParsedFixtures:
    """Parse the ``response`` array of a fixtures response, skipping invalid fixtures.

    Each skipped fixture is logged with its id, and a repeat of the same
    rejection in later responses is counted. Unknown status codes and event
    types are kept in the fixtures and logged once each.
    """
    parsed = parse_fixtures(items)

    without_id = 0
    for rejection in parsed.rejected:
        if rejection.fixture_id is None:
            without_id += 1
            if without_id > MAX_LOGGED_WITHOUT_ID:
                continue
        _log_rejection(rejection.fixture_id, rejection.reason, request_line)
    if parsed.fixtures:
        with _reported_lock:
            for fixture in parsed.fixtures:
                _rejections.pop(fixture.id, None)
    if without_id > MAX_LOGGED_WITHOUT_ID:
        logger.warning(
            "skipped %d more items without a valid fixture id in the response to GET %s",
            without_id - MAX_LOGGED_WITHOUT_ID,
            request_line,
        )

    _report_unknown_codes(parsed.fixtures)
    return parsed


def _log_rejection(fixture_id: int | None, reason: str, request_line: str) -> None:
    with _reported_lock:
        reasons = _rejections.setdefault(fixture_id, {})
        count = reasons[reason] = reasons.get(reason, 0) + 1
    if count == 1:
        logger.warning("skipped fixture %s in the response to GET %s: %s", fixture_id, request_line, reason)
    elif count in _REPEAT_LOG_AT or count % _REPEAT_LOG_EVERY == 0:
        logger.warning(
            "skipped fixture %s in the response to GET %s: %s (rejected for this reason %d times)",
            fixture_id,
            request_line,
            reason,
            count,
        )


def _report_unknown_codes(fixtures: Iterable[Fixture]) -> None:
    for fixture in fixtures:
        if fixture.status.short not in KNOWN_STATUSES:
            _report_once("status code", fixture.status.short, fixture.id)
        for event in fixture.events or ():
            if event.type not in KNOWN_EVENT_TYPES:
                _report_once("event type", event.type, fixture.id)


def _report_once(kind: str, code: str, fixture_id: int) -> None:
    with _reported_lock:
        if (kind, code) in _reported_codes:
            return
        _reported_codes.add((kind, code))
    logger.warning("unknown %s %r in fixture %d, kept as received (logged once per process)", kind, code, fixture_id)
