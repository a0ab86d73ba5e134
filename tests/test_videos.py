"""course_lib.videos: a made-up clip round-trips through write_gif and read_gif; what a notebook
displays embeds the file's bytes, identically every time; a missing or unusable file is one line
that says what to do."""
from __future__ import annotations

import base64
import re

import numpy as np
import pytest

from course_lib import videos
from tests.displayed import displayed


def moving_square(n_frames=6, height=48, width=64):
    """A red square moving right over a grey background: few colours, so a GIF stores them exactly."""
    frames = np.full((n_frames, height, width, 3), 128, dtype=np.uint8)
    for t in range(n_frames):
        frames[t, 16:32, 4 + 8 * t: 20 + 8 * t] = (220, 30, 30)
    return frames


def test_a_made_up_clip_round_trips(tmp_path):
    frames = moving_square()
    path = videos.write_gif(frames, tmp_path / "clip.gif", frame_ms=80, size=(64, 48))
    back, durations = videos.read_gif(path)
    assert back.shape == frames.shape
    assert durations == [80] * len(frames)
    assert np.array_equal(back, frames)  # at its own size, with two colours, every pixel comes back
    half, _ = videos.read_gif(videos.write_gif(frames, tmp_path / "half.gif", size=(32, 24)))
    assert half.shape == (len(frames), 24, 32, 3)
    assert np.abs(half[:, 12, :, 1].astype(int) - frames[:, 24, ::2, 1]).max() < 40  # resized, not garbled


def test_write_gif_crops_to_the_size_and_draws_the_title(tmp_path):
    frames = moving_square(n_frames=3, height=96, width=96)
    plain = videos.write_gif(frames, tmp_path / "plain.gif", size=(40, 30))
    titled = videos.write_gif(frames, tmp_path / "titled.gif", size=(40, 30), title="mlp2")
    a, _ = videos.read_gif(plain)
    b, _ = videos.read_gif(titled)
    assert a.shape == b.shape == (3, 30, 40, 3)
    assert not np.array_equal(a[:, :12], b[:, :12])  # the title is in the top-left corner
    assert np.array_equal(a[:, 20:], b[:, 20:])  # and nowhere else
    again = videos.write_gif(frames, tmp_path / "again.gif", size=(40, 30), title="mlp2")
    assert again.read_bytes() == titled.read_bytes()  # the same frames give the same bytes


def test_a_flickering_still_background_is_made_still(tmp_path):
    frames = moving_square().astype(np.int16)
    noise = np.random.default_rng(0).integers(-6, 7, size=frames.shape)
    background = frames == 128
    noisy = np.where(background, frames + noise, frames).astype(np.uint8)  # a codec's flicker
    still, _ = videos.read_gif(videos.write_gif(noisy, tmp_path / "still.gif", size=(64, 48)))
    kept, _ = videos.read_gif(videos.write_gif(noisy, tmp_path / "kept.gif", size=(64, 48),
                                               still_tolerance=None, colors=128))
    away = still[:, 36:], kept[:, 36:]  # rows the square never enters
    assert (away[0] == away[0][0]).all()  # the same in every frame
    assert not (away[1] == away[1][0]).all()  # without it, the flicker stays
    square = moving_square()[:, 16:32].astype(int)
    assert np.abs(still[:, 16:32].astype(int) - square).max() <= 6  # and the square still moves


def test_the_displayed_output_is_the_files_bytes_and_does_not_change(tmp_path):
    path = videos.write_gif(moving_square(), tmp_path / "clip.gif", size=(64, 48))
    first = displayed(videos.show_video(path, caption="mlp2 <seed 4>: return 858"))
    second = displayed(videos.show_video(path, caption="mlp2 <seed 4>: return 858"))
    assert first == second
    html = first["text/html"]
    embedded = re.findall(r'src="data:image/gif;base64,([^"]+)"', html)
    assert [base64.b64decode(e) for e in embedded] == [path.read_bytes()]
    assert "mlp2 &lt;seed 4&gt;: return 858" in html  # the caption, escaped
    assert "clip.gif" in first["text/plain"] and "return 858" in first["text/plain"]


def test_several_videos_side_by_side_in_order(tmp_path):
    a = videos.write_gif(moving_square(), tmp_path / "a.gif", size=(64, 48))
    b = videos.write_gif(moving_square()[::-1], tmp_path / "b.gif", size=(64, 48))
    html = displayed(videos.show_videos({a: "first", b: "second"}, width=120))["text/html"]
    embedded = re.findall(r'src="data:image/gif;base64,([^"]+)"', html)
    assert [base64.b64decode(e) for e in embedded] == [a.read_bytes(), b.read_bytes()]
    assert html.index("first") < html.index("second")
    assert html.count('width="120"') == 2


def test_an_mp4_is_embedded_as_a_looping_video(tmp_path):
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"\x00\x00\x00\x18ftypmp42 not a real movie")
    html = displayed(videos.show_video(clip, caption="a run"))["text/html"]
    assert re.search(r"<video[^>]* loop [^>]*src=\"data:video/mp4;base64,", html)
    assert base64.b64encode(clip.read_bytes()).decode() in html


def test_a_missing_file_names_the_command_that_makes_it(tmp_path):
    with pytest.raises(FileNotFoundError) as err:
        videos.show_video(tmp_path / "nowhere.gif")
    message = str(err.value)
    assert "\n" not in message and "nowhere.gif" in message and videos.MAKE_COMMAND in message
    with pytest.raises(FileNotFoundError, match="python make_mine.py"):
        videos.show_videos([(tmp_path / "nowhere.gif", None)], made_by="python make_mine.py")


def test_unusable_files_are_refused_with_the_fix(tmp_path, monkeypatch):
    text = tmp_path / "notes.txt"
    text.write_text("not a video")
    with pytest.raises(ValueError, match=r"\.gif, \.mp4"):
        videos.show_video(text)
    path = videos.write_gif(moving_square(), tmp_path / "clip.gif", size=(64, 48))
    monkeypatch.setattr(videos, "MAX_EMBED_BYTES", path.stat().st_size - 1)
    with pytest.raises(ValueError, match="make it smaller"):
        videos.show_video(path)
    with pytest.raises(ValueError, match="no frames"):
        videos.write_gif([], tmp_path / "empty.gif")


def test_the_stored_videos_are_there_small_and_match_their_runs():
    import json
    from pathlib import Path

    import pandas as pd

    stored = Path(__file__).resolve().parents[1] / "results" / "videos"
    made = json.loads((stored / "videos.json").read_text())
    assert made, "videos.json lists no video"
    for name, entry in made.items():
        evals = pd.read_csv(stored / "runs" / name / "eval.csv")
        last = evals[evals["crashed"] == 0].iloc[-1]
        assert (entry["frame"], entry["eval_return"]) == (int(last["frame"]), round(float(last["eval_return"]), 1))
        assert f"{entry['eval_return']:.0f}" in entry["caption"] or entry["gif"] is None
        if entry["gif"] is not None:
            path = stored / entry["gif"]
            assert path.stat().st_size == entry["bytes"] < 300_000, f"{path.name}: too large for a notebook"
            frames, durations = videos.read_gif(path)
            assert frames.shape[1:] == (120, 160, 3) and sum(durations) >= 5000
