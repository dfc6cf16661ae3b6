"""``bibun.autograd.Function``: user-defined forward/backward with PyTorch 2.13's ctx API and errors.

Messages were taken from PyTorch 2.13 (``torch.`` written as ``bibun.``) and are pinned as literals.
"""

import math

import numpy as np
import pytest

import bibun
from bibun.autograd import Function, gradcheck, gradgradcheck, once_differentiable

FREED = ("Trying to backward through the graph a second time (or directly access saved tensors after they have "
         "already been freed). Saved intermediate values of the graph are freed when you call .backward() or "
         "autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time or if "
         "you need to access saved tensors after calling backward.")


class ScaledSquare(Function):
    """k * x**2 with a non-tensor argument k kept on ctx."""

    @staticmethod
    def forward(ctx, x, k):
        ctx.save_for_backward(x)
        ctx.k = k
        return x * x * k

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 2 * x * grad * ctx.k, None


class F(Function):  # returns one gradient for two inputs
    @staticmethod
    def forward(ctx, x, y):
        return x + y

    @staticmethod
    def backward(ctx, grad):
        return grad


class G(Function):  # returns a gradient of the wrong shape
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        return bibun.ones(7)


class Broadcast(Function):  # returns a gradient that broadcasts to the input's shape
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        return bibun.ones(2, 3) * 2


