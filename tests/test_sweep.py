"""Sweeps: the grid, skipping finished runs, resuming, Ctrl-C, crashes, the Ray executor.

A fake training module (written by a fixture) follows the run-directory contract of
``python -m course_lib.train`` in milliseconds, logs every invocation, and can be made to die
midway, diverge ("crashed"), or run slowly enough to be interrupted.
"""
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from course_lib import results, sweep

REPO = Path(__file__).resolve().parents[1]

FAKE_TRAIN = r'''
"""Fake course_lib.train: same CLI and run-directory files, no learning."""
import argparse, json, os, sys, time
from pathlib import Path

p = argparse.ArgumentParser()
for name in ["--agent", "--obs", "--task", "--arch", "--out"]:
    p.add_argument(name, required=True)
p.add_argument("--depth", type=int, required=True)
p.add_argument("--sn", action=argparse.BooleanOptionalAction, required=True)
p.add_argument("--frames", type=int, required=True)
p.add_argument("--seed", type=int, required=True)
p.add_argument("--resume", action="store_true")
p.add_argument("--eval-every", type=int, default=1000)
args = p.parse_args()
out = Path(args.out)
out.mkdir(parents=True, exist_ok=True)
env = lambda name, default="": os.environ.get(name, default)
seeds_in = lambda name: str(args.seed) in env(name).split(",")

def write_json(path, obj):  # atomic, as train does for checkpoints
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(obj))
    os.replace(tmp, path)

if (out / "config.json").exists() and not args.resume:  # as train: never overwrite a run
    sys.exit(f"error: --out {out} already holds a run; pass --resume")
start = 0
if args.resume and (out / "checkpoint.pt").exists():
    start = json.loads((out / "checkpoint.pt").read_text())["frame"]
with open(env("FAKE_TRAIN_LOG"), "a") as log:
    log.write(json.dumps(dict(out=str(out), resume=args.resume, start=start, pid=os.getpid(),
                              extra=env("FAKE_MARK"))) + "\n")
cfg = dict(vars(args), status="running", frames_done=start, crash_frame=None, crash_reason=None)
cfg.pop("out"); cfg.pop("resume")
write_json(out / "config.json", cfg)
if start == 0:
    (out / "eval.csv").write_text("frame,eval_return,crashed\n")
last = None
for frame in range(start + args.eval_every, args.frames + 1, args.eval_every):
    time.sleep(float(env("FAKE_SLEEP", "0")))
    if seeds_in("FAKE_DIE_SEEDS") and frame > args.frames // 2 and not args.resume:
        os._exit(3)  # a process that dies midway (killed job, bug): status stays "running"
    if seeds_in("FAKE_CRASH_SEEDS") and frame > args.frames // 2:
        with open(out / "eval.csv", "a") as f:
            f.write(f"{frame},{last},1\n")
        write_json(out / "config.json", dict(cfg, status="crashed", frames_done=frame,
                                             crash_frame=frame, crash_reason="non-finite critic loss"))
        sys.exit(0)
    last = args.seed * 100 + frame / args.frames * 50
    with open(out / "eval.csv", "a") as f:
        f.write(f"{frame},{last},0\n")
    cfg["frames_done"] = frame
    write_json(out / "checkpoint.pt", {"frame": frame})
    write_json(out / "config.json", cfg)
write_json(out / "config.json", dict(cfg, status="complete"))
'''


@pytest.fixture
def fake(tmp_path, monkeypatch):
    """Install the fake training module; returns a reader of its invocation log."""
    mod_dir = tmp_path / "fake_mod"
    mod_dir.mkdir()
    (mod_dir / "fake_train.py").write_text(FAKE_TRAIN)
    log = tmp_path / "invocations.jsonl"
    log.touch()
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(mod_dir), str(REPO)]))
    monkeypatch.setenv("FAKE_TRAIN_LOG", str(log))
    for name in ["FAKE_SLEEP", "FAKE_DIE_SEEDS", "FAKE_CRASH_SEEDS", "FAKE_MARK"]:
        monkeypatch.delenv(name, raising=False)

    def invocations():
        return [json.loads(line) for line in log.read_text().splitlines()]
    return invocations


