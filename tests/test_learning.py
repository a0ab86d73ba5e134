"""Learning must be real: state SAC learns cartpole_swingup on a CPU with the default state settings.

These are the course's promise to a student without a GPU (notebook 02): the default
``python -m course_lib.train --agent sac --obs state --task cartpole_swingup`` reaches an evaluation
return of at least 700 (out of 1000) in 48k frames, with the paper's base MLP head and with its
deep modern head with spectral normalization (hidden width 64, action repeat 8 for cartpole).

The MLP run (seed 1) is notebook 02's own SAC run: the notebook prints whether its first return
is below 100 and its last above 700, its status, frames and whether every diagnostic is finite,
and the notebook tests (nbval) compare those lines, so it is not trained a second time here. This
file trains the deep modern head with SN, about a minute on one core.
"""
from __future__ import annotations

import json
import time

import pytest
import torch

from course_lib.config import TrainConfig
from course_lib.train import train


@pytest.fixture
def one_thread():
    """Tests run two per machine (pytest-xdist, 2 cores): one torch thread each is fastest."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def train_state_sac(out, **heads):
    config = TrainConfig(agent="sac", obs="state", task="cartpole_swingup", seed=1, video=False,
                         out=str(out), **heads)
    started = time.time()
    result = train(config, progress=False)
    returns = [round(r, 1) for r in result.eval["eval_return"]]
    print(f"state SAC {heads or 'defaults'}: returns {returns}, {time.time() - started:.0f} s")
    return result, returns


@pytest.mark.slow
def test_state_sac_modern4_with_sn_learns_cartpole_swingup(tmp_path, one_thread):
    result, returns = train_state_sac(tmp_path / "modern", arch="modern", depth=4, sn=True)
    assert result.status == "complete" and result.frames_done == 48_000
    assert result.eval["frame"].tolist() == list(range(0, 48_001, 8000))
    assert returns[-1] >= 700 and returns[-1] - returns[0] >= 500, returns
    stored = json.loads((tmp_path / "modern" / "config.json").read_text())
    assert (stored["arch"], stored["depth"], stored["sn"], stored["status"]) == ("modern", 4, True, "complete")
    diagnostics = result.train
    assert len(diagnostics) >= 40 and diagnostics["nonfinite"].eq(0).all()
    assert diagnostics["critic_grad_norm"].gt(0).all() and diagnostics["alpha"].gt(0).all()
    assert (result.config.actor_arch, result.config.actor_depth, result.config.actor_sn) == ("modern", 2, True)
    # SN keeps every normalized layer's measured spectral norm at ~1 (eq. 5's factors).
    sn_columns = [c for c in result.train.columns if ".branch.w" in c]
    assert len(sn_columns) == 2 * 8 + 4  # two critics x 4 blocks x (w1, w2), actor 2 blocks
    assert result.train[sn_columns].iloc[-1].between(0.9, 1.1).all()
