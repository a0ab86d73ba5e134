"""Make the course's short videos of trained policies: train each run, film it, shrink it to a GIF.

Usage, from the repository root (README.md beside this file has the measured costs)::

    OMP_NUM_THREADS=1 MUJOCO_GL=egl python results/videos/make_videos.py              # every video
    OMP_NUM_THREADS=1 MUJOCO_GL=egl python results/videos/make_videos.py fig3_mlp2    # only some
    python results/videos/make_videos.py --skip-training    # only re-make the GIFs from the runs

Each video is one seeded run of ``python -m course_lib.train`` (its exact command is in ``VIDEOS``
below and in ``videos.json``), trained into ``runs/videos/<run>/`` (not tracked: checkpoint and the
full-size ``video.mp4``, the first episode of the run's final evaluation). A run that is already
there is not trained again. From its ``video.mp4`` this script writes ``<name>.gif`` here: real time
(one frame per 80 ms of simulated time), the first ``SECONDS`` of the episode, 160x120 pixels,
labelled in the corner; it copies the run's ``config.json`` and ``eval.csv`` to ``runs/<name>/``
here and records every video's command, outcome and caption in ``videos.json``, which notebooks
read for their captions.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))

from course_lib.videos import write_gif  # noqa: E402

RUN_ROOT = ROOT / "runs" / "videos"
SECONDS = 6.0  # of simulated time: a swing-up takes 2-3 s, then a few seconds of balancing
FRAME_MS = 80  # one GIF frame per 80 ms of simulated time: real time
PHYSICS_MS = 10  # cartpole's control timestep; an agent step lasts action_repeat of them

# The setting of notebook 08 (results/cpu_fig3/README.md: the stored experiment's command, with video on).
FIG3 = ["--agent", "sac", "--obs", "state", "--task", "cartpole_swingup", "--action-repeat", "4",
        "--hidden-dim", "128", "--batch-size", "128", "--lr", "8e-3", "--eval-every-frames", "4000",
        "--device", "cpu"]

VIDEOS = {
    # Notebook 02b's state SAC (TrainConfig(agent="sac", obs="state", task="cartpole_swingup", seed=1)).
    "sac_state_cartpole_swingup": {
        "args": ["--agent", "sac", "--obs", "state", "--task", "cartpole_swingup", "--seed", "1",
                 "--device", "cpu"],
        "run": "sac_state_seed1",
        "title": "SAC from states",
        "label": "SAC from states (mlp2 heads, width 64), cartpole_swingup, seed 1",
    },
    # Notebook 08: the same seed with three critics, 48k frames.
    "fig3_mlp2": {
        "args": FIG3 + ["--frames", "48000", "--arch", "mlp", "--depth", "2", "--no-sn", "--seed", "4"],
        "run": "mlp2_seed4",
        "title": "mlp2",
        "label": "mlp2 critic, seed 4",
    },
    # Without SN this run crashes (at 12k frames, here and in results/cpu_fig3/), and a crashed run
    # has no final evaluation to film. A run is the first part of any longer run of the same
    # settings, so a run stopped at 8k frames is this run at its last evaluation before the crash
    # (the paper's rule: report the performance before the crash), and one stopped at 11k frames
    # is the agent 1,000 frames before it.
    "fig3_modern8": {
        "args": FIG3 + ["--frames", "48000", "--arch", "modern", "--depth", "8", "--no-sn", "--seed", "4"],
        "run": "modern8_seed4",
        "title": "modern8, no SN",
        "label": "modern8 critic without SN, seed 4",
    },
    "fig3_modern8_last_eval": {
        "args": FIG3 + ["--frames", "8000", "--arch", "modern", "--depth", "8", "--no-sn", "--seed", "4"],
        "run": "modern8_seed4_8k",
        "title": "modern8, no SN",
        "label": "modern8 critic without SN, seed 4 (crashes at 12,000 frames)",
    },
    "fig3_modern8_before_crash": {
        "args": FIG3 + ["--frames", "11000", "--arch", "modern", "--depth", "8", "--no-sn", "--seed", "4"],
        "run": "modern8_seed4_11k",
        "title": "modern8, no SN",
        "label": "modern8 critic without SN, seed 4 (crashes at 12,000 frames)",
    },
    "fig3_modern8_sn": {
        "args": FIG3 + ["--frames", "48000", "--arch", "modern", "--depth", "8", "--sn", "--seed", "4"],
        "run": "modern8+sn_seed4",
        "title": "modern8 + SN",
        "label": "modern8 critic with SN, seed 4",
    },
}


def run_dir(name: str) -> Path:
    return RUN_ROOT / VIDEOS[name]["run"]


def command(name: str) -> list[str]:
    return ["python", "-m", "course_lib.train", *VIDEOS[name]["args"],
            "--out", str(run_dir(name).relative_to(ROOT))]


def train(name: str) -> dict:
    """Train the run unless it is there already; returns its config.json."""
    config_path = run_dir(name) / "config.json"
    if config_path.exists():
        config = json.loads(config_path.read_text())
        if config["status"] in ("complete", "crashed"):
            return config
        raise SystemExit(f"{config_path.parent} holds an unfinished run (status {config['status']}): "
                         f"continue it with `{' '.join(command(name))} --resume`, or delete it")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    env.setdefault("MUJOCO_GL", "egl")
    print("$", " ".join(command(name)), flush=True)
    done = subprocess.run([sys.executable, *command(name)[1:]], cwd=ROOT, env=env)
    if done.returncode not in (0, 1):  # 1: the run crashed, which the video records
        raise SystemExit(f"{name}: training failed (exit status {done.returncode})")
    return json.loads(config_path.read_text())


def film(name: str, config: dict) -> dict:
    """<name>.gif from the run's video.mp4, its tables copied here; returns the videos.json entry."""
    import imageio.v2 as imageio
    import pandas as pd

    run = run_dir(name)
    evals = pd.read_csv(run / "eval.csv")
    entry = {"command": " ".join(command(name)), "status": config["status"],
             "crash_frame": config["crash_frame"]}
    kept = HERE / "runs" / name
    kept.mkdir(parents=True, exist_ok=True)
    for table in ("config.json", "eval.csv"):
        shutil.copyfile(run / table, kept / table)
    if config["status"] == "crashed":  # no final evaluation, so no video (train.py films completed runs)
        last = evals[evals["crashed"] == 0].iloc[-1]
        entry.update(gif=None, frame=int(last["frame"]), eval_return=round(float(last["eval_return"]), 1),
                     caption=f"{VIDEOS[name]['label']}: crashed at {int(config['crash_frame']):,} frames "
                             f"(non-finite values); no video")
        return entry
    frame_agent_ms = config["action_repeat"] * PHYSICS_MS
    step = max(1, round(FRAME_MS / frame_agent_ms))
    count = int(SECONDS * 1000 / (step * frame_agent_ms)) + 1
    frames = [frame for frame in imageio.get_reader(run / "video.mp4")][::step][:count]
    final = evals.iloc[-1]
    gif = write_gif(frames, HERE / f"{name}.gif", frame_ms=step * frame_agent_ms,
                    title=f"{VIDEOS[name]['title']}, return {final['eval_return']:.0f}")
    entry.update(gif=gif.name, frame=int(final["frame"]), eval_return=round(float(final["eval_return"]), 1),
                 bytes=gif.stat().st_size,
                 caption=f"{VIDEOS[name]['label']}, after {int(final['frame']):,} frames: evaluation return "
                         f"{final['eval_return']:.0f} (mean of {config['eval_episodes']} episodes; the "
                         f"first {SECONDS:.0f} s of the first, real time)")
    return entry


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"videos to make (default: all): {', '.join(VIDEOS)}")
    parser.add_argument("--skip-training", action="store_true",
                        help="only re-make GIFs from runs that are already in runs/videos/")
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in VIDEOS]
    if unknown:
        parser.error(f"unknown video {', '.join(unknown)}; choose from {', '.join(VIDEOS)}")
    manifest_path = HERE / "videos.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    for name in args.names or VIDEOS:
        if args.skip_training and not (run_dir(name) / "config.json").exists():
            print(f"{name}: no run in {run_dir(name)}; skipped")
            continue
        config = train(name)
        manifest[name] = film(name, config)
        print(f"{name}: {manifest[name]['caption']}", flush=True)
    manifest = {name: manifest[name] for name in VIDEOS if name in manifest}
    manifest_path.write_text(json.dumps(manifest, indent=1) + "\n")


if __name__ == "__main__":
    main()