class TwoOutputs(Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2, x * 3

    @staticmethod
    def backward(ctx, ga, gb):
        return ga * 2 + gb * 3


class NoMaterialize(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.set_materialize_grads(False)
        return x * 2, x * 3

    @staticmethod
    def backward(ctx, ga, gb):
        ctx.seen = (ga is None, gb is None)
        out = 0
        if ga is not None:
            out = out + ga * 2
        if gb is not None:
            out = out + gb * 3
        return out


class Materialize(Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2, x * 3

    @staticmethod
    def backward(ctx, ga, gb):
        ctx.seen = (ga.tolist(), gb.tolist())
        return ga * 2 + gb * 3


class MaxWithIndex(Function):
    @staticmethod
    def forward(ctx, x):
        idx = x.argmax()
        ctx.mark_non_differentiable(idx)
        ctx.save_for_backward(x, idx)
        return x.max(), idx

    @staticmethod
    def backward(ctx, grad, grad_idx):
        x, idx = ctx.saved_tensors
        out = bibun.zeros(x.shape)
        out[idx] = grad
        return out


class Needs(Function):
    @staticmethod
    def forward(ctx, x, y, z):
        ctx.in_forward = ctx.needs_input_grad
        return x * y

    @staticmethod
    def backward(ctx, grad):
        ctx.in_backward = ctx.needs_input_grad
        return grad, grad, None


class ExpSavingOutput(Function):
    @staticmethod
    def forward(ctx, x):
        y = x.exp()
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * y


class Cube(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 3 * x ** 2 * grad


class CubeOnce(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 3 * x ** 2 * grad


def test_basic_function(device):
    x = bibun.tensor([1.0, 2.0], requires_grad=True)
    y = ScaledSquare.apply(x, 3.0)
    assert y.tolist() == [3.0, 12.0]
    assert type(y.grad_fn).__name__ == "ScaledSquareBackward" and y.grad_fn.name() == "ScaledSquareBackward"
    assert y.requires_grad and not y.is_leaf
    assert [(type(n).__name__, i) for n, i in y.grad_fn.next_functions] == [("AccumulateGrad", 0)]
    assert y.grad_fn.next_functions[0][0].variable is x
    assert y.grad_fn.k == 3.0
    assert y.grad_fn.saved_tensors[0] is x
    assert isinstance(y.grad_fn, bibun.autograd.FunctionCtx)
    y.sum().backward()
    assert x.grad.tolist() == [6.0, 12.0]


def test_function_on_non_leaf_input(device):
    x = bibun.tensor([1.0, 2.0], requires_grad=True)
    y = ScaledSquare.apply(x * 2, 1.0)
    assert [(type(n).__name__, i) for n, i in y.grad_fn.next_functions] == [("MulBackward0", 0)]
    y.sum().backward()
    assert x.grad.tolist() == [8.0, 16.0]


def test_no_graph_without_grad(device):
    x = bibun.tensor([1.0, 2.0])
    y = ScaledSquare.apply(x, 2.0)
    assert not y.requires_grad and y.grad_fn is None
    w = bibun.tensor([1.0, 2.0], requires_grad=True)
    with bibun.no_grad():
        y = ScaledSquare.apply(w, 2.0)
    assert not y.requires_grad and y.grad_fn is None and y.tolist() == [2.0, 8.0]


def test_forward_runs_without_grad(device):
    seen = []

    class Probe(Function):
        @staticmethod
        def forward(ctx, x):
            seen.append(bibun.is_grad_enabled())
            inner = x * 2
            seen.append(inner.requires_grad)
            return inner

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    y = Probe.apply(bibun.tensor([1.0], requires_grad=True))
    assert seen == [False, False] and type(y.grad_fn).__name__ == "ProbeBackward"


def test_needs_input_grad(device):
    x = bibun.tensor([1.0, 2.0], requires_grad=True)
    y = bibun.tensor([1.0, 2.0])
    z = bibun.tensor([1.0, 2.0], requires_grad=True)
    out = Needs.apply(x, y, z)
    assert out.grad_fn.in_forward == (True, False, True)
    assert out.grad_fn.needs_input_grad == (True, False, True)
    out.sum().backward()
    assert out.grad_fn.in_backward == (True, False, True)
    assert x.grad.tolist() == [1.0, 1.0] and z.grad is None
    out = Needs.apply(x, y, 5)
    assert out.grad_fn.in_forward == (True, False, False)


def test_multiple_outputs(device):
    x = bibun.tensor([1.0, 2.0], requires_grad=True)
    a, b = TwoOutputs.apply(x)
    assert a.grad_fn is b.grad_fn and (a.output_nr, b.output_nr) == (0, 1)
    (a.sum() + b.sum()).backward()
    assert x.grad.tolist() == [5.0, 5.0]


def test_materialize_grads(device):
    x = bibun.tensor([1.0, 2.0], requires_grad=True)
    a, b = Materialize.apply(x)
    b.sum().backward()
    assert a.grad_fn.seen == ([0.0, 0.0], [1.0, 1.0])  # the unused output's gradient is zeros by default
    assert x.grad.tolist() == [3.0, 3.0]
    x.grad = None
    a, b = NoMaterialize.apply(x)
    b.sum().backward()
    assert a.grad_fn.seen == (True, False) and x.grad.tolist() == [3.0, 3.0]
    x.grad = None
    a, b = NoMaterialize.apply(x)
    (a.sum() + b.sum()).backward()
    assert a.grad_fn.seen == (False, False) and x.grad.tolist() == [5.0, 5.0]


def test_mark_non_differentiable(device):
    x = bibun.tensor([1.0, 3.0, 2.0], requires_grad=True)
    m, i = MaxWithIndex.apply(x)
    assert m.requires_grad and type(m.grad_fn).__name__ == "MaxWithIndexBackward"
    assert not i.requires_grad and i.grad_fn is None and i.is_leaf and i.item() == 1
    m.backward()
    assert x.grad.tolist() == [0.0, 1.0, 0.0]


def test_integer_outputs_are_not_differentiable(device):
    class WithMask(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, x > 0

        @staticmethod
        def backward(ctx, g, g_mask):
            return g * 2

    a, b = WithMask.apply(bibun.tensor([1.0, -1.0], requires_grad=True))
    assert a.requires_grad and not b.requires_grad and b.grad_fn is None


def test_returning_an_input_gives_a_new_tensor(device):
    class Ident(Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad * 5

    x = bibun.tensor([1.0, 2.0], requires_grad=True)
    y = Ident.apply(x)
    assert y is not x and x.is_leaf and type(y.grad_fn).__name__ == "IdentBackward"
    y.sum().backward()
    assert x.grad.tolist() == [5.0, 5.0]


def test_mark_dirty(device):
    class DoubleInPlace(Function):
        @staticmethod
        def forward(ctx, x):
            x.mul_(2)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    x = bibun.tensor([1.0, 2.0], requires_grad=True)
    a = x * 1
    y = DoubleInPlace.apply(a)
    assert y is a and type(y.grad_fn).__name__ == "DoubleInPlaceBackward" and y.tolist() == [2.0, 4.0]
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]
    with pytest.raises(RuntimeError) as info:
        DoubleInPlace.apply(bibun.tensor([1.0], requires_grad=True))
    assert str(info.value) == "a leaf Variable that requires grad has been used in an in-place operation."


def test_setup_context_style(device):
    class Scale(Function):
        @staticmethod
        def forward(x, k):
            return x * k

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.k = inputs[1]

        @staticmethod
        def backward(ctx, grad):
            return grad * ctx.k, None

    x = bibun.tensor([1.0, 2.0], requires_grad=True)
    y = Scale.apply(x, 4.0)
    y.sum().backward()
    assert x.grad.tolist() == [4.0, 4.0] and type(y.grad_fn).__name__ == "ScaleBackward"


def test_gradcheck_on_custom_functions(device):
    x = bibun.tensor(np.random.default_rng(0).random(4), dtype=bibun.float64, requires_grad=True)
    assert gradcheck(lambda t: ScaledSquare.apply(t, 3.0), (x,))
    assert gradcheck(lambda t: TwoOutputs.apply(t), (x,))
    assert gradgradcheck(lambda t: Cube.apply(t), (x,))
    class WrongBackward(Function):
        @staticmethod
        def forward(ctx, t):
            return t * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 3

    assert gradcheck(lambda t: WrongBackward.apply(t), (x,), raise_exception=False) is False
    with pytest.raises(bibun.autograd.GradcheckError, match="Jacobian mismatch for output 0 with respect to input 0"):
        gradcheck(lambda t: WrongBackward.apply(t), (x,))


def test_gradgradcheck_catches_a_backward_that_is_not_differentiable(device):
    class DetachedBackward(Function):
        @staticmethod
        def forward(ctx, t):
            ctx.save_for_backward(t)
            return t ** 3

        @staticmethod
        def backward(ctx, grad):
            (t,) = ctx.saved_tensors
            return 3 * t.detach() ** 2 * grad  # right first derivative, no second

    x = bibun.tensor(np.random.default_rng(1).random(3), dtype=bibun.float64, requires_grad=True)
    assert gradcheck(DetachedBackward.apply, (x,))
    assert gradgradcheck(DetachedBackward.apply, (x,), raise_exception=False) is False
    assert gradgradcheck(Cube.apply, (x,), raise_exception=False) is True


def test_higher_order_through_custom_function(device):
    x = bibun.tensor([1.0, 2.0], requires_grad=True)
    (g,) = bibun.autograd.grad(Cube.apply(x).sum(), x, create_graph=True)
    assert g.tolist() == [3.0, 12.0] and g.requires_grad
    (g2,) = bibun.autograd.grad(g.sum(), x)
    assert g2.tolist() == [6.0, 12.0]


def test_once_differentiable(device):
    x = bibun.tensor([1.0, 2.0], requires_grad=True)
    (g,) = bibun.autograd.grad(CubeOnce.apply(x).sum(), x, create_graph=True)
    assert g.tolist() == [3.0, 12.0]
    assert not g.requires_grad and g.grad_fn is None  # as in PyTorch 2.13
    with pytest.raises(RuntimeError) as info:
        g.sum().backward()
    assert str(info.value) == "element 0 of tensors does not require grad and does not have a grad_fn"


# ---------------------------------------------------------------------- wrong gradients: no .grad written
def test_wrong_number_of_gradients(device):
    x = bibun.tensor([1.0, 2.0], requires_grad=True)
    z = bibun.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError) as info:
        F.apply(x, z).sum().backward()
    assert str(info.value) == "Function FBackward returned an incorrect number of gradients (expected 2, got 1)"
    assert x.grad is None and z.grad is None

    class TooMany(Function):
        @staticmethod
        def forward(ctx, t):
            return t * 2

        @staticmethod
        def backward(ctx, grad):
            return grad, grad

    with pytest.raises(RuntimeError) as info:
        TooMany.apply(x).sum().backward()
    assert str(info.value) == "Function TooManyBackward returned an incorrect number of gradients (expected 1, got 2)"

    class ExtraNone(Function):
        @staticmethod
        def forward(ctx, t):
            return t * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 2, None  # trailing Nones are accepted

    ExtraNone.apply(x).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_gradient_for_a_non_tensor_input(device):
    class BadNonTensor(Function):
        @staticmethod
        def forward(ctx, t, k):
            return t * k

        @staticmethod
        def backward(ctx, grad):
            return grad, grad

    x = bibun.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError) as info:
        BadNonTensor.apply(x, 3.0).sum().backward()
    assert str(info.value) == ("function BadNonTensorBackward returned a gradient different than None at position 2, "
                               "but the corresponding forward input was not a Variable")
    assert x.grad is None


def test_gradient_of_the_wrong_type(device):
    class FloatGrad(Function):
        @staticmethod
        def forward(ctx, t):
            return t * 2

        @staticmethod
        def backward(ctx, grad):
            return 3.0

    x = bibun.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError) as info:
        FloatGrad.apply(x).sum().backward()
    assert str(info.value) == "expected Variable or None (got float)"


def test_wrong_gradient_shape(device):
    x = bibun.tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = bibun.tensor([1.0, 1.0, 1.0], requires_grad=True)
    w.grad = bibun.tensor([9.0, 9.0, 9.0])
    with pytest.raises(RuntimeError) as info:
        (G.apply(x) * w).sum().backward()
    assert str(info.value) == "Function GBackward returned an invalid gradient at index 0 - got [7] but expected " \
                              "shape compatible with [3]"
    assert x.grad is None and w.grad.tolist() == [9.0, 9.0, 9.0]


def test_broadcastable_gradient_is_summed_to_the_input_shape(device):
    x = bibun.tensor([1.0, 2.0, 3.0], requires_grad=True)
    Broadcast.apply(x).sum().backward()
    assert x.grad.tolist() == [4.0, 4.0, 4.0] and x.grad.shape == bibun.Size([3])


def test_gradient_dtype_is_cast_to_the_input_dtype(device):
    class DoubleGrad(Function):
        @staticmethod
        def forward(ctx, t):
            return t * 2

        @staticmethod
        def backward(ctx, grad):
            return grad.double() * 2

    x = bibun.tensor([1.0, 2.0], requires_grad=True)
    DoubleGrad.apply(x).sum().backward()
    assert x.grad.dtype is bibun.float32 and x.grad.tolist() == [2.0, 2.0]


def test_save_for_backward_rejects_non_tensors(device):
    class SaveInt(Function):
        @staticmethod
        def forward(ctx, t):
            ctx.save_for_backward(t, 3)
            return t * 2

        @staticmethod
        def backward(ctx, grad):
            return grad

    with pytest.raises(TypeError) as info:
        SaveInt.apply(bibun.tensor([1.0, 2.0], requires_grad=True))
    assert str(info.value) == "save_for_backward can only save variables, but argument 1 is of type int"


def test_save_for_backward_none(device):
    class SaveNone(Function):
        @staticmethod
        def forward(ctx, t):
            ctx.save_for_backward(t, None)
            return t * 2

        @staticmethod
        def backward(ctx, grad):
            a, b = ctx.saved_tensors
            ctx.got = (b is None, tuple(a.shape))
            return grad * 2

    y = SaveNone.apply(bibun.tensor([1.0, 2.0], requires_grad=True))
    y.sum().backward()
    assert y.grad_fn.got == (True, (2,))


# ---------------------------------------------------------------------- saved tensors: versions and freeing
def test_saved_output_modified_in_place(device):
    x = bibun.tensor([1.0, 2.0], requires_grad=True)
    y = ExpSavingOutput.apply(x)
    y.add_(1)
    with pytest.raises(RuntimeError) as info:
        y.sum().backward()
    assert str(info.value) == (
        "one of the variables needed for gradient computation has been modified by an inplace operation: "
        "[bibun.FloatTensor [2]], which is output 0 of ExpSavingOutput, is at version 1; expected version 0 instead. "
        "Hint: enable anomaly detection to find the operation that failed to compute its gradient, with "
        "bibun.autograd.set_detect_anomaly(True, check_nan=False).")
    assert x.grad is None


def test_saved_input_modified_in_place(device):
    x = bibun.tensor([1.0, 2.0], requires_grad=True)
    y = ScaledSquare.apply(x, 3.0)
    with bibun.no_grad():
        x.add_(1)
    with pytest.raises(RuntimeError, match=r"\[bibun.FloatTensor \[2\]\] is at version 1; expected version 0"):
        y.sum().backward()
    assert x.grad is None


def test_saved_output_gradient(device):
    x = bibun.tensor([1.0, 2.0], requires_grad=True)
    ExpSavingOutput.apply(x).sum().backward()
    assert x.grad.tolist() == pytest.approx([math.e, math.e ** 2], rel=1e-6)


def test_saved_tensors_freed_after_backward(device):
    x = bibun.tensor([1.0, 2.0], requires_grad=True)
    y = ScaledSquare.apply(x, 2.0)
    y.sum().backward()
    with pytest.raises(RuntimeError) as info:
        y.sum().backward()
    assert str(info.value) == FREED
    with pytest.raises(RuntimeError) as info:
        _ = y.grad_fn.saved_tensors
    assert str(info.value) == FREED
    assert x.grad.tolist() == [4.0, 8.0]
    y = ScaledSquare.apply(x, 2.0)
    y.sum().backward(retain_graph=True)
    y.sum().backward()
    assert x.grad.tolist() == [12.0, 24.0]


def test_legacy_instantiation_is_refused(device):
    # PyTorch 2.13 only warns here; bibun refuses, naming the fix
    with pytest.raises(RuntimeError, match="call YourFunction.apply"):
        ScaledSquare()
