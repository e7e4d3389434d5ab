"""`xorgpu demo --explain`: the notebook's net, one epoch at a time, in words and numbers.

Prints one epoch of backprop layer by layer (activations, deltas, gradients, updates),
checks the gradients against central finite differences, and draws the decision boundary
as text at a few epochs of training.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from .notebook import X, NeuralNetwork, y

SNAPSHOT_EPOCHS = (0, 1000, 2000, 4000, 10000)
SHADES = " .:-=+*#%@"  # output 0 ... 1


def explain(seed: int, hidden: int, epochs: int, lr: float, print_fn: Callable[[str], None] = print) -> None:
    nn = NeuralNetwork(2, hidden, 1, rng=np.random.RandomState(seed))
    def show(title: str, array: np.ndarray) -> None:
        text = np.array2string(np.asarray(array), precision=4, suppress_small=True)
        print_fn(f"{title}\n{text}\n")

    print_fn(f"The notebook's 2-{hidden}-1 net, seed {seed}, lr {lr}: one epoch of backprop.\n")
    show("inputs X (4 patterns x 2)", X)
    show("W1 input->hidden (2 x H), b1 = 0", nn.weights_input_hidden)
    show("W2 hidden->output (H x 1), b2 = 0", nn.weights_hidden_output)

    output = nn.feedforward(X)
    show("forward 1: z1 = X W1 + b1 (4 x H)", nn.hidden_layer_activation)
    show("forward 2: a1 = sigmoid(z1)", nn.hidden_layer_output)
    show("forward 3: z2 = a1 W2 + b2 (4 x 1)", nn.output_layer_activation)
    show("forward 4: a2 = sigmoid(z2), the outputs", output)
    print_fn(f"loss (mean squared error) = {np.mean((y - output) ** 2):.6f}\n")

    output_delta = (y - output) * output * (1 - output)
    hidden_delta = output_delta @ nn.weights_hidden_output.T * nn.hidden_layer_output * (1 - nn.hidden_layer_output)
    show("backward 1: output delta = (y - a2) * a2 (1 - a2)   [= -dL/dz2]", output_delta)
    show("backward 2: hidden delta = (delta W2^T) * a1 (1 - a1)   [= -dL/dz1]", hidden_delta)
    grads = {
        "W2": -nn.hidden_layer_output.T @ output_delta, "b2": -output_delta.sum(0, keepdims=True),
        "W1": -X.T @ hidden_delta, "b1": -hidden_delta.sum(0, keepdims=True),
    }
    for name, grad in grads.items():
        show(f"gradient dL/d{name}, with L = 1/2 sum (y - a2)^2", grad)
        show(f"update to {name} = -lr * dL/d{name}", -lr * grad)

    print_fn("gradient check: central finite differences of L, step 1e-6")
    worst = _finite_difference_check(nn, grads, print_fn)
    print_fn(f"largest relative difference: {worst:.2e}\n")

    print_fn("decision boundary: the output over [-0.5, 1.5]^2 ('@' near 1, ' ' near 0; "
             "X marks the XOR patterns)")
    trained = NeuralNetwork(2, hidden, 1, rng=np.random.RandomState(seed))
    done = 0
    for epoch in (e for e in SNAPSHOT_EPOCHS if e <= epochs):
        for _ in range(epoch - done):
            trained.feedforward(X)
            trained.backward(X, y, lr)
        done = epoch
        print_fn(f"\nafter {epoch} epochs, outputs {np.round(trained.feedforward(X)[:, 0], 3)}")
        for line in boundary_picture(trained):
            print_fn("  " + line)


def _finite_difference_check(nn: NeuralNetwork, grads: dict, print_fn: Callable[[str], None]) -> float:
    params = {"W1": nn.weights_input_hidden, "b1": nn.bias_hidden,
              "W2": nn.weights_hidden_output, "b2": nn.bias_output}

    def loss() -> float:
        return 0.5 * float(np.sum((y - nn.feedforward(X)) ** 2))

    worst = 0.0
    eps = 1e-6
    for name, array in params.items():
        numeric = np.zeros_like(array)
        for index in np.ndindex(array.shape):
            saved = array[index]
            array[index] = saved + eps
            plus = loss()
            array[index] = saved - eps
            minus = loss()
            array[index] = saved
            numeric[index] = (plus - minus) / (2 * eps)
        scale = np.maximum(np.abs(numeric), np.abs(grads[name])).max() or 1.0
        relative = float(np.abs(numeric - grads[name]).max() / scale)
        worst = max(worst, relative)
        print_fn(f"  {name}: max |backprop - numeric| / max |gradient| = {relative:.2e}")
    nn.feedforward(X)  # restore the cached activations of the unperturbed net
    return worst


def boundary_picture(nn: NeuralNetwork, width: int = 33, height: int = 13) -> list[str]:
    xs = np.linspace(-0.5, 1.5, width)
    ys = np.linspace(1.5, -0.5, height)
    grid = np.array([[x0, x1] for x1 in ys for x0 in xs])
    out = nn.feedforward(grid)[:, 0].reshape(height, width)
    rows = []
    for r, x1 in enumerate(ys):
        row = ""
        for c, x0 in enumerate(xs):
            if any(abs(x0 - p[0]) < 1e-9 and abs(x1 - p[1]) < 1e-9 for p in X):
                row += "X"
            else:
                row += SHADES[min(len(SHADES) - 1, int(out[r, c] * len(SHADES)))]
        rows.append(row)
    nn.feedforward(X)
    return rows
