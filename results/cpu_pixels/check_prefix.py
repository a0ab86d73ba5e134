"""Is a stored run reproducible? Compare a re-run with a smaller --frames against the stored run's prefix.

    OMP_NUM_THREADS=1 python -m course_lib.train --agent sac --obs pixels --profile cpu --task cartpole_balance \
        --seed 1 --frames 10000 --no-video --device cpu --out /tmp/prefix_sac
    python results/cpu_pixels/check_prefix.py /tmp/prefix_sac results/cpu_pixels/runs/sac-pixels/cartpole_balance/mlp2/seed_1

Prints, for eval.csv and train.csv, whether every row of the re-run equals the stored run's row at
the same frame (bit for bit), and the largest difference otherwise; exits 1 if anything differs.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd


def compare(rerun: Path, stored: Path, name: str) -> bool:
    new, old = pd.read_csv(rerun / name), pd.read_csv(stored / name)
    prefix = old[old["frame"] <= new["frame"].max()].reset_index(drop=True)
    if len(prefix) != len(new) or list(prefix.columns) != list(new.columns):
        print(f"{name}: {len(new)} rows in the re-run, {len(prefix)} in the stored prefix: differ")
        return False
    same = new.equals(prefix)
    numeric = new.select_dtypes("number").columns
    gap = float(np.nanmax(np.abs(new[numeric].to_numpy(float) - prefix[numeric].to_numpy(float)))) if len(new) else 0.0
    print(f"{name}: {len(new)} rows up to frame {int(new['frame'].max())}: "
          f"{'identical' if same else f'differ (largest difference {gap:.3g})'}")
    return same


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print(__doc__)
        return 2
    rerun, stored = map(Path, args)
    ok = [compare(rerun, stored, name) for name in ("eval.csv", "train.csv")]
    return 0 if all(ok) else 1


if __name__ == "__main__":
    sys.exit(main())
