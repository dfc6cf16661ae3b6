"""``bibun.utils.data``: datasets, samplers, ``random_split``, ``default_collate`` and ``DataLoader``.

Orders after ``manual_seed`` were printed by PyTorch 2.13 and are pinned as literals (no
PyTorch needed); the ``torch`` fixture tests compare with ``torch.utils.data`` itself.
"""

from __future__ import annotations

import collections
import warnings

import numpy as np
import pytest

import bibun
from bibun.utils.data import (
    BatchSampler,
    ChainDataset,
    ConcatDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    SequentialSampler,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    default_collate,
    default_convert,
    get_worker_info,
    random_split,
)

# manual_seed(0), then these in this order
SHUFFLE = [[[6, 7, 1, 4], [2, 0, 9, 8], [3, 5]], [[2, 4, 7, 0], [8, 9, 5, 3], [6, 1]]]  # two epochs
AFTER_SHUFFLE = [0.455627977848053, 0.6323062777519226]  # rand(2) after them
# manual_seed(0): an epoch without shuffling still draws a base seed, as PyTorch does
SEQ_AFTER = [0.08847743272781372, 0.13203048706054688]
# manual_seed(0), then these in this order
SPLIT = [[4, 1, 7], [5, 3, 9, 0, 8, 6, 2]]
SPLIT_FRAC = [[8, 2, 4, 7], [9, 1, 3], [6, 0, 5, 10]]
SPLIT_G = [[2, 6, 1, 8, 4], [5, 0, 9, 3, 7]]  # Generator().manual_seed(42)
REPL = [6, 0, 4, 3, 9, 5, 7, 8, 9, 1, 8, 5]  # manual_seed(0): RandomSampler(range(10), True, 12)
LOADER_G = [[4, 6, 9, 2, 3], [1, 0, 7, 8, 5]]  # generator=Generator().manual_seed(1), batch_size=5

DEFAULT_SEED = 67280421310721


@pytest.fixture(autouse=True)
def _restore_seed():
    yield
    bibun.manual_seed(DEFAULT_SEED)


def _labels(loader):
    return [b[0].tolist() for b in loader]


# ---------------------------------------------------------------------- orders pinned from PyTorch
def test_shuffled_loader_order_is_pytorchs():
    bibun.manual_seed(0)
    ds = TensorDataset(bibun.arange(10))
    assert [_labels(DataLoader(ds, batch_size=4, shuffle=True)) for _ in range(2)] == SHUFFLE
    assert bibun.rand(2).tolist() == AFTER_SHUFFLE


def test_sequential_loader_draws_a_base_seed_like_pytorch():
    bibun.manual_seed(0)
    ds = TensorDataset(bibun.arange(10))
    assert _labels(DataLoader(ds, batch_size=4)) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert bibun.rand(2).tolist() == SEQ_AFTER


def test_random_split_is_pytorchs():
    bibun.manual_seed(0)
    assert [list(s.indices) for s in random_split(range(10), [3, 7])] == SPLIT
    assert [list(s.indices) for s in random_split(range(11), [0.3, 0.3, 0.4])] == SPLIT_FRAC
    g = bibun.Generator().manual_seed(42)
    assert [list(s.indices) for s in random_split(range(10), [0.5, 0.5], generator=g)] == SPLIT_G


def test_random_sampler_with_replacement_is_pytorchs():
    bibun.manual_seed(0)
    assert list(RandomSampler(range(10), replacement=True, num_samples=12)) == REPL


def test_loader_generator_is_used_and_leaves_the_default_stream_alone():
    bibun.manual_seed(0)
    g = bibun.Generator().manual_seed(1)
    assert _labels(DataLoader(TensorDataset(bibun.arange(10)), batch_size=5, shuffle=True, generator=g)) == LOADER_G
    assert bibun.rand(4).tolist()[:2] == [0.49625658988952637, 0.7682217955589294]  # the stream's first draws


