"""`xorgpu demo --explain`: the notebook's net, one epoch at a time, in words and numbers.

Prints one epoch of backprop layer by layer (activations, deltas, gradients, updates),
as the array engine computes it, checks the gradients against central finite
differences of the notebook's own forward pass, and draws the decision boundary as text
at a few epochs of training (watched through the engine's observer hook).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from .backend import numpy_backend
from .config import Config
from .engines.array import EpochView, backprop, forward_pass, predict, train_block
from .engines.contract import LOSS_SCALE, PATTERNS, TARGETS
from .init import initial_params
from .notebook import X, NeuralNetwork, y
from .params import Params

SNAPSHOT_EPOCHS = (0, 1000, 2000, 4000, 10000)
SHADES = " .:-=+*#%@"  # output 0 ... 1
FINITE_DIFFERENCE_STEP = 1e-6


def explain(seed: int, hidden: int, epochs: int, lr: float, print_fn: Callable[[str], None] = print) -> None:
    config = Config(hidden=hidden, epochs=epochs, lr=lr, init="notebook")
    backend = numpy_backend()
    params = initial_params(config.init_scheme, np.array([seed]), hidden, config.dtype)  # nets on the last axis
    net = params.map(lambda a: a[..., 0])  # one net: w1 (2, H), b1 (H,), w2 (H,), b2 ()

    def show(title: str, array: np.ndarray) -> None:
        text = np.array2string(np.asarray(array), precision=4, suppress_small=True)
        print_fn(f"{title}\n{text}\n")

    print_fn(f"The notebook's 2-{hidden}-1 net, seed {seed}, lr {lr}: one epoch of backprop.\n")
    show("inputs X (4 patterns x 2)", np.array(PATTERNS))
    show("W1 input->hidden (2 x H), b1 = 0", net.w1)
    show("W2 hidden->output (H x 1), b2 = 0", net.w2[:, None])

    seen = forward_pass(np, params, np.array(PATTERNS))
    show("forward 1: z1 = X W1 + b1 (4 x H)", seen.z1[..., 0])
    show("forward 2: a1 = sigmoid(z1)", seen.a1[..., 0])
    show("forward 3: z2 = a1 W2 + b2 (4 x 1)", seen.z2)
    show("forward 4: a2 = sigmoid(z2), the outputs", seen.a2)
    outputs = seen.a2[:, 0]
    print_fn(f"loss (mean squared error) = {LOSS_SCALE * np.sum((outputs - TARGETS) ** 2):.6f}\n")

    step = backprop(params, backend)
    show("backward 1: output delta d_z2 = dL/dz2 = (a2 - y) a2 (1 - a2)", step.d_z2)
    show("backward 2: hidden delta d_z1 = dL/dz1 = (d_z2 W2^T) a1 (1 - a1)", step.d_z1[..., 0])
    gradients = step.gradients.map(lambda a: a[..., 0])
    shown = {"W2": gradients.w2[:, None], "b2": gradients.b2, "W1": gradients.w1, "b1": gradients.b1}
    for name, grad in shown.items():
        show(f"gradient dL/d{name}, with L = 1/2 sum (y - a2)^2", grad)
        show(f"update to {name} = -lr * dL/d{name}", -lr * grad)

    print_fn(f"gradient check: central finite differences of L, step {FINITE_DIFFERENCE_STEP:g}, "
             "on the notebook's own forward pass")
    worst = _finite_difference_check(seed, hidden, gradients, print_fn)
    print_fn(f"largest relative difference: {worst:.2e}\n")

    print_fn("decision boundary: the output over [-0.5, 1.5]^2 ('@' near 1, ' ' near 0; "
             "X marks the XOR patterns)")

    def picture(view: EpochView) -> None:
        if view.epoch in SNAPSHOT_EPOCHS:
            print_fn(f"\nafter {view.epoch} epochs, outputs {np.round(view.outputs[:, 0], 3)}")
            for line in boundary_picture(view.params):
                print_fn("  " + line)

    train_block(params, config, backend, observe=picture)


def _finite_difference_check(seed: int, hidden: int, gradients: Params, print_fn: Callable[[str], None]) -> float:
    """Backprop's gradients against central differences of L, computed by the notebook's code."""
    nn = NeuralNetwork(2, hidden, 1, rng=np.random.RandomState(seed))  # the same initial weights
    arrays = {"W1": (nn.weights_input_hidden, gradients.w1), "b1": (nn.bias_hidden, gradients.b1[None, :]),
              "W2": (nn.weights_hidden_output, gradients.w2[:, None]), "b2": (nn.bias_output, gradients.b2.reshape(1, 1))}

    def loss() -> float:
        return 0.5 * float(np.sum((y - nn.feedforward(X)) ** 2))

    worst = 0.0
    eps = FINITE_DIFFERENCE_STEP
    for name, (array, analytic) in arrays.items():
        numeric = np.zeros_like(array)
        for index in np.ndindex(array.shape):
            saved = array[index]
            array[index] = saved + eps
            plus = loss()
            array[index] = saved - eps
            minus = loss()
            array[index] = saved
            numeric[index] = (plus - minus) / (2 * eps)
        scale = np.maximum(np.abs(numeric), np.abs(analytic)).max() or 1.0
        relative = float(np.abs(numeric - analytic).max() / scale)
        worst = max(worst, relative)
        print_fn(f"  {name}: max |backprop - numeric| / max |gradient| = {relative:.2e}")
    return worst


def boundary_picture(params: Params, width: int = 33, height: int = 13) -> list[str]:
    """The first net's output over [-0.5, 1.5]^2 as text, the XOR patterns marked X."""
    xs = np.linspace(-0.5, 1.5, width)
    ys = np.linspace(1.5, -0.5, height)
    grid = np.array([[x0, x1] for x1 in ys for x0 in xs])
    with numpy_backend().quiet():
        out = predict(np, params, grid)[:, 0].reshape(height, width)
    rows = []
    for r, x1 in enumerate(ys):
        row = ""
        for c, x0 in enumerate(xs):
            if any(abs(x0 - p[0]) < 1e-9 and abs(x1 - p[1]) < 1e-9 for p in PATTERNS):
                row += "X"
            else:
                row += SHADES[min(len(SHADES) - 1, int(out[r, c] * len(SHADES)))]
        rows.append(row)
    return rows
