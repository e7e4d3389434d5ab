"""What a net is asked to learn, and the units it is built of: the one place that says so.

A task is a Boolean function of N inputs, given as all of its 2^N patterns:

- `xor` (the notebook's): two inputs, targets 0, 1, 1, 0;
- `parity:N` (2 <= N <= MAX_PARITY_INPUTS): 1 where an odd number of the N inputs is 1;
  `parity:2` is XOR;
- `table:BITS`: any Boolean function of two inputs, BITS its four targets for the inputs
  00, 01, 10, 11 (`table:0110` is XOR, `table:0001` AND).

Pattern p holds the bits of p, the first input being the most significant bit, so the
two-input patterns come in the notebook's order 00, 01, 10, 11, and the output of pattern
p is named `o` followed by its bits (`o00` ... `o11`; `o000` ... `o111` for three inputs).

Encodings: `01` gives inputs and targets as the bits themselves (the notebook's); `pm1`
as -1 and +1 (x = 2b - 1, y = 2t - 1), as LeCun et al. (1998) recommend with tanh units.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .errors import ConfigError

MAX_PARITY_INPUTS = 10
ACTIVATIONS = ("sigmoid", "tanh", "relu")  # of the hidden units
OUTPUT_UNITS = ("sigmoid", "tanh", "linear")
ENCODINGS = ("01", "pm1")
LOSSES = ("sse", "cross-entropy")
ENCODED = {"01": (0.0, 1.0), "pm1": (-1.0, 1.0)}  # the values of bit 0 and bit 1
OUTPUT_RANGES = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0), "linear": (-math.inf, math.inf)}

# the Boolean functions of two inputs people name, by their table (targets of 00 01 10 11)
NAMED_TABLES = {"0110": "XOR", "0001": "AND", "0111": "OR", "1110": "NAND", "1000": "NOR", "1001": "XNOR",
                "0000": "constant 0", "1111": "constant 1"}


@dataclass(frozen=True)
class Task:
    """A Boolean function of `inputs` inputs, by its targets in pattern order."""

    text: str  # as given: xor, parity:N, table:BITS
    inputs: int
    target_bits: tuple[int, ...]  # one per pattern, 2 ** inputs of them

    @classmethod
    def parse(cls, text: str) -> Task:
        if not isinstance(text, str):
            raise ConfigError(f"task must be a string, got {text!r:.40}")
        if text == "xor":
            return cls(text, 2, (0, 1, 1, 0))
        name, _, argument = text.partition(":")
        if name == "parity" and argument.isascii() and argument.isdigit():
            inputs = int(argument)
            if not 2 <= inputs <= MAX_PARITY_INPUTS:
                raise ConfigError(f"task {text}: parity takes 2 to {MAX_PARITY_INPUTS} inputs")
            return cls(text, inputs, tuple(bin(p).count("1") % 2 for p in range(2**inputs)))
        if name == "table" and len(argument) == 4 and set(argument) <= {"0", "1"}:
            return cls(text, 2, tuple(int(bit) for bit in argument))
        raise ConfigError(f"unknown task {text!r:.40}: use xor, parity:N (N = 2..{MAX_PARITY_INPUTS}) "
                          "or table:BITS (the targets of inputs 00 01 10 11, e.g. table:0001 for AND)")

    @property
    def patterns(self) -> int:
        return len(self.target_bits)

    @cached_property
    def input_bits(self) -> np.ndarray:
        """(P, N) the bits of each pattern, the first input the most significant."""
        p = np.arange(self.patterns)[:, None]
        return (p >> np.arange(self.inputs - 1, -1, -1)[None, :]) & 1

    @property
    def output_names(self) -> tuple[str, ...]:
        """o followed by the pattern's bits: o00 o01 o10 o11 for two inputs."""
        return tuple("o" + "".join(str(b) for b in row) for row in self.input_bits)

    @property
    def is_xor(self) -> bool:
        return self.inputs == 2 and self.target_bits == (0, 1, 1, 0)

    @property
    def words(self) -> str:
        """'XOR', 'parity of 3 bits', 'AND (table 0001)'."""
        if self.text == "xor":
            return "XOR"
        if self.text.startswith("parity"):
            return f"parity of {self.inputs} bits"
        bits = "".join(map(str, self.target_bits))
        name = NAMED_TABLES.get(bits)
        return f"{name} (table {bits})" if name else f"the function with table {bits}"

    def inputs_as(self, encoding: str) -> np.ndarray:
        """(P, N) float64: the inputs in an encoding."""
        low, high = ENCODED[encoding]
        return np.where(self.input_bits == 1, high, low)

    def targets_as(self, encoding: str) -> np.ndarray:
        """(P,) float64: the targets in an encoding."""
        low, high = ENCODED[encoding]
        return np.where(np.array(self.target_bits) == 1, high, low)


def check_family(task: Task, activation: str, output: str, encoding: str, loss: str) -> None:
    """Refuse, in one line, a net that cannot learn its task as asked."""
    low, high = ENCODED[encoding]
    out_low, out_high = OUTPUT_RANGES[output]
    if loss == "cross-entropy" and (output != "sigmoid" or encoding != "01"):
        raise ConfigError("loss cross-entropy is the Bernoulli likelihood of 0/1 targets: it needs --output sigmoid "
                          "and --encoding 01")
    if not (out_low <= low and high <= out_high):
        raise ConfigError(f"an output unit {output} (range {out_low:g} to {out_high:g}) cannot reach the targets "
                          f"{low:g} and {high:g} of encoding {encoding}: use --encoding 01, or --output tanh or linear")
