// The fused GPU engine's kernel: the epoch loop of one net per CUDA thread.
//
// A call trains epochs first_epoch .. stop_epoch - 1, resuming from the weights and the
// state (velocities, whether and when each net solved) the call before left, and the call
// whose stop_epoch is epochs + 1 judges the last epoch and writes the record: a block runs
// as a series of short calls (fused_gpu.py), and Ctrl-C is heard between two.
//
// Arithmetic follows the array engine (xorgpu/engines/array.py) operation for operation,
// compiled with FMA contraction off (--fmad=false): each multiply-add is one fma(), placed
// where the fused CPU kernel (fused_cpu.py) places its own, and exp is that kernel's own
// (vexp below; its coefficients are generated into the source by fused_gpu.source()), so
// a net's bits are the CPU kernel's. xor_train's parameters are
// xorgpu.engines.contract.KERNEL_PARAMETERS, in that order; its template arguments are the
// Specialisation: the float type, H, the kind of criterion and whether momentum is on, so
// each combination compiles to straight-line code with the net's weights and activations
// in registers. family_train, below, trains every other net of the family.
//
// Compiled by NVRTC through CuPy on a GPU machine (fused_gpu.py), by nvcc for sm_80 and
// sm_90 in CI, and as plain C++ on the host behind tests/engines/cuda_host_shim.h, which
// runs it one "thread" at a time so CI checks its results without a GPU.

// exp(x) as xorgpu.engines.fast_exp.vexp computes it, operation for operation
__device__ __forceinline__ double vexp(double x) {
    double xc = x < 709.0 ? x : (x != x ? x : 709.0);      // as np.minimum, then np.maximum: NaN stays NaN
    xc = xc > -708.0 ? xc : (xc != xc ? xc : -708.0);
    const double k = floor(fma(xc, XORGPU_LOG2E, 0.5));
    const double r = fma(-k, XORGPU_LN2_LO, fma(-k, XORGPU_LN2_HI, xc));
    return exp_poly64(r) * xorgpu_double_from_bits(((long long)k + 1023) << 52);
}

__device__ __forceinline__ float vexp(float x) {
    float xc = x < 88.0f ? x : (x != x ? x : 88.0f);
    xc = xc > -87.0f ? xc : (xc != xc ? xc : -87.0f);
    const float k = floorf(fmaf(xc, XORGPU_LOG2E_F, 0.5f));
    const float r = fmaf(-k, XORGPU_LN2_LO_F, fmaf(-k, XORGPU_LN2_HI_F, xc));
    return exp_poly32(r) * xorgpu_float_from_bits(((int)k + 127) << 23);
}

// tanh(x) as fast_exp.vtanh computes it: a rational approximation below 0.625, through exp above
template <typename real>
__device__ __forceinline__ real vtanh(real x) {
    const real z = x * x;
    const real near = fma(x * z, tanh_p(z) / tanh_q(z), x);
    const real far = copysign((real)1 - (real)2 / (vexp((real)2 * fabs(x)) + (real)1), x);
    return fabs(x) <= (real)0.625 ? near : far;
}

template <typename real>
__device__ __forceinline__ real sigmoid_of_negated(real m, real clip) {
    m = m > clip ? clip : m;            // as xp.minimum: NaN stays NaN
    real e = vexp(m);
    e = e + (real)1;
    return (real)1 / e;
}

