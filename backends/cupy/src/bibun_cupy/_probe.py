"""Whether this machine can run the cupy backend, and if not, why and how to fix it.

The probe imports cupy and asks the CUDA runtime how many devices it sees; it never
raises. Its answer is kept: importing a missing or broken cupy again would cost time on
every check, and the driver does not come and go within a process.
"""

from __future__ import annotations

import os

INSTALL_HINT = "install it with pip install 'bibun-cupy[cuda12]' (CUDA 12.x driver) or 'bibun-cupy[cuda13]' (CUDA 13.x)"

_answer = None


def reset():
    """Forget the kept answer (tests simulate machines; a process that installed cupy since)."""
    global _answer
    _answer = None


def probe():
    """``(True, what was found)`` or ``(False, why not and how to fix it)``."""
    global _answer
    if _answer is None:
        _answer = _probe()
    return _answer


def _first_line(exc):
    """The line of an error message that says most (cupy's import error ends with "original error: ...")."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    return next((line for line in reversed(lines) if line.startswith("original error")), lines[0])


def _probe():
    try:
        import cupy
    except ModuleNotFoundError as exc:
        if exc.name == "cupy":
            return False, f"cupy is not installed; {INSTALL_HINT}"
        return False, f"cupy is installed but cannot be imported ({_first_line(exc)}); reinstall it: {INSTALL_HINT}"
    except Exception as exc:  # a broken installation: wrong CUDA wheel, missing libraries, ...
        return False, (f"cupy is installed but cannot be imported ({type(exc).__name__}: {_first_line(exc)}); "
                       f"check that only one cupy wheel is installed (pip list | grep cupy) and that it matches the "
                       f"driver's CUDA version; {INSTALL_HINT}")
    runtime_error = getattr(getattr(getattr(cupy, "cuda", None), "runtime", None), "CUDARuntimeError", None)
    try:
        count = int(cupy.cuda.runtime.getDeviceCount())
    except Exception as exc:
        if runtime_error is not None and isinstance(exc, runtime_error) and "NoDevice" in str(exc):
            return False, _no_device(cupy)
        return False, (f"the CUDA driver reported an error: {_first_line(exc)}; check the NVIDIA driver (nvidia-smi) "
                       f"and that the cupy wheel matches its CUDA version (cupy-cuda12x for CUDA 12, cupy-cuda13x "
                       f"for CUDA 13)")
    if count < 1:
        return False, _no_device(cupy)
    return True, f"cupy {getattr(cupy, '__version__', '?')}, {count} CUDA device{'s' if count > 1 else ''}"


def _no_device(cupy):
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    hidden = f" (CUDA_VISIBLE_DEVICES={visible!r} hides devices)" if visible is not None else ""
    return (f"no CUDA device was found{hidden}; cupy {getattr(cupy, '__version__', '?')} is installed, but this "
            f"machine has no NVIDIA GPU that the driver exposes (check nvidia-smi)")
