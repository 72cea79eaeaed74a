"""Dagster definitions of the twitter concern: the job, its sensor and the ``x`` resource.

Wire them with resource keys ``mongo`` (MongoResource) and ``x``
(``XResource.from_env()``).
"""

from fixture_assets.defs.twitter.jobs import build_twitter_job, twitter_job
from fixture_assets.defs.twitter.resources import XConfigurationError, XResource
from fixture_assets.defs.twitter.sensors import build_goal_notification_sensor, goal_notification_sensor

__all__ = [
    "XConfigurationError",
    "XResource",
    "build_goal_notification_sensor",
    "build_twitter_job",
    "goal_notification_sensor",
    "twitter_job",
]
