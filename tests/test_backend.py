import numpy as np
import pytest

from xorgpu.backend import default_backend_name, resolve_backend
from xorgpu.config import ConfigError

from .strict_xp import strict_backend, xp


def test_numpy_is_always_available():
    assert resolve_backend("numpy").name == "numpy"


def test_auto_falls_back_to_numpy_without_a_gpu():
    backend = resolve_backend("auto")
    assert backend.name in ("numpy", "cupy")


def test_cupy_without_a_gpu_is_a_clear_error():
    try:
        import cupy  # noqa: F401

        if cupy.cuda.runtime.getDeviceCount() > 0:
            pytest.skip("a CUDA device is present")
    except Exception:  # noqa: BLE001
        pass
    with pytest.raises(ConfigError, match="backend cupy is not available"):
        resolve_backend("cupy")


def test_environment_sets_the_default(monkeypatch):
    monkeypatch.setenv("XORGPU_BACKEND", "numpy")
    assert default_backend_name() == "numpy"
    monkeypatch.setenv("XORGPU_BACKEND", "tpu")
    with pytest.raises(ConfigError):
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
