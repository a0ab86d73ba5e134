"""The actor's tanh saturation: its logging, penultimate normalization, the pre-tanh penalty, the
CPU pixel setting's preset and the run-time projection (issue 8, sections 1, 3 and 4)."""
from __future__ import annotations

import csv
import io
import math
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from course_lib import diagnostics, projection
from course_lib.agents import make_agent
from course_lib.config import CPU_PROFILE, TrainConfig
from course_lib.nets import ConvEncoder, MLPHead, ModernHead, PenultimateNorm, make_head
from course_lib.spectral import lipschitz_upper_bound

REPO = Path(__file__).resolve().parents[1]
OBS_DIM, ACTION_DIM, BATCH = 5, 2, 32


def small_config(agent="ddpg", **kw) -> TrainConfig:
    base = dict(agent=agent, obs="state", task="cartpole_swingup", hidden_dim=32, batch_size=BATCH,
                arch="modern", depth=2, device="cpu")
    return TrainConfig(**{**base, **kw}).resolved()


def state_batch(seed=0) -> dict:
    g = torch.Generator().manual_seed(seed)
    return {"obs": torch.randn(BATCH, OBS_DIM, generator=g), "next_obs": torch.randn(BATCH, OBS_DIM, generator=g),
            "action": torch.rand(BATCH, ACTION_DIM, generator=g) * 2 - 1,
            "reward": torch.rand(BATCH, 1, generator=g), "discount": torch.full((BATCH, 1), 0.99)}


# ---------------------------------------------------------------------------- penultimate normalization
def test_penultimate_norm_gives_unit_vectors_and_survives_zero():
    x = torch.tensor([[3.0, 4.0], [0.0, 0.0]])
    y = PenultimateNorm()(x)
    assert torch.allclose(y[0], torch.tensor([0.6, 0.8])) and torch.equal(y[1], torch.zeros(2))


@pytest.mark.parametrize("arch", ["mlp", "modern"])
def test_penultimate_norm_bounds_every_output_by_its_weight_row(arch):
    torch.manual_seed(0)
    head = make_head(arch, 6, 3, hidden_dim=16, depth=2, penultimate_norm=True)
    out_layer = head.out if arch == "mlp" else head.output
    with torch.no_grad():
        out_layer.bias.fill_(0.5)
    x = 1000 * torch.randn(256, 6)  # huge inputs: without pnorm the outputs would be huge too
    bound = out_layer.weight.norm(dim=1) + out_layer.bias.abs()
    assert (head(x).abs() <= bound + 1e-5).all()
    plain = make_head(arch, 6, 3, hidden_dim=16, depth=2)
    assert plain(x).abs().max() > 10 * bound.max()


@pytest.mark.parametrize("arch", ["mlp", "modern"])
def test_penultimate_norm_is_off_by_default_and_adds_no_parameters(arch):
    torch.manual_seed(0)
    plain = make_head(arch, 6, 3, hidden_dim=16, depth=2, spectral_norm=True)
    torch.manual_seed(0)
    normed = make_head(arch, 6, 3, hidden_dim=16, depth=2, spectral_norm=True, penultimate_norm=True)
    assert not any(isinstance(m, PenultimateNorm) for m in plain.modules())
    assert sum(isinstance(m, PenultimateNorm) for m in normed.modules()) == 1
    assert list(plain.state_dict()) == list(normed.state_dict())
    for a, b in zip(plain.state_dict().values(), normed.state_dict().values()):
        assert torch.equal(a, b)  # the same initial weights: only the forward differs
    cls = MLPHead if arch == "mlp" else ModernHead
    assert isinstance(normed, cls)


def test_lipschitz_bound_refuses_a_normalized_head():
    with pytest.raises(ValueError, match="no Lipschitz rule for PenultimateNorm"):
        lipschitz_upper_bound(make_head("modern", 4, 1, hidden_dim=8, depth=1, penultimate_norm=True))


@pytest.mark.parametrize("agent", ["sac", "ddpg"])
@pytest.mark.parametrize("pnorm, actor, critic", [("none", 0, 0), ("actor", 1, 0), ("critic", 0, 2), ("both", 1, 2)])
def test_pnorm_option_reaches_the_right_heads(agent, pnorm, actor, critic):
    ag = make_agent(small_config(agent, pnorm=pnorm), (OBS_DIM,), ACTION_DIM, "cpu")
    count = lambda net: sum(isinstance(m, PenultimateNorm) for m in net.modules())
    assert count(ag.actor) == actor and count(ag.critic) == critic and count(ag.critic_target) == critic


