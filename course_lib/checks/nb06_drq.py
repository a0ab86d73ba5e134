"""Checks of notebook 06 · DrQ: SAC from pixels (solutions/ex06_drq.py)."""
from __future__ import annotations


from .framework import CheckFailed, expect_close, expect_shape, register, torch_generator
from .nb02_actor_critic import replay_batch


def _offsets(student_out, images, pad: int, what: str) -> list[tuple[int, int]]:
    """The offset of each output image; ``CheckFailed`` if one is not a shifted copy of its input."""
    import torch

    from course_lib.augment import shift_images

    images, student_out = torch.as_tensor(images), torch.as_tensor(student_out, dtype=torch.float32)
    n = images.shape[0]
    shifted = {(dx, dy): shift_images(images, torch.tensor([[dx, dy]] * n), pad)
               for dx in range(2 * pad + 1) for dy in range(2 * pad + 1)}
    offsets = []
    for i in range(n):
        match = [o for o, batch in shifted.items() if (student_out[i] - batch[i]).abs().max() < 0.01]
        if not match:
            raise CheckFailed(f"{what}: image {i} is not a shifted copy of its input; pad every side by "
                              "pad pixels repeating the border (mode='replicate'), then crop an HxW "
                              "window, with the same shift for all channels of the image")
        offsets.append(match[0])
    return offsets


def _compare_random_shift(got, want):
    images = want["images"]
    expect_shape(got["out"], images.shape, "the shifted batch")
    offsets = _offsets(got["out"], images, 4, "pad=4 on uint8 images")
    # Independent, uniform offsets: 48 draws from 81 cells hit ~36 distinct ones, never only a few.
    if len(set(offsets)) < 15:
        raise CheckFailed(f"only {len(set(offsets))} distinct shifts among 48 images: draw an "
                          "independent (dx, dy) for each image, each in 0 .. 2 * pad")
    expect_shape(got["many"], want["more"].shape, "the shifted batch (pad=2)")
    many = _offsets(got["many"], want["more"], 2, "pad=2")
    for axis, name in ((0, "dx"), (1, "dy")):
        seen = {o[axis] for o in many}
        if seen != set(range(5)):
            raise CheckFailed(f"with pad=2 over 200 images, {name} took the values {sorted(seen)}; "
                              "it should take every value 0 .. 4 (shifts of -2 .. +2 pixels)")
    expect_close(got["pad 0"], want["floats"], "pad=0 (must return the images unchanged)")


@register("ex06_drq.random_shift", points=2, compare=_compare_random_shift, difficulty=2)
def _probe_random_shift(fn, rng):
    import torch

    g = torch_generator(rng)
    images = torch.randint(0, 256, (48, 6, 14, 14), generator=g, dtype=torch.uint8)
    seed = int(rng.integers(2**31))
    out = fn(images.clone(), 4, torch.Generator().manual_seed(seed))
    if not isinstance(out, torch.Tensor) or out.dtype != torch.float32:
        raise CheckFailed(f"return a float32 tensor, got {getattr(out, 'dtype', type(out).__name__)}")
    again = fn(images.clone(), 4, torch.Generator().manual_seed(seed))
    if not isinstance(again, torch.Tensor) or again.shape != out.shape or not torch.equal(again, out):
        raise CheckFailed("the same seeded generator gave different shifts: pass generator=generator "
                          "to torch.randint")
    more = torch.randint(0, 256, (200, 3, 12, 12), generator=g, dtype=torch.uint8)
    many = fn(more.clone(), 2, torch.Generator().manual_seed(int(rng.integers(2**31))))
    floats = images[:4].float() / 7.0
    return {"images": images, "out": out, "more": more, "many": many, "floats": floats,
            "pad 0": fn(floats.clone(), 0, None)}


@register("ex06_drq.drq_target", points=1, atol=1e-9, difficulty=2)
def _probe_drq_target(fn, rng):
    import torch

    out = {}
    for k, alpha in ((2, 0.1), (1, 0.3), (3, torch.tensor(0.05, dtype=torch.float64))):
        seed = int(rng.integers(2**31))
        reward, discount, _, _, _ = replay_batch(seed, batch=5)
        _, _, next_q1, next_q2, next_log_prob = replay_batch(seed + 1, batch=5 * k)
        out[f"the target averaged over K={k} views"] = fn(
            reward.clone(), discount.clone(), next_q1.clone(), next_q2.clone(), next_log_prob.clone(), alpha, k)
    return out


@register("ex06_drq.drq_critic_loss", points=1, atol=1e-9, difficulty=1)
def _probe_drq_critic_loss(fn, rng):
    import torch

    out = {}
    for m in (2, 1, 3):
        g = torch_generator(rng)
        q1 = torch.randn(4 * m, 1, generator=g, dtype=torch.float64, requires_grad=True)
        q2 = torch.randn(4 * m, 1, generator=g, dtype=torch.float64, requires_grad=True)
        target = torch.randn(4, 1, generator=g, dtype=torch.float64, requires_grad=True)
        loss = fn(q1, q2, target, m)
        if not isinstance(loss, torch.Tensor) or loss.dim() != 0:
            raise CheckFailed(f"the loss should be a 0-d tensor, got shape {tuple(getattr(loss, 'shape', ()))}")
        out[f"the loss with M={m} views"] = loss
        if not loss.requires_grad:
            raise CheckFailed("the loss must be differentiable w.r.t. q1 and q2")
        loss.backward()
        if target.grad is not None and target.grad.abs().max() > 0:
            raise CheckFailed("gradient flows into the target: treat it as a constant (target.detach())")
        if q1.grad is None or q2.grad is None:
            raise CheckFailed("the loss must be differentiable w.r.t. q1 and q2")
    return out


@register("ex06_drq.stack_frames", points=1, atol=0, difficulty=2)
def _probe_stack_frames(fn, rng):
    import numpy as np

    n_steps = 12
    frames = rng.integers(0, 256, size=(n_steps, 3, 4, 5)).astype(np.uint8)
    # Three episodes, the second and third starting at random steps.
    second = int(rng.integers(2, 6))
    third = int(rng.integers(second + 2, n_steps - 2))
    episode_start = [0] * second + [second] * (third - second) + [third] * (n_steps - third)
    out = {}
    cases = [(0, 3, "the very first step (the first frame three times)"),
             (1, 3, "the second step of the first episode"),
             (second - 1, 3, "the last step of the first episode"),
             (second, 3, "the first step of the second episode (no frame of the first may leak in)"),
             (second + 1, 3, "the second step of the second episode"),
             (third + 2, 3, "the third step of the third episode (a full stack)"),
             (n_steps - 1, 4, "the last step with stack=4"),
             (int(rng.integers(0, n_steps)), 1, "a random step with stack=1 (just its own frame)")]
    for t, stack, what in cases:
        got = fn(frames.copy(), list(episode_start), t, stack)
        if not isinstance(got, np.ndarray):
            raise CheckFailed(f"return a numpy array, got {type(got).__name__}")
        if got.dtype != frames.dtype:
            raise CheckFailed(f"keep the frames' dtype ({frames.dtype}), got {got.dtype}")
        out[f"the stack at step {t}, {what}"] = got.astype(np.int64)
    return out
