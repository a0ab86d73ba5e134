"""The CUDA-only branches, exercised on a machine without a GPU.

No GPU has run this code yet (tools/gpu_check.py is the command for the first one). What can be
checked without one is checked here, each test against the failure it guards:

* device choice: ``cuda:N`` past the last GPU, or malformed, is a one-line error, not a traceback;
* the TF32 and cuDNN settings of a CUDA run stay CUDA's (a later CPU run in the same process
  rounds as before) and the run's config.json reports them;
* checkpoints: a CPU run never touches CUDA's generators, a CUDA run resumes where fewer GPUs are
  visible, and an agent saved on the CPU restores onto another device with every tensor there
  (the ``meta`` device stands in for the GPU: like CUDA it refuses to mix with CPU tensors);
* small helpers: a gradient norm without gradients, a power iteration with a generator on the
  GPU, a batch copied back to the host;
* the benchmarks on CUDA (faked): CUDA events on the measured device's stream, and peak memory
  over the timed calls only (not the agent's construction nor cuDNN's autotuning in the warm-up).
"""
from __future__ import annotations

import importlib.util
import json
import sys
import types
from pathlib import Path
from unittest import mock

import pytest
import torch

import course_lib.agents
from course_lib import bench, bench_update, runtime, spectral
from course_lib.agents.common import grad_norm, nonfinite
from course_lib.config import TrainConfig
from course_lib.replay import to_torch

REPO = Path(__file__).resolve().parents[1]
STATE_RUN = dict(agent="sac", obs="state", task="cartpole_swingup", hidden_dim=16, batch_size=8, frames=2000,
                 seed_frames=400, eval_episodes=1, video=False, seed=5)


@pytest.fixture
def fake_gpus(monkeypatch):
    """``torch.cuda`` says it has ``count`` GPUs (default 1); nothing is ever allocated on them."""
    def install(count: int = 1):
        monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
        monkeypatch.setattr(torch.cuda, "device_count", lambda: count)
        monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "Fake GPU")
    install()
    return install


@pytest.fixture
def cuda_flags_restored():
    """Put the process-wide matmul precision and cuDNN flags back as they were after the test."""
    precision, benchmark = torch.get_float32_matmul_precision(), torch.backends.cudnn.benchmark
    yield
    torch.set_float32_matmul_precision(precision)
    torch.backends.cudnn.benchmark = benchmark


def agents_on_cpu(monkeypatch):
    """``make_agent`` builds on the CPU whatever device it is asked for (for a Trainer on a fake GPU)."""
    real = course_lib.agents.make_agent
    monkeypatch.setattr(course_lib.agents, "make_agent",
                        lambda cfg, obs_shape, action_dim, device: real(cfg, obs_shape, action_dim, "cpu"))


# ---------------------------------------------------------------------------- device choice
def test_cuda_index_is_checked_against_the_visible_gpus(fake_gpus):
    assert runtime.pick_device("cuda:0") == torch.device("cuda", 0)
    assert runtime.pick_device("cuda") == torch.device("cuda")
    for bad in ("cuda:1", "cuda:x", "cuda:", "cuda:-1"):
        with pytest.raises(ValueError, match="1 visible GPU"):
            runtime.pick_device(bad)
    fake_gpus(count=2)
    assert runtime.pick_device("cuda:1") == torch.device("cuda", 1)


