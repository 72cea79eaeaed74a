"""The ``x`` resource: X credentials, API base URL and how goal posts are written.

Environment variables, read through ``dagster.EnvVar``:

- ``X_API_KEY``, ``X_API_SECRET``, ``X_ACCESS_TOKEN``, ``X_ACCESS_TOKEN_SECRET``:
  OAuth 1.0a user context of the posting account. All four unset gives
  dry-run mode: runs record the text they would post and post nothing.
  Some but not all set is a configuration error that names the missing ones.
- ``X_BEARER_TOKEN``: app-only token for clip search. Required only when
  ``clip_search_enabled`` is true and posting credentials are set. Clip
  search only reads, so it also runs in dry-run mode when the token is set.
- ``X_API_BASE_URL`` (optional, not secret): another API host, such as a
  local stand-in on 127.0.0.1. Default ``https://api.twitter.com``.

Build the resource with ``XResource.from_env()``. An ``EnvVar`` whose
variable is unset fails every run, so ``from_env`` passes an ``EnvVar`` only
for the variables that are set and None for the others. It checks which are
set when the definitions load, so reload the code location after setting or
unsetting one.
"""

from __future__ import annotations

import os
from typing import Any

from dagster import ConfigurableResource, EnvVar
from pydantic import Field

from fixture_assets.twitter.clips import ClipSearcher
from fixture_assets.twitter.delivery import DeliverySettings
from fixture_assets.twitter.messages import ALERT_TEMPLATE, CANCELLED_TEMPLATE, REINSTATED_TEMPLATE, Templates
from fixture_assets.twitter.publisher import (
    DEFAULT_API_BASE_URL,
    DEFAULT_TIMEOUT_SECONDS,
    POSTING_CREDENTIAL_VARS,
    SEARCH_CREDENTIAL_VAR,
    DryRunPublisher,
    PostingCredentials,
    Publisher,
    TweepyPublisher,
    validate_api_base_url,
)
from fixture_assets.twitter.sending import RateLimitPolicy

API_BASE_URL_VAR = "X_API_BASE_URL"

# Resource field -> environment variable, for from_env and for error messages.
_CREDENTIAL_FIELDS = {
    "api_key": POSTING_CREDENTIAL_VARS[0],
    "api_secret": POSTING_CREDENTIAL_VARS[1],
    "access_token": POSTING_CREDENTIAL_VARS[2],
    "access_token_secret": POSTING_CREDENTIAL_VARS[3],
}


class XConfigurationError(ValueError):
    """The X resource is configured in a way no run can use; the message names the setting."""


