"""Where the course runs: device choice, seeding, Colab detection.

d2l's ``try_gpu()`` idea, made strict: ``pick_device("auto")`` falls back to the CPU, but asking for
``"cuda"`` on a machine without a GPU is an error that says so, never a silent CPU run.
"""
from __future__ import annotations

import random
import sys

import numpy as np
import torch

DEVICE_CHOICES = ("auto", "cpu", "cuda")


def in_colab() -> bool:
    """True inside Google Colab (its kernel imports ``google.colab``)."""
    return "google.colab" in sys.modules


def pick_device(requested: str = "auto") -> torch.device:
    """Resolve ``"auto" | "cpu" | "cuda" | "cuda:N"`` to a ``torch.device``.

    ``auto`` means CUDA when a GPU is visible, else the CPU. An explicit ``cuda`` request on a
    machine without a GPU raises ``ValueError`` rather than quietly training on the CPU.
    """
    requested = str(requested).strip().lower()
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if requested == "cpu":
        return torch.device("cpu")
    if requested == "cuda" or requested.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise ValueError(
                f"device {requested!r} was asked for, but PyTorch sees no GPU "
                f"(torch {torch.__version__}, CUDA build: {torch.version.cuda is not None}); "
                "use --device cpu or --device auto, or install a CUDA build of torch on a GPU machine"
            )
        return torch.device(requested)
    raise ValueError(f"unknown device {requested!r}; allowed: auto, cpu, cuda, cuda:N")


def describe_hardware() -> str:
    """One line for the top of every notebook: is there a GPU, and what will training use."""
    if torch.cuda.is_available():
        name = torch.cuda.get_device_name(0)
        mem_gb = torch.cuda.get_device_properties(0).total_memory / 2**30
        return f"GPU found: {name} ({mem_gb:.0f} GiB); training uses CUDA (full paper budgets are feasible)."
    return "No GPU found: training runs on the CPU (quick budgets; full paper runs need a GPU)."


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and PyTorch (CPU and CUDA) in one call."""
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    random.seed(int(seed))
    np.random.seed(int(seed) % 2**32)
    torch.manual_seed(int(seed))
