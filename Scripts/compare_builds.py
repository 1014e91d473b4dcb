#!/usr/bin/env python3
"""Time two builds of plasticity side by side: `bench scaling` of each, alternated, so both
see the same machine load. Prints, per rule and N, the median time per step of each build
and the ratio new/old, and the same for the fastest run of each (which interference from
other processes, only ever adding time, disturbs least).

    python3 Scripts/compare_builds.py OLD/plasticity NEW/plasticity --rounds 5 -- \
        --model LIF --rules eprop,bptt --sizes 64,256,1024 --steps 200 [--no-recurrent]

Arguments after `--` go to `plasticity bench scaling` of both builds (with --json added).
Only the standard library is needed.
"""
import argparse
import json
import statistics
import subprocess
import sys


def run(binary, arguments):
    output = subprocess.run([binary, "bench", "scaling", "--json", "--repetitions", "1"] + arguments,
                            check=True, capture_output=True, text=True).stdout
    report = json.loads(output)
    return {(p["rule"], p["hidden"]): p["medianSecondsPerStep"] for p in report["points"] if p["medianSecondsPerStep"] is not None}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--rounds", type=int, default=5, help="alternations of the two builds (each one repetition)")
    own, arguments = (sys.argv[1:sys.argv.index("--")], sys.argv[sys.argv.index("--") + 1:]) if "--" in sys.argv else (sys.argv[1:], [])
    options = parser.parse_args(own)
    times = {"old": {}, "new": {}}
    for round_index in range(options.rounds):
        # Alternate which build goes first, so neither always runs on a warmer machine.
        order = ["old", "new"] if round_index % 2 == 0 else ["new", "old"]
        for build in order:
            for key, seconds in run(getattr(options, build), arguments).items():
                times[build].setdefault(key, []).append(seconds)
    print(f"{'rule':<12}{'N':>6}{'old median':>14}{'new median':>14}{'new/old':>10}{'old min':>14}{'new min':>14}{'new/old':>10}")
    for key in sorted(times["old"], key=lambda k: (k[0], k[1])):
        if key not in times["new"]:
            continue
        old, new = statistics.median(times["old"][key]), statistics.median(times["new"][key])
        fastest_old, fastest_new = min(times["old"][key]), min(times["new"][key])
        print(f"{key[0]:<12}{key[1]:>6}{old * 1e6:>12.1f}µs{new * 1e6:>12.1f}µs{new / old:>10.3f}"
              f"{fastest_old * 1e6:>12.1f}µs{fastest_new * 1e6:>12.1f}µs{fastest_new / fastest_old:>10.3f}")


if __name__ == "__main__":
    sys.exit(main())
