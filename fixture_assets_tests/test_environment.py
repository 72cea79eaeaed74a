"""Resources built from environment variables."""

from __future__ import annotations

import pytest
from dagster import EnvVar

from fixture_assets.defs.environment import build_resources, parse_flag, parse_ids


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
