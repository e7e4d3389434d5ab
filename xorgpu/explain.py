"""`xorgpu demo --explain`: one net, one epoch at a time, in words and numbers.

Prints one epoch of backprop layer by layer (activations, deltas, gradients, updates) for
whichever net is asked for (the notebook's by default), checks the gradients against
central finite differences of the loss (for the notebook's net, of the notebook's own
forward pass), and, for a task of two inputs, draws the decision boundary as text at a
few epochs of training (watched through the engine's observer hook).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from .backend import numpy_backend
from .config import Config
from .engines import general
from .engines.array import train_block
from .engines.contract import EXP_ARG_MAX
from .init import nets_of
from .notebook import X, NeuralNetwork, y
from .params import Params
from .tasks import ENCODED
from .words import describe

SNAPSHOT_EPOCHS = (0, 1000, 2000, 4000, 10000)
SHADES = " .:-=+*#%@"  # output at the lower target ... at the higher
FINITE_DIFFERENCE_STEP = 1e-6
UNIT_FORMULAS = {"sigmoid": "1 / (1 + exp(-z))", "tanh": "tanh(z)", "relu": "max(z, 0)", "linear": "z"}
SLOPE_FORMULAS = {"sigmoid": "{a} (1 - {a})", "tanh": "(1 - {a}^2)", "relu": "[{a} > 0]", "linear": "1"}


def training_loss(config: Config, outputs: np.ndarray, targets: np.ndarray) -> float:
    """The loss training descends, of one net's outputs (P,): 1/2 sum (a2 - y)^2 or
    -sum [y log a2 + (1 - y) log(1 - a2)], divided by P for loss_reduction mean."""
    if config.loss == "cross-entropy":
        value = -float(np.sum(targets * np.log(outputs) + (1 - targets) * np.log1p(-outputs)))
    else:
        value = 0.5 * float(np.sum((outputs - targets) ** 2))
    return value / len(targets) if config.loss_reduction == "mean" else value


def explain(config: Config, seed: int, print_fn: Callable[[str], None] = print) -> None:
    """Explain one net of `config`, its initial weights np.random.seed(seed)'s (notebook init)."""
    config = config.replace(init="notebook", sample_every=0)
    backend = numpy_backend()
    params = nets_of(config, np.array([seed]))  # nets on the last axis
    one = params.map(lambda a: a[..., 0])  # one net: w1 (N, H), b1 (H,), w2 (H,), b2 ()
    task = config.task_spec
    x, targets = task.inputs_as(config.encoding), task.targets_as(config.encoding)
    f, g = config.activation, config.output

    def show(title: str, array: np.ndarray) -> None:
        text = np.array2string(np.asarray(array) + 0.0, precision=4, suppress_small=True)  # + 0.0: no -0 shown
        print_fn(f"{title}\n{text}\n")

    print_fn(f"The {describe(config)}; seed {seed}: one epoch of backprop.\n")
    show(f"inputs X ({task.patterns} patterns x {task.inputs})", x)
    show("targets y", targets[:, None])
    show(f"W1 input->hidden ({task.inputs} x H)" + (", b1 = 0" if not one.b1.any() else ""), one.w1)
    show("W2 hidden->output (H x 1)" + (", b2 = 0" if not one.b2.any() else ""), one.w2[:, None])
    if one.ws is not None:
        show(f"Ws input->output, the skip weights ({task.inputs} x 1)", one.ws[:, None])

    clip = EXP_ARG_MAX[config.dtype]
    a1, a2 = general.forward(np, params, x, config, clip)
    show("forward 1: z1 = X W1" + (" + b1" if config.bias else "") + f" ({task.patterns} x H)",
         (general.inputs_times(x, params.w1) + params.b1)[..., 0])
    show(f"forward 2: a1 = {f}(z1) = {UNIT_FORMULAS[f]}", a1[..., 0])
    skip = " + X Ws" if config.skip else ""
    show(f"forward 3: a2 = {g}(z2), z2 = a1 W2" + (" + b2" if config.bias else "") + f"{skip}: the outputs", a2)
    outputs = a2[:, 0]
    err = outputs - targets
    print_fn(f"mean squared error (what every run reports as its loss) = {np.mean(err ** 2):.6f}")
    print_fn(f"training loss L ({'cross-entropy' if config.loss == 'cross-entropy' else '1/2 sum of squared errors'}"
             f"{', divided by P' if config.loss_reduction == 'mean' else ''}) = "
             f"{training_loss(config, outputs, targets):.6f}\n")

    gradients = general.gradients(np, params, x, a1, a2, a2 - targets[:, None], config)
    d_z2, d_z1 = general.deltas(np, params, a1, a2, a2 - targets[:, None], config)
    output_delta = ("a2 - y (cross-entropy of a sigmoid)" if config.loss == "cross-entropy"
                    else "a2 - y (a linear output's slope is 1)" if g == "linear"
                    else f"(a2 - y) {SLOPE_FORMULAS[g].format(a='a2')}")
    show(f"backward 1: output delta d_z2 = dL/dz2 = {output_delta}", d_z2)
    show(f"backward 2: hidden delta d_z1 = dL/dz1 = (d_z2 W2^T) {SLOPE_FORMULAS[f].format(a='a1')}", d_z1[..., 0])
    step = config.step
    one_gradient = gradients.map(lambda a: a[..., 0])
    shown = {"W2": one_gradient.w2[:, None], "W1": one_gradient.w1}
    if config.bias:
        shown.update({"b2": one_gradient.b2, "b1": one_gradient.b1})
    if config.skip:
        shown["Ws"] = one_gradient.ws[:, None]
    for name, grad in shown.items():
        show(f"gradient dL/d{name}", grad)
        show(f"update to {name} = -{'lr / P' if config.loss_reduction == 'mean' else 'lr'} * dL/d{name}", -step * grad)

    print_fn(f"gradient check: central finite differences of L, step {FINITE_DIFFERENCE_STEP:g}, "
             + ("on the notebook's own forward pass" if config == Config(init="notebook", sample_every=0)
                else "on the forward pass"))
    if config == Config(init="notebook", sample_every=0):
        worst = _notebook_finite_differences(seed, config.hidden, one_gradient, print_fn)
    else:
        worst = _finite_differences(config, params, gradients, print_fn)
    print_fn(f"largest relative difference: {worst:.2e}\n")

    if task.inputs != 2:
        print_fn(f"(no decision boundary drawn: the task has {task.inputs} inputs, not a plane)")
        return
    low, high = ENCODED[config.encoding]
    print_fn(f"decision boundary: the output over the input plane ('@' near {high:g}, ' ' near {low:g}; "
             "X marks the task's patterns)")

    def picture(view) -> None:  # noqa: ANN001
        if view.epoch in SNAPSHOT_EPOCHS:
            print_fn(f"\nafter {view.epoch} epochs, outputs {np.round(view.outputs[:, 0], 3)}")
            for line in boundary_picture(view.params, config):
                print_fn("  " + line)

    train_block(params, config, backend, observe=picture)