def grid(root, **kw):
    opts = dict(agent="sac", obs="state", frames=4000, root=root, train_module="fake_train",
                train_args=["--eval-every", "1000"])
    opts.update(kw)
    return sweep.plan(["cartpole_swingup", "walker_walk"], ["mlp2", "modern4+sn"], [0, 1], **opts)


def statuses(root):
    runs = results.load_runs(root)
    return {(r.task, r.config, r.seed): r.status for r in runs.itertuples()}


def test_plan_builds_the_grid(tmp_path):
    runs = grid(tmp_path / "runs")
    assert len(runs) == 8 and {r.state for r in runs} == {"new"}
    first = runs[0]
    assert first.out == tmp_path / "runs" / "sac-state" / "cartpole_swingup" / "mlp2" / "seed_0"
    assert first.args[:2] == ["-m", "fake_train"]
    assert first.display().startswith("python -m fake_train --agent sac --obs state --task cartpole_swingup "
                                      "--arch mlp --depth 2 --no-sn --frames 4000 --seed 0 --out ")
    assert first.args[-2:] == ["--eval-every", "1000"]
    sn_run = next(r for r in runs if r.config == "modern4+sn")
    assert sn_run.args[sn_run.args.index("--arch"):sn_run.args.index("--frames")] == \
        ["--arch", "modern", "--depth", "4", "--sn"]
    assert len(sweep.plan(["cartpole_swingup"] * 2, ["mlp2", "mlp2"], [0, 0], root=tmp_path)) == 1
    for bad, match in [(dict(configs=["mlp2", "resnet4"]), "unknown configuration 'resnet4'"),
                       (dict(tasks=["cartpole-swingup"]), "domain_task"),
                       (dict(seeds=[-1]), "non-negative"), (dict(frames=0), "positive"),
                       (dict(agent="ppo"), "sac, ddpg"), (dict(configs=[]), "at least one")]:
        args = dict(tasks=["cartpole_swingup"], configs=["mlp2"], seeds=[0])
        args.update(bad)
        with pytest.raises(ValueError, match=match):
            sweep.plan(args.pop("tasks"), args.pop("configs"), args.pop("seeds"), root=tmp_path, **args)


def test_sweep_runs_skips_and_records_crashes(tmp_path, fake, monkeypatch):
    root = tmp_path / "runs"
    monkeypatch.setenv("FAKE_CRASH_SEEDS", "1")  # seed 1 diverges: a result, not a failure
    monkeypatch.setenv("FAKE_DIE_SEEDS", "0")  # seed 0 dies midway with exit code 3
    runs = sweep.execute(grid(root), root=root, workers=2, progress=False)
    assert len(fake()) == 8  # each run tried exactly once
    assert {r.result for r in runs if r.seed == 1} == {"crashed"}
    assert {(r.result, r.returncode) for r in runs if r.seed == 0} == {("failed", 3)}
    assert sweep.report(runs) == "8 runs: 4 crashed, 4 failed"
    log = [json.loads(l) for l in (root / sweep.LOG_NAME).read_text().splitlines()]
    assert sorted(e["result"] for e in log) == ["crashed"] * 4 + ["failed"] * 4
    assert set(statuses(root).values()) == {"crashed", "running"}
    # Re-run without the faults. Crashed runs are results: skipped. Without --resume the
    # interrupted ones are left alone (nothing is thrown away); with it they continue.
    monkeypatch.delenv("FAKE_CRASH_SEEDS")
    monkeypatch.delenv("FAKE_DIE_SEEDS")
    again = grid(root)
    assert {(r.seed, r.state, r.todo) for r in again} == {(0, "interrupted", False), (1, "crashed", False)}
    sweep.execute(again, root=root, workers=2, progress=False)
    assert len(fake()) == 8
    assert sweep.report(again) == ("8 runs: 4 skipped (crashed before), "
                                   "4 interrupted left as they are (add --resume to continue them)")
    again = grid(root, resume=True)
    assert all(("--resume" in r.args) == (r.seed == 0) for r in again)
    sweep.execute(again, root=root, workers=2, progress=False)
    rerun = fake()[8:]
    # died after its checkpoint at 2000 frames: continued from there, not from scratch
    assert len(rerun) == 4 and all(Path(i["out"]).name == "seed_0" and i["start"] == 2000 for i in rerun)
    assert sweep.report(again) == "8 runs: 4 skipped (crashed before), 4 complete"
    table = results.summary(results.load_runs(root), 4000)
    assert set(table["n_crashed"]) == {1} and set(table["n"]) == {2}
    # A longer budget: complete runs are "shorter" (continued with --resume); crashed stay results.
    assert {(r.seed, r.state) for r in grid(root, frames=8000)} == {(0, "shorter"), (1, "crashed")}
    assert {r.state for r in grid(root, frames=2000) if r.seed == 0} == {"complete"}