# ---------------------------------------------------------------------- datasets
def test_tensor_dataset():
    x, y = bibun.arange(12.0).reshape(6, 2), bibun.arange(6)
    ds = TensorDataset(x, y)
    assert len(ds) == 6
    a, b = ds[2]
    assert a.tolist() == [4.0, 5.0] and b.item() == 2
    with pytest.raises(AssertionError, match="^Size mismatch between tensors$"):
        TensorDataset(bibun.zeros(3), bibun.zeros(4))


def test_subset_concat_and_add():
    ds = ConcatDataset([range(3), range(10, 14)])
    assert len(ds) == 7 and ds.cumulative_sizes == [3, 7]
    assert [ds[i] for i in (0, 2, 3, 6, -1, -7)] == [0, 2, 10, 13, 13, 0]
    with pytest.raises(ValueError, match="^absolute value of index should not exceed dataset length$"):
        ds[-8]
    with pytest.raises(AssertionError, match="^datasets should not be an empty iterable$"):
        ConcatDataset([])
    sub = Subset(range(10, 20), [3, 1, 4])
    assert len(sub) == 3 and [sub[i] for i in range(3)] == [13, 11, 14]
    assert sub.__getitems__([0, 2]) == [13, 14]
    both = TensorDataset(bibun.zeros(2, 1)) + TensorDataset(bibun.ones(3, 1))
    assert isinstance(both, ConcatDataset) and len(both) == 5 and both[4][0].tolist() == [1.0]
    with pytest.raises(NotImplementedError):
        Dataset()[0]