NOTEBOOK_PRINT_EVERY = 4000  # the notebook prints its loss every 4000 epochs


def train_one(config: Config, seed: int, print_fn: Callable[[str], None] = print) -> None:
    """Train one net of `config` (notebook init from `seed`) and print what the notebook
    prints: its loss, the mean squared error, every 4000 epochs, then its outputs."""
    config = config.replace(init="notebook", sample_every=0)
    params = nets_of(config, np.array([seed]))

    def observe(view) -> None:  # noqa: ANN001
        if view.epoch % NOTEBOOK_PRINT_EVERY == 0 and view.epoch < config.epochs:
            print_fn(f"Epoch {view.epoch}, Loss: {float(np.mean(np.asarray(view.error[:, 0]) ** 2))}")
        if view.epoch == config.epochs:
            print_fn("Predictions after training:")
            print_fn(str(np.asarray(view.outputs)))

    train_block(params, config, numpy_backend(), observe=observe)


def _finite_differences(config: Config, params: Params, gradients: Params, print_fn: Callable[[str], None]) -> float:
    """Backprop's gradients against central differences of the training loss."""
    task = config.task_spec
    x, targets = task.inputs_as(config.encoding), task.targets_as(config.encoding)
    clip = EXP_ARG_MAX[config.dtype]

    def loss() -> float:
        return training_loss(config, general.forward(np, params, x, config, clip)[1][:, 0], targets)

    names = {"w1": "W1", "b1": "b1", "w2": "W2", "b2": "b2", "ws": "Ws"}
    compared = {}
    for name, label in names.items():
        array = getattr(params, name)
        if array is None or (name in ("b1", "b2") and not config.bias):
            continue
        analytic = getattr(gradients, name)
        numeric = _central_differences(array, loss)
        if config.loss_reduction == "mean":
            numeric = numeric * task.patterns  # the gradients shown are of the sum; the step divides by P
        compared[label] = (numeric, analytic)
    return _report(compared, print_fn)


