"""``DataLoader``: batches from a dataset, in a sampler's order, put together by a collate function.

It takes PyTorch's arguments and raises PyTorch's errors for invalid combinations. Each pass
draws PyTorch's base seed from the loader's generator (the default one when None) before
anything else, so the default random stream stays in step with PyTorch's, and a shuffling
loader visits the samples in PyTorch's order after the same ``manual_seed``.

Loading always happens in the calling process: ``num_workers > 0`` is accepted and gives
the same batches in the same order, but starts no worker processes (``get_worker_info()``
stays None, and a dataset's own randomness is not reseeded per worker). ``pin_memory`` has
nothing to pin on the numpy backend and is ignored.

A ``TensorDataset`` (or a ``Subset`` of one) with the default collate is batched by indexing
each tensor once with the whole batch of indices, which gives the same tensors as stacking
the samples one by one, much faster.
"""

from __future__ import annotations

import math
import warnings

from .collate import default_collate, default_convert
from .dataset import IterableDataset, Subset, TensorDataset
from .sampler import BatchSampler, RandomSampler, SequentialSampler

__all__ = ["DataLoader", "get_worker_info"]


def get_worker_info():
    """None: bibun loads every batch in the calling process (there are no worker processes)."""
    return None


class _InfiniteConstantSampler:
    """The sampler of an iterable dataset: the index is meaningless, so it is always None."""

    def __iter__(self):
        while True:
            yield None


def _accelerator_available():
    from ...dispatch import registry
    return any(b.device_type != "cpu" and b.availability()[0] for b in registry.backends().values())


class DataLoader:
    """Iterate over ``dataset`` in batches of ``batch_size`` (``shuffle=True``: a new random order each pass)."""

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None, persistent_workers=False,
                 pin_memory_device="", in_order=True):
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable "
                             "multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing.let num_workers > 0 "
                             "to enable multiprocessing, otherwise set prefetch_factor to None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        if multiprocessing_context is not None and num_workers == 0:
            raise ValueError("multiprocessing_context can only be used with multi-process loading (num_workers > 0), "
                             f"but got num_workers={num_workers}")

        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order

        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            if shuffle not in (False, None):
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle option, but got "
                                 f"shuffle={shuffle}")
            if sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified sampler option, but got "
                                 f"sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified batch_sampler option, but got "
                                 f"batch_sampler={batch_sampler}")
        else:
            shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and "
                                 "drop_last")
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with drop_last")

        if sampler is None:
            if self._iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers
        self._length_reported = None  # len() of an iterable dataset, when asked (to warn on overrun)
        self._initialized = True

    def __setattr__(self, name, value):
        if getattr(self, "_initialized", False) and name in (
                "batch_size", "batch_sampler", "sampler", "drop_last", "dataset", "persistent_workers"):
            raise ValueError(f"{name} attribute should not be set after {type(self).__name__} is initialized")
        super().__setattr__(name, value)

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def __iter__(self):
        return _Iterator(self)

    def __len__(self):
        if self._iterable:
            length = len(self.dataset)
            self._length_reported = length
            if self.batch_size is not None:
                length = length // self.batch_size if self.drop_last else math.ceil(length / self.batch_size)
            return length
        return len(self._index_sampler)


class _Iterator:
    """One pass over a ``DataLoader``."""

    def __init__(self, loader):
        from ... import dtypes
        from ...factories import empty
        self._loader = loader
        if loader.pin_memory and not _accelerator_available():
            warnings.warn("'pin_memory' argument is set as true but no accelerator is found, then device pinned "
                          "memory won't be used.", UserWarning, stacklevel=3)
        self._sampler_iter = iter(loader._index_sampler)
        # PyTorch draws its workers' base seed here, before the sampler draws anything: drawn too, so that
        # the generator's stream (the default one without a generator) stays PyTorch's
        self._base_seed = empty((), dtype=dtypes.int64, device="cpu").random_(generator=loader.generator).item()
        self._fetch = _iterable_fetcher(loader) if loader._iterable else _map_fetcher(loader)
        self._num_yielded = 0

    def __iter__(self):
        return self

    def __next__(self):
        data = self._fetch(next(self._sampler_iter))
        self._num_yielded += 1
        reported = self._loader._length_reported
        if self._loader._iterable and reported is not None and self._num_yielded > reported:
            warnings.warn(f"Length of IterableDataset {self._loader.dataset} was reported to be {reported}(when "
                          f"accessing len(dataloader)), but {self._num_yielded} samples have been fetched. ",
                          UserWarning, stacklevel=2)
        return data

    def __len__(self):
        return len(self._loader._index_sampler)


def _iterable_fetcher(loader):
    it = iter(loader.dataset)
    ended = False

    def fetch(index):
        nonlocal ended
        if ended:
            raise StopIteration
        if not loader._auto_collation:
            return loader.collate_fn(next(it))
        data = []
        for _ in index:
            try:
                data.append(next(it))
            except StopIteration:
                ended = True
                break
        if not data or (loader.drop_last and len(data) < len(index)):
            raise StopIteration
        return loader.collate_fn(data)
    return fetch


def _map_fetcher(loader):
    dataset, collate_fn = loader.dataset, loader.collate_fn
    if not loader._auto_collation:
        return lambda index: collate_fn(dataset[index])
    fast = _tensor_rows(dataset) if collate_fn is default_collate else None

    def fetch(indices):
        if fast is not None:
            batch = fast(indices)
            if batch is not None:
                return batch
        getitems = getattr(dataset, "__getitems__", None)
        data = getitems(indices) if getitems else [dataset[i] for i in indices]
        return collate_fn(data)
    return fetch


def _plain(obj, cls, *methods):
    """Whether ``obj`` is a ``cls`` whose sample-access methods are ``cls``'s own (not overridden)."""
    return isinstance(obj, cls) and all(getattr(type(obj), m, None) is getattr(cls, m) for m in methods)


def _tensor_rows(dataset):
    """For a ``TensorDataset``, possibly inside ``Subset``s: a function giving ``default_collate``'s batch for a
    list of indices by indexing each tensor once (None where it would differ: a tensor that requires grad)."""
    maps = []
    while _plain(dataset, Subset, "__getitem__", "__getitems__"):
        maps.append(dataset.indices)
        dataset = dataset.dataset
    if not _plain(dataset, TensorDataset, "__getitem__"):
        return None
    tensors = dataset.tensors

    def rows(indices):
        from ... import dtypes
        from ...autograd.grad_mode import is_grad_enabled
        from ...factories import tensor
        if is_grad_enabled() and any(t.requires_grad for t in tensors):
            return None  # stacking records StackBackward0: leave it to default_collate
        for m in maps:
            indices = [m[i] for i in indices]
        index = {}
        out = []
        for t in tensors:
            idx = index.get(t.device)
            if idx is None:
                idx = index[t.device] = tensor(indices, dtype=dtypes.int64, device=t.device)
            out.append(t[idx])
        return out
    return rows
