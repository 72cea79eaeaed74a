"""Run Dagster's sensor daemon loop on a test instance, as ``dagster dev`` runs it.

Runs requested by a sensor start at once and run in this process
(``SyncInMemoryRunLauncher``), so a test can check their outcome right after
the iteration.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

from dagster import DagsterEvent, DagsterEventType, DagsterInstance
from dagster._core.test_utils import create_test_daemon_workspace_context, freeze_time
from dagster._core.workspace.load_target import ModuleTarget
from dagster._daemon.daemon import get_default_daemon_logger
from dagster._daemon.sensor import execute_sensor_iteration

from .conftest import REPO_ROOT

INSTANCE_OVERRIDES = {
    "run_launcher": {"module": "dagster._core.launcher.sync_in_memory_run_launcher", "class": "SyncInMemoryRunLauncher"},
    "run_coordinator": {"module": "dagster._core.run_coordinator", "class": "DefaultRunCoordinator"},
}


@contextmanager
def daemon_sensors(instance: DagsterInstance, module_name: str) -> Iterator[Callable[[datetime], None]]:
    """Yield a function that runs one sensor daemon iteration of ``module_name``'s definitions at a Dagster time.

    The code server starts as a subprocess and reads the environment as it is now.
    """
    target = ModuleTarget(
        module_name=module_name, attribute=None, working_directory=str(REPO_ROOT), location_name="fixture_assets"
    )
    with create_test_daemon_workspace_context(target, instance) as workspace:
        logger = get_default_daemon_logger("SensorDaemon")

        def iterate(dagster_now: datetime) -> None:
            with freeze_time(dagster_now):
                list(execute_sensor_iteration(workspace, logger, None, None))

        yield iterate


def run_events(instance: DagsterInstance, run_id: str, event_type: DagsterEventType) -> list[DagsterEvent]:
    return [
        record.dagster_event
        for record in instance.all_logs(run_id)
        if record.dagster_event is not None and record.dagster_event.event_type is event_type
    ]


def run_messages(instance: DagsterInstance, run_id: str) -> list[str]:
    return [record.user_message for record in instance.all_logs(run_id)]

