"""One training run's configuration: a dataclass whose fields are the whole CLI.

As in CleanRL, the dataclass *is* the configuration and the ``--help``: every field has a type, a
default and a docstring, and ``python -m course_lib.train`` builds its argument parser from them
(:func:`build_parser`). Notebooks and sweeps build the same object directly::

    cfg = TrainConfig(agent="sac", obs="state", task="cartpole_swingup", frames=48_000, seed=1)
    cfg = cfg.resolved()          # fills the "auto" fields for this agent and observation type

A field whose default is ``None`` means *auto*: its value depends on the agent and the observation
type, taken from :data:`AUTO_DEFAULTS`:

* ``--obs pixels``: the paper's settings, i.e. DrQ's for SAC and DrQ-v2's for DDPG (see the course plan;
  the paper says it adopts those agents' hyperparameters, Sec. 3.1 and 5.3, and lists DrQ's in its
  Appendix B, which comes with the arXiv version, arXiv:2106.01151; the values here are taken from
  the DrQ and DrQ-v2 papers and configs and have not been checked against that appendix).
* ``--obs state``: small settings chosen so that a run learns cartpole_swingup on one CPU core in
  about two minutes, with the base MLP head and with a 4-block modern head with SN alike (hidden
  width 64, batch 256, PlaNet's action repeat per domain: 8 for cartpole, 48k frames).

* ``--profile cpu`` (pixels only): a reduced-cost pixel setting, :data:`CPU_PROFILE`, that fills the
  auto fields instead of the paper's values (explicitly given options still win). The table below
  is exactly what differs from the paper's setting, and why; everything else (encoder design,
  random-shift augmentation, replay, K/M target and critic views, n-step returns, learning rates,
  tau, update rhythms, seed frames) stays the paper's agent.

  ===================  ====================  =================  ==============================================
  field                paper (SAC / DDPG)    cpu                why
  ===================  ====================  =================  ==============================================
  image_size           84                    48                 the conv encoder's work grows with the pixels
                                                                and dominates a CPU update: 0.31x (4 convs
                                                                work from 11x11 up; features 32x17x17)
  batch_size           512 / 256             64                 update time ~ batch: 8x / 4x less
  hidden_dim           1024                  256                the heads' hidden matmuls cost 16x less
  action_repeat        2                     PlaNet's: 8        4x fewer agent steps (renders, updates) per
                                             cartpole, 2        frame on cartpole (DrQ's own value there),
                                             finger/walker,     the state runs' per-domain values elsewhere
                                             else 4
  frames               500000                6250 agent steps   ~25 CPU-minutes for SAC (0.22 s per update on
                                             x repeat (50000    one core), ~8 for DDPG (an update every 2nd
                                             on cartpole)       step, 0.11 s each; bench_update, mlp2)
  std_decay_steps      100000 (500000)       200000 (1M)        DDPG's noise schedule kept in *frames*: DrQ-v2
  (DDPG)               agent steps           frames / repeat    decays over 100k steps x repeat 2 = 200k frames
  eval_episodes        10                    5                  evaluation is a large part of a short run
  eval_every_frames    10000                 625 steps x repeat a curve of 10 points, not two
  log_every_frames     5000                  250 steps x repeat train.csv rows at the same density
  checkpoint_every_..  100000                2500 steps x rep.  2 checkpoints in a 6250-step run (for --resume)
  ===================  ====================  =================  ==============================================

Fidelity notes (where this code knowingly differs from, or silently depends on, the references):

* Pixel scaling: SAC's encoder scales frames as ``x/255`` (DrQ's ``Encoder.forward_conv``), DDPG's
  as ``x/255 - 0.5`` (DrQ-v2's ``Encoder.forward``): :class:`course_lib.nets.ConvEncoder` ``scaling``.
* TF32: on CUDA, :class:`course_lib.train.Trainer` calls :func:`course_lib.runtime.apply_cuda_settings`
  (so do the benchmarks): CUDA's own ``torch.backends.cuda.matmul.allow_tf32`` and
  ``cudnn.benchmark``, never the process-wide ``set_float32_matmul_precision``, which in torch 2.13
  also switches CPU matmuls. So float32 matmuls run in TF32 (10-bit mantissa) on Ampere and later
  GPUs, as cuDNN convolutions already do by PyTorch's default: faster, not bit-identical to a CPU
  run; ``config.json``'s ``device_used`` says so. The paper timed its agents on V100
  GPUs (Table 3), which have no TF32: its runs were full float32.
* Evaluation seed: the evaluation environment is seeded with ``seed + 10000``
  (``course_lib.train.EVAL_SEED_OFFSET``), so it starts from other states than training.
* n-step windows at an episode's tail: :class:`course_lib.replay.ReplayBuffer` samples every step
  that has a successor, cutting the window short (``k < n`` rewards, discount ``gamma^k``) near the
  episode's end and at the newest step; DrQ-v2's ``ReplayBuffer._sample`` draws only full windows
  (``idx`` in ``[1, len - n + 1]``), from finished episodes only, so the last ``n - 1`` steps of an
  episode are never a window's start there. With n = 1 (SAC, state DDPG) the two agree.

``config.json`` of a run directory stores the *resolved* configuration (no ``None`` left except
for the optional actor overrides, which are resolved too), so a run is fully described by it.
"""
from __future__ import annotations

