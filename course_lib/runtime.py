"""Where the course runs: device choice, CUDA's math settings and timing, seeding, Colab detection.

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
        if requested != "cuda":  # checked here: torch.device("cuda:7") is accepted, and fails at first use
            index = requested[len("cuda:"):]
            count = torch.cuda.device_count()
            if not index.isdigit() or int(index) >= count:
                raise ValueError(f"device {requested!r}: this machine has {count} visible GPU(s), "
                                 f"so cuda:0 to cuda:{count - 1} (CUDA_VISIBLE_DEVICES decides which)")
        return torch.device(requested)
    raise ValueError(f"unknown device {requested!r}; allowed: auto, cpu, cuda, cuda:N")


def apply_cuda_settings(device: torch.device) -> str:
    """On CUDA, turn on TF32 matmuls and cuDNN autotuning; return what is in force, in words.

    Training, ``course_lib.bench`` and ``course_lib.bench_update`` call this before building the
    agent. The flags are CUDA's own: ``torch.set_float32_matmul_precision("high")`` would also
    switch the CPU's oneDNN matmuls to TF32 (torch >= 2.9, on CPUs where oneDNN offers it), so a CPU
    run later in the same process (a notebook) might no longer round as before. On a CPU: nothing, "".
    """
    if torch.device(device).type != "cuda":
        return ""
    torch.backends.cuda.matmul.allow_tf32 = True  # float32 matmuls in TF32 on Ampere and later
    torch.backends.cudnn.benchmark = True  # cuDNN times its convolution algorithms per shape
    return cuda_settings()


def cuda_settings() -> str:
    """The CUDA math settings in force, e.g. ``"TF32 matmuls, TF32 convolutions, cuDNN autotuning"``."""
    matmul = _tf32_in_force(torch.backends.cuda.matmul, lambda: torch.backends.cuda.matmul.allow_tf32)
    conv = _tf32_in_force(getattr(torch.backends.cudnn, "conv", None), lambda: torch.backends.cudnn.allow_tf32)
    words = {True: "TF32", False: "float32", None: "unknown precision"}
    return (f"{words[matmul]} matmuls, {words[conv]} convolutions, "
            + ("cuDNN autotuning" if torch.backends.cudnn.benchmark else "no cuDNN autotuning"))


def _tf32_in_force(backend, legacy_flag) -> bool | None:
    """TF32 on or off for one kind of operation; None if the flags do not say.

    torch >= 2.9 keeps a ``fp32_precision`` per backend ("tf32", "ieee" or "none": inherited) and
    refuses to read the older ``allow_tf32`` flags once the two APIs were mixed.
    """
    precision = getattr(backend, "fp32_precision", None)
    if precision in ("tf32", "ieee"):
        return precision == "tf32"
    try:
        return bool(legacy_flag())
    except RuntimeError:
        return None


def describe_device(device: torch.device) -> str:
    """``"cpu"``, or on CUDA the GPU's name and the math settings: what a run's config.json records."""
    device = torch.device(device)
    if device.type != "cuda":
        return str(device)
    return f"{device} ({torch.cuda.get_device_name(device)}; {cuda_settings()})"


def cuda_event_ms(fn, device: torch.device) -> float:
    """Milliseconds of one call of ``fn`` on ``device``, timed with CUDA events.

    The events go on ``device``'s current stream, where its kernels run: ``Event.record()`` without
    a stream records on the *current device's* stream, which for ``cuda:1`` is another GPU's.
    """
    stream = torch.cuda.current_stream(device)
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record(stream)
    fn()
    end.record(stream)
    end.synchronize()
    return start.elapsed_time(end)


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
