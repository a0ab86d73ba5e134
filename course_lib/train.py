"""Train one agent on one dm_control task: the command line and the function notebooks call.

Command line (``--help`` lists every option with its default)::

    python -m course_lib.train --agent sac --obs state --task cartpole_swingup --frames 48000 --out runs/sac
    python -m course_lib.train --agent ddpg --obs pixels --task walker_walk --arch modern --depth 4 --sn \\
        --out runs/ddpg_modern4_sn --device cuda      # the paper's setting, on a GPU
    python -m course_lib.train --out runs/sac --resume    # continue after an interruption

From Python (a notebook)::

    from course_lib.config import TrainConfig
    from course_lib.train import train
    result = train(TrainConfig(agent="sac", obs="state", frames=48_000), callback=plot_event)
    result.eval        # pandas DataFrame: frame, eval_return, crashed

The loop (DrQ-v2's ``Workspace``, written out): at each agent step, evaluate when due (mean action,
separate environment), pick an action (uniformly random during the seed phase, then the agent's),
update the agent once every ``update_every`` steps after the seed phase, step the environment and
store the transition. Diagnostics are logged every ``log_every_frames`` frames
(:mod:`course_lib.diagnostics`). Frames count environment frames: agent steps x action repeat.

Run directory (the contract the results and sweep modules read)::

    config.json    every TrainConfig field, resolved, plus status ("running" | "complete" |
                   "crashed"), frames_done, crash_frame, crash_reason, device_used ("cpu", or
                   e.g. "cuda (NVIDIA H100 80GB HBM3; TF32 matmuls, TF32 convolutions, cuDNN autotuning)")
    eval.csv       frame, eval_return, crashed     (one row per evaluation; a crash adds a last
                   row at the crash frame with the last evaluation's return and crashed=1)
    train.csv      frame, critic_loss, actor_loss, q_mean, actor_grad_norm, critic_grad_norm,
                   alpha, nonfinite, sigma/critic/<layer>..., sigma/actor/<layer>...
    checkpoint.pt  agent, optimizers, replay buffer, loop state, every RNG (atomic writes)
    video.mp4      the first episode of the final evaluation

Resuming. Checkpoints are taken at episode ends (the first one after each
``checkpoint_every_frames``), where the environments' whole state is their random generator, and
when the budget is spent, also in the middle of an episode (the episode's start and actions, which
:meth:`course_lib.envs.DMCEnv.state_dict` replays exactly), so every finished run can be extended; with
the networks, optimizers, replay memory, loop counters, the rows written so far and the Python,
NumPy and torch generators restored, a resumed run repeats the uninterrupted run exactly on a CPU
(on CUDA up to non-deterministic kernels). A finished run continued with a larger ``--frames`` is
the run trained to that budget in one go: the replay ring grows to the capacity the longer run would
have had (:meth:`course_lib.replay.ReplayBuffer.capacity_to_resume`), and the finished run's final
evaluation is dropped unless it falls on the evaluation schedule. Exactly means on the same machine
and libraries: another CPU model or BLAS build rounds differently, and chaotic training amplifies that.

Crashes. If a loss, gradient, parameter or action becomes NaN or infinite, the run stops,
records the crash (as the paper does: "we report the performance before the crash", Sec. 3.1) and
the command exits with status 1. Bad input exits with status 2 and a one-line error, touching nothing.
"""
from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from course_lib import diagnostics, projection
from course_lib.config import TrainConfig, auto_defaults_table, build_parser
from course_lib.runtime import apply_cuda_settings, describe_device, pick_device, set_seed

RUN_FILES = ("config.json", "eval.csv", "train.csv", "checkpoint.pt", "video.mp4")
#: Fields that may differ when resuming: a longer budget, another device, a moved directory.
RESUME_MAY_CHANGE = frozenset({"frames", "device", "resume", "out", "video", "compile"})
EVAL_SEED_OFFSET = 10_000  # the evaluation environment starts from other states than training
VIDEO_SIZE = 256
CHECKPOINT_VERSION = 1


# ============================================================================ results and events
@dataclass
class Event:
    """What a ``callback`` receives after every evaluation (``kind="eval"``) and log row (``"log"``)."""

    kind: str
    frame: int
    row: dict
    eval_rows: list[dict]
    train_rows: list[dict]
    config: TrainConfig


