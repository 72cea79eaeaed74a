"""Fixture status classes, the collection each class lives in, and status order."""

from __future__ import annotations

from enum import StrEnum


class StatusClass(StrEnum):
    """Where a fixture lives; the value is its MongoDB collection name."""

    STAGED = "staged_fixtures"
    LIVE = "live_fixtures"
    COMPLETED = "completed_fixtures"


STAGED_STATUSES = frozenset({"TBD", "NS", "PST"})
LIVE_STATUSES = frozenset({"1H", "HT", "2H", "ET", "BT", "P", "SUSP", "INT", "LIVE"})
COMPLETED_STATUSES = frozenset({"FT", "AET", "PEN", "CANC", "ABD", "AWD", "WO"})
KNOWN_STATUSES = STAGED_STATUSES | LIVE_STATUSES | COMPLETED_STATUSES

# Statuses whose kick-off time is firm enough to poll every minute once it has
# passed. TBD and PST fixtures are only refreshed at the staged cadence.
SCHEDULED_STATUSES = frozenset({"NS"})

# Order of the in-play phases. SUSP, INT and LIVE carry no phase, so moves into
# and out of them are accepted as long as the fixture stays in play.
_LIVE_PHASE_RANK = {"1H": 1, "HT": 2, "2H": 3, "ET": 4, "BT": 5, "P": 6}
_CLASS_RANK = {StatusClass.STAGED: 0, StatusClass.LIVE: 1, StatusClass.COMPLETED: 2}


def status_class(short: str) -> StatusClass | None:
    """Return the class of a status code, or None for a code the API never documented."""
    if short in STAGED_STATUSES:
        return StatusClass.STAGED
    if short in LIVE_STATUSES:
        return StatusClass.LIVE
    if short in COMPLETED_STATUSES:
        return StatusClass.COMPLETED
    return None


def is_backwards(stored: str, received: str) -> bool:
    """Return True if moving from ``stored`` to ``received`` goes back in the match.

    Moves within the staged class (NS to PST and back) and within the
    completed class (FT corrected to AET) are not backwards. Unknown codes are
    never treated as backwards, so they cannot freeze a fixture.
    """
    stored_class = status_class(stored)
    received_class = status_class(received)
    if stored_class is None or received_class is None:
        return False
    if _CLASS_RANK[received_class] != _CLASS_RANK[stored_class]:
        return _CLASS_RANK[received_class] < _CLASS_RANK[stored_class]

    stored_phase = _LIVE_PHASE_RANK.get(stored)
    received_phase = _LIVE_PHASE_RANK.get(received)
    if stored_phase is None or received_phase is None:
        return False
    return received_phase < stored_phase
