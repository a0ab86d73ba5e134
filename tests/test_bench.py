"""python -m course_lib.bench: Table 3 measured on the CPU (tiny batch, one update per head)."""
import pandas as pd
import pytest
import torch

from course_lib import bench, paper


@pytest.fixture(scope="module")
def cpu_run(tmp_path_factory):
    """All four heads, each in its own process: batch 4, 1 timed update, 2 acting steps, width 512."""
    csv = tmp_path_factory.mktemp("bench") / "bench.csv"
    code = bench.main(["--device", "cpu", "--batch", "4", "--iters", "1", "--warmup", "0", "--act-iters", "2",
                       "--hidden-dim", "512", "--threads", "1", "--no-progress", "--csv", str(csv)])
    return code, csv


def test_cpu_table_has_every_head_and_positive_numbers(cpu_run, capsys):
    code, csv = cpu_run
    assert code == 0
    results = pd.read_csv(csv)
    assert list(results["arch"]) == list(bench.ARCHS)
    for column in ("train_mem", "act_mem", "train_time", "act_time", "train_cpu_time", "act_cpu_time",
                   "head_params", "weight_bytes"):
        assert (results[column] > 0).all(), column
    assert (results[["batch", "hidden_dim", "iters", "act_iters"]].values == [4, 512, 1, 2]).all()
    assert (results["device"] == "cpu").all()
    # training holds gradients, Adam moments and activations on top of what acting holds
    assert (results["train_mem"] > results["act_mem"]).all()

    table = bench.format_table(results)
    assert list(table.index) == [label for label, _, _ in bench.METRICS.values()] + \
        ["weights (MB)", "train CPU time (ms)", "act CPU time (ms)"]
    assert table.shape == (7, 2 * len(bench.ARCHS))
    assert table.loc["act mem (MB)", ("modern4", "paper (V100)")] == "247.0"  # Table 3


def test_memory_follows_the_weights_as_in_table3(cpu_run):
    results = pd.read_csv(cpu_run[1]).set_index("arch")
    weights = results["weight_bytes"]
    # float32 weights of every network: 4 bytes per parameter
    assert (weights == 4 * results["agent_params"]).all()
    # the heads only grow: mlp2 < mlp4 and mlp2 < modern2 < modern4 (Table 3's act mem order)
    assert weights["mlp2"] < weights["mlp4"] and weights["mlp2"] < weights["modern2"] < weights["modern4"]
    assert results["head_params"]["mlp2"] < results["head_params"]["modern4"]
    # acting memory is dominated by the weights: modern4 needs more than mlp2, by at least half
    # the difference of their weights (peak RSS adds allocator slack on top)
    assert results.loc["modern4", "act_mem"] - results.loc["mlp2", "act_mem"] > \
        0.5 * (weights["modern4"] - weights["mlp2"])
    assert results.loc["modern4", "train_mem"] > results.loc["mlp2", "train_mem"]


def test_paper_comparison_lines_up_with_table3():
    fake = pd.DataFrame({"arch": ["mlp2", "modern4+sn"], "train_mem": [8.1e9, 1e9], "act_mem": [100.32e6, 1e6],
                         "train_time": [196.28, 1.0], "act_time": [2.38, 1.0], "weight_bytes": [4e7, 4e8]})
    comparison = bench.paper_comparison(fake)
    mlp2 = comparison[comparison["arch"] == "mlp2"].set_index("metric")
    t3 = paper.table3().query("config == 'mlp2'").set_index("paper_metric")["mean"]
    assert mlp2["paper"].to_dict() == t3.to_dict()
    assert mlp2["ratio"].round(6).tolist() == [2.0, 2.0, 2.0, 2.0]
    assert comparison[comparison["arch"] == "modern4+sn"]["paper"].isna().all()  # not in the paper
    table = bench.format_table(fake)
    assert table.loc["weights (MB)", ("modern4+sn", "ours")] == "400.0"
    assert "train CPU time (ms)" not in table.index  # a GPU run has no CPU-time rows


@pytest.mark.parametrize("args, message", [
    (["--archs", "resnet4"], "unknown configuration"),
    (["--batch", "0", "--device", "cpu"], "batch must be an integer >= 1"),
    (["--iters", "0", "--device", "cpu"], "iters must be an integer >= 1"),
    (["--task", "cartpole"], "cartpole"),
])
def test_bad_input_is_one_line_exit_2(args, message, capsys):
    assert bench.main(args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err


def test_time_alternating_warms_then_times_each_run_in_turn():
    from course_lib.bench_update import time_alternating

    calls = []
    cpu, wall = time_alternating({"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}, rounds=2, repeats=3)
    assert calls == (["a"] * 4 + ["b"] * 4) * 2  # per round: one untimed and three timed calls of each
    assert {name: len(t) for name, t in cpu.items()} == {name: len(t) for name, t in wall.items()} == {"a": 6, "b": 6}
    assert all(t >= 0 for times in (*cpu.values(), *wall.values()) for t in times)


def test_sn_cost_bench_times_sn_and_its_power_step_bound(capsys):
    """tools/bench_sn_cost.py (issue 22's measurement): its "power step only" layers take SN's power step
    on every training forward but compute with the unnormalized weight; the script prints all three."""
    import importlib.util
    import types
    from pathlib import Path

    import torch.nn.functional as F

    path = Path(__file__).resolve().parents[1] / "tools" / "bench_sn_cost.py"
    spec = importlib.util.spec_from_file_location("bench_sn_cost", path)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    args = types.SimpleNamespace(task="cartpole_swingup", depth=1, hidden_dim=16, batch=8)
    agent, batch, step = tool.make_agent_and_batch(args, sn=True, power_step_only=True)
    layers = [m for m in agent.critic.modules() if hasattr(m, "parametrizations")]
    assert len(layers) == 4  # w1 and w2 of one block, in each of the two critics
    layer = layers[0]
    sn, weight = layer.parametrizations.weight[0], layer.parametrizations.weight.original
    with torch.no_grad():
        weight.mul_(3)  # orthogonal init has sigma = 1, where normalizing would change nothing
        v_before = F.normalize(torch.randn(layer.in_features), dim=0)
        sn._v.copy_(v_before)
    x = torch.randn(3, layer.in_features)
    out = layer(x)  # training mode: one power step, then the unnormalized weight
    assert torch.equal(out, F.linear(x, weight, layer.bias))
    assert torch.allclose(sn._u, F.normalize(weight.detach() @ v_before, dim=0))  # the step u <- Wv/|Wv| ran
    assert not torch.allclose(out, F.linear(x, weight / 3, layer.bias))
    agent.update(batch, step)
    assert tool.main(["--depth", "1", "--hidden-dim", "16", "--batch", "8", "--rounds", "1", "--repeats", "1"]) == 0
    printed = capsys.readouterr().out
    assert all(name in printed for name in ("no SN", "SN", "power step only"))
    with pytest.raises(SystemExit):
        tool.main(["--batch", "0"])
