// Just enough of CUDA's C++ dialect to compile xorgpu's kernel as plain host C++ and run
// its threads one after another (tests/engines/cuda_on_host.py). Built with FMA
// contraction off (-ffp-contract=off), as the GPU build is (--fmad=false); the one
// difference left is exp, the host's libm against CUDA's, both within an ulp or two.
#pragma once
#include <cmath>

#define __global__
#define __device__
#define __forceinline__ inline

struct ShimDim3 { unsigned int x = 0, y = 0, z = 0; };
static ShimDim3 blockIdx, blockDim, threadIdx;

using std::exp;
using std::fabs;
using std::isfinite;
using std::tanh;
