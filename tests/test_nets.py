"""Heads and encoder of Sec. 3 (mlp / modern, SN placement), and their input validation."""
import pytest
import torch
from torch import nn

from course_lib import nets, spectral


def _normalized_layers(head):
    return sorted(name for name, m in head.named_modules() if isinstance(m, nn.Linear) and spectral.has_spectral_norm(m))


def test_mlp_structure_and_sn_placement():
    head = nets.make_head("mlp", 10, 3, hidden_dim=32, depth=4, spectral_norm=True)
    linears = [n for n, m in head.named_modules() if isinstance(m, nn.Linear)]
    assert linears == ["fc1", "fc2", "fc3", "fc4", "out"]
    assert _normalized_layers(head) == ["fc2", "fc3", "fc4"]  # every Linear except first and last
    assert head(torch.randn(7, 10)).shape == (7, 3)
    assert _normalized_layers(nets.make_head("mlp", 10, 3, hidden_dim=32, depth=4)) == []


def test_modern_structure_and_sn_placement():
    head = nets.make_head("modern", 10, 1, hidden_dim=16, depth=3, spectral_norm=True)
    assert len(head.blocks) == 3
    assert head.blocks[0].branch.w1.out_features == 32  # inner width 2h
    assert _normalized_layers(head) == sorted(f"blocks.{i}.branch.{w}" for i in range(3) for w in ("w1", "w2"))
    assert not spectral.has_spectral_norm(head.input) and not spectral.has_spectral_norm(head.output)
    assert head(torch.randn(4, 10)).shape == (4, 1)


def test_modern_block_is_pre_ln_residual():
    block = nets.ResidualBlock(8, 16)
    x = torch.randn(5, 8)
    b = block.branch
    expected = x + b.w2(torch.relu(b.w1(b.norm(x))))
    assert torch.allclose(block(x), expected)


def test_parameter_counts():
    h, i, o = 1024, 50 + 6, 1
    mlp2 = nets.make_head("mlp", i, o, hidden_dim=h, depth=2)
    assert nets.count_parameters(mlp2) == (i * h + h) + (h * h + h) + (h * o + o)
    modern4 = nets.make_head("modern", i, o, hidden_dim=h, depth=4)
    block = 2 * h + (h * 2 * h + 2 * h) + (2 * h * h + h)
    assert nets.count_parameters(modern4) == (i * h + h) + 4 * block + (h * o + o)
    # SN adds no trainable parameters (u, v are buffers).
    assert nets.count_parameters(nets.make_head("modern", i, o, hidden_dim=h, depth=4, spectral_norm=True)) == nets.count_parameters(modern4)


@pytest.mark.parametrize("kwargs,match", [
    (dict(arch="resnet"), "allowed: mlp, modern"),
    (dict(depth=0), "depth must be an integer >= 1"),
    (dict(depth=2.5), "depth must be"),
    (dict(hidden_dim=0), "hidden_dim"),
])
def test_make_head_rejects_bad_arguments(kwargs, match):
    args = dict(arch="mlp", in_dim=4, out_dim=1, hidden_dim=8, depth=2)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        nets.make_head(**args)


def test_conv_encoder_shapes():
    enc = nets.ConvEncoder((9, 84, 84))
    assert enc.out_dim == 32 * 35 * 35
    obs = torch.randint(0, 256, (2, 9, 84, 84), dtype=torch.uint8)
    feats = enc(obs)
    assert feats.shape == (2, enc.out_dim)
    trunk = nets.Trunk(enc.out_dim, 50)
    z = trunk(feats)
    assert z.shape == (2, 50) and z.abs().max() <= 1
    with pytest.raises(ValueError, match="channels, height, width"):
        nets.ConvEncoder((84, 84))
