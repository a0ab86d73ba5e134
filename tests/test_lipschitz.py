"""Experiments of notebooks 03-05 (course_lib.lipschitz): eq. (5) bound vs measured gradients,
power-method convergence, SN tracking, head sizes and the report behind the notebook-05 panel."""

import numpy as np
import pytest
import torch

from course_lib import lipschitz as L, nets, spectral


def test_linear_gain_never_exceeds_sigma_max_and_approaches_it():
    W = torch.randn(5, 3, generator=torch.Generator().manual_seed(0))
    table = L.linear_gain_table(W, sample_sizes=(1, 10, 100, 10_000), seed=1)
    sigma = torch.linalg.matrix_norm(W.double(), ord=2).item()
    assert table.sigma_max.tolist() == pytest.approx([sigma] * 4)
    assert (table.max_gain <= sigma * (1 + 1e-12)).all()
    assert table.max_gain.is_monotonic_increasing
    assert table.fraction_of_sigma.iloc[-1] > 0.99  # 3 input dims: random x find v_1 quickly
    with pytest.raises(ValueError, match="2-D"):
        L.linear_gain_table(torch.randn(2, 2, 2))
    with pytest.raises(ValueError, match="sample_sizes"):
        L.linear_gain_table(W, sample_sizes=(0, 5))


def test_synthetic_q_reports_its_true_action_gradient():
    x = L.sample_critic_inputs(64, seed=3)
    assert x.shape == (64, L.FEATURE_DIM + L.ACTION_DIM) and x.abs().max() <= 1
    a = x[:, L.FEATURE_DIM:].clone().requires_grad_(True)
    q, grad_norm = L.synthetic_q(torch.cat([x[:, :L.FEATURE_DIM], a], dim=1))
    (grad,) = torch.autograd.grad(q.sum(), a)
    assert q.shape == (64, 1)
    assert torch.allclose(grad.norm(dim=1), grad_norm, atol=1e-5)


@pytest.mark.parametrize("arch", ["mlp", "modern"])
def test_bound_holds_over_depth_for_random_critics(arch):
    df = L.bound_vs_measured(arch, [1, 3], hidden_dim=16, n_inputs=256, seed=0)
    assert list(df.depth) == [1, 3]
    assert (0 < df.measured).all()
    assert (df.measured <= df.region_bound * (1 + 1e-6)).all()
    assert (df.region_bound <= df.bound * (1 + 1e-6)).all()
    if arch == "mlp":
        # Orthogonal init: every layer has sigma_max = 1, so eq. (5) gives exactly 1 at any depth.
        assert df.bound.tolist() == pytest.approx([1.0, 1.0], rel=1e-5)
        assert (df.region_bound == df.bound).all()
    else:
        # LayerNorm's global constant (~316 per block) makes the global bound far looser.
        assert (df.region_bound < df.bound / 10).all()
        assert df.bound.iloc[1] > 316**3


def test_weight_gain_multiplies_the_mlp_bound_and_sn_removes_it_from_hidden_layers():
    depth, gain = 3, 2.0
    plain = L.random_critic("mlp", depth, hidden_dim=16, gain=gain, seed=1)
    assert spectral.lipschitz_upper_bound(plain) == pytest.approx(gain ** (depth + 1), rel=1e-5)
    with_sn = L.random_critic("mlp", depth, hidden_dim=16, gain=gain, spectral_norm=True, seed=1)
    # Only the first and the last Linear keep the gain; SN's estimate converged at creation.
    assert spectral.lipschitz_upper_bound(with_sn) == pytest.approx(gain**2, rel=1e-3)
    with pytest.raises(ValueError, match="gain"):
        L.random_critic("mlp", 2, gain=0.0)


