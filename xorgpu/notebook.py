"""The notebook xorgpu grew from: one 2-4-1 sigmoid net trained on XOR, one net at a time.

Kept as close to the original as possible, because it is the oracle the batched engine is
tested against and what `xorgpu demo` runs. The one change: weights come from a
`RandomState(seed)` passed in, which draws exactly what `np.random.seed(seed)` followed by
`np.random.rand` would, without touching NumPy's global generator.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
y = np.array([[0], [1], [1], [0]])


class NeuralNetwork:
    def __init__(self, input_size, hidden_size, output_size, rng: np.random.RandomState):
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.output_size = output_size

        self.weights_input_hidden = rng.rand(self.input_size, self.hidden_size)
        self.weights_hidden_output = rng.rand(self.hidden_size, self.output_size)

        self.bias_hidden = np.zeros((1, self.hidden_size))
        self.bias_output = np.zeros((1, self.output_size))

    def sigmoid(self, x):
        return 1 / (1 + np.exp(-x))

    def sigmoid_derivative(self, x):
        return x * (1 - x)

    def feedforward(self, X):
        self.hidden_layer_activation = np.dot(X, self.weights_input_hidden) + self.bias_hidden
        self.hidden_layer_output = self.sigmoid(self.hidden_layer_activation)

        self.output_layer_activation = (
            np.dot(self.hidden_layer_output, self.weights_hidden_output) + self.bias_output
        )
        self.output_layer_output = self.sigmoid(self.output_layer_activation)

        return self.output_layer_output

    def backward(self, X, y, learning_rate=0.01):
        # Calculate the error at the output layer
        output_error = y - self.output_layer_output
        output_delta = output_error * self.sigmoid_derivative(self.output_layer_output)

        # Calculate the error at the hidden layer
        hidden_error = np.dot(output_delta, self.weights_hidden_output.T)
        hidden_delta = hidden_error * self.sigmoid_derivative(self.hidden_layer_output)

        # Update weights and biases
        self.weights_hidden_output += np.dot(self.hidden_layer_output.T, output_delta) * learning_rate
        self.bias_output += np.sum(output_delta, axis=0, keepdims=True) * learning_rate

        self.weights_input_hidden += np.dot(X.T, hidden_delta) * learning_rate
        self.bias_hidden += np.sum(hidden_delta, axis=0, keepdims=True) * learning_rate

    def train(self, X, y, epochs, learning_rate, print_fn: Callable[[str], None] = print):
        for epoch in range(epochs):
            self.feedforward(X)
            self.backward(X, y, learning_rate)

            if epoch % 4000 == 0:
                loss = np.mean(np.square(y - self.output_layer_output))
                print_fn(f"Epoch {epoch}, Loss: {loss}")


def run_notebook(
    seed: int, hidden: int = 4, epochs: int = 10000, learning_rate: float = 0.1,
    print_fn: Callable[[str], None] = print,
) -> NeuralNetwork:
    """The notebook's main cell, seeded: train one net and print what the notebook prints."""
    nn = NeuralNetwork(input_size=2, hidden_size=hidden, output_size=1, rng=np.random.RandomState(seed))
    nn.train(X, y, epochs=epochs, learning_rate=learning_rate, print_fn=print_fn)
    output = nn.feedforward(X)
    print_fn("Predictions after training:")
    print_fn(str(output))
    return nn
