"""The first thing to run on a machine with one CUDA GPU: does the pixel path work there, and how fast?

    python tools/gpu_check.py                      # on the GPU machine: every stage, <= 8 minutes on an H100
    python tools/gpu_check.py --dry-run            # on a CPU: the same stages at tiny sizes (about a minute)
    python tools/gpu_check.py --only render bench  # some stages only

Each stage runs in a fresh Python process, timed and with a time limit, so that a crash, a hang or a
CUDA error in one stage is recorded (with its error) and the next stage still runs:

  environment  Python, torch, CUDA, cuDNN and driver versions, GPU name and memory, git commit, and
               which Python packages are missing (with the pip command that installs them)
  render       dm_control with MUJOCO_GL=egl: EGL vendor and GL renderer (on CUDA it must be NVIDIA's
               driver, not a software fallback), ms per 84x84 frame, ms per environment step
  replay       DeviceFrameReplay (frame ring on the GPU) against ReplayBuffer (host) after the same
               inserts with the same seed: every sampled batch must be identical, element for element
  devices      tiny pixel SAC (SN) and state DDPG (sigma-scaled steps) runs checkpointed on one device
               and resumed on another (GPU->GPU, CPU->GPU, GPU->CPU): every parameter, SN buffer,
               Adam moment, scaler vector and the GPU frame ring must be on the resumed run's device;
               and the small CUDA-only branches (grad norm without gradients, a power iteration
               with a GPU generator, a GPU->host batch read at once, cuda:N past the last GPU)
  updates      ms per update at the paper's batch sizes: pixel SAC modern4+SN (512), pixel DDPG
               mlp2 and modern4+SN (256) (course_lib.bench_update)
  bench        Table 3, ``python -m course_lib.bench --device cuda`` -> results/bench/table3_cuda.csv
  train_sac    a short pixel SAC run (modern4+SN) through course_lib.train: frames/s, rendering included
  train_ddpg   a short pixel DDPG run (mlp2) the same way

Time is kept within ``--budget-s`` (default 480 s): each stage's limit is what is left of the budget
minus a reserve for the stages after it, and the sizes of the bench and the training runs are fitted to
their limits from the update times measured before them. Writes ``report.md`` and ``report.json``
(every number) and one log per stage under ``--out``; exits 1 if any stage failed, 2 on bad input.
"""
from __future__ import annotations

import argparse
import ctypes.util
import json
import math
import os
import platform
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TASK = "cartpole_swingup"  # a Table 2 task with a one-dimensional action: cheap physics, real frames
PAPER_FRAMES = 500_000
ROOT_PACKAGES = ("torch", "numpy", "pandas", "tqdm", "dm_control", "mujoco", "imageio")
# Required by a package's metadata but deliberately not installed: dm_control's labmaze (only
# dm_control.locomotion imports it, and it has no wheel past Python 3.12; requirements-sim.txt).
NOT_INSTALLED = {"labmaze"}
REQUIREMENT_FILES = ("requirements.txt", "requirements-sim.txt")  # installed with their dependencies
NODEPS_FILE = "requirements-nodeps.txt"  # installed with --no-deps (dm_control)
NVIDIA_EGL_VENDOR_DIRS = ("/usr/share/glvnd/egl_vendor.d", "/etc/glvnd/egl_vendor.d",
                          "/usr/local/nvidia/share/glvnd/egl_vendor.d")  # the last: container-mounted drivers
UPDATE_CONFIGS = (("sac", "modern", 4, True), ("ddpg", "mlp", 2, False), ("ddpg", "modern", 4, True))
TRAIN_CONFIGS = {"train_sac": ("sac", "modern", 4, True), "train_ddpg": ("ddpg", "mlp", 2, False)}


class StageFailed(Exception):
    """A stage ran but its check failed: ``results`` still go into the report."""

    def __init__(self, message: str, results: dict | None = None):
        super().__init__(message)
        self.results = results or {}


def _label(agent: str, arch: str, depth: int, sn: bool) -> str:
    return f"{agent} {arch}{depth}" + ("+sn" if sn else "")


# ============================================================================ stage: environment
def requirement_pins(files=REQUIREMENT_FILES + (NODEPS_FILE,)) -> dict[str, str]:
    """``{distribution: requirement line}`` from the requirement files (for the install hint)."""
    pins = {}
    for file in files:
        path = ROOT / file
        for line in path.read_text().splitlines() if path.exists() else []:
            line = line.split("#")[0].strip()
            name = re.split(r"[<>=!~ ;\[]", line, maxsplit=1)[0] if line and not line.startswith("-") else ""
            if name:
                pins.setdefault(_canonical(name), line)  # requirements.txt's exact pin first
    return pins


