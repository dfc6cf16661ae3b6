"""``python -m bibun demo``: the two tutorials bibun starts from, then a real model on real data.

Part one replays the tutorials' computations with ``import bibun as torch`` and prints what
PyTorch prints. Part two (``digits.py``) trains a small CNN and an MLP on scikit-learn's
handwritten digits, checkpoints, reloads and plots. ``--tutorials-only`` skips part two.
"""

from __future__ import annotations

import argparse


def add_arguments(parser):
    parser.add_argument("--device", default="cpu", help="where to train: cpu (numpy) or cuda (cupy)")
    parser.add_argument("--epochs", type=int, default=None,
                        help="training epochs for each model (default: 20 for the CNN, 30 for the MLP)")
    parser.add_argument("--out", default="bibun-demo", help="folder for the checkpoint, the plot and the graph")
    parser.add_argument("--tutorials-only", action="store_true", help="replay the tutorials only (no training)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-progress", action="store_true", help="no progress bars (for logs)")


def main(args=None):
    if args is None or isinstance(args, list):
        parser = argparse.ArgumentParser(prog="bibun demo")
        add_arguments(parser)
        args = parser.parse_args(args or [])
    import numpy as np

    import bibun as torch

    from .tutorials import run_all
    run_all(torch, np)
    if args.tutorials_only:
        return 0
    print()
    from .digits import train_digits
    result = train_digits(device=args.device, epochs=args.epochs, out_dir=args.out, seed=args.seed,
                          progress=not args.no_progress)
    return 0 if result["ok"] else 1
