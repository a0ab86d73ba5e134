"""How long will this run take? Measured on its first updates, said once: no silent 100-day run.

The paper's pixel setting (84x84 frames, heads of width 1024, batch 512, 500k frames) takes about a
second per update on a CPU core, so ``python -m course_lib.train --obs pixels --device cpu`` would
run for days without saying so. :class:`RunClock` times the first :data:`AFTER_UPDATES` updates of a
run (with the environment steps and acting between them: what the rest of the run will repeat) and,
if the whole run would take longer than :data:`WARN_ABOVE_S`, prints once to stderr the measured
time per update, the projected time of the run, and the ways out: ``--device cuda``, the
reduced-cost pixel setting ``--profile cpu`` (:data:`course_lib.config.CPU_PROFILE`), or a smaller
``--frames``. The projection counts training steps only; evaluations add to it.

The trainer calls :func:`after_update` once after every update; nothing else changes.
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import Callable, TextIO

#: Updates timed before the projection is made.
AFTER_UPDATES = 20
#: A run projected to take longer than this (seconds) gets the message.
WARN_ABOVE_S = 3600.0
#: The clock (seconds, monotonic) and the stream :func:`after_update` uses; a test may replace them.
clock: Callable[[], float] = time.perf_counter
stream: TextIO | None = None  # None: sys.stderr at the time of printing


def format_duration(seconds: float) -> str:
    """``42 s``, ``12.5 min``, ``3.2 h`` or ``4.1 days``."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.1f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


@dataclass
class Projection:
    """What the first updates measured and what it means for the whole run."""

    updates: int               # updates timed
    seconds_per_update: float  # wall time per update, with the agent steps between updates
    seconds_per_step: float    # wall time per agent step (update_every steps per update)
    total_steps: int           # agent steps of the whole run
    steps_left: int            # agent steps still to go

    @property
    def total_seconds(self) -> float:
        return self.seconds_per_step * self.total_steps

    @property
    def seconds_left(self) -> float:
        return self.seconds_per_step * self.steps_left

    def message(self, cfg, device, prog: str = "python -m course_lib.train") -> str:
        """The one-paragraph warning, naming the ways out that apply to this run."""
        ways = []
        if str(device).startswith("cpu"):
            ways.append("--device cuda on a machine with an NVIDIA GPU")
        if cfg.obs == "pixels" and getattr(cfg, "profile", "paper") != "cpu":
            ways.append("--profile cpu, the reduced-cost pixel setting for a CPU (smaller frames, batch "
                        "and heads, PlaNet's action repeat; the table is in python -m course_lib.train --help)")
        ways.append("a smaller --frames")
        return (f"{prog}: the first {self.updates} updates took {self.seconds_per_update:.3g} s each on "
                f"{device} (with the agent steps between them, {self.seconds_per_step:.3g} s per agent step). "
                f"At this rate the whole run of {self.total_steps} agent steps ({cfg.frames} frames) takes "
                f"about {format_duration(self.total_seconds)} ({format_duration(self.seconds_left)} still "
                f"to go), evaluations not included. Ways out: " + "; or ".join(ways) + ".")


class RunClock:
    """Times the first ``after_updates`` updates of a run and warns once if it projects too long.

    ``clock`` (seconds, monotonic) and ``stream`` can be replaced, e.g. by a test.
    """

    def __init__(self, cfg, device, after_updates: int = AFTER_UPDATES, warn_above_s: float = WARN_ABOVE_S,
                 clock: Callable[[], float] | None = None, stream: TextIO | None = None):
        if after_updates < 1:
            raise ValueError(f"after_updates must be >= 1, got {after_updates!r}")
        self.cfg, self.device = cfg, device
        self.after_updates, self.warn_above_s = after_updates, warn_above_s
        self.clock = clock or time.perf_counter
        self.stream = stream
        self._start: tuple[float, int] | None = None  # (time, agent step) after the first update
        self._count = 0
        self.projection: Projection | None = None
        self.warned = False

    def update_done(self, step: int) -> Projection | None:
        """Call after each update at agent step ``step``; returns the projection once it is made."""
        if self.projection is not None:
            return None
        now = self.clock()
        if self._start is None:  # the first update pays one-off costs (allocation, warm-up): skip it
            self._start = (now, step)
            return None
        self._count += 1
        if self._count < self.after_updates:
            return None
        t0, step0 = self._start
        elapsed, steps = now - t0, max(1, step - step0)
        self.projection = Projection(self._count, elapsed / self._count, elapsed / steps,
                                     self.cfg.agent_steps, max(0, self.cfg.agent_steps - step))
        if self.projection.total_seconds > self.warn_above_s:
            print(self.projection.message(self.cfg, self.device), file=self.stream or sys.stderr, flush=True)
            self.warned = True
        return self.projection


def after_update(trainer) -> None:
    """The trainer's hook: one :class:`RunClock` per trainer, created at its first update."""
    watch = trainer.__dict__.get("_run_clock")
    if watch is None:
        watch = trainer._run_clock = RunClock(trainer.cfg, trainer.device, AFTER_UPDATES, WARN_ABOVE_S,
                                              clock=clock, stream=stream)
    watch.update_done(trainer.step)