def install_hint(missing: list[str]) -> str:
    """The pip command(s) that install ``missing``: dm_control on its own line with --no-deps."""
    pins, nodeps = requirement_pins(), requirement_pins((NODEPS_FILE,))
    pip = f"{sys.executable} -m pip install"
    commands = []
    with_deps = [m for m in missing if _canonical(m) not in nodeps]
    without = [m for m in missing if _canonical(m) in nodeps]
    if with_deps:
        commands.append(f"{pip} " + " ".join(f"'{pins.get(_canonical(m), m)}'" for m in with_deps))
    if without:
        commands.append(f"{pip} --no-deps " + " ".join(f"'{nodeps[_canonical(m)]}'" for m in without))
    return " && ".join(commands)


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def missing_distributions(roots=ROOT_PACKAGES) -> tuple[dict[str, str], list[str]]:
    """``(installed {name: version}, missing names)`` for ``roots`` and everything they require."""
    from importlib import metadata
    try:
        from packaging.requirements import Requirement
    except ImportError:  # no marker evaluation: requirements with markers are skipped
        Requirement = None
    installed, missing, stack, seen = {}, [], list(roots), set()
    no_recurse = {"torch"}  # the machine's own (CUDA) build: that it imports and sees the GPU is the check
    while stack:
        name = stack.pop()
        if _canonical(name) in seen or _canonical(name) in NOT_INSTALLED:
            continue
        seen.add(_canonical(name))
        try:
            installed[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            missing.append(name)
            continue
        if name in no_recurse:
            continue
        for line in metadata.requires(name) or []:
            if Requirement is None:
                if ";" not in line:
                    stack.append(re.split(r"[<>=!~ ;\[(]", line, maxsplit=1)[0])
                continue
            try:
                req = Requirement(line)
            except ValueError:  # an old-style line packaging refuses: keep its name
                stack.append(re.split(r"[<>=!~ ;\[(]", line, maxsplit=1)[0])
                continue
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                stack.append(req.name)
    return installed, sorted(missing, key=_canonical)


def _command(args: list[str]) -> str | None:
    try:
        out = subprocess.run(args, capture_output=True, text=True, timeout=30, cwd=ROOT)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def stage_environment(s: dict) -> dict:
    installed, missing = missing_distributions()
    r = {"python": sys.version.split()[0], "platform": platform.platform(), "executable": sys.executable,
         "packages": {k: installed[k] for k in ROOT_PACKAGES if k in installed}, "missing_packages": missing,
         "git_commit": _command(["git", "rev-parse", "HEAD"]) or "unknown (no git checkout)",
         "git_dirty": bool(_command(["git", "status", "--porcelain", "--untracked-files=no"])),
         "MUJOCO_GL": os.environ.get("MUJOCO_GL"), "libEGL": ctypes.util.find_library("EGL"),
         "egl_vendor_files": os.environ.get("__EGL_VENDOR_LIBRARY_FILENAMES"),
         "omp_num_threads": os.environ.get("OMP_NUM_THREADS"), "cpu_count": os.cpu_count()}
    problems = []
    if missing:
        problems.append(f"missing Python packages: {', '.join(missing)}; install them into this Python "
                        f"({sys.executable}) with: {install_hint(missing)} "
                        "(keep the machine's own CUDA torch; offline: see results/gpu_check/README.md)")
    if "torch" in installed:
        import torch
        r.update(torch=torch.__version__, torch_cuda=torch.version.cuda, cuda_available=torch.cuda.is_available(),
                 cudnn=torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
                 torch_threads=torch.get_num_threads())
        if torch.cuda.is_available():
            props = torch.cuda.get_device_properties(0)
            r.update(gpu=props.name, gpu_memory_gib=round(props.total_memory / 2**30, 1),
                     compute_capability=f"{props.major}.{props.minor}", gpu_count=torch.cuda.device_count())
        if s["device"] == "cuda" and not torch.cuda.is_available():
            problems.append(f"torch {torch.__version__} sees no CUDA GPU (CUDA build: {torch.version.cuda})")
    smi = _command(["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"])
    if smi:
        r["nvidia_smi"] = smi.splitlines()
        r["driver"] = smi.splitlines()[0].split(",")[1].strip()
    elif Path("/proc/driver/nvidia/version").exists():
        r["driver"] = Path("/proc/driver/nvidia/version").read_text().splitlines()[0]
    if problems:
        raise StageFailed("; ".join(problems), r)
    return r


# ============================================================================ stage: render
def gl_strings(env) -> dict:
    """Who renders: the GL vendor/renderer/version of dm_control's context and, with EGL, the EGL vendor."""
    from OpenGL import GL
    out = {}
    with env._env.physics.contexts.gl.make_current() as ctx:
        for key, name in (("gl_vendor", GL.GL_VENDOR), ("gl_renderer", GL.GL_RENDERER), ("gl_version", GL.GL_VERSION)):
            out[key] = ctx.call(GL.glGetString, name).decode()
    if os.environ.get("MUJOCO_GL") == "egl":
        from dm_control._render.pyopengl import egl_ext as EGL
        from dm_control._render.pyopengl import egl_renderer
        out["egl_vendor"] = EGL.eglQueryString(egl_renderer.EGL_DISPLAY, EGL.EGL_VENDOR).decode()
        out["egl_version"] = EGL.eglQueryString(egl_renderer.EGL_DISPLAY, EGL.EGL_VERSION).decode()
        out["egl_devices"] = len(EGL.eglQueryDevicesEXT())
    return out


def _ms(samples: list[float]) -> dict:
    import statistics
    return {"mean": statistics.fmean(samples), "median": statistics.median(samples), "min": min(samples)}


def stage_render(s: dict) -> dict:
    import numpy as np

    from course_lib.envs import make_env
    frames = 20 if s["tiny"] else 1000
    env = make_env(TASK, "pixels", s["seed"], action_repeat=2, frame_stack=3, image_size=84)
    env.reset()
    r = {"MUJOCO_GL": os.environ.get("MUJOCO_GL"), **gl_strings(env), "frames_timed": frames,
         # EGL numbers devices its own way: with several GPUs, MUJOCO_EGL_DEVICE_ID picks the one that renders
         "MUJOCO_EGL_DEVICE_ID": os.environ.get("MUJOCO_EGL_DEVICE_ID"),
         "CUDA_VISIBLE_DEVICES": os.environ.get("CUDA_VISIBLE_DEVICES")}
    image = env.render(84)
    if image.shape != (84, 84, 3) or image.dtype != np.uint8 or image.std() == 0:
        raise StageFailed(f"a rendered frame is {image.shape} {image.dtype} with std {image.std():.1f}; "
                          "expected a (84, 84, 3) uint8 image of the scene", r)
    times = []
    for _ in range(frames):
        t0 = time.perf_counter()
        env.render(84)
        times.append((time.perf_counter() - t0) * 1e3)
    r["render_ms_84"] = _ms(times)
    rng, steps = np.random.default_rng(0), []
    for _ in range(frames // 2):
        t0 = time.perf_counter()
        if env.step(rng.uniform(-1, 1, env.action_dim)).last:
            env.reset()
        steps.append((time.perf_counter() - t0) * 1e3)
    r["env_step_ms"] = _ms(steps)  # two physics steps and one 84x84 render (action repeat 2)
    r["env_frames_per_s"] = 2e3 / r["env_step_ms"]["median"]
    who = f"{r.get('egl_vendor', '')} {r['gl_vendor']} {r['gl_renderer']}"
    if s["device"] == "cuda" and "nvidia" not in who.lower():
        raise StageFailed(
            f"rendering ran on {r['gl_renderer']} ({r['gl_vendor']}), not the NVIDIA driver; install the "
            "driver's EGL library (libEGL_nvidia, with libglvnd's libEGL) or point "
            "__EGL_VENDOR_LIBRARY_FILENAMES at its 10_nvidia.json, and MUJOCO_EGL_DEVICE_ID picks the GPU", r)
    return r


# ============================================================================ stage: replay
def replay_sizes(tiny: bool) -> dict:
    """Small rings that wrap around, several episodes, n-step windows, and frame stacks."""
    if tiny:
        return dict(capacity=40, steps=100, episode=15, image=16, batch=8, batches=5)
    return dict(capacity=2000, steps=5000, episode=500, image=84, batch=512, batches=20)


def make_replays(device, sizes: dict, seed: int = 0, frame_stack: int = 3, n_step: int = 3, action_dim: int = 2):
    """A host ReplayBuffer and a DeviceFrameReplay on ``device``, same arguments and seed."""
    from course_lib.replay import DeviceFrameReplay, ReplayBuffer
    args = (sizes["capacity"], (3 * frame_stack, sizes["image"], sizes["image"]), action_dim, "pixels",
            frame_stack, n_step, 0.99)
    return ReplayBuffer(*args, seed=seed), DeviceFrameReplay(*args, seed=seed, device=device)


def fill_identically(replays, sizes: dict, seed: int = 0) -> None:
    """The same random episodes into every replay: frames, actions, rewards, a terminal now and then."""
    import numpy as np
    rng = np.random.default_rng(seed)
    frame_shape = (3, sizes["image"], sizes["image"])
    action_dim = replays[0].action_dim
    written, episode = 0, 0
    while written < sizes["steps"]:
        first = rng.integers(0, 256, frame_shape, dtype=np.uint8)
        for r in replays:
            r.add_first(first)
        written += 1
        terminal = episode % 3 == 1  # a true terminal (discount 0) in every third episode
        for t in range(sizes["episode"]):
            frame = rng.integers(0, 256, frame_shape, dtype=np.uint8)
            action = rng.uniform(-1, 1, action_dim).astype(np.float32)
            reward, last = float(rng.uniform(0, 1)), t == sizes["episode"] - 1
            for r in replays:
                r.add(action, reward, 0.0 if (last and terminal) else 1.0, frame, last)
            written += 1
            if written >= sizes["steps"]:
                break  # the newest episode stays open: windows must stop at the newest step
        episode += 1


def compare_batches(host: dict, device: dict) -> list[str]:
    """What differs between a host batch (numpy) and a device batch (tensors or numpy): [] if none."""
    import numpy as np
    problems = []
    if set(host) != set(device):
        return [f"keys differ: host {sorted(host)}, device {sorted(device)}"]
    for key in sorted(host):
        a, b = np.asarray(host[key]), device[key]
        b = b.detach().cpu().numpy() if hasattr(b, "detach") else np.asarray(b)
        if a.dtype != b.dtype or a.shape != b.shape:
            problems.append(f"{key}: host {a.dtype}{a.shape}, device {b.dtype}{b.shape}")
        elif not np.array_equal(a, b):
            wrong = int(np.count_nonzero(a != b))
            problems.append(f"{key}: {wrong} of {a.size} elements differ")
    return problems


def compare_replays(host, device, batches: int, batch_size: int) -> dict:
    """Sample ``batches`` batches from both replays in turn; count what was compared and what differed."""
    import numpy as np
    problems, elements, bytes_, places = [], 0, 0, set()
    for i in range(batches):
        a, b = host.sample(batch_size), device.sample(batch_size)
        problems += [f"batch {i}: {p}" for p in compare_batches(a, b)]
        elements += sum(v.size for v in a.values())
        bytes_ += sum(v.nbytes for v in a.values())
        places |= {str(v.device) for v in b.values() if hasattr(v, "device")}
        if np.array_equal(a["obs"], a["next_obs"]):
            problems.append(f"batch {i}: obs equals next_obs: the comparison would see no data")
    return {"batches": batches, "batch_size": batch_size, "elements_compared": elements,
            "bytes_compared": bytes_, "device_tensors_on": sorted(places), "mismatches": problems}


def stage_replay(s: dict) -> dict:
    import torch

    from course_lib.replay import to_torch
    sizes = replay_sizes(s["tiny"])
    host, device = make_replays(s["device"], sizes, seed=s["seed"])
    t0 = time.perf_counter()
    fill_identically([host, device], sizes, seed=s["seed"])
    r = {**sizes, "fill_s": time.perf_counter() - t0, "wrapped_around": host._num_written > host.capacity,
         **compare_replays(host, device, sizes["batches"], sizes["batch"])}
    if r["mismatches"] or r["elements_compared"] == 0:
        raise StageFailed(f"the device replay differs from the host replay: {'; '.join(r['mismatches'][:5])}", r)
    if s["device"] == "cuda" and not any(p.startswith("cuda") for p in r["device_tensors_on"]):
        raise StageFailed("DeviceFrameReplay returned no tensors on the GPU", r)
    for name, buffer in (("host", host), ("device", device)):  # what one update's batch costs
        times = []
        for _ in range(sizes["batches"]):
            t0 = time.perf_counter()
            batch = to_torch(buffer.sample(sizes["batch"]), s["device"])
            if s["device"] == "cuda":
                torch.cuda.synchronize()
            times.append((time.perf_counter() - t0) * 1e3)
        r[f"sample_to_device_ms_{name}"] = _ms(times)
        del batch
    return r


# ============================================================================ stage: updates
def stage_updates(s: dict) -> dict:
    import torch

    from course_lib.bench_update import benchmark
    from course_lib.config import TrainConfig
    warmup, repeats = (1, 2) if s["tiny"] else (10, 50)
    rows = []
    for agent, arch, depth, sn in UPDATE_CONFIGS:
        tiny = dict(batch_size=8, hidden_dim=64, image_size=32) if s["tiny"] else {}
        cfg = TrainConfig(agent=agent, obs="pixels", task=TASK, arch=arch, depth=depth, sn=sn,
                          device=s["device"], **tiny).resolved()
        m = benchmark(cfg, torch.device(s["device"]), warmup, repeats)
        # Updates in a 500k-frame run: one per agent step after the seed frames, or one per update_every.
        updates = (PAPER_FRAMES - cfg.seed_frames) / cfg.action_repeat / cfg.update_every
        rows.append({"config": _label(agent, arch, depth, sn), "actor": _label("", cfg.actor_arch, cfg.actor_depth,
                                                                                cfg.actor_sn).strip(),
                     "batch": cfg.batch_size, "hidden_dim": cfg.hidden_dim, "image_size": cfg.image_size,
                     "ms_median": m["ms_median"], "ms_min": m["ms_min"], "ms_max": m["ms_max"],
                     "memory_mib": m["memory_bytes"] / 2**20, "memory_kind": m["memory_kind"],
                     "warmup": warmup, "repeats": repeats, "updates_per_500k_frames": int(updates),
                     "update_hours_per_500k_frames": updates * m["ms_median"] / 3.6e6})
        del m
        if s["device"] == "cuda":
            torch.cuda.empty_cache()
    return {"rows": rows}


# ============================================================================ stage: bench
def stage_bench(s: dict) -> dict:
    import pandas as pd

    from course_lib import bench
    argv = ["--device", s["device"], "--csv", s["bench_csv"], "--no-progress"]
    if s["tiny"]:  # Table 3's two extremes (tests/test_bench.py runs all four on a CPU)
        argv += ["--archs", "mlp2", "modern4", "--batch", "8", "--iters", "1", "--warmup", "0", "--act-iters", "2",
                 "--hidden-dim", "256", "--threads", "1"]
    elif s.get("bench_iters"):
        argv += ["--iters", str(s["bench_iters"])]
    r = {"command": "python -m course_lib.bench " + " ".join(argv)}
    code = bench.main(argv)
    if code != 0:
        raise StageFailed(f"python -m course_lib.bench exited with status {code}", r)
    results = pd.read_csv(s["bench_csv"])
    r.update(csv=s["bench_csv"], table=bench.format_table(results).to_string(), describe=bench.describe(results),
             rows=results[["arch", "train_time", "act_time", "train_mem", "act_mem", "iters"]].to_dict("records"))
    return r


# ============================================================================ stage: training runs
def train_settings(agent: str, tiny: bool, frames: int | None = None, log_every: int | None = None) -> dict:
    """Overrides of the paper's pixel settings for a short run: evaluations at its start and end only."""
    if tiny:
        # Action repeat 25: an evaluation episode is 40 agent steps (renders dominate a CPU's time);
        # 4 seed steps, then 6 steps with updates and a train.csv row each.
        base = dict(frames=250, action_repeat=25, image_size=32, hidden_dim=64, batch_size=8, seed_frames=100,
                    log_every_frames=25)
    else:
        base = dict(frames=frames or (6000 if agent == "sac" else 10_000), log_every_frames=log_every or 500)
    return {**base, "eval_every_frames": base["frames"], "eval_episodes": 1, "video": False}


def stage_train(s: dict, name: str) -> dict:
    import numpy as np

    from course_lib.config import TrainConfig
    from course_lib.train import Trainer, prepare
    agent, arch, depth, sn = TRAIN_CONFIGS[name]
    out = Path(s["out"]) / "runs" / name
    if out.exists():
        shutil.rmtree(out)  # a previous check's run: this one starts afresh
    overrides = train_settings(agent, s["tiny"], *s.get(f"{name}_frames", (None, None)))
    cfg, device, _ = prepare(TrainConfig(agent=agent, obs="pixels", task=TASK, arch=arch, depth=depth, sn=sn,
                                         seed=s["seed"] + 1, device=s["device"], out=str(out), **overrides))
    events = []
    callback = lambda e: events.append((e.kind, e.frame, time.perf_counter())) and False  # noqa: E731
    t0 = time.perf_counter()
    trainer = Trainer(cfg, device, progress=False, callback=callback)
    t_run = time.perf_counter()
    status = trainer.run()
    t_end = time.perf_counter()
    logs = [(f, t) for kind, f, t in events if kind == "log"]
    evals = [(f, t) for kind, f, t in events if kind == "eval"]
    r = {"config": _label(agent, arch, depth, sn), "status": status, "frames": trainer.frame,
         "out": str(out), "replay": type(trainer.replay).__name__,
         "device_used": json.loads((out / "config.json").read_text())["device_used"],  # GPU, TF32, cuDNN
         "batch": cfg.batch_size, "hidden_dim": cfg.hidden_dim, "image_size": cfg.image_size,
         "action_repeat": cfg.action_repeat, "seed_frames": cfg.seed_frames, "setup_s": t_run - t0,
         "run_s": t_end - t_run, "frames_per_s_overall": trainer.frame / (t_end - t_run),
         "eval_returns": [row["eval_return"] for row in trainer.eval_rows], "train_rows": len(trainer.train_rows)}
    if evals:  # the evaluation at frame 0 comes first (one reset before it); warm-up included: an upper bound
        r["eval_s_per_episode"] = (evals[0][1] - t_run) / cfg.eval_episodes
    if len(logs) >= 2:  # between the first and last train.csv rows: act, render, store, sample, update
        (f1, t1), (f2, t2) = logs[0], logs[-1]
        r["frames_per_s_updating"] = (f2 - f1) / (t2 - t1)
        evals_per_run = PAPER_FRAMES // 10_000 + 1  # the paper's protocol: every 10k frames, 10 episodes
        hours = (PAPER_FRAMES / r["frames_per_s_updating"]
                 + evals_per_run * 10 * r.get("eval_s_per_episode", 0.0)) / 3600
        r["projected_hours_500k_frames"] = hours
        r["projection"] = (f"{PAPER_FRAMES} frames at frames_per_s_updating + {evals_per_run} evaluations "
                           "x 10 episodes x eval_s_per_episode")
    problems = []
    if status != "complete":
        problems.append(f"the run ended {status} ({trainer.crash_reason or 'no reason recorded'})")
    if len(trainer.eval_rows) < 2 or not np.all(np.isfinite(r["eval_returns"])):
        problems.append(f"expected finite evaluations at the start and end, got {r['eval_returns']}")
    if len(logs) < 2:
        problems.append(f"expected at least 2 train.csv rows after the seed frames, got {len(logs)}")
    if s["device"] == "cuda" and r["replay"] != "DeviceFrameReplay":
        problems.append(f"pixels on CUDA should sample from DeviceFrameReplay, got {r['replay']}")
    if problems:
        raise StageFailed("; ".join(problems), r)
    return r


# ============================================================================ stage: devices
DEVICE_CASES = {  # tiny runs whose checkpoints move between devices: every part of an agent's state
    "sac_pixels": dict(agent="sac", obs="pixels", arch="modern", depth=2, sn=True, image_size=32),  # SN u/v, alpha
    "ddpg_state": dict(agent="ddpg", obs="state", arch="mlp", depth=3, sigma_scaled_steps=True),  # scalers' u/v
}


def tensor_devices(trainer) -> dict[str, list[str]]:
    """Where every tensor of a trainer's state lives: ``{part: sorted device types}``."""
    import torch
    agent, places = trainer.agent, {}
    for name, net in agent.networks().items():
        places[f"{name} parameters"] = {p.device.type for p in net.parameters()}
        places[f"{name} buffers"] = {b.device.type for b in net.buffers()}  # SN's u, v
    for name, opt in agent.optimizers().items():  # Adam's moments and (fused) step counts
        places[f"{name} state"] = {v.device.type for st in opt.state.values() for v in st.values()
                                   if torch.is_tensor(v)}
    for name, scaler in getattr(agent, "step_scalers", {}).items():
        places[f"{name} u, v"] = {t.device.type for t in scaler.u + scaler.v}
    if hasattr(agent, "log_alpha"):
        places["log_alpha"] = {agent.log_alpha.device.type}
    places["interval means"] = {v.device.type for v in trainer.means.sums.values()}
    if hasattr(trainer.replay, "_obs_device"):
        places["replay frames"] = {trainer.replay._obs_device.device.type}
    return {k: sorted(v) for k, v in places.items() if v}


def device_helper_checks(device: str) -> dict:
    """The small CUDA-only branches, on ``device``: what each returned (raises on a wrong device)."""
    import torch

    from course_lib.agents.common import grad_norm
    from course_lib.replay import to_torch
    from course_lib.runtime import pick_device
    from course_lib.spectral import power_iteration
    r = {}
    layer = torch.nn.Linear(4, 3).to(device)
    with torch.no_grad():  # singular values 3, 1, 0.5: the power method converges fast
        layer.weight.copy_(torch.tensor([[3.0, 0, 0, 0], [0, 1.0, 0, 0], [0, 0, 0.5, 0]]))
    r["grad_norm_without_grads_on"] = grad_norm(layer.parameters()).device.type
    generator = torch.Generator(device=device).manual_seed(0)  # a CUDA generator for a CUDA matrix
    sigma, _, _ = power_iteration(layer.weight, 20, generator=generator)
    r["power_iteration_with_device_generator_error"] = abs(float(sigma.detach()) - 3.0)
    on_device = torch.arange(1 << 20, dtype=torch.float32, device=device) * 3
    back = to_torch({"x": on_device}, "cpu")["x"]  # read at once: the copy must be complete
    r["to_torch_back_to_host_exact"] = bool(torch.equal(back, torch.arange(1 << 20, dtype=torch.float32) * 3))
    if device == "cuda":
        count = torch.cuda.device_count()
        try:
            pick_device(f"cuda:{count}")
            r["cuda_index_past_the_last_refused"] = False
        except ValueError:
            r["cuda_index_past_the_last_refused"] = True
    problems = [k for k, v in r.items() if v is False or (k.endswith("_on") and v != device)
                or (k.endswith("_error") and not v < 1e-4)]
    if problems:
        raise StageFailed(f"device helpers: {', '.join(problems)}", r)
    return r


def stage_devices(s: dict) -> dict:
    """Checkpoints written on one device, resumed on another; every tensor must follow the run's device."""
    import torch

    from course_lib.config import TrainConfig
    from course_lib.train import Trainer, prepare
    device = s["device"]
    root = Path(s["out"]) / "runs" / "devices"
    if root.exists():
        shutil.rmtree(root)
    r = {"helpers": device_helper_checks(device), "runs": []}
    # frames 250 then 500 at action repeat 25: 10 agent steps, updates after the 4 seed steps, each half
    tiny = dict(action_repeat=25, hidden_dim=32, batch_size=8, seed_frames=100, log_every_frames=50,
                eval_every_frames=250, eval_episodes=1, video=False, task=TASK, seed=s["seed"] + 2)
    pairs = list(dict.fromkeys([(device, device), ("cpu", device), (device, "cpu")]))
    problems = []
    for case, settings in DEVICE_CASES.items():
        for first, then in pairs:
            out = root / f"{case}_{first}_to_{then}"
            base = {**tiny, **settings, "out": str(out)}
            cfg, dev, _ = prepare(TrainConfig(frames=250, device=first, **base))
            status = Trainer(cfg, dev, progress=False).run()
            saved = torch.load(out / "checkpoint.pt", map_location="cpu", weights_only=False)
            cfg, dev, _ = prepare(TrainConfig(frames=500, device=then, resume=True, **base))
            trainer = Trainer(cfg, dev, progress=False)  # built and restored from the checkpoint
            places = tensor_devices(trainer)
            resumed = trainer.run()
            stored = json.loads((out / "config.json").read_text())
            row = {"case": case, "saved_on": first, "resumed_on": then, "first_status": status,
                   "resumed_status": resumed, "frames_done": stored["frames_done"],
                   "device_used": stored["device_used"],
                   "cuda_rng_states_saved": None if saved["rng"]["cuda"] is None else len(saved["rng"]["cuda"]),
                   "tensor_devices": places,
                   "eval_returns": [e["eval_return"] for e in trainer.eval_rows]}
            r["runs"].append(row)
            wrong = {k: v for k, v in places.items() if v != [dev.type]}
            label = f"{case} {first}->{then}"
            if wrong:
                problems.append(f"{label}: tensors not on {dev.type}: {wrong}")
            if (status, resumed, stored["frames_done"]) != ("complete", "complete", 500):
                problems.append(f"{label}: runs ended {status}, {resumed} at frame {stored['frames_done']}")
            if (saved["rng"]["cuda"] is None) != (first == "cpu"):
                problems.append(f"{label}: checkpoint's CUDA generator states {saved['rng']['cuda'] is not None}")
            if then == "cuda" and "TF32" not in stored["device_used"]:
                problems.append(f"{label}: device_used {stored['device_used']!r} does not report the TF32 setting")
            if hasattr(trainer.replay, "_obs_device"):  # the GPU ring refilled from the host ring on resume
                n = min(trainer.replay._num_written, trainer.replay.capacity)
                same = torch.equal(trainer.replay._obs_device[:n].cpu(), torch.from_numpy(trainer.replay._obs[:n]))
                row["device_ring_equals_host_ring"] = same
                if not same:
                    problems.append(f"{label}: the GPU frame ring differs from the host ring after the run")
    if problems:
        raise StageFailed("; ".join(problems), r)
    return r


# ============================================================================ the plan
@dataclass(frozen=True)
class Stage:
    name: str
    what: str
    max_s: float      # its limit on a GPU (a dry run allows 3x: CPUs are slow and shared)
    reserve_s: float  # kept back for it while earlier stages run


STAGES = (
    Stage("environment", "versions, GPU, git commit, missing packages", 60, 15),
    Stage("render", "MUJOCO_GL=egl: EGL vendor, GL renderer, ms per 84x84 frame", 60, 20),
    Stage("replay", "DeviceFrameReplay == ReplayBuffer, same seed and inserts", 60, 20),
    Stage("devices", "checkpoints moved CPU <-> GPU and resumed: every tensor on the run's device", 90, 30),
    Stage("updates", "ms per update: pixel SAC modern4+SN (512), pixel DDPG (256)", 90, 30),
    Stage("bench", "Table 3: python -m course_lib.bench", 200, 60),
    Stage("train_sac", "short pixel SAC run through course_lib.train", 120, 45),
    Stage("train_ddpg", "short pixel DDPG run through course_lib.train", 90, 45),
)
STAGE_NAMES = tuple(st.name for st in STAGES)
STAGE_FUNCTIONS = {"environment": stage_environment, "render": stage_render, "replay": stage_replay,
                   "devices": stage_devices, "updates": stage_updates, "bench": stage_bench,
                   "train_sac": lambda s: stage_train(s, "train_sac"),
                   "train_ddpg": lambda s: stage_train(s, "train_ddpg")}


def fit_bench_iters(update_ms: float | None, limit_s: float, heads: int = 4, warmup: int = 20,
                    act_s: float = 15.0, default: int = 500) -> int:
    """Timed updates per head so that Table 3 fits in ``limit_s`` (the paper's 500 when they fit).

    ``update_ms`` is the slowest head's update (pixel SAC modern4+SN); ``act_s`` covers building the
    agents and the acting measurements. At least 20 updates per head.
    """
    if not update_ms:
        return default
    per_head = (0.75 * limit_s - act_s) / heads
    return int(max(20, min(default, per_head * 1e3 / update_ms - warmup)))


def fit_train_frames(update_ms: float | None, limit_s: float, seed_frames: int, action_repeat: int,
                     update_every: int, default: int, overhead_s: float = 25.0) -> tuple[int, int]:
    """A short run's ``(frames, log_every_frames)``: the seed frames, then as many updating frames as
    fit in half of ``limit_s`` (at most ``default`` in all, at least 400 updating frames).

    ``overhead_s`` covers starting, the seed phase and two one-episode evaluations; the other half of
    the limit is left for acting, rendering and sampling between updates. Logging every 500 frames,
    or every quarter of the updating frames when they are fewer than 2000, gives at least two
    train.csv rows after the seed frames, between which frames/s while updating is measured.
    """
    updating = default - seed_frames
    if update_ms:
        updating_s = max(0.0, 0.5 * limit_s - overhead_s)
        fit = updating_s * 1e3 / update_ms * action_repeat * update_every
        updating = int(min(updating, max(400, fit // 100 * 100)))
    return seed_frames + updating, (500 if updating >= 2000 else updating // 4)


def stage_limit(i: int, stages, budget_left: float, scale: float) -> float:
    """Stage ``i``'s time limit: its own maximum, within what the later stages' reserves leave."""
    reserve = sum(st.reserve_s for st in stages[i + 1:])
    return min(stages[i].max_s * scale, budget_left - reserve)


def child_environment(device: str, tiny: bool) -> tuple[dict, list[str]]:
    """Environment variables for the stages: the repository importable, EGL, one thread in a dry run."""
    env, notes = dict(os.environ), []
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in [env.get("PYTHONPATH")] if p])
    env["PYTHONUNBUFFERED"] = "1"
    env["TQDM_DISABLE"] = "1"
    if device == "cuda":
        if env.get("MUJOCO_GL", "egl") != "egl":
            notes.append(f"MUJOCO_GL={env['MUJOCO_GL']} replaced by egl (this check renders on the GPU)")
        env["MUJOCO_GL"] = "egl"
        env.pop("PYOPENGL_PLATFORM", None)  # dm_control's EGL backend sets it itself
        if "__EGL_VENDOR_LIBRARY_FILENAMES" not in env:
            found = [p for d in NVIDIA_EGL_VENDOR_DIRS for p in sorted(Path(d).glob("*nvidia*.json"))]
            if found and not str(found[0]).startswith(NVIDIA_EGL_VENDOR_DIRS[:2]):
                env["__EGL_VENDOR_LIBRARY_FILENAMES"] = str(found[0])  # libglvnd would not look there
                notes.append(f"__EGL_VENDOR_LIBRARY_FILENAMES={found[0]} (the driver's EGL vendor file)")
    else:
        env.setdefault("MUJOCO_GL", "egl")
    if tiny:
        env.setdefault("OMP_NUM_THREADS", "1")
    return env, notes


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_stage(stage: Stage, settings: dict, limit_s: float, env: dict, logs: Path) -> dict:
    """Run one stage in a fresh process with a time limit; its record for the report."""
    record = {"name": stage.name, "what": stage.what, "limit_s": round(limit_s, 1)}
    if limit_s < 3:
        return {**record, "status": "failed", "seconds": 0.0, "error": "not run: the time budget is spent"}
    result_path = logs / f"{stage.name}.json"
    result_path.unlink(missing_ok=True)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--stage", stage.name,
           "--settings", json.dumps(settings), "--result", str(result_path)]
    t0, cpu0 = time.monotonic(), _children_cpu_s()
    with open(logs / f"{stage.name}.log", "w") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)  # its own process group: a timeout ends its children too
        try:
            code = proc.wait(timeout=limit_s)
        except subprocess.TimeoutExpired:
            code = None
        finally:  # over its limit, or Ctrl-C here (which its own session does not receive)
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    record["seconds"] = round(time.monotonic() - t0, 2)
    record["cpu_seconds"] = round(_children_cpu_s() - cpu0, 2)  # the stage's processes, all threads
    tail = (logs / f"{stage.name}.log").read_text(errors="replace").strip().splitlines()[-15:]
    outcome = json.loads(result_path.read_text()) if result_path.exists() else {}
    record["results"] = outcome.get("results", {})
    if code is None:
        record.update(status="failed", error=f"timed out after {limit_s:.0f} s", log_tail=tail)
    elif code == 0 and outcome.get("ok"):
        record["status"] = "passed"
    else:
        error = outcome.get("error") or (tail[-1] if tail else f"exit status {code}")
        record.update(status="failed", error=error, exit_status=code, log_tail=tail)
    return record


def summary(record: dict) -> str:
    """One line of a stage's key numbers."""
    r = record.get("results") or {}
    n = record["name"]
    try:
        if n == "environment":
            return f"torch {r.get('torch')} CUDA {r.get('torch_cuda')} driver {r.get('driver')} GPU {r.get('gpu')}"
        if n == "render":
            return (f"{r['gl_vendor']} / {r['gl_renderer']}: {r['render_ms_84']['median']:.2f} ms per 84x84 frame, "
                    f"{r['env_frames_per_s']:.0f} env frames/s")
        if n == "replay":
            return (f"{len(r['mismatches'])} mismatches in {r['elements_compared']} elements "
                    f"({r['batches']} batches of {r['batch_size']})")
        if n == "devices":
            return ", ".join(f"{row['case']} {row['saved_on']}->{row['resumed_on']} {row['resumed_status']}"
                             for row in r["runs"])
        if n == "updates":
            return ", ".join(f"{row['config']} b{row['batch']} {row['ms_median']:.1f} ms" for row in r["rows"])
        if n == "bench":
            return ", ".join(f"{row['arch']} {row['train_time']:.1f} ms" for row in r["rows"])
        if n.startswith("train"):
            return (f"{r['config']}: {r['frames']} frames, {r.get('frames_per_s_updating', float('nan')):.1f} frames/s "
                    f"updating, {r['frames_per_s_overall']:.1f} overall")
    except (KeyError, TypeError):
        pass
    return ""


# ============================================================================ the report
def write_report(report: dict, out: Path) -> None:
    (out / "report.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    env = next((st.get("results", {}) for st in report["stages"] if st["name"] == "environment"), {})
    lines = [f"# GPU check: {'passed' if report['passed'] else 'FAILED'}", "",
             f"`{report['command']}` ({report['mode']}), {report['started_utc']}, {report['wall_s']:.0f} s "
             f"of a {report['budget_s']:.0f} s budget.", ""]
    if not env:
        lines.append("- the environment stage did not run or failed early: versions unknown")
    else:
        lines += [
            f"- GPU: {env.get('gpu', 'none')} ({env.get('gpu_memory_gib', '-')} GiB, compute capability "
            f"{env.get('compute_capability', '-')}), driver {env.get('driver', '-')}",
            f"- torch {env.get('torch', '-')}, CUDA {env.get('torch_cuda', '-')}, cuDNN {env.get('cudnn', '-')}, "
            f"Python {env.get('python', '-')}; packages: "
            + ", ".join(f"{k} {v}" for k, v in env.get("packages", {}).items()),
            f"- git commit {env.get('git_commit', 'unknown')}"
            + (" (uncommitted changes)" if env.get("git_dirty") else "")]
    lines += [*[f"- note: {note}" for note in report["notes"]], "",
              "| stage | status | seconds (limit) | CPU seconds | numbers |", "| --- | --- | --- | --- | --- |"]
    for st in report["stages"]:
        lines.append(f"| {st['name']} | {st['status']} | {st['seconds']:.1f} ({st['limit_s']:.0f}) | "
                     f"{st.get('cpu_seconds', 0):.1f} | {summary(st)} |")
    for st in report["stages"]:
        lines += ["", f"## {st['name']}: {st['what']}", ""]
        if st["status"] != "passed":
            lines += [f"**Failed**: {st.get('error')}", ""]
            if st.get("log_tail"):
                lines += ["```", *st["log_tail"], "```", ""]
        r = dict(st.get("results") or {})
        table = r.pop("table", None)
        if table:
            lines += ["```", table, "```", ""]
        for key, value in r.items():
            lines.append(f"- {key}: {_fmt(value)}")
    (out / "report.md").write_text("\n".join(lines) + "\n")


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return ", ".join(f"{k} {_fmt(v)}" for k, v in value.items())
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return "".join("\n  - " + _fmt(v) for v in value)
    return str(value)


def default_out(device: str, tiny: bool) -> str:
    """Only the real check (CUDA, full sizes) writes into results/; the others go to runs/."""
    if device == "cuda" and not tiny:
        return "results/gpu_check"
    return "runs/gpu_check_dry" if (device, tiny) == ("cpu", True) else f"runs/gpu_check_{device}{'_tiny' * tiny}"


def check(args, argv: list[str]) -> int:
    device, tiny = ("cpu", True) if args.dry_run else (args.device, args.tiny)
    out = Path(args.out or default_out(device, tiny))
    out = out if out.is_absolute() else ROOT / out
    logs = out / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    real = device == "cuda" and not tiny  # the one run whose Table 3 goes to results/bench
    bench_csv = ROOT / "results" / "bench" / "table3_cuda.csv" if real else \
        out / f"table3_{device}{'_tiny' * tiny}.csv"
    settings = {"device": device, "tiny": tiny, "seed": args.seed, "out": str(out), "bench_csv": str(bench_csv)}
    env, notes = child_environment(device, tiny)
    stages = [st for st in STAGES if not args.only or st.name in args.only]
    scale = 3.0 if device == "cpu" else 1.0
    started, t0 = datetime.now(timezone.utc), time.monotonic()
    print(f"gpu_check: {len(stages)} stages on {device}{' (tiny sizes)' if tiny else ''}, "
          f"budget {args.budget_s:.0f} s, report in {out}", flush=True)
    for note in notes:
        print(f"  note: {note}", flush=True)
    records, interrupted = [], False
    for i, stage in enumerate(stages):
        limit = stage_limit(i, stages, args.budget_s - (time.monotonic() - t0), scale)
        if stage.name == "bench" and not tiny:
            settings["bench_iters"] = fit_bench_iters(settings.get("sac_update_ms"), limit)
        if stage.name.startswith("train") and not tiny:
            from course_lib.config import TrainConfig  # no torch: the paper's pixel defaults only
            agent = TRAIN_CONFIGS[stage.name][0]
            paper = TrainConfig(agent=agent, obs="pixels", task=TASK).resolved()
            settings[f"{stage.name}_frames"] = fit_train_frames(
                settings.get(f"{agent}_update_ms"), limit, paper.seed_frames, paper.action_repeat,
                paper.update_every, default=train_settings(agent, tiny=False)["frames"])
        print(f"[{i + 1}/{len(stages)}] {stage.name}: {stage.what} (limit {limit:.0f} s) ...", flush=True)
        try:
            record = run_stage(stage, settings, limit, env, logs)
        except KeyboardInterrupt:  # the stage's processes are ended; report what ran so far
            records.append({"name": stage.name, "what": stage.what, "limit_s": round(limit, 1), "seconds": 0.0,
                            "status": "failed", "error": "interrupted (Ctrl-C)"})
            interrupted = True
            break
        record["settings"] = {k: v for k, v in settings.items() if k.startswith(("bench_iters", stage.name))}
        records.append(record)
        if stage.name == "updates" and record["status"] == "passed":
            rows = {row["config"]: row["ms_median"] for row in record["results"]["rows"]}
            settings["sac_update_ms"] = rows.get("sac modern4+sn")
            settings["ddpg_update_ms"] = rows.get("ddpg mlp2")
        line = f"    {record['status']} in {record['seconds']:.1f} s: "
        print(line + (summary(record) if record["status"] == "passed" else record.get("error", "")), flush=True)
    report = {"command": " ".join(["python", "tools/gpu_check.py", *argv]), "mode":
              "dry run (CPU, tiny sizes)" if tiny and device == "cpu" else f"{device}{', tiny sizes' if tiny else ''}",
              "started_utc": started.isoformat(timespec="seconds"), "wall_s": time.monotonic() - t0,
              "budget_s": args.budget_s, "passed": all(r["status"] == "passed" for r in records),
              "notes": notes, "stages": records}
    write_report(report, out)
    failed = [r["name"] for r in records if r["status"] != "passed"]
    print(f"gpu_check: {'all stages passed' if not failed else 'FAILED: ' + ', '.join(failed)} in "
          f"{report['wall_s']:.0f} s; report: {out / 'report.md'}", flush=True)
    return 130 if interrupted else 1 if failed else 0


def run_child(name: str, settings: dict, result_path: str) -> int:
    """Inside a stage's process: run it and write ``{"ok", "results", "error"}`` as JSON."""
    try:
        results, ok, error = STAGE_FUNCTIONS[name](settings), True, None
    except StageFailed as failure:
        results, ok, error = failure.results, False, str(failure)
    except Exception as err:  # any error is this stage's result; the traceback goes to its log
        traceback.print_exc()
        results, ok, error = {}, False, f"{type(err).__name__}: {' '.join(str(err).split())}"
    Path(result_path).write_text(json.dumps({"ok": ok, "results": results, "error": error}, default=str))
    if error:
        print(f"stage {name} failed: {error}", file=sys.stderr)
    return 0 if ok else 1


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def main(argv: list[str] | None = None) -> int:
    parser = _Parser(prog="python tools/gpu_check.py", description=__doc__,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", choices=("cuda", "cpu"), default="cuda", help="where to run (default: cuda)")
    parser.add_argument("--tiny", action="store_true", help="tiny sizes: batch 8, a few updates, 250-frame runs on 32x32 frames, Table 3 for mlp2 and "
                             "modern4 only")
    parser.add_argument("--dry-run", action="store_true", help="the same as --device cpu --tiny")
    parser.add_argument("--budget-s", type=float, default=480.0, help="time for all stages (default: 480 s)")
    parser.add_argument("--only", nargs="+", choices=STAGE_NAMES, help="run only these stages")
    parser.add_argument("--out", default=None,
                        help="report folder (default: results/gpu_check; --dry-run: runs/gpu_check_dry; "
                             "other CPU or tiny runs: runs/gpu_check_DEVICE[_tiny])")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--stage", choices=STAGE_NAMES, help=argparse.SUPPRESS)  # inside a stage's process
    parser.add_argument("--settings", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    if args.stage:
        return run_child(args.stage, json.loads(args.settings), args.result)
    if not math.isfinite(args.budget_s) or args.budget_s < 30:
        parser.error(f"--budget-s must be at least 30 seconds, got {args.budget_s:g}")
    if args.seed < 0:
        parser.error(f"--seed must be >= 0, got {args.seed}")
    if not args.dry_run and args.device == "cuda":
        try:
            import torch
        except ImportError:
            torch = None  # the environment stage says what is missing
        if torch is not None and not torch.cuda.is_available():
            parser.error(f"torch {torch.__version__} sees no CUDA GPU here (CUDA build: {torch.version.cuda}); "
                         "on a machine without one run: python tools/gpu_check.py --dry-run")
    return check(args, argv)


if __name__ == "__main__":
    sys.exit(main())
