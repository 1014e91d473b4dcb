#!/usr/bin/env python3
"""The speed-up of `plasticity train` per epoch from more threads, measured on a machine whose
speed drifts: runs of one epoch with each thread count are alternated (the order reversed every
round, so neither always runs on a warmer machine), and each round's ratio is taken between
neighbouring runs. Prints every run's epoch time and the median and range of the ratios.

    python3 Scripts/train_threads.py --rounds 5 --threads 1,2 -- \\
        --model ALIF --hidden 256 --task shd --data DIR --pool 5 --rule bptt --shards 4

Arguments after `--` go to `plasticity train` (with --epochs 1, a checkpoint in a temporary
directory and the thread count added). With `--one-core`, runs with the first thread count are
held to one core, each core in turn (Linux affinity): `--threads 1` alone makes the next batch on a free core, so
this is the speed-up against training on one core, as before data parallelism. With `--pair`
(and `--one-core`), each round also runs two one-thread trainings at once, each held to a core of
its own: they share nothing but the machine, so 2 × (one core's epoch) / (the pair's slower
epoch) is the most that any way of using the second core could gain in that round — on a virtual
machine whose second core is not always a core's worth, the ceiling to read the speed-up against.
Every run must print the same losses and accuracies (the result does not depend on the thread
count); the script stops if they differ. Only the standard library is needed.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile

EPOCH = re.compile(r"^epoch 1: (?P<result>.*), (?P<seconds>[0-9.]+) s$", re.MULTILINE)


def start(binary, threads, arguments, directory, core=None, name=None):
    """A `train` run of one epoch, held to `core` if given."""
    command = [binary, "train", "--epochs", "1", "--threads", str(threads), "--overwrite",
               "--checkpoint", os.path.join(directory, f"checkpoint-{name or threads}.json")] + arguments
    pin = (lambda: os.sched_setaffinity(0, {core})) if core is not None else None
    return command, subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=pin)


def finish(command, process):
    """The run's epoch time and printed result."""
    output, errors = process.communicate()
    if process.returncode != 0:
        sys.exit(f"{' '.join(command)} failed with status {process.returncode}:\n{errors[-2000:]}")
    match = EPOCH.search(output)
    if match is None:
        sys.exit(f"no epoch line in the output of {' '.join(command)}:\n{output}")
    return float(match["seconds"]), match["result"]


def agree(results, new):
    """Adds `new` (printed results) to `results`; stops if runs disagree."""
    results |= new
    if len(results) > 1:
        sys.exit(f"runs disagree: {sorted(results)}")


def run(binary, threads, arguments, directory, core=None):
    return finish(*start(binary, threads, arguments, directory, core=core))


def run_pair(binary, arguments, directory, cores):
    """Two one-thread runs at once, one per core: the slower one's epoch time."""
    runs = [start(binary, 1, arguments, directory, core=core, name=f"pair-{core}") for core in cores]
    finished = [finish(*run) for run in runs]
    return max(time for time, _ in finished), {result for _, result in finished}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tool", default=".build/release/plasticity")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts; ratios are against the first")
    parser.add_argument("--one-core", action="store_true", help="hold the runs with the first thread count to one core")
    parser.add_argument("--pair", action="store_true", help="with --one-core: also two one-core runs at once each round, the machine's ceiling")
    own, arguments = (sys.argv[1:sys.argv.index("--")], sys.argv[sys.argv.index("--") + 1:]) if "--" in sys.argv else (sys.argv[1:], [])
    options = parser.parse_args(own)
    counts = [int(value) for value in options.threads.split(",")]
    if len(counts) < 2 or min(counts) < 1:
        sys.exit("--threads needs at least two positive counts")
    cores = sorted(os.sched_getaffinity(0))
    if options.pair and (not options.one_core or len(cores) < 2):
        sys.exit("--pair needs --one-core and two cores")
    seconds = {count: [] for count in counts}
    pairs = []
    results = set()
    with tempfile.TemporaryDirectory() as directory:
        for round_index in range(options.rounds):
            order = counts if round_index % 2 == 0 else list(reversed(counts))
            for count in order:
                # The pinned run takes each core in turn: on a virtual machine one core can be
                # slower (it takes the interrupts), which would flatter the speed-up.
                core = cores[round_index % len(cores)] if options.one_core and count == counts[0] else None
                time, result = run(options.tool, count, arguments, directory, core=core)
                seconds[count].append(time)
                agree(results, {result})
                print(f"round {round_index + 1}, {count} thread(s){'' if core is None else f' on core {core}'}: {time:.1f} s", flush=True)
            if options.pair:
                time, pair_results = run_pair(options.tool, arguments, directory, cores[:2])
                pairs.append(time)
                agree(results, pair_results)
                print(f"round {round_index + 1}, two one-core runs at once: {time:.1f} s (the slower)", flush=True)
    print(f"every run: {results.pop()}")
    if min(min(times) for times in seconds.values()) <= 0 or (pairs and min(pairs) <= 0):
        sys.exit("an epoch printed 0.0 s: too short to time; train on more data")
    base = counts[0]
    for count in counts[1:]:
        ratios = [one / other for one, other in zip(seconds[base], seconds[count])]
        print(f"{count} threads against {base}: median {statistics.median(ratios):.2f}×, range {min(ratios):.2f}–{max(ratios):.2f}× over {len(ratios)} rounds; "
              f"epochs {statistics.median(seconds[base]):.1f} s and {statistics.median(seconds[count]):.1f} s (medians)")
        if pairs:
            ceilings = [2 * one / pair for one, pair in zip(seconds[base], pairs)]
            shares = [ratio / ceiling for ratio, ceiling in zip(ratios, ceilings)]
            print(f"  the machine's ceiling (two one-core runs at once): median {statistics.median(ceilings):.2f}×, "
                  f"range {min(ceilings):.2f}–{max(ceilings):.2f}×; {count} threads reach a median {statistics.median(shares):.0%} of it "
                  f"(range {min(shares):.0%}–{max(shares):.0%})")


if __name__ == "__main__":
    main()
