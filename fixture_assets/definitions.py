"""The Dagster code location: assembles assets, checks, jobs, schedules, sensors and resources."""

from dagster import Definitions

from fixture_assets.defs.environment import build_resources
from fixture_assets.defs.fixtures.assets import completed_fixtures, live_fixtures, staged_fixtures
from fixture_assets.defs.fixtures.checks import completed_goals_match_score, live_goals_match_score
from fixture_assets.defs.fixtures.schedules import discovery_job, discovery_schedule
from fixture_assets.defs.fixtures.sensors import fixture_poll_sensor
from fixture_assets.defs.twitter import goal_notification_sensor, twitter_job

defs = Definitions(
    assets=[staged_fixtures, live_fixtures, completed_fixtures],
    asset_checks=[live_goals_match_score, completed_goals_match_score],
    jobs=[discovery_job, twitter_job],
    schedules=[discovery_schedule],
    sensors=[fixture_poll_sensor, goal_notification_sensor],
    resources=build_resources(),
)
