"""The phases of a played match on a clock of match minutes since kick-off.

The clock counts played and break minutes alike: with 2 minutes of first-half
stoppage and a 15-minute half-time, the second half starts at clock minute
62. The minute shown in ``status.elapsed`` is the one in progress, as in
API-Football: clock minute 22.5 of the first half shows ``elapsed`` 23, and
stoppage time shows as 45 with ``extra`` 1, 2, ... Shoot-out kicks come one
per clock minute after extra time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# The status texts API-Football sent in captured responses. Captures show
# "Match Finished" for PEN as well as FT, so AET uses it too.
STATUS_LONG = {
    "NS": "Not Started",
    "1H": "First Half",
    "HT": "Halftime",
    "2H": "Second Half",
    "BT": "Break Time",
    "ET": "Extra Time",
    "P": "Penalty In Progress",
    "FT": "Match Finished",
    "AET": "Match Finished",
    "PEN": "Match Finished",
    "PST": "Match Postponed",
}


@dataclass(frozen=True, slots=True)
class MatchPlan:
    """How long each phase of one match lasts, in match minutes."""

    first_half_stoppage: int = 2
    second_half_stoppage: int = 4
    extra_time: bool = False
    extra_time_first_stoppage: int = 1
    extra_time_second_stoppage: int = 1
    shootout_kicks: int = 0
    halftime_minutes: int = 15
    break_minutes: int = 5
    extra_time_break_minutes: int = 1

    def __post_init__(self) -> None:
        for name in (
            "first_half_stoppage",
            "second_half_stoppage",
            "extra_time_first_stoppage",
            "extra_time_second_stoppage",
            "shootout_kicks",
            "halftime_minutes",
            "break_minutes",
            "extra_time_break_minutes",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"match plan {name} is {value!r}, but it must be a whole number of minutes, 0 or more")
        if self.shootout_kicks and not self.extra_time:
            raise ValueError("a match plan with a shoot-out needs extra_time=True")


@dataclass(frozen=True, slots=True)
class MatchMoment:
    """The status block shown at one clock minute."""

    short: str
    elapsed: int | None
    extra: int | None

    @property
    def long(self) -> str:
        return STATUS_LONG[self.short]


@dataclass(frozen=True, slots=True)
class _Period:
    """A half of play: ``length`` regular minutes from ``first_elapsed``, then stoppage."""

    short: str
    start: float
    first_elapsed: int
    length: int
    stoppage: int

    @property
    def end(self) -> float:
        return self.start + self.length + self.stoppage

    @property
    def last_elapsed(self) -> int:
        return self.first_elapsed + self.length - 1

    def moment(self, clock: float) -> MatchMoment:
        minute_index = math.floor(clock - self.start)
        if minute_index < self.length:
            return MatchMoment(self.short, self.first_elapsed + minute_index, None)
        return MatchMoment(self.short, self.last_elapsed, minute_index - self.length + 1)

    def clock_minute(self, elapsed: int, extra: int | None) -> float:
        if extra and elapsed == self.last_elapsed:
            return self.start + self.length - 1 + extra
        return self.start + (elapsed - self.first_elapsed)


@dataclass(frozen=True, slots=True)
class _Break:
    """A phase without play, shown with a fixed status."""

    short: str
    start: float
    end: float
    elapsed: int | None
    extra: int | None

    def moment(self, clock: float) -> MatchMoment:
        return MatchMoment(self.short, self.elapsed, self.extra)


class MatchTimeline:
    """Maps clock minutes to statuses and event minutes to clock minutes for one plan."""

    def __init__(self, plan: MatchPlan) -> None:
        self.plan = plan
        first_half = _Period("1H", 0.0, 1, 45, plan.first_half_stoppage)
        halftime_end = first_half.end + plan.halftime_minutes
        halftime = _Break("HT", first_half.end, halftime_end, 45, _or_none(plan.first_half_stoppage))
        second_half = _Period("2H", halftime.end, 46, 45, plan.second_half_stoppage)
        self.periods: list[_Period] = [first_half, second_half]
        self.segments: list[_Period | _Break] = [first_half, halftime, second_half]
        self.second_half_start = second_half.start
        self.regulation_end = second_half.end
        self.extra_time_start: float | None = None
        self.shootout_start: float | None = None

        if plan.extra_time:
            self._add_extra_time(second_half)
        else:
            self.final = MatchMoment("FT", 90, _or_none(plan.second_half_stoppage))
        self.end = self.segments[-1].end

    def _add_extra_time(self, second_half: _Period) -> None:
        plan = self.plan
        break_end = second_half.end + plan.break_minutes
        break_time = _Break("BT", second_half.end, break_end, 90, _or_none(plan.second_half_stoppage))
        first = _Period("ET", break_time.end, 91, 15, plan.extra_time_first_stoppage)
        middle_end = first.end + plan.extra_time_break_minutes
        middle = _Break("BT", first.end, middle_end, 105, _or_none(plan.extra_time_first_stoppage))
        second = _Period("ET", middle.end, 106, 15, plan.extra_time_second_stoppage)
        self.periods += [first, second]
        self.segments += [break_time, first, middle, second]
        self.extra_time_start = first.start

        if plan.shootout_kicks:
            # One clock minute per kick, and one more before the result is final.
            shootout = _Break("P", second.end, second.end + plan.shootout_kicks + 1, 120, None)
            self.segments.append(shootout)
            self.shootout_start = shootout.start
            self.final = MatchMoment("PEN", 120, None)
        else:
            self.final = MatchMoment("AET", 120, _or_none(plan.extra_time_second_stoppage))

    def moment(self, clock: float) -> MatchMoment:
        """Return the status shown at ``clock`` minutes after kick-off (negative: not started)."""
        if clock < 0:
            return MatchMoment("NS", None, None)
        for segment in self.segments:
            if clock < segment.end:
                return segment.moment(clock)
        return self.final

    def clock_minute_of(self, elapsed: int | None, extra: int | None) -> float:
        """Return the clock minute at which the match shows ``elapsed``+``extra``."""
        if elapsed is None or elapsed <= 0:
            return 0.0
        for period in self.periods:
            if period.first_elapsed <= elapsed <= period.last_elapsed:
                return period.clock_minute(elapsed, extra)
        # A minute past the last period (120+ without extra time) shows at the end.
        return self.end

    def shows(self, elapsed: int, extra: int | None) -> bool:
        """Return True if the match ever shows ``elapsed``+``extra`` during play."""
        for period in self.periods:
            if period.first_elapsed <= elapsed <= period.last_elapsed:
                if not extra:
                    return True
                return elapsed == period.last_elapsed and extra <= period.stoppage
        return False

    def kick_clock_minute(self, kick: int) -> float:
        """Return the clock minute at which shoot-out kick ``kick`` (1, 2, ...) is shown."""
        if self.shootout_start is None:
            raise ValueError("this match plan has no shoot-out")
        return self.shootout_start + kick

    def start_of(self, short: str) -> float:
        """Return the clock minute at which status ``short`` is first shown."""
        if short == self.final.short:
            return self.end
        for segment in self.segments:
            if segment.short == short:
                return segment.start
        raise ValueError(f"status {short!r} does not occur in this match plan")


def parse_minute(text: str) -> tuple[int, int | None]:
    """Parse a minute such as ``"23"`` or ``"45+2"`` into ``(elapsed, extra)``."""
    elapsed_text, _, extra_text = str(text).partition("+")
    try:
        elapsed = int(elapsed_text)
        extra = int(extra_text) if extra_text else None
    except ValueError:
        raise ValueError(f"minute {text!r} is invalid: use a number such as '23' or '45+2'") from None
    if elapsed < 0 or (extra is not None and extra < 1):
        raise ValueError(f"minute {text!r} is invalid: minutes are 0 or more and added time is 1 or more")
    return elapsed, extra


def _or_none(minutes: int) -> int | None:
    return minutes or None
