import numpy as np
import pytest

from xorgpu import backend as backends
from xorgpu.backend import resolve_backend
from xorgpu.config import ConfigError
from xorgpu.settings import default_backend_name

from .strict_xp import strict_backend, xp


def test_numpy_is_always_available():
    assert resolve_backend("numpy").name == "numpy"


def test_auto_is_numpy_when_cupy_finds_no_device(monkeypatch):
    monkeypatch.setattr(backends, "_import_cupy", lambda: (None, "no CUDA device"))
    assert resolve_backend("auto").name == "numpy"
    with pytest.raises(ConfigError, match="backend cupy is not available: no CUDA device"):
        resolve_backend("cupy")


def test_auto_is_cupy_where_a_device_is_usable():
    cupy, why_not = backends._import_cupy()
    if cupy is None:
        pytest.skip(f"no usable CUDA device here ({why_not})")
    chosen = resolve_backend("auto")
    assert chosen.name == "cupy" and chosen.on_device and chosen.device.startswith("cuda:")


def test_environment_sets_the_default(monkeypatch):
    monkeypatch.setenv("XORGPU_BACKEND", "numpy")
    assert default_backend_name() == "numpy"
    monkeypatch.setenv("XORGPU_BACKEND", "tpu")
    with pytest.raises(ConfigError, match="XORGPU_BACKEND='tpu'"):
        default_backend_name()


def test_the_stand_in_refuses_what_cupy_refuses():
    device = strict_backend().to_device(np.arange(4.0))
    with pytest.raises(TypeError):
        np.asarray(device)  # implicit device-to-host copy
    with pytest.raises(TypeError):
        np.exp(device)  # a NumPy function on a device array
    with pytest.raises(TypeError):
        device + np.ones(4)  # host array mixed into device arithmetic
    with pytest.raises(TypeError):
        bool(device[0] > 1)  # a synchronisation inside device code
    with pytest.raises(AttributeError):
        getattr(xp, "einsum")  # noqa: B009  (not in the checked CuPy subset)
    assert strict_backend().to_host(xp.exp(device)).tolist() == np.exp(np.arange(4.0)).tolist()


def test_available_memory_is_read_from_the_machine():
    available = backends.available_memory()
    assert available is None or 0 < available < 2**50
