"""Notebook 04's capstone: ``spectral_norm``, spectral normalization as a module, graded four times.

- ``ex04_power_iteration.spectral_norm_normalizes``, ``..._power_step`` and ``..._gradient`` probe the
  module on fixed layers (``course_lib/checks/nb04_power_iteration.py``); typical mistakes fail the
  parts they break and pass the others.
- ``ex04_power_iteration.spectral_norm_learns`` trains state SAC on cartpole_swingup with the
  student's module in the critic's hidden layers (``train(..., agent_fn=...)``); its full run is
  calibrated by hand (threshold in ``nb04_power_iteration.LEARN_THRESHOLD``); here it runs in smoke
  mode (``COURSE_CHECK_SMOKE``, set by conftest.py): a tiny budget, any finite return.
- The hook, given the library's own SN, repeats the built-in ``--sn`` run bit for bit.
"""
from pathlib import Path

import pytest

from course_lib.checks import NOT_WRITTEN, run_check

ROOT = Path(__file__).resolve().parents[1]
PARTS = ("ex04_power_iteration.spectral_norm_normalizes", "ex04_power_iteration.spectral_norm_power_step",
         "ex04_power_iteration.spectral_norm_gradient")
LEARNS = "ex04_power_iteration.spectral_norm_learns"
SOLUTION = (ROOT / "solutions" / "ex04_power_iteration.py").read_text()
POWER_STEP = ("            with torch.no_grad():  # one power step, u first (PyTorch's order); new tensors, "
              "not in place\n                self.u = F.normalize(W @ self.v, dim=0, eps=self.eps)\n")
SIGMA = "        sigma = self.u @ W @ self.v"


def _variant(tmp_path, old: str, new: str) -> Path:
    assert SOLUTION.count(old) == 1, old
    (tmp_path / "ex04_power_iteration.py").write_text(SOLUTION.replace(old, new))
    return tmp_path


BUGS = {
    "the power step without torch.no_grad() (gradient flows through u and v)": (
        POWER_STEP, POWER_STEP.replace("with torch.no_grad():", "if True:")),
    "the starting vector re-drawn at every forward (not persistent)": (
        "self.u = F.normalize(W @ self.v, dim=0",
        "self.u = F.normalize(W @ F.normalize(torch.randn_like(self.v), dim=0), dim=0"),
    "a power step in eval mode too": ("        if self.training:\n            with",
                                      "        if True:\n            with"),
    "divided by the Frobenius norm": (SIGMA, "        sigma = W.norm()"),
    "sigma detached": (SIGMA, "        sigma = (self.u @ W @ self.v).detach()"),
    "u and v plain attributes, not buffers": (
        '        self.register_buffer("u", u)\n        self.register_buffer("v", v)\n',
        "        self.u, self.v = u, v\n"),
}
NORMALIZES, POWER, GRADIENT = PARTS
#: The parts each mistake breaks (it must pass the others).
BREAKS = {
    "the power step without torch.no_grad() (gradient flows through u and v)": {GRADIENT},
    "the starting vector re-drawn at every forward (not persistent)": {NORMALIZES, POWER},
    "a power step in eval mode too": {POWER},
    "divided by the Frobenius norm": {NORMALIZES, GRADIENT},
    "sigma detached": {GRADIENT},
    "u and v plain attributes, not buffers": {POWER},
}


@pytest.mark.parametrize("seed", [0, 5])
@pytest.mark.parametrize("name", PARTS)
def test_the_reference_passes_the_probes(name, seed):
    assert run_check(name, ROOT / "solutions", seed=seed) == (True, "correct")


@pytest.mark.parametrize("name", PARTS + (LEARNS,))
def test_the_stub_is_not_written_yet(name):
    assert run_check(name, ROOT / "exercises") == (False, NOT_WRITTEN)


@pytest.mark.parametrize("bug", list(BUGS))
def test_a_typical_mistake_costs_only_its_parts(bug, tmp_path):
    folder = _variant(tmp_path, *BUGS[bug])
    for name in PARTS:
        passed, reason = run_check(name, folder)
        if name in BREAKS[bug]:
            assert not passed, f"{bug}: {name} passed"
        else:
            assert passed, f"{bug}: {name} failed: {reason}"


def test_the_messages_name_the_mistake(tmp_path):
    passed, reason = run_check(GRADIENT, _variant(tmp_path, *BUGS["sigma detached"]))
    assert not passed and "treats sigma as a constant" in reason, reason
    passed, reason = run_check(POWER, _variant(tmp_path, *BUGS["u and v plain attributes, not buffers"]))
    assert not passed and "register_buffer" in reason, reason


def test_pytorchs_own_spectral_norm_is_refused(tmp_path):
    (tmp_path / "ex04_power_iteration.py").write_text(
        "import torch\n\ndef spectral_norm(linear):\n"
        "    return torch.nn.utils.parametrizations.spectral_norm(linear)\n")
    passed, reason = run_check(NORMALIZES, tmp_path)
    assert not passed and "PyTorch's spectral_norm" in reason, reason


def test_the_learning_check_trains_with_the_students_module_in_smoke_mode(tmp_path):
    assert run_check(LEARNS, ROOT / "solutions") == (True, "correct")
    crashing = _variant(tmp_path, SIGMA, "        raise KeyError('oops')")
    assert run_check(LEARNS, crashing) == (False, "raised KeyError: 'oops'")


def test_the_hook_with_the_librarys_sn_repeats_the_built_in_sn_run():
    import torch

    from course_lib import spectral
    from course_lib.agents.sac import SACAgent
    from course_lib.config import TrainConfig
    from course_lib.train import train

    torch.set_num_threads(1)
    cfg = TrainConfig(agent="sac", obs="state", task="cartpole_swingup", frames=1600, seed_frames=800,
                      eval_every_frames=800, eval_episodes=1, hidden_dim=32, batch_size=32, video=False,
                      sn=True, actor_sn=False, depth=3)
    built_in = train(cfg, progress=False)
    hooked = train(cfg, progress=False, agent_fn=lambda config, obs_shape, action_dim, device: SACAgent(
        config, obs_shape, action_dim, device, critic_spectral_norm_fn=spectral.spectral_norm))
    assert built_in.eval.equals(hooked.eval)
    assert built_in.train.equals(hooked.train)  # losses, gradient norms and every layer's sigma


def test_make_head_takes_a_spectral_norm_function():
    import torch
    from torch import nn

    from course_lib.checks import load_module, solutions_dir
    from course_lib.nets import make_head

    spectral_norm = load_module("ex04_power_iteration", solutions_dir()).spectral_norm
    head = make_head("modern", 5, 1, hidden_dim=8, depth=1, spectral_norm=True, spectral_norm_fn=spectral_norm)
    normalized = [m for m in head.modules() if type(m).__name__ == "SpectralNorm"]
    assert len(normalized) == 2 and head(torch.randn(3, 5)).shape == (3, 1)  # w1 and w2 of the one block
    with pytest.raises(ValueError, match="spectral_norm=True"):
        make_head("mlp", 5, 1, hidden_dim=8, spectral_norm_fn=spectral_norm)
    with pytest.raises(ValueError, match="must return an nn.Module"):
        make_head("mlp", 5, 1, hidden_dim=8, spectral_norm=True, spectral_norm_fn=lambda layer: None)
    assert isinstance(make_head("mlp", 5, 1, hidden_dim=8, depth=2, spectral_norm=True,
                                spectral_norm_fn=spectral_norm).fc1, nn.Linear)  # the first layer stays plain
