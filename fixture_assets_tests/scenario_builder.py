"""Build poll-by-poll scenarios in code, for API behaviours that the shared scenarios do not cover."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

KICKOFF = datetime(2024, 6, 1, 15, 0, tzinfo=UTC)
HOME, AWAY, FIXTURE = 100, 200, 5000


def goal(team: int, elapsed: int, extra: int | None = None, *, player: int | None = None, name: str | None = None,
         detail: str = "Normal Goal", event_type: str = "Goal", comments: str | None = None) -> dict[str, Any]:
    return {
        "time": {"elapsed": elapsed, "extra": extra},
        "team": {"id": team, "name": f"Team {team}"},
        "player": {"id": player, "name": name or (f"Player {player}" if player else None)},
        "assist": {"id": None, "name": None},
        "type": event_type,
        "detail": detail,
        "comments": comments,
    }


def fixture(status: str, elapsed: int | None, home: int | None, away: int | None, events: list[dict[str, Any]] | None,
            *, fixture_id: int = FIXTURE, date: str | None = None) -> dict[str, Any]:
    return {
        "fixture": {"id": fixture_id, "date": date or KICKOFF.isoformat(), "timestamp": int(KICKOFF.timestamp()),
                    "status": {"long": status, "short": status, "elapsed": elapsed, "extra": None}},
        "league": {"id": 39, "name": "League", "country": "Nowhere", "season": 2024, "round": "1"},
        "teams": {"home": {"id": HOME, "name": f"Team {HOME}"}, "away": {"id": AWAY, "name": f"Team {AWAY}"}},
        "goals": {"home": home, "away": away},
        "score": {},
        "events": events,
    }


def poll(minute: int, items: list[dict[str, Any]]) -> dict[str, Any]:
    """A successful poll ``minute`` match minutes after kick-off."""
    ids = "-".join(str(item["fixture"]["id"]) for item in items)
    body = {"get": "fixtures", "parameters": {"ids": ids}, "errors": [], "results": len(items),
            "paging": {"current": 1, "total": 1}, "response": items}
    return {"at": (KICKOFF + timedelta(minutes=minute, seconds=30)).isoformat(), "status": 200, "body": body}


def alert(team: int, elapsed: int, extra: int | None = None, *, fixture_id: int = FIXTURE) -> dict[str, Any]:
    return {"fixture_id": fixture_id, "team_id": team, "elapsed": elapsed, "extra": extra}


def cancelled(team: int, elapsed: int, extra: int | None = None) -> dict[str, Any]:
    return {**alert(team, elapsed, extra), "kind": "cancelled"}
