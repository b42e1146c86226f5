"""Simulated time: the demo's commands happen over the past weeks, each while its author is at
work, and the clock only ever moves forward, so every timeline reads in order."""

from __future__ import annotations

from datetime import datetime, timedelta
from random import Random

from portal.demo.catalog import Desk


class SimulatedClock:
    """The clock the units of work read (`UnitOfWork(..., clock=clock)`)."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def move_to(self, at: datetime) -> None:
        if at < self.now:
            raise ValueError(f"the demo clock cannot go back from {self.now} to {at}")
        self.now = at


def at_desk(at: datetime, desk: Desk, rng: Random) -> datetime:
    """`at`, or the next moment after it when someone at `desk` is working."""
    local = at.astimezone(desk.zone)
    while True:
        if local.weekday() in desk.days_off or local.time() >= desk.closes:
            local = _opening(local + timedelta(days=1), desk, rng)
        elif local.time() < desk.opens:
            local = _opening(local, desk, rng)
        else:
            return local.astimezone(at.tzinfo)


def _opening(day: datetime, desk: Desk, rng: Random) -> datetime:
    # Nobody acts at the stroke of opening time; the first hour and a half is spread out.
    start = day.replace(hour=desk.opens.hour, minute=desk.opens.minute, second=0, microsecond=0)
    return start + timedelta(minutes=rng.uniform(5, 95), seconds=rng.uniform(0, 59))


class Timing:
    """Chooses when a story acts next: a random delay, then the author's working hours, and
    never later than `latest`, so that everything happened before the demo was loaded."""

    def __init__(self, clock: SimulatedClock, latest: datetime) -> None:
        self.clock = clock
        self.latest = latest

    def first(self, at: datetime, rng: Random, desk: Desk) -> datetime:
        """When a story begins: `at` during working hours, yet before `latest`."""
        at = at_desk(at, desk, rng)
        return min(at, self.latest - timedelta(minutes=rng.uniform(30, 90)))

    def after(self, rng: Random, hours: tuple[float, float], desk: Desk) -> datetime:
        return self.not_before(self.clock.now + timedelta(hours=rng.uniform(*hours)), rng, desk)

    def not_before(self, at: datetime, rng: Random, desk: Desk) -> datetime:
        now = self.clock.now
        at = at_desk(max(at, now + timedelta(minutes=rng.uniform(3, 20))), desk, rng)
        if at <= self.latest:
            return at
        # A story that runs out of past squeezes its last steps into the time that is left,
        # at work if that fits, and a few minutes apart once even that is gone.
        room = self.latest - now
        if room > timedelta(minutes=10):
            squeezed = now + room * rng.uniform(0.1, 0.9)
            at_work = at_desk(squeezed, desk, rng)
            return at_work if at_work <= self.latest else squeezed
        return now + timedelta(minutes=rng.uniform(2, 8))
