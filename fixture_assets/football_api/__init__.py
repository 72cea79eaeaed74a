"""The API-Football v3 client: the only code that talks to the football API."""

from fixture_assets.football_api.archive import RawArchive, read_archive_file
from fixture_assets.football_api.client import MAX_IDS_PER_REQUEST, FootballApiClient
from fixture_assets.football_api.errors import (
    ApiTimeoutError,
    AuthenticationError,
    DailyQuotaExhaustedError,
    ErrorAction,
    FootballApiError,
    MissingFixturesError,
    RateLimitError,
    RequestParameterError,
    ServerError,
)
from fixture_assets.football_api.quota import Quota, parse_quota
from fixture_assets.football_api.results import AccountStatus, ChunkFailure, FixturesPage, IdsBatch
from fixture_assets.football_api.settings import (
    API_KEY_ENV,
    AUTH_MODE_ENV,
    BASE_URL_ENV,
    DIRECT_BASE_URL,
    RAPIDAPI_BASE_URL,
    ApiClientSettings,
)

__all__ = [
    "API_KEY_ENV",
    "AUTH_MODE_ENV",
    "BASE_URL_ENV",
    "DIRECT_BASE_URL",
    "MAX_IDS_PER_REQUEST",
    "RAPIDAPI_BASE_URL",
    "AccountStatus",
    "ApiClientSettings",
    "ApiTimeoutError",
    "AuthenticationError",
    "ChunkFailure",
    "DailyQuotaExhaustedError",
    "ErrorAction",
    "FixturesPage",
    "FootballApiClient",
    "FootballApiError",
    "IdsBatch",
    "MissingFixturesError",
    "Quota",
    "RateLimitError",
    "RawArchive",
    "RequestParameterError",
    "ServerError",
    "parse_quota",
    "read_archive_file",
]
