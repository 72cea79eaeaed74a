"""Find posts with video of a goal through X's recent search.

The query matches native videos that name the scorer's surname and either
team, without retweets, e.g. ``"Saka" ("Arsenal" OR "Chelsea") has:videos
-is:retweet``. The time window starts a few minutes before the poll that
confirmed the goal, because the goal itself happened up to a poll earlier.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests
import tweepy

from fixture_assets.twitter.publisher import (
    DEFAULT_API_BASE_URL,
    DEFAULT_TIMEOUT_SECONDS,
    SEARCH_CREDENTIAL_VAR,
    build_client,
    map_error,
    redact_in_logs,
)

# X's recent search accepts 10 to 100 results per page and queries of up to
# 512 characters on the self-serve tiers.
MIN_RESULTS = 10
MAX_RESULTS = 100
MAX_QUERY_LENGTH = 512
# X rejects an end_time later than 10 seconds before the request.
_END_TIME_MARGIN = timedelta(seconds=10)


@dataclass(frozen=True, slots=True)
class ClipQuery:
    """One clip search: the query text and its UTC time window."""

    query: str
    start_time: datetime
    end_time: datetime | None


def build_clip_query(
    *,
    scorer: str | None,
    home: str,
    away: str,
    goal_seen_at: datetime,
    now: datetime,
    minutes_before: int,
    minutes_after: int,
) -> ClipQuery | None:
    """Build the search for a goal's clips, or return None when the scorer is unknown.

    ``goal_seen_at`` is when the pipeline confirmed the goal. The window
    ends ``minutes_after`` later, or is left open when that is still ahead.
    """
    surname = _surname(scorer)
    if not surname:
        return None
    teams = " OR ".join(f'"{_quote_safe(name)}"' for name in (home, away) if _quote_safe(name))
    query = f'"{surname}" ({teams}) has:videos -is:retweet' if teams else f'"{surname}" has:videos -is:retweet'
    if len(query) > MAX_QUERY_LENGTH:
        query = f'"{surname}" has:videos -is:retweet'[:MAX_QUERY_LENGTH]

    start_time = goal_seen_at - timedelta(minutes=minutes_before)
    end_time: datetime | None = goal_seen_at + timedelta(minutes=minutes_after)
    if end_time is not None and end_time > now - _END_TIME_MARGIN:
        end_time = None
    return ClipQuery(query=query, start_time=start_time, end_time=end_time)


class ClipSearcher:
    """Runs clip searches with the app-only bearer token."""

    def __init__(
        self,
        bearer_token: str,
        *,
        max_results: int = MIN_RESULTS,
        api_base_url: str = DEFAULT_API_BASE_URL,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        if not MIN_RESULTS <= max_results <= MAX_RESULTS:
            raise ValueError(f"clip search max_results is {max_results}; X accepts {MIN_RESULTS} to {MAX_RESULTS}")
        redact_in_logs([bearer_token])
        self._max_results = max_results
        self._client = build_client(
            bearer_token=bearer_token, api_base_url=api_base_url, timeout_seconds=timeout_seconds
        )

    def search(self, clip_query: ClipQuery) -> list[str]:
        """Return the URLs of matching posts, newest first as X orders them.

        Raises an ``XApiError`` subclass when X responds with an error.
        """
        operation = "GET /2/tweets/search/recent"
        params: dict[str, object] = {
            "start_time": clip_query.start_time,
            "max_results": self._max_results,
            "expansions": ["author_id"],
            "user_fields": ["username"],
            "tweet_fields": ["created_at"],
        }
        if clip_query.end_time is not None:
            params["end_time"] = clip_query.end_time
        try:
            response = self._client.search_recent_tweets(clip_query.query, user_auth=False, **params)
        except (tweepy.TweepyException, requests.RequestException) as error:
            raise map_error(error, operation, [SEARCH_CREDENTIAL_VAR]) from error
        return post_urls(response.data or [], response.includes.get("users", []))


def post_urls(posts: Sequence[tweepy.Tweet], users: Sequence[tweepy.User]) -> list[str]:
    """Build https://x.com/<username>/status/<id> for each post, without repeats."""
    usernames = {str(user.id): user.username for user in users}
    urls: list[str] = []
    for post in posts:
        username = usernames.get(str(post.author_id)) if post.author_id is not None else None
        # /i/web/status/<id> opens any post when the author is not expanded.
        url = f"https://x.com/{username}/status/{post.id}" if username else f"https://x.com/i/web/status/{post.id}"
        if url not in urls:
            urls.append(url)
    return urls


def _surname(scorer: str | None) -> str:
    words = _quote_safe(scorer or "").split()
    return words[-1] if words else ""


def _quote_safe(name: str) -> str:
    """Remove the characters that would end or break a quoted query term."""
    return " ".join(name.replace('"', " ").replace("\\", " ").split())