# ---------------------------------------------------------------------------- logging saturation
def test_saturation_metrics_count_entries_past_tanh_099():
    u = torch.tensor([[0.0, -3.0], [2.0, 12.0]])  # tanh: 0, -0.995, 0.964, 1.0
    m = diagnostics.saturation_metrics(u)
    assert m["pre_tanh_max"].item() == 12.0 and m["saturated_frac"].item() == 0.5
    assert m["pre_tanh_max"].dim() == 0 and not m["pre_tanh_max"].requires_grad


@pytest.mark.parametrize("agent", ["sac", "ddpg"])
def test_agents_log_saturation_of_their_actor_forward(agent):
    torch.manual_seed(0)
    ag = make_agent(small_config(agent), (OBS_DIM,), ACTION_DIM, "cpu")
    batch = state_batch()
    with torch.no_grad():
        ag.actor.head.output.bias.fill_(2.7)  # push some actions past tanh 0.99 (|u| > 2.65)
        # SAC: the Gaussian's mean; DDPG: the head's output. The critic step does not move the actor.
        u = ag.actor(batch["obs"])[0] if agent == "sac" else ag.actor.pre_tanh(batch["obs"])
    expected_frac = (u.tanh().abs() > 0.99).float().mean().item()
    metrics = {}
    for step in range(ag.config.actor_update_every):
        metrics = ag.update(batch, step)
    assert metrics["pre_tanh_max"].item() == pytest.approx(u.abs().max().item(), rel=1e-5)
    assert metrics["saturated_frac"].item() == pytest.approx(expected_frac)
    assert 0 < expected_frac < 1


def test_train_row_has_the_saturation_columns_in_the_contract_order():
    row = diagnostics.train_row(100, {"pre_tanh_max": 7.5, "saturated_frac": 0.25}, False, {})
    assert list(row) == diagnostics.TRAIN_COLUMNS
    assert row["pre_tanh_max"] == 7.5 and row["saturated_frac"] == 0.25 and row["nonfinite"] == 0


# ---------------------------------------------------------------------------- the pre-tanh penalty
@pytest.mark.parametrize("agent", ["sac", "ddpg"])
def test_pre_tanh_penalty_shrinks_the_pre_tanh_action(agent):
    def run(coef):
        torch.manual_seed(0)
        ag = make_agent(small_config(agent, pre_tanh_penalty=coef, lr=1e-2), (OBS_DIM,), ACTION_DIM, "cpu")
        with torch.no_grad():
            ag.actor.head.output.bias.fill_(5.0)  # start saturated
        batch = state_batch()
        for step in range(40):
            metrics = ag.update(batch, step)
        return metrics["pre_tanh_max"].item()

    assert run(10.0) < 0.5 * run(0.0)


def test_zero_penalty_is_the_unpenalized_update():
    def losses(**kw):
        torch.manual_seed(0)
        ag = make_agent(small_config("ddpg", **kw), (OBS_DIM,), ACTION_DIM, "cpu")
        return [float(ag.update(state_batch(i), i)["actor_grad_norm"]) for i in range(3)]

    assert losses() == losses(pre_tanh_penalty=0.0) != losses(pre_tanh_penalty=1.0)


# ---------------------------------------------------------------------------- config and CLI
@pytest.mark.parametrize("kw, message", [
    (dict(pnorm="penultimate"), "unknown pnorm 'penultimate'; allowed: none, actor, critic, both"),
    (dict(pre_tanh_penalty=-0.1), "pre_tanh_penalty must be a finite number >= 0.0"),
    (dict(pre_tanh_penalty=math.nan), "pre_tanh_penalty must be a finite number >= 0.0"),
    (dict(profile="gpu"), "unknown profile 'gpu'; allowed: paper, cpu"),
    (dict(profile="cpu"), "profile cpu is the reduced-cost *pixel* setting"),
])
def test_bad_new_options_raise_clear_errors(kw, message):
    with pytest.raises(ValueError, match=message.replace("*", r"\*").replace("(", r"\(")):
        TrainConfig(**kw).resolved()


