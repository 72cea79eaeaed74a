"""Post texts: goal alerts and the follow-ups of withdrawn and reinstated goals.

A text is a template filled with one goal's facts. Templates use
``str.format`` fields from ``TEMPLATE_FIELDS``. A template line whose fields
all render empty (an unknown assist, for example) is dropped.

Every text fits X's weighted limit (see ``text_length``). When the filled
template is too long, names are shortened before anything else, in this order:

1. players to their initial and surname ("B. Saka");
2. club forms such as "FC" dropped from team names;
3. every name cut with an ellipsis to the largest common width that fits,
   but not below ``MIN_NAME_WEIGHT``.

Only if the text is still too long is the text itself cut.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, replace

from fixture_assets.core.goals import NotificationKind
from fixture_assets.twitter.text_length import (
    MAX_WEIGHTED_LENGTH,
    normalize_text,
    plain_weight,
    truncate,
    weighted_length,
)

OWN_GOAL = "Own Goal"
PENALTY = "Penalty"

ALERT_TEMPLATE = "GOAL! {home} {home_goals}-{away_goals} {away}\n{minute} {scorer_line}\n{assist_line}\n{competition}"
CANCELLED_TEMPLATE = "Correction: the {goal} has been disallowed.\n{home} {home_goals}-{away_goals} {away}"
REINSTATED_TEMPLATE = "Goal stands: the {goal} counts after all.\n{home} {home_goals}-{away_goals} {away}"

# Field name -> meaning, for the documentation and for template validation.
TEMPLATE_FIELDS: Mapping[str, str] = {
    "home": "home team name",
    "away": "away team name",
    "home_goals": "home score after the goal (alerts) or now (follow-ups)",
    "away_goals": "away score, like home_goals",
    "team": "name of the team the goal counts for",
    "minute": "goal minute, e.g. 45+2'",
    "scorer": "scorer with (OG) or (pen) marker; empty when unknown",
    "scorer_line": "scorer with marker, or 'Goal for <team>' when unknown",
    "assist": "assist provider; empty when unknown",
    "assist_line": "'Assist: <name>'; empty when unknown",
    "goal": "e.g. 45+2' goal by <scorer> (pen), or 45+2' goal for <team>",
    "competition": "league or cup name",
    "round": "round name, e.g. Regular Season - 12; empty when unknown",
}

# The shortest width, in weighted characters, that names are cut to.
MIN_NAME_WEIGHT = 6

_CLUB_FORMS = frozenset(
    {"FC", "F.C.", "CF", "C.F.", "AFC", "SC", "S.C.", "SV", "AS", "AC", "SSC", "FK", "SK", "CD", "UD", "RC", "RCD"}
)
_NAME_FIELDS = ("home", "away", "team", "scorer", "assist", "competition", "round")


class TemplateError(ValueError):
    """A configured template uses a field that does not exist or cannot be filled."""


@dataclass(frozen=True, slots=True)
class GoalFacts:
    """The facts a post states about one goal. Names are spelled as the API sent them."""

    home: str
    away: str
    home_goals: int
    away_goals: int
    team: str
    elapsed: int
    extra: int | None
    scorer: str | None
    assist: str | None
    detail: str
    competition: str
    round: str | None = None


@dataclass(frozen=True, slots=True)
class Templates:
    """The three post templates; each is validated when the object is built."""

    alert: str = ALERT_TEMPLATE
    cancelled: str = CANCELLED_TEMPLATE
    reinstated: str = REINSTATED_TEMPLATE

    def __post_init__(self) -> None:
        for name in ("alert", "cancelled", "reinstated"):
            validate_template(getattr(self, name), name)

    def for_kind(self, kind: NotificationKind) -> str:
        if kind is NotificationKind.GOAL:
            return self.alert
        if kind is NotificationKind.CANCELLED:
            return self.cancelled
        return self.reinstated


@dataclass(frozen=True, slots=True)
class _Names:
    home: str
    away: str
    team: str
    scorer: str | None
    assist: str | None
    competition: str
    round: str | None = None


def validate_template(template: str, name: str = "template") -> None:
    """Raise TemplateError unless every field of ``template`` is a plain name from TEMPLATE_FIELDS."""
    if not template.strip():
        raise TemplateError(f"the {name} template is empty; set it to text with fields such as {{home}}")
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as error:
        raise TemplateError(
            f"the {name} template is not a valid format string ({error}); write literal braces as {{{{ and }}}}"
        ) from None
    for _literal, field_name, format_spec, conversion in parsed:
        if field_name is None:
            continue
        if field_name not in TEMPLATE_FIELDS:
            raise TemplateError(
                f"the {name} template uses the unknown field {{{field_name}}}; "
                f"use only {', '.join('{' + known + '}' for known in TEMPLATE_FIELDS)}"
            )
        if format_spec or conversion:
            raise TemplateError(
                f"the {name} template formats the field {{{field_name}}} with a conversion or format spec; "
                "write the plain field name"
            )


def format_minute(elapsed: int, extra: int | None) -> str:
    """Format a goal minute as football reports do: ``23'`` or ``45+2'``."""
    if extra:
        return f"{elapsed}+{extra}'"
    return f"{elapsed}'"


def compose(template: str, facts: GoalFacts, limit: int = MAX_WEIGHTED_LENGTH) -> str:
    """Fill ``template`` with ``facts`` and return a text of at most ``limit`` weighted characters."""
    names = _Names(
        home=_clean_name(facts.home) or "Home",
        away=_clean_name(facts.away) or "Away",
        team=_clean_name(facts.team) or "",
        scorer=_clean_name(facts.scorer) or None,
        assist=_clean_name(facts.assist) or None,
        competition=_clean_name(facts.competition) or "",
        round=_clean_name(facts.round) or None,
    )
    text = _render(template, facts, names)
    if weighted_length(text) <= limit:
        return text

    for shorten in (_abbreviate_players, _drop_club_forms):
        names = shorten(names)
        text = _render(template, facts, names)
        if weighted_length(text) <= limit:
            return text

    capped = _largest_fitting_cap(template, facts, names, limit)
    if capped is not None:
        return capped
    return truncate(_render(template, facts, _cap_names(names, MIN_NAME_WEIGHT)), limit)


def _template_values(facts: GoalFacts, names: _Names) -> dict[str, str]:
    """Build the value of every template field from the facts and the (maybe shortened) names."""
    minute = format_minute(facts.elapsed, facts.extra)
    scorer = _scorer_with_marker(names.scorer, facts.detail)
    return {
        "home": names.home,
        "away": names.away,
        "home_goals": str(facts.home_goals),
        "away_goals": str(facts.away_goals),
        "team": names.team,
        "minute": minute,
        "scorer": scorer,
        "scorer_line": scorer or _unknown_scorer_phrase(facts.detail, names.team),
        "assist": names.assist or "",
        "assist_line": f"Assist: {names.assist}" if names.assist else "",
        "goal": _goal_phrase(minute, scorer, facts.detail, names.team),
        "competition": names.competition,
        "round": names.round or "",
    }


def _render(template: str, facts: GoalFacts, names: _Names) -> str:
    values = _template_values(facts, names)
    lines = []
    for template_line in template.split("\n"):
        line = template_line.format_map(values)
        has_fields = any(field_name is not None for _, field_name, _, _ in string.Formatter().parse(template_line))
        # Drop a line whose fields all rendered empty, such as an unknown
        # assist. Blank lines that the template itself contains stay.
        if has_fields and not line.strip():
            continue
        lines.append(line.rstrip())
    return normalize_text("\n".join(lines).strip())


def _scorer_with_marker(scorer: str | None, detail: str) -> str:
    if not scorer:
        return ""
    if detail == OWN_GOAL:
        return f"{scorer} (OG)"
    if detail == PENALTY:
        return f"{scorer} (pen)"
    return scorer


def _unknown_scorer_phrase(detail: str, team: str) -> str:
    if detail == OWN_GOAL:
        return f"Own goal for {team}" if team else "Own goal"
    if detail == PENALTY:
        return f"Penalty goal for {team}" if team else "Penalty goal"
    return f"Goal for {team}" if team else "Goal"


def _goal_phrase(minute: str, scorer: str, detail: str, team: str) -> str:
    if scorer:
        return f"{minute} goal by {scorer}"
    kind = {OWN_GOAL: "own goal", PENALTY: "penalty goal"}.get(detail, "goal")
    return f"{minute} {kind} for {team}" if team else f"{minute} {kind}"


def _clean_name(name: str | None) -> str:
    """Return ``name`` with control characters removed and spaces collapsed."""
    if not name:
        return ""
    printable = "".join(char if char.isprintable() else " " for char in name)
    return normalize_text(" ".join(printable.split()))


def _abbreviate_person(name: str | None) -> str | None:
    """Shorten "Bukayo Saka" to "B. Saka"; a one-word name stays as it is."""
    if not name:
        return name
    words = name.split()
    if len(words) < 2:
        return name
    initials = [word if word.endswith(".") else f"{word[0]}." for word in words[:-1]]
    # Keep one initial: "K. Mbappé" reads better than "K. L. Mbappé".
    return f"{initials[0]} {words[-1]}"


def _drop_club_form(name: str) -> str:
    words = [word for word in name.split() if word.upper() not in _CLUB_FORMS]
    return " ".join(words) if words else name


def _abbreviate_players(names: _Names) -> _Names:
    return replace(names, scorer=_abbreviate_person(names.scorer), assist=_abbreviate_person(names.assist))


def _drop_club_forms(names: _Names) -> _Names:
    return replace(
        names,
        home=_drop_club_form(names.home),
        away=_drop_club_form(names.away),
        team=_drop_club_form(names.team),
    )


def _cap_names(names: _Names, max_weight: int) -> _Names:
    def cap(name: str | None) -> str | None:
        return truncate(name, max_weight) if name else name

    return replace(
        names,
        home=cap(names.home) or "",
        away=cap(names.away) or "",
        team=cap(names.team) or "",
        scorer=cap(names.scorer),
        assist=cap(names.assist),
        competition=cap(names.competition) or "",
        round=cap(names.round),
    )


def _largest_fitting_cap(template: str, facts: GoalFacts, names: _Names, limit: int) -> str | None:
    """Binary-search the largest common name width at which the text fits; None if none does."""
    widest = max(plain_weight(getattr(names, name) or "") for name in _NAME_FIELDS)
    low, high = MIN_NAME_WEIGHT, widest - 1
    best: str | None = None
    while low <= high:
        middle = (low + high) // 2
        text = _render(template, facts, _cap_names(names, middle))
        if weighted_length(text) <= limit:
            best = text
            low = middle + 1
        else:
            high = middle - 1
    return best
