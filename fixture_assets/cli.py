"""The ``fixture-assets`` command line. Each subcommand is one ``_add_*`` and one ``run_*`` function."""

from __future__ import annotations

import argparse
import ipaddress
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from fixture_assets.dev_stack import DevOptions, DevStackError, run_dev_stack
from fixture_assets.replay.archive_source import ArchiveSource
from fixture_assets.replay.command import replay_files
from fixture_assets.replay.clock import VirtualClock
from fixture_assets.replay.demo_day import DemoDaySource
from fixture_assets.replay.protocol import ReplayInputError, ReplaySource
from fixture_assets.replay.recorded_source import RecordedMatchSource
from fixture_assets.replay.scenario_source import ScenarioSource
from fixture_assets.replay.scripted_source import DEFAULT_KICKOFF_DELAY_MINUTES, DEFAULT_MINUTE_SECONDS
from fixture_assets.replay.server import ReplayServer
from fixture_assets.store.embedded_server import EmbeddedMongoError

logger = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.log_level or args.default_log_level)
    return int(args.handler(args))


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    # pymongo logs every command and reply as JSON at DEBUG, which would bury
    # the pipeline's own debug lines. Its INFO and higher lines stay.
    logging.getLogger("pymongo").setLevel(max(logging.getLevelName(level), logging.INFO))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fixture-assets",
        description="Tools around the fixture_assets pipeline for API-Football v3.",
    )
    parser.add_argument(
        "--log-level",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="Minimum level of the log lines written to stderr (default INFO; WARNING for replay).",
    )
    parser.set_defaults(default_log_level="INFO")
    subcommands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_replay_server_command(subcommands)
    _add_replay_command(subcommands)
    _add_dev_command(subcommands)
    return parser


def _add_replay_command(subcommands: argparse._SubParsersAction) -> None:
    command = subcommands.add_parser(
        "replay",
        help="Run scenario files through discovery and the poll tick and report the decisions.",
        description=(
            "Run each scenario through discovery and one poll tick per poll, against a replay server and a fresh "
            "MongoDB database (SecantusDB unless MONGO_URI is set). Prints the report in the shape of the "
            "scenario's expect: one JSON object for one file, or an object keyed by file for several."
        ),
    )
    command.add_argument("files", nargs="+", type=Path, metavar="FILE", help="Scenario JSON files.")
    command.add_argument(
        "--check",
        action="store_true",
        help="Compare each report with the file's expect, print one line per file, and exit 1 on any mismatch.",
    )
    command.set_defaults(handler=run_replay_command, default_log_level="WARNING")


def run_replay_command(args: argparse.Namespace) -> int:
    return replay_files(args.files, check=args.check, mongo_uri=os.environ.get("MONGO_URI"))


def _add_dev_command(subcommands: argparse._SubParsersAction) -> None:
    command = subcommands.add_parser(
        "dev",
        help="Start SecantusDB, the demo replay server and dagster dev (what make dev runs).",
        description=(
            "Start the local stack on 127.0.0.1: SecantusDB unless MONGO_URI is set, the demo replay server "
            "unless API_FOOTBALL_KEY or API_FOOTBALL_BASE_URL is set, and dagster dev with a persistent "
            "DAGSTER_HOME. Ctrl-C stops every process it started."
        ),
    )
    command.add_argument("--host", default="127.0.0.1", help="Address of the Dagster webserver (default 127.0.0.1).")
    command.add_argument("--port", type=_webserver_port, default=3000, help="Port of the Dagster webserver (default 3000).")
    command.add_argument(
        "--data-dir",
        type=Path,
        default=Path(".data"),
        help="Folder for the MongoDB data and DAGSTER_HOME (default .data).",
    )
    command.add_argument(
        "--minute-seconds",
        type=_positive_float,
        default=DEFAULT_MINUTE_SECONDS,
        help=f"Real seconds per match minute of the demo day (default {DEFAULT_MINUTE_SECONDS:g}).",
    )
    command.add_argument(
        "--kickoff-delay",
        type=_kickoff_delay,
        default=DEFAULT_KICKOFF_DELAY_MINUTES,
        metavar="MINUTES",
        help=f"Real minutes from the start to the demo day's first kick-off (default {DEFAULT_KICKOFF_DELAY_MINUTES:g}).",
    )
    command.set_defaults(handler=run_dev_command)


def run_dev_command(args: argparse.Namespace) -> int:
    if not _is_loopback(args.host):
        logger.warning("the Dagster webserver listens on %s, so other machines can reach it", args.host)
    options = DevOptions(
        project_dir=Path.cwd(),
        data_dir=args.data_dir.resolve(),
        host=args.host,
        port=args.port,
        minute_seconds=args.minute_seconds,
        kickoff_delay_minutes=args.kickoff_delay,
    )
    if not (options.project_dir / "workspace.yaml").is_file():
        print("fixture-assets dev: run it from the repository root, where workspace.yaml is", file=sys.stderr)
        return EXIT_USAGE
    try:
        options.data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        print(
            f"fixture-assets dev: cannot create the data folder {options.data_dir} ({error.strerror}); "
            "pass --data-dir with a folder you can write to",
            file=sys.stderr,
        )
        return EXIT_FAILED
    try:
        return run_dev_stack(options)
    except (DevStackError, EmbeddedMongoError) as error:
        print(f"fixture-assets dev: {error}", file=sys.stderr)
        return EXIT_FAILED