@dataclass
class RunResult:
    """What :func:`train` returns. ``status``: complete, crashed, or stopped (by callback or flag)."""

    config: TrainConfig
    status: str
    frames_done: int
    eval: pd.DataFrame
    train: pd.DataFrame
    crash_frame: int | None = None
    crash_reason: str | None = None
    out: Path | None = None
    agent: Any = field(default=None, repr=False)

    @property
    def last_return(self) -> float | None:
        rows = self.eval[self.eval["crashed"] == 0] if len(self.eval) else self.eval
        return float(rows["eval_return"].iloc[-1]) if len(rows) else None


class _Crash(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


# ============================================================================ checks before anything
def prepare(config: TrainConfig) -> tuple[TrainConfig, torch.device, dict | None]:
    """Resolve and check a configuration without touching the disk.

    Returns ``(resolved config, device, stored run or None)``. Raises ``ValueError`` with a
    one-line message naming what is allowed: unknown agent/task/architecture, depth or frames
    below 1, ``cuda`` without a GPU, an output directory holding another run without ``resume``,
    or a resume whose settings differ from the stored run's.
    """
    from course_lib.envs import parse_task  # imports dm_control; kept out of `--help`

    cfg = config.resolved()
    parse_task(cfg.task)
    device = pick_device(cfg.device)
    stored = None
    if cfg.out is None:
        if cfg.resume:
            raise ValueError("resume needs the run directory: give --out DIR")
        return cfg, device, None
    out = Path(cfg.out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file; give a directory for the run")
    config_path = out / "config.json"
    if config_path.exists():
        try:
            stored = json.loads(config_path.read_text())
        except (json.JSONDecodeError, OSError) as err:
            raise ValueError(f"{config_path} is not readable JSON ({err}); choose another --out") from err
        if not cfg.resume:
            raise ValueError(
                f"--out {out} already holds a run ({stored.get('agent')} {stored.get('obs')} "
                f"{stored.get('task')}, status {stored.get('status')}); pass --resume to continue it "
                "or choose another --out")
        mine = cfg.to_dict()
        # A run stored before an option existed ran with that option's default.
        defaults = {f.name: f.default for f in dataclasses.fields(TrainConfig)}
        differing = [f"{k}={mine[k]!r} (stored {stored.get(k, defaults[k])!r})" for k in mine
                     if k not in RESUME_MAY_CHANGE and (k in stored or defaults[k] is not None)
                     and stored.get(k, defaults[k]) != mine[k]]
        if differing:
            raise ValueError(f"--resume: these settings differ from the run stored in {out}: "
                             f"{', '.join(differing)}; drop them or choose another --out")
    elif out.exists() and not cfg.resume:
        leftovers = [name for name in RUN_FILES if (out / name).exists()]
        if leftovers:
            raise ValueError(f"--out {out} holds run files ({', '.join(leftovers)}) but no config.json; "
                             "choose another --out")
    return cfg, device, stored


# ============================================================================ the run directory
def _atomic_write(path: Path, write: Callable[[io.IOBase], None], binary: bool = False) -> None:
    """Write to ``path.tmp``, flush to disk, then rename: a kill mid-write leaves the old file intact."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "wb" if binary else "w", newline=None if binary else "") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():  # the write failed: drop the partial file, keep the previous one
            tmp.unlink()


def _write_csv(path: Path, rows: list[dict], columns: list[str]) -> None:
    def write(f):
        writer = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    _atomic_write(path, write)


def _frame_table(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    """Rows as a DataFrame; the CSV's empty cells (e.g. DDPG's alpha) become NaN."""
    if not rows:
        return pd.DataFrame(columns=columns)
    rows = [{k: (None if v == "" else v) for k, v in row.items()} for row in rows]
    frame = pd.DataFrame(rows, columns=columns).astype(float)
    return frame.astype({c: int for c in ("frame", "crashed", "nonfinite") if c in frame.columns})


# ============================================================================ the trainer
class Trainer:
    """One run: environments, agent, replay, and the loop. Use :func:`train` rather than this class."""

    def __init__(self, cfg: TrainConfig, device: torch.device, progress: bool = True,
                 callback: Callable[[Event], Any] | None = None, stop=None,
                 update_fn: Callable[[Any, dict, int], dict] | None = None, agent_fn: Callable | None = None):
        from course_lib.agents import make_agent
        from course_lib.envs import make_env
        from course_lib.replay import DeviceFrameReplay, ReplayBuffer

        self.cfg, self.device = cfg, device
        self.out = Path(cfg.out) if cfg.out is not None else None
        self.progress, self.callback, self.stop = progress, callback, stop
        self.update_fn = update_fn  # None: the agent's own update
        set_seed(cfg.seed)
        apply_cuda_settings(device)  # CUDA: TF32 matmuls, cuDNN autotuning (config.json's device_used says so)

        self.env = make_env(cfg.task, cfg.obs, cfg.seed, cfg.action_repeat, cfg.frame_stack, cfg.image_size)
        self.eval_env = make_env(cfg.task, cfg.obs, cfg.seed + EVAL_SEED_OFFSET, cfg.action_repeat,
                                 cfg.frame_stack, cfg.image_size)
        self.agent = (agent_fn or make_agent)(cfg, self.env.obs_shape, self.env.action_dim, device)
        self.checkpoint = self._load_checkpoint() if (cfg.resume and self.out is not None) else None
        capacity = self._replay_capacity()
        if self.checkpoint:  # a longer continued run gets the larger ring a one-go run would have
            capacity = ReplayBuffer.capacity_to_resume(self.checkpoint["replay"], capacity)
        # On a GPU, pixel frames live in GPU memory too, so batches are gathered there (no 65 MB
        # host gather and copy per update); the same indices and values as on the CPU.
        replay_cls, extra = ReplayBuffer, {}
        if device.type == "cuda" and cfg.obs == "pixels":
            replay_cls, extra = DeviceFrameReplay, {"device": device}
        self.replay = replay_cls(capacity, self.env.obs_shape, self.env.action_dim, cfg.obs,
                                 cfg.frame_stack, cfg.n_step, cfg.discount, seed=cfg.seed, **extra)
        self.explore_rng = np.random.default_rng(cfg.seed)  # seed-phase uniform actions
        self.means = diagnostics.IntervalMeans()

        # Loop state (all of it goes into the checkpoint).
        self.step = 0
        self.episodes = 0
        self.next_eval_frame = 0
        self.next_log_frame = cfg.log_every_frames
        self.next_checkpoint_frame = cfg.checkpoint_every_frames
        self.eval_rows: list[dict] = []
        self.train_rows: list[dict] = []
        self.time_step = None
        self.status = "running"
        self.crash_frame: int | None = None
        self.crash_reason: str | None = None
        if self.checkpoint is not None:
            self._restore(self.checkpoint)
            self.checkpoint = None  # free the memory (the replay copy can be gigabytes)

    @property
    def frame(self) -> int:
        return self.step * self.cfg.action_repeat

    def _replay_capacity(self) -> int:
        # Never allocate more than the run can fill: one slot per agent step plus one per episode start.
        per_episode = self.env.max_episode_agent_steps or self.cfg.agent_steps
        needed = self.cfg.agent_steps + self.cfg.agent_steps // per_episode + 2
        return max(2, min(self.cfg.replay_capacity, needed))

    # ------------------------------------------------------------------------ the loop
    def run(self) -> str:
        cfg = self.cfg
        self._write_config()
        self._write_tables()
        # TQDM_DISABLE (set while notebooks are tested) is honoured here because tqdm's notebook bar,
        # which tqdm.auto picks inside Jupyter, ignores that variable (tqdm 4.70).
        bar = tqdm(total=cfg.frames, initial=min(self.frame, cfg.frames), unit="frame", unit_scale=True,
                   desc=f"{cfg.agent} {cfg.obs} {cfg.task}", dynamic_ncols=True,
                   disable=not self.progress or _tqdm_disabled_by_environment())
        if self.eval_rows:
            bar.set_postfix(eval_return=f"{self.eval_rows[-1]['eval_return']:.1f}")
        try:
            while self.step < cfg.agent_steps:
                if self.time_step is None or self.time_step.last:
                    if self.out is not None and self.frame >= self.next_checkpoint_frame:
                        while self.next_checkpoint_frame <= self.frame:
                            self.next_checkpoint_frame += cfg.checkpoint_every_frames
                        self._save_checkpoint()
                    self.time_step = self.env.reset()
                    self.replay.add_first(self.time_step.observation)
                    self.episodes += 1

                if self.frame >= self.next_eval_frame:
                    self.next_eval_frame += cfg.eval_every_frames
                    if self._evaluate(bar):
                        return self._finish("stopped", bar)

                if self.frame < cfg.seed_frames:
                    action = self.explore_rng.uniform(-1.0, 1.0, self.env.action_dim).astype(np.float32)
                else:
                    action = self.agent.act(self.time_step.observation, self.step, eval_mode=False)
                    if not np.all(np.isfinite(action)):
                        raise _Crash("the actor produced a non-finite action")

                if self.frame >= cfg.seed_frames and self.step % cfg.update_every == 0:
                    self._update()

                self.time_step = self.env.step(action)
                ts = self.time_step
                self.replay.add(action, ts.reward, ts.discount, ts.observation, ts.last)
                self.step += 1
                bar.update(cfg.action_repeat)

                if self.frame >= self.next_log_frame:
                    while self.next_log_frame <= self.frame:
                        self.next_log_frame += cfg.log_every_frames
                    if self._log():
                        return self._finish("stopped", bar)
                if self._stop_requested():
                    return self._finish("stopped", bar)

            # The budget is spent. Checkpoint (before the final evaluation, so that a longer resumed
            # run repeats the uninterrupted one), at an episode end or in the middle of one: every
            # finished run can be extended. Then evaluate and film.
            if self.out is not None and self.time_step is not None:
                self._save_checkpoint()
            self._evaluate(bar, video=cfg.video and self.out is not None)
            return self._finish("complete", bar)
        except _Crash as crash:
            return self._crash(crash.reason, bar)

    def _stop_requested(self) -> bool:
        if self.stop is None:
            return False
        return bool(self.stop.is_set() if hasattr(self.stop, "is_set") else self.stop())

    def _update(self) -> None:
        from course_lib.replay import to_torch

        batch = to_torch(self.replay.sample(self.cfg.batch_size), self.device)
        if self.update_fn is None:
            metrics = self.agent.update(batch, self.step)
        else:  # e.g. a student's sac_update (notebook 06's capstone) in place of the agent's own
            metrics = self.update_fn(self.agent, batch, self.step)
        self.means.add(metrics)
        projection.after_update(self)  # once, after the first updates: warns if the run would take hours

    # ------------------------------------------------------------------------ evaluation
    def _evaluate(self, bar, video: bool = False) -> bool:
        """Mean return of ``eval_episodes`` episodes with the mean action; returns True to stop."""
        returns, frames = [], []
        for episode in range(self.cfg.eval_episodes):
            ts = self.eval_env.reset()
            record = video and episode == 0
            if record:
                frames.append(self.eval_env.render(VIDEO_SIZE))
            total = 0.0
            while not ts.last:
                action = self.agent.act(ts.observation, self.step, eval_mode=True)
                if not np.all(np.isfinite(action)):
                    raise _Crash("the actor produced a non-finite action during evaluation")
                ts = self.eval_env.step(action)
                total += ts.reward
                if record:
                    frames.append(self.eval_env.render(VIDEO_SIZE))
            returns.append(total)
        row = {"frame": self.frame, "eval_return": float(np.mean(returns)), "crashed": 0}
        self.eval_rows.append(row)
        bar.set_postfix(eval_return=f"{row['eval_return']:.1f}")
        if self.out is not None:
            _write_csv(self.out / "eval.csv", self.eval_rows, diagnostics.EVAL_COLUMNS)
            if frames:
                import imageio.v2 as imageio
                imageio.mimwrite(self.out / "video.mp4", frames, fps=30, macro_block_size=1)
        return self._notify("eval", row)

    # ------------------------------------------------------------------------ diagnostics
    def _log(self) -> bool:
        """One train.csv row of interval means; a non-finite value crashes the run."""
        if not self.means.counts and self.means.nonfinite is None:
            return False  # seed phase: no update yet, nothing to report
        means, bad = self.means.pull()
        bad = bad or diagnostics.parameters_nonfinite(self.agent.networks().values())
        row = diagnostics.train_row(self.frame, means, bad, self.agent.head_modules())
        self.train_rows.append(row)
        if self.out is not None:
            self._write_tables(eval_too=False)
        if bad:
            raise _Crash("a loss, gradient or parameter became non-finite (NaN or inf)")
        return self._notify("log", row)

    def _notify(self, kind: str, row: dict) -> bool:
        if self.callback is None:
            return self._stop_requested()
        answer = self.callback(Event(kind, self.frame, row, self.eval_rows, self.train_rows, self.cfg))
        return bool(answer) or self._stop_requested()

    # ------------------------------------------------------------------------ endings
    def _crash(self, reason: str, bar) -> str:
        self.status, self.crash_frame, self.crash_reason = "crashed", self.frame, reason
        if not self.train_rows or self.train_rows[-1]["frame"] != self.frame or not self.train_rows[-1]["nonfinite"]:
            means, _ = self.means.pull()
            self.train_rows.append(diagnostics.train_row(self.frame, means, True, self.agent.head_modules()))
        last = next((r["eval_return"] for r in reversed(self.eval_rows) if not r["crashed"]), float("nan"))
        self.eval_rows.append({"frame": self.frame, "eval_return": last, "crashed": 1})
        bar.close()
        if self.out is not None:
            self._write_tables()
            self._write_config()
        return "crashed"

    def _finish(self, status: str, bar) -> str:
        bar.close()
        self.status = "complete" if status == "complete" else "running"
        if self.out is not None:
            self._write_tables()
            self._write_config()
        return status

    # ------------------------------------------------------------------------ files
    def _write_config(self) -> None:
        if self.out is None:
            return
        self.out.mkdir(parents=True, exist_ok=True)
        record = {**self.cfg.to_dict(), "status": self.status, "frames_done": self.frame,
                  "crash_frame": self.crash_frame, "crash_reason": self.crash_reason,
                  "device_used": describe_device(self.device)}
        _atomic_write(self.out / "config.json", lambda f: f.write(json.dumps(record, indent=2) + "\n"))

    def train_columns(self) -> list[str]:
        sigmas = [k for row in self.train_rows[:1] for k in row if k.startswith("sigma/")]
        return diagnostics.TRAIN_COLUMNS + sigmas

    def _write_tables(self, eval_too: bool = True) -> None:
        if self.out is None:
            return
        self.out.mkdir(parents=True, exist_ok=True)
        if eval_too:
            _write_csv(self.out / "eval.csv", self.eval_rows, diagnostics.EVAL_COLUMNS)
        _write_csv(self.out / "train.csv", self.train_rows, self.train_columns())

    # ------------------------------------------------------------------------ checkpoints
    def _save_checkpoint(self) -> None:
        state = {
            "version": CHECKPOINT_VERSION,
            "config": self.cfg.to_dict(),
            "agent": self.agent.state_dict(),
            "replay": self.replay.state_dict(),
            "loop": {
                "step": self.step, "episodes": self.episodes,
                "next_eval_frame": self.next_eval_frame, "next_log_frame": self.next_log_frame,
                "next_checkpoint_frame": self.next_checkpoint_frame,
                "eval_rows": list(self.eval_rows), "train_rows": list(self.train_rows),
                "means": self.means.state_dict(),
            },
            "rng": {
                "python": random.getstate(), "numpy": np.random.get_state(),
                "torch": torch.get_rng_state(),
                "cuda": cuda_rng_state(self.device),
                "explore": self.explore_rng.bit_generator.state,
                "env": self.env.get_rng_state(),  # at an episode end: the environment's whole state
                # In the middle of an episode (only when the budget ends there): the episode so far,
                # which course_lib.envs replays bit for bit on resume.
                "env_episode": (self.env.state_dict() if self.time_step is not None and not self.time_step.last
                                else None),
                "eval_env": self.eval_env.get_rng_state(),
            },
        }
        _atomic_write(self.out / "checkpoint.pt", lambda f: torch.save(state, f), binary=True)
        self._write_config()  # frames_done follows the checkpoint

    def _load_checkpoint(self) -> dict | None:
        path = self.out / "checkpoint.pt"
        if not path.exists():
            return None
        state = torch.load(path, map_location="cpu", weights_only=False)
        if state.get("version") != CHECKPOINT_VERSION:
            raise ValueError(f"{path} was written by another version of course_lib.train")
        return state

    def _restore(self, state: dict) -> None:
        self.agent.load_state_dict(state["agent"])
        self.replay.load_state_dict(state["replay"])
        loop = state["loop"]
        self.step, self.episodes = loop["step"], loop["episodes"]
        self.next_eval_frame, self.next_log_frame = loop["next_eval_frame"], loop["next_log_frame"]
        self.next_checkpoint_frame = loop["next_checkpoint_frame"]
        self.eval_rows, self.train_rows = list(loop["eval_rows"]), list(loop["train_rows"])
        self.means.load_state_dict(loop["means"], self.device)
        rng = state["rng"]
        random.setstate(rng["python"])
        np.random.set_state(rng["numpy"])
        torch.set_rng_state(rng["torch"])
        restore_cuda_rng_state(rng["cuda"], self.device)
        self.explore_rng.bit_generator.state = rng["explore"]
        self.env.set_rng_state(rng["env"])
        self.eval_env.set_rng_state(rng["eval_env"])
        self.time_step = None  # at an episode end: the next step resets
        if rng.get("env_episode") is not None:  # taken mid-episode: continue that episode
            self.time_step = self.env.load_state_dict(rng["env_episode"])

    def result(self, status: str) -> RunResult:
        return RunResult(
            config=self.cfg, status=status, frames_done=self.frame,
            eval=_frame_table(self.eval_rows, diagnostics.EVAL_COLUMNS),
            train=_frame_table(self.train_rows, self.train_columns()),
            crash_frame=self.crash_frame, crash_reason=self.crash_reason, out=self.out, agent=self.agent)


def cuda_rng_state(device: torch.device) -> list[torch.Tensor] | None:
    """Every visible GPU's generator state for a CUDA run's checkpoint; None for a CPU run.

    A CPU run does not touch CUDA at all, even on a machine with GPUs: reading their generators
    would start a CUDA context on each of them.
    """
    return torch.cuda.get_rng_state_all() if device.type == "cuda" else None


def restore_cuda_rng_state(states: list[torch.Tensor] | None, device: torch.device) -> None:
    """Restore what :func:`cuda_rng_state` saved, for the GPUs this process sees.

    A run may resume where fewer GPUs are visible than where it was saved (e.g. under a scheduler
    that sets ``CUDA_VISIBLE_DEVICES``): ``torch.cuda.set_rng_state_all`` would then fail on the
    missing ones. A checkpoint of a CPU run (None) leaves the generators as seeded.
    """
    if states is None or device.type != "cuda":
        return
    for index, state in enumerate(states[:torch.cuda.device_count()]):
        torch.cuda.set_rng_state(state, index)


# ============================================================================ the function
def _tqdm_disabled_by_environment() -> bool:
    """True when the TQDM_DISABLE environment variable asks for no progress bars."""
    return os.environ.get("TQDM_DISABLE", "").strip().lower() not in ("", "0", "false", "no")


def train(config: TrainConfig, progress: bool = True, callback: Callable[[Event], Any] | None = None,
          stop=None, update_fn: Callable[[Any, dict, int], dict] | None = None,
          agent_fn: Callable | None = None) -> RunResult:
    """Train one agent as ``config`` says; return its evaluations, diagnostics and the agent.

    Args:
        config: a :class:`TrainConfig` (auto fields are resolved here). ``config.out=None`` keeps
            everything in memory (nothing is written); with a directory the run-directory files
            are written as the run goes (see the module docstring).
        progress: show a tqdm progress bar (frames, frames/s, last evaluation return).
        callback: called as ``callback(event)`` after every evaluation and every train.csv row
            (:class:`Event` holds the new row and all rows so far, e.g. for a live plot). Return
            ``True`` to stop the run early.
        stop: optional flag checked after every agent step: a ``threading.Event`` or a function
            returning ``True`` to stop (e.g. a Stop button).
        update_fn: optional ``update_fn(agent, batch, step) -> metrics`` called instead of
            ``agent.update(batch, step)`` at every update: a hand-written update (notebook 06's
            capstone, ``sac_update``) trained by the course's loop. It gets the agent, the sampled
            batch of tensors and the agent step, and returns a dict of 0-d tensors (logged in
            train.csv where the names match its columns). A resumed run must be given it again.
        agent_fn: optional ``agent_fn(config, obs_shape, action_dim, device) -> agent`` called
            instead of :func:`course_lib.agents.make_agent` to build the agent: e.g. a SAC agent
            whose critic uses a hand-written spectral normalization (notebook 04's capstone,
            ``SACAgent(..., critic_spectral_norm_fn=...)``). A resumed run must be given it again.

    A stopped run keeps status ``"running"`` in config.json and can be resumed from its last
    checkpoint. Raises ``ValueError`` for bad settings (before anything is written).
    """
    cfg, device, stored = prepare(config)
    if stored is not None and stored.get("status") in ("complete", "crashed"):
        done = stored.get("frames_done") or 0
        if stored["status"] == "crashed" or done >= cfg.frames:
            return _stored_result(cfg, stored)
    trainer = Trainer(cfg, device, progress=progress, callback=callback, stop=stop, update_fn=update_fn,
                      agent_fn=agent_fn)
    status = trainer.run()
    return trainer.result(status)


def _stored_result(cfg: TrainConfig, stored: dict) -> RunResult:
    out = Path(cfg.out)
    read = lambda name: pd.read_csv(out / name) if (out / name).exists() else pd.DataFrame()
    return RunResult(config=cfg, status=stored["status"], frames_done=int(stored.get("frames_done") or 0),
                     eval=read("eval.csv"), train=read("train.csv"), crash_frame=stored.get("crash_frame"),
                     crash_reason=stored.get("crash_reason"), out=out)


# ============================================================================ the command line
EPILOG = """\
auto defaults (fields left unset take these values per observation type and agent):
{table}
  state action repeat per domain (PlaNet / DrQ): cartpole 8, finger 2, walker 2, all others 4.
  pixels DDPG on walker tasks: batch 512 and n-step 1; on DrQ-v2's medium tasks (e.g. reacher_easy,
  cartpole_swingup_sparse) the exploration std decays over 500000 agent steps (DrQ-v2 configs).
  Actor head: --actor-arch/--actor-depth/--actor-sn override; otherwise the actor copies the
  critic's --arch and --sn, with depth = --depth for mlp and max(1, depth // 2) for modern (the
  paper: critic 4 blocks, actor 2).

