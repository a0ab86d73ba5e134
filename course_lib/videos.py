"""Short videos of trained policies: write them as small animated GIFs, show them in a notebook.

Every finished run of ``python -m course_lib.train`` films the first episode of its final
evaluation (``video.mp4``: the mean action, one frame per agent step, ``VIDEO_SIZE`` pixels square).
A notebook shows a smaller copy: an animated GIF embedded in the cell's HTML output, which plays in
JupyterLab, Colab and GitHub's notebook viewer without a video codec or a server.

* :func:`write_gif` turns frames (a run's video, or any array) into a small, labelled GIF;
  ``results/videos/make_videos.py`` uses it on the runs it trains.
* :func:`show_video` and :func:`show_videos` display stored files. The output embeds the file's
  bytes and nothing else that could change (no random ids, no timestamps), so a re-executed
  notebook shows byte-identical output.
* :func:`read_gif` reads the frames back (for checks and plots).
"""
from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

#: The command that makes the course's stored videos (run from the repository root).
MAKE_COMMAND = "python results/videos/make_videos.py"
#: Embedded videos are part of the notebook file; larger ones belong on disk, not in a notebook.
MAX_EMBED_BYTES = 1_000_000
_MIME = {".gif": "image/gif", ".mp4": "video/mp4"}