def test_training_fits_the_target_and_grows_the_bound():
    head = L.random_critic("mlp", 2, hidden_dim=32, seed=0)
    losses = L.train_critic(head, steps=60, batch_size=64, lr=3e-3, seed=0)
    assert len(losses) == 60 and np.mean(losses[-10:]) < 0.5 * np.mean(losses[:5])
    assert spectral.lipschitz_upper_bound(head) > 1.0  # trained weights leave the orthogonal init
    df = L.bound_vs_measured("mlp", [2], hidden_dim=32, trained=True, train_steps=30, train_batch_size=64,
                             n_inputs=128, seed=0)
    assert df.weights.tolist() == ["trained"] and df.true_max.iloc[0] > 0
    assert df.measured.iloc[0] <= df.bound.iloc[0]


def test_layernorm_min_input_std():
    x = L.sample_critic_inputs(32, seed=0)
    assert L.layernorm_min_input_std(L.random_critic("mlp", 2, hidden_dim=8), x) is None
    head = L.random_critic("modern", 2, hidden_dim=8, seed=0)
    expected = head.input(x).std(-1, unbiased=False).min().item()  # the first LN sees input(x)
    assert 0 < L.layernorm_min_input_std(head, x) <= expected + 1e-7


def test_bad_depths_and_seeds_are_rejected():
    with pytest.raises(ValueError, match="depths"):
        L.bound_vs_measured("mlp", [0])
    with pytest.raises(ValueError, match="depths"):
        L.bound_vs_measured("mlp", [])
    with pytest.raises(ValueError, match="seed"):
        L.sample_critic_inputs(4, seed=-1)
    with pytest.raises(ValueError, match="allowed: mlp, modern"):
        L.bound_vs_measured("resnet", [1])


def test_matrix_with_spectrum():
    W = L.matrix_with_spectrum([3.0, 2.0, 0.5], n_cols=5, seed=2)
    assert W.shape == (3, 5)
    assert torch.allclose(torch.linalg.svdvals(W), torch.tensor([3.0, 2.0, 0.5], dtype=torch.float64))
    with pytest.raises(ValueError, match="n_cols"):
        L.matrix_with_spectrum([1.0, 0.5], n_cols=1)
    with pytest.raises(ValueError, match="singular_values"):
        L.matrix_with_spectrum([1.0, -0.5])


def test_power_method_follows_its_theoretical_rate():
    table = L.power_convergence_table(ratios=(0.5, 0.9), n_iters=25, dim=16, seed=0)
    for ratio, df in table.groupby("ratio"):
        # tan(angle_k) <= r^(2k) tan(angle_0) holds at every k (all other sigma_j <= r), and sin <= tan.
        assert (df.u_error <= df.theory * (1 + 1e-9) + 1e-13).all()  # 1e-13: float64 round-off floor
        assert (df.sigma_rel_error >= -1e-12).all()  # u^T W v never exceeds sigma_max
        assert df.u_error.iloc[-1] < df.u_error.iloc[0]
    fast, slow = (table[table.ratio == r].set_index("k") for r in (0.5, 0.9))
    assert (fast.u_error.loc[5:] < slow.u_error.loc[5:]).all()
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        L.power_convergence_table(ratios=(1.0,))


