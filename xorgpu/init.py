"""Initial weights, generated on the host for each net from its seed alone.

Net s starts from the same weights whatever the batch size, chunking, backend or worker,
because nothing here depends on which other nets share its batch.

Schemes (see `xorgpu.config.InitScheme`), for a net of N inputs and H hidden units:
- `counter` (default): the notebook's distribution, weights U[0,1) and zero biases, drawn
  from a counter-based generator: the value of parameter j of net s is a pure function of
  (s, j), namely the top bits of splitmix64(splitmix64(s ^ SALT) + (j + 1) * GOLDEN).
  It is evaluated for all nets at once with uint64 array arithmetic, so 1e6 nets take a
  fraction of a second. Parameters are numbered in the order w1 (N, H) row-major, b1 (H),
  w2 (H), b2, then the skip weights ws (N) of a net that has them: the notebook's layout,
  so a net of two inputs without skip weights draws what it always has, and a net's skip
  weights are the numbers after its b2.
- `notebook`: exactly the notebook's `np.random.seed(s); W1 = rand(N, H); W2 = rand(H, 1)`,
  then `Ws = rand(N, 1)` for a net with skip weights, zero biases, through a private
  `RandomState(s)` (bit-identical, no global state). It is a Python loop over nets: about
  100k nets/s.
- `uniform:LOW:HIGH`: every weight and bias U[LOW, HIGH) from the counter generator,
  numbered as `counter`'s.
A net without biases (`--no-bias`) has zero biases under every scheme; its weights are
drawn as they would be with biases.

float64 values use the top 53 bits, float32 values the top 24, so a float32 net starts from
its float64 twin's weights truncated to float32 and no value rounds up to the open bound.
"""

from __future__ import annotations

import numpy as np

from .config import Config, InitScheme
from .params import Params

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_SALT = np.uint64(0x5851F42D4C957F2D)  # separates xorgpu's stream from other splitmix64 users


def nets_of(config: Config, seeds: np.ndarray, xp=np) -> Params:
    """The initial weights of a config's nets with the given seeds, on `xp`."""
    return initial_params(config.init_scheme, seeds, config.hidden, config.dtype, xp,
                          inputs=config.inputs, skip=config.skip, bias=config.bias)


def initial_params(scheme: InitScheme, seeds: np.ndarray, hidden: int, dtype: str, xp=np, *, inputs: int = 2,
                   skip: bool = False, bias: bool = True) -> Params:
    """Initial weights of the nets with the given seeds, as arrays of `dtype` on `xp`.

    The counter schemes are integer arithmetic and exact conversions, so they give the
    same bits computed by NumPy or, straight on the device, by CuPy.
    """
    if scheme.kind == "notebook":
        host = _notebook_params(np.asarray(seeds, dtype=np.int64), hidden, inputs, skip)
        return host.map(lambda a: xp.asarray(a.astype(dtype)))
    seeds = xp.asarray(seeds, dtype=np.int64)
    counts = {"w1": inputs * hidden, "b1": hidden, "w2": hidden, "b2": 1, "ws": inputs if skip else 0}
    draw_biases = scheme.kind == "uniform" and bias
    arrays, first = {}, 0
    for name, count in counts.items():
        if name in ("b1", "b2") and not draw_biases:
            arrays[name] = xp.zeros((count, seeds.size), dtype=dtype)
        elif count:
            u = counter_uniform(seeds, xp.arange(first, first + count), dtype)
            arrays[name] = _scale(u, scheme.low, scheme.high)  # (count, n)
        first += count
    return Params(
        w1=arrays["w1"].reshape(inputs, hidden, seeds.size),
        b1=arrays["b1"],
        w2=arrays["w2"],
        b2=arrays["b2"].reshape(seeds.size),
        ws=arrays.get("ws"),
    )


def counter_uniform(seeds: np.ndarray, indices: np.ndarray, dtype: str) -> np.ndarray:
    """U[0,1) values of parameters `indices` (P,) for `seeds` (n,), shape (P, n)."""
    key = _splitmix64(seeds.astype(np.uint64) ^ _SALT)  # (n,)
    counter = (indices.astype(np.uint64) + np.uint64(1)) * _GOLDEN  # (P,)
    bits = _splitmix64(key[None, :] + counter[:, None])  # (P, n)
    mantissa = 53 if dtype == "float64" else 24
    top = (bits >> np.uint64(64 - mantissa)).view(np.int64)  # < 2**53: the same value; int64
    return top.astype(dtype) * np.dtype(dtype).type(2.0**-mantissa)  # converts 3x faster than uint64


def _splitmix64(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser (Steele, Lea & Flood 2014), applied elementwise; wraps mod 2**64."""
    z = x + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _scale(u: np.ndarray, low: float, high: float) -> np.ndarray:
    if (low, high) == (0.0, 1.0):
        return u
    real = u.dtype.type
    values = u * real(high - low) + real(low)
    # Rounding can land exactly on `high`; keep the interval half-open.
    below_high = np.nextafter(real(high), real(low))  # a host scalar
    values[values > below_high] = below_high
    return values


def _notebook_params(seeds: np.ndarray, hidden: int, inputs: int = 2, skip: bool = False) -> Params:
    n = seeds.size
    w1 = np.empty((inputs, hidden, n))
    w2 = np.empty((hidden, n))
    ws = np.empty((inputs, n)) if skip else None
    for k, seed in enumerate(seeds.tolist()):
        rng = np.random.RandomState(seed)  # what np.random.seed(seed) sets up, minus the global
        w1[:, :, k] = rng.rand(inputs, hidden)
        w2[:, k] = rng.rand(hidden, 1)[:, 0]
        if ws is not None:
            ws[:, k] = rng.rand(inputs, 1)[:, 0]
    return Params(w1=w1, b1=np.zeros((hidden, n)), w2=w2, b2=np.zeros(n), ws=ws)
