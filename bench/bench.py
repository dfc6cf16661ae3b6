"""bibun benchmarks: per-op overhead, an MLP training step, and import time, side by side.

Compares bibun with the same computation written by hand in numpy (the floor for a numpy
backend) and with PyTorch CPU when it is installed. Prints one table; run

    python bench/bench.py            # full run
    python bench/bench.py --quick    # fewer repetitions

Times are the median of several repeats (each repeat runs the whole workload).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

import numpy as np

import bibun

try:  # optional comparison
    import torch
except ImportError:  # pragma: no cover - depends on the machine
    torch = None

CHAIN = 1000
MLP = (784, 512, 512, 10)
BATCH = 128


def median_time(fn, repeats, warmup=2):
    return compare({"fn": fn}, repeats, warmup)["fn"]


def compare(fns, repeats, warmup=2, block=5):
    """Median seconds per call of each function. Each contender runs ``block`` calls in a row
    (steady state, as in a training loop), contenders take turns block by block, and the median
    is over blocks, so drift in machine speed affects every contender alike."""
    fns = {k: v for k, v in fns.items() if v is not None}
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    samples = {k: [] for k in fns}
    for _ in range(max(1, repeats // block)):
        for k, fn in fns.items():
            t0 = time.perf_counter()
            for _ in range(block):
                fn()
            samples[k].append((time.perf_counter() - t0) / block)
    return {k: statistics.median(v) for k, v in samples.items()}


# ---------------------------------------------------------------------- chain of elementwise ops
def make_chain(lib):
    """The same code for bibun and PyTorch: ``lib`` is the module (they share the API)."""
    def chain():
        x = lib.ones(16, requires_grad=True)
        y = x
        for _ in range(CHAIN):
            y = y * 1.0001
        y.sum().backward()
    return chain


def chain_numpy():
    x = np.ones(16, dtype=np.float32)
    y = x
    for _ in range(CHAIN):
        y = y * np.float32(1.0001)
    g = np.ones(16, dtype=np.float32)
    for _ in range(CHAIN):
        g = g * np.float32(1.0001)


# ---------------------------------------------------------------------- MLP training step
def _init(rng):
    params = []
    for fan_in, fan_out in zip(MLP[:-1], MLP[1:]):
        bound = 1 / np.sqrt(fan_in)
        params.append(rng.uniform(-bound, bound, (fan_in, fan_out)).astype(np.float32))
        params.append(rng.uniform(-bound, bound, (fan_out,)).astype(np.float32))
    x = rng.standard_normal((BATCH, MLP[0])).astype(np.float32)
    y = rng.integers(0, MLP[-1], BATCH)
    return params, x, y


def make_mlp(lib, params, x, y):
    """One SGD step of the MLP, written with tensor ops of ``lib`` (bibun or torch)."""
    ps = [lib.tensor(p, requires_grad=True) for p in params]
    xt, yt = lib.tensor(x), lib.tensor(y)
    rows = lib.arange(BATCH)

    def step():
        h = xt
        for i in range(0, len(ps), 2):
            h = h @ ps[i] + ps[i + 1]
            if i + 2 < len(ps):
                h = h.relu()
        loss = -h.log_softmax(1)[rows, yt].mean()
        for p in ps:
            p.grad = None
        loss.backward()
        with lib.no_grad():
            for p in ps:
                p -= 0.01 * p.grad
    return step


def make_mlp_numpy(params, x, y):
    """The same step by hand in numpy: the floor for a numpy backend."""
    ps = [p.copy() for p in params]
    rows = np.arange(BATCH)

    def step():
        acts = [x]
        pre = []
        h = x
        n = len(ps) // 2
        for i in range(n):
            z = h @ ps[2 * i] + ps[2 * i + 1]
            pre.append(z)
            h = np.maximum(z, 0) if i < n - 1 else z
            acts.append(h)
        m = h.max(1, keepdims=True)
        lse = np.log(np.exp(h - m).sum(1, keepdims=True)) + m
        logp = h - lse
        _loss = -logp[rows, y].mean()
        g = np.exp(logp)
        g[rows, y] -= 1
        g /= BATCH
        for i in reversed(range(n)):
            if i < n - 1:
                g = g * (pre[i] > 0)
            gw = acts[i].T @ g
            gb = g.sum(0)
            if i:  # the input needs no gradient
                g = g @ ps[2 * i].T
            ps[2 * i] -= np.float32(0.01) * gw
            ps[2 * i + 1] -= np.float32(0.01) * gb
    return step


# ---------------------------------------------------------------------- import time
def _fresh_process_time(code, repeats):
    """Median time reported by ``code`` in fresh interpreters, with bytecode caching allowed
    (as for an installed package; one warm-up run writes the caches)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    samples = []
    for i in range(repeats + 1):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
        if i:
            samples.append(float(out.stdout.strip()))
    return statistics.median(samples)


def import_time(module, repeats):
    return _fresh_process_time(f"import time; t = time.perf_counter(); import {module}; "
                               "print(time.perf_counter() - t)", repeats)


def first_op_time(repeats):
    return _fresh_process_time("import time; t = time.perf_counter(); import bibun; x = bibun.ones(3) * 2; "
                               "print(time.perf_counter() - t)", repeats)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args(argv)
    reps = 5 if args.quick else 15
    rows = []

    t = compare({"b": make_chain(bibun), "n": chain_numpy, "t": make_chain(torch) if torch else None}, reps,
                block=1)
    rows.append(("elementwise op, fwd+bwd, (16,) chain", "us/op", t["b"] / CHAIN * 1e6, t["n"] / CHAIN * 1e6,
                 t["t"] / CHAIN * 1e6 if torch else None))

    rng = np.random.default_rng(0)
    params, x, y = _init(rng)
    # bibun and numpy share numpy's BLAS: run them in turns. PyTorch's threads keep spinning after
    # its matmuls and would slow whatever runs next on 2 cores, so it is timed in a block of its own.
    t = compare({"b": make_mlp(bibun, params, x, y), "n": make_mlp_numpy(params, x, y)}, reps * 6)
    t_t = median_time(make_mlp(torch, params, x, y), reps * 3) if torch else None
    rows.append((f"MLP {'-'.join(map(str, MLP))} step, batch {BATCH}", "ms/step", t["b"] * 1e3, t["n"] * 1e3,
                 t_t * 1e3 if torch else None))

    ireps = 5 if args.quick else 11
    t_b = import_time("bibun", ireps) * 1e3
    t_n = import_time("numpy", ireps) * 1e3
    t_t = import_time("torch", 3) * 1e3 if torch else None
    rows.append(("import (fresh process)", "ms", t_b, t_n, t_t))
    rows.append(("import bibun + first op", "ms", first_op_time(ireps) * 1e3, None, None))

    print(f"bibun {bibun.__version__}, numpy {np.__version__}" + (f", torch {torch.__version__}" if torch else
                                                                   ", torch not installed"))
    head = f"{'benchmark':40} {'unit':8} {'bibun':>9} {'numpy':>9} {'torch':>9} {'bibun/numpy':>12} {'bibun/torch':>12}"
    print(head)
    print("-" * len(head))
    for name, unit, b, n, t in rows:
        def f(v):
            return f"{v:9.2f}" if v is not None else f"{'-':>9}"

        def r(a, c):
            return f"{a / c:11.2f}x" if a is not None and c else f"{'-':>12}"
        print(f"{name:40} {unit:8} {f(b)} {f(n)} {f(t)} {r(b, n)} {r(b, t)}")


if __name__ == "__main__":
    main()
