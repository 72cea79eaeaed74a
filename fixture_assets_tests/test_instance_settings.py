"""The Dagster instance settings in dagster.yaml, as Dagster loads them."""

from __future__ import annotations

import shutil
from pathlib import Path

from dagster import DagsterInstance

from .conftest import REPO_ROOT


def test_run_retries_skip_asset_and_op_failures(tmp_path: Path) -> None:
    shutil.copyfile(REPO_ROOT / "dagster.yaml", tmp_path / "dagster.yaml")

    with DagsterInstance.from_config(str(tmp_path)) as instance:
        assert instance.run_retries_enabled
        assert instance.run_retries_max_retries == 2
        # A step failure has already been through the step's RetryPolicy.
        assert instance.run_retries_retry_on_asset_or_op_failure is False
