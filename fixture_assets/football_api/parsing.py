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

# Unknown codes are logged once per process, not on every poll.
_reported_codes: set[tuple[str, str]] = set()
_reported_lock = threading.Lock()


def parse_response_items(items: Any, *, request_line: str) -> ParsedFixtures:
    """Parse the ``response`` array of a fixtures response, skipping invalid fixtures.

    Each skipped fixture is logged with its id. Unknown status codes and event
    types are kept in the fixtures and logged once each.
    """
    parsed = parse_fixtures(items)

    for rejection in parsed.rejected:
        logger.warning(
            "skipped fixture %s in the response to GET %s: %s", rejection.fixture_id, request_line, rejection.reason
        )

    _report_unknown_codes(parsed.fixtures)
    return parsed


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