# ============================================================================ writing and reading
def write_gif(frames: Iterable[np.ndarray], path: str | Path, *, frame_ms: int = 80,
              size: tuple[int, int] = (160, 120), title: str | None = None, colors: int = 32,
              still_tolerance: int = 20) -> Path:
    """Write RGB frames as a looping animated GIF of ``size`` = (width, height) pixels.

    Each frame (uint8, height x width x 3) is cropped to the aspect ratio of ``size`` around its
    centre and resized; ``title`` is drawn in its top-left corner. Made small in three ways:

    * a still background: a pixel within ``still_tolerance`` (per channel, 0-255) of the clip's
      median frame is set to it, which removes a video codec's flicker (``None``: keep every pixel);
    * one palette of ``colors`` colours for the whole clip (an octree fitted on a sample of frames,
      which keeps a small object's colour; no dithering), so an unchanged pixel keeps its index;
    * each frame after the first stores only the pixels that changed; the rest are transparent
      and show the frame before.

    GIF times frames in hundredths of a second: ``frame_ms`` is rounded to a multiple of 10. The same
    frames give the same bytes. Returns the path.
    """
    from PIL import Image, ImageDraw, ImageFont

    if not 2 <= colors <= 255:
        raise ValueError(f"colors must be 2 to 255 (one GIF index is kept for transparency), got {colors}")
    resized = [np.asarray(_fit(np.asarray(frame), size)) for frame in frames]
    if not resized:
        raise ValueError("write_gif got no frames; pass a sequence of height x width x 3 uint8 arrays")
    clip = np.stack(resized)
    if still_tolerance is not None:
        median = np.median(clip, axis=0).astype(np.uint8)
        still = np.abs(clip.astype(np.int16) - median).max(axis=-1) <= still_tolerance
        clip = np.where(still[..., None], median, clip)
    images = [Image.fromarray(frame) for frame in clip]
    if title:
        font = ImageFont.load_default(size=10)
        for image in images:
            ImageDraw.Draw(image).text((3, 2), title, fill=(255, 255, 255), font=font, stroke_width=1,
                                       stroke_fill=(0, 0, 0))
    sample = images[:: max(1, len(images) // 12)]
    strip = Image.new("RGB", (size[0], size[1] * len(sample)))
    for i, image in enumerate(sample):
        strip.paste(image, (0, size[1] * i))
    fitted = strip.quantize(colors=colors, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    palette = fitted.getpalette()[: 3 * colors]
    palette += [0] * (768 - len(palette))
    indices = [np.asarray(image.quantize(palette=fitted, dither=Image.Dither.NONE)) for image in images]
    unchanged = 255  # the transparent index: "as in the frame before"
    coded = [indices[0]] + [np.where(now == before, unchanged, now).astype(np.uint8)
                            for before, now in zip(indices[:-1], indices[1:])]
    pictures = []
    for frame in coded:
        picture = Image.fromarray(frame, mode="P")
        picture.putpalette(palette)
        pictures.append(picture)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pictures[0].save(path, format="GIF", save_all=True, append_images=pictures[1:],
                     duration=max(10, round(frame_ms / 10) * 10), loop=0, transparency=unchanged,
                     disposal=1, optimize=False)
    return path


def _fit(frame: np.ndarray, size: tuple[int, int]):
    """The centre crop of ``frame`` with ``size``'s aspect ratio, resized to ``size``, as a PIL image."""
    from PIL import Image

    if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        raise ValueError(f"a frame must be a height x width x 3 uint8 array, got {frame.dtype} {frame.shape}")
    height, width = frame.shape[:2]
    aspect = size[0] / size[1]
    crop_w, crop_h = min(width, round(height * aspect)), min(height, round(width / aspect))
    top, left = (height - crop_h) // 2, (width - crop_w) // 2
    image = Image.fromarray(frame[top:top + crop_h, left:left + crop_w])
    return image.resize(size, Image.Resampling.LANCZOS)


def read_gif(path: str | Path) -> tuple[np.ndarray, list[int]]:
    """The frames of a GIF as one uint8 array (frames x height x width x 3), and each frame's duration in ms.

    A frame identical to the one before is stored once, with the two durations added (Pillow does
    this when writing), so a still stretch of a clip reads back as fewer, longer frames.
    """
    from PIL import Image, ImageSequence

    with Image.open(_existing(path)) as gif:
        frames, durations = [], []
        for frame in ImageSequence.Iterator(gif):
            frames.append(np.asarray(frame.convert("RGB")))
            durations.append(int(frame.info.get("duration", 0)))
    return np.stack(frames), durations


# ============================================================================ showing in a notebook
class EmbeddedVideos:
    """What :func:`show_video` and :func:`show_videos` return: displays as the videos, side by side."""

    def __init__(self, items: Sequence[tuple[Path, str | None]], width: int | None):
        self.items, self.width = list(items), width

    def _repr_html_(self) -> str:
        figures = [_figure_html(path, caption, self.width) for path, caption in self.items]
        return ('<div style="display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start">'
                + "".join(figures) + "</div>")

    def __repr__(self) -> str:  # the text/plain twin: what a console (or a text-only viewer) shows
        return "\n".join(f"[video {path.name}] {caption or ''}".rstrip() for path, caption in self.items)


def show_video(path: str | Path, caption: str | None = None, *, width: int | None = None,
               made_by: str = MAKE_COMMAND) -> EmbeddedVideos:
    """One stored video (``.gif``, or ``.mp4`` where the viewer plays video) with a caption below it.

    Display the return value (last line of a cell). ``width`` scales it on screen (pixels); the file
    is embedded as it is. A missing file raises ``FileNotFoundError`` naming ``made_by``, the
    command that makes it.
    """
    return show_videos([(path, caption)], width=width, made_by=made_by)


def show_videos(items: Sequence[tuple[str | Path, str | None]] | dict, *, width: int | None = None,
                made_by: str = MAKE_COMMAND) -> EmbeddedVideos:
    """Several stored videos side by side (wrapping to the next row when the cell is too narrow).

    ``items``: ``(path, caption)`` pairs, or a dict ``{path: caption}``; otherwise as :func:`show_video`.
    """
    pairs = list(items.items()) if isinstance(items, dict) else list(items)
    if not pairs:
        raise ValueError("show_videos got no videos; pass (path, caption) pairs")
    checked = []
    for path, caption in pairs:
        path = _existing(path, made_by)
        if path.suffix.lower() not in _MIME:
            raise ValueError(f"{path}: cannot show a {path.suffix or 'suffix-less'} file; "
                             f"use one of {', '.join(_MIME)}")
        size = path.stat().st_size
        if size > MAX_EMBED_BYTES:
            raise ValueError(f"{path} has {size:,} bytes, more than {MAX_EMBED_BYTES:,} to embed in a "
                             "notebook; make it smaller (fewer frames or pixels: write_gif)")
        checked.append((path, caption))
    return EmbeddedVideos(checked, width)


def _existing(path: str | Path, made_by: str = MAKE_COMMAND) -> Path:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: make it with `{made_by}` (from the repository root)")
    return path


def _figure_html(path: Path, caption: str | None, width: int | None) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    mime = _MIME[path.suffix.lower()]
    size = f' width="{int(width)}"' if width else ""
    if mime.startswith("video/"):
        media = f'<video{size} autoplay loop muted controls src="data:{mime};base64,{data}"></video>'
    else:
        media = f'<img{size} alt="{html.escape(path.name)}" src="data:{mime};base64,{data}"/>'
    text_width = int(width) if width else max(_natural_width(path), 200)
    text = (f'<figcaption style="max-width:{text_width}px;font-size:85%">{html.escape(caption)}</figcaption>'
            if caption else "")
    return f'<figure style="margin:0;text-align:center">{media}{text}</figure>'


def _natural_width(path: Path) -> int:
    """A GIF's width in pixels (from its header); 0 for a video, whose width the player decides."""
    if path.suffix.lower() != ".gif":
        return 0
    from PIL import Image

    with Image.open(path) as image:
        return image.width