def _add_replay_server_command(subcommands: argparse._SubParsersAction) -> None:
    command = subcommands.add_parser(
        "replay-server",
        help="Serve recorded or scripted API-Football responses over HTTP on 127.0.0.1.",
        description=(
            "Start a local HTTP server that responds to GET /fixtures (ids, date, live) and GET /status as "
            "API-Football v3 does, print its URL on one line, and run until Ctrl-C or SIGTERM."
        ),
    )

    source = command.add_mutually_exclusive_group()
    source.add_argument(
        "--demo", action="store_true", help="Serve the demo match day shipped in the package (the default)."
    )
    source.add_argument("--scenario", type=Path, metavar="FILE", help="Serve a poll-by-poll scenario file.")
    source.add_argument("--archive", type=Path, metavar="DIR", help="Serve a raw archive folder of *.jsonl.gz files.")
    source.add_argument(
        "--recorded",
        type=Path,
        metavar="FILE",
        help="Play finished fixtures recorded with their events as live matches.",
    )

    command.add_argument(
        "--archive-day",
        action="append",
        metavar="YYYY-MM-DD",
        help="With --archive, read only this UTC day's file. Repeat the option for more days.",
    )

    command.add_argument("--host", default="127.0.0.1", help="Address to listen on (default 127.0.0.1).")
    command.add_argument(
        "--port", type=_port, default=0, help="TCP port to listen on. 0 picks a free port (default 0)."
    )

    command.add_argument(
        "--speed",
        type=_non_negative_float,
        default=1.0,
        help="With --scenario or --archive: virtual seconds per real second. 0 stops the clock (default 1).",
    )
    command.add_argument(
        "--start",
        type=_aware_datetime,
        metavar="TIME",
        help=(
            "With --scenario or --archive: virtual start time, ISO 8601 with offset "
            "(default: the time of the first recorded response)."
        ),
    )

    command.add_argument(
        "--minute-seconds",
        type=_positive_float,
        default=DEFAULT_MINUTE_SECONDS,
        help=f"With --demo or --recorded: real seconds per match minute (default {DEFAULT_MINUTE_SECONDS:g}).",
    )
    command.add_argument(
        "--kickoff-delay",
        type=_kickoff_delay,
        default=DEFAULT_KICKOFF_DELAY_MINUTES,
        metavar="MINUTES",
        help=(
            "With --demo or --recorded: real minutes from the next whole minute after the start to "
            f"the first kick-off (default {DEFAULT_KICKOFF_DELAY_MINUTES:g})."
        ),
    )

    command.set_defaults(handler=run_replay_server)


def run_replay_server(args: argparse.Namespace) -> int:
    """Serve until SIGINT or SIGTERM. Returns the process exit code."""
    try:
        source = _replay_source(args)
    except ReplayInputError as error:
        print(f"fixture-assets replay-server: {error}", file=sys.stderr)
        return EXIT_USAGE

    if not _is_loopback(args.host):
        logger.warning("the replay server listens on %s, so other machines can reach its fake API", args.host)

    clock = _replay_clock(args, source)
    server = ReplayServer(source, host=args.host, port=args.port, clock=clock)
    try:
        server.start()
    except OSError as error:
        message = f"cannot listen on {args.host}:{args.port}: {error.strerror}"
        print(f"fixture-assets replay-server: {message}", file=sys.stderr)
        return EXIT_FAILED

    stop = _stop_on_signals()
    print(server.url, flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
    return EXIT_OK


def _replay_source(args: argparse.Namespace) -> ReplaySource:
    if args.archive_day and args.archive is None:
        raise ReplayInputError("--archive-day needs --archive DIR")
    if args.scenario is not None:
        return ScenarioSource.from_file(args.scenario)
    if args.archive is not None:
        return ArchiveSource(args.archive, days=args.archive_day)

    options = {"minute_seconds": args.minute_seconds, "kickoff_delay_minutes": args.kickoff_delay}
    if args.recorded is not None:
        return RecordedMatchSource.from_file(args.recorded, **options)
    return DemoDaySource(**options)


def _replay_clock(args: argparse.Namespace, source: ReplaySource) -> VirtualClock:
    # Demo and recorded matches have real kick-off times, so their clock runs at real speed.
    if args.scenario is None and args.archive is None:
        return VirtualClock(source.initial_time())
    return VirtualClock(args.start or source.initial_time(), speed=args.speed)


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        logger.info("received %s, stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    return stop


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _port(text: str) -> int:
    port = int(text)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port {port} is outside 0-65535")
    return port


def _webserver_port(text: str) -> int:
    port = _port(text)
    if port == 0:
        # dagster dev does not pick a free port for 0: it serves on 3000.
        raise argparse.ArgumentTypeError("port 0 is not supported by dagster dev; pass a port from 1 to 65535, such as 3001")
    return port


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text} must be a finite number greater than 0")
    return value


def _non_negative_float(text: str) -> float:
    value = float(text)
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text} must be a finite number, 0 or more")
    return value


def _kickoff_delay(text: str) -> float:
    value = _non_negative_float(text)
    if value > _MAX_KICKOFF_DELAY_MINUTES:
        raise argparse.ArgumentTypeError(f"{text} minutes is more than a day; use at most {_MAX_KICKOFF_DELAY_MINUTES}")
    return value


_MAX_KICKOFF_DELAY_MINUTES = 1440


def _aware_datetime(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO 8601 time such as 2024-02-19T21:06:00+00:00"
        ) from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no UTC offset: add one, such as +00:00")
    return moment.astimezone(UTC)


if __name__ == "__main__":
    sys.exit(main())
