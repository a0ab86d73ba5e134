"""The notebook-05 panel (course_lib.widgets.HeadPanel) wraps lipschitz.head_report and redraws on change."""
import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

from course_lib import lipschitz, widgets  # noqa: E402
from tests.displayed import displayed


def test_head_panel_updates_when_a_control_changes():
    panel = widgets.HeadPanel(arch="mlp", depth=2, sn=False, hidden_dim=64, gain=1.5, seed=0)
    first = panel.report
    assert first.summary.equals(lipschitz.head_report("mlp", 2, False, hidden_dim=64, gain=1.5, seed=0).summary)
    kinds = [out["output_type"] for out in panel.output.outputs]
    assert kinds == ["stream", "display_data"]
    assert panel.output.outputs[0]["text"] == widgets.format_head_report(first) + "\n"
    assert "image/png" in panel.output.outputs[1]["data"]

    panel.depth.value = 3  # as if the user moved the slider
    assert panel.report.summary.depth.iloc[0] == 3
    assert len(panel.report.layers) == 4
    assert panel.report.summary.bound.iloc[0] == pytest.approx(1.5**4, rel=1e-5)
    panel.sn.value = True
    assert panel.report.summary.bound.iloc[0] == pytest.approx(1.5**2, rel=1e-3)
    assert panel.report.layers.sn.tolist() == [False, True, True, False]
    panel.arch.value = "modern"
    assert panel.report.summary.arch.iloc[0] == "modern"
    assert len(panel.output.outputs) == 2  # redrawn, not appended
    assert "modern head, depth 3" in panel.output.outputs[0]["text"]


def test_head_panel_plain_text_is_short_and_deterministic():
    panel = widgets.HeadPanel(arch="mlp", depth=1, hidden_dim=64)
    bundle = displayed(panel)
    assert bundle["text/plain"] == ("HeadPanel(arch='mlp', depth=1, sn=False, hidden=64, gain=1.0): "
                                    "run the notebook to use it")
    # the view of the panel's own widget, in the widget protocol both ipywidgets 7 and 8 speak
    assert bundle["application/vnd.jupyter.widget-view+json"] == {
        "version_major": 2, "version_minor": 0, "model_id": panel.widget.model_id}
    assert panel.widget.model_id and repr(panel) == bundle["text/plain"]
    with pytest.raises(ValueError, match="hidden_dim must be one of"):
        widgets.HeadPanel(hidden_dim=1024)


def test_show_head_report_prints_the_same_text(capsys):
    report = lipschitz.head_report("modern", 1, True, hidden_dim=16, n_inputs=32, seed=0)
    widgets.show_head_report(report)
    text = capsys.readouterr().out
    assert text == widgets.format_head_report(report) + "\n"
    assert "blocks.0.branch.w1 (SN)" in text and "Lipschitz upper bound" in text
    matplotlib.pyplot.close("all")
