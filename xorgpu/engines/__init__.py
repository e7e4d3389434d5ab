"""The engines that train a block of nets, all following one contract.

- `contract.py`: what every engine shares (the task, the per-net record, the kernels'
  arguments);
- `array.py`: the readable reference, on any array module (NumPy, CuPy);
- `fused_cpu.py` (+ `fast_exp.py`): the whole epoch loop in one numba kernel;
- `fused_gpu.py` + `fused_gpu.cu`: the whole epoch loop in one CUDA kernel;
- `selection.py`: which engine trains a config on a backend.
Per-net results are bit for bit the same within one engine and dtype whatever the block
size or chunking, and agree to a stated tolerance across engines
(tests/engines/test_conformance.py).
"""