def _central_differences(array: np.ndarray, loss: Callable[[], float]) -> np.ndarray:
    """d loss / d array by central differences, each element moved by FINITE_DIFFERENCE_STEP
    in place and put back."""
    numeric = np.zeros_like(array)
    for index in np.ndindex(array.shape):
        saved = array[index]
        array[index] = saved + FINITE_DIFFERENCE_STEP
        plus = loss()
        array[index] = saved - FINITE_DIFFERENCE_STEP
        minus = loss()
        array[index] = saved
        numeric[index] = (plus - minus) / (2 * FINITE_DIFFERENCE_STEP)
    return numeric


def _report(compared: dict[str, tuple[np.ndarray, np.ndarray]], print_fn: Callable[[str], None]) -> float:
    """Each array's largest difference, relative to the largest gradient of the net (a
    gradient that is zero by symmetry is then not judged on its rounding noise alone)."""
    scale = max(float(np.maximum(np.abs(n), np.abs(a)).max()) for n, a in compared.values()) or 1.0
    worst = 0.0
    for name, (numeric, analytic) in compared.items():
        relative = float(np.abs(numeric - analytic).max() / scale)
        print_fn(f"  {name}: max |backprop - numeric| / max |gradient| = {relative:.2e}")
        worst = max(worst, relative)
    return worst


def _notebook_finite_differences(seed: int, hidden: int, gradients: Params, print_fn: Callable[[str], None]) -> float:
    """Backprop's gradients against central differences of L, computed by the notebook's code."""
    nn = NeuralNetwork(2, hidden, 1, rng=np.random.RandomState(seed))  # the same initial weights
    arrays = {"W1": (nn.weights_input_hidden, gradients.w1), "b1": (nn.bias_hidden, gradients.b1[None, :]),
              "W2": (nn.weights_hidden_output, gradients.w2[:, None]), "b2": (nn.bias_output, gradients.b2.reshape(1, 1))}

    def loss() -> float:
        return 0.5 * float(np.sum((y - nn.feedforward(X)) ** 2))

    compared = {name: (_central_differences(array, loss), analytic) for name, (array, analytic) in arrays.items()}
    return _report(compared, print_fn)


def boundary_picture(params: Params, config: Config | None = None, width: int = 33, height: int = 13) -> list[str]:
    """The first net's output over the input plane as text, the task's patterns marked X: the
    plane from half a step below the lower input value to half a step above the higher."""
    config = config or Config()
    low, high = ENCODED[config.encoding]
    margin = (high - low) / 2
    xs = np.linspace(low - margin, high + margin, width)
    ys = np.linspace(high + margin, low - margin, height)
    grid = np.array([[x0, x1] for x1 in ys for x0 in xs])
    with numpy_backend().quiet():
        out = general.forward(np, params, grid, config, EXP_ARG_MAX["float64"])[1][:, 0].reshape(height, width)
    shade = np.clip((out - low) / (high - low), 0, 1 - 1e-12)
    points = config.task_spec.inputs_as(config.encoding)
    rows = []
    for r, x1 in enumerate(ys):
        row = ""
        for c, x0 in enumerate(xs):
            if any(abs(x0 - p[0]) < 1e-9 and abs(x1 - p[1]) < 1e-9 for p in points):
                row += "X"
            else:
                row += SHADES[int(shade[r, c] * len(SHADES))] if np.isfinite(shade[r, c]) else "?"
        rows.append(row)
    return rows