class _Count(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


def test_iterable_dataset_loading():
    assert [b.tolist() for b in DataLoader(_Count(7), batch_size=3)] == [[0, 1, 2], [3, 4, 5], [6]]
    assert [b.tolist() for b in DataLoader(_Count(7), batch_size=3, drop_last=True)] == [[0, 1, 2], [3, 4, 5]]
    assert len(DataLoader(_Count(7), batch_size=3)) == 3
    assert list(DataLoader(_Count(3), batch_size=None)) == [0, 1, 2]
    assert list(ChainDataset([_Count(2), _Count(3)])) == [0, 1, 0, 1, 2]
    assert list(_Count(2) + _Count(1)) == [0, 1, 0]
    with pytest.raises(ValueError, match="expected unspecified shuffle option, but got shuffle=True"):
        DataLoader(_Count(3), shuffle=True)
    with pytest.raises(AssertionError, match="^ConcatDataset does not support IterableDataset$"):
        ConcatDataset([_Count(3)])


def test_random_split_lengths_and_errors():
    parts = random_split(range(30), [0.3, 0.3, 0.4])
    assert [len(p) for p in parts] == [9, 9, 12]
    assert sorted(i for p in parts for i in p.indices) == list(range(30))
    assert [len(p) for p in random_split(range(7), [0.5, 0.5])] == [4, 3]  # the remainder goes to the first splits
    with pytest.warns(UserWarning, match="^Length of split at index 2 is 0. This might result in an empty dataset.$"):
        assert [len(p) for p in random_split(range(3), [0.1, 0.9, 0.0])] == [1, 2, 0]
    with pytest.raises(ValueError, match="^Sum of input lengths does not equal the length of the input dataset!$"):
        random_split(range(10), [3, 3])
    with pytest.raises(ValueError, match="^Fraction at index 1 is not between 0 and 1$"):
        random_split(range(10), [0.0, 1.5, -0.5])


# ---------------------------------------------------------------------- samplers
def test_samplers():
    assert list(SequentialSampler(range(4))) == [0, 1, 2, 3] and len(SequentialSampler(range(4))) == 4
    assert sorted(RandomSampler(range(9))) == list(range(9))
    assert len(RandomSampler(range(9), num_samples=20)) == 20
    counts = collections.Counter(RandomSampler(range(4), num_samples=10))  # two whole passes, then half of one
    assert sorted(counts.values()) == [2, 2, 3, 3]
    assert sorted(SubsetRandomSampler([3, 5, 7])) == [3, 5, 7]
    assert list(BatchSampler(range(7), 3, False)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(BatchSampler(range(7), 3, True)) == [[0, 1, 2], [3, 4, 5]]
    assert len(BatchSampler(range(7), 3, False)) == 3 and len(BatchSampler(range(7), 3, True)) == 2
    g1, g2 = bibun.Generator().manual_seed(5), bibun.Generator().manual_seed(5)
    assert list(RandomSampler(range(20), generator=g1)) == list(RandomSampler(range(20), generator=g2))


@pytest.mark.parametrize(("make", "error", "message"), [
    (lambda: RandomSampler(range(3), num_samples=0), ValueError,
     "num_samples should be a positive integer value, but got num_samples=0"),
    (lambda: RandomSampler(range(3), replacement=1), TypeError,
     "replacement should be a boolean value, but got replacement=1"),
    (lambda: BatchSampler(range(3), 0, False), ValueError,
     "batch_size should be a positive integer value, but got batch_size=0"),
    (lambda: BatchSampler(range(3), 2, 1), ValueError, "drop_last should be a boolean value, but got drop_last=1"),
])
def test_sampler_errors(make, error, message):
    with pytest.raises(error) as info:
        make()
    assert str(info.value) == message


# ---------------------------------------------------------------------- collate
Point = collections.namedtuple("Point", "x y")


def test_default_collate():
    t = default_collate([bibun.tensor([1.0, 2.0]), bibun.tensor([3.0, 4.0])])
    assert t.shape == (2, 2) and t.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    ints, floats, bools = default_collate([1, 2]), default_collate([1.5, 2.5]), default_collate([True, False])
    assert ints.dtype is bibun.int64 and floats.dtype is bibun.float64 and bools.dtype is bibun.bool
    assert default_collate(["a", "b"]) == ["a", "b"]
    pair = default_collate([(bibun.tensor([1.0]), 3), (bibun.tensor([2.0]), 4)])
    assert isinstance(pair, list) and pair[0].tolist() == [[1.0], [2.0]] and pair[1].tolist() == [3, 4]
    d = default_collate([{"a": bibun.tensor([1]), "b": 2.0}, {"a": bibun.tensor([3]), "b": 4.0}])
    assert d["a"].tolist() == [[1], [3]] and d["b"].dtype is bibun.float64
    p = default_collate([Point(1, bibun.tensor([1.0])), Point(2, bibun.tensor([2.0]))])
    assert isinstance(p, Point) and p.x.tolist() == [1, 2] and p.y.tolist() == [[1.0], [2.0]]
    a = default_collate([np.array([1, 2], dtype=np.int32), np.array([3, 4], dtype=np.int32)])
    assert a.dtype is bibun.int32 and a.tolist() == [[1, 2], [3, 4]]
    assert default_collate([np.float32(1.5), np.float32(2.5)]).dtype is bibun.float32
    nested = default_collate([{"k": [1, (2.0, "x")]}, {"k": [3, (4.0, "y")]}])
    assert nested["k"][0].tolist() == [1, 3] and nested["k"][1][1] == ("x", "y")


def test_default_collate_errors():
    with pytest.raises(TypeError, match="^default_collate: batch must contain tensors, numpy arrays, numbers, dicts "
                                        "or lists; found <class 'object'>$"):
        default_collate([object(), object()])
    with pytest.raises(RuntimeError, match="^each element in list of batch should be of equal size$"):
        default_collate([[1, 2], [3]])
    with pytest.raises(TypeError, match="found <U1$"):
        default_collate([np.array(["a"]), np.array(["b"])])


def test_default_convert():
    assert default_convert(3) == 3
    t = default_convert(np.array([1, 2]))
    assert isinstance(t, bibun.Tensor) and t.tolist() == [1, 2]
    out = default_convert((np.float64(1.0), [np.int64(2)], {"a": np.array([3.0])}))
    assert isinstance(out, list) and out[0].dtype is bibun.float64 and out[1][0].item() == 2
    assert out[2]["a"].tolist() == [3.0]
    p = default_convert(Point(np.int64(1), "s"))
    assert isinstance(p, Point) and isinstance(p.x, bibun.Tensor) and p.y == "s"


# ---------------------------------------------------------------------- DataLoader
def test_loader_batches_len_and_drop_last():
    x, y = bibun.arange(20.0).reshape(10, 2), bibun.arange(10)
    loader = DataLoader(TensorDataset(x, y), batch_size=4)
    assert len(loader) == 3
    batches = list(loader)
    assert [b[1].tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert isinstance(batches[0], list) and batches[0][0].shape == (4, 2) and batches[0][0].dtype is bibun.float32
    dropping = DataLoader(TensorDataset(x, y), batch_size=4, drop_last=True)
    assert len(dropping) == 2 and [b[1].tolist() for b in dropping] == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert len(iter(loader)) == 3
    assert [b.tolist() for b in DataLoader(range(5), batch_size=2)] == [[0, 1], [2, 3], [4]]
    assert list(DataLoader(range(3), batch_size=None)) == [0, 1, 2]
    assert [b.tolist() for b in DataLoader(range(7), batch_sampler=[[0, 1], [5, 6, 2]])] == [[0, 1], [5, 6, 2]]
    assert [b.tolist() for b in DataLoader(range(6), batch_size=2, sampler=[5, 3, 1, 0])] == [[5, 3], [1, 0]]


def test_loader_collates_dicts_and_custom_collate():
    data = [{"x": bibun.tensor([float(i)]), "label": i} for i in range(5)]
    batch = next(iter(DataLoader(data, batch_size=3)))
    assert batch["x"].tolist() == [[0.0], [1.0], [2.0]] and batch["label"].tolist() == [0, 1, 2]
    loader = DataLoader(range(5), batch_size=2, collate_fn=lambda b: sum(b))
    assert list(loader) == [1, 5, 4]


def test_fast_tensor_batches_equal_stacked_samples():
    bibun.manual_seed(0)
    x, y = bibun.randn(23, 3, 2), bibun.randint(0, 5, (23,))
    ds = TensorDataset(x, y)
    parts = random_split(ds, [15, 8])
    for data in (ds, parts[0], Subset(parts[1], [7, 0, 3])):
        for shuffle in (False, True):
            bibun.manual_seed(1)
            fast = list(DataLoader(data, batch_size=4, shuffle=shuffle))
            bibun.manual_seed(1)
            slow = list(DataLoader(data, batch_size=4, shuffle=shuffle, collate_fn=lambda b: default_collate(b)))
            assert len(fast) == len(slow)
            for f, s in zip(fast, slow):
                assert isinstance(f, list) and len(f) == 2
                assert all(a.dtype is b.dtype and a.shape == b.shape and a.tolist() == b.tolist()
                           for a, b in zip(f, s))


def test_tensor_dataset_subclass_keeps_its_getitem():
    class Doubled(TensorDataset):
        def __getitem__(self, i):
            return tuple(t[i] * 2 for t in self.tensors)

    batch = next(iter(DataLoader(Doubled(bibun.arange(4)), batch_size=4)))
    assert batch[0].tolist() == [0, 2, 4, 6]


def test_loader_on_tensors_that_require_grad_stacks_with_a_graph():
    w = bibun.ones(4, 2, requires_grad=True)
    batch = next(iter(DataLoader(TensorDataset(w), batch_size=2)))
    assert type(batch[0].grad_fn).__name__ == "StackBackward0"


def test_loader_workers_and_pin_memory():
    assert list(b.tolist() for b in DataLoader(range(5), batch_size=2, num_workers=2)) == [[0, 1], [2, 3], [4]]
    assert get_worker_info() is None
    if bibun.cuda.is_available():  # pinning is accepted without a word (and changes nothing in bibun)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert [b.tolist() for b in DataLoader(range(3), batch_size=3, pin_memory=True)] == [[0, 1, 2]]
        return
    with pytest.warns(UserWarning, match="'pin_memory' argument is set as true but no accelerator is found"):
        assert [b.tolist() for b in DataLoader(range(3), batch_size=3, pin_memory=True)] == [[0, 1, 2]]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"sampler": [1, 2], "shuffle": True}, "sampler option is mutually exclusive with shuffle"),
    ({"batch_sampler": [[1, 2]], "batch_size": 2},
     "batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and drop_last"),
    ({"batch_size": None, "drop_last": True},
     "batch_size=None option disables auto-batching and is mutually exclusive with drop_last"),
    ({"num_workers": -1}, "num_workers option should be non-negative; use num_workers=0 to disable multiprocessing."),
    ({"timeout": -1}, "timeout option should be non-negative"),
    ({"persistent_workers": True}, "persistent_workers option needs num_workers > 0"),
    ({"batch_size": 0}, "batch_size should be a positive integer value, but got batch_size=0"),
    ({"prefetch_factor": 2}, "prefetch_factor option could only be specified in multiprocessing.let num_workers > 0 "
     "to enable multiprocessing, otherwise set prefetch_factor to None."),
])
def test_loader_argument_errors(kwargs, message):
    with pytest.raises(ValueError) as info:
        DataLoader(range(10), **kwargs)
    assert str(info.value) == message