class RecordingBar:
    """Stands in for tqdm: keeps every bar's total, and its position after each update."""
    bars = []

    def __init__(self, total=None, initial=0, desc="", **kwargs):
        self.total, self.n, self.desc, self.disable, self.positions = total, initial, desc, False, [initial]
        RecordingBar.bars.append(self)

    def update(self, k=1):
        self.n += k
        self.positions.append(self.n)

    def __getattr__(self, name):  # set_postfix, write, close
        return lambda *args, **kwargs: None


def test_frames_progress_bar_follows_the_runs(tmp_path, fake, monkeypatch):
    RecordingBar.bars = []
    monkeypatch.setattr(sweep, "tqdm", RecordingBar)
    monkeypatch.setattr(sweep, "POLL_SECONDS", 0.0)
    monkeypatch.setenv("FAKE_SLEEP", "0.5")  # four evaluations per run, 0.5 s apart: the bar polls every 0.5 s
    root = tmp_path / "runs"
    runs = [r for r in grid(root) if r.task == "walker_walk" and r.seed == 0]  # 2 runs of 4000 frames
    sweep.execute(runs, root=root, workers=2, progress=True)
    runs_bar, frames_bar = RecordingBar.bars
    assert (runs_bar.desc, runs_bar.total, runs_bar.n) == ("runs", 2, 2)
    assert (frames_bar.desc, frames_bar.total, frames_bar.n) == ("frames", 8000, 8000)
    assert frames_bar.positions == sorted(frames_bar.positions)  # never backwards
    between = {p for p in frames_bar.positions if 0 < p < 8000}
    assert between, frames_bar.positions  # it moved while the runs were running


def test_frames_reached_reads_the_run_directory(tmp_path):
    out = tmp_path / "run"
    assert sweep.frames_reached(out) == 0  # not started
    out.mkdir()
    (out / "eval.csv").write_text("frame,eval_return,crashed\n0,1.0,0\n10000,5.0,0\n20000,7.5,0\n")
    assert sweep.frames_reached(out) == 20000
    (out / "config.json").write_text(json.dumps({"frames_done": 25000}))  # a checkpoint after it
    assert sweep.frames_reached(out) == 25000
    (out / "config.json").write_text('{"frames_do')  # being rewritten: fall back to eval.csv
    assert sweep.frames_reached(out) == 20000


