"""The agents (course_lib.agents, config, diagnostics): each piece against its definition.

Eq. (1) log-probabilities against torch.distributions, eq. (2) targets by hand, the target network's
EMA with spectral norm, which parameters each loss trains, gradient norms, non-finite detection,
measured spectral norms against torch.linalg, and state DDPG learning cartpole_swingup on a CPU.
"""
from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch
from torch import distributions as D

from course_lib import diagnostics
from course_lib.agents import AGENTS, make_agent
from course_lib.agents.common import Critic, grad_norm, make_target, soft_update
from course_lib.agents.ddpg import ddpg_actor_loss, ddpg_target, exploration_std, noisy_action
from course_lib.agents.sac import (sample_squashed_gaussian, soft_bellman_target,
                                   squashed_gaussian_log_prob)
from course_lib.config import AGENTS as CONFIG_AGENTS
from course_lib.config import TrainConfig, build_parser, field_docs
from course_lib.spectral import has_spectral_norm

OBS_DIM, ACTION_DIM = 5, 2
PIXEL_SHAPE = (9, 84, 84)


def small_config(agent="sac", obs="state", **kw) -> TrainConfig:
    kw.setdefault("hidden_dim", 32)
    kw.setdefault("batch_size", 8)
    return TrainConfig(agent=agent, obs=obs, **kw).resolved()


def batch_for(cfg: TrainConfig, obs_shape, batch=8, seed=0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    if cfg.obs == "pixels":
        obs = torch.randint(0, 256, (batch, *obs_shape), generator=g, dtype=torch.uint8)
        next_obs = torch.randint(0, 256, (batch, *obs_shape), generator=g, dtype=torch.uint8)
    else:
        obs = torch.randn(batch, *obs_shape, generator=g)
        next_obs = torch.randn(batch, *obs_shape, generator=g)
    return {"obs": obs, "next_obs": next_obs,
            "action": torch.rand(batch, ACTION_DIM, generator=g) * 2 - 1,
            "reward": torch.rand(batch, 1, generator=g), "discount": torch.full((batch, 1), 0.99)}


def params_of(module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in module.parameters()]


def same(a: list[torch.Tensor], b: list[torch.Tensor]) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a, b))


# ---------------------------------------------------------------------------- configuration
def test_registry_matches_config_choices():
    assert tuple(AGENTS) == CONFIG_AGENTS


def test_pixel_defaults_are_the_papers_agents():
    sac = TrainConfig(agent="sac", obs="pixels").resolved()
    assert (sac.hidden_dim, sac.batch_size, sac.lr, sac.action_repeat, sac.n_step) == (1024, 512, 1e-3, 2, 1)
    assert (sac.target_augs, sac.critic_augs, sac.tau, sac.actor_update_every, sac.target_update_every) == (2, 2, 0.01, 2, 2)
    assert (sac.replay_capacity, sac.init_temperature, sac.log_std_min, sac.log_std_max) == (100_000, 0.1, -10, 2)
    ddpg = TrainConfig(agent="ddpg", obs="pixels", task="ball_in_cup_catch").resolved()
    assert (ddpg.batch_size, ddpg.lr, ddpg.n_step, ddpg.target_augs, ddpg.critic_augs) == (256, 1e-4, 3, 1, 1)
    assert (ddpg.std_start, ddpg.std_end, ddpg.std_decay_steps, ddpg.std_clip, ddpg.update_every) == (1.0, 0.1, 100_000, 0.3, 2)
    walker = TrainConfig(agent="ddpg", obs="pixels", task="walker_walk").resolved()
    assert (walker.batch_size, walker.n_step) == (512, 1)
    assert TrainConfig(agent="ddpg", obs="pixels", task="reacher_easy").resolved().std_decay_steps == 500_000
    state = TrainConfig(agent="sac", obs="state").resolved()
    assert (state.hidden_dim, state.batch_size, state.action_repeat, state.frames) == (64, 256, 8, 48_000)
    assert TrainConfig(obs="state", task="walker_walk").resolved().action_repeat == 2  # PlaNet's table
    assert TrainConfig(obs="state", task="reacher_easy").resolved().action_repeat == 4
    assert TrainConfig(agent="ddpg", obs="state").resolved().n_step == 1