def test_loader_attributes_are_frozen():
    loader = DataLoader(range(3))
    with pytest.raises(ValueError, match="^batch_size attribute should not be set after DataLoader is initialized$"):
        loader.batch_size = 2


# ---------------------------------------------------------------------- parity with PyTorch
def test_loader_orders_match_pytorch(torch):
    import torch.utils.data as tdata

    def run(lib, data):
        lib.manual_seed(0)
        ds = data.TensorDataset(lib.arange(23.0).reshape(23, 1), lib.arange(23))
        train, _ = data.random_split(ds, [0.7, 0.3])
        out = []
        for kwargs in ({"batch_size": 4, "shuffle": True}, {"batch_size": 5}, {"batch_size": 4, "shuffle": True,
                                                                               "drop_last": True}):
            for _ in range(2):
                out += [b[1].tolist() for b in data.DataLoader(ds, **kwargs)]
        out += [b[1].tolist() for b in data.DataLoader(train, batch_size=3, shuffle=True)]
        out += list(data.RandomSampler(range(10), replacement=True, num_samples=40))
        out += list(data.RandomSampler(range(10), num_samples=25))
        g = lib.Generator().manual_seed(7)
        out += [b[1].tolist() for b in data.DataLoader(ds, batch_size=6, shuffle=True, generator=g)]
        return out + [lib.rand(3).tolist()]

    assert run(bibun, bibun.utils.data) == run(torch, tdata)