template <typename real, int H, bool SSE_CRITERION, bool MOMENTUM>
__global__ void xor_train(
    real* __restrict__ w1, real* __restrict__ b1, real* __restrict__ w2, real* __restrict__ b2,
    const real* __restrict__ targets,
    const real* __restrict__ step_hidden, const real* __restrict__ step_output, const real* __restrict__ momentum,
    const long long n, const int epochs, const real threshold,
    const real clip, const real loss_scale, const int sample_every, const int epoch_before_end,
    const int first_epoch, const int stop_epoch,
    real* __restrict__ v1, real* __restrict__ vb1, real* __restrict__ v2, real* __restrict__ vb2,
    bool* __restrict__ ever_solved, long long* __restrict__ unsolved_epochs,
    real* __restrict__ outputs, real* __restrict__ final_loss, long long* __restrict__ epochs_to_solve,
    bool* __restrict__ solved_at_end, bool* __restrict__ diverged,
    real* __restrict__ loss_before_end, real* __restrict__ loss_samples)
{
    const long long k = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (k >= n) return;
    const real y[4] = {targets[0], targets[1], targets[2], targets[3]};
    const real step1 = step_hidden[k], step2 = step_output[k], mu = momentum[k];  // this net's own
    real W1[2][H], B1[H], W2[H], B2;
    real V1[2][H], VB1[H], V2[H], VB2 = 0;      // momentum velocities, as the call before left them
    #pragma unroll
    for (int h = 0; h < H; ++h) {
        W1[0][h] = w1[(0 * H + h) * n + k];
        W1[1][h] = w1[(1 * H + h) * n + k];
        B1[h] = b1[h * n + k];
        W2[h] = w2[h * n + k];
        V1[0][h] = V1[1][h] = VB1[h] = V2[h] = 0;
        if (MOMENTUM) {
            V1[0][h] = v1[(0 * H + h) * n + k];
            V1[1][h] = v1[(1 * H + h) * n + k];
            VB1[h] = vb1[h * n + k];
            V2[h] = v2[h * n + k];
        }
    }
    B2 = b2[k];
    if (MOMENTUM) VB2 = vb2[k];
    real A1[4][H], A2[4], err[4];
    bool ever = ever_solved[k], solved_now = false;
    long long unsolved = unsolved_epochs[k];

    int epoch = first_epoch;
    for (;;) {
        // forward: -z1 for patterns (0,0), (0,1), (1,0), (1,1), as array.forward
        #pragma unroll
        for (int h = 0; h < H; ++h) {
            const real minus_b1 = -B1[h];
            A1[0][h] = sigmoid_of_negated(minus_b1, clip);
            A1[1][h] = sigmoid_of_negated(minus_b1 - W1[1][h], clip);
            A1[2][h] = sigmoid_of_negated(minus_b1 - W1[0][h], clip);
            A1[3][h] = sigmoid_of_negated(minus_b1 - (W1[0][h] + W1[1][h]), clip);
        }
        #pragma unroll
        for (int p = 0; p < 4; ++p) {
            real z2 = A1[p][0] * W2[0];
            #pragma unroll
            for (int h = 1; h < H; ++h) z2 = fma(A1[p][h], W2[h], z2);
            A2[p] = sigmoid_of_negated(-(z2 + B2), clip);
            err[p] = A2[p] - y[p];
        }
        // judge
        const real sse = fma(err[3], err[3], fma(err[2], err[2], fma(err[1], err[1], err[0] * err[0])));
        if (SSE_CRITERION) {
            solved_now = sse < threshold;
        } else {
            solved_now = fabs(err[0]) < threshold && fabs(err[1]) < threshold
                      && fabs(err[2]) < threshold && fabs(err[3]) < threshold;
        }
        ever = ever || solved_now;
        unsolved += !ever;
        if (sample_every > 0 && epoch % sample_every == 0)
            loss_samples[(long long)(epoch / sample_every) * n + k] = sse * loss_scale;
        if (epoch == epoch_before_end) loss_before_end[k] = sse * loss_scale;
        if (epoch == epochs) break;

        // backward, as array.backward
        real d_z2[4], d_z1[4][H];
        #pragma unroll
        for (int p = 0; p < 4; ++p) d_z2[p] = err[p] * (((real)1 - A2[p]) * A2[p]);
        #pragma unroll
        for (int p = 0; p < 4; ++p) {
            #pragma unroll
            for (int h = 0; h < H; ++h)
                d_z1[p][h] = (d_z2[p] * W2[h]) * (((real)1 - A1[p][h]) * A1[p][h]);
        }
        const real d_b2 = ((d_z2[0] + d_z2[1]) + d_z2[2]) + d_z2[3];
        // update: w <- w - step * d_w, or with momentum v <- mu v - step d_w; w <- w + v
        // (step1 for W1 and b1, step2 for W2 and b2)
        #pragma unroll
        for (int h = 0; h < H; ++h) {
            const real d_w2 = fma(A1[3][h], d_z2[3], fma(A1[2][h], d_z2[2], fma(A1[1][h], d_z2[1], A1[0][h] * d_z2[0])));
            const real d_w10 = d_z1[2][h] + d_z1[3][h];
            const real d_w11 = d_z1[1][h] + d_z1[3][h];
            const real d_b1 = ((d_z1[0][h] + d_z1[1][h]) + d_z1[2][h]) + d_z1[3][h];
            if (MOMENTUM) {
                V1[0][h] = fma(V1[0][h], mu, -(d_w10 * step1)); W1[0][h] = W1[0][h] + V1[0][h];
                V1[1][h] = fma(V1[1][h], mu, -(d_w11 * step1)); W1[1][h] = W1[1][h] + V1[1][h];
                VB1[h] = fma(VB1[h], mu, -(d_b1 * step1));      B1[h] = B1[h] + VB1[h];
                V2[h] = fma(V2[h], mu, -(d_w2 * step2));        W2[h] = W2[h] + V2[h];
            } else {
                W1[0][h] = fma(-d_w10, step1, W1[0][h]);
                W1[1][h] = fma(-d_w11, step1, W1[1][h]);
                B1[h] = fma(-d_b1, step1, B1[h]);
                W2[h] = fma(-d_w2, step2, W2[h]);
            }
        }
        if (MOMENTUM) {
            VB2 = fma(VB2, mu, -(d_b2 * step2)); B2 = B2 + VB2;
        } else {
            B2 = fma(-d_b2, step2, B2);
        }
        if (++epoch == stop_epoch) break;  // this call's last epoch: the next call judges this one first
    }

    // the state for the next call
    #pragma unroll
    for (int h = 0; h < H; ++h) {
        w1[(0 * H + h) * n + k] = W1[0][h];
        w1[(1 * H + h) * n + k] = W1[1][h];
        b1[h * n + k] = B1[h];
        w2[h * n + k] = W2[h];
        if (MOMENTUM) {
            v1[(0 * H + h) * n + k] = V1[0][h];
            v1[(1 * H + h) * n + k] = V1[1][h];
            vb1[h * n + k] = VB1[h];
            v2[h * n + k] = V2[h];
        }
    }
    b2[k] = B2;
    if (MOMENTUM) vb2[k] = VB2;
    ever_solved[k] = ever;
    unsolved_epochs[k] = unsolved;
    if (epoch != epochs) return;

    // the last call: the record
    const real sse = fma(err[3], err[3], fma(err[2], err[2], fma(err[1], err[1], err[0] * err[0])));
    bool finite = isfinite(sse);
    #pragma unroll
    for (int h = 0; h < H; ++h)
        finite = finite && isfinite(W1[0][h]) && isfinite(W1[1][h]) && isfinite(B1[h]) && isfinite(W2[h]);
    finite = finite && isfinite(B2);
    #pragma unroll
    for (int p = 0; p < 4; ++p) outputs[p * n + k] = A2[p];
    final_loss[k] = sse * loss_scale;
    epochs_to_solve[k] = ever ? unsolved : -1;
    solved_at_end[k] = solved_now;
    diverged[k] = !finite;
}