examples:
  python -m course_lib.train --agent sac --obs state --task cartpole_swingup --out runs/sac_state
  python -m course_lib.train --agent sac --obs pixels --task cartpole_swingup --arch modern --depth 4 --sn \\
      --out runs/sac_modern4_sn --device cuda
  python -m course_lib.train --out runs/sac_state --resume
"""


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = build_parser(description="Train SAC (DrQ) or DDPG (DrQ-v2) on a dm_control task; "
                                      "writes config.json, eval.csv, train.csv, checkpoint.pt, video.mp4.")
    parser.epilog = EPILOG.format(table=auto_defaults_table())
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    given = vars(parser.parse_args(argv))
    prog = parser.prog
    if "out" not in given:
        print(f"{prog}: error: --out DIR is required (the run directory for config.json, eval.csv, ...)",
              file=sys.stderr)
        return 2
    values: dict[str, Any] = {}
    stored_path = Path(given["out"]) / "config.json"
    if given.get("resume") and stored_path.exists():
        try:
            values.update(json.loads(stored_path.read_text()))  # the stored run's settings ...
        except (json.JSONDecodeError, OSError):
            pass  # prepare() reports it
    values.update(given)  # ... and what was given explicitly (prepare() rejects changes)
    try:
        config = TrainConfig.from_dict(values)
        prepare(config)
    except (ValueError, TypeError) as err:
        print(f"{prog}: error: {' '.join(str(err).split())}", file=sys.stderr)
        return 2
    started = time.time()
    try:
        result = train(config, progress=True)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted; continue with --out {given['out']} --resume", file=sys.stderr)
        return 130
    if result.status == "crashed":
        print(f"{prog}: run crashed at frame {result.crash_frame}: {result.crash_reason}; "
              f"last evaluation return before the crash: {result.last_return}. "
              f"Recorded in {result.out}/eval.csv and config.json.", file=sys.stderr)
        return 1
    last = result.last_return
    print(f"{result.status}: {result.frames_done} frames, last eval return "
          f"{'n/a' if last is None else f'{last:.1f}'}, {time.time() - started:.0f} s -> {result.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