def test_collate_matches_pytorch(torch):
    import torch.utils.data as tdata

    def norm(o):
        if hasattr(o, "dtype") and hasattr(o, "tolist") and not isinstance(o, np.ndarray):
            return ("tensor", str(o.dtype).split(".")[-1], tuple(o.shape), o.tolist())
        if isinstance(o, dict):
            return ("dict", {k: norm(v) for k, v in o.items()})
        if isinstance(o, tuple) and hasattr(o, "_fields"):
            return (type(o).__name__, [norm(v) for v in o])
        if isinstance(o, (list, tuple)):
            return (type(o).__name__, [norm(v) for v in o])
        return (type(o).__name__, o)

    def batches(lib):
        t = lib.tensor
        return [[t([1.0, 2.0]), t([3.0, 4.0])], [1, 2, 3], [1.5, 2.5], [True, False], ["a", "b"],
                [(t([1.0]), 3), (t([2.0]), 4)], [[t([1.0]), 3], [t([2.0]), 4]],
                [{"a": t([1]), "b": 2.0}, {"a": t([3]), "b": 4.0}], [Point(1, t([1.0])), Point(2, t([2.0]))],
                [np.array([1, 2], dtype=np.int16), np.array([3, 4], dtype=np.int16)],
                [np.float32(1.5), np.float32(2.5)], [np.int64(3), np.int64(4)],
                [{"k": [1, (2.0, "x")]}, {"k": [3, (4.0, "y")]}]]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for a, b in zip(batches(torch), batches(bibun)):
            assert norm(bibun.utils.data.default_collate(b)) == norm(tdata.default_collate(a))
            assert norm(bibun.utils.data.default_convert(b)) == norm(tdata.default_convert(a))