class XResource(ConfigurableResource):
    """Posts goal alerts and follow-ups on X, or records them in dry-run mode."""

    api_key: str | None = Field(default=None, description="OAuth 1.0a consumer key (EnvVar X_API_KEY).")
    api_secret: str | None = Field(default=None, description="OAuth 1.0a consumer secret (EnvVar X_API_SECRET).")
    access_token: str | None = Field(
        default=None, description="Access token of the posting account (EnvVar X_ACCESS_TOKEN)."
    )
    access_token_secret: str | None = Field(
        default=None, description="Access token secret of the posting account (EnvVar X_ACCESS_TOKEN_SECRET)."
    )
    bearer_token: str | None = Field(
        default=None, description="App-only bearer token for clip search (EnvVar X_BEARER_TOKEN)."
    )
    api_base_url: str = Field(
        default=DEFAULT_API_BASE_URL,
        description="X API base URL: scheme, host and port. Plain http only for 127.0.0.1 or localhost.",
    )
    dry_run: bool = Field(default=False, description="Record texts without posting even when credentials are set.")
    request_timeout_seconds: float = Field(
        default=DEFAULT_TIMEOUT_SECONDS, description="Timeout of each request to X, in seconds."
    )

    alert_template: str = Field(
        default=ALERT_TEMPLATE, description="Template of a goal alert; fields in fixture_assets.twitter.messages."
    )
    cancelled_template: str = Field(
        default=CANCELLED_TEMPLATE, description="Template of the correction of a withdrawn goal."
    )
    reinstated_template: str = Field(
        default=REINSTATED_TEMPLATE, description="Template of the follow-up of a reinstated goal."
    )
    delete_on_withdraw: bool = Field(
        default=False, description="Delete the alert of a withdrawn goal instead of replying with a correction."
    )

    clip_search_enabled: bool = Field(
        default=False, description="Search recent posts with video of each goal after its alert."
    )
    clip_search_max_results: int = Field(default=10, description="Posts per clip search, 10 to 100.")
    clip_minutes_before: int = Field(
        default=5, description="Clip search starts this many minutes before the goal was seen."
    )
    clip_minutes_after: int = Field(default=10, description="Clip search ends this many minutes after the goal was seen.")

    rate_limit_max_wait_seconds: float = Field(
        default=900.0,
        description="Longest wait for a rate-limit reset inside a run, in seconds; longer waits retry the step.",
    )
    rate_limit_max_waits: int = Field(default=3, description="Rate-limit waits inside one step attempt.")
    rate_limit_margin_seconds: float = Field(default=1.0, description="Seconds added to X's rate-limit reset time.")
    predecessor_wait_seconds: float = Field(
        default=30.0, description="Seconds a follow-up waits before checking again for the goal's unfinished alert."
    )

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **settings: Any) -> XResource:
        """Build the resource from the X_* environment variables; ``settings`` sets the other fields."""
        environ = dict(os.environ) if environ is None else environ
        fields: dict[str, Any] = {}
        for field_name, variable in {**_CREDENTIAL_FIELDS, "bearer_token": SEARCH_CREDENTIAL_VAR}.items():
            if environ.get(variable):
                fields[field_name] = EnvVar(variable)
        if environ.get(API_BASE_URL_VAR):
            fields["api_base_url"] = EnvVar(API_BASE_URL_VAR)
        return cls(**fields, **settings)

    def posting_credentials(self) -> PostingCredentials | None:
        """Return the posting credentials, None for dry-run mode, or raise XConfigurationError."""
        values = {field_name: getattr(self, field_name) for field_name in _CREDENTIAL_FIELDS}
        missing = [_CREDENTIAL_FIELDS[name] for name, value in values.items() if not value]
        if self.dry_run or len(missing) == len(values):
            return None
        if missing:
            raise XConfigurationError(
                f"X posting credentials are incomplete: {', '.join(missing)} "
                f"{'is' if len(missing) == 1 else 'are'} not set. Set all of "
                f"{', '.join(POSTING_CREDENTIAL_VARS)} to post, or none of them for dry-run mode"
            )
        return PostingCredentials(**values)

    def publisher(self) -> Publisher:
        credentials = self.posting_credentials()
        if credentials is None:
            return DryRunPublisher()
        return TweepyPublisher(
            credentials, api_base_url=self._base_url(), timeout_seconds=self.request_timeout_seconds
        )

    def clip_searcher(self) -> ClipSearcher | None:
        """Return the clip searcher, or None when clip search is off or cannot run in dry-run mode."""
        if not self.clip_search_enabled:
            return None
        if not self.bearer_token:
            if self.posting_credentials() is None:
                return None
            raise XConfigurationError(
                f"clip search is enabled but {SEARCH_CREDENTIAL_VAR} is not set; set it to the app's "
                "bearer token, or set clip_search_enabled to false"
            )
        try:
            return ClipSearcher(
                self.bearer_token,
                max_results=self.clip_search_max_results,
                api_base_url=self._base_url(),
                timeout_seconds=self.request_timeout_seconds,
            )
        except ValueError as error:
            raise XConfigurationError(str(error)) from None

    def delivery_settings(self) -> DeliverySettings:
        try:
            templates = Templates(
                alert=self.alert_template, cancelled=self.cancelled_template, reinstated=self.reinstated_template
            )
        except ValueError as error:
            raise XConfigurationError(str(error)) from None
        rate_limit = RateLimitPolicy(
            max_wait_seconds=self.rate_limit_max_wait_seconds,
            max_waits=self.rate_limit_max_waits,
            margin_seconds=self.rate_limit_margin_seconds,
        )
        return DeliverySettings(
            templates=templates,
            delete_on_withdraw=self.delete_on_withdraw,
            rate_limit=rate_limit,
            predecessor_wait_seconds=self.predecessor_wait_seconds,
            clip_minutes_before=self.clip_minutes_before,
            clip_minutes_after=self.clip_minutes_after,
        )

    def _base_url(self) -> str:
        try:
            return validate_api_base_url(self.api_base_url)
        except ValueError as error:
            raise XConfigurationError(str(error)) from None