def test_power_iteration_errors_uses_course_power_iteration():
    W = L.matrix_with_spectrum([1.0, 0.3, 0.1], seed=1)
    df = L.power_iteration_errors(W, 3, seed=0)
    u0 = torch.randn(3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    sigma, _, _ = spectral.power_iteration(W, 3, u=u0)
    assert df.sigma_est.iloc[-1] == pytest.approx(sigma.item())
    assert list(df.k) == [0, 1, 2, 3]


def test_one_warm_power_step_tracks_sigma_better_than_a_cold_one():
    track = L.track_sigma_during_training(steps=40, lr=1e-2, width=16, seed=0)
    assert len(track) == 40
    assert (track.sigma_sn <= track.sigma_exact * (1 + 1e-5)).all()  # Rayleigh quotient <= sigma_max
    assert (track.normalized_sigma >= 1 - 1e-5).all()
    assert (track.sigma_2 <= track.sigma_exact).all()
    assert track.sn_rel_error.median() < track.cold_rel_error.median()
    assert track.sigma_exact.iloc[-1] != pytest.approx(track.sigma_exact.iloc[0], rel=1e-3)  # W did change


@pytest.mark.parametrize("arch,in_dim,out_dim,hidden,depth", [("mlp", 56, 1, 32, 1), ("mlp", 50, 12, 16, 4),
                                                              ("modern", 56, 1, 16, 4), ("modern", 5, 2, 8, 1)])
def test_head_parameter_count_matches_the_modules(arch, in_dim, out_dim, hidden, depth):
    head = nets.make_head(arch, in_dim, out_dim, hidden_dim=hidden, depth=depth)
    assert L.head_parameter_count(arch, in_dim, out_dim, hidden, depth) == nets.count_parameters(head)


def test_head_parameter_count_inner_width_and_errors():
    h = 16
    narrow = L.head_parameter_count("modern", 10, 1, h, 2, inner_dim=h)
    default = L.head_parameter_count("modern", 10, 1, h, 2)
    assert default - narrow == 2 * 2 * (h * h) + 2 * h  # two blocks: w1, w2 lose h*h weights each, b1 loses h
    with pytest.raises(ValueError, match="allowed: mlp, modern"):
        L.head_parameter_count("cnn", 10, 1)
    with pytest.raises(ValueError, match="depth"):
        L.head_parameter_count("mlp", 10, 1, 8, 0)


def test_heads_and_agent_tables():
    heads = L.heads_table(hidden_dim=1024)
    assert heads.config.tolist() == ["mlp2", "mlp4", "modern2", "modern4"]
    mlp2 = heads.set_index("config").loc["mlp2"]
    assert mlp2.critic_params == (56 * 1024 + 1024) + (1024 * 1024 + 1024) + (1024 + 1)
    assert mlp2.critic_MB == pytest.approx(4 * mlp2.critic_params / 1e6)
    agent = L.agent_weight_table(inner_multipliers=(2, 1))
    assert len(agent) == 6  # 2 mlp rows + 2 modern configs x 2 widths
    weights = agent.set_index(["config", "inner_width"]).weights_MB
    assert 40 < weights["mlp2", "-"] < 50  # Table 3 act mem: 50.16 MB, including allocator overhead
    assert weights["modern4", "2h"] > weights["modern4", "1h"] > weights["modern2", "1h"]


def test_head_report_contents():
    report = L.head_report("modern", 2, True, hidden_dim=16, gain=1.5, n_inputs=64, seed=0)
    s = report.summary.iloc[0]
    assert (s.arch, s.depth, s.sn, s.hidden) == ("modern", 2, True, 16)
    assert s.measured_lipschitz <= s.region_bound <= s.bound
    assert s.params == nets.count_parameters(nets.make_head("modern", 56, 1, 16, 2))
    assert report.layers.layer.tolist() == ["input", "blocks.0.branch.w1", "blocks.0.branch.w2",
                                            "blocks.1.branch.w1", "blocks.1.branch.w2", "output"]
    sn_rows = report.layers[report.layers.sn]
    assert len(sn_rows) == 4 and np.allclose(sn_rows.sigma_max, 1.0, atol=1e-3)
    plain = report.layers[~report.layers.sn]
    assert np.allclose(plain.sigma_max, 1.5, atol=1e-4)  # orthogonal init times the gain
    assert (report.layers.grad_norm > 0).all()
    assert report.dq_da.shape == (64,) and report.dq_da.max() == pytest.approx(s.measured_lipschitz, rel=1e-6)
    again = L.head_report("modern", 2, True, hidden_dim=16, gain=1.5, n_inputs=64, seed=0)
    assert again.summary.equals(report.summary) and again.layers.equals(report.layers)
