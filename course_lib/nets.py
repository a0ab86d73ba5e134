"""The networks of the paper: a conv encoder shared by both agents, and the heads it varies.

Sec. 3.1: "a common convolutional encoder that processes the image into a fixed-length feature
vector [...] processed by the critic and actor-network, which are just feedforward networks. We will
refer to these feedforward networks as the *heads*." The paper changes only the heads:

* ``mlp`` with depth ``d``: ``d`` hidden Linear+ReLU layers of width ``hidden_dim`` (Sec. 3.3:
  ``d=2`` is DrQ's base network, ``d=4`` the "deeper" one).
* ``modern`` with depth ``n``: ``Linear(in->h)``, then ``n`` pre-LayerNorm residual feed-forward blocks
  ``x + w2(ReLU(w1(LayerNorm(x))))`` (Sec. 3.2, the Transformer's FF block), then ``Linear(h->out)``.
  The inner width of ``w1`` is ``2h`` (our choice: it matches Table 3's memory best, notebook 05).
* Spectral normalization (Sec. 5.1): "we apply spectral normalization to each linear layer except the
  first and last".
* Penultimate normalization (optional, off by default; from the same authors' follow-up, Bjorck,
  Gomes, Weinberger, ICLR 2022, "Is High Variance Unavoidable in RL?"): the feature vector entering
  a head's last Linear is scaled to unit L2 norm (:class:`PenultimateNorm`), so the output layer
  alone sets how large the output can get (``|out_j| <= ||w_j|| + |b_j|``).

A new head architecture goes here and only here: add a class and a branch in :func:`make_head`.
"""
from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from course_lib.spectral import SpectralLinear
from course_lib.spectral import spectral_norm as apply_spectral_norm

ARCHS = ("mlp", "modern")

__all__ = ["ARCHS", "make_head", "MLPHead", "ModernHead", "ResidualBlock", "PenultimateNorm", "ConvEncoder",
           "Trunk", "orthogonal_init", "count_parameters", "PIXEL_SCALINGS"]


def orthogonal_init(m: nn.Module) -> None:
    """DrQ / DrQ-v2 initialisation: orthogonal weights, zero biases (ReLU gain for convs)."""
    if isinstance(m, nn.Linear):
        nn.init.orthogonal_(m.weight)
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    elif isinstance(m, nn.Conv2d):
        nn.init.orthogonal_(m.weight, gain=nn.init.calculate_gain("relu"))
        if m.bias is not None:
            nn.init.zeros_(m.bias)


def _linear(in_dim: int, out_dim: int, sn: bool, spectral_norm_fn=None) -> nn.Module:
    if sn and spectral_norm_fn is not None:  # a hand-written SN (notebook 04's capstone) wraps a plain Linear
        layer = nn.Linear(in_dim, out_dim)
        orthogonal_init(layer)
        wrapped = spectral_norm_fn(layer)
        if not isinstance(wrapped, nn.Module):
            raise ValueError(f"spectral_norm_fn must return an nn.Module (the normalized layer), got "
                             f"{type(wrapped).__name__}")
        return wrapped
    layer = (SpectralLinear if sn else nn.Linear)(in_dim, out_dim)  # SpectralLinear: SN's faster forward
    orthogonal_init(layer)  # initialise before SN so the parametrization stores the orthogonal W
    return apply_spectral_norm(layer) if sn else layer