def test_train_cli_refuses_a_gpu_past_the_last_in_one_line(fake_gpus, tmp_path, capsys):
    from course_lib.train import main
    out = tmp_path / "run"
    assert main(["--agent", "sac", "--obs", "state", "--device", "cuda:3", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "cuda:3" in err and "1 visible GPU" in err
    assert not out.exists()


# ---------------------------------------------------------------------------- TF32 and cuDNN
def test_a_cuda_run_keeps_tf32_to_cuda_and_reports_it(fake_gpus, monkeypatch, cuda_flags_restored, tmp_path):
    from course_lib.train import Trainer
    mkldnn = getattr(getattr(torch.backends, "mkldnn", None), "matmul", None)
    if mkldnn is None or not hasattr(mkldnn, "fp32_precision"):
        pytest.skip("torch < 2.9: no separate CPU matmul precision to keep")
    cpu_precision = mkldnn.fp32_precision
    agents_on_cpu(monkeypatch)
    cfg = TrainConfig(**STATE_RUN, out=str(tmp_path / "run")).resolved()
    trainer = Trainer(cfg, torch.device("cuda"), progress=False)
    # CUDA got TF32 matmuls and autotuning; the CPU's oneDNN matmuls did not change precision
    assert torch.backends.cuda.matmul.allow_tf32 and torch.backends.cudnn.benchmark
    assert mkldnn.fp32_precision == cpu_precision
    trainer._write_config()
    device_used = json.loads((tmp_path / "run" / "config.json").read_text())["device_used"]
    assert device_used == "cuda (Fake GPU; TF32 matmuls, TF32 convolutions, cuDNN autotuning)"


def test_a_cpu_run_reports_just_cpu():
    assert runtime.describe_device(torch.device("cpu")) == "cpu"
    assert runtime.apply_cuda_settings(torch.device("cpu")) == ""


# ---------------------------------------------------------------------------- checkpoints
@pytest.fixture
def cpu_trainer(tmp_path):
    from course_lib.train import Trainer
    cfg = TrainConfig(**STATE_RUN, out=str(tmp_path / "run")).resolved()
    trainer = Trainer(cfg, torch.device("cpu"), progress=False)
    trainer.out.mkdir(parents=True)  # run() would make it
    return trainer


def test_a_cpu_run_checkpoints_without_touching_cuda(cpu_trainer, fake_gpus, monkeypatch):
    def no_cuda():
        raise AssertionError("a CPU run read the GPUs' generators (that starts a CUDA context on each)")
    monkeypatch.setattr(torch.cuda, "get_rng_state_all", no_cuda)
    cpu_trainer._save_checkpoint()
    state = torch.load(cpu_trainer.out / "checkpoint.pt", map_location="cpu", weights_only=False)
    assert state["rng"]["cuda"] is None


def test_a_cuda_checkpoint_resumes_where_fewer_gpus_are_visible(cpu_trainer, fake_gpus, monkeypatch):
    cpu_trainer._save_checkpoint()
    state = torch.load(cpu_trainer.out / "checkpoint.pt", map_location="cpu", weights_only=False)
    state["rng"]["cuda"] = [torch.full((16,), i, dtype=torch.uint8) for i in range(2)]  # saved with 2 GPUs
    restored = []

    def set_rng_state(new_state, device="cuda"):
        index = torch.device(device).index if not isinstance(device, int) else device
        if index >= torch.cuda.device_count():
            raise RuntimeError("CUDA error: invalid device ordinal")
        restored.append((index, int(new_state[0])))
    monkeypatch.setattr(torch.cuda, "set_rng_state", set_rng_state)
    monkeypatch.setattr(torch.cuda.random, "set_rng_state", set_rng_state)  # what set_rng_state_all calls
    cpu_trainer.device = torch.device("cuda")  # resumed as a CUDA run, with one GPU visible
    cpu_trainer._restore(state)
    assert restored == [(0, 0)]


def _non_fused_adam(monkeypatch):
    """Adam without ``fused`` (which refuses the meta device); the same state layout."""
    real = torch.optim.Adam

    class Adam(real):
        def __init__(self, params, lr=1e-3, fused=None, **kwargs):
            super().__init__(params, lr=lr, foreach=False, **kwargs)
    monkeypatch.setattr(torch.optim, "Adam", Adam)


def _batch(shape, pixels: bool, device, n: int = 4) -> dict:
    gen = torch.Generator().manual_seed(0)
    obs = (torch.randint(0, 256, (2, n, *shape), generator=gen, dtype=torch.uint8) if pixels
           else torch.randn(2, n, *shape, generator=gen))
    batch = {"obs": obs[0], "next_obs": obs[1], "action": torch.rand(n, 1, generator=gen) * 2 - 1,
             "reward": torch.rand(n, 1, generator=gen), "discount": torch.full((n, 1), 0.99)}
    return {k: v.to(device) for k, v in batch.items()}


@pytest.mark.filterwarnings("ignore:.*copying from a non-meta parameter")  # meta tensors hold no values
@pytest.mark.parametrize("settings, shape", [
    (dict(agent="sac", obs="pixels", arch="modern", depth=2, sn=True, image_size=32), (9, 32, 32)),  # SN u/v, alpha
    (dict(agent="ddpg", obs="state", arch="mlp", depth=3, sigma_scaled_steps=True), (5,)),  # the scalers' u/v
])
def test_an_agent_saved_on_the_cpu_restores_onto_another_device(settings, shape, monkeypatch):
    from course_lib.agents import make_agent
    _non_fused_adam(monkeypatch)
    cfg = TrainConfig(**settings, hidden_dim=16, batch_size=4).resolved()
    saved = make_agent(cfg, shape, 1, "cpu")
    for _ in range(2):  # Adam's moments exist after a step
        saved.update(_batch(shape, cfg.obs == "pixels", "cpu"), 100)

    agent = make_agent(cfg, shape, 1, "meta")  # the stand-in for a GPU
    agent.load_state_dict(saved.state_dict())
    places = {f"{name}.{key}": t.device.type for name, net in agent.networks().items()
              for key, t in [*net.named_parameters(), *net.named_buffers()]}
    places.update({f"{name} {key}": v.device.type for name, opt in agent.optimizers().items()
                   for st in opt.state.values() for key, v in st.items() if key != "step"})  # non-fused: CPU step
    places.update({f"{name} u/v": t.device.type for name, scaler in agent.step_scalers.items()
                   for t in scaler.u + scaler.v})
    if hasattr(agent, "log_alpha"):
        places["log_alpha"] = agent.log_alpha.device.type
    assert any("_u" in k for k in places) or agent.step_scalers  # SN buffers or scalers were checked
    assert {k: v for k, v in places.items() if v != "meta"} == {}
    metrics = agent.update(_batch(shape, cfg.obs == "pixels", "meta"), 100)  # and it trains there
    assert {k: v.device.type for k, v in metrics.items() if v.device.type != "meta"} == {}


# ---------------------------------------------------------------------------- small helpers
def test_grad_norm_without_gradients_is_on_the_parameters_device():
    layer = torch.nn.Linear(3, 2, device="meta")  # no backward yet: no gradients
    norm = grad_norm(layer.parameters())
    assert norm.device.type == "meta"
    nonfinite(torch.zeros((), device="meta"), norm)  # stacked with a loss on that device
    assert grad_norm([]).device.type == "cpu"


def test_power_iteration_draws_where_its_generator_lives(monkeypatch):
    real_randn = torch.randn

    def randn(*size, generator=None, dtype=None, device=None):  # torch's rule for a CUDA generator
        where = torch.device(device if device is not None else "cpu")
        if generator is not None and generator.device.type != where.type:
            raise RuntimeError(f"Expected a '{where.type}' device type for generator but found "
                               f"'{generator.device.type}'")
        return real_randn(*size, dtype=dtype, device=where)

    W = torch.randn(5, 3)
    expected = spectral.power_iteration(W, 10, generator=torch.Generator().manual_seed(1))
    monkeypatch.setattr(torch, "randn", randn)
    gpu_generator = types.SimpleNamespace(device=torch.device("meta"))
    sigma, u, v = spectral.power_iteration(W.to("meta"), 3, generator=gpu_generator)
    assert sigma.device.type == u.device.type == "meta"
    monkeypatch.undo()
    # a CPU generator draws exactly as before
    again = spectral.power_iteration(W, 10, generator=torch.Generator().manual_seed(1))
    assert all(torch.equal(a, b) for a, b in zip(expected, again))


def test_to_torch_copies_to_the_host_without_non_blocking():
    gpu_tensor = mock.MagicMock(spec=torch.Tensor)
    to_torch({"obs": gpu_tensor}, "cpu")
    gpu_tensor.to.assert_called_once_with(torch.device("cpu"), non_blocking=False)
    host_tensor = mock.MagicMock(spec=torch.Tensor)
    to_torch({"obs": host_tensor}, "cuda")
    host_tensor.to.assert_called_once_with(torch.device("cuda"), non_blocking=True)


# ---------------------------------------------------------------------------- benchmarks on a fake GPU
WEIGHTS, DATA, BUILD, TUNE, ACT, TRAIN = 1_000, 100, 10**9, 10**8, 10, 500  # "bytes"


class FakeAllocator:
    """CUDA's memory statistics and events for a run that really happens on the CPU."""

    def __init__(self):
        self.current = self.peak = 0
        self.streams = []

    def use(self, persistent: int = 0, transient: int = 0) -> None:
        self.current += persistent
        self.peak = max(self.peak, self.current + transient)

    def install(self, monkeypatch) -> None:
        allocator = self

        class Event:
            def __init__(self, enable_timing=False):
                pass

            def record(self, stream=None):
                allocator.streams.append(stream)

            def synchronize(self):
                pass

            def elapsed_time(self, other):
                return 1.0

        monkeypatch.setattr(torch.cuda, "Event", Event)
        monkeypatch.setattr(torch.cuda, "current_stream", lambda device=None: ("stream of", torch.device(device).index))
        monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: None)
        monkeypatch.setattr(torch.cuda, "reset_peak_memory_stats",
                            lambda device=None: setattr(self, "peak", self.current))
        monkeypatch.setattr(torch.cuda, "max_memory_allocated", lambda device=None: self.peak)
        real_make_agent, real_batch = course_lib.agents.make_agent, bench_update.random_batch

        def make_agent(cfg, obs_shape, action_dim, device):
            agent = real_make_agent(cfg, obs_shape, action_dim, "cpu")
            self.use(WEIGHTS, transient=BUILD)  # initialisation temporaries
            for name, cost in (("act", ACT), ("update", TRAIN)):
                method, calls = getattr(agent, name), []

                def timed(*args, method=method, calls=calls, cost=cost, **kwargs):
                    calls.append(1)
                    self.use(transient=TUNE if len(calls) == 1 else cost)  # the first call autotunes
                    return method(*args, **kwargs)
                setattr(agent, name, timed)
            return agent

        def random_batch(obs_shape, action_dim, batch, obs_type, device, seed=0):
            self.use(DATA)
            return real_batch(obs_shape, action_dim, batch, obs_type, "cpu", seed)

        monkeypatch.setattr(course_lib.agents, "make_agent", make_agent)
        monkeypatch.setattr(bench_update, "random_batch", random_batch)


def test_bench_on_cuda_times_the_devices_stream_and_measures_each_phase_alone(
        fake_gpus, monkeypatch, cuda_flags_restored):
    allocator = FakeAllocator()
    allocator.install(monkeypatch)
    fake_gpus(count=2)
    r = bench.measure("mlp2", torch.device("cuda", 1), batch=2, hidden_dim=16, warmup=2, iters=2, act_iters=3)
    assert set(allocator.streams) == {("stream of", 1)}  # not the current device's (cuda:0) stream
    assert r["act_mem"] == WEIGHTS + ACT  # the weights and one forward: not the build, not autotuning
    assert r["train_mem"] == WEIGHTS + DATA + TRAIN
    assert r["device"] == "cuda:1 (Fake GPU; TF32 matmuls, TF32 convolutions, cuDNN autotuning)"
    assert bench.describe(bench.pd.DataFrame([r])).count("CUDA events") == 1


def test_bench_update_on_cuda_times_the_devices_stream(fake_gpus, monkeypatch, cuda_flags_restored):
    allocator = FakeAllocator()
    allocator.install(monkeypatch)
    fake_gpus(count=2)
    cfg = TrainConfig(agent="ddpg", obs="state", task="cartpole_swingup", hidden_dim=16, batch_size=4)
    r = bench_update.benchmark(cfg, torch.device("cuda", 1), warmup=1, repeats=3)
    assert len(allocator.streams) == 6 and set(allocator.streams) == {("stream of", 1)}
    assert r["memory_bytes"] == WEIGHTS + DATA + TRAIN and r["cuda_settings"].startswith("TF32 matmuls")


# ---------------------------------------------------------------------------- the GPU check's detector
def test_gpu_check_sees_a_tensor_left_on_another_device():
    spec = importlib.util.spec_from_file_location("gpu_check", REPO / "tools" / "gpu_check.py")
    gpu_check = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("gpu_check", gpu_check)
    spec.loader.exec_module(gpu_check)
    from course_lib.agents import make_agent
    from course_lib.diagnostics import IntervalMeans
    cfg = TrainConfig(agent="ddpg", obs="state", arch="mlp", depth=3, sigma_scaled_steps=True,
                      hidden_dim=16).resolved()
    trainer = types.SimpleNamespace(agent=make_agent(cfg, (5,), 1, "cpu"), means=IntervalMeans(),
                                    replay=types.SimpleNamespace())
    assert set(map(tuple, gpu_check.tensor_devices(trainer).values())) == {("cpu",)}
    trainer.agent.step_scalers["actor_scaler"].u[0] = torch.zeros(16, device="meta")  # one vector left behind
    places = gpu_check.tensor_devices(trainer)
    assert places["actor_scaler u, v"] == ["cpu", "meta"] and places["critic_scaler u, v"] == ["cpu"]
