"""course_lib.layernorm_spread and course_lib.power_gap (what notebooks 03 and 04's panels compute) and the panels around them."""
import math

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

from course_lib import layernorm_spread, power_gap, widgets  # noqa: E402
from tests.displayed import displayed  # noqa: E402


def test_layernorm_spread_report_bounds_hold_and_small_inputs_steepen_layernorm():
    wide = layernorm_spread.layernorm_spread_report(depth=3, input_scale=1.0, hidden_dim=32, n_inputs=64)
    narrow = layernorm_spread.layernorm_spread_report(depth=3, input_scale=0.01, hidden_dim=32, n_inputs=64)
    for table in (wide, narrow):
        assert list(table.depth) == [1, 2, 3]
        assert (table.measured <= table.region_bound * (1 + 1e-6)).all()
        assert (table.region_bound <= table.bound * (1 + 1e-9)).all()
    assert (narrow.ln_slope_bound > 10 * wide.ln_slope_bound).all()
    growth_bound = narrow.region_bound.iloc[-1] / wide.region_bound.iloc[-1]
    growth_measured = narrow.measured.iloc[-1] / wide.measured.iloc[-1]
    assert growth_bound > 100 * growth_measured  # the bound pays per block, the slope once
    with pytest.raises(ValueError, match="input_scale"):
        layernorm_spread.layernorm_spread_report(input_scale=0)


def test_power_steps_needed_is_the_smallest_k():
    for ratio, tan0, tol in [(0.5, 1.0, 1e-3), (0.9, 3.0, 1e-6), (0.99, 0.5, 1e-2)]:
        k = power_gap.power_steps_needed(ratio, tan0, tol)
        assert tan0 * ratio ** (2 * k) <= tol * (1 + 1e-12) < tan0 * ratio ** (2 * (k - 1))
    assert power_gap.power_steps_needed(0.9, 1e-4, 1e-3) == 0
    with pytest.raises(ValueError, match="ratio"):
        power_gap.power_steps_needed(1.0, 1.0, 1e-3)


def test_power_gap_report_converges_faster_for_a_larger_gap():
    fast, slow = power_gap.power_gap_report(0.5, n_iters=40), power_gap.power_gap_report(0.95, n_iters=40)
    assert fast.steps_measured < slow.steps_predicted
    assert fast.steps_measured <= fast.steps_predicted
    assert fast.errors.u_error.iloc[-1] < slow.errors.u_error.iloc[-1]


@pytest.mark.parametrize("make, control, value", [
    (lambda: widgets.TabularPanel(n_steps=1000), "epsilon", 0.5),
    (lambda: widgets.LayerNormPanel(depth=2, hidden_dim=32), "depth", 3),
    (lambda: widgets.PowerGapPanel(ratio=0.8, n_iters=20), "ratio", 0.5),
    (lambda: widgets.SoftValuePanel(alpha=0.05), "alpha", 0.5),
])
def test_function_panels_redraw_when_a_control_moves(make, control, value):
    panel = make()
    first = panel.result
    assert [o["output_type"] for o in panel.output.outputs] == ["stream", "display_data"]
    assert "image/png" in panel.output.outputs[1]["data"]
    assert displayed(panel)["text/plain"].endswith("run the notebook to use it")
    panel.controls[control].value = value
    assert panel.result is not first and len(panel.output.outputs) == 2
    assert panel.values()[control] == pytest.approx(value)
    matplotlib.pyplot.close("all")


def test_panel_results_equal_the_plain_functions():
    panel = widgets.PowerGapPanel(ratio=0.7, n_iters=10)
    assert panel.result.errors.equals(power_gap.power_gap_report(0.7, n_iters=10).errors)
    text = widgets.format_power_gap_report(panel.result)
    assert "sigma_2/sigma_1 = 0.7" in text and math.isfinite(panel.result.errors.u_error.iloc[-1])


def test_soft_report_entropy_grows_with_the_temperature():
    from course_lib import tabular

    cold, hot = tabular.soft_report(alpha=0.005), tabular.soft_report(alpha=0.5)
    live = ~cold.grid.terminal
    assert (hot.entropy[live] >= cold.entropy[live] - 1e-9).all() and hot.entropy[live].mean() > cold.entropy[live].mean()
    assert (hot.V_soft >= cold.V_soft - 1e-9).all()
    assert abs(cold.V_soft[cold.grid.start] - cold.V_hard[cold.grid.start]) < 0.05
