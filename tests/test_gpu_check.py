"""tools/gpu_check.py, the one command to run on a GPU machine, checked on a CPU with its dry run.

The dry run goes through every stage at tiny sizes, each in its own process as on the GPU; the
replay comparison is checked to catch a replay that differs; a failing or overrunning stage is
recorded without stopping the stages after it.
"""
from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("gpu_check", REPO / "tools" / "gpu_check.py")
gpu_check = importlib.util.module_from_spec(_spec)
sys.modules["gpu_check"] = gpu_check  # dataclasses look their module up by name
_spec.loader.exec_module(gpu_check)


@pytest.fixture(scope="module")
def dry_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("gpu_check")
    code = gpu_check.main(["--dry-run", "--out", str(out)])
    return code, out, json.loads((out / "report.json").read_text())


def test_dry_run_passes_every_stage_and_writes_the_report(dry_run):
    code, out, report = dry_run
    failed = {s["name"]: s.get("error") for s in report["stages"] if s["status"] != "passed"}
    assert code == 0 and report["passed"] and not failed, failed
    assert [s["name"] for s in report["stages"]] == list(gpu_check.STAGE_NAMES)
    assert all(s["seconds"] > 0 for s in report["stages"])
    markdown = (out / "report.md").read_text()
    assert markdown.startswith("# GPU check: passed")
    for name in gpu_check.STAGE_NAMES:
        assert f"| {name} | passed |" in markdown and f"## {name}:" in markdown
    assert all(s["cpu_seconds"] > 0 for s in report["stages"])
    assert report["wall_s"] < report["budget_s"]
    assert report["command"] == f"python tools/gpu_check.py --dry-run --out {out}"


def test_only_the_real_gpu_check_writes_into_results():
    assert gpu_check.default_out("cuda", tiny=False) == "results/gpu_check"
    for device, tiny in (("cpu", True), ("cpu", False), ("cuda", True)):
        assert gpu_check.default_out(device, tiny).startswith("runs/")


def test_dry_run_numbers_come_from_real_work(dry_run):
    _, out, report = dry_run
    stages = {s["name"]: s["results"] for s in report["stages"]}
    env = stages["environment"]
    assert env["torch"] == torch.__version__ and env["missing_packages"] == []
    assert env["packages"]["dm_control"] and env["python"] == sys.version.split()[0]
    render = stages["render"]
    assert render["gl_renderer"] and render["render_ms_84"]["median"] > 0
    replay = stages["replay"]
    assert replay["mismatches"] == [] and replay["wrapped_around"]
    assert replay["elements_compared"] == replay["batches"] * replay["batch_size"] * (2 * 9 * 16 * 16 + 2 + 1 + 1)
    assert [r["config"] for r in stages["updates"]["rows"]] == ["sac modern4+sn", "ddpg mlp2", "ddpg modern4+sn"]
    assert all(r["ms_median"] > 0 and r["batch"] == 8 for r in stages["updates"]["rows"])
    table = pd.read_csv(stages["bench"]["csv"])
    assert list(table["arch"]) == ["mlp2", "modern4"] and (table["train_time"] > 0).all()
    assert Path(stages["bench"]["csv"]).parent == out  # a dry run never writes results/bench
    for name, agent in (("train_sac", "sac"), ("train_ddpg", "ddpg")):
        run = stages[name]
        assert run["status"] == "complete" and run["frames"] == 250 and run["frames_per_s_updating"] > 0
        stored = json.loads((Path(run["out"]) / "config.json").read_text())
        assert stored["agent"] == agent and stored["obs"] == "pixels" and stored["status"] == "complete"
        assert len(pd.read_csv(Path(run["out"]) / "eval.csv")) == 2  # at the start and the end


# ---------------------------------------------------------------------------- the replay comparison
SIZES = gpu_check.replay_sizes(tiny=True)


def _filled(seed=0, fill_seed=0):
    host, device = gpu_check.make_replays("cpu", SIZES, seed=seed)
    gpu_check.fill_identically([host, device], SIZES, seed=fill_seed)
    return host, device


def test_identical_replays_compare_equal_and_the_comparison_sees_data():
    host, device = _filled()
    result = gpu_check.compare_replays(host, device, batches=3, batch_size=8)
    assert result["mismatches"] == [] and result["elements_compared"] > 0
    batch = host.sample(8)
    assert batch["obs"].std() > 0 and not np.array_equal(batch["obs"], batch["next_obs"])


def test_a_single_changed_pixel_or_reward_is_caught():
    host, _ = _filled()
    batch = host.sample(8)
    device_batch = {k: torch.from_numpy(v.copy()) for k, v in batch.items()}
    assert gpu_check.compare_batches(batch, device_batch) == []
    device_batch["obs"][3, 5, 7, 2] ^= 1
    device_batch["reward"][0] += 1e-5
    problems = gpu_check.compare_batches(batch, device_batch)
    assert problems == ["obs: 1 of 18432 elements differ", "reward: 1 of 8 elements differ"]
    device_batch["discount"] = device_batch["discount"].double()
    assert any(p.startswith("discount: host float32") for p in gpu_check.compare_batches(batch, device_batch))