def test_actor_head_follows_the_critic_unless_given():
    modern = TrainConfig(arch="modern", depth=4, sn=True).resolved()
    assert (modern.actor_arch, modern.actor_depth, modern.actor_sn) == ("modern", 2, True)  # paper: 4 / 2 blocks
    assert TrainConfig(arch="modern", depth=1).resolved().actor_depth == 1
    assert TrainConfig(arch="mlp", depth=4).resolved().actor_depth == 4
    mixed = TrainConfig(arch="modern", depth=4, sn=True, actor_arch="mlp", actor_depth=3, actor_sn=False).resolved()
    assert (mixed.actor_arch, mixed.actor_depth, mixed.actor_sn) == ("mlp", 3, False)


@pytest.mark.parametrize("kwargs, message", [
    ({"agent": "ppo"}, "unknown agent 'ppo'; allowed: sac, ddpg"),
    ({"arch": "resnet"}, "allowed: mlp, modern"),
    ({"depth": 0}, "depth must be an integer >= 1"),
    ({"frames": 0}, "frames must be an integer >= 1"),
    ({"actor_depth": -1}, "actor_depth must be an integer >= 1"),
    ({"lr": -1.0}, "lr must be a finite number > 0"),
    ({"discount": 1.5}, "discount must be a finite number"),
])
def test_bad_settings_name_the_field(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        TrainConfig(**kwargs).resolved()


def test_every_field_has_help_text():
    docs = field_docs()
    names = [f for f in TrainConfig.__dataclass_fields__]
    assert set(names) == set(docs), set(names) ^ set(docs)
    text = build_parser().format_help()
    assert "max(1, depth // 2)" in text and "[auto: state 64" in text


# ---------------------------------------------------------------------------- the equations
def test_squashed_gaussian_log_prob_matches_torch_distributions():
    torch.manual_seed(0)  # float64: torch's reference inverts tanh (atanh), which float32 cannot do near +-1
    mu, log_std = torch.randn(64, 3, dtype=torch.float64), torch.randn(64, 3, dtype=torch.float64).clamp(-2, 1)
    pre_tanh = mu + torch.randn(64, 3, dtype=torch.float64) * log_std.exp()
    reference = D.TransformedDistribution(D.Normal(mu, log_std.exp()), [D.TanhTransform()])
    expected = reference.log_prob(torch.tanh(pre_tanh)).sum(-1, keepdim=True)
    ours = squashed_gaussian_log_prob(pre_tanh, mu, log_std)
    assert ours.shape == (64, 1)
    torch.testing.assert_close(ours, expected, atol=1e-6, rtol=1e-6)
    # The stable form stays finite where 1 - tanh(u)^2 underflows.
    assert torch.isfinite(squashed_gaussian_log_prob(torch.full((1, 1), 30.0), torch.zeros(1, 1), torch.zeros(1, 1))).all()


def test_sample_is_reparametrized_and_in_bounds():
    mu = torch.zeros(128, 2, requires_grad=True)
    action, log_prob = sample_squashed_gaussian(mu, torch.zeros(128, 2))
    assert action.abs().max() < 1 and log_prob.shape == (128, 1)
    action.sum().backward()
    assert mu.grad is not None and mu.grad.abs().sum() > 0  # eq. (3) needs d a / d theta


def test_soft_bellman_target_by_hand():
    r, d = torch.tensor([[1.0]]), torch.tensor([[0.99]])
    q1, q2, logp, alpha = torch.tensor([[5.0]]), torch.tensor([[4.0]]), torch.tensor([[-2.0]]), torch.tensor(0.1)
    # r + gamma * (min(Q1, Q2) - alpha log pi) = 1 + 0.99 * (4 + 0.2)
    assert soft_bellman_target(r, d, q1, q2, logp, alpha).item() == pytest.approx(1 + 0.99 * 4.2)
    assert ddpg_target(r, d, q1, q2).item() == pytest.approx(1 + 0.99 * 4.0)
    assert ddpg_actor_loss(torch.tensor([[1.0], [3.0]]), torch.tensor([[2.0], [0.0]])).item() == pytest.approx(-0.5)


def test_ddpg_std_schedule_and_clipped_noise():
    assert exploration_std(0, 1.0, 0.1, 100) == 1.0
    assert exploration_std(50, 1.0, 0.1, 100) == pytest.approx(0.55)
    assert exploration_std(10_000, 1.0, 0.1, 100) == pytest.approx(0.1)
    torch.manual_seed(0)
    mu = torch.zeros(10_000, 1, requires_grad=True)
    a = noisy_action(mu, std=5.0, clip=0.3)
    assert a.abs().max() <= 0.3 + 1e-6
    wide = noisy_action(torch.full((1000, 1), 0.9), std=5.0)
    assert wide.abs().max() < 1.0  # kept inside the action box
    (noisy_action(mu, std=5.0).sum()).backward()  # straight-through: every sample passes gradient
    assert torch.all(mu.grad == 1.0)


# ---------------------------------------------------------------------------- target networks
def test_soft_update_averages_unnormalized_weights_and_keeps_own_sn_state():
    torch.manual_seed(0)
    cfg = small_config(arch="modern", depth=2, sn=True)
    online = Critic(OBS_DIM, ACTION_DIM, cfg, pixels=False)
    target = make_target(online)
    assert target.training and not any(p.requires_grad for p in target.parameters())
    layer, target_layer = online.q1.blocks[0].branch.w1, target.q1.blocks[0].branch.w1
    assert has_spectral_norm(layer)
    with torch.no_grad():
        for p in online.parameters():
            p.add_(torch.randn_like(p))
    before = target_layer.parametrizations.weight.original.clone()
    u_before = target_layer.parametrizations.weight[0]._u.clone()
    soft_update(target, online, tau=0.25)
    expected = 0.75 * before + 0.25 * layer.parametrizations.weight.original
    torch.testing.assert_close(target_layer.parametrizations.weight.original, expected)
    assert torch.equal(target_layer.parametrizations.weight[0]._u, u_before)  # buffers are not averaged
    with torch.no_grad():  # the target's own power iteration runs on its own forward
        target(torch.randn(4, OBS_DIM), torch.randn(4, ACTION_DIM))
    assert not torch.equal(target_layer.parametrizations.weight[0]._u, u_before)


# ---------------------------------------------------------------------------- who trains what
@pytest.mark.parametrize("agent", ["sac", "ddpg"])
def test_pixel_encoder_is_trained_by_the_critic_only(agent):
    torch.manual_seed(0)
    cfg = small_config(agent, "pixels", actor_update_every=1, target_update_every=1)
    ag = make_agent(cfg, PIXEL_SHAPE, ACTION_DIM, "cpu")
    batch = batch_for(cfg, PIXEL_SHAPE)
    k, m, b = cfg.target_augs, cfg.critic_augs, 8
    features = ag.encoder(ag.augment(batch["obs"].repeat(m, 1, 1, 1)))
    with torch.no_grad():
        next_features = ag.encoder(ag.augment(batch["next_obs"].repeat(k, 1, 1, 1)))
    encoder_before, critic_before = params_of(ag.encoder), params_of(ag.critic)
    actor_before = params_of(ag.actor)
    ag.update_actor(features[:b].detach(), *([] if agent == "sac" else [0.2]))
    assert same(encoder_before, params_of(ag.encoder)) and same(critic_before, params_of(ag.critic))
    assert not same(actor_before, params_of(ag.actor))
    if agent == "sac":
        with torch.no_grad():
            next_target = ag.encoder_target(ag.augment(batch["next_obs"].repeat(k, 1, 1, 1)))
        ag.update_critic(features, batch["action"], batch["reward"], batch["discount"], next_features, next_target)
    else:
        ag.update_critic(features, batch["action"], batch["reward"], batch["discount"], next_features, 0.2)
    assert not same(encoder_before, params_of(ag.encoder))  # eq. (2) trains the encoder ...
    assert not same(critic_before, params_of(ag.critic))


@pytest.mark.parametrize("agent", ["sac", "ddpg"])
def test_actor_loss_flows_through_the_critic_without_training_it(agent):
    torch.manual_seed(0)
    cfg = small_config(agent)
    ag = make_agent(cfg, (OBS_DIM,), ACTION_DIM, "cpu")
    critic_before = params_of(ag.critic)
    metrics = ag.update_actor(torch.randn(16, OBS_DIM), *([] if agent == "sac" else [0.2]))
    assert same(critic_before, params_of(ag.critic))
    assert all(p.grad is None for p in ag.critic.parameters())  # eq. (3): the critic is only the path
    assert metrics["actor_grad_norm"] > 0


@pytest.mark.parametrize("agent", ["sac", "ddpg"])
@pytest.mark.parametrize("obs", ["state", "pixels"])
def test_update_reports_diagnostics_as_device_tensors(agent, obs):
    torch.manual_seed(0)
    cfg = small_config(agent, obs, actor_update_every=1)
    shape = PIXEL_SHAPE if obs == "pixels" else (OBS_DIM,)
    ag = make_agent(cfg, shape, ACTION_DIM, "cpu")
    metrics = ag.update(batch_for(cfg, shape), step=100)
    expected = {"critic_loss", "q_mean", "critic_grad_norm", "actor_loss", "actor_grad_norm", "nonfinite",
                "pre_tanh_max", "saturated_frac"}
    expected |= {"alpha"} if agent == "sac" else set()
    assert set(metrics) == expected
    assert all(isinstance(v, torch.Tensor) and v.dim() == 0 for v in metrics.values())
    assert not metrics["nonfinite"] and metrics["critic_loss"] > 0


def test_critic_grad_norm_is_the_norm_before_the_step():
    torch.manual_seed(0)
    cfg = small_config("ddpg")
    ag = make_agent(cfg, (OBS_DIM,), ACTION_DIM, "cpu")
    b = batch_for(cfg, (OBS_DIM,))
    seen = {}
    step = ag.critic_opt.step

    def spy(*args, **kwargs):  # the gradient the optimizer is about to apply
        seen["norm"] = torch.sqrt(sum((p.grad ** 2).sum() for p in ag.critic_params))
        return step(*args, **kwargs)

    ag.critic_opt.step = spy
    metrics = ag.update_critic(b["obs"], b["action"], b["reward"], b["discount"], b["next_obs"], 0.2)
    torch.testing.assert_close(metrics["critic_grad_norm"], seen["norm"])
    assert grad_norm(ag.critic_params) == pytest.approx(seen["norm"].item(), rel=1e-5)


def test_pixel_sac_sums_critic_losses_over_m_views():
    """DrQ: the critic loss is summed over M views; M identical views give exactly M times the loss."""
    losses = {}
    for m in (1, 2):
        torch.manual_seed(0)
        cfg = small_config("sac", "pixels", critic_augs=m, target_augs=1)
        ag = make_agent(cfg, PIXEL_SHAPE, ACTION_DIM, "cpu")
        b = batch_for(cfg, PIXEL_SHAPE)
        features = ag.encoder(b["obs"]).repeat(m, 1)  # M copies of one view
        with torch.no_grad():
            next_features, next_target = ag.encoder(b["next_obs"]), ag.encoder_target(b["next_obs"])
        torch.manual_seed(1)
        metrics = ag.update_critic(features, b["action"], b["reward"], b["discount"], next_features, next_target)
        losses[m] = metrics["critic_loss"].item()
    assert losses[2] == pytest.approx(2 * losses[1], rel=1e-5)


def test_nonfinite_values_are_flagged():
    torch.manual_seed(0)
    cfg = small_config("sac", actor_update_every=1)
    ag = make_agent(cfg, (OBS_DIM,), ACTION_DIM, "cpu")
    b = batch_for(cfg, (OBS_DIM,))
    b["reward"][0] = float("nan")
    metrics = ag.update(b, step=0)
    assert bool(metrics["nonfinite"])
    means = diagnostics.IntervalMeans()
    means.add(metrics)
    _, bad = means.pull()
    assert bad and diagnostics.parameters_nonfinite(ag.networks().values())


# ---------------------------------------------------------------------------- acting
@pytest.mark.parametrize("agent", ["sac", "ddpg"])
def test_acting_is_bounded_and_leaves_the_networks_alone(agent):
    torch.manual_seed(0)
    cfg = small_config(agent, sn=True, depth=3)
    ag = make_agent(cfg, (OBS_DIM,), ACTION_DIM, "cpu")
    state_before = copy.deepcopy(ag.actor.state_dict())  # includes SN's u/v buffers
    obs = np.random.default_rng(0).standard_normal(OBS_DIM).astype(np.float32)
    a1, a2 = ag.act(obs, 0, eval_mode=True), ag.act(obs, 0, eval_mode=True)
    assert a1.shape == (ACTION_DIM,) and np.array_equal(a1, a2)  # the mean action
    noisy = np.stack([ag.act(obs, 0, eval_mode=False) for _ in range(20)])
    assert np.abs(noisy).max() <= 1.0 and noisy.std(0).min() > 0
    for key, value in ag.actor.state_dict().items():
        assert torch.equal(value, state_before[key]), key
    assert ag.actor.training  # the previous mode is restored


# ---------------------------------------------------------------------------- diagnostics
def test_logged_spectral_norms_are_measured_with_linalg():
    torch.manual_seed(0)
    cfg = small_config(arch="modern", depth=2, sn=True)
    ag = make_agent(cfg, (OBS_DIM,), ACTION_DIM, "cpu")
    sigmas = diagnostics.head_spectral_norms(ag.head_modules())
    assert set(sigmas) >= {"sigma/critic/q1.input", "sigma/critic/q2.blocks.1.branch.w2", "sigma/actor/output"}
    w = ag.critic.q1.input.weight.detach()
    assert sigmas["sigma/critic/q1.input"] == pytest.approx(torch.linalg.matrix_norm(w, ord=2).item(), rel=1e-5)
    # SN layers: W / sigma_estimate has measured norm ~1 (the estimate starts converged).
    assert sigmas["sigma/critic/q1.blocks.0.branch.w1"] == pytest.approx(1.0, abs=1e-2)
    u = ag.critic.q1.blocks[0].branch.w1.parametrizations.weight[0]._u.clone()
    diagnostics.head_spectral_norms(ag.head_modules())
    assert torch.equal(u, ag.critic.q1.blocks[0].branch.w1.parametrizations.weight[0]._u)


def test_interval_means_average_each_metric_over_its_own_updates():
    means = diagnostics.IntervalMeans()
    means.add({"critic_loss": torch.tensor(1.0), "nonfinite": torch.tensor(False)})
    means.add({"critic_loss": torch.tensor(3.0), "actor_loss": torch.tensor(-2.0), "nonfinite": torch.tensor(False)})
    values, bad = means.pull()
    assert values == {"critic_loss": 2.0, "actor_loss": -2.0} and not bad
    assert means.pull() == ({}, False)  # reset after pulling
    row = diagnostics.train_row(1000, values, False, {})
    assert list(row) == diagnostics.TRAIN_COLUMNS and row["alpha"] == ""


# ---------------------------------------------------------------------------- checkpoints
@pytest.mark.parametrize("agent", ["sac", "ddpg"])
def test_state_dict_round_trip_continues_identically(agent):
    torch.manual_seed(0)
    cfg = small_config(agent, sn=True, arch="modern", depth=2)
    a = make_agent(cfg, (OBS_DIM,), ACTION_DIM, "cpu")
    for i in range(3):
        a.update(batch_for(cfg, (OBS_DIM,), seed=i), step=i)
    b = make_agent(cfg, (OBS_DIM,), ACTION_DIM, "cpu")
    b.load_state_dict(copy.deepcopy(a.state_dict()))
    batch = batch_for(cfg, (OBS_DIM,), seed=9)
    torch.manual_seed(5)
    ma = a.update(batch, step=3)
    torch.manual_seed(5)
    mb = b.update(batch, step=3)
    for key in ma:
        assert torch.equal(ma[key], mb[key]), key
    assert same(params_of(a.critic_target), params_of(b.critic_target))


# ---------------------------------------------------------------------------- learning
def test_state_ddpg_logs_its_own_diagnostics(tmp_path):
    """DrQ-v2's DDPG from states, 2,000 frames past the seed phase: no temperature, a live actor
    gradient, and the diagnostics header with the per-layer spectral norms. (That the default state
    DDPG learns cartpole_swingup in 48k frames is checked by notebook 02, which trains that run.)"""
    from course_lib.train import train

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # two test workers share two cores
    try:
        result = train(TrainConfig(agent="ddpg", obs="state", task="cartpole_swingup", seed=1, video=False,
                                   frames=6000, eval_every_frames=6000, out=str(tmp_path / "ddpg")), progress=False)
    finally:
        torch.set_num_threads(threads)
    assert result.status == "complete" and result.frames_done == 6000 and result.agent.updates > 0
    assert result.train["alpha"].isna().all() and result.train["actor_grad_norm"].gt(0).all()
    header = (tmp_path / "ddpg" / "train.csv").read_text().splitlines()[0]
    assert header.startswith(",".join(diagnostics.TRAIN_COLUMNS) + ",sigma/critic/q1.fc1")


# ---------------------------------------------------------------------------- replay on the GPU
def test_device_frame_replay_samples_exactly_what_the_host_replay_does():
    """The CUDA path's replay (frames mirrored on the device) gives the host path's batches; checked
    here with the 'device' being the CPU, and after a checkpoint round trip."""
    from course_lib.replay import DeviceFrameReplay, ReplayBuffer, to_torch

    shape, rng = (9, 16, 16), np.random.default_rng(0)
    host = ReplayBuffer(50, shape, ACTION_DIM, "pixels", n_step=3, seed=4)
    mirrored = DeviceFrameReplay(50, shape, ACTION_DIM, "pixels", n_step=3, seed=4, device="cpu")
    for step in range(130):  # wraps the ring more than twice, episodes of 20 steps
        frame = rng.integers(0, 256, shape, dtype=np.uint8)
        if step % 20 == 0:
            for buffer in (host, mirrored):
                buffer.add_first(frame)
        else:
            action = rng.uniform(-1, 1, ACTION_DIM).astype(np.float32)
            for buffer in (host, mirrored):
                buffer.add(action, 1.0, 1.0, frame, last=step % 20 == 19)
    restored = DeviceFrameReplay(50, shape, ACTION_DIM, "pixels", n_step=3, device="cpu")
    restored.load_state_dict(mirrored.state_dict())
    for _ in range(3):
        want = to_torch(host.sample(16), "cpu")
        got_a, got_b = to_torch(mirrored.sample(16), "cpu"), to_torch(restored.sample(16), "cpu")
        for key in want:
            assert torch.equal(got_a[key], want[key]) and torch.equal(got_b[key], want[key]), key


def test_actor_saturation_probe_reports_the_mlp_actor_unsaturated():
    """tools/probe_actor_saturation.py (notebook 09's check before a DDPG sweep) on the DrQ-v2 MLP actor:
    after a few updates its pre-tanh output stays far from tanh's flat region and its gradient flows."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "tools" / "probe_actor_saturation.py"
    spec = importlib.util.spec_from_file_location("probe_actor_saturation", path)
    probe = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(probe)
    cfg = TrainConfig(agent="ddpg", obs="pixels", task="cartpole_swingup", profile="cpu", image_size=24,
                      hidden_dim=32, batch_size=4, device="cpu").resolved()
    replay = probe.collect(cfg, frames=400, seed=0)  # real frames, random actions
    rows = probe.probe(cfg, replay, updates=3, seed=0)
    assert len(rows) == 3
    assert all(r["pre_tanh_max"] < 3 and r["saturated_frac"] == 0 and r["actor_grad_norm"] > 0 for r in rows)
    assert probe.parse_variant("pnorm=actor") == {"pnorm": "actor"}
    assert probe.parse_variant("penalty=0.5") == {"pre_tanh_penalty": 0.5}
    with pytest.raises(ValueError, match="unknown variant"):
        probe.parse_variant("penalty=-1")
