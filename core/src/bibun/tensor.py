"""``bibun.Tensor``: a backend array plus the autograd metadata PyTorch users expect.

The class holds state and Python protocols only. Ops live in ``bibun/ops/``; their
tensor-method forms are bound in ``bibun/tensor_methods.py``.
"""

from __future__ import annotations

import warnings

from . import dtypes as _dt
from .size import Size

__all__ = ["Tensor"]

_NONLEAF_GRAD_WARNING = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
    "attribute won't be populated during autograd.backward(). If you indeed want the .grad field "
    "to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. If you "
    "access the non-leaf Tensor by mistake, make sure you access the leaf Tensor instead. See "
    "github.com/pytorch/pytorch/pull/30531 for more information."
)


class Tensor:
    """An n-dimensional array on one backend/device, recorded in the autograd graph when needed.

    Slots, not a ``__dict__``: tensors are created on every op, so they must be cheap.
    ``_version`` is a one-element list shared with views and ``detach()`` aliases, so an
    in-place write through any alias is seen by every node that saved the tensor.
    """

    __slots__ = ("_data", "_backend", "_requires_grad", "grad_fn", "_version", "__weakref__", "__dict__")

    # Rarely set per tensor: class-level defaults, so creating a tensor writes only the slots above.
    _grad = None
    _output_nr = 0
    _base = None
    _hooks = None
    _retains_grad = False
    _acc = None

    # ------------------------------------------------------------------ construction
    def __init__(self, *args, **kwargs):
        raise TypeError("create tensors with bibun.tensor(data), bibun.zeros(...), etc.")

    @classmethod
    def _make(cls, data, backend, requires_grad=False):
        """Wrap a backend array (no copy). The single constructor every op goes through."""
        t = object.__new__(cls)
        t._data = data
        t._backend = backend
        t._requires_grad = requires_grad
        t.grad_fn = None
        t._version = [0]
        return t

    # ------------------------------------------------------------------ basic properties
    @property
    def data(self):
        """The same values without autograd history, sharing memory. Unlike ``detach()``, writes
        through ``.data`` are not seen by autograd (a fresh version counter, as in PyTorch)."""
        return Tensor._make(self._data, self._backend)

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor):
            raise TypeError(f"data must be a Tensor, not {type(value).__name__}")
        self._data = value._data
        self._backend = value._backend

    @property
    def shape(self):
        return Size(self._data.shape)

    def size(self, dim=None):
        shape = self._data.shape
        if dim is None:
            return Size(shape)
        if not shape:
            raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
        from .ops._util import canonical_dim
        return shape[canonical_dim(dim, len(shape))]

    def dim(self):
        return self._data.ndim

    ndimension = dim

    @property
    def ndim(self):
        return self._data.ndim

    def numel(self):
        return int(self._data.size)

    nelement = numel

    @property
    def dtype(self):
        return self._backend.dtype_of(self._data)

    @property
    def device(self):
        return self._backend.device_of(self._data)

    @property
    def is_cuda(self):
        return self.device.type == "cuda"

    @property
    def is_cpu(self):
        return self.device.type == "cpu"

    def get_device(self):
        """The device index of a tensor on an accelerator; -1 on the cpu."""
        if self._backend._cpu_device is not None:
            return -1
        index = self.device.index
        return 0 if index is None else index

    def is_floating_point(self):
        return self.dtype.category == _dt.FLOATING

    def element_size(self):
        return self.dtype.itemsize

    def is_contiguous(self):
        return self._backend.is_contiguous(self._data)

    # ------------------------------------------------------------------ autograd metadata
    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        self._set_requires_grad(value, "only Tensors of floating point and complex dtype can require gradients")

    def requires_grad_(self, requires_grad=True):
        return self._set_requires_grad(requires_grad, "only Tensors of floating point dtype can require gradients")

    def _set_requires_grad(self, requires_grad, dtype_message):
        if self.grad_fn is not None:
            if requires_grad:
                return self
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use a "
                "computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach()."
            )
        if requires_grad and self.dtype.category != _dt.FLOATING:
            raise RuntimeError(dtype_message)
        self._requires_grad = bool(requires_grad)
        return self

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def grad(self):
        if self.grad_fn is not None and not self._retains_grad:
            warnings.warn(_NONLEAF_GRAD_WARNING, UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type {type(value).__name__}")
            if value._backend is not self._backend:
                raise RuntimeError(
                    f"assigned grad has data located on {value.device}, which differs from the tensor's device {self.device}"
                )
            if value.shape != self.shape:
                raise RuntimeError(
                    f"attempting to assign a gradient of size '{list(value.shape)}' to a tensor of size "
                    f"'{list(self.shape)}'. Please ensure that the gradient and the tensor are the same size"
                )
            if value.dtype is not self.dtype:
                raise RuntimeError(
                    f"attempting to assign a gradient with dtype '{value.dtype}' to a tensor with dtype "
                    f"'{self.dtype}'. Please ensure that the gradient and the tensor have the same dtype"
                )
        self._grad = value

    @grad.deleter
    def grad(self):
        self._grad = None

    @property
    def retains_grad(self):
        return self._retains_grad

    def retain_grad(self):
        """Keep ``.grad`` for this non-leaf tensor after backward (a no-op on leaves)."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is None or self._retains_grad:
            return
        from .autograd.node import add_retain_grad
        add_retain_grad(self)
        self._retains_grad = True

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; a non-None return replaces it."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        from .autograd.node import register_tensor_hook
        return register_tensor_hook(self, hook)

    def detach(self):
        """A new leaf sharing this tensor's data (and version counter), cut from the graph."""
        t = Tensor._make(self._data, self._backend)
        t._version = self._version
        return t

    def detach_(self):
        if self._base is not None and self._base._requires_grad:
            raise RuntimeError(
                "Can't detach views in-place. Use detach() instead. If you are using DistributedDataParallel "
                "(DDP) for training, and gradient_as_bucket_view is set as True, gradients are views of DDP "
                "buckets, and hence detach_() cannot be called on these gradients. To fix this error, please "
                "refer to the Optimizer.zero_grad() function in torch/optim/optimizer.py as the solution."
            )
        self.grad_fn = None
        self._requires_grad = False
        self._output_nr = 0
        return self

    @property
    def _version_value(self):
        return self._version[0]

    @property
    def output_nr(self):
        return self._output_nr

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad`` (PyTorch's ``Tensor.backward``)."""
        from .autograd import backward
        backward(self, gradient, retain_graph=retain_graph, create_graph=create_graph, inputs=inputs)

    # ------------------------------------------------------------------ conversion to python
    def numpy(self, *, force=False):
        """The values as a numpy array, sharing memory on the cpu; ``force=True`` also copies from a device."""
        if self._backend._cpu_device is None and not force:
            raise TypeError(f"can't convert {self.device} device type tensor to numpy. Use Tensor.cpu() to copy the "
                            "tensor to host memory first.")
        if self._requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        return self._backend.to_numpy(self._data, force=force)

    def __array__(self, dtype=None, copy=None):
        arr = self.numpy()  # refuses a tensor that requires grad, as PyTorch's __array__ does
        return arr if dtype is None else arr.astype(dtype, copy=False)

    def item(self):
        n = self._data.size
        if n != 1:
            raise RuntimeError(f"a Tensor with {n} elements cannot be converted to Scalar")
        return self._backend.to_numpy(self._data, force=True).reshape(()).item()

    def tolist(self):
        return self._backend.to_numpy(self._data, force=True).tolist()

    def _scalar(self, kind):
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return kind(self._backend.to_numpy(self._data, force=True).reshape(()).item())

    def __float__(self):
        if self._requires_grad:
            warnings.warn(
                "Converting a tensor with requires_grad=True to a scalar may lead to unexpected behavior.\n"
                "Consider using tensor.detach() first.", UserWarning, stacklevel=2)
        return self._scalar(float)

    def __int__(self):
        return self._scalar(int)

    def __index__(self):
        if self.dtype.category == _dt.FLOATING or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return self._scalar(int)

    def __bool__(self):
        n = self._data.size
        if n == 1:
            return bool(self._backend.to_numpy(self._data, force=True).reshape(()).item())
        if n == 0:
            raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def __hash__(self):
        return id(self)

    # ------------------------------------------------------------------ printing
    def __repr__(self, *, tensor_contents=None):
        from ._tensor_str import tensor_repr
        return tensor_repr(self)

    __str__ = __repr__

    def __format__(self, format_spec):
        if self._data.ndim == 0:
            return self.detach().item().__format__(format_spec)
        if format_spec:
            raise TypeError("unsupported format string passed to Tensor.__format__")
        return repr(self)

    def __copy__(self):
        """A new tensor sharing this one's data (and version counter), as ``copy.copy`` gives in PyTorch."""
        t = Tensor._make(self._data, self._backend, self._requires_grad)
        t._version = self._version
        return t

    def __reduce_ex__(self, protocol):
        raise TypeError(
            "bibun tensors are not pickled; save state dicts with bibun.save (safetensors) "
            "or convert with .numpy()"
        )

    def __deepcopy__(self, memo):
        if self.grad_fn is not None:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the deepcopy protocol at the moment."
            )
        t = Tensor._make(self._backend.copy(self._data), self._backend, self._requires_grad)
        if self._grad is not None:
            t._grad = self._grad.__deepcopy__(memo)
        memo[id(self)] = t
        return t
