"""Random shift (DrQ / DrQ-v2): it is pad + random crop, by at most `pad` pixels, reproducible."""

import collections

import pytest
import torch
import torch.nn.functional as F

from course_lib.augment import RandomShift, random_shift, shift_images


def crop(images, shifts, pad):
    """The DrQ way, one image at a time: replicate-pad, then crop at (dy, dx)."""
    padded = F.pad(images.float(), (pad, pad, pad, pad), mode="replicate")
    h, w = images.shape[-2:]
    return torch.stack([padded[i, :, dy:dy + h, dx:dx + w] for i, (dx, dy) in enumerate(shifts.tolist())])


def find_shift(original, shifted, pad):
    """The (dx, dy) whose crop reproduces `shifted`, or None."""
    matches = [(dx, dy) for dx in range(2 * pad + 1) for dy in range(2 * pad + 1)
               if torch.allclose(crop(original[None], torch.tensor([[dx, dy]]), pad)[0], shifted, atol=1e-3)]
    assert len(matches) <= 1
    return matches[0] if matches else None


def test_grid_sample_shift_equals_pad_and_crop():
    generator = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (32, 9, 84, 84), dtype=torch.uint8, generator=generator)
    shifts = torch.randint(0, 9, (32, 2), generator=generator)
    out = shift_images(images, shifts, pad=4)
    assert out.shape == (32, 9, 84, 84) and out.dtype == torch.float32
    # Bilinear weights at exact pixel centres are 1 and 0 up to float rounding (values 0..255).
    torch.testing.assert_close(out, crop(images, shifts, 4), atol=1e-2, rtol=0)
    # Non-square images too.
    images = torch.rand(5, 3, 10, 14, generator=generator)
    shifts = torch.randint(0, 5, (5, 2), generator=generator)
    torch.testing.assert_close(shift_images(images, shifts, 2), crop(images, shifts, 2), atol=1e-5, rtol=0)


def test_random_shift_moves_each_image_by_at_most_pad_pixels():
    generator = torch.Generator().manual_seed(1)
    images = torch.rand(40, 6, 12, 12, generator=generator)  # distinct values: one crop matches
    out = RandomShift(pad=2)(images, generator=generator)
    assert out.shape == images.shape
    shifts = [find_shift(images[i], out[i], pad=2) for i in range(40)]
    assert all(s is not None for s in shifts)  # every channel (stacked frame) shares one shift
    assert len(set(shifts)) > 10  # and the shifts vary between images


def test_all_shifts_are_drawn_about_equally_often():
    generator = torch.Generator().manual_seed(2)
    pad, n = 1, 1800
    images = torch.rand(n, 1, 6, 6, generator=generator)
    out = random_shift(images, pad, generator=generator)
    counts = collections.Counter(find_shift(images[i], out[i], pad) for i in range(n))
    assert set(counts) == {(dx, dy) for dx in range(3) for dy in range(3)}
    assert all(150 < c < 250 for c in counts.values())  # 200 expected each


def test_pad_zero_is_identity():
    images = torch.randint(0, 256, (4, 9, 84, 84), dtype=torch.uint8)
    torch.testing.assert_close(RandomShift(pad=0)(images), images.float(), atol=1e-2, rtol=0)


def test_seeded_generator_is_deterministic():
    images = torch.rand(16, 9, 20, 20)
    a = random_shift(images, 4, torch.Generator().manual_seed(7))
    b = random_shift(images, 4, torch.Generator().manual_seed(7))
    c = random_shift(images, 4, torch.Generator().manual_seed(8))
    assert torch.equal(a, b) and not torch.equal(a, c)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_runs_on_the_batch_device():
    images = torch.randint(0, 256, (8, 9, 84, 84), dtype=torch.uint8, device="cuda")
    shifts = torch.randint(0, 9, (8, 2))
    out = shift_images(images, shifts, 4)
    assert out.device.type == "cuda"
    torch.testing.assert_close(out.cpu(), crop(images.cpu(), shifts, 4), atol=1e-2, rtol=0)
    cpu_generator = torch.Generator().manual_seed(0)
    assert RandomShift(4)(images, cpu_generator).device.type == "cuda"


def test_bad_input():
    with pytest.raises(ValueError, match="pad"):
        RandomShift(pad=-1)
    with pytest.raises(ValueError, match="N, C, H, W"):
        random_shift(torch.rand(3, 84, 84), 4)
