"""The hooks a bibun plugin implements (pluggy project name ``bibun``).

Every hook receives one ``register`` object (see ``bibun.plugins.registrar.Register``); a
plugin calls its methods and never touches the core's tables directly. A plugin's hooks are
functions decorated with ``bibun.plugins.hookimpl`` or plain functions with these names; a
``bibun_*`` function that is no hook here, or a hook taking a parameter other than
``register``, fails that plugin with pluggy's validation message. A plugin is committed as a
whole: if one of its hooks raises, or it conflicts with another plugin, it registers nothing.
"""

import pluggy

hookspec = pluggy.HookspecMarker("bibun")
hookimpl = pluggy.HookimplMarker("bibun")


@hookspec
def bibun_register_backends(register):
    """Register backends: ``register.backend(name=, device_type=, load=, is_available=)``.

    ``load()`` is called on first use and returns the backend implementation (array
    namespace ``xp``, conversions, RNG); ``is_available()`` returns ``(ok, reason)``.
    """


@hookspec
def bibun_register_ops(register):
    """Register op definitions: ``register.op(opdef, method=None, functional=None)`` with a ``bibun.dispatch.OpDef``.

    The op is reachable as ``bibun.ops.<name>`` (``"ns::name"`` as ``bibun.ops.ns.name``);
    ``method="name"`` / ``functional="name"`` also bind it as a Tensor method / a
    ``bibun.nn.functional`` function (keyword arguments become the op's attributes).
    """


@hookspec
def bibun_register_kernels(register):
    """Register backend-specific kernels: ``register.kernel(op_name, backend_name, fn, override=False)``.

    ``fn(*arrays, **attrs)`` takes and returns arrays of that backend. A plugin registers
    kernels for ops it defines or on backends it provides; any other kernel replaces what
    runs there (another plugin's kernel or the op's generic kernel) and is refused unless it
    passes ``override=True``, which warns once.
    """


@hookspec
def bibun_register_losses(register):
    """Register losses by name: ``register.loss(name, factory)``.

    ``factory`` is a loss class (a ``bibun.nn.Module``) or any callable returning one, or a
    ``"module:attribute"`` string imported on first use (keeps a plugin cheap to load).
    ``bibun.nn.create_loss(name, **kwargs)`` builds it.
    """


@hookspec
def bibun_register_optimizers(register):
    """Register optimizers by name: ``register.optimizer(name, factory)``.

    ``factory`` is an optimizer class (a ``bibun.optim.Optimizer``), a callable returning
    one, or a ``"module:attribute"`` string imported on first use.
    ``bibun.optim.create(name, params, **kwargs)`` builds it.
    """