import argparse
import ast
import dataclasses
import inspect
import math
import textwrap
from dataclasses import dataclass, fields
from typing import Any, Optional

AGENTS = ("sac", "ddpg")
OBS_TYPES = ("state", "pixels")
ARCHS = ("mlp", "modern")
PROFILES = ("paper", "cpu")
PNORM_CHOICES = ("none", "actor", "critic", "both")

# DrQ-v2 (cfgs/task/*.yaml) splits its tasks into "easy" (exploration std decays over 100k agent
# steps) and "medium" (over 500k); walker tasks also use batch 512 and 1-step returns.
DRQV2_MEDIUM_TASKS = frozenset({
    "acrobot_swingup", "cartpole_swingup_sparse", "cheetah_run", "finger_turn_easy",
    "finger_turn_hard", "hopper_hop", "quadruped_run", "quadruped_walk", "reacher_easy",
    "reacher_hard", "walker_run",
})


@dataclass
class TrainConfig:
    """Everything that defines one training run (see the module docstring)."""

    # --- what to train ---------------------------------------------------------------------
    agent: str = "sac"
    """agent: sac (soft actor-critic, DrQ recipe) or ddpg (deterministic policy gradient, DrQ-v2 recipe)"""
    obs: str = "state"
    """observations: state (dm_control's proprioceptive vector) or pixels (84x84 RGB, 3 stacked frames)"""
    task: str = "cartpole_swingup"
    """dm_control task written domain_task, e.g. cartpole_swingup, ball_in_cup_catch, walker_walk"""
    frames: Optional[int] = None
    """training budget in environment frames (agent steps x action repeat) [auto: state 48000, pixels 500000 (the paper)]"""
    seed: int = 1
    """random seed (network init, exploration, replay sampling, environment start states)"""
    profile: str = "paper"
    """which values the auto fields take from pixels: paper (DrQ / DrQ-v2) or cpu (the reduced-cost pixel setting, see config.CPU_PROFILE); explicit options always win"""

    # --- the heads: what the paper varies ---------------------------------------------------
    arch: str = "mlp"
    """critic head architecture (and actor's unless --actor-arch): mlp or modern (pre-LN residual blocks, Sec. 3.2)"""
    depth: int = 2
    """critic head depth: hidden layers (mlp) or residual blocks (modern); the paper uses mlp 2/4 and modern 4"""
    sn: bool = False
    """spectral normalization on every head Linear except the first and last (Sec. 5.1), critic and (unless --actor-sn) actor"""
    actor_arch: Optional[str] = None
    """actor head architecture [auto: same as --arch]"""
    actor_depth: Optional[int] = None
    """actor head depth [auto: mlp the critic's depth; modern max(1, depth // 2), the paper's 4 critic / 2 actor blocks]"""
    actor_sn: Optional[bool] = None
    """spectral normalization in the actor head [auto: same as --sn]"""
    hidden_dim: Optional[int] = None
    """width of the heads [auto: state 64 (a deep modern head stays CPU-cheap), pixels 1024 (DrQ / DrQ-v2)]"""
    feature_dim: int = 50
    """pixels only: size of the trunk's feature vector (Linear -> LayerNorm -> tanh after the conv encoder)"""
    pnorm: str = "none"
    """penultimate normalization (Bjorck et al. 2022, arXiv 2110.11222): none, actor, critic or both heads L2-normalize the features entering their last Linear"""

    # --- environment ----------------------------------------------------------------------
    action_repeat: Optional[int] = None
    """control steps per agent step, rewards summed [auto: pixels 2 (the paper's Table 2 setting); state per domain as PlaNet/DrQ: cartpole 8, finger and walker 2, others 4]"""
    frame_stack: int = 3
    """pixels only: consecutive frames stacked into one observation"""
    image_size: Optional[int] = None
    """pixels only: rendered frame size (square) [auto: 84; --profile cpu 48]"""

    # --- learning ----------------------------------------------------------------------------
    batch_size: Optional[int] = None
    """transitions per update [auto: state 256; pixels SAC 512 (the paper), DDPG 256 (walker tasks 512, as DrQ-v2)]"""
    lr: Optional[float] = None
    """Adam learning rate of actor, critic (+encoder) and alpha [auto: SAC 1e-3; DDPG state 1e-3, pixels 1e-4]"""
    discount: float = 0.99
    """discount factor gamma of eq. (2)"""
    lr_reference_width: int = 0
    """if > 0, Adam's lr of each head matrix whose fan-in grows with the width (all Linears but a head's first) is lr x lr_reference_width / hidden_dim: the per-step change of a width-1024 network at this width (course_lib.agents.step_size); 0 = one lr for all"""
    sigma_scaled_steps: bool = False
    """divide the Adam update of each layer SN would normalize by that layer's spectral norm, with no normalization in the forward pass (Gogianu et al. 2021's optimizer view of SN; course_lib.agents.step_size); not with --sn"""
    pre_tanh_penalty: float = 0.0
    """coefficient of the mean squared pre-tanh action added to the actor loss (Bjorck et al. 2022; SAC: of the Gaussian's mean); 0 = off"""
    n_step: Optional[int] = None
    """n-step returns in the critic target [auto: SAC 1; DDPG pixels 3 (walker tasks 1, as DrQ-v2), DDPG state 1 (3 stalled at ~150 on cartpole_swingup)]"""
    tau: float = 0.01
    """target network EMA rate: target <- (1 - tau) target + tau online (SAC: critic and encoder; DDPG: critic)"""
    target_update_every: Optional[int] = None
    """updates between target EMA steps [auto: SAC 2, DDPG 1]"""
    actor_update_every: Optional[int] = None
    """updates between actor (and alpha) steps [auto: SAC 2, DDPG 1]"""
    update_every: Optional[int] = None
    """agent steps between updates [auto: 1; pixel DDPG 2 (DrQ-v2)]"""
    replay_capacity: Optional[int] = None
    """replay memory size in agent steps (capped at the run's length) [auto: state 100000; pixels SAC 100000, DDPG 1000000]"""
    seed_frames: Optional[int] = None
    """frames of uniformly random actions before the first update [auto: state 4000; pixels SAC 2000, DDPG 4000]"""
    target_augs: Optional[int] = None
    """pixels: K, augmented copies of next_obs averaged in the target (DrQ) [auto: SAC 2, DDPG 1; state 1]"""
    critic_augs: Optional[int] = None
    """pixels: M, augmented copies of obs whose critic losses are summed (DrQ) [auto: SAC 2, DDPG 1; state 1]"""
    augment_pad: int = 4
    """pixels: random-shift augmentation pad in pixels"""

    # --- SAC only ----------------------------------------------------------------------------
    init_temperature: float = 0.1
    """SAC: initial entropy temperature alpha (learned towards target entropy -|A|)"""
    fixed_alpha: bool = False
    """SAC: hold the temperature alpha at --init-temperature (no temperature loss, no alpha step)"""
    log_std_min: float = -10.0
    """SAC: lower bound of the policy's log standard deviation"""
    log_std_max: float = 2.0
    """SAC: upper bound of the policy's log standard deviation"""

    # --- DDPG only ---------------------------------------------------------------------------
    std_start: float = 1.0
    """DDPG: exploration std at the first agent step"""
    std_end: float = 0.1
    """DDPG: exploration std after std_decay_steps agent steps"""
    std_decay_steps: Optional[int] = None
    """DDPG: agent steps of the linear std schedule [auto: state 5000; pixels 100000 (DrQ-v2 easy) or 500000 (medium tasks)]"""
    std_clip: float = 0.3
    """DDPG: noise clip on target and actor-update actions (DrQ-v2)"""

    # --- evaluation, logging, checkpoints -----------------------------------------------------
    eval_every_frames: Optional[int] = None
    """frames between evaluations (also at frame 0 and at the end) [auto: state 8000, pixels 10000]"""
    eval_episodes: Optional[int] = None
    """episodes per evaluation, mean action [auto: state 5, pixels 10]"""
    log_every_frames: Optional[int] = None
    """frames between train.csv rows of diagnostics [auto: state 1000, pixels 5000]"""
    checkpoint_every_frames: Optional[int] = None
    """frames between checkpoints, written at the next episode end [auto: state 8000, pixels 100000]"""
    video: bool = True
    """save video.mp4 of the first episode of the final evaluation"""

    # --- where and how -------------------------------------------------------------------------
    out: Optional[str] = None
    """run directory for config.json, eval.csv, train.csv, checkpoint.pt, video.mp4 (notebooks: None writes nothing)"""
    device: str = "auto"
    """auto (CUDA if a GPU is visible, else CPU), cpu, or cuda"""
    resume: bool = False
    """continue the run stored in --out from its checkpoint (gives the same eval.csv as an uninterrupted run)"""
    compile: bool = False
    """torch.compile the networks (pays off on CUDA; off by default, and slow to start on CPU)"""

    # ------------------------------------------------------------------------------------------
    def resolved(self) -> "TrainConfig":
        """A copy with every auto (``None``) field filled in and every value checked.

        Raises ``ValueError`` naming the field and what is allowed.
        """
        self._check_choices()
        values = dataclasses.asdict(self)
        for name, value in values.items():
            if value is None and name in AUTO_DEFAULTS:
                values[name] = auto_default(name, self.agent, self.obs, self.task, self.profile)
        if values["actor_arch"] is None:
            values["actor_arch"] = values["arch"]
        if values["actor_depth"] is None:
            values["actor_depth"] = default_actor_depth(values["actor_arch"], values["depth"])
        if values["actor_sn"] is None:
            values["actor_sn"] = values["sn"]
        cfg = TrainConfig(**values)
        cfg._check_values()
        return cfg

    def _check_choices(self) -> None:
        _check_choice("agent", self.agent, AGENTS)
        _check_choice("obs", self.obs, OBS_TYPES)
        _check_choice("arch", self.arch, ARCHS)
        _check_choice("profile", self.profile, PROFILES)
        _check_choice("pnorm", self.pnorm, PNORM_CHOICES)
        if self.profile == "cpu" and self.obs != "pixels":
            raise ValueError("profile cpu is the reduced-cost *pixel* setting; with --obs state drop --profile "
                             "(the state defaults are already CPU-sized)")
        if self.actor_arch is not None:
            _check_choice("actor_arch", self.actor_arch, ARCHS)
        if not isinstance(self.task, str) or not self.task:
            raise ValueError(f"task must be a dm_control task name like cartpole_swingup, got {self.task!r}")

    def _check_values(self) -> None:
        for name in ("frames", "depth", "actor_depth", "hidden_dim", "feature_dim", "action_repeat",
                     "frame_stack", "batch_size", "n_step", "target_update_every", "actor_update_every",
                     "update_every", "eval_every_frames", "eval_episodes", "log_every_frames",
                     "checkpoint_every_frames", "target_augs", "critic_augs", "std_decay_steps"):
            _check_int(name, getattr(self, name), 1)
        _check_int("seed", self.seed, 0)
        _check_int("seed_frames", self.seed_frames, 0)
        _check_int("augment_pad", self.augment_pad, 0)
        _check_int("replay_capacity", self.replay_capacity, 2)
        _check_int("image_size", self.image_size, 16)
        _check_int("lr_reference_width", self.lr_reference_width, 0)
        for name in ("lr", "init_temperature", "std_start", "std_end"):
            _check_float(name, getattr(self, name), low=0.0, low_open=True)
        _check_float("pre_tanh_penalty", self.pre_tanh_penalty, low=0.0)
        _check_float("discount", self.discount, 0.0, 1.0)
        _check_float("tau", self.tau, 0.0, 1.0, low_open=True)
        _check_float("std_clip", self.std_clip, low=0.0, low_open=True)
        if not self.log_std_min < self.log_std_max:
            raise ValueError(f"log_std_min ({self.log_std_min}) must be below log_std_max ({self.log_std_max})")
        for name in ("sn", "actor_sn", "video", "resume", "compile", "fixed_alpha", "sigma_scaled_steps"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be true or false, got {getattr(self, name)!r}")
        if self.fixed_alpha and self.agent != "sac":
            raise ValueError("fixed_alpha holds SAC's temperature; DDPG has none: drop --fixed-alpha or use --agent sac")
        if self.sigma_scaled_steps:
            if self.sn or self.actor_sn:
                raise ValueError("sigma_scaled_steps is the control *without* SN (it rescales the steps, not the "
                                 "forward pass): drop --sn/--actor-sn or drop --sigma-scaled-steps")
            for who, arch, depth in (("critic", self.arch, self.depth), ("actor", self.actor_arch, self.actor_depth)):
                if arch == "mlp" and depth < 2:
                    raise ValueError(f"sigma_scaled_steps needs a layer SN would normalize, and the {who}'s mlp"
                                     f"{depth} has none (first and last are never normalized): use depth >= 2")
        if not isinstance(self.device, str):
            raise ValueError(f"device must be one of auto, cpu, cuda; got {self.device!r}")

    # --- helpers for the rest of the library ------------------------------------------------
    @property
    def actor_pnorm(self) -> bool:
        """Does the actor head use penultimate normalization (``pnorm`` actor or both)?"""
        return self.pnorm in ("actor", "both")

    @property
    def critic_pnorm(self) -> bool:
        """Do the critic heads use penultimate normalization (``pnorm`` critic or both)?"""
        return self.pnorm in ("critic", "both")

    @property
    def agent_steps(self) -> int:
        """Agent steps in the budget (the last one may overshoot ``frames`` by < action_repeat)."""
        return math.ceil(self.frames / self.action_repeat)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "TrainConfig":
        """Build from a dict (e.g. config.json), ignoring the run-status keys that are not fields."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in names})


# ----------------------------------------------------------------------------- auto defaults
#: Auto defaults per (obs, agent): ``{field: {(obs, agent): value}}``. Task-specific DrQ-v2 values
#: (walker batch / n-step, medium-task std schedule) are applied in :func:`auto_default`.
#:                              state/sac  state/ddpg  pixels/sac  pixels/ddpg
_TABLE = {
    "frames":                  (48_000,    48_000,     500_000,    500_000),
    "hidden_dim":              (64,        64,         1024,       1024),
    "action_repeat":           (4,         4,          2,          2),
    "batch_size":              (256,       256,        512,        256),
    "lr":                      (1e-3,      1e-3,       1e-3,       1e-4),
    "n_step":                  (1,         1,          1,          3),
    "target_update_every":     (2,         1,          2,          1),
    "actor_update_every":      (2,         1,          2,          1),
    "update_every":            (1,         1,          1,          2),
    "replay_capacity":         (100_000,   100_000,    100_000,    1_000_000),
    "seed_frames":             (4000,      4000,       2000,       4000),
    "target_augs":             (1,         1,          2,          1),
    "critic_augs":             (1,         1,          2,          1),
    "std_decay_steps":         (5000,      5000,       100_000,    100_000),
    "eval_every_frames":       (8000,      8000,       10_000,     10_000),
    "eval_episodes":           (5,         5,          10,         10),
    "log_every_frames":        (1000,      1000,       5000,       5000),
    "checkpoint_every_frames": (8000,      8000,       100_000,    100_000),
    "image_size":              (84,        84,         84,         84),
}
_COLUMNS = (("state", "sac"), ("state", "ddpg"), ("pixels", "sac"), ("pixels", "ddpg"))
AUTO_DEFAULTS: dict[str, dict[tuple[str, str], Any]] = {
    name: dict(zip(_COLUMNS, row)) for name, row in _TABLE.items()
}


# From states: PlaNet's / DrQ's per-domain action repeat (the "PlaNet benchmark": cartpole 8,
# finger and walker 2, the rest 4). Fewer agent steps per frame is what makes CPU runs quick.
STATE_ACTION_REPEAT = {"cartpole": 8, "finger": 2, "walker": 2}


#: ``--profile cpu`` (pixels only): auto values that replace the paper's, per agent ``(sac, ddpg)``;
#: see the module docstring for why each differs. ``action_repeat`` and DDPG's ``std_decay_steps``
#: depend on the task and are set in :func:`auto_default`.
#:                              sac         ddpg
_CPU_TABLE = {
    "image_size":              (48,         48),
    "hidden_dim":              (256,        256),
    "batch_size":              (64,         64),
    "eval_episodes":           (5,          5),
}
CPU_PROFILE: dict[str, dict[str, Any]] = {
    name: dict(zip(AGENTS, row)) for name, row in _CPU_TABLE.items()
}
#: ``--profile cpu``: budgets and intervals in *agent steps* (a CPU's cost is per agent step);
#: the frame values are these times the action repeat.
CPU_PROFILE_AGENT_STEPS = {"frames": 6250, "eval_every_frames": 625, "log_every_frames": 250,
                           "checkpoint_every_frames": 2500}
#: DrQ-v2's exploration-noise decay in *frames* (100k / 500k agent steps at its action repeat 2);
#: the cpu profile keeps these frame counts at its larger action repeat.
DRQV2_STD_DECAY_FRAMES = {"easy": 200_000, "medium": 1_000_000}


def auto_default(name: str, agent: str, obs: str, task: str, profile: str = "paper") -> Any:
    """The value an auto field takes for this agent, observation type, task and profile."""
    if profile == "cpu" and obs == "pixels":
        if name in CPU_PROFILE:
            return CPU_PROFILE[name][agent]
        if name == "action_repeat":
            return auto_default(name, agent, "state", task)  # PlaNet's per-domain values
        if name in CPU_PROFILE_AGENT_STEPS:
            return CPU_PROFILE_AGENT_STEPS[name] * auto_default("action_repeat", agent, obs, task, profile)
        if name == "std_decay_steps":
            frames = DRQV2_STD_DECAY_FRAMES["medium" if task in DRQV2_MEDIUM_TASKS else "easy"]
            return max(1, frames // auto_default("action_repeat", agent, obs, task, profile))
    value = AUTO_DEFAULTS[name][(obs, agent)]
    if obs == "state" and name == "action_repeat":
        value = next((r for domain, r in STATE_ACTION_REPEAT.items() if task.startswith(domain + "_")), value)
    if obs == "pixels" and agent == "ddpg":
        if task.startswith("walker_") and name in ("batch_size", "n_step"):
            value = {"batch_size": 512, "n_step": 1}[name]  # DrQ-v2 cfgs/task/walker_*.yaml
        if name == "std_decay_steps" and task in DRQV2_MEDIUM_TASKS:
            value = 500_000  # DrQ-v2 cfgs/task/medium.yaml: linear(1.0,0.1,500000)
    return value


def default_actor_depth(actor_arch: str, critic_depth: int) -> int:
    """Actor depth when not given: mlp the critic's depth; modern half of it (paper: 4 critic, 2 actor blocks)."""
    return max(1, critic_depth // 2) if actor_arch == "modern" else critic_depth


# ----------------------------------------------------------------------------- validation helpers
def _check_choice(name: str, value, allowed) -> None:
    if value not in allowed:
        raise ValueError(f"unknown {name} {value!r}; allowed: {', '.join(allowed)}")


def _check_int(name: str, value, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")


def _check_float(name, value, low=None, high=None, low_open=False) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value <= high
    if not ok:
        lo = "" if low is None else (f" > {low}" if low_open else f" >= {low}")
        hi = "" if high is None else f" and <= {high}"
        raise ValueError(f"{name} must be a finite number{lo}{hi}, got {value!r}")


# ----------------------------------------------------------------------------- the CLI parser
def field_docs(cls=TrainConfig) -> dict[str, str]:
    """The docstring under each dataclass field (what ``--help`` shows), read from the source."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    except (OSError, TypeError):  # no source available (frozen app): help without texts
        return {}
    body = tree.body[0].body
    docs = {}
    for node, nxt in zip(body, body[1:]):
        if (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
                and isinstance(nxt, ast.Expr) and isinstance(nxt.value, ast.Constant)
                and isinstance(nxt.value.value, str)):
            docs[node.target.id] = " ".join(nxt.value.value.split())
    return docs


class OneLineErrorParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (what is wrong and what is allowed), exit 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


_CHOICES = {"agent": AGENTS, "obs": OBS_TYPES, "arch": ARCHS, "actor_arch": ARCHS, "profile": PROFILES,
            "pnorm": PNORM_CHOICES}


def build_parser(prog: str = "python -m course_lib.train", description: str | None = None) -> argparse.ArgumentParser:
    """An argparse parser with one option per :class:`TrainConfig` field.

    Options that are not given are absent from the parsed namespace (``argparse.SUPPRESS``), so the
    caller can tell "left to its default" from "given", which ``--resume`` needs.
    """
    parser = OneLineErrorParser(
        prog=prog, description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        argument_default=argparse.SUPPRESS,
    )
    docs = field_docs()
    hints = {f.name: f.type for f in fields(TrainConfig)}
    for f in fields(TrainConfig):
        flag = "--" + f.name.replace("_", "-")
        help_text = docs.get(f.name, "")
        if f.default is not None:
            help_text += f" (default: {f.default})"
        help_text = help_text.replace("%", "%%")
        kind = str(hints[f.name])
        if "bool" in kind:
            parser.add_argument(flag, dest=f.name, action=argparse.BooleanOptionalAction, help=help_text)
        else:
            conv = int if "int" in kind else float if "float" in kind else str
            kwargs: dict[str, Any] = dict(dest=f.name, type=conv, help=help_text,
                                          metavar=f.name.upper())
            if f.name in _CHOICES:
                kwargs["choices"] = _CHOICES[f.name]
                kwargs.pop("metavar")
            parser.add_argument(flag, **kwargs)
    return parser


def auto_defaults_table() -> str:
    """The auto defaults as a text table (the epilog of ``--help``)."""
    head = f"{'field':<25}" + "".join(f"{o + '/' + a:>13}" for o, a in _COLUMNS)
    lines = [head]
    for name, row in _TABLE.items():
        lines.append(f"{name:<25}" + "".join(f"{v:>13g}" if isinstance(v, float) else f"{v:>13}" for v in row))
    lines.append("")
    lines.append(f"--profile cpu (pixels only) replaces these:{'':<6}" + "".join(f"{'pixels/' + a:>13}" for a in AGENTS))
    for name, row in _CPU_TABLE.items():
        lines.append(f"{name:<49}" + "".join(f"{v:>13}" for v in row))
    lines.append(f"{'action_repeat':<49}{'per domain, as from states':>26}")
    for name, steps in CPU_PROFILE_AGENT_STEPS.items():
        lines.append(f"{name:<49}{f'{steps} agent steps x action_repeat':>26}")
    lines.append(f"{'std_decay_steps (ddpg)':<49}{'200000 (medium 1000000) / action_repeat':>39}")
    return "\n".join(lines)