// ---------------------------------------------------------------------------------------
// The kernel of every other net of the family (xorgpu/engines/general.py is its reference):
// N inputs, P = 2^N patterns (their inputs and targets in the encoding), the hidden units
// ACT and the output unit OUT (0 sigmoid, 1 tanh, 2 relu, 3 linear: contract.UNIT_CODES),
// cross-entropy or squared error, the criterion CRIT (0 within, 1 sse, 2 side), biases or
// none, skip weights or none, momentum or none. Its parameters are
// contract.FAMILY_KERNEL_PARAMETERS. One pass over the patterns per epoch: each pattern's
// forward pass, its error for the judge, and its share of every gradient, added in pattern
// order, so no array grows with P and the sums run in general.py's order.

template <typename real, int ACT>
__device__ __forceinline__ real unit(real z, real clip) {
    if (ACT == 0) return sigmoid_of_negated(-z, clip);  // general.unit: 1 / (1 + exp(min(-z, clip)))
    if (ACT == 1) return vtanh(z);
    if (ACT == 2) return z > (real)0 ? z : (z != z ? z : (real)0);  // max(z, 0), NaN stays NaN
    return z;
}

template <typename real, int ACT>
__device__ __forceinline__ real slope(real a) {
    if (ACT == 0) return ((real)1 - a) * a;
    if (ACT == 1) return fma(-a, a, (real)1);
    if (ACT == 2) return a > (real)0 ? (real)1 : (real)0;
    return (real)1;
}

