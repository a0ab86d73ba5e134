"""Random-shift image augmentation (DrQ, DrQ-v2).

DrQ regularizes the critic by shifting every 84x84 observation by a few pixels: it pads the image
by 4 pixels on each side, repeating the border pixels, then crops a random 84x84 window. DrQ-v2
writes the same thing as a bilinear ``grid_sample`` whose sampling grid is moved by a random
*integer* number of pixels, which lands every sample exactly on a pixel centre: bilinear
interpolation then copies pixels, so **pad + random crop and DrQ-v2's random shift are the same
augmentation** (each of the (2 pad + 1)^2 integer shifts equally likely, one per image). The
grid_sample form runs on the batch's device in one kernel, with no Python loop over the batch.

The same shift is applied to all stacked frames of one observation (they are channels of one image).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def shift_images(images: torch.Tensor, shifts: torch.Tensor, pad: int) -> torch.Tensor:
    """Shift each image by the integer pixel offsets in ``shifts``.

    images: (N, C, H, W); uint8 is converted to float32 (values kept, 0..255).
    shifts: (N, 2) integers in [0, 2 pad], ``(dx, dy)``: output pixel (y, x) is pixel
            (y + dy, x + dx) of the image padded by ``pad`` with replicated borders, i.e. the crop
            ``padded[:, :, dy:dy + H, dx:dx + W]``; ``dx = dy = pad`` is the identity.
    """
    if images.dim() != 4:
        raise ValueError(f"images must be a batch (N, C, H, W), got shape {tuple(images.shape)}")
    if not images.is_floating_point():
        images = images.float()
    n, _, h, w = images.shape
    padded = F.pad(images, (pad, pad, pad, pad), mode="replicate") if pad > 0 else images
    # Pixel centres of the padded image in grid_sample's [-1, 1] coordinates (align_corners=False);
    # the first H (W) of them address the top-left crop.
    eps_h, eps_w = 1.0 / (h + 2 * pad), 1.0 / (w + 2 * pad)
    ys = torch.linspace(-1.0 + eps_h, 1.0 - eps_h, h + 2 * pad, device=images.device,
                        dtype=images.dtype)[:h]
    xs = torch.linspace(-1.0 + eps_w, 1.0 - eps_w, w + 2 * pad, device=images.device,
                        dtype=images.dtype)[:w]
    base = torch.stack(torch.meshgrid(xs, ys, indexing="xy"), dim=-1)  # (H, W, 2) as (x, y)
    # (N, 2) pixels -> grid units, scaled by Python floats: building a scale tensor on a GPU from a
    # host list would be a blocking host-to-device copy in every update.
    shifts = shifts.to(device=images.device, dtype=images.dtype)
    offset = torch.stack([shifts[:, 0] * (2.0 * eps_w), shifts[:, 1] * (2.0 * eps_h)], dim=-1)
    grid = base.unsqueeze(0) + offset.view(n, 1, 1, 2)
    return F.grid_sample(padded, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def random_shift(images: torch.Tensor, pad: int = 4,
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """Shift each image by an independent random integer offset in [-pad, pad]^2 (DrQ, DrQ-v2).

    Returns float images of the same shape (uint8 input is converted to float32). With a seeded
    ``generator`` the shifts are reproducible; the generator may live on the CPU while the images
    are on a GPU (the N x 2 shifts are then copied over, without waiting for the GPU).
    """
    if pad < 0:
        raise ValueError(f"pad must be >= 0, got {pad}")
    device = generator.device if generator is not None else images.device
    shifts = torch.randint(0, 2 * pad + 1, (images.shape[0], 2), device=device, generator=generator)
    return shift_images(images, shifts.to(images.device, non_blocking=True), pad)


class RandomShift(nn.Module):
    """``nn.Module`` form of :func:`random_shift` (DrQ-v2's ``RandomShiftsAug``), pad 4 by default."""

    def __init__(self, pad: int = 4):
        super().__init__()
        if pad < 0:
            raise ValueError(f"pad must be >= 0, got {pad}")
        self.pad = pad

    def forward(self, images: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        return random_shift(images, self.pad, generator)

    def extra_repr(self) -> str:
        return f"pad={self.pad}"
