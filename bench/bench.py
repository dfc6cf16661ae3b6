"""bibun benchmarks: per-op overhead, an MLP and a small-CNN training step, and import time, side by side.

Compares bibun with the same computation written by hand in numpy (the floor for a numpy
backend) and with PyTorch CPU when it is installed. Prints one table; run

    python bench/bench.py                  # full run
    python bench/bench.py --quick          # fewer repetitions
    python bench/bench.py --device cuda    # on the GPU: bibun's cupy backend, hand-written cupy, PyTorch CUDA

Times are the median of several repeats (each repeat runs the whole workload). On a GPU every
block of calls ends with a synchronisation before the clock is read, so queued kernels count.
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
CNN_BATCH = 32  # 1x28x28 -> conv(8, 3x3) relu maxpool2 -> conv(16, 3x3) relu maxpool2 -> linear(784, 10)


def median_time(fn, repeats, warmup=2):
    return compare({"fn": fn}, repeats, warmup)["fn"]


def compare(fns, repeats, warmup=2, block=5, syncs=None):
    """Median seconds per call of each function. Each contender runs ``block`` calls in a row
    (steady state, as in a training loop), contenders take turns block by block, and the median
    is over blocks, so drift in machine speed affects every contender alike. ``syncs[k]``, when
    given, waits for contender k's device before the clock is read (GPU work is asynchronous)."""
    fns = {k: v for k, v in fns.items() if v is not None}
    syncs = {k: (syncs or {}).get(k) or _no_sync for k in fns}
    for k, fn in fns.items():
        for _ in range(warmup):
            fn()
        syncs[k]()
    samples = {k: [] for k in fns}
    for _ in range(max(1, repeats // block)):
        for k, fn in fns.items():
            sync = syncs[k]
            t0 = time.perf_counter()
            for _ in range(block):
                fn()
            sync()
            samples[k].append((time.perf_counter() - t0) / block)
    return {k: statistics.median(v) for k, v in samples.items()}


def _no_sync():
    pass


# ---------------------------------------------------------------------- chain of elementwise ops
def make_chain(lib, device="cpu"):
    """The same code for bibun and PyTorch: ``lib`` is the module (they share the API)."""
    def chain():
        x = lib.ones(16, requires_grad=True, device=device)
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
def _init(rng, batch=BATCH):
    params = []
    for fan_in, fan_out in zip(MLP[:-1], MLP[1:]):
        bound = 1 / np.sqrt(fan_in)
        params.append(rng.uniform(-bound, bound, (fan_in, fan_out)).astype(np.float32))
        params.append(rng.uniform(-bound, bound, (fan_out,)).astype(np.float32))
    x = rng.standard_normal((batch, MLP[0])).astype(np.float32)
    y = rng.integers(0, MLP[-1], batch)
    return params, x, y


def make_mlp(lib, params, x, y, device="cpu"):
    """One SGD step of the MLP, written with tensor ops of ``lib`` (bibun or torch)."""
    ps = [lib.tensor(p, requires_grad=True, device=device) for p in params]
    xt, yt = lib.tensor(x, device=device), lib.tensor(y, device=device)
    rows = lib.arange(len(x), device=device)

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


def make_mlp_numpy(params, x, y, xp=np):
    """The same step by hand in numpy (or cupy, ``xp``): the floor for a backend built on it."""
    ps = [xp.array(p) for p in params]
    x, y = xp.asarray(x), xp.asarray(y)
    batch = len(x)
    rows = xp.arange(batch)

    def step():
        acts = [x]
        pre = []
        h = x
        n = len(ps) // 2
        for i in range(n):
            z = h @ ps[2 * i] + ps[2 * i + 1]
            pre.append(z)
            h = xp.maximum(z, 0) if i < n - 1 else z
            acts.append(h)
        m = h.max(1, keepdims=True)
        lse = xp.log(xp.exp(h - m).sum(1, keepdims=True)) + m
        logp = h - lse
        _loss = -logp[rows, y].mean()
        g = xp.exp(logp)
        g[rows, y] -= 1
        g /= batch
        for i in reversed(range(n)):
            if i < n - 1:
                g = g * (pre[i] > 0)
            gw = acts[i].T @ g
            gb = g.sum(0)
            if i:  # the input needs no gradient
                g = g @ ps[2 * i].T
            ps[2 * i] -= gw * np.float32(0.01)
            ps[2 * i + 1] -= gb * np.float32(0.01)
    return step


# ---------------------------------------------------------------------- small-CNN training step
def _cnn_init(rng, batch=CNN_BATCH):
    """conv1 (8,1,3,3) + bias, conv2 (16,8,3,3) + bias, linear (10, 784) + bias, as PyTorch lays them out."""
    shapes = [(8, 1, 3, 3), (8,), (16, 8, 3, 3), (16,), (10, 16 * 7 * 7), (10,)]
    fans = [9, 9, 72, 72, 784, 784]
    params = [rng.uniform(-1 / np.sqrt(f), 1 / np.sqrt(f), s).astype(np.float32) for s, f in zip(shapes, fans)]
    x = rng.standard_normal((batch, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, batch)
    return params, x, y


def make_cnn(lib, params, x, y, device="cpu"):
    """One SGD step of the small CNN with ``lib``'s functional layers (bibun or torch)."""
    F = lib.nn.functional  # noqa: N806
    ps = [lib.tensor(p, requires_grad=True, device=device) for p in params]
    xt, yt = lib.tensor(x, device=device), lib.tensor(y, device=device)

    def loss_of():
        w1, b1, w2, b2, w3, b3 = ps
        h = F.max_pool2d(F.relu(F.conv2d(xt, w1, b1, padding=1)), 2)
        h = F.max_pool2d(F.relu(F.conv2d(h, w2, b2, padding=1)), 2)
        return F.cross_entropy(F.linear(h.flatten(1), w3, b3), yt)

    def step():
        loss = loss_of()
        for p in ps:
            p.grad = None
        loss.backward()
        with lib.no_grad():
            for p in ps:
                p -= 0.01 * p.grad
    step.params, step.loss_of = ps, loss_of
    return step


def _np_conv(x, w, b):
    """3x3 convolution, stride 1, padding 1, as im2col + matmul; returns the output and the columns."""
    n, c, h, wd = x.shape
    xp = np.zeros((n, c, h + 2, wd + 2), dtype=x.dtype)
    xp[:, :, 1:-1, 1:-1] = x
    s = xp.strides
    cols = np.lib.stride_tricks.as_strided(xp, (n, c, 3, 3, h, wd), (s[0], s[1], s[2], s[3], s[2], s[3]))
    cols = cols.reshape(n, c * 9, h * wd)
    out = np.matmul(w.reshape(w.shape[0], -1), cols) + b[:, None]
    return out.reshape(n, w.shape[0], h, wd), cols


def _np_conv_backward(g, cols, w, x_shape, need_input):
    n, o, h, wd = g.shape
    g3 = g.reshape(n, o, h * wd)
    gw = np.matmul(g3, cols.transpose(0, 2, 1)).sum(0).reshape(w.shape)
    gb = g3.sum((0, 2))
    if not need_input:
        return None, gw, gb
    c = x_shape[1]
    gcols = np.matmul(np.ascontiguousarray(w.reshape(o, -1).T), g3).reshape(n, c, 3, 3, h, wd)
    gx = np.zeros((n, c, h + 2, wd + 2), dtype=g.dtype)  # col2im: each offset adds its columns back
    for i in range(3):
        for j in range(3):
            gx[:, :, i:i + h, j:j + wd] += gcols[:, :, i, j]
    return gx[:, :, 1:-1, 1:-1], gw, gb


def _np_maxpool(x):
    """2x2 max pooling; returns the output and the flat index (within each H*W plane) of each max,
    the first one where values tie."""
    n, c, h, w = x.shape
    rows = np.ascontiguousarray(x.reshape(n, c, h // 2, 2, w // 2, 2).transpose(3, 5, 0, 1, 2, 4))
    rows = rows.reshape(4, n, c, h // 2, w // 2)
    m = rows.max(0)
    missing = rows[0] != m
    loc = missing.astype(np.int8)
    for q in (1, 2):
        missing &= rows[q] != m
        loc += missing
    corner = (np.arange(h // 2)[:, None] * 2 * w + np.arange(w // 2) * 2)  # each window's first position
    return m, corner + np.array([0, 1, w, w + 1])[loc]


def _np_maxpool_backward(g, index, x_shape):
    """Each max's gradient written at its input position (windows are disjoint: no position twice)."""
    n, c, h, w = x_shape
    gx = np.zeros(n * c * h * w, dtype=g.dtype)
    gx[(index + np.arange(n * c).reshape(n, c, 1, 1) * (h * w)).ravel()] = g.ravel()
    return gx.reshape(x_shape)


def make_cnn_numpy(params, x, y):
    """The same step by hand in numpy (im2col forward and backward): the floor for a numpy backend."""
    ps = [p.copy() for p in params]
    rows = np.arange(CNN_BATCH)

    def grads():
        w1, b1, w2, b2, w3, b3 = ps
        z1, cols1 = _np_conv(x, w1, b1)
        p1, loc1 = _np_maxpool(np.maximum(z1, 0))
        z2, cols2 = _np_conv(p1, w2, b2)
        p2, loc2 = _np_maxpool(np.maximum(z2, 0))
        flat = p2.reshape(CNN_BATCH, -1)
        logits = flat @ w3.T + b3
        m = logits.max(1, keepdims=True)
        logp = logits - (np.log(np.exp(logits - m).sum(1, keepdims=True)) + m)
        loss = -logp[rows, y].mean()
        g = np.exp(logp)
        g[rows, y] -= 1
        g /= CNN_BATCH
        gw3, gb3 = g.T @ flat, g.sum(0)
        g = (g @ w3).reshape(p2.shape)
        g = _np_maxpool_backward(g, loc2, z2.shape) * (z2 > 0)
        g, gw2, gb2 = _np_conv_backward(g, cols2, w2, p1.shape, True)
        g = _np_maxpool_backward(g, loc1, z1.shape) * (z1 > 0)
        _, gw1, gb1 = _np_conv_backward(g, cols1, w1, x.shape, False)
        return loss, [gw1, gb1, gw2, gb2, gw3, gb3]

    def step():
        _, gs = grads()
        for p, gp in zip(ps, gs):
            p -= np.float32(0.01) * gp
    step.grads = grads
    return step


def _conv_init(rng):
    """The CNN's second convolution alone: input (32, 8, 14, 14), weight (16, 8, 3, 3), an output gradient."""
    x = rng.standard_normal((CNN_BATCH, 8, 14, 14)).astype(np.float32)
    w = rng.uniform(-1 / np.sqrt(72), 1 / np.sqrt(72), (16, 8, 3, 3)).astype(np.float32)
    b = rng.uniform(-1 / np.sqrt(72), 1 / np.sqrt(72), 16).astype(np.float32)
    g = rng.standard_normal((CNN_BATCH, 16, 14, 14)).astype(np.float32)
    return x, w, b, g


def make_conv(lib, x, w, b, g):
    """One conv2d forward and backward (gradients of input, weight and bias) with ``lib``."""
    xt, wt, bt = (lib.tensor(a, requires_grad=True) for a in (x, w, b))
    gt = lib.tensor(g)

    def step():
        for t in (xt, wt, bt):
            t.grad = None
        lib.nn.functional.conv2d(xt, wt, bt, padding=1).backward(gt)
    return step


def make_conv_numpy(x, w, b, g):
    def step():
        _, cols = _np_conv(x, w, b)
        _np_conv_backward(g, cols, w, x.shape, True)
    return step


def check_cnn_numpy(params, x, y):
    """The hand-written gradients agree with bibun's autograd (run once, before timing)."""
    loss_b = make_cnn(bibun, params, x, y)
    loss = loss_b.loss_of()
    loss.backward()
    loss_n, grads = make_cnn_numpy(params, x, y).grads()
    assert abs(loss.item() - loss_n) < 1e-5, (loss.item(), loss_n)
    for p, g in zip(loss_b.params, grads):
        np.testing.assert_allclose(p.grad.numpy(), g, rtol=1e-3, atol=1e-5)


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


# ---------------------------------------------------------------------- import time with installed plugins
PLUGIN_COUNT = 20
_PLUGIN_SOURCE = """from bibun.dispatch import OpDef

op = OpDef("benchplug{i:02d}::twice", type_rule="float")


@op.impl
def _(xp, a):
    return a + a


def bibun_register_ops(register):
    register.op(op)
"""


def plugin_import_rows(repeats):
    """``import bibun`` and ``import bibun; bibun.zeros(1)`` (first use: loads every plugin) in fresh
    processes, as installed and with 20 more plugin distributions installed (each a module plus a
    ``*.dist-info`` with its entry point, on ``PYTHONPATH``; each registers one op)."""
    import tempfile
    from importlib.metadata import entry_points

    installed = len(entry_points(group="bibun.plugins"))
    codes = {"import bibun": "import time; t = time.perf_counter(); import bibun; print(time.perf_counter() - t)",
             "import bibun + zeros(1)": "import time; t = time.perf_counter(); import bibun; bibun.zeros(1); "
                                        "print(time.perf_counter() - t)"}
    base = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "BIBUN_PLUGINS",
                                                             "BIBUN_DISABLE_PLUGIN_AUTOLOAD")}
    rows = []
    with tempfile.TemporaryDirectory() as site:
        for i in range(PLUGIN_COUNT):
            module, dist = f"bibun_benchplug{i:02d}", f"bibun_benchplug{i:02d}-1.0.dist-info"
            with open(os.path.join(site, f"{module}.py"), "w") as f:
                f.write(_PLUGIN_SOURCE.format(i=i))
            os.mkdir(os.path.join(site, dist))
            with open(os.path.join(site, dist, "METADATA"), "w") as f:
                f.write(f"Metadata-Version: 2.1\nName: bibun-benchplug{i:02d}\nVersion: 1.0\n")
            with open(os.path.join(site, dist, "entry_points.txt"), "w") as f:
                f.write(f"[bibun.plugins]\nbenchplug{i:02d} = {module}\n")
        with_plugins = dict(base, PYTHONPATH=os.pathsep.join(p for p in (site, base.get("PYTHONPATH")) if p))
        envs = {installed: base, installed + PLUGIN_COUNT: with_plugins}
        for what, code in codes.items():
            samples = {n: [] for n in envs}
            for k in range(repeats + 1):  # in turns, so drift in machine speed hits both; run 0 writes caches
                for n, env in envs.items():
                    out = subprocess.run([sys.executable, "-W", "error::RuntimeWarning", "-c", code],
                                         capture_output=True, text=True, check=True, env=env)
                    if k:
                        samples[n].append(float(out.stdout.strip()))
            for n, got in samples.items():
                rows.append((f"{what}, {n} plugins", "ms", statistics.median(got) * 1e3, None, None))
    return rows


# ---------------------------------------------------------------------- on a GPU
def device_rows(device, reps, xp, syncs, torch_device=None):
    """bibun on ``device`` next to the same steps hand-written with ``xp`` and PyTorch on ``torch_device``.

    ``syncs``: {"b": bibun's, "n": xp's, "t": PyTorch's} wait-for-the-device functions.
    """
    lib_t = torch if torch_device is not None else None
    rows = []
    t = compare({"b": make_chain(bibun, device), "t": make_chain(lib_t, torch_device) if lib_t else None}, reps,
                block=1, syncs=syncs)
    rows.append(("elementwise op, fwd+bwd, (16,) chain", "us/op", t["b"] / CHAIN * 1e6, None,
                 t["t"] / CHAIN * 1e6 if lib_t else None))
    for batch in (BATCH, 4096):
        params, x, y = _init(np.random.default_rng(0), batch)
        t = compare({"b": make_mlp(bibun, params, x, y, device), "n": make_mlp_numpy(params, x, y, xp),
                     "t": make_mlp(lib_t, params, x, y, torch_device) if lib_t else None}, reps * 4, syncs=syncs)
        rows.append((f"MLP {'-'.join(map(str, MLP))} step, batch {batch}", "ms/step", t["b"] * 1e3, t["n"] * 1e3,
                     t["t"] * 1e3 if lib_t else None))
    for batch in (CNN_BATCH, 256):
        params, x, y = _cnn_init(np.random.default_rng(0), batch)
        t = compare({"b": make_cnn(bibun, params, x, y, device),
                     "t": make_cnn(lib_t, params, x, y, torch_device) if lib_t else None}, reps * 2, syncs=syncs)
        rows.append((f"CNN step, batch {batch}, 1x28x28", "ms/step", t["b"] * 1e3, None,
                     t["t"] * 1e3 if lib_t else None))
    return rows


def gpu_rows(device, reps):
    """The GPU table: bibun's cupy backend, the same MLP step hand-written in cupy, and PyTorch CUDA."""
    import cupy as cp
    torch_cuda = torch is not None and torch.cuda.is_available()
    syncs = {"b": bibun.cuda.synchronize, "n": cp.cuda.Device().synchronize,
             "t": torch.cuda.synchronize if torch_cuda else None}
    return device_rows(device, reps, cp, syncs, device if torch_cuda else None)


def print_table(rows, floor="numpy"):
    versions = f"bibun {bibun.__version__}, numpy {np.__version__}"
    versions += f", torch {torch.__version__}" if torch else ", torch not installed"
    print(versions)
    head = (f"{'benchmark':40} {'unit':8} {'bibun':>9} {floor:>9} {'torch':>9} {'bibun/' + floor:>12} "
            f"{'bibun/torch':>12}")
    print(head)
    print("-" * len(head))
    for name, unit, b, n, t in rows:
        def f(v):
            return f"{v:9.2f}" if v is not None else f"{'-':>9}"

        def r(a, c):
            return f"{a / c:11.2f}x" if a is not None and c else f"{'-':>12}"
        print(f"{name:40} {unit:8} {f(b)} {f(n)} {f(t)} {r(b, n)} {r(b, t)}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--device", default="cpu", help="cpu (default) or cuda / cuda:N: the GPU table")
    args = parser.parse_args(argv)
    reps = 5 if args.quick else 15
    if bibun.device(args.device).type == "cuda":
        if not bibun.cuda.is_available():
            raise SystemExit(f"--device {args.device}: {bibun.cuda.unavailable_reason()}")
        with bibun.cuda.device(bibun.device(args.device)):
            rows = gpu_rows(args.device, reps)
        print(f"GPU: {bibun.cuda.get_device_name(args.device)} ({args.device}); times synchronised")
        print_table(rows, floor="cupy")
        return
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

    conv = _conv_init(np.random.default_rng(0))
    t = compare({"b": make_conv(bibun, *conv), "n": make_conv_numpy(*conv)}, reps * 4)
    t_t = median_time(make_conv(torch, *conv), reps * 2) if torch else None
    rows.append(("conv2d 8->16 3x3 fwd+bwd, 32x8x14x14", "ms", t["b"] * 1e3, t["n"] * 1e3,
                 t_t * 1e3 if torch else None))

    params, x, y = _cnn_init(np.random.default_rng(0))
    check_cnn_numpy(params, x, y)
    t = compare({"b": make_cnn(bibun, params, x, y), "n": make_cnn_numpy(params, x, y)}, reps * 2)
    t_t = median_time(make_cnn(torch, params, x, y), reps) if torch else None
    rows.append((f"CNN step, batch {CNN_BATCH}, 1x28x28", "ms/step", t["b"] * 1e3, t["n"] * 1e3,
                 t_t * 1e3 if torch else None))

    ireps = 5 if args.quick else 11
    t_b = import_time("bibun", ireps) * 1e3
    t_n = import_time("numpy", ireps) * 1e3
    t_t = import_time("torch", 3) * 1e3 if torch else None
    rows.append(("import (fresh process)", "ms", t_b, t_n, t_t))
    rows.append(("import bibun + first op", "ms", first_op_time(ireps) * 1e3, None, None))
    rows.extend(plugin_import_rows(ireps))

    print_table(rows)


if __name__ == "__main__":
    main()