template <typename real, int H, int N, int ACT, int OUT, bool CE, int CRIT, bool BIAS, bool SKIP, bool MOMENTUM>
__global__ void family_train(
    real* __restrict__ w1, real* __restrict__ b1, real* __restrict__ w2, real* __restrict__ b2,
    real* __restrict__ ws,
    const real* __restrict__ targets, const real* __restrict__ inputs, const real* __restrict__ side,
    const real* __restrict__ step_hidden, const real* __restrict__ step_output, const real* __restrict__ momentum,
    const long long n, const int epochs, const real threshold,
    const real clip, const real loss_scale, const int sample_every, const int epoch_before_end,
    const int first_epoch, const int stop_epoch,
    real* __restrict__ v1, real* __restrict__ vb1, real* __restrict__ v2, real* __restrict__ vb2,
    real* __restrict__ vws,
    bool* __restrict__ ever_solved, long long* __restrict__ unsolved_epochs,
    real* __restrict__ outputs, real* __restrict__ final_loss, long long* __restrict__ epochs_to_solve,
    bool* __restrict__ solved_at_end, bool* __restrict__ diverged,
    real* __restrict__ loss_before_end, real* __restrict__ loss_samples)
{
    const long long k = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (k >= n) return;
    const int P = 1 << N;
    const real step1 = step_hidden[k], step2 = step_output[k], mu = momentum[k];
    real W1[N][H], B1[H], W2[H], B2, WS[N];
    real V1[N][H], VB1[H], V2[H], VB2 = 0, VWS[N];
    #pragma unroll
    for (int h = 0; h < H; ++h) {
        #pragma unroll
        for (int i = 0; i < N; ++i) {
            W1[i][h] = w1[(i * H + h) * n + k];
            V1[i][h] = MOMENTUM ? v1[(i * H + h) * n + k] : (real)0;
        }
        B1[h] = b1[h * n + k];
        W2[h] = w2[h * n + k];
        VB1[h] = MOMENTUM ? vb1[h * n + k] : (real)0;
        V2[h] = MOMENTUM ? v2[h * n + k] : (real)0;
    }
    #pragma unroll
    for (int i = 0; i < N; ++i) {
        WS[i] = SKIP ? ws[i * n + k] : (real)0;
        VWS[i] = SKIP && MOMENTUM ? vws[i * n + k] : (real)0;
    }
    B2 = b2[k];
    if (MOMENTUM) VB2 = vb2[k];
    bool ever = ever_solved[k], solved_now = false;
    long long unsolved = unsolved_epochs[k];
    real sum = 0;  // squared errors over the patterns
    real G1[N][H], GB1[H], G2[H], GB2 = 0, GWS[N];

    int epoch = first_epoch;
    for (;;) {
        const bool last = epoch == epochs;
        bool ok = true;
        for (int p = 0; p < P; ++p) {
            real A1[H];
            #pragma unroll
            for (int h = 0; h < H; ++h) {
                real z = inputs[p * N] * W1[0][h];
                #pragma unroll
                for (int i = 1; i < N; ++i) z = fma(inputs[p * N + i], W1[i][h], z);
                A1[h] = unit<real, ACT>(z + B1[h], clip);
            }
            real z2 = A1[0] * W2[0];
            #pragma unroll
            for (int h = 1; h < H; ++h) z2 = fma(A1[h], W2[h], z2);
            z2 = z2 + B2;
            if (SKIP) {
                real s = inputs[p * N] * WS[0];
                #pragma unroll
                for (int i = 1; i < N; ++i) s = fma(inputs[p * N + i], WS[i], s);
                z2 = z2 + s;
            }
            const real a2 = unit<real, OUT>(z2, clip);
            const real err = a2 - targets[p];
            sum = p == 0 ? err * err : fma(err, err, sum);
            if (CRIT == 0) ok = ok && fabs(err) < threshold;
            if (CRIT == 2) ok = ok && (-err) * side[p] < threshold;
            if (last) {
                outputs[(long long)p * n + k] = a2;
                continue;  // the last epoch is judged, not learned from
            }
            const real d2 = CE ? err : err * slope<real, OUT>(a2);
            GB2 = p == 0 ? d2 : GB2 + d2;
            #pragma unroll
            for (int h = 0; h < H; ++h) {
                const real d1 = (d2 * W2[h]) * slope<real, ACT>(A1[h]);
                G2[h] = p == 0 ? A1[h] * d2 : fma(A1[h], d2, G2[h]);
                GB1[h] = p == 0 ? d1 : GB1[h] + d1;
                #pragma unroll
                for (int i = 0; i < N; ++i) {
                    const real x = inputs[p * N + i];
                    G1[i][h] = p == 0 ? x * d1 : fma(x, d1, G1[i][h]);
                }
            }
            if (SKIP) {
                #pragma unroll
                for (int i = 0; i < N; ++i) {
                    const real x = inputs[p * N + i];
                    GWS[i] = p == 0 ? x * d2 : fma(x, d2, GWS[i]);
                }
            }
        }
        // judge
        solved_now = CRIT == 1 ? sum < threshold : ok;
        ever = ever || solved_now;
        unsolved += !ever;
        if (sample_every > 0 && epoch % sample_every == 0)
            loss_samples[(long long)(epoch / sample_every) * n + k] = sum * loss_scale;
        if (epoch == epoch_before_end) loss_before_end[k] = sum * loss_scale;
        if (last) break;
        // update: w <- w - step d_w, or v <- mu v - step d_w; w <- w + v
        #pragma unroll
        for (int h = 0; h < H; ++h) {
            #pragma unroll
            for (int i = 0; i < N; ++i) {
                if (MOMENTUM) { V1[i][h] = fma(V1[i][h], mu, -(G1[i][h] * step1)); W1[i][h] = W1[i][h] + V1[i][h]; }
                else W1[i][h] = fma(-G1[i][h], step1, W1[i][h]);
            }
            if (MOMENTUM) { V2[h] = fma(V2[h], mu, -(G2[h] * step2)); W2[h] = W2[h] + V2[h]; }
            else W2[h] = fma(-G2[h], step2, W2[h]);
            if (BIAS) {
                if (MOMENTUM) { VB1[h] = fma(VB1[h], mu, -(GB1[h] * step1)); B1[h] = B1[h] + VB1[h]; }
                else B1[h] = fma(-GB1[h], step1, B1[h]);
            }
        }
        if (SKIP) {
            #pragma unroll
            for (int i = 0; i < N; ++i) {
                if (MOMENTUM) { VWS[i] = fma(VWS[i], mu, -(GWS[i] * step2)); WS[i] = WS[i] + VWS[i]; }
                else WS[i] = fma(-GWS[i], step2, WS[i]);
            }
        }
        if (BIAS) {
            if (MOMENTUM) { VB2 = fma(VB2, mu, -(GB2 * step2)); B2 = B2 + VB2; }
            else B2 = fma(-GB2, step2, B2);
        }
        if (++epoch == stop_epoch) break;  // this call's last epoch: the next call judges this one first
    }

    // the state for the next call
    #pragma unroll
    for (int h = 0; h < H; ++h) {
        #pragma unroll
        for (int i = 0; i < N; ++i) {
            w1[(i * H + h) * n + k] = W1[i][h];
            if (MOMENTUM) v1[(i * H + h) * n + k] = V1[i][h];
        }
        b1[h * n + k] = B1[h];
        w2[h * n + k] = W2[h];
        if (MOMENTUM) { vb1[h * n + k] = VB1[h]; v2[h * n + k] = V2[h]; }
    }
    if (SKIP) {
        #pragma unroll
        for (int i = 0; i < N; ++i) {
            ws[i * n + k] = WS[i];
            if (MOMENTUM) vws[i * n + k] = VWS[i];
        }
    }
    b2[k] = B2;
    if (MOMENTUM) vb2[k] = VB2;
    ever_solved[k] = ever;
    unsolved_epochs[k] = unsolved;
    if (epoch != epochs) return;

    // the last call: the record
    bool finite = isfinite(sum) && isfinite(B2);
    #pragma unroll
    for (int h = 0; h < H; ++h) {
        finite = finite && isfinite(B1[h]) && isfinite(W2[h]);
        #pragma unroll
        for (int i = 0; i < N; ++i) finite = finite && isfinite(W1[i][h]);
    }
    if (SKIP) {
        #pragma unroll
        for (int i = 0; i < N; ++i) finite = finite && isfinite(WS[i]);
    }
    final_loss[k] = sum * loss_scale;
    epochs_to_solve[k] = ever ? unsolved : -1;
    solved_at_end[k] = solved_now;
    diverged[k] = !finite;
}
