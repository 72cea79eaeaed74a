"""Resources built from environment variables."""

from __future__ import annotations

from datetime import date

import pytest
from dagster import EnvVar

from fixture_assets.defs.environment import build_resources, parse_flag, parse_ids
from fixture_assets.defs.fixtures.partitions import DEFAULT_FIRST_MATCH_DATE, FIRST_MATCH_DATE_ENV, first_match_date
from fixture_assets.defs.resources import MongoResource


def test_embedded_defaults_need_no_secrets():
    resources = build_resources({})

    assert resources["football_api"].api_key is None
    assert resources["polling"].league_ids == []
    assert resources["x"].posting_credentials() is None


def test_secrets_come_from_env_vars():
    environ = {"API_FOOTBALL_KEY": "secret-key", "MONGO_URI": "mongodb://u:secret@h/"}
    environ |= {name: "secret-x" for name in ("X_API_KEY", "X_API_SECRET", "X_ACCESS_TOKEN", "X_ACCESS_TOKEN_SECRET")}

    resources = build_resources(environ)

    # Before Dagster resolves them at run time, the fields hold EnvVar names, never values.
    assert isinstance(resources["football_api"].api_key, EnvVar)
    assert resources["football_api"].api_key == "API_FOOTBALL_KEY"
    assert resources["mongo"].uri == "MONGO_URI"
    assert resources["x"].api_key == "X_API_KEY"


@pytest.mark.parametrize("text, ids", [("", []), ("39", [39]), (" 39, 140 ,", [39, 140])])
def test_parse_ids(text, ids):
    assert parse_ids(text, "FIXTURE_ASSETS_LEAGUE_IDS") == ids


@pytest.mark.parametrize("text", ["39;140", "-1", "0", "abc"])
def test_parse_ids_rejects(text):
    with pytest.raises(ValueError, match="FIXTURE_ASSETS_LEAGUE_IDS"):
        parse_ids(text, "FIXTURE_ASSETS_LEAGUE_IDS")


@pytest.mark.parametrize("text, value", [("", False), ("true", True), ("0", False), ("Yes", True)])
def test_parse_flag(text, value):
    assert parse_flag(text, "X_DRY_RUN") is value


def test_parse_flag_rejects():
    with pytest.raises(ValueError, match="X_DRY_RUN is 'maybe'"):
        parse_flag("maybe", "X_DRY_RUN")


@pytest.mark.parametrize(
    "environ, variable",
    [
        ({"API_FOOTBALL_AUTH_MODE": "nope"}, "API_FOOTBALL_AUTH_MODE is 'nope'"),
        ({"API_FOOTBALL_BASE_URL": "ftp://example.invalid"}, "API_FOOTBALL_BASE_URL"),
        ({"API_FOOTBALL_KEY": "has space"}, "API_FOOTBALL_KEY"),
        ({"X_API_KEY": "a", "X_API_SECRET": "b"}, "X_ACCESS_TOKEN"),
    ],
    ids=["auth-mode", "base-url", "key-with-space", "half-x-credentials"],
)
def test_invalid_settings_fail_at_load(environ, variable):
    with pytest.raises(ValueError, match=variable) as error:
        build_resources(environ)

    assert "has space" not in str(error.value)


@pytest.mark.parametrize(
    "uri",
    ["mongodb://127.0.0.1:27017/", "mongodb+srv://user:secret@cluster.example.net/"],
    ids=["mongodb", "mongodb-srv"],
)
def test_mongo_uri_accepted(uri):
    assert build_resources({"MONGO_URI": uri})["mongo"].uri == "MONGO_URI"


@pytest.mark.parametrize(
    "uri, shown",
    [
        ("garbage", "MONGO_URI is 'garbage'"),
        ("127.0.0.1:27017", "MONGO_URI is '127.0.0.1:27017'"),
        ("mongdb://user:hunter2@db.example.net/", "MONGO_URI is '***@db.example.net/'"),
    ],
    ids=["word", "host-port", "misspelt-scheme-with-password"],
)
def test_mongo_uri_without_scheme_rejected(uri, shown):
    with pytest.raises(ValueError) as error:
        build_resources({"MONGO_URI": uri})

    message = str(error.value)
    assert shown in message
    assert "mongodb://" in message
    assert "mongodb+srv://" in message
    assert "hunter2" not in message


def test_mongo_resource_rejects_uri_without_connecting():
    with pytest.raises(ValueError, match="MONGO_URI is 'garbage'"):
        MongoResource(uri="garbage").get_database()


TODAY = date(2026, 3, 14)


@pytest.mark.parametrize(
    "environ, first",
    [
        ({}, DEFAULT_FIRST_MATCH_DATE),
        ({FIRST_MATCH_DATE_ENV: ""}, DEFAULT_FIRST_MATCH_DATE),
        ({FIRST_MATCH_DATE_ENV: "  "}, DEFAULT_FIRST_MATCH_DATE),
        ({FIRST_MATCH_DATE_ENV: "2023-08-11"}, "2023-08-11"),
        ({FIRST_MATCH_DATE_ENV: "2026-03-15"}, "2026-03-15"),
    ],
    ids=["unset", "empty", "blank", "past", "tomorrow"],
)
def test_first_match_date(environ, first):
    assert first_match_date(environ, today=TODAY) == first


@pytest.mark.parametrize(
    "value, reason",
    [
        ("20200101", "form YYYY-MM-DD"),
        ("2020-W01-1", "form YYYY-MM-DD"),
        ("2020-02-30", "form YYYY-MM-DD"),
        ("2026-03-16", "later than tomorrow (2026-03-15 UTC)"),
        ("2099-01-01", "later than tomorrow (2026-03-15 UTC)"),
    ],
    ids=["basic-format", "week-date", "no-such-day", "day-after-tomorrow", "far-future"],
)
def test_first_match_date_rejected(value, reason):
    with pytest.raises(ValueError) as error:
        first_match_date({FIRST_MATCH_DATE_ENV: value}, today=TODAY)

    message = str(error.value)
    assert f"{FIRST_MATCH_DATE_ENV} is {value!r}" in message
    assert reason in message
    assert "unset it" in message
