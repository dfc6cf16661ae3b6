"""Datasets, samplers and ``DataLoader``, with PyTorch's names, arguments and errors.

After the same ``bibun.manual_seed``, a shuffling ``DataLoader``, ``RandomSampler`` and
``random_split`` give the orders PyTorch gives on the cpu, because they draw their seeds
and permutations from the same streams in the same order.
"""

from __future__ import annotations

from .collate import collate, default_collate, default_collate_fn_map, default_convert
from .dataloader import DataLoader, get_worker_info
from .dataset import ChainDataset, ConcatDataset, Dataset, IterableDataset, Subset, TensorDataset, random_split
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler

__all__ = ["BatchSampler", "ChainDataset", "ConcatDataset", "DataLoader", "Dataset", "IterableDataset",
           "RandomSampler", "Sampler", "SequentialSampler", "Subset", "SubsetRandomSampler", "TensorDataset",
           "collate", "default_collate", "default_collate_fn_map", "default_convert", "get_worker_info",
           "random_split"]
