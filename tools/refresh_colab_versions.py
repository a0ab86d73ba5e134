"""Refresh tests/colab_versions.txt: the Python and package versions of Colab's default runtime.

Google publishes what Colab's runtime holds in the public repository googlecolab/backend-info
(``os-info.txt``: the Python version; ``pip-freeze.txt``: ``pip freeze`` of the CPU runtime). The
Colab tests (``tests/test_colab.py``) build their stand-in Colab from the file this script writes.

    git clone --depth 1 https://github.com/googlecolab/backend-info /tmp/backend-info
    python tools/refresh_colab_versions.py /tmp/backend-info

Lines that pin a wheel by URL (``torch @ https://.../torch-2.11.0%2Bcpu-...whl``) become
``torch==2.11.0+cpu``; other URL and git lines (Colab's own packages) are left out. Run the Colab
tests afterwards (``make test-platforms``), and update ``course_lib.versions.SUPPORTED`` where the
new versions leave a supported range.
"""
from __future__ import annotations

import argparse
import datetime
import re
import subprocess
from pathlib import Path
from urllib.parse import unquote

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "colab_versions.txt"
WHEEL = re.compile(r"^([A-Za-z0-9_.-]+) @ \S*/([A-Za-z0-9_.]+)-([^-/]+)-[^/]*\.whl$")


def pinned_lines(freeze: str) -> tuple[list[str], list[str]]:
    """``name==version`` lines from a ``pip freeze`` text, and the names of the lines left out."""
    kept, dropped = [], []
    for line in freeze.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if "==" in line:
            kept.append(line)
        elif match := WHEEL.match(line):
            kept.append(f"{match.group(1)}=={unquote(match.group(3))}")
        else:
            dropped.append(line.split()[0])
    return kept, dropped


def python_version(os_info: str) -> str:
    match = re.search(r"^Python (\d+\.\d+\.\d+)", os_info, re.MULTILINE)
    if not match:
        raise SystemExit("os-info.txt names no 'Python X.Y.Z' line; is this a backend-info checkout?")
    return match.group(1)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("backend_info", type=Path, help="a checkout of googlecolab/backend-info")
    args = parser.parse_args(argv)
    freeze_file, os_file = args.backend_info / "pip-freeze.txt", args.backend_info / "os-info.txt"
    if not freeze_file.is_file() or not os_file.is_file():
        raise SystemExit(f"{args.backend_info} has no pip-freeze.txt and os-info.txt; pass a backend-info checkout")
    commit = subprocess.run(["git", "log", "-1", "--format=%h %ad %s", "--date=short"], cwd=args.backend_info,
                            capture_output=True, text=True).stdout.strip() or "unknown commit"
    kept, dropped = pinned_lines(freeze_file.read_text())
    header = [
        "# Colab's default (CPU) runtime: its Python and `pip freeze`, as Google publishes them.",
        "# Source: the public repository googlecolab/backend-info, os-info.txt and pip-freeze.txt,",
        f"#   at commit {commit}.",
        f"# Checked: {datetime.date.today().isoformat()}.",
        "# Refresh: python tools/refresh_colab_versions.py <a checkout of googlecolab/backend-info>",
        "#   (its docstring says how), then run `make test-platforms`.",
        f"# Left out (installed from URLs or git, not from an index): {', '.join(dropped) or 'none'}.",
        f"python=={python_version(os_file.read_text())}",
    ]
    OUT.write_text("\n".join(header + kept) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)}: Python {header[-1][8:]}, {len(kept)} packages")


if __name__ == "__main__":
    main()