def test_a_perturbed_device_ring_or_another_seed_is_caught():
    host, device = _filled()
    device._obs_device[:] ^= 1  # every stored frame off by one bit on the "GPU" side
    assert any("obs" in p for p in gpu_check.compare_replays(host, device, 2, 8)["mismatches"])
    host, device = _filled()
    other, _ = _filled(seed=1)  # same inserts, other sampling seed: other transitions
    assert gpu_check.compare_replays(host, other, 2, 8)["mismatches"]


# ---------------------------------------------------------------------------- failures and the budget
def test_a_failing_stage_is_recorded_and_the_next_still_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("MUJOCO_GL", "no_such_backend")  # dm_control refuses it: rendering must fail
    code = gpu_check.main(["--dry-run", "--only", "render", "replay", "--out", str(tmp_path)])
    report = json.loads((tmp_path / "report.json").read_text())
    assert code == 1 and not report["passed"]
    render, replay = report["stages"]
    assert render["status"] == "failed" and "MUJOCO_GL" in render["error"] and render["log_tail"]
    assert replay["status"] == "passed"
    assert "**Failed**" in (tmp_path / "report.md").read_text()


def test_a_stage_over_its_limit_is_stopped_and_recorded(tmp_path):
    stage = next(s for s in gpu_check.STAGES if s.name == "bench")  # 2 heads in 2 more processes: > 4 s
    env, _ = gpu_check.child_environment("cpu", tiny=True)
    settings = {"device": "cpu", "tiny": True, "seed": 0, "out": str(tmp_path),
                "bench_csv": str(tmp_path / "bench.csv")}
    record = gpu_check.run_stage(stage, settings, 3.0, env, tmp_path)
    assert record["status"] == "failed" and record["error"] == "timed out after 3 s"
    assert record["seconds"] < 10 and not (tmp_path / "bench.csv").exists()


def test_stage_limits_keep_the_later_stages_reserves():
    stages = gpu_check.STAGES
    later = sum(s.reserve_s for s in stages[1:])
    assert gpu_check.stage_limit(0, stages, 480, 1.0) == stages[0].max_s
    assert gpu_check.stage_limit(0, stages, later + 10, 1.0) == 10
    assert later + stages[0].reserve_s < 480  # every stage gets at least its reserve in 8 minutes


def test_bench_and_run_sizes_fit_their_limits():
    assert gpu_check.fit_bench_iters(None, 200) == 500
    assert gpu_check.fit_bench_iters(20.0, 200) == 500  # the paper's 500 fit: 4 x 520 x 20 ms = 42 s
    iters = gpu_check.fit_bench_iters(100.0, 200)
    assert 20 <= iters < 500 and 4 * (iters + 20) * 0.1 + 15 <= 0.75 * 200 + 1
    # 60 ms per update, 120 s: (60 - 25) s of updates at 2 frames each -> 1100 frames after the seed
    frames, log_every = gpu_check.fit_train_frames(60.0, 120, seed_frames=2000, action_repeat=2, update_every=1,
                                                   default=6000)
    assert (frames, log_every) == (3100, 275)
    assert gpu_check.fit_train_frames(1.0, 120, 2000, 2, 1, default=6000) == (6000, 500)
    assert gpu_check.fit_train_frames(None, 120, 4000, 2, 2, default=10_000) == (10_000, 500)
    assert gpu_check.fit_train_frames(1e4, 60, 2000, 2, 1, default=6000) == (2400, 100)  # at least 400


@pytest.mark.parametrize("args, message", [
    (["--budget-s", "5", "--dry-run"], "--budget-s must be at least 30"),
    (["--only", "tensorboard", "--dry-run"], "invalid choice"),
    (["--seed", "-1", "--dry-run"], "--seed must be >= 0"),
])
def test_bad_input_is_one_line_exit_2(args, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        gpu_check.main(args)
    err = capsys.readouterr().err.strip()
    assert exit_info.value.code == 2 and len(err.splitlines()) == 1 and message in err


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_cuda_without_a_gpu_says_to_use_the_dry_run(capsys):
    with pytest.raises(SystemExit) as exit_info:
        gpu_check.main([])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and "--dry-run" in err and "sees no CUDA GPU" in err


def test_environment_stage_does_not_ask_for_labmaze_and_installs_dm_control_without_deps(monkeypatch):
    from importlib import metadata

    real_version = metadata.version

    def version(name):  # as on a machine that followed requirements-sim.txt: no labmaze
        if gpu_check._canonical(name) == "labmaze":
            raise metadata.PackageNotFoundError(name)
        return real_version(name)

    monkeypatch.setattr(metadata, "version", version)
    installed, missing = gpu_check.missing_distributions()
    assert "dm_control" in installed and missing == []  # dm_control requires labmaze; it is not missing
    hint = gpu_check.install_hint(["dm_control", "mujoco", "glfw"])
    pip = f"{sys.executable} -m pip install"
    assert hint == f"{pip} 'mujoco==3.17.0' 'glfw' && {pip} --no-deps 'dm_control==1.0.50'"
