"""ApiClientSettings: defaults, validation with clear messages, environment, auth headers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fixture_assets.football_api import DIRECT_BASE_URL, RAPIDAPI_BASE_URL, ApiClientSettings

SECRET = "s3cret-key-value"


def test_defaults_match_contract() -> None:
    settings = ApiClientSettings()

    assert settings.base_url == DIRECT_BASE_URL
    assert settings.api_key is None
    assert settings.auth_mode == "direct"
    assert settings.max_in_flight == 4
    assert settings.connect_timeout_s == 5.0
    assert settings.read_timeout_s == 10.0
    assert settings.quota_warning_floor == 100
    assert settings.archive_dir is None


def test_repr_hides_key() -> None:
    settings = ApiClientSettings(api_key=SECRET)

    assert SECRET not in repr(settings)
    assert SECRET not in str(settings)


def test_direct_auth_headers() -> None:
    assert ApiClientSettings(api_key=SECRET).auth_headers() == {"x-apisports-key": SECRET}
    assert ApiClientSettings().auth_headers() == {}


def test_rapidapi_auth_headers() -> None:
    settings = ApiClientSettings(api_key=SECRET, auth_mode="rapidapi", base_url=RAPIDAPI_BASE_URL)

    assert settings.auth_headers() == {"x-rapidapi-key": SECRET, "x-rapidapi-host": "api-football-v1.p.rapidapi.com"}


def test_trailing_slash_removed_and_archive_path_coerced(tmp_path: Path) -> None:
    settings = ApiClientSettings(base_url="http://127.0.0.1:8080/", archive_dir=str(tmp_path))  # type: ignore[arg-type]

    assert settings.base_url == "http://127.0.0.1:8080"
    assert settings.archive_dir == tmp_path


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"base_url": "ftp://example.org"}, "http:// or https://"),
        ({"base_url": "not a url"}, "base_url"),
        ({"base_url": "http://127.0.0.1:1/?x=1"}, "query"),
        ({"api_key": ""}, "api_key is empty"),
        ({"api_key": SECRET + "\n"}, "trailing newline"),
        ({"auth_mode": "oauth"}, "auth_mode 'oauth' is invalid"),
        ({"auth_mode": "rapidapi"}, "RapidAPI base URL"),
        ({"max_in_flight": 0}, "max_in_flight is 0"),
        ({"max_in_flight": 100}, "between 1 and 32"),
        ({"connect_timeout_s": 0}, "connect_timeout_s is 0"),
        ({"read_timeout_s": float("nan")}, "read_timeout_s"),
        ({"quota_warning_floor": -1}, "quota_warning_floor is -1"),
        ({"retry_delay_s": -0.5}, "retry_delay_s"),
    ],
)
def test_invalid_values_rejected(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        ApiClientSettings(**changes)

    assert SECRET not in str(caught.value)


@pytest.mark.parametrize(
    ("changes", "message"), [({"max_in_flight": True}, "integer"), ({"read_timeout_s": "10"}, "seconds")]
)
def test_wrong_types_rejected(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(TypeError, match=message):
        ApiClientSettings(**changes)


def test_from_env_direct() -> None:
    settings = ApiClientSettings.from_env({"API_FOOTBALL_KEY": SECRET})

    assert settings.api_key == SECRET
    assert settings.base_url == DIRECT_BASE_URL
    assert settings.auth_mode == "direct"


def test_from_env_rapidapi_picks_its_base_url() -> None:
    settings = ApiClientSettings.from_env({"API_FOOTBALL_KEY": SECRET, "API_FOOTBALL_AUTH_MODE": "rapidapi"})

    assert settings.base_url == RAPIDAPI_BASE_URL
    assert settings.auth_headers()["x-rapidapi-key"] == SECRET


def test_from_env_empty_key_is_none() -> None:
    settings = ApiClientSettings.from_env({"API_FOOTBALL_KEY": ""}, max_in_flight=2)

    assert settings.api_key is None
    assert settings.max_in_flight == 2


def test_with_changes_validates() -> None:
    settings = ApiClientSettings()

    assert settings.with_changes(max_in_flight=8).max_in_flight == 8
    with pytest.raises(ValueError, match="max_in_flight"):
        settings.with_changes(max_in_flight=0)
