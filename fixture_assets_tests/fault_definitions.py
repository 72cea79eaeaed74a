"""A code location for X fault tests: the real goal notification sensor and twitter job.

The job is ``twitter_job`` as the definitions build it, except that its retry
policy waits no time between retries. Resources come from the environment as
in ``fixture_assets.definitions``, with the database name read at run time too,
so tests can point it at their own database.
"""

from dagster import Definitions, EnvVar, RetryPolicy

from fixture_assets.defs.environment import build_resources
from fixture_assets.defs.resources import MongoResource
from fixture_assets.defs.twitter import build_goal_notification_sensor, build_twitter_job

twitter_job = build_twitter_job(retry_policy=RetryPolicy(max_retries=2), max_wait_retries=2)

defs = Definitions(
    jobs=[twitter_job],
    sensors=[build_goal_notification_sensor(job=twitter_job)],
    resources={**build_resources(), "mongo": MongoResource(uri=EnvVar("MONGO_URI"), database=EnvVar("MONGO_DATABASE"))},
)
