"""Device choice and seeding."""
import numpy as np
import pytest
import torch

from course_lib import runtime


def test_auto_and_cpu_devices():
    assert runtime.pick_device("cpu") == torch.device("cpu")
    assert runtime.pick_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-GPU error message")
def test_cuda_without_gpu_is_a_clear_error():
    with pytest.raises(ValueError, match="no GPU.*--device cpu"):
        runtime.pick_device("cuda")


def test_unknown_device_lists_choices():
    with pytest.raises(ValueError, match="allowed: auto, cpu, cuda"):
        runtime.pick_device("tpu")


def test_set_seed_makes_draws_repeatable():
    runtime.set_seed(3)
    a = (np.random.rand(), torch.rand(1).item())
    runtime.set_seed(3)
    assert a == (np.random.rand(), torch.rand(1).item())
    with pytest.raises(ValueError):
        runtime.set_seed(-1)


def test_describe_hardware_is_one_line():
    line = runtime.describe_hardware()
    assert "\n" not in line and ("GPU" in line)
