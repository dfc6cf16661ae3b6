"""Flatten parameters into one vector and write such a vector back (for second-order methods, EA, ...)."""

from __future__ import annotations

from ...tensor import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def _check_device(param, old_device):
    if old_device is None:
        return param.device
    if param.device != old_device:
        raise TypeError("Found two parameters on different devices, this is currently not supported.")
    return old_device


def parameters_to_vector(parameters):
    """All ``parameters`` flattened and concatenated into one 1-D tensor (in the graph, like PyTorch's)."""
    from ...ops.shape import cat
    device = None
    vec = []
    for p in parameters:
        device = _check_device(p, device)
        vec.append(p.view(-1))
    return cat(vec)


def vector_to_parameters(vec, parameters):
    """Copy consecutive slices of the 1-D ``vec`` into ``parameters`` (their ``.data``), in order."""
    if not isinstance(vec, Tensor):
        from ...optim.optimizer import typename
        raise TypeError(f"expected torch.Tensor, but got: {typename(vec)}")
    device = None
    pointer = 0
    for p in parameters:
        device = _check_device(p, device)
        n = p.numel()
        p.data = vec[pointer:pointer + n].view_as(p).data
        pointer += n
