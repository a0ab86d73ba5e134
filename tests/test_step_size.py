"""The pre-registered experiment's controls: fixed temperature, sigma-scaled steps, width-transfer lr.

Each is checked against what it claims to do on one update, from the same initial networks and
batch as an agent without it.
"""
from __future__ import annotations

import copy

import pytest
import torch

from course_lib.agents import make_agent
from course_lib.agents.step_size import SigmaScaledSteps, sn_candidate_weights, width_scaled_weights
from course_lib.config import TrainConfig
from course_lib.results import config_name, parse_config
from tests.test_agents import ACTION_DIM, OBS_DIM, batch_for

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def config(agent="sac", **kw) -> TrainConfig:
    kw.setdefault("hidden_dim", 32)
    kw.setdefault("batch_size", 8)
    kw.setdefault("arch", "modern")
    kw.setdefault("depth", 2)
    return TrainConfig(agent=agent, obs="state", **kw).resolved()


def twin_agents(cfg_a: TrainConfig, cfg_b: TrainConfig):
    """Two agents with the same initial networks (b's networks copied from a's)."""
    torch.manual_seed(0)
    a = make_agent(cfg_a, (OBS_DIM,), ACTION_DIM, "cpu")
    b = make_agent(cfg_b, (OBS_DIM,), ACTION_DIM, "cpu")
    for name, net in a.networks().items():
        b.networks()[name].load_state_dict(net.state_dict())
    return a, b


def one_update(agent, seed=1):
    torch.manual_seed(seed)
    agent.update(batch_for(agent.config, (OBS_DIM,), seed=3), step=0)


def deltas(before: list[torch.Tensor], after: list[torch.Tensor]) -> list[torch.Tensor]:
    return [y.detach() - x for x, y in zip(before, after)]


def test_fixed_alpha_holds_the_temperature_and_changes_nothing_else():
    plain, fixed = twin_agents(config(), config(fixed_alpha=True, init_temperature=0.3))
    alpha0 = float(fixed.alpha)
    for i in range(4):  # two actor updates (actor_update_every = 2)
        one_update(fixed, seed=i)
        one_update(plain, seed=i)
    assert float(fixed.alpha) == pytest.approx(0.3) == alpha0
    assert float(plain.alpha) != pytest.approx(0.1)  # the learned temperature did move


def test_sigma_scaled_steps_divide_each_update_by_the_layers_spectral_norm():
    plain, scaled = twin_agents(config(), config(sigma_scaled_steps=True))
    heads = {"critic": [scaled.critic.q1, scaled.critic.q2]}
    weights_scaled = sn_candidate_weights(heads["critic"])
    weights_plain = sn_candidate_weights([plain.critic.q1, plain.critic.q2])
    assert len(weights_scaled) == 2 * 2 * 2  # two heads x two blocks x (w1, w2)
    with torch.no_grad():  # away from the orthogonal init's sigma = 1, or the check could not fail
        for w in weights_scaled + weights_plain:
            w.mul_(3.0)
    before = [w.detach().clone() for w in weights_scaled]
    exact = [torch.linalg.matrix_norm(w, ord=2) for w in before]
    assert all(abs(float(s) - 3.0) < 1e-3 for s in exact)
    one_update(plain)
    one_update(scaled)
    others_plain = [p for p in plain.critic.parameters() if all(p is not w for w in weights_plain)]
    others_scaled = [p for p in scaled.critic.parameters() if all(p is not w for w in weights_scaled)]
    for d_plain, d_scaled, sigma in zip(deltas(before, weights_plain), deltas(before, weights_scaled), exact):
        assert torch.allclose(d_scaled * sigma, d_plain, rtol=1e-3, atol=1e-7)
    for p, q in zip(others_plain, others_scaled):  # every other parameter takes the plain step
        assert torch.equal(p, q)


def test_sigma_scaled_steps_use_the_power_estimate_of_a_large_norm():
    g = torch.Generator().manual_seed(0)
    # a clear spectral gap (a rank-one part of norm ~20 over noise), so the power method has converged
    w = torch.nn.Parameter(torch.randn(16, 1, generator=g) @ torch.randn(1, 8, generator=g) * 2
                           + torch.randn(16, 8, generator=g) * 0.3)
    scaler = SigmaScaledSteps([w])
    opt = torch.optim.SGD([w], lr=0.1)
    w.grad = torch.ones_like(w)
    old = w.detach().clone()
    scaler.before_step()
    opt.step()
    scaler.after_step()
    sigma = torch.linalg.matrix_norm(old, ord=2)
    assert float(scaler.sigmas[0]) == pytest.approx(float(sigma), rel=1e-3)
    assert torch.allclose(w.detach(), old - 0.1 / sigma, rtol=1e-5, atol=1e-5)


