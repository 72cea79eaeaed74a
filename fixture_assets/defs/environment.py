"""Build every resource from environment variables; the embedded defaults need none of them.

| Variable | Default | Sets |
|---|---|---|
| MONGO_URI | required (set by `make dev`) | MongoDB connection string |
| MONGO_DATABASE | fixture_assets | database name |
| API_FOOTBALL_KEY | unset: use API_FOOTBALL_BASE_URL | API key |
| API_FOOTBALL_BASE_URL | the real API for the auth mode | API or replay server URL |
| API_FOOTBALL_AUTH_MODE | direct | direct or rapidapi |
| API_FOOTBALL_ARCHIVE_DIR | unset (no archive) | folder of the raw response archive |
| FIXTURE_ASSETS_LEAGUE_IDS | empty (all leagues) | comma-separated league ids to discover |
| FIXTURE_ASSETS_TEAM_IDS | empty (all teams) | comma-separated team ids to discover |
| X_API_KEY, X_API_SECRET, X_ACCESS_TOKEN, X_ACCESS_TOKEN_SECRET | unset: dry run | X posting credentials |
| X_BEARER_TOKEN | unset: no clip search | X search credential |
| X_DRY_RUN, X_DELETE_ON_WITHDRAW, X_CLIP_SEARCH | false | twitter job switches |

Secrets go through ``EnvVar``, so Dagster keeps their values out of run config
and the UI. A variable is read only when it is set, because Dagster fails a
run whose ``EnvVar`` names an unset variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from dagster import EnvVar

from fixture_assets.defs.fixtures.resources import FootballApiResource, PollingResource
from fixture_assets.defs.resources import MongoResource
from fixture_assets.defs.twitter import XResource
from fixture_assets.football_api import API_KEY_ENV, AUTH_MODE_ENV, BASE_URL_ENV, ApiClientSettings
from fixture_assets.football_api.settings import AUTH_MODES
from fixture_assets.store.database import DEFAULT_DATABASE, validate_mongo_uri

MONGO_URI_ENV = "MONGO_URI"
LEAGUE_IDS_ENV = "FIXTURE_ASSETS_LEAGUE_IDS"
TEAM_IDS_ENV = "FIXTURE_ASSETS_TEAM_IDS"
X_DRY_RUN_ENV = "X_DRY_RUN"
X_DELETE_ON_WITHDRAW_ENV = "X_DELETE_ON_WITHDRAW"
X_CLIP_SEARCH_ENV = "X_CLIP_SEARCH"


def build_resources(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Build the resources, raising ValueError that names the variable when a value is invalid.

    Settings are checked here, when Dagster loads the code location, so a
    wrong value shows up in the UI and in ``dagster definitions validate``
    instead of failing each run.
    """
    environ = os.environ if environ is None else environ
    if environ.get(MONGO_URI_ENV):
        validate_mongo_uri(environ[MONGO_URI_ENV], MONGO_URI_ENV)
    _validate_football_api(environ)
    x = XResource.from_env(
        dict(environ),
        dry_run=parse_flag(environ.get(X_DRY_RUN_ENV, ""), X_DRY_RUN_ENV),
        delete_on_withdraw=parse_flag(environ.get(X_DELETE_ON_WITHDRAW_ENV, ""), X_DELETE_ON_WITHDRAW_ENV),
        clip_search_enabled=parse_flag(environ.get(X_CLIP_SEARCH_ENV, ""), X_CLIP_SEARCH_ENV),
    )
    x.posting_credentials()
    return {
        "mongo": MongoResource(uri=EnvVar(MONGO_URI_ENV), database=environ.get("MONGO_DATABASE") or DEFAULT_DATABASE),
        "football_api": FootballApiResource(
            api_key=EnvVar(API_KEY_ENV) if environ.get(API_KEY_ENV) else None,
            base_url=environ.get(BASE_URL_ENV) or None,
            auth_mode=environ.get(AUTH_MODE_ENV) or "direct",
            archive_dir=environ.get("API_FOOTBALL_ARCHIVE_DIR") or None,
        ),
        "polling": PollingResource(
            league_ids=parse_ids(environ.get(LEAGUE_IDS_ENV, ""), LEAGUE_IDS_ENV),
            team_ids=parse_ids(environ.get(TEAM_IDS_ENV, ""), TEAM_IDS_ENV),
        ),
        "x": x,
    }


def _validate_football_api(environ: Mapping[str, str]) -> None:
    auth_mode = environ.get(AUTH_MODE_ENV) or "direct"
    if auth_mode not in AUTH_MODES:
        raise ValueError(f"{AUTH_MODE_ENV} is {auth_mode!r}; set it to one of {', '.join(AUTH_MODES)}, or unset it")
    try:
        ApiClientSettings.from_env(environ)
    except (ValueError, TypeError) as error:
        raise ValueError(f"the {API_KEY_ENV}, {BASE_URL_ENV} or {AUTH_MODE_ENV} variable is invalid: {error}") from None


def parse_flag(text: str, variable: str) -> bool:
    """Parse an on/off variable; unset or empty means off."""
    value = text.strip().lower()
    if value in ("", "0", "false", "no", "off"):
        return False
    if value in ("1", "true", "yes", "on"):
        return True
    raise ValueError(f"{variable} is {text!r}; set it to true or false, or unset it")


def parse_ids(text: str, variable: str) -> list[int]:
    """Parse a comma-separated list of positive ids, naming the variable in errors."""
    ids = []
    for part in (part.strip() for part in text.split(",")):
        if not part:
            continue
        if not part.isdigit() or int(part) <= 0:
            raise ValueError(f"{variable} contains {part!r}; set it to positive ids separated by commas, such as 39,140")
        ids.append(int(part))
    return ids
