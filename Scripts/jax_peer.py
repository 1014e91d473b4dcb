#!/usr/bin/env python3
"""Side-by-side timing of Plasticity against JAX peers, in one run on one machine.

Optional: needs `pip install jax numpy`. Runs, for the same configurations (single layer, I
inputs, C classes, batch B, T steps, no W_rec unless --recurrent), JAX BPTT (autodiff through
lax.scan with a surrogate spike) and a JAX element-wise e-prop with per-synapse traces (without
W_rec only), then `plasticity bench scaling` on the same sizes, and prints per-step times and
ratios. --threads runs ours on that many threads (and shards); JAX uses every core regardless.

    python3 Scripts/jax_peer.py --model LIF --sizes 32,128,256,1024
    python3 Scripts/jax_peer.py --model ALIF --sizes 32,128,256,512
    python3 Scripts/jax_peer.py --tool .build-native/release/plasticity    # an opt-in PLASTICITY_CPU build
    python3 Scripts/jax_peer.py --recurrent --sizes 128,256 --threads 2    # BPTT with W_rec, both cores
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

try:
    import jax
    import jax.numpy as jnp
except ImportError:
    sys.exit("this comparison needs JAX: pip install jax")

jax.config.update("jax_platform_name", "cpu")


@jax.custom_jvp
def spike(x):
    return (x > 0).astype(x.dtype)


@spike.defjvp
def spike_jvp(primals, tangents):
    (x,), (dx,) = primals, tangents
    psi = 0.3 * jnp.maximum(0.0, 1.0 - jnp.abs(x))  # Bellec's triangle, as Plasticity's default
    return spike(x), psi * dx


def make_inputs(args, hidden):
    rng = np.random.default_rng(2)
    x = (rng.random((args.steps, args.batch, args.inputs)) < 0.05).astype(np.float32)
    labels = rng.integers(0, args.outputs, size=(args.steps, args.batch))
    w_in = rng.normal(size=(hidden, args.inputs)).astype(np.float32) * 4 / np.sqrt(args.inputs)
    w_out = rng.normal(size=(args.outputs, hidden)).astype(np.float32) / np.sqrt(hidden)
    # W_rec as Plasticity draws it: gain 1 over sqrt(N), no self-connections.
    w_rec = rng.normal(size=(hidden, hidden)).astype(np.float32) / np.sqrt(hidden) * (1 - np.eye(hidden, dtype=np.float32))
    return jnp.asarray(x), jnp.asarray(labels), jnp.asarray(w_in), jnp.asarray(w_out), jnp.asarray(w_rec)


def bptt_gradient(model, recurrent=False):
    alpha, rho, beta = np.exp(-1 / 20), np.exp(-1 / 200), 1.8

    def loss(w_in, w_out, w_rec, x, labels):
        batch, hidden = x.shape[1], w_in.shape[0]

        def step(carry, inputs):
            v, a, z = carry
            x_t, label_t = inputs
            current = x_t @ w_in.T + (z @ w_rec.T if recurrent else 0)
            v = alpha * v + current - jax.lax.stop_gradient(z)
            if model == "ALIF":
                a = rho * a + z
                z = spike(v - 1 - beta * a)
            else:
                z = spike(v - 1)
            y = z @ w_out.T
            return (v, a, z), -jnp.sum(jax.nn.log_softmax(y)[jnp.arange(batch), label_t]) / batch

        zeros = jnp.zeros((batch, hidden))
        _, losses = jax.lax.scan(step, (zeros, zeros, zeros), (x, labels))
        return jnp.sum(losses)

    return jax.jit(jax.grad(loss, argnums=(0, 1, 2) if recurrent else (0, 1)))


def eprop_gradient(model):
    """Element-wise e-prop with per-synapse traces (B, N, I), as in the paper's JAX baseline:
    eps_v = alpha eps_v + x; for ALIF eps_a = psi' eps_v' + (rho - beta psi') eps_a';
    e = psi (eps_v - beta eps_a); gradient += L e with L = W_out^T delta."""
    alpha, rho, beta = np.exp(-1 / 20), np.exp(-1 / 200), 1.8
    adaptive = model == "ALIF"

    def run(w_in, w_out, w_rec, x, labels):
        batch, hidden, inputs = x.shape[1], w_in.shape[0], x.shape[2]

        def step(carry, data):
            v, a, z, psi_previous, eps_v, eps_a, grad = carry
            x_t, label_t = data
            if adaptive:
                eps_a = psi_previous[:, :, None] * eps_v + (rho - beta * psi_previous)[:, :, None] * eps_a
                a = rho * a + z
            eps_v = alpha * eps_v + x_t[:, None, :]
            v = alpha * v + x_t @ w_in.T - z
            argument = v - 1 - beta * a if adaptive else v - 1
            z = spike(argument)
            psi = 0.3 * jnp.maximum(0.0, 1.0 - jnp.abs(argument))
            e = psi[:, :, None] * (eps_v - beta * eps_a if adaptive else eps_v)
            y = z @ w_out.T
            delta = (jax.nn.softmax(y) - jax.nn.one_hot(label_t, y.shape[1])) / batch
            grad = grad + jnp.einsum("bj,bji->ji", delta @ w_out, e)
            return (v, a, z, psi, eps_v, eps_a, grad), None

        zeros = jnp.zeros((batch, hidden))
        traces = jnp.zeros((batch, hidden, inputs))
        init = (zeros, zeros, zeros, zeros, traces, traces if adaptive else jnp.zeros(()), jnp.zeros((hidden, inputs)))
        return jax.lax.scan(step, init, (x, labels))[0][6]

    return jax.jit(run)


def time_per_step(function, args, hidden, repetitions):
    x, labels, w_in, w_out, w_rec = make_inputs(args, hidden)
    jax.block_until_ready(function(w_in, w_out, w_rec, x, labels))  # compile
    times = []
    for _ in range(repetitions):
        start = time.perf_counter()
        jax.block_until_ready(function(w_in, w_out, w_rec, x, labels))
        times.append((time.perf_counter() - start) / args.steps)
    return float(np.median(times))


def plasticity_times(args):
    tool = args.tool or os.path.join(os.path.dirname(__file__), "..", ".build", "release", "plasticity")
    command = [tool, "bench", "scaling", "--model", args.model, "--sizes", args.sizes, "--steps", str(args.steps),
               "--batch", str(args.batch), "--inputs", str(args.inputs), "--outputs", str(args.outputs),
               "--rules", "eprop,bptt", "--repetitions", str(args.repetitions), "--recurrent" if args.recurrent else "--no-recurrent",
               "--threads", str(args.threads), "--shards", str(args.threads), "--json"]
    report = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
    return {(p["rule"], p["hidden"]): p.get("medianSecondsPerStep") for p in report["points"]}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="LIF", choices=["LIF", "ALIF"])
    parser.add_argument("--sizes", default="32,128,256,1024")
    parser.add_argument("--tool", help="the plasticity executable (default: .build/release/plasticity), "
                        "e.g. an opt-in CPU-specific build's")
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--inputs", type=int, default=140)
    parser.add_argument("--outputs", type=int, default=20)
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--recurrent", action="store_true", help="with W_rec (BPTT only on the JAX side)")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads (and as many shards of the batch) for Plasticity; JAX uses every core regardless")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    ours = plasticity_times(args)
    print(f"{args.model}{' with W_rec' if args.recurrent else ''}, I={args.inputs}, C={args.outputs}, B={args.batch}, T={args.steps}, "
          f"ours on {args.threads} thread(s); median time per step")
    print(f"{'N':>6} {'JAX BPTT':>12} {'JAX e-prop':>12} {'Plasticity BPTT':>16} {'Plasticity e-prop':>18} "
          f"{'e-prop vs JAX e-prop':>21} {'e-prop vs JAX BPTT':>19} {'BPTT vs JAX BPTT':>17}")
    for hidden in sizes:
        jax_bptt = time_per_step(bptt_gradient(args.model, args.recurrent), args, hidden, args.repetitions)
        # The element-wise e-prop baseline has no W_rec: with it, only BPTT is compared.
        jax_eprop = float("nan") if args.recurrent else time_per_step(eprop_gradient(args.model), args, hidden, args.repetitions)
        our_bptt, our_eprop = ours.get(("bptt", hidden)), ours.get(("eprop", hidden))
        print(f"{hidden:>6} {jax_bptt * 1e3:>10.3f}ms {jax_eprop * 1e3:>10.3f}ms {our_bptt * 1e3:>14.3f}ms {our_eprop * 1e3:>16.3f}ms "
              f"{jax_eprop / our_eprop:>20.1f}x {jax_bptt / our_eprop:>18.1f}x {jax_bptt / our_bptt:>16.1f}x")


if __name__ == "__main__":
    main()
