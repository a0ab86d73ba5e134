"""How long does notebook 08's live Fig. 3 panel take for its default budget? (prints numbers)

    OMP_NUM_THREADS=1 python tools/bench_fig3_panel.py                   # modern8 + SN, the default budget
    OMP_NUM_THREADS=1 python tools/bench_fig3_panel.py --depth 1 --no-sn  # the overhead, with a tiny critic

Runs ``course_lib.fig3_panel.Fig3Panel`` headless (``panel.run(wait=True)``, the same code as the
Run button: training in a thread, live redraws) and splits the process CPU time into the agent's
updates, the redraws and the rest (environment steps, evaluations, logging). On a shared machine
CPU time is the steadier measure; on an idle one it is the wall time. The last line projects the
run's time for a given time per update (``--ms-per-update``).
"""
from __future__ import annotations

import argparse
import sys
import time

import matplotlib

matplotlib.use("Agg")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depth", type=int, default=8)
    parser.add_argument("--sn", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--frames", type=int, default=None, help="default: fig3_panel.FIG3_FRAMES")
    parser.add_argument("--ms-per-update", type=float, default=20.0, help="for the projection")
    args = parser.parse_args(argv)

    from course_lib import fig3_panel
    from course_lib.agents import sac

    spent = {"update": 0.0, "updates": 0, "draw": 0.0, "draws": 0}
    update, draw = sac.SACAgent.update, fig3_panel._fig3_png

    def timed_update(self, *a, **k):
        start = time.process_time()
        out = update(self, *a, **k)
        spent["update"] += time.process_time() - start
        spent["updates"] += 1
        return out

    def timed_draw(*a):
        start = time.process_time()
        out = draw(*a)
        spent["draw"] += time.process_time() - start
        spent["draws"] += 1
        return out

    sac.SACAgent.update, fig3_panel._fig3_png = timed_update, timed_draw
    panel = fig3_panel.Fig3Panel(depth=args.depth, sn=args.sn, seed=args.seed,
                                 frames=args.frames or fig3_panel.FIG3_FRAMES)
    wall, cpu = time.perf_counter(), time.process_time()
    panel.run(wait=True)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if panel.error is not None:
        print(f"error: {panel.error}", file=sys.stderr)
        return 1
    n = max(1, spent["updates"])
    rest = cpu - spent["update"] - spent["draw"]
    print(panel.status.value)
    print(f"wall {wall:.1f} s, process CPU {cpu:.1f} s: {spent['updates']} updates {spent['update']:.1f} s "
          f"({1000 * spent['update'] / n:.1f} ms each), {spent['draws']} redraws {spent['draw']:.1f} s, "
          f"rest {rest:.1f} s")
    print(f"projected CPU at {args.ms_per_update:g} ms per update: "
          f"{spent['updates'] * args.ms_per_update / 1000 + spent['draw'] + rest:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
