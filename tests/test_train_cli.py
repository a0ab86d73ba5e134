"""The training command line and run directory (course_lib.train): the contract later checks rely on.

Bad input is a one-line error with exit status 2 that writes nothing; pixel SAC and DDPG run end to
end on a CPU (seed phase, updates, evaluation, video, checkpoint, resume); a run killed after a
checkpoint and resumed writes the same eval.csv as an uninterrupted one; a non-finite loss stops the
run and records the crash.
"""
from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import torch

from course_lib import train as train_module
from course_lib.config import TrainConfig
from course_lib.train import Event, main, train

REPO = Path(__file__).resolve().parents[1]

# Small but real state settings: a few seconds per run on one core. TINY_STATE is the command line,
# TINY_STATE_CONFIG the same run for train(): one uninterrupted run (the ``straight_state_run``
# fixture) is the reference that the killed, continued and cut-mid-episode runs below must equal.
# Action repeat 4 makes an episode 250 agent steps (1,000 frames).
TINY_STATE_CONFIG = dict(agent="sac", obs="state", task="cartpole_swingup", action_repeat=4, hidden_dim=64,
                         batch_size=32, frames=4000, seed_frames=1000, eval_every_frames=2000, eval_episodes=1,
                         checkpoint_every_frames=2000, log_every_frames=500, video=False, seed=3)
TINY_STATE = ["--agent", "sac", "--obs", "state", "--task", "cartpole_swingup", "--action-repeat", "4", "--hidden-dim", "64",
              "--batch-size", "32", "--frames", "4000", "--seed-frames", "1000", "--eval-every-frames", "2000",
              "--eval-episodes", "1", "--checkpoint-every-frames", "2000", "--log-every-frames", "500",
              "--no-video", "--seed", "3"]
# Pixels: action repeat 8 makes an episode 125 agent steps (1000 frames).
TINY_PIXELS = ["--obs", "pixels", "--task", "cartpole_swingup", "--action-repeat", "8", "--hidden-dim", "32",
               "--batch-size", "8", "--seed-frames", "800", "--update-every", "2", "--eval-every-frames", "1000",
               "--eval-episodes", "1", "--log-every-frames", "200", "--checkpoint-every-frames", "1000",
               "--replay-capacity", "2000"]


def run_main(argv) -> int:
    """``main(argv)`` in this process, with argparse's SystemExit turned into the exit status."""
    try:
        return main(argv)
    except SystemExit as exit_:
        return int(exit_.code)


