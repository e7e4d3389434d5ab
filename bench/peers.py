"""The peers a user might pick instead of xorgpu: the same nets-last XOR training in
PyTorch (torch.compile) and JAX (vmap + jit). Training only: no per-epoch success
tracking, which flatters the peers slightly. Each returns seconds for (nets, epochs).
"""

from __future__ import annotations

import time

import numpy as np

from xorgpu.config import Config
from xorgpu.init import initial_params

TARGETS = [0.0, 1.0, 1.0, 0.0]


def torch_seconds(nets: int, epochs: int, dtype: str, device: str = "cpu") -> tuple[float, float]:
    """(first call incl. compile, steady-state) seconds of torch.compile on a nets-last layout."""
    import torch  # noqa: PLC0415

    torch_dtype = getattr(torch, dtype)
    y = torch.tensor(TARGETS, dtype=torch_dtype, device=device)[:, None]
    step = Config().step

    def epoch(w1, b1, w2, b2):
        m = -b1  # (H, n)
        z = torch.stack([m, m - w1[1], m - w1[0], m - (w1[0] + w1[1])])  # (4, H, n)
        a1 = 1 / (1 + torch.exp(z))
        a2 = 1 / (1 + torch.exp(-((a1 * w2).sum(1) + b2)))  # (4, n)
        d_z2 = (a2 - y) * ((1 - a2) * a2)
        d_z1 = d_z2[:, None] * w2 * ((1 - a1) * a1)  # (4, H, n)
        d_w1 = torch.stack([d_z1[2] + d_z1[3], d_z1[1] + d_z1[3]])
        return (w1 - step * d_w1, b1 - step * d_z1.sum(0),
                w2 - step * (a1 * d_z2[:, None]).sum(0), b2 - step * d_z2.sum(0))

    compiled = torch.compile(epoch)
    host = initial_params(Config().init_scheme, np.arange(nets), 4, dtype)
    times = []
    for _ in range(2):
        params = [torch.as_tensor(a, device=device) for a in host.arrays()]
        if device != "cpu":
            torch.cuda.synchronize()
        start = time.perf_counter()
        for _ in range(epochs):
            params = compiled(*params)
        if device != "cpu":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return times[0], times[1]


def torch_vmap_seconds(nets: int, epochs: int, dtype: str, device: str = "cpu") -> tuple[float, float]:
    """(first call, steady-state) seconds of torch.func.vmap over one net's gradient step."""
    import torch  # noqa: PLC0415
    from torch.func import grad, vmap  # noqa: PLC0415

    torch_dtype = getattr(torch, dtype)
    x = torch.tensor([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=torch_dtype, device=device)
    y = torch.tensor(TARGETS, dtype=torch_dtype, device=device)
    step = Config().step

    def loss(w1, b1, w2, b2):  # one net: w1 (2, H), b1 (H,), w2 (H,), b2 ()
        a1 = torch.sigmoid(x @ w1 + b1)
        a2 = torch.sigmoid(a1 @ w2 + b2)
        return 0.5 * ((a2 - y) ** 2).sum()

    gradients = vmap(grad(loss, argnums=(0, 1, 2, 3)))
    host = initial_params(Config().init_scheme, np.arange(nets), 4, dtype)
    times = []
    for _ in range(2):
        params = [torch.as_tensor(np.ascontiguousarray(np.moveaxis(a, -1, 0)), device=device)
                  for a in host.arrays()]
        start = time.perf_counter()
        for _ in range(epochs):
            params = [p - step * g for p, g in zip(params, gradients(*params))]
        if device != "cpu":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return times[0], times[1]


def jax_seconds(nets: int, epochs: int, dtype: str) -> tuple[float, float]:
    """(first call incl. compile, steady-state) seconds of jax.vmap + jit over one net's step."""
    import jax  # noqa: PLC0415

    jax.config.update("jax_enable_x64", dtype == "float64")
    import jax.numpy as jnp  # noqa: PLC0415

    x = jnp.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=dtype)
    y = jnp.array(TARGETS, dtype=dtype)
    step = Config().step

    def one_net(w1, b1, w2, b2):  # w1 (2, H), b1 (H,), w2 (H,), b2 ()
        def loss(params):
            w1, b1, w2, b2 = params
            a1 = jax.nn.sigmoid(x @ w1 + b1)
            a2 = jax.nn.sigmoid(a1 @ w2 + b2)
            return 0.5 * jnp.sum((a2 - y) ** 2)

        grads = jax.grad(loss)((w1, b1, w2, b2))
        return tuple(p - step * g for p, g in zip((w1, b1, w2, b2), grads))

    def train(params):
        return jax.lax.fori_loop(0, epochs, lambda _, p: jax.vmap(one_net)(*p), params)

    run = jax.jit(train)
    host = initial_params(Config().init_scheme, np.arange(nets), 4, dtype)
    params = (jnp.asarray(np.moveaxis(host.w1, -1, 0)), jnp.asarray(host.b1.T),
              jnp.asarray(host.w2.T), jnp.asarray(host.b2))
    times = []
    for _ in range(2):
        start = time.perf_counter()
        jax.block_until_ready(run(params))
        times.append(time.perf_counter() - start)
    return times[0], times[1]
