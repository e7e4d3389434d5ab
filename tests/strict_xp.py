"""A NumPy-backed stand-in for CuPy that refuses what CuPy refuses, for machines without a GPU.

The engine must run unchanged on CuPy, but CI has no GPU. This namespace behaves like
CuPy where NumPy-only habits would break there:
- device arrays are not NumPy arrays: `np.asarray(a)` and NumPy functions called on them
  raise, as CuPy raises on implicit conversion; host data leaves only through `to_host`;
- mixing a host ndarray into device arithmetic raises, as in CuPy;
- `bool(a)`, `float(a)`, `a.item()`, `a.tolist()` and iteration raise: in CuPy each is a
  device-to-host copy and a synchronisation, which the training loop must not do;
- only functions listed in CUPY_FUNCTIONS exist. Each was checked to exist in CuPy with
  the same signature (ufuncs accept `out=`; `sum` and `all` accept `axis` and `out`).
Results are computed by NumPy, so they must equal the NumPy backend's bit for bit.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from xorgpu.backend import Backend

CUPY_FUNCTIONS = {
    # creation and transfer
    "empty", "zeros", "asarray", "arange", "zeros_like", "ones_like", "empty_like", "broadcast_to", "moveaxis",
    # ufuncs (cupy.ufunc supports out=)
    "add", "subtract", "multiply", "divide", "negative", "minimum", "maximum", "exp", "tanh", "abs", "less",
    "logical_or", "logical_not", "logical_and", "isfinite",
    # reductions and selection
    "sum", "all", "any", "where",
}


class DeviceArray:
    """An array that lives "on the device": usable only through the strict namespace."""

    __slots__ = ("_data",)
    __array_priority__ = 1000

    def __init__(self, data: np.ndarray) -> None:
        self._data = data

    # what CuPy arrays have
    shape = property(lambda self: self._data.shape)
    dtype = property(lambda self: self._data.dtype)
    ndim = property(lambda self: self._data.ndim)
    size = property(lambda self: self._data.size)
    T = property(lambda self: DeviceArray(self._data.T))

    def reshape(self, *shape: Any) -> DeviceArray:
        return DeviceArray(self._data.reshape(*shape))

    def copy(self) -> DeviceArray:
        return DeviceArray(self._data.copy())

    def astype(self, dtype: Any) -> DeviceArray:
        return DeviceArray(self._data.astype(dtype))

    def view(self, dtype: Any) -> DeviceArray:
        return DeviceArray(self._data.view(dtype))

    def __getitem__(self, key: Any) -> DeviceArray:
        return DeviceArray(self._data[_unwrap_key(key)])

    def __setitem__(self, key: Any, value: Any) -> None:
        self._data[_unwrap_key(key)] = _device_operand(value)

    def __len__(self) -> int:
        return len(self._data)

    # arithmetic, as on the device
    def _binary(op):  # type: ignore[no-untyped-def]
        def method(self, other):  # type: ignore[no-untyped-def]
            return DeviceArray(op(self._data, _device_operand(other)))
        return method

    def _reflected(op):  # type: ignore[no-untyped-def]
        def method(self, other):  # type: ignore[no-untyped-def]
            return DeviceArray(op(_device_operand(other), self._data))
        return method

    __add__, __sub__, __mul__, __truediv__ = map(_binary, (np.add, np.subtract, np.multiply, np.divide))
    __radd__, __rsub__, __rmul__, __rtruediv__ = map(_reflected, (np.add, np.subtract, np.multiply, np.divide))
    __and__, __or__ = _binary(np.logical_and), _binary(np.logical_or)
    __xor__, __rshift__ = _binary(np.bitwise_xor), _binary(np.right_shift)
    __lt__, __le__, __gt__, __ge__ = map(_binary, (np.less, np.less_equal, np.greater, np.greater_equal))
    __eq__, __ne__ = _binary(np.equal), _binary(np.not_equal)  # type: ignore[assignment]
    __hash__ = None  # type: ignore[assignment]

    def __invert__(self) -> DeviceArray:
        return DeviceArray(~self._data)

    def __neg__(self) -> DeviceArray:
        return DeviceArray(-self._data)

    # what CuPy refuses, or what costs a synchronisation there
    def __array__(self, *args: Any, **kwargs: Any) -> np.ndarray:
        raise TypeError("implicit conversion of a device array to NumPy: use Backend.to_host")

    def __array_ufunc__(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("a NumPy ufunc called on a device array: use xp.<ufunc>")

    def __array_function__(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("a NumPy function called on a device array: use xp.<function>")

    def _sync(self, *args: Any) -> Any:
        raise TypeError("a device-to-host synchronisation inside device code: use Backend.to_host")

    __bool__ = __float__ = __int__ = __index__ = __iter__ = item = tolist = _sync


def _unwrap_key(key: Any) -> Any:
    if isinstance(key, tuple):
        return tuple(_unwrap_key(k) for k in key)
    return key._data if isinstance(key, DeviceArray) else key


def _device_operand(value: Any) -> Any:
    if isinstance(value, DeviceArray):
        return value._data
    if isinstance(value, np.ndarray) and value.ndim > 0:
        raise TypeError("a host NumPy array mixed into device arithmetic: move it with xp.asarray")
    return value


class StrictNamespace:
    """The module `xp` as the engine sees it."""

    def __getattr__(self, name: str) -> Any:
        if name not in CUPY_FUNCTIONS:
            raise AttributeError(f"xp.{name} is not in the CuPy-compatible subset (tests/strict_xp.py)")
        numpy_function = getattr(np, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            if name == "asarray":
                return DeviceArray(np.array(args[0], *args[1:], **kwargs))
            if name == "arange":
                return DeviceArray(np.arange(*args, **kwargs))
            out = kwargs.get("out")
            if out is not None and not isinstance(out, DeviceArray):
                raise TypeError(f"xp.{name}: out= must be a device array")
            args = tuple(_device_operand(a) for a in args)
            kwargs = {k: _device_operand(v) for k, v in kwargs.items()}
            result = numpy_function(*args, **kwargs)
            if out is not None:
                return out
            return DeviceArray(result) if isinstance(result, np.ndarray) else result

        return call


xp = StrictNamespace()


def to_host(array: DeviceArray) -> np.ndarray:
    return array._data.copy()


def strict_backend() -> Backend:
    return Backend(
        name="strict-numpy", xp=xp, to_device=xp.asarray, to_host=to_host,
        on_device=True, device="numpy stand-in for cupy", processes=1, free_memory=lambda: None,
        quiet=lambda: np.errstate(all="ignore"),
    )