def cli(*args, **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "TQDM_DISABLE": "1"}
    return subprocess.run([sys.executable, "-m", "course_lib.train", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=kwargs.get("timeout", 300))


def read_rows(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def assert_same_run_files(run: Path, reference: Path) -> None:
    for name in ("eval.csv", "train.csv"):
        assert (run / name).read_text() == (reference / name).read_text(), name


@pytest.fixture(scope="module")
def straight_state_run(tmp_path_factory) -> Path:
    """TINY_STATE in one go, through the command line (read only by the tests that use it)."""
    out = tmp_path_factory.mktemp("straight") / "run"
    done = cli(*TINY_STATE, "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert [int(r["frame"]) for r in read_rows(out / "eval.csv")] == [0, 2000, 4000]
    assert json.loads((out / "config.json").read_text())["status"] == "complete"
    return out


# ---------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("args, message", [
    (["--task", "cartpole_swingupp"], "unknown task 'cartpole_swingupp'. Did you mean: cartpole_swingup"),
    (["--agent", "ppo"], ("invalid choice: 'ppo'", "sac", "ddpg")),
    (["--arch", "resnet"], ("invalid choice: 'resnet'", "mlp", "modern")),
    (["--depth", "0"], "depth must be an integer >= 1, got 0"),
    (["--actor-depth", "0"], "actor_depth must be an integer >= 1, got 0"),
    (["--frames", "0"], "frames must be an integer >= 1, got 0"),
    (["--depth", "two"], "argument --depth: invalid int value: 'two'"),
])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path, capsys, args, message):
    out = tmp_path / "run"
    assert run_main([*args, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert all(part in err for part in ((message,) if isinstance(message, str) else message)), err
    assert not out.exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error on a machine without a GPU")
def test_cuda_without_a_gpu_is_refused(tmp_path, capsys):
    out = tmp_path / "run"
    assert run_main(["--device", "cuda", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no GPU" in err and "--device cpu" in err
    assert not out.exists()


def test_missing_out_and_occupied_out_are_refused(tmp_path, capsys):
    assert run_main(["--frames", "1000"]) == 2
    assert "--out DIR is required" in capsys.readouterr().err
    out = tmp_path / "taken"
    out.mkdir()
    (out / "config.json").write_text(json.dumps({"agent": "ddpg", "obs": "state", "task": "walker_walk",
                                                 "status": "complete"}))
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert run_main(["--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "already holds a run" in err and "--resume" in err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_help_lists_every_option_with_its_default(capsys):
    assert run_main(["--help"]) == 0
    text = capsys.readouterr().out
    for part in ("--agent {sac,ddpg}", "--obs {state,pixels}", "--sn, --no-sn", "--actor-depth",
                 "--resume", "--device", "auto defaults", "max(1, depth // 2)", "pixels/ddpg",
                 "(default: cartpole_swingup)", "[auto: state 48000, pixels 500000"):
        assert part in text, part


# ---------------------------------------------------------------------------- resume = uninterrupted
def test_killed_and_resumed_run_writes_the_same_eval_csv(tmp_path, straight_state_run, capsys):
    straight, killed = straight_state_run, tmp_path / "killed"
    env = {**os.environ, "TQDM_DISABLE": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "course_lib.train", *TINY_STATE, "--out", str(killed)],
                            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    try:  # kill -9 once the run is past its 2000-frame checkpoint and has logged beyond it
        while time.time() < deadline and proc.poll() is None:
            rows = read_rows(killed / "train.csv") if (killed / "train.csv").exists() else []
            if rows and int(rows[-1]["frame"]) >= 2500:
                break
            time.sleep(0.02)
        assert proc.poll() is None, "the run finished before it could be interrupted"
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    stored = json.loads((killed / "config.json").read_text())
    assert stored["status"] == "running" and stored["frames_done"] == 2000  # the checkpoint's frame
    assert max(int(r["frame"]) for r in read_rows(killed / "train.csv")) >= 2500

    resumed = cli("--out", str(killed), "--resume")  # everything else comes from config.json
    assert resumed.returncode == 0, resumed.stderr
    assert_same_run_files(killed, straight)
    assert json.loads((killed / "config.json").read_text())["status"] == "complete"

    # The same main() as the command line, in this process (no second interpreter to start).
    capsys.readouterr()
    assert run_main(["--out", str(killed), "--resume"]) == 0  # a complete run: nothing to do
    assert "complete" in capsys.readouterr().out
    assert run_main(["--out", str(killed), "--resume", "--lr", "0.5"]) == 2
    err = capsys.readouterr().err
    assert "lr=0.5 (stored 0.001)" in err and err.count("\n") == 1


def test_stop_from_a_callback_then_resume_in_process(tmp_path):
    """The notebook path: train() with a callback that stops, then train(resume=True).

    (Action repeat 8: a 1,000-frame episode is 125 agent steps. The stop at 1,600 frames is 75 agent
    steps past the last checkpoint, at 1,000: the resumed run redoes them.)
    """
    common = dict(agent="ddpg", obs="state", hidden_dim=32, batch_size=16, frames=2000, seed_frames=500,
                  eval_every_frames=400, eval_episodes=1, log_every_frames=250, checkpoint_every_frames=1000,
                  video=False, seed=5)
    events: list[Event] = []

    def stop_after_1600(event: Event):
        events.append(event)
        return event.kind == "eval" and event.frame >= 1600

    first = train(TrainConfig(out=str(tmp_path / "a"), **common), progress=False, callback=stop_after_1600)
    assert first.status == "stopped" and first.frames_done == 1600
    assert {e.kind for e in events} == {"eval", "log"} and events[-1].eval_rows[-1]["frame"] == 1600
    assert json.loads((tmp_path / "a" / "config.json").read_text())["status"] == "running"
    checkpoint = torch.load(tmp_path / "a" / "checkpoint.pt", weights_only=False)
    assert checkpoint["loop"]["step"] * 8 == 1000  # the last checkpoint: 600 frames to redo
    resumed = train(TrainConfig(out=str(tmp_path / "a"), resume=True, **common), progress=False)
    straight = train(TrainConfig(out=None, **common), progress=False)  # out=None: in memory only
    assert resumed.status == straight.status == "complete"
    pd.testing.assert_frame_equal(resumed.eval, straight.eval)
    pd.testing.assert_frame_equal(resumed.train, straight.train)
    assert list(resumed.eval["frame"]) == [0, 400, 800, 1200, 1600, 2000]
    assert straight.out is None


def test_continuing_with_a_larger_budget_equals_training_in_one_go(tmp_path, straight_state_run):
    """Train 3k frames, then --resume to 4k: the same eval.csv and train.csv as 4k in one go.

    (A 1,000-frame cartpole episode ends exactly at 3k, where the finished run checkpoints; its
    final evaluation at 3k is not on the 2k schedule and is not kept by the continued run.)
    """
    common = {**TINY_STATE_CONFIG, "out": str(tmp_path / "a")}
    short = train(TrainConfig(**{**common, "frames": 3000}), progress=False)
    assert short.status == "complete" and list(short.eval["frame"]) == [0, 2000, 3000]
    continued = train(TrainConfig(**common, resume=True), progress=False)  # frames 4000
    assert continued.status == "complete" and continued.frames_done == 4000
    assert_same_run_files(tmp_path / "a", straight_state_run)
    assert list(pd.read_csv(tmp_path / "a" / "eval.csv")["frame"]) == [0, 2000, 4000]


@pytest.mark.parametrize("obs", ["state", "pixels"])
def test_a_budget_that_ends_mid_episode_still_extends_exactly(tmp_path, obs, request):
    """A budget that ends inside an episode (1,600 frames: the second 1,000-frame episode is cut),
    before any periodic checkpoint, still checkpoints; continuing it (state: to TINY_STATE's 4,000
    frames, pixels: to 2,000) equals that budget in one go. (Pixels: every rendered step costs, so the
    pixel runs are short and evaluate only at the start and the end of each budget.)"""
    if obs == "state":
        common = dict(TINY_STATE_CONFIG)  # its first periodic checkpoint is at 2,000 frames
        straight = request.getfixturevalue("straight_state_run")
    else:
        common = dict(agent="sac", obs=obs, task="cartpole_swingup", image_size=32, action_repeat=8,
                      hidden_dim=32, batch_size=8, update_every=2, replay_capacity=2000, frames=2000,
                      seed_frames=800, eval_every_frames=2000, eval_episodes=1, log_every_frames=500,
                      checkpoint_every_frames=100_000, video=False, seed=9)
        straight = tmp_path / "b"
        done = train(TrainConfig(out=str(straight), **common), progress=False)
        assert done.status == "complete" and list(done.eval["frame"]) == [0, 2000]
    short = train(TrainConfig(**{**common, "out": str(tmp_path / "a"), "frames": 1600}), progress=False)
    assert short.status == "complete" and (tmp_path / "a" / "checkpoint.pt").exists()
    assert short.eval["frame"].iloc[-1] == 1600  # the budget's own final evaluation
    continued = train(TrainConfig(**{**common, "out": str(tmp_path / "a"), "resume": True}), progress=False)
    assert continued.status == "complete" and continued.frames_done == common["frames"]
    assert_same_run_files(tmp_path / "a", straight)


def test_a_run_stored_before_newer_options_existed_still_resumes(tmp_path):
    """config.json written before an option existed (here: pnorm, pre_tanh_penalty, profile)."""
    common = dict(agent="ddpg", obs="state", hidden_dim=32, batch_size=16, seed_frames=1000,
                  eval_every_frames=1000, eval_episodes=1, log_every_frames=500, video=False, seed=5)
    out = tmp_path / "old"
    assert train(TrainConfig(out=str(out), frames=2000, **common), progress=False).status == "complete"
    stored = json.loads((out / "config.json").read_text())
    for newer in ("pnorm", "pre_tanh_penalty", "profile"):
        stored.pop(newer)
    (out / "config.json").write_text(json.dumps(stored))
    assert run_main(["--out", str(out), "--resume", "--frames", "3000"]) == 0
    assert json.loads((out / "config.json").read_text())["frames_done"] == 3000
    stored = json.loads((out / "config.json").read_text())
    stored.pop("pre_tanh_penalty")  # missing means the default, 0: asking for another is refused
    (out / "config.json").write_text(json.dumps(stored))
    assert run_main(["--out", str(out), "--resume", "--frames", "4000", "--pre-tanh-penalty", "0.5"]) == 2


@pytest.mark.parametrize("value, disabled", [("1", True), ("true", True), ("0", False), ("", False)])
def test_progress_bar_honours_tqdm_disable(monkeypatch, value, disabled):
    """tqdm's notebook bar ignores TQDM_DISABLE, so train() reads it itself (tested notebooks set it)."""
    seen = []

    class RecordingBar:
        def __init__(self, *args, disable=False, **kwargs):
            seen.append(disable)

        def __getattr__(self, name):
            return lambda *args, **kwargs: None

    monkeypatch.setattr(train_module, "tqdm", RecordingBar)
    monkeypatch.setenv("TQDM_DISABLE", value)
    config = TrainConfig(agent="sac", obs="state", hidden_dim=16, batch_size=8, frames=400, seed_frames=200,
                         eval_every_frames=400, eval_episodes=1, video=False, seed=0)
    assert train(config, progress=True).status == "complete"
    assert seen == [disabled]
    train(config, progress=False)
    assert seen == [disabled, True]


# ---------------------------------------------------------------------------- crashes
def test_a_nonfinite_loss_stops_and_records_the_crash(tmp_path, capsys):
    out = tmp_path / "crash"
    # Adam with lr 1e30 moves every weight by ~1e30 per step: the critic overflows to inf/NaN at once.
    proc = cli(*TINY_STATE, "--lr", "1e30", "--out", str(out))
    assert proc.returncode == 1
    assert proc.stderr.strip().count("\n") == 0 and "crashed at frame" in proc.stderr, proc.stderr
    stored = json.loads((out / "config.json").read_text())
    assert stored["status"] == "crashed" and 1000 < stored["crash_frame"] <= 1500
    assert "non-finite" in stored["crash_reason"]
    rows = read_rows(out / "eval.csv")
    assert [r["crashed"] for r in rows] == ["0", "1"]
    assert rows[-1]["frame"] == str(stored["crash_frame"]) and rows[-1]["eval_return"] == rows[0]["eval_return"]
    train_rows = read_rows(out / "train.csv")
    assert train_rows[-1]["nonfinite"] == "1"
    assert run_main(["--out", str(out), "--resume"]) == 1  # main() in this process: nothing to resume
    assert "crashed" in capsys.readouterr().err


def test_checkpoint_writes_are_atomic(tmp_path):
    path = tmp_path / "checkpoint.pt"
    torch.save({"frame": 1}, path)

    def dies_mid_write(f):
        f.write(b"partial bytes")
        raise KeyboardInterrupt  # a kill during the write

    with pytest.raises(KeyboardInterrupt):
        train_module._atomic_write(path, dies_mid_write, binary=True)
    assert torch.load(path) == {"frame": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.pt"]


# ---------------------------------------------------------------------------- pixels end to end
@pytest.mark.slow
def test_pixel_sac_end_to_end_with_resume(tmp_path):
    out = tmp_path / "sac_pixels"
    first = cli("--agent", "sac", *TINY_PIXELS, "--frames", "1000", "--out", str(out))
    assert first.returncode == 0, first.stderr
    for name in ("config.json", "eval.csv", "train.csv", "checkpoint.pt", "video.mp4"):
        assert (out / name).stat().st_size > 0, name
    stored = json.loads((out / "config.json").read_text())
    assert (stored["status"], stored["frames_done"], stored["hidden_dim"], stored["critic_augs"]) == ("complete", 1000, 32, 2)
    train_rows = read_rows(out / "train.csv")
    assert train_rows and "sigma/critic/q1.fc2" in train_rows[0] and train_rows[0]["alpha"] != ""
    assert float(train_rows[0]["critic_grad_norm"]) > 0 and train_rows[0]["nonfinite"] == "0"
    import imageio.v3 as iio
    video = iio.imread(out / "video.mp4")
    assert video.shape[0] == 126 and video.shape[-1] == 3  # reset + 125 agent steps

    # Continue with a larger budget: main() in this process (the CLI's --resume runs as a subprocess
    # in test_killed_and_resumed_run_writes_the_same_eval_csv), without filming again (--video may
    # change on resume; the first run's video is checked above).
    assert run_main(["--out", str(out), "--resume", "--frames", "2000", "--no-video"]) == 0
    assert [int(r["frame"]) for r in read_rows(out / "eval.csv")] == [0, 1000, 2000]
    assert json.loads((out / "config.json").read_text())["frames_done"] == 2000


@pytest.mark.slow
def test_pixel_ddpg_end_to_end_and_a_smaller_budget_reproduces_its_prefix(tmp_path):
    """DDPG from pixels through the CLI (modern heads, SN, penultimate normalization, n-step); then
    results/cpu_pixels' promise: the same command with a smaller --frames gives the stored eval.csv
    and train.csv up to that budget, bit for bit. (48x48 frames, the cpu profile's size: every
    rendered step costs, and pixel SAC above goes through the default 84x84.)"""
    out, short = tmp_path / "ddpg_pixels", tmp_path / "ddpg_pixels_short"
    args = ["--agent", "ddpg", *TINY_PIXELS, "--arch", "modern", "--depth", "2", "--sn", "--pnorm", "actor",
            "--eval-every-frames", "400", "--seed-frames", "200",  # 400 frames = 50 agent steps
            "--image-size", "48"]
    proc = cli(*args, "--frames", "800", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    stored = json.loads((out / "config.json").read_text())
    assert (stored["status"], stored["n_step"], stored["actor_depth"], stored["actor_sn"]) == ("complete", 3, 1, True)
    train_rows = read_rows(out / "train.csv")
    assert train_rows[0]["alpha"] == "" and float(train_rows[0]["actor_grad_norm"]) > 0
    assert abs(float(train_rows[0]["sigma/critic/q1.blocks.0.branch.w1"]) - 1.0) < 0.05  # SN layer
    assert (out / "video.mp4").stat().st_size > 0  # (800 frames end mid-episode: no checkpoint yet)
    assert "complete: 800 frames" in proc.stdout

    assert run_main([*args, "--frames", "400", "--out", str(short)]) == 0  # the same command, in this process
    for name in ("eval.csv", "train.csv"):
        full, prefix = pd.read_csv(out / name), pd.read_csv(short / name)
        assert len(prefix) >= (2 if name == "eval.csv" else 1) and len(full) > len(prefix), name
        pd.testing.assert_frame_equal(prefix, full[full["frame"] <= 400].reset_index(drop=True), check_exact=True)