def _wait_for(condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_ctrl_c_then_rerun_neither_loses_nor_repeats_work(tmp_path, fake, monkeypatch):
    root = tmp_path / "runs"
    cli = [sys.executable, "-m", "course_lib.sweep", "--tasks", "cartpole_swingup", "walker_walk",
           "--configs", "mlp2", "modern4+sn", "--seeds", "0", "1", "--agent", "sac", "--obs", "state",
           "--frames", "4000", "--root", str(root), "--workers", "2", "--train-module", "fake_train",
           "--no-progress", "--resume", "--", "--eval-every", "1000"]
    monkeypatch.setenv("FAKE_SLEEP", "0.5")  # ~2 s a run: 8 runs on 2 workers take ~8 s (a loaded machine keeps a window)
    # A shell's background job (nohup, `cmd &`) starts with SIGINT ignored, and Python then installs
    # no KeyboardInterrupt handler: give the sweep the terminal's default, as in an interactive shell.
    proc = subprocess.Popen(cli, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))

    def midway():  # two runs finished and another one part-way (it has a checkpoint)
        # (config.json only: the fake writes it atomically, while eval.csv grows line by line)
        status = {d: json.loads((d / "config.json").read_text())["status"]
                  for d in root.glob("*/*/*/seed_*") if (d / "config.json").exists()}
        done = sum(s == "complete" for s in status.values())
        return done >= 2 and any(s == "running" and (d / "checkpoint.pt").exists() for d, s in status.items())
    _wait_for(midway)
    proc.send_signal(signal.SIGINT)  # Ctrl-C reaches the sweep; it must stop its children itself
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "--resume" in err
    first = fake()
    time.sleep(0.1)
    assert not any(_alive(i["pid"]) for i in first), "training processes outlived the sweep"
    before = statuses(root)
    done_before = {k for k, s in before.items() if s == "complete"}
    partial = {k for k, s in before.items() if s == "running"}
    assert 2 <= len(done_before) < 8 and partial, before
    checkpoints = {str(run_dir): json.loads((run_dir / "checkpoint.pt").read_text())["frame"]
                   for run_dir in root.glob("*/*/*/seed_*") if (run_dir / "checkpoint.pt").exists()}

    monkeypatch.setenv("FAKE_SLEEP", "0")
    monkeypatch.setenv("FAKE_MARK", "second")
    rerun = subprocess.run(cli, capture_output=True, text=True, timeout=60)
    assert rerun.returncode == 0, rerun.stderr
    second = [i for i in fake() if i["extra"] == "second"]
    second_dirs = {Path(i["out"]).relative_to(root) for i in second}
    key = lambda p: (p.parts[1], p.parts[2], int(p.parts[3].split("_")[1]))
    assert not {key(p) for p in second_dirs} & done_before  # finished work is not repeated
    assert len(second) == 8 - len(done_before)
    for inv in second:  # partial work is continued from its checkpoint, not redone
        assert inv["start"] == checkpoints.get(inv["out"], 0)
        assert inv["resume"] or inv["out"] not in checkpoints
    assert set(statuses(root).values()) == {"complete"}
    for run_dir in root.glob("*/*/*/seed_*"):  # every evaluation exactly once
        frames = [int(l.split(",")[0]) for l in (run_dir / "eval.csv").read_text().splitlines()[1:]]
        assert frames == [1000, 2000, 3000, 4000], run_dir
    assert f"skipped (complete before)" in rerun.stdout

    third = subprocess.run(cli, capture_output=True, text=True, timeout=60)
    assert third.returncode == 0 and len(fake()) == len(first) + len(second)  # nothing left to do
    assert "8 skipped (complete before)" in third.stdout


def test_cli_dry_run_and_errors(tmp_path, fake, capsys):
    root = tmp_path / "runs"
    base = [sys.executable, "-m", "course_lib.sweep", "--tasks", "cartpole_swingup", "--seeds", "0", "1",
            "--root", str(root), "--frames", "4000", "--obs", "state"]
    dry = subprocess.run(base + ["--configs", "mlp2", "modern4+sn", "--dry-run", "--", "--device", "cpu"],
                         capture_output=True, text=True, timeout=60)
    assert dry.returncode == 0, dry.stderr
    lines = dry.stdout.splitlines()
    assert len(lines) == 5 and lines[-1] == "# 4 runs, 4 to run, 0 skipped"
    assert lines[3].startswith("python -m course_lib.train --agent sac --obs state --task cartpole_swingup "
                               "--arch modern --depth 4 --sn --frames 4000 --seed 1 --out ")
    assert lines[3].endswith("seed_1 --device cpu")
    assert not root.exists() and not fake()  # a dry run runs nothing
    # The errors: the same main() in this process (the dry run above went through the command line).
    args = base[3:]  # without "python -m course_lib.sweep"
    with pytest.raises(SystemExit) as bad:
        sweep.main(args + ["--configs", "modern4+bn"])
    assert bad.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith(
        "python -m course_lib.sweep: error: unknown configuration 'modern4+bn': a configuration is ARCH DEPTH")
    with pytest.raises(SystemExit) as gpus:
        sweep.main(args + ["--configs", "mlp2", "--gpus-per-run", "1"])
    assert gpus.value.code == 2 and "--executor ray" in capsys.readouterr().err
    assert not root.exists() and not fake()