@pytest.mark.parametrize("args, message", [
    (["--pnorm", "all"], "argument --pnorm: invalid choice: 'all'"),
    (["--pre-tanh-penalty", "-1"], "pre_tanh_penalty must be a finite number >= 0.0, got -1.0"),
    (["--pre-tanh-penalty", "lots"], "argument --pre-tanh-penalty: invalid float value: 'lots'"),
    (["--profile", "cpu"], "profile cpu is the reduced-cost *pixel* setting"),
])
def test_cli_rejects_bad_new_options_in_one_line_with_exit_2(tmp_path, args, message):
    out = tmp_path / "run"
    proc = subprocess.run([sys.executable, "-m", "course_lib.train", "--out", str(out), *args], cwd=REPO,
                          env={**os.environ, "TQDM_DISABLE": "1"}, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and message in proc.stderr
    assert not out.exists()


@pytest.mark.parametrize("agent", ["sac", "ddpg"])
def test_cpu_profile_fills_auto_fields_and_explicit_options_win(agent):
    paper = TrainConfig(agent=agent, obs="pixels", task="cartpole_balance").resolved()
    cpu = TrainConfig(agent=agent, obs="pixels", task="cartpole_balance", profile="cpu").resolved()
    assert (paper.image_size, paper.hidden_dim, paper.action_repeat) == (84, 1024, 2)
    assert (cpu.image_size, cpu.hidden_dim, cpu.batch_size) == (48, 256, 64)
    assert cpu.action_repeat == 8 and cpu.frames == 6250 * 8 and cpu.eval_episodes == 5
    # What the profile keeps: the paper's agent.
    for name in ("lr", "n_step", "target_augs", "critic_augs", "update_every", "seed_frames", "tau",
                 "frame_stack", "feature_dim", "augment_pad"):
        assert getattr(cpu, name) == getattr(paper, name), name
    if agent == "ddpg":  # DrQ-v2's schedule, kept in frames: 100k steps x repeat 2
        assert cpu.std_decay_steps * cpu.action_repeat == paper.std_decay_steps * paper.action_repeat
    explicit = TrainConfig(agent=agent, obs="pixels", task="cartpole_balance", profile="cpu", image_size=64,
                           batch_size=32, frames=1000).resolved()
    assert (explicit.image_size, explicit.batch_size, explicit.frames, explicit.hidden_dim) == (64, 32, 1000, 256)
    cup = TrainConfig(agent=agent, obs="pixels", task="ball_in_cup_catch", profile="cpu").resolved()
    assert cup.action_repeat == 4 and cup.frames == 6250 * 4
    assert set(CPU_PROFILE) <= set(TrainConfig.__dataclass_fields__)


def test_defaults_resolve_as_before_the_new_options():
    """The new fields are off by default and the paper/state auto values did not move."""
    for agent in ("sac", "ddpg"):
        for obs in ("state", "pixels"):
            cfg = TrainConfig(agent=agent, obs=obs).resolved()
            assert (cfg.pnorm, cfg.pre_tanh_penalty, cfg.profile, cfg.image_size) == ("none", 0.0, "paper", 84)
            assert not cfg.actor_pnorm and not cfg.critic_pnorm


# ---------------------------------------------------------------------------- pixel scaling (section 4)
def test_each_agent_scales_pixels_as_its_reference():
    cfg = dict(obs="pixels", task="cartpole_swingup", hidden_dim=16, image_size=32, device="cpu")
    sac = make_agent(TrainConfig(agent="sac", **cfg).resolved(), (9, 32, 32), 1, "cpu")
    ddpg = make_agent(TrainConfig(agent="ddpg", **cfg).resolved(), (9, 32, 32), 1, "cpu")
    assert sac.encoder.scaling == sac.encoder_target.scaling == "unit"   # DrQ: x / 255
    assert ddpg.encoder.scaling == "centered"                              # DrQ-v2: x / 255 - 0.5
    torch.manual_seed(0)
    enc = ConvEncoder((3, 16, 16), scaling="unit")
    x = torch.randint(0, 256, (2, 3, 16, 16), dtype=torch.uint8)
    unit = enc(x)
    assert torch.allclose(unit, enc.convs(x.float() / 255.0).flatten(1), atol=1e-6)
    enc.scaling = "centered"
    assert torch.allclose(enc(x), enc.convs(x.float() / 255.0 - 0.5).flatten(1), atol=1e-6)
    assert not torch.allclose(enc(x), unit, atol=1e-3)
    with pytest.raises(ValueError, match="unknown pixel scaling 'raw'; allowed: centered, unit"):
        ConvEncoder((3, 16, 16), scaling="raw")


# ---------------------------------------------------------------------------- the time projection
class FakeClock:
    def __init__(self, step_s):
        self.t, self.step_s = 0.0, step_s

    def __call__(self):
        self.t += self.step_s
        return self.t


def pixel_paper_cpu_config(**kw):
    return TrainConfig(agent="sac", obs="pixels", task="cartpole_swingup", **kw).resolved()


def test_projection_warns_once_with_the_measured_rate_and_the_ways_out():
    cfg = pixel_paper_cpu_config()  # 500k frames at action repeat 2: 250000 agent steps
    stream = io.StringIO()
    clock = projection.RunClock(cfg, "cpu", after_updates=20, clock=FakeClock(1.5), stream=stream)
    results = [clock.update_done(step) for step in range(1000, 1030)]
    made = [r for r in results if r is not None]
    assert len(made) == 1 and results[20] is made[0]  # after the first update + 20 timed ones
    p = made[0]
    assert p.seconds_per_update == pytest.approx(1.5) and p.seconds_per_step == pytest.approx(1.5)
    assert p.total_steps == 250_000 and p.total_seconds == pytest.approx(375_000)
    text = stream.getvalue()
    assert text.count("\n") == 1 and "1.5 s each on cpu" in text and "about 4.3 days" in text
    assert "--device cuda" in text and "--profile cpu" in text and "--frames" in text


def test_projection_stays_quiet_for_a_short_run_and_names_only_ways_that_apply():
    stream = io.StringIO()
    short = TrainConfig(agent="ddpg", obs="state", frames=48_000).resolved()
    clock = projection.RunClock(short, "cpu", after_updates=5, clock=FakeClock(0.01), stream=stream)
    for step in range(0, 40, 2):
        clock.update_done(step)
    assert clock.projection is not None and not clock.warned and stream.getvalue() == ""
    assert clock.projection.seconds_per_step == pytest.approx(0.005)  # an update every 2nd step
    cpu_setting = pixel_paper_cpu_config(profile="cpu", frames=5_000_000)
    message = projection.Projection(20, 0.2, 0.2, cpu_setting.agent_steps, 100).message(cpu_setting, "cpu")
    assert "--device cuda" in message and "--profile cpu" not in message
    on_gpu = projection.Projection(20, 0.2, 0.2, 10**6, 10**6).message(pixel_paper_cpu_config(), "cuda:0")
    assert "--device cuda" not in on_gpu and "--profile cpu" in on_gpu


def test_trainer_hook_keeps_one_clock_per_trainer(monkeypatch):
    stream = io.StringIO()
    monkeypatch.setattr(projection, "AFTER_UPDATES", 3)
    monkeypatch.setattr(projection, "clock", FakeClock(1.0))
    monkeypatch.setattr(projection, "stream", stream)
    trainer = SimpleNamespace(cfg=pixel_paper_cpu_config(), device="cpu", step=0)
    for trainer.step in range(10):
        projection.after_update(trainer)
    watch = trainer._run_clock
    assert watch.projection.updates == 3 and watch.warned and stream.getvalue().count("\n") == 1


def test_format_duration():
    assert [projection.format_duration(s) for s in (42, 750, 3 * 3600, 5 * 86400)] == \
        ["42 s", "12.5 min", "3.0 h", "5.0 days"]


def test_a_short_run_writes_saturation_to_train_csv(tmp_path):
    from course_lib.train import train

    cfg = TrainConfig(agent="ddpg", obs="state", task="cartpole_swingup", hidden_dim=16, batch_size=16,
                      frames=1600, seed_frames=800, eval_every_frames=800, eval_episodes=1, log_every_frames=400,
                      video=False, device="cpu", out=str(tmp_path / "run"))
    train(cfg, progress=False)
    with open(tmp_path / "run" / "train.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows and all(float(r["pre_tanh_max"]) > 0 and 0 <= float(r["saturated_frac"]) <= 1 for r in rows)
