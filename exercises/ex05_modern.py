# Generated from solutions/ex05_modern.py by tools/make_exercises.py: replace each
# `raise NotImplementedError(...)` with your code (keep the signatures).
# ★ applies what the notebook gives, ★★ needs a step of your own, ★★★ asks you to derive it.
"""Exercises of notebook 05 (modern architectures: pre-LayerNorm residual heads).

Write each function body where it says ``raise NotImplementedError``. Check one exercise in the
notebook with ``checks.check("ex05_modern.<name>")``, or all of them with
``pytest tests/test_exercises.py --exercises exercises``.

Inputs are PyTorch tensors; use plain tensor operations (``torch.relu`` is fine), not ``torch.nn``.
"""
import torch


# Exercise (★, 1 point): checks.check("ex05_modern.layer_norm")
def layer_norm(x, gamma, beta, eps=1e-5):
    """LayerNorm over the last dimension, as notebook 03 writes it and ``torch.nn.LayerNorm`` computes it.

    The statistics are per sample, over the last dimension; the variance is the *biased* one
    (divide by the number of features).

    Args:
        x: ``(batch, d)``; gamma, beta: ``(d,)``; eps: small constant.

    Returns:
        ``(batch, d)`` tensor.
    """
    raise NotImplementedError("Exercise: write layer_norm(), see its docstring")


# Exercise (★, 2 points): checks.check("ex05_modern.residual_block_forward")
def residual_block_forward(x, gamma, beta, W1, b1, W2, b2, eps=1e-5):
    """The paper's *modern* block (Sec. 3.2): ``x + w2(relu(w1(norm(x))))``.

    Pre-LN: the LayerNorm sits at the start of the residual branch, the skip path ``x`` is never
    normalized. ``w1`` widens ``d -> inner`` and ``w2`` narrows back ``inner -> d`` (a linear layer
    computes ``x W^T + b``). Use your ``layer_norm``.

    Args:
        x: ``(batch, d)``; gamma, beta: LayerNorm parameters ``(d,)``;
        W1 ``(inner, d)``, b1 ``(inner,)``, W2 ``(d, inner)``, b2 ``(d,)``.

    Returns:
        ``(batch, d)`` tensor.
    """
    raise NotImplementedError("Exercise: write residual_block_forward(), see its docstring")


# Exercise (★★, 1 point): checks.check("ex05_modern.head_parameter_count")
def head_parameter_count(arch, in_dim, out_dim, hidden_dim, depth):
    """Number of trainable parameters of a course head (``course_lib.nets.make_head``), by formula
    (count them from the architecture, do not build the network).

    - ``"mlp"``: ``depth`` hidden Linear layers of width ``hidden_dim`` (with ReLU), then a Linear to
      ``out_dim``;
    - ``"modern"``: ``Linear(in_dim -> h)``, ``depth`` blocks ``x + w2(relu(w1(LayerNorm(x))))``
      with ``w1: h -> 2h`` and ``w2: 2h -> h``, then ``Linear(h -> out_dim)``.

    Every Linear has a weight and a bias; a LayerNorm has ``gamma`` and ``beta``. Spectral
    normalization adds no trainable parameters.

    Returns:
        An int.
    """
    raise NotImplementedError("Exercise: write head_parameter_count(), see its docstring")


# Exercise (★, 1 point): checks.check("ex05_modern.modern_head_lipschitz_bound")
def modern_head_lipschitz_bound(first, blocks, last):
    """The Lipschitz bound of a modern head from its parts' constants (eq. 5 with skip connections).

    The head is ``Linear_first -> block_1 -> ... -> block_n -> Linear_last`` with blocks
    ``x + w2(relu(w1(LN(x))))``; notebook 03's rules (composition, skip connections, ReLU, LayerNorm)
    put together give the bound. Notebook 08 uses it on the spectral norms a ``train.csv`` logs.

    Args:
        first, last: ``sigma_max`` of the first and the last Linear layer (floats).
        blocks: a list with one tuple ``(ln_slope, sigma_w1, sigma_w2)`` per block: LayerNorm's
            slope bound (globally ``max|gamma| / sqrt(eps)``) and the two weights' spectral norms.

    Returns:
        The bound as a float.
    """
    raise NotImplementedError("Exercise: write modern_head_lipschitz_bound(), see its docstring")


# Exercise (★★, 1 point): checks.check("ex05_modern.generator_loss")
def generator_loss(generator, discriminator, z):
    """The non-saturating GAN generator loss, ``mean over the batch of -log D(G(z))``.

    ``discriminator(x)`` returns a *logit* (D = sigmoid(logit) is the probability that x is real).
    Minimizing the loss moves the generated samples where the discriminator believes them real,
    through the same chain rule as the actor's eq. (3), with the discriminator in the critic's
    place: do not detach the generated samples. Computing ``sigmoid`` and then ``log`` loses the
    answer for large logits: write the loss directly in terms of the logit, in a stable form.

    Args:
        generator: a module, ``generator(z)`` -> samples ``(B, d)``.
        discriminator: a module, ``discriminator(x)`` -> logits ``(B, 1)``.
        z: noise, ``(B, k)``.

    Returns:
        The loss, a 0-d tensor the generator's parameters can be differentiated through.
    """
    raise NotImplementedError("Exercise: write generator_loss(), see its docstring")
