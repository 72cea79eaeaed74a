"""Synthetic ``lineups``, ``statistics`` and ``players`` blocks of an ``ids=`` fixture item.

API-Football returns these three blocks inline in every ``ids=`` item, and
together they are most of its size: in a recorded Champions League item
(compact JSON, 45 KB) they take 36 KB, ``players`` alone 30 KB. The
pipeline parses none of them, but the client still downloads and decodes
them. The blocks built here have the API's keys and shapes, 22 players per
team, and take 35 KB per item.

The player lists come from a small pool shared by all fixtures, so that
1,000 fixtures do not cost the replay server hundreds of MB. Only the team
blocks are per fixture.
"""

from __future__ import annotations

import random
from typing import Any

PLAYERS_PER_TEAM = 22
STARTERS = 11
_POOL_SIZE = 16
_FORMATIONS = ("4-4-2", "4-3-3", "3-5-2", "4-2-3-1", "5-3-2")
_POSITIONS = ("G", "D", "D", "D", "D", "M", "M", "M", "M", "F", "F")
_STATISTIC_TYPES = (
    "Shots on Goal",
    "Shots off Goal",
    "Total Shots",
    "Blocked Shots",
    "Shots insidebox",
    "Shots outsidebox",
    "Fouls",
    "Corner Kicks",
    "Offsides",
    "Ball Possession",
    "Yellow Cards",
    "Red Cards",
    "Goalkeeper Saves",
    "Total passes",
    "Passes accurate",
    "Passes %",
    "expected_goals",
)


class MatchDetailsPool:
    """Builds the three blocks for a fixture's two teams from a seeded pool of squads."""

    def __init__(self, seed: int) -> None:
        rng = random.Random(seed * 31 + 7)
        self._squads = [_squad(rng, pool_index) for pool_index in range(_POOL_SIZE)]
        self._statistics = [_team_statistics(rng) for _ in range(_POOL_SIZE)]

    def blocks(self, fixture_index: int, home: dict[str, Any], away: dict[str, Any]) -> dict[str, Any]:
        """Return ``lineups``, ``statistics`` and ``players`` for one fixture."""
        sides = []
        for offset, team in enumerate((home, away)):
            pool_index = (2 * fixture_index + offset) % _POOL_SIZE
            sides.append((_team_block(team), self._squads[pool_index], self._statistics[pool_index]))
        return {
            "lineups": [
                {
                    "team": {**team_block, "colors": _COLORS},
                    "coach": squad["coach"],
                    "formation": squad["formation"],
                    "startXI": squad["start_xi"],
                    "substitutes": squad["substitutes"],
                }
                for team_block, squad, _ in sides
            ],
            "statistics": [{"team": team_block, "statistics": statistics} for team_block, _, statistics in sides],
            "players": [{"team": {**team_block, "update": "2025-05-17T20:00:00+00:00"}, "players": squad["players"]} for team_block, squad, _ in sides],
        }


_COLORS = {
    "player": {"primary": "f00000", "number": "ffffff", "border": "f00000"},
    "goalkeeper": {"primary": "000000", "number": "ffffff", "border": "000000"},
}


def _team_block(team: dict[str, Any]) -> dict[str, Any]:
    return {"id": team["id"], "name": team["name"], "logo": team["logo"]}


def _squad(rng: random.Random, pool_index: int) -> dict[str, Any]:
    people = [
        {"id": 700_000 + pool_index * 100 + number, "name": f"P. Player{pool_index}-{number}", "number": number}
        for number in range(1, PLAYERS_PER_TEAM + 1)
    ]
    lineup = [
        {"player": {**person, "pos": _POSITIONS[index] if index < STARTERS else rng.choice("DMF"), "grid": f"{index % 4 + 1}:{index % 3 + 1}" if index < STARTERS else None}}
        for index, person in enumerate(people)
    ]
    return {
        "coach": {"id": 9_000 + pool_index, "name": f"C. Coach{pool_index}", "photo": f"https://media.api-sports.io/football/coachs/{9_000 + pool_index}.png"},
        "formation": rng.choice(_FORMATIONS),
        "start_xi": lineup[:STARTERS],
        "substitutes": lineup[STARTERS:],
        "players": [_player_statistics(rng, person, index) for index, person in enumerate(people)],
    }


def _player_statistics(rng: random.Random, person: dict[str, Any], index: int) -> dict[str, Any]:
    played = index < STARTERS or rng.random() < 0.4

    def count(high: int) -> int | None:
        return rng.randint(1, high) if played and rng.random() < 0.6 else None

    return {
        "player": {"id": person["id"], "name": person["name"], "photo": f"https://media.api-sports.io/football/players/{person['id']}.png"},
        "statistics": [
            {
                "games": {
                    "minutes": rng.randint(1, 90) if played else None,
                    "number": person["number"],
                    "position": _POSITIONS[index] if index < STARTERS else "M",
                    "rating": f"{rng.uniform(5.5, 8.5):.1f}" if played else None,
                    "captain": index == 0,
                    "substitute": index >= STARTERS,
                },
                "offsides": count(3),
                "shots": {"total": count(5), "on": count(3)},
                "goals": {"total": count(2), "conceded": 0, "assists": count(2), "saves": count(5) if index == 0 else None},
                "passes": {"total": count(80), "key": count(4), "accuracy": str(rng.randint(10, 70)) if played else None},
                "tackles": {"total": count(6), "blocks": count(2), "interceptions": count(4)},
                "duels": {"total": count(15), "won": count(9)},
                "dribbles": {"attempts": count(5), "success": count(3), "past": count(2)},
                "fouls": {"drawn": count(4), "committed": count(4)},
                "cards": {"yellow": 0, "red": 0},
                "penalty": {"won": None, "commited": None, "scored": 0, "missed": 0, "saved": None},
            }
        ],
    }


def _team_statistics(rng: random.Random) -> list[dict[str, Any]]:
    statistics = []
    for name in _STATISTIC_TYPES:
        if name == "Ball Possession" or name == "Passes %":
            value: Any = f"{rng.randint(30, 70)}%"
        elif name == "expected_goals":
            value = f"{rng.uniform(0.2, 3.0):.2f}"
        else:
            value = rng.randint(0, 20) if rng.random() < 0.85 else None
        statistics.append({"type": name, "value": value})
    return statistics
