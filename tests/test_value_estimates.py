"""course_lib.value_estimates: critic values against Monte Carlo returns that run past the time limit."""
import numpy as np
import pytest
import torch

from course_lib import value_estimates as VE
from course_lib.agents import make_agent
from course_lib.config import TrainConfig


def test_discounted_returns():
    np.testing.assert_allclose(VE.discounted_returns([1.0, 1.0, 1.0], 0.5), [1.75, 1.5, 1.0])


def test_critic_vs_monte_carlo_on_an_untrained_agent():
    cfg = TrainConfig(agent="ddpg", obs="state", task="cartpole_swingup", seed=0).resolved()
    torch.manual_seed(0)
    agent = make_agent(cfg, (5,), 1, torch.device("cpu"))
    table = VE.critic_vs_monte_carlo(agent, episodes=1, horizon=130, measured_steps=4, seed=0)
    assert list(table.columns) == ["episode", "step", "q1", "q2", "q_min", "mc_return"]
    assert len(table) == 4 and (table.q_min <= table[["q1", "q2"]].min(axis=1) + 1e-12).all()
    # 134 agent steps > the 125 of an episode: the rollout ran past dm_control's time limit
    assert (table.mc_return > 0).all() and np.isfinite(table.to_numpy(float)).all()
    sac = make_agent(TrainConfig(agent="sac", obs="state").resolved(), (5,), 1, torch.device("cpu"))
    with pytest.raises(ValueError, match="state-based DDPG"):
        VE.critic_vs_monte_carlo(sac)