def test_ray_executor(tmp_path, fake, monkeypatch):
    if os.environ.get("REQUIRE_RAY") == "1":  # CI installs the extra and must run this test
        import ray
    else:
        ray = pytest.importorskip("ray", reason="ray is an optional dependency: pip install -e '.[ray]'")
    root = tmp_path / "runs"
    runs = sweep.plan(["cartpole_swingup"], ["mlp2", "modern4+sn"], [0, 1], agent="sac", obs="state",
                      frames=2000, root=root, train_module="fake_train")
    monkeypatch.setenv("FAKE_CRASH_SEEDS", "1")
    try:  # no address: the sweep starts a local Ray instance (2 CPUs) and shuts it down after
        sweep.execute(runs, root=root, executor="ray", workers=2, progress=False)
    finally:
        assert not ray.is_initialized()
    assert sweep.report(runs) == "4 runs: 2 complete, 2 crashed"
    assert len(fake()) == 4 and {i["pid"] for i in fake()}.isdisjoint({os.getpid()})
    assert statuses(root) == {("cartpole_swingup", c, s): ("complete", "crashed")[s]
                              for c in ["mlp2", "modern4+sn"] for s in [0, 1]}
    again = sweep.plan(["cartpole_swingup"], ["mlp2", "modern4+sn"], [0, 1], agent="sac", obs="state",
                       frames=2000, root=root, train_module="fake_train")
    sweep.execute(again, root=root, executor="ray", progress=False)  # nothing to do: no Ray started
    assert len(fake()) == 4


def test_real_tiny_sweep(tmp_path, monkeypatch):
    """Two seeds of state SAC on cartpole_swingup for 2000 frames, through the real training CLI."""
    if importlib.util.find_spec("course_lib.train") is None:  # (the sweep's subprocesses import it)
        pytest.skip("course_lib.train cannot be imported (not written yet); this test runs a real sweep with it")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    root = tmp_path / "runs"
    runs = sweep.plan(["cartpole_swingup"], ["mlp2"], [0, 1], agent="sac", obs="state", frames=2000,
                      root=root, train_args=REAL_TRAIN_ARGS)
    sweep.execute(runs, root=root, workers=2, progress=False)
    assert sweep.report(runs) == "2 runs: 2 complete", [
        (r.out / sweep.OUTPUT_NAME).read_text()[-2000:] for r in runs]
    loaded = results.load_runs(root)
    assert list(loaded["status"]) == ["complete"] * 2 and list(loaded["hidden_dim"]) == [32, 32]
    curves = results.load_curves(loaded)
    assert list(curves["frame"]) == [0, 1000, 2000] * 2  # evaluations at 0, every 1000, and the end
    returns = curves.pivot(index="frame", columns="seed", values="eval_return")
    assert returns[0].ne(returns[1]).any()  # the seeds are really different runs
    table = results.summary(loaded, 2000)
    assert (table["n"].iloc[0], table["n_incomplete"].iloc[0]) == (2, 0)
    assert table["mean"].iloc[0] == pytest.approx(returns.loc[2000].mean())
    assert {r.state for r in sweep.plan(["cartpole_swingup"], ["mlp2"], [0, 1], agent="sac", obs="state",
                                        frames=2000, root=root)} == {"complete"}


REAL_TRAIN_ARGS = ["--device", "cpu", "--eval-every-frames", "1000", "--eval-episodes", "1", "--no-video",
                   "--seed-frames", "1000", "--hidden-dim", "32", "--batch-size", "32"]
