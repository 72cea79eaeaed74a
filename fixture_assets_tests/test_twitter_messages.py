"""Alert and follow-up texts, X's weighted length, and reading goal facts from fixture documents."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fixture_assets.core.goals import NotificationKind
from fixture_assets.twitter.facts import FactsError, goal_facts
from fixture_assets.twitter.messages import (
    ALERT_TEMPLATE,
    CANCELLED_TEMPLATE,
    REINSTATED_TEMPLATE,
    GoalFacts,
    Templates,
    TemplateError,
    compose,
    format_minute,
    validate_template,
)
from fixture_assets.twitter.text_length import MAX_WEIGHTED_LENGTH, truncate, weighted_length

from .twitter_fixtures import AWAY_ID, HOME_ID, fixture_document, goal_record


def facts(**changes: object) -> GoalFacts:
    base = {
        "home": "Arsenal",
        "away": "Chelsea",
        "home_goals": 2,
        "away_goals": 1,
        "team": "Arsenal",
        "elapsed": 23,
        "extra": None,
        "scorer": "Bukayo Saka",
        "assist": "Martin Ødegaard",
        "detail": "Normal Goal",
        "competition": "Premier League",
        "round": "Regular Season - 35",
    }
    base.update(changes)
    return GoalFacts(**base)  # type: ignore[arg-type]


ALERT_CASES = [
    pytest.param(
        facts(),
        "GOAL! Arsenal 2-1 Chelsea\n23' Bukayo Saka\nAssist: Martin Ødegaard\nPremier League",
        id="normal-goal-with-assist",
    ),
    pytest.param(
        facts(home_goals=1, away_goals=1, team="Chelsea", elapsed=45, extra=2, scorer="Ben White", assist=None, detail="Own Goal"),
        "GOAL! Arsenal 1-1 Chelsea\n45+2' Ben White (OG)\nPremier League",
        id="own-goal-in-stoppage-time",
    ),
    pytest.param(
        facts(elapsed=90, extra=5, assist=None, detail="Penalty"),
        "GOAL! Arsenal 2-1 Chelsea\n90+5' Bukayo Saka (pen)\nPremier League",
        id="penalty-in-stoppage-time",
    ),
    pytest.param(
        facts(elapsed=120, extra=1, assist=None, detail="Penalty", competition="UEFA Champions League"),
        "GOAL! Arsenal 2-1 Chelsea\n120+1' Bukayo Saka (pen)\nUEFA Champions League",
        id="penalty-in-extra-time",
    ),
    pytest.param(
        facts(scorer=None, assist=None, elapsed=67),
        "GOAL! Arsenal 2-1 Chelsea\n67' Goal for Arsenal\nPremier League",
        id="unknown-scorer",
    ),
    pytest.param(
        facts(scorer=" ", assist=None, detail="Penalty"),
        "GOAL! Arsenal 2-1 Chelsea\n23' Penalty goal for Arsenal\nPremier League",
        id="blank-scorer-penalty",
    ),
    pytest.param(
        facts(scorer=None, assist=None, detail="Own Goal", team="Chelsea", home_goals=1, away_goals=1),
        "GOAL! Arsenal 1-1 Chelsea\n23' Own goal for Chelsea\nPremier League",
        id="unknown-scorer-own-goal",
    ),
    pytest.param(
        facts(
            home="AS Adema",
            away="SO l'Emyrne",
            team="AS Adema",
            home_goals=149,
            away_goals=0,
            elapsed=90,
            extra=4,
            scorer=None,
            assist=None,
            detail="Own Goal",
            competition="THB Champions League",
        ),
        "GOAL! AS Adema 149-0 SO l'Emyrne\n90+4' Own goal for AS Adema\nTHB Champions League",
        id="three-digit-score",
    ),
    pytest.param(
        facts(
            home="横浜F・マリノス",
            away="川崎フロンターレ",
            team="横浜F・マリノス",
            home_goals=1,
            away_goals=0,
            elapsed=12,
            scorer="宮市亮",
            assist="西村拓真",
            competition="J1リーグ",
        ),
        "GOAL! 横浜F・マリノス 1-0 川崎フロンターレ\n12' 宮市亮\nAssist: 西村拓真\nJ1リーグ",
        id="japanese-names",
    ),
    pytest.param(
        facts(
            home="Зенит",
            away="Спартак Москва",
            team="Зенит",
            home_goals=1,
            away_goals=0,
            scorer="Артём Дзюба",
            assist=None,
            competition="Премьер-лига",
        ),
        "GOAL! Зенит 1-0 Спартак Москва\n23' Артём Дзюба\nПремьер-лига",
        id="cyrillic-names",
    ),
    pytest.param(
        facts(home="الهلال", away="النصر", team="النصر", home_goals=0, away_goals=1, scorer="كريستيانو رونالدو", assist=None, competition="دوري روشن السعودي"),
        "GOAL! الهلال 0-1 النصر\n23' كريستيانو رونالدو\nدوري روشن السعودي",
        id="arabic-names",
    ),
]


@pytest.mark.parametrize(("goal", "expected"), ALERT_CASES)
def test_alert_text(goal: GoalFacts, expected: str) -> None:
    text = compose(ALERT_TEMPLATE, goal)

    assert text == expected
    assert weighted_length(text) <= MAX_WEIGHTED_LENGTH


FOLLOWUP_CASES = [
    pytest.param(
        CANCELLED_TEMPLATE,
        facts(home_goals=1, away_goals=1, elapsed=45, extra=2, detail="Penalty"),
        "Correction: the 45+2' goal by Bukayo Saka (pen) has been disallowed.\nArsenal 1-1 Chelsea",
        id="cancelled-penalty",
    ),
    pytest.param(
        CANCELLED_TEMPLATE,
        facts(scorer=None, home_goals=0, away_goals=0, team="Chelsea", detail="Own Goal"),
        "Correction: the 23' own goal for Chelsea has been disallowed.\nArsenal 0-0 Chelsea",
        id="cancelled-unknown-own-goal",
    ),
    pytest.param(
        REINSTATED_TEMPLATE,
        facts(elapsed=45, extra=2),
        "Goal stands: the 45+2' goal by Bukayo Saka counts after all.\nArsenal 2-1 Chelsea",
        id="reinstated",
    ),
]


@pytest.mark.parametrize(("template", "goal", "expected"), FOLLOWUP_CASES)
def test_followup_text(template: str, goal: GoalFacts, expected: str) -> None:
    assert compose(template, goal) == expected


def test_long_scorer_abbreviated_before_teams() -> None:
    goal = facts(
        scorer="Kylian " + "Sanmi " * 40 + "Mbappé",
        home="Paris Saint-Germain",
        away="Olympique de Marseille",
        competition="Ligue 1",
    )

    text = compose(ALERT_TEMPLATE, goal)

    assert "K. Mbappé" in text
    assert "Paris Saint-Germain 2-1 Olympique de Marseille" in text
    assert weighted_length(text) <= MAX_WEIGHTED_LENGTH


def test_long_names_cut_keeps_facts() -> None:
    goal = facts(
        home="Sociedade Esportiva Palmeiras " * 6,
        away="Club Atlético Independiente de Avellaneda " * 5,
        team="Sociedade Esportiva Palmeiras " * 6,
        home_goals=103,
        away_goals=99,
        elapsed=90,
        extra=12,
        scorer="José " + "Antonio " * 30 + "García",
        assist="Marcos " * 30 + "Rocha",
        detail="Penalty",
        competition="CONMEBOL Libertadores " * 10,
    )

    text = compose(ALERT_TEMPLATE, goal)

    assert weighted_length(text) <= MAX_WEIGHTED_LENGTH
    assert text.startswith("GOAL! Sociedade")
    assert "103-99" in text
    assert "90+12'" in text
    assert "(pen)" in text
    assert "Assist: " in text
    assert "…" in text
    assert text.splitlines()[-1].startswith("CONMEBOL Libertadores")


def test_long_cjk_names_fit_weighted_limit() -> None:
    goal = facts(
        home="東京" * 80,
        away="大阪" * 80,
        team="東京" * 80,
        scorer="山田" * 60,
        assist="佐藤" * 60,
        competition="天皇杯" * 40,
    )

    text = compose(ALERT_TEMPLATE, goal)

    assert weighted_length(text) <= MAX_WEIGHTED_LENGTH
    assert len(text) < MAX_WEIGHTED_LENGTH  # CJK counts twice, so fewer characters fit
    assert "2-1" in text
    assert "23'" in text


def test_club_forms_dropped_before_cutting() -> None:
    template = "{home} {home_goals}-{away_goals} {away} " + "x" * 260
    goal = facts(home="FC Barcelona", away="AC Milan")

    text = compose(template, goal)

    assert text.startswith("Barcelona 2-1 Milan ")
    assert weighted_length(text) <= MAX_WEIGHTED_LENGTH


def test_overlong_template_cut_at_limit() -> None:
    template = "{home} scored. " + "word " * 100

    text = compose(template, facts())

    assert weighted_length(text) <= MAX_WEIGHTED_LENGTH
    assert text.endswith("…")


def test_custom_template_and_dropped_lines() -> None:
    template = "⚽ {team} score!\n\n{scorer_line} {minute}\n{assist}\n{round}"

    text = compose(template, facts(assist=None))

    assert text == "⚽ Arsenal score!\n\nBukayo Saka 23'\nRegular Season - 35"


@pytest.mark.parametrize(
    ("template", "message_part"),
    [
        pytest.param("{home} {venue}", "unknown field {venue}", id="unknown-field"),
        pytest.param("{home.__class__}", "unknown field {home.__class__}", id="attribute-access"),
        pytest.param("{home!r}", "conversion or format spec", id="conversion"),
        pytest.param("{home:>10}", "conversion or format spec", id="format-spec"),
        pytest.param("{home", "not a valid format string", id="unclosed-brace"),
        pytest.param("  ", "is empty", id="empty"),
    ],
)
def test_invalid_template_rejected(template: str, message_part: str) -> None:
    with pytest.raises(TemplateError) as raised:
        validate_template(template, "alert")

    assert message_part in str(raised.value)
    assert "alert template" in str(raised.value)


def test_templates_validated_on_build() -> None:
    with pytest.raises(TemplateError):
        Templates(cancelled="{nope}")


@pytest.mark.parametrize(
    ("elapsed", "extra", "expected"),
    [(23, None, "23'"), (45, 2, "45+2'"), (90, 0, "90'"), (120, 3, "120+3'")],
)
def test_format_minute(elapsed: int, extra: int | None, expected: str) -> None:
    assert format_minute(elapsed, extra) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("a" * 280, 280, id="latin"),
        pytest.param("日" * 140, 280, id="cjk-counts-two"),
        pytest.param("한국" , 4, id="hangul-counts-two"),
        pytest.param("Ødegaard Ñúñez", 14, id="latin-accents-count-one"),
        pytest.param("Дзюба", 5, id="cyrillic-counts-one"),
        pytest.param("⚽", 2, id="emoji"),
        pytest.param("©", 2, id="copyright-emoji"),
        pytest.param("https://example.com/" + "p" * 100, 23, id="long-url"),
        pytest.param("see https://x.co/a.", 4 + 23 + 1, id="url-then-period"),
        pytest.param("fixture-assets.example.com", 26, id="bare-domain-at-least-23"),
        pytest.param("bit.ly", 23, id="short-bare-domain-counts-23"),
        pytest.param("‘quotes’ – dash", 15, id="general-punctuation-counts-one"),
        pytest.param("…", 2, id="ellipsis-counts-two"),
    ],
)
def test_weighted_length(text: str, expected: int) -> None:
    assert weighted_length(text) == expected


def test_weighted_length_normalizes_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", "Ødegaard é")

    assert len(decomposed) > len("Ødegaard é")
    assert weighted_length(decomposed) == 10


def test_truncate_adds_ellipsis_within_limit() -> None:
    assert truncate("Borussia Mönchengladbach", 11) == "Borussia…"
    assert truncate("Arsenal", 7) == "Arsenal"
    assert weighted_length(truncate("東京" * 20, 11)) <= 11


@settings(max_examples=60, deadline=None)
@given(
    home=st.text(min_size=1, max_size=120),
    away=st.text(min_size=1, max_size=120),
    scorer=st.one_of(st.none(), st.text(max_size=150)),
    assist=st.one_of(st.none(), st.text(max_size=150)),
    competition=st.text(max_size=150),
    home_goals=st.integers(min_value=0, max_value=999),
    extra=st.one_of(st.none(), st.integers(min_value=1, max_value=15)),
)
def test_alert_always_fits(
    home: str, away: str, scorer: str | None, assist: str | None, competition: str, home_goals: int, extra: int | None
) -> None:
    goal = facts(home=home, away=away, team=home, scorer=scorer, assist=assist, competition=competition,
                 home_goals=home_goals, extra=extra)

    for template in (ALERT_TEMPLATE, CANCELLED_TEMPLATE, REINSTATED_TEMPLATE):
        assert weighted_length(compose(template, goal)) <= MAX_WEIGHTED_LENGTH


def test_facts_score_line_after_goal() -> None:
    records = [
        goal_record(1, team_id=HOME_ID, elapsed=10),
        goal_record(1, team_id=AWAY_ID, elapsed=30, player="Cole Palmer"),
        goal_record(2, team_id=HOME_ID, elapsed=45, extra=2),
        goal_record(3, team_id=HOME_ID, elapsed=80),
        goal_record(4, team_id=HOME_ID, elapsed=85, state="cancelled"),
    ]
    fixture = fixture_document(records)

    # An alert decided late still shows the score of its moment.
    second = goal_facts(fixture, records[2]["key"], NotificationKind.GOAL, alert_elapsed=45, alert_extra=2)
    assert (second.home_goals, second.away_goals) == (2, 1)
    assert (second.elapsed, second.extra) == (45, 2)

    first_away = goal_facts(fixture, records[1]["key"], NotificationKind.GOAL, alert_elapsed=30, alert_extra=None)
    assert (first_away.home_goals, first_away.away_goals) == (1, 1)
    assert first_away.team == "Chelsea"

    cancelled = goal_facts(fixture, records[4]["key"], NotificationKind.CANCELLED, alert_elapsed=85, alert_extra=None)
    assert (cancelled.home_goals, cancelled.away_goals) == (3, 1)

    reinstated = goal_facts(fixture, records[4]["key"], NotificationKind.REINSTATED, alert_elapsed=85, alert_extra=None)
    assert (reinstated.home_goals, reinstated.away_goals) == (4, 1)


def test_facts_follow_up_uses_alert_minute() -> None:
    record = goal_record(1, elapsed=44)
    fixture = fixture_document([record])

    followup = goal_facts(fixture, record["key"], NotificationKind.CANCELLED, alert_elapsed=45, alert_extra=1)

    assert (followup.elapsed, followup.extra) == (45, 1)


def test_facts_same_minute_goals_of_one_team() -> None:
    records = [goal_record(1, elapsed=45, extra=1), goal_record(2, elapsed=45, extra=1, player="Kai Havertz")]
    fixture = fixture_document(records)

    first = goal_facts(fixture, records[0]["key"], NotificationKind.GOAL, alert_elapsed=45, alert_extra=1)
    second = goal_facts(fixture, records[1]["key"], NotificationKind.GOAL, alert_elapsed=45, alert_extra=1)

    assert first.home_goals == 1
    assert second.home_goals == 2


def test_facts_missing_goal_record() -> None:
    fixture = fixture_document([goal_record(1)])

    with pytest.raises(FactsError) as raised:
        goal_facts(fixture, "1153127-42-9", NotificationKind.GOAL, alert_elapsed=1, alert_extra=None)

    assert "1153127-42-9" in str(raised.value)
    assert "fixture 1153127" in str(raised.value)


def test_facts_goal_of_unknown_team() -> None:
    record = goal_record(1, team_id=777)
    fixture = fixture_document([record])

    with pytest.raises(FactsError) as raised:
        goal_facts(fixture, record["key"], NotificationKind.GOAL, alert_elapsed=23, alert_extra=None)

    assert "team 777" in str(raised.value)