def test_width_transfer_scales_only_the_matrices_whose_fan_in_is_the_width():
    plain, wide = twin_agents(config(lr=1e-3), config(lr=1e-3, lr_reference_width=256))
    heads = [wide.critic.q1, wide.critic.q2]
    scaled = width_scaled_weights(heads)
    assert len(scaled) == 2 * (2 * 2 + 1)  # per head: w1, w2 of two blocks, and the output layer
    assert all(w is not h.input.weight for w in scaled for h in heads)  # the first layer keeps lr
    before = [p.detach().clone() for p in wide.critic.parameters()]
    one_update(plain)
    one_update(wide)
    ids = {id(w) for w in scaled}
    for p0, p_plain, p_wide in zip(before, plain.critic.parameters(), wide.critic.parameters()):
        d_plain, d_wide = p_plain.detach() - p0, p_wide.detach() - p0
        # Adam's first step is lr * g / (|g| + eps): the same direction, 256 / 32 = 8 times larger
        factor = 8.0 if id(p_wide) in ids else 1.0
        assert torch.allclose(d_wide, factor * d_plain, rtol=1e-4, atol=1e-9)
    assert wide.critic_opt.param_groups[0]["lr"] == pytest.approx(8e-3)


@pytest.mark.parametrize("agent", ["sac", "ddpg"])
def test_controls_survive_a_checkpoint(agent):
    extra = {"fixed_alpha": True} if agent == "sac" else {}
    cfg = config(agent, sigma_scaled_steps=True, lr_reference_width=64, **extra)
    torch.manual_seed(0)
    a = make_agent(cfg, (OBS_DIM,), ACTION_DIM, "cpu")
    for i in range(3):
        a.update(batch_for(cfg, (OBS_DIM,), seed=i), step=i)
    b = make_agent(cfg, (OBS_DIM,), ACTION_DIM, "cpu")
    b.load_state_dict(copy.deepcopy(a.state_dict()))
    for agent_ in (a, b):
        torch.manual_seed(5)
        agent_.update(batch_for(cfg, (OBS_DIM,), seed=9), step=3)
    for p, q in zip(a.critic.parameters(), b.critic.parameters()):
        assert torch.equal(p, q)
    for u, w in zip(a.step_scalers["critic_scaler"].u, b.step_scalers["critic_scaler"].u):
        assert torch.equal(u, w)


@pytest.mark.parametrize("kwargs, message", [
    ({"agent": "ddpg", "fixed_alpha": True}, "DDPG has none"),
    ({"sn": True, "sigma_scaled_steps": True}, "rescales the steps"),
    ({"arch": "mlp", "depth": 1, "sigma_scaled_steps": True}, "mlp1 has none"),
    ({"lr_reference_width": -1}, "lr_reference_width must be an integer >= 0"),
])
def test_bad_control_settings_fail_in_one_line(kwargs, message):
    agent = kwargs.pop("agent", "sac")
    with pytest.raises(ValueError, match=message) as err:
        config(agent, **kwargs)
    assert "\n" not in str(err.value)


def test_configuration_names_carry_the_controls():
    assert parse_config("modern4+critic_sn") == {"arch": "modern", "depth": 4, "sn": True, "actor_sn": False}
    assert parse_config("modern4+fixed_alpha") == {"arch": "modern", "depth": 4, "sn": False, "fixed_alpha": True}
    assert parse_config("mlp2+fixed_alpha")["fixed_alpha"] is True
    assert parse_config("modern4+sigma_steps")["sigma_scaled_steps"] is True
    for name in ["modern4+critic_sn", "modern4+actor_sn", "modern4+fixed_alpha", "modern4+sigma_steps",
                 "modern4+sn+fixed_alpha", "mlp2"]:
        assert config_name(**parse_config(name)) == name
    for bad in ["modern4+sn+critic_sn", "modern4+sn+sn", "modern4+fast", "modern4+"]:
        with pytest.raises(ValueError, match="configuration"):
            parse_config(bad)


def test_sweep_passes_the_controls_to_training(tmp_path):
    from course_lib.sweep import plan
    runs = plan(["cartpole_swingup"], ["modern4+critic_sn", "mlp2+fixed_alpha", "modern4+sigma_steps"], [0],
                agent="sac", obs="state", frames=1000, root=tmp_path)
    args = {r.config: r.args for r in runs}
    assert "--sn" in args["modern4+critic_sn"] and "--no-actor-sn" in args["modern4+critic_sn"]
    assert "--fixed-alpha" in args["mlp2+fixed_alpha"]
    assert "--sigma-scaled-steps" in args["modern4+sigma_steps"] and "--no-sn" in args["modern4+sigma_steps"]
