"""bibun's built-in ops, one module per family. Each op's definition, generic kernel and
gradient formula sit together: the gradient of ``matmul`` is in ``linalg.py``, of ``sum``
in ``reduction.py``, and so on. ``builtin.py`` registers them through the plugin hooks.
"""
