// Just enough of CUDA's C++ dialect to compile xorgpu's kernel as plain host C++ and run
// its threads one after another (tests/engines/cuda_on_host.py). Built with FMA
// contraction off (-ffp-contract=off), as the GPU build is (--fmad=false): the kernels
// place their fused multiply-adds with fma() and compute exp and tanh themselves, so the
// host build computes the GPU's bits.
#pragma once
#include <cmath>
#include <cstring>

#define __global__
#define __device__
#define __forceinline__ inline

struct ShimDim3 { unsigned int x = 0, y = 0, z = 0; };
static ShimDim3 blockIdx, blockDim, threadIdx;

using std::copysign;
using std::fabs;
using std::floor;
using std::fma;
using std::isfinite;

// CUDA's bit casts
inline double __longlong_as_double(long long bits) { double x; std::memcpy(&x, &bits, sizeof x); return x; }
inline float __int_as_float(int bits) { float x; std::memcpy(&x, &bits, sizeof x); return x; }
