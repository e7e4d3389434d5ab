"""xorgpu: how, and how often, does backpropagation solve XOR?

Trains many independently seeded 2-H-1 sigmoid nets on XOR at once, on NumPy or CuPy,
and reports how they converge. Start with `xorgpu.experiment.train_seeds`.
"""

__version__ = "0.1.0"