class PenultimateNorm(nn.Module):
    """``x / max(||x||_2, eps)`` over the last dimension: the features entering a head's last Linear.

    The follow-up paper's *penultimate normalization* (Bjorck et al., ICLR 2022, arXiv 2110.11222):
    outlier runs of DrQ-v2 come from activations growing until the actor's tanh saturates and its
    gradient vanishes; normalizing the penultimate features to unit length bounds every output of
    the last layer by its weight row's norm. No parameters (the last Linear's weights do the
    scaling). ``eps`` only guards an all-zero feature vector (e.g. every ReLU off).

    In a critic head this bounds the Q-value itself: ``|Q| <= ||w|| + |b|``, and Adam grows the
    output row's norm by at most ~``lr * sqrt(width)`` per update, so Q-values can only rise that
    fast (state DDPG on cartpole_swingup, lr 1e-3, width 64: ``q_mean`` ~43 after 48k frames
    against ~256 without it; results/ddpg_saturation).
    """

    def __init__(self, eps: float = 1e-6):
        super().__init__()
        self.eps = float(eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x / x.norm(dim=-1, keepdim=True).clamp_min(self.eps)

    def extra_repr(self) -> str:
        return f"eps={self.eps:g}"


class MLPHead(nn.Sequential):
    """``depth`` hidden Linear+ReLU layers, then a Linear output (DrQ's ``mlp(hidden_depth=depth)``).

    Layers are named ``fc1 .. fc{depth}`` and ``out``; with ``spectral_norm=True`` every Linear but
    ``fc1`` and ``out`` is normalized. ``penultimate_norm=True`` inserts a :class:`PenultimateNorm`
    named ``pnorm`` before ``out`` (no parameters: the state_dict keys stay the same).
    """

    def __init__(self, in_dim: int, out_dim: int, hidden_dim: int, depth: int, spectral_norm: bool = False,
                 penultimate_norm: bool = False, spectral_norm_fn=None):
        layers: list[tuple[str, nn.Module]] = []
        for i in range(depth):
            layers.append((f"fc{i + 1}", _linear(in_dim if i == 0 else hidden_dim, hidden_dim, spectral_norm and i > 0,
                                                 spectral_norm_fn)))
            layers.append((f"relu{i + 1}", nn.ReLU()))
        if penultimate_norm:
            layers.append(("pnorm", PenultimateNorm()))
        layers.append(("out", _linear(hidden_dim, out_dim, False)))
        super().__init__(OrderedDict(layers))


class ResidualBlock(nn.Module):
    """Pre-LN Transformer feed-forward block (Sec. 3.2): ``x + w2(ReLU(w1(LayerNorm(x))))``."""

    #: ``x + branch(x)``: :func:`course_lib.spectral.lipschitz_upper_bound` bounds it by ``1 + Lip(branch)``.
    residual = True

    def __init__(self, dim: int, inner_dim: int, spectral_norm: bool = False, spectral_norm_fn=None):
        super().__init__()
        self.branch = nn.Sequential(OrderedDict([
            ("norm", nn.LayerNorm(dim)),
            ("w1", _linear(dim, inner_dim, spectral_norm, spectral_norm_fn)),
            ("relu", nn.ReLU()),
            ("w2", _linear(inner_dim, dim, spectral_norm, spectral_norm_fn)),
        ]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.branch(x)


class ModernHead(nn.Module):
    """``Linear(in->h)``, ``depth`` :class:`ResidualBlock` s of inner width ``2h``, ``Linear(h->out)``.

    With ``spectral_norm=True`` every ``w1``/``w2`` is normalized; the input and output layers are not.
    ``penultimate_norm=True`` adds ``self.pnorm`` (:class:`PenultimateNorm`) between the residual
    stream and ``output``: the stream's entries are ~1 each after LayerNorm-ed branches are added,
    so its norm grows like ``sqrt(hidden_dim)`` and with each block; normalized, it has norm 1.
    """

    def __init__(self, in_dim: int, out_dim: int, hidden_dim: int, depth: int, spectral_norm: bool = False,
                 penultimate_norm: bool = False, spectral_norm_fn=None):
        super().__init__()
        self.input = _linear(in_dim, hidden_dim, False)
        self.blocks = nn.Sequential(*[ResidualBlock(hidden_dim, 2 * hidden_dim, spectral_norm, spectral_norm_fn)
                                      for _ in range(depth)])
        if penultimate_norm:  # only when asked: the default module tree stays as it was
            self.pnorm = PenultimateNorm()
        self.output = _linear(hidden_dim, out_dim, False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.blocks(self.input(x))
        if hasattr(self, "pnorm"):
            x = self.pnorm(x)
        return self.output(x)

    def lipschitz_parts(self):
        """The head as a composition, for :func:`course_lib.spectral.lipschitz_upper_bound`.

        A head with penultimate normalization has no global Lipschitz bound (``x / ||x||`` is
        unbounded near 0), so the ``pnorm`` part makes the bound refuse with a clear error.
        """
        middle = [self.pnorm] if hasattr(self, "pnorm") else []
        return [self.input, self.blocks, *middle, self.output]


def _check_positive_int(name: str, value, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")


def make_head(arch: str, in_dim: int, out_dim: int, hidden_dim: int = 1024, depth: int = 2,
              spectral_norm: bool = False, penultimate_norm: bool = False, spectral_norm_fn=None) -> nn.Module:
    """Build an actor or critic head: ``(batch, in_dim) -> (batch, out_dim)``.

    Args:
        arch: ``"mlp"`` or ``"modern"``.
        depth: hidden layers (mlp) or residual blocks (modern); >= 1. Paper: mlp 2 (base) / 4,
            modern 4 blocks for the critic and 2 for the actor.
        spectral_norm: normalize every Linear except the first and the last (Sec. 5.1).
        penultimate_norm: L2-normalize the features entering the last Linear (:class:`PenultimateNorm`;
            the follow-up paper's fix for saturating actors). Off by default.
        spectral_norm_fn: optional ``spectral_norm_fn(linear) -> module`` that normalizes the layers
            ``spectral_norm`` selects instead of :func:`course_lib.spectral.spectral_norm` (notebook
            04's capstone): it gets each of them as a plain, orthogonally initialised ``nn.Linear``.
    """
    if arch not in ARCHS:
        raise ValueError(f"unknown head architecture {arch!r}; allowed: {', '.join(ARCHS)}")
    _check_positive_int("depth", depth)
    _check_positive_int("in_dim", in_dim)
    _check_positive_int("out_dim", out_dim)
    _check_positive_int("hidden_dim", hidden_dim)
    if spectral_norm_fn is not None:
        if not spectral_norm:
            raise ValueError("spectral_norm_fn replaces the spectral normalization of the head's layers: "
                             "pass spectral_norm=True with it")
        if not callable(spectral_norm_fn):
            raise ValueError(f"spectral_norm_fn must be a function linear -> module, got "
                             f"{type(spectral_norm_fn).__name__}")
    cls = MLPHead if arch == "mlp" else ModernHead
    if spectral_norm_fn is not None:
        return cls(in_dim, out_dim, hidden_dim, depth, True, penultimate_norm=bool(penultimate_norm),
                   spectral_norm_fn=spectral_norm_fn)
    if penultimate_norm:
        return cls(in_dim, out_dim, hidden_dim, depth, bool(spectral_norm), penultimate_norm=True)
    return cls(in_dim, out_dim, hidden_dim, depth, bool(spectral_norm))


#: How :class:`ConvEncoder` scales uint8 pixels before the first conv, per reference agent.
PIXEL_SCALINGS = ("centered", "unit")


class ConvEncoder(nn.Module):
    """DrQ / DrQ-v2 image encoder: 4 conv layers, 32 filters, 3x3, strides 2,1,1,1, ReLU.

    Input: uint8 (or float in [0, 255]) frames ``(batch, 3*stack, H, W)``, e.g. 84x84.
    Output: flat features of size :attr:`out_dim` (32*35*35 = 39200 for 84x84 input, 32*25*25 =
    20000 for 64x64).

    ``scaling`` follows each agent's reference code: ``"centered"`` is ``x/255 - 0.5`` (DrQ-v2's
    ``Encoder.forward``, the DDPG agent), ``"unit"`` is ``x/255`` (DrQ's ``Encoder.forward_conv``,
    ``obs = obs / 255.``, the SAC agent). The default is ``"centered"``.
    """

    def __init__(self, obs_shape: tuple[int, int, int], num_filters: int = 32, scaling: str = "centered"):
        super().__init__()
        if scaling not in PIXEL_SCALINGS:
            raise ValueError(f"unknown pixel scaling {scaling!r}; allowed: {', '.join(PIXEL_SCALINGS)}")
        self.scaling = scaling
        if len(obs_shape) != 3:
            raise ValueError(f"ConvEncoder expects (channels, height, width), got {tuple(obs_shape)}")
        c, h, w = obs_shape
        if h < 11 or w < 11:
            raise ValueError(f"images must be at least 11x11 for four 3x3 convs with stride 2,1,1,1; got {h}x{w}")
        self.convs = nn.Sequential(
            nn.Conv2d(c, num_filters, 3, stride=2), nn.ReLU(),
            nn.Conv2d(num_filters, num_filters, 3, stride=1), nn.ReLU(),
            nn.Conv2d(num_filters, num_filters, 3, stride=1), nn.ReLU(),
            nn.Conv2d(num_filters, num_filters, 3, stride=1), nn.ReLU(),
        )
        self.apply(orthogonal_init)
        side_h = (h - 3) // 2 + 1 - 6
        side_w = (w - 3) // 2 + 1 - 6
        self.out_dim = num_filters * side_h * side_w

    #: On a CPU, images are encoded in chunks of at most this many: measured on a 2-core Xeon
    #: (AVX-512, one thread), a batch of 256 costs 1.3-1.5x more per image than two batches of 128
    #: (the activations no longer fit the cache). On CUDA the whole batch goes at once.
    CPU_CHUNK = 128

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        x = obs.float() / 255.0
        if self.scaling == "centered":
            x = x - 0.5
        if x.device.type != "cpu":
            return self.convs(x).flatten(1)
        # CPU layout: channels-last (NHWC) lets oneDNN's convolutions and their backward run 1.4-2x
        # faster than on NCHW tensors (same arithmetic; the flattened features keep NCHW order).
        chunks = [self.convs(chunk.contiguous(memory_format=torch.channels_last)).flatten(1)
                  for chunk in x.split(self.CPU_CHUNK)]
        return chunks[0] if len(chunks) == 1 else torch.cat(chunks)


class Trunk(nn.Sequential):
    """Linear -> LayerNorm -> tanh to a ``feature_dim`` vector (DrQ: end of the encoder; DrQ-v2: per head)."""

    def __init__(self, in_dim: int, feature_dim: int = 50):
        _check_positive_int("feature_dim", feature_dim)
        super().__init__(OrderedDict([
            ("linear", _linear(in_dim, feature_dim, False)),
            ("norm", nn.LayerNorm(feature_dim)),
            ("tanh", nn.Tanh()),
        ]))


def count_parameters(module: nn.Module) -> int:
    """Number of trainable parameters (SN's u/v vectors are buffers and do not count)."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)
