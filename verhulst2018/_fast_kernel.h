// The time loop of the fast engine (see _fast.cpp for the scheme and the data layout).
//
// This file is included several times by _fast.cpp, once per instruction set, each time inside
// its own namespace (FAST_NS) under a different `#pragma GCC target`: every function here is then
// compiled for that instruction set, and _fast.cpp picks one at run time. It therefore calls no
// out-of-line template code of the standard library (no std::min, no containers): only builtins
// and its own functions, so no copy compiled for a newer CPU can leak into the portable path.
//
// Every hot loop is a function of its own whose arrays are restrict parameters, so that the
// compiler vectorises it: loops over all slots, or over rows with the lanes of a row side by side
// (the sweeps of the tridiagonal solve, sequential in the row).

namespace FAST_NS {

using fast_engine::Plan;
using fast_engine::State;
typedef std::size_t Index;

#define FAST_LOOP __attribute__((noinline))

inline double dmin(double a, double b) { return b < a ? b : a; }
inline double dmax(double a, double b) { return a < b ? b : a; }

// FAST_W doubles per SIMD register: the sweeps over rows work on the lanes of a row as vectors of
// FAST_W (two at a time: two independent chains hide the latency of the recurrence).
constexpr Index W = FAST_W;
#if defined(__GNUC__)
typedef double vd __attribute__((vector_size(FAST_W * sizeof(double))));
typedef float vf __attribute__((vector_size(FAST_W * sizeof(float))));
inline vd vload(const double* p) {
    vd v;
    std::memcpy(&v, p, sizeof v);
    return v;
}
inline vd vloadf(const float* p) {
    vf v;
    std::memcpy(&v, p, sizeof v);
    return __builtin_convertvector(v, vd);
}
inline void vstore(double* p, vd v) { std::memcpy(p, &v, sizeof v); }
inline vd vset(double x) { return vd{} + x; }
inline vd vmax_nan(vd a, vd e) { return (e > a) | (e != e) ? e : a; }  // NaN wins
inline vd vabs(vd x) { return x < 0.0 ? -x : x; }
inline vd vmin(vd a, vd b) { return b < a ? b : a; }
inline vd vsqrt(vd x) {
    vd r;
    for (Index k = 0; k < W; ++k) r[k] = std::sqrt(x[k]);
    return r;
}
inline double lane(vd x, Index k) { return x[k]; }
#if FAST_W == 8 && defined(__x86_64__)  // only the AVX-512 build has 8 doubles per register
// sqrt(x) for x >= 1 to about 4e-9 relative: the 14-bit reciprocal square root and one Newton step
// (instead of the slow full-precision square root; the poles need far less)
inline vd vsqrt_ge1(vd x) {
    __m512d xv;
    std::memcpy(&xv, &x, sizeof xv);
    const __m512d r0 = _mm512_rsqrt14_pd(xv);
    const __m512d half = _mm512_set1_pd(0.5), three_halves = _mm512_set1_pd(1.5);
    const __m512d r = _mm512_mul_pd(r0, _mm512_fnmadd_pd(_mm512_mul_pd(half, xv), _mm512_mul_pd(r0, r0), three_halves));
    const __m512d s = _mm512_mul_pd(xv, r);
    vd out;
    std::memcpy(&out, &s, sizeof out);
    return out;
}
#else
inline vd vsqrt_ge1(vd x) { return vsqrt(x); }
#endif
// Two vectors of doubles as one of 2W floats, and back: the poles of two rows at once in float32.
#define FAST_PAIRED_POLES 1
typedef float vfw __attribute__((vector_size(FAST_W * sizeof(float))));
typedef float vf2 __attribute__((vector_size(2 * FAST_W * sizeof(float))));
#if FAST_W == 8
#define FAST_LO 0, 1, 2, 3, 4, 5, 6, 7
#define FAST_HI 8, 9, 10, 11, 12, 13, 14, 15
#elif FAST_W == 4
#define FAST_LO 0, 1, 2, 3
#define FAST_HI 4, 5, 6, 7
#else
#define FAST_LO 0, 1
#define FAST_HI 2, 3
#endif
inline vf2 pack(vd a, vd b) {
    return __builtin_shufflevector(__builtin_convertvector(a, vfw), __builtin_convertvector(b, vfw), FAST_LO, FAST_HI);
}
inline vd low_half(vf2 v) { return __builtin_convertvector(__builtin_shufflevector(v, v, FAST_LO), vd); }
inline vd high_half(vf2 v) { return __builtin_convertvector(__builtin_shufflevector(v, v, FAST_HI), vd); }
#undef FAST_LO
#undef FAST_HI
inline vf2 vsqrt2(vf2 x) {
    vf2 r;
    for (Index k = 0; k < 2 * W; ++k) r[k] = std::sqrt(x[k]);
    return r;
}
inline vf2 vabs2(vf2 x) { return x < 0.0f ? -x : x; }
inline vf2 vmin2(vf2 a, vf2 b) { return b < a ? b : a; }
#else
static_assert(FAST_W == 1, "without GCC vector extensions the kernel is scalar");
typedef double vd;
inline vd vload(const double* p) { return *p; }
inline vd vloadf(const float* p) { return static_cast<double>(*p); }
inline void vstore(double* p, vd v) { *p = v; }
inline vd vset(double x) { return x; }
inline vd vmax_nan(vd a, vd e) { return (e > a || e != e) ? e : a; }
inline vd vabs(vd x) { return std::fabs(x); }
inline vd vmin(vd a, vd b) { return b < a ? b : a; }
inline vd vsqrt(vd x) { return std::sqrt(x); }
inline double lane(vd x, Index) { return x; }
inline vd vsqrt_ge1(vd x) { return std::sqrt(x); }
#endif
// floor(x) for 0 <= x < 2^51 (delays in samples): round to an integer by the 2^52 trick, then down.
inline vd vfloor_pos(vd x) {
    const vd r = (x + vset(4503599627370496.0)) - vset(4503599627370496.0);
    return r > x ? r - vset(1.0) : r;
}

// A node's constant for the W lanes starting at slot i: per slot, or, Shared (one block, the lanes
// a batch of signals at the same node), once per row.
template <bool Shared>
inline vd node_constant(const double* a, Index row, Index i) {
    return Shared ? vset(a[row]) : vload(a + i);
}

template <bool Shared>
inline vd node_constant(const float* a, Index row, Index i) {
    return Shared ? vset(static_cast<double>(a[row])) : vloadf(a + i);
}

// Polynomial c[0] + c[1] t + ... + c[D] t^D (Horner).
template <int D>
inline vd polynomial(const double* c, vd t) {
    vd r = vset(c[D]);
    for (int k = D - 1; k >= 0; --k) r = r * t + vset(c[k]);
    return r;
}

// exp(x) to about 2 ulp for |x| < 708 (clamped outside), branch-free so that it vectorises:
// x = n ln2 + r, |r| <= ln2/2, exp(r) by its Taylor polynomial of degree 12, times 2^n built in
// the exponent bits.
inline double fast_exp(double x) {
    x = x < -708.0 ? -708.0 : (x > 708.0 ? 708.0 : x);
    const double shift = 6755399441055744.0;  // 1.5 * 2^52: n lands in the low bits
    const double t = x * 1.4426950408889634 + shift;
    const double n = t - shift;
    double r = x - n * 0.693147180559890330187;  // ln2, high part (exact product with n)
    r = r - n * 5.497923018708371155e-14;          // ln2, low part
    double p = 2.08767569878680989792e-9;          // 1/12!
    p = p * r + 2.50521083854417187751e-8;
    p = p * r + 2.75573192239858906526e-7;
    p = p * r + 2.75573192239858906526e-6;
    p = p * r + 2.48015873015873015873e-5;
    p = p * r + 1.98412698412698412698e-4;
    p = p * r + 1.38888888888888888889e-3;
    p = p * r + 8.33333333333333333333e-3;
    p = p * r + 4.16666666666666666667e-2;
    p = p * r + 1.66666666666666666667e-1;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    std::int64_t bits;
    std::memcpy(&bits, &t, sizeof bits);
    bits = (bits + 1023) << 52;  // 2^n (the shift's own bits leave through the top)
    double scale;
    std::memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

// ---------------------------------------------------------------------------------------------
// Poles (spec 4.7.3, 4.5, 4.6)
//
// The pole of a section at velocity V, P = min(c0 + c1 |V| + c2 sqrt(1 + (c3 |V| - c4)^2), PoleE),
// is the original's hyperbola with its constants combined per node (fast.py; the linear model has
// c1 = c2 = 0). The Zweig terms a(P), 1/a(P) and rho(P) are polynomials in t = 2P/hi - 1 on
// P in [0, hi] (Chebyshev fits to about 2e-11, fast.py) instead of two square roots, a division and
// an exp: omega d = omega 2 (P - a), and the delay D = 2 pi mu / (omega dt) = 1 / (a omega dt).
struct PoleConstants {
    const float *c0, *c1, *c2, *c3, *c4;
    double passive;         // PoleE, the same for every node
    const double* fit;      // (3, kPoleFitTerms): a, 1/a, rho
    const float* fit_f;     // the same in float32
};

template <bool Shared>
inline vd pole_of(const PoleConstants& k, vd v, Index row, Index i) {
    const vd a = vabs(v);
    const vd x = node_constant<Shared>(k.c3, row, i) * a - node_constant<Shared>(k.c4, row, i);
    const vd pu = node_constant<Shared>(k.c0, row, i) + node_constant<Shared>(k.c1, row, i) * a +
                  node_constant<Shared>(k.c2, row, i) * vsqrt_ge1(vset(1.0) + x * x);
    return vmin(pu, vset(k.passive));
}

inline vd fit_variable(vd pole) { return pole * vset(2.0 / fast_engine::kPoleFitHigh) - vset(1.0); }

// The delay of every slot for the poles at velocity v (once per step, from the velocity half a step
// ahead): fraction and integer part + 1 (spec 4.6).
template <bool Shared>
FAST_LOOP void delays(Index rows, Index L, PoleConstants k, const double* __restrict v,
                      const double* __restrict inv_om_dt, double* __restrict frac, std::int32_t* __restrict dint) {
    const double* ci = k.fit + fast_engine::kPoleFitTerms;
    for (Index c = 0; c < L; c += W) {
        for (Index row = 0; row < rows; ++row) {
            const Index i = row * L + c;
            const vd inv_a = polynomial<fast_engine::kFitDegreeInvA>(ci, fit_variable(pole_of<Shared>(k, vload(v + i), row, i)));
            const vd delay = inv_a * node_constant<Shared>(inv_om_dt, row, i);
            const vd di = vfloor_pos(delay) + vset(1.0);
            vstore(frac + i, di - delay);
            for (Index l = 0; l < W; ++l) dint[i + l] = static_cast<std::int32_t>(lane(di, l));
        }
    }
}

inline PoleConstants pole_constants(const Plan& p) {
    return PoleConstants{p.pole_c[0], p.pole_c[1], p.pole_c[2], p.pole_c[3], p.pole_c[4], p.passive_pole, p.pole_fit,
                         p.pole_fit_f};
}

inline void set_delays(const Plan& p, State& s, const double* v) {
    if (p.shared)
        delays<true>(p.rows, p.lanes, pole_constants(p), v, p.inv_omega_dt, s.frac, s.dint);
    else
        delays<false>(p.rows, p.lanes, pole_constants(p), v, p.inv_omega_dt, s.frac, s.dint);
}

// The five ring entries around each slot's delay, kept per slot (win0..win4 = Y at the times
// t_n - (Dint + 1) dt ... t_n - (Dint - 3) dt): after each sample they move on by one entry (one
// new value), and are reloaded where the integer delay changed. Returns how many slots need a
// reload (done by reload_windows).
FAST_LOOP Index shift_windows(Index n, Index stride, const std::int32_t* __restrict start,
                              const std::int32_t* __restrict len, const std::int32_t* __restrict w,
                              const std::int32_t* __restrict dint, std::int32_t* __restrict rb,
                              std::int32_t* __restrict fetch, std::uint8_t* __restrict reload, float* __restrict w0,
                              float* __restrict w1, float* __restrict w2, float* __restrict w3) {
    const std::int32_t st = static_cast<std::int32_t>(stride);
    std::int32_t count = 0;
    for (Index i = 0; i < n; ++i) {
        std::int32_t target = w[i] - dint[i] - 1;
        target = target < 0 ? target + len[i] : target;
        std::int32_t d = target - rb[i];
        d = d < 0 ? d + len[i] : d;
        rb[i] = target;
        const std::int32_t again = d != 1 ? 1 : 0;  // the delay changed too: reload_windows
        reload[i] = static_cast<std::uint8_t>(again);
        count += again;
        w0[i] = w1[i];
        w1[i] = w2[i];
        w2[i] = w3[i];
        fetch[i] = start[i] + st * (target + 4);  // the new entry, read by fetch_windows
    }
    return static_cast<Index>(count);
}

// w4 <- the ring entries at `fetch` (written a delay ago, long out of the caches: the entries of
// later slots are asked for early so that the misses overlap).
FAST_LOOP void fetch_windows(Index n, Index ahead, const std::int32_t* __restrict fetch, const float* __restrict ring,
                             float* __restrict w3, float* __restrict w4) {
    for (Index i = 0; i < n; ++i) {
        __builtin_prefetch(ring + fetch[i + ahead < n ? i + ahead : i]);
        w3[i] = w4[i];
        w4[i] = ring[fetch[i]];
    }
}

// After a step within a sample: the slots whose integer delay changed need a reload.
FAST_LOOP Index check_windows(Index n, const std::int32_t* __restrict len, const std::int32_t* __restrict w,
                              const std::int32_t* __restrict dint, const std::int32_t* __restrict rb,
                              std::uint8_t* __restrict reload) {
    std::int32_t count = 0;
    for (Index i = 0; i < n; ++i) {
        std::int32_t target = w[i] - dint[i] - 1;
        target = target < 0 ? target + len[i] : target;
        const std::int32_t again = target != rb[i] ? 1 : 0;
        reload[i] = static_cast<std::uint8_t>(again);
        count += again;
    }
    return static_cast<Index>(count);
}

inline void reload_windows(const Plan& p, State& s, bool all) {
    const Index n = p.slots, stride = p.signals;
    for (Index i = 0; i < n; ++i) {
        if (!all && !s.reload[i]) continue;
        const float* r = s.ring + p.ring_start[i];
        std::int32_t target = s.write[i] - s.dint[i] - 1;
        target = target < 0 ? target + p.ring_length[i] : target;
        s.rb[i] = target;
        s.win[0][i] = r[stride * (target + 0)];
        s.win[1][i] = r[stride * (target + 1)];
        s.win[2][i] = r[stride * (target + 2)];
        s.win[3][i] = r[stride * (target + 3)];
        s.win[4][i] = r[stride * (target + 4)];
    }
}

// advanced: the ring took a new sample since the last call (else only the delays may have changed).
inline void refresh_windows(const Plan& p, State& s, bool advanced) {
    Index count;
    if (advanced) {
        count = shift_windows(p.slots, p.signals, p.ring_start, p.ring_length, s.write, s.dint, s.rb, s.fetch,
                              s.reload, s.win[0], s.win[1], s.win[2], s.win[3]);
        fetch_windows(p.slots, p.prefetch, s.fetch, s.ring, s.win[3], s.win[4]);
    } else {
        count = check_windows(p.slots, p.ring_length, s.write, s.dint, s.rb, s.reload);
    }
    if (count > 0) reload_windows(p, s, false);
}

// ---------------------------------------------------------------------------------------------
// Delayed displacement (spec 4.6): Y(t_n + (phi - D) dt) by the original's cubic through four
// ring entries (from the float32 ring, in double), for up to five fractions phi of this sample.
// The five entries r[0..4] around the delay serve all of them (late: from r[1]).
// In float32 arithmetic, like the ring's entries and the original's interpolation (spec 4.6).
FAST_LOOP void delayed(Index n, int count, const double* phis, const double* __restrict frac,
                       const float* __restrict w0, const float* __restrict w1, const float* __restrict w2,
                       const float* __restrict w3, const float* __restrict w4, float* __restrict o0,
                       float* __restrict o1, float* __restrict o2, float* __restrict o3, float* __restrict o4) {
    const float f0 = static_cast<float>(phis[0]), f1 = count > 1 ? static_cast<float>(phis[1]) : 0.0f,
                f2 = count > 2 ? static_cast<float>(phis[2]) : 0.0f, f3 = count > 3 ? static_cast<float>(phis[3]) : 0.0f,
                f4 = count > 4 ? static_cast<float>(phis[4]) : 0.0f;
    for (Index i = 0; i < n; ++i) {
        const float r0 = w0[i], r1 = w1[i], r2 = w2[i], r3 = w3[i], r4 = w4[i];
        const float fr = static_cast<float>(frac[i]);
        // coefficients of the cubic through (y0, y1, y2, y3) for both windows (late: from r1)
        const float a0e = (r3 - r2) - (r0 - r1), a1e = (r0 - r1) - a0e, a2e = r2 - r0;
        const float a0l = (r4 - r3) - (r1 - r2), a1l = (r1 - r2) - a0l, a2l = r3 - r1;
#define FAST_DELAYED(phi, out)                                                  \
    {                                                                           \
        const float e = fr + (phi);                                             \
        const bool late = e >= 1.0f;                                            \
        const float nu = late ? e - 1.0f : e;                                   \
        const float c0 = late ? a0l : a0e, c1 = late ? a1l : a1e;               \
        const float c2 = late ? a2l : a2e, c3 = late ? r2 : r1;                 \
        out[i] = ((c0 * nu + c1) * nu + c2) * nu + c3;                          \
    }
        FAST_DELAYED(f0, o0)
        if (count > 1) FAST_DELAYED(f1, o1)
        if (count > 2) FAST_DELAYED(f2, o2)
        if (count > 3) FAST_DELAYED(f3, o3)
        if (count > 4) FAST_DELAYED(f4, o4)
#undef FAST_DELAYED
    }
}

// The new displacement enters the ring after each sample (mirrored entries at the end). The
// rings of the signals of a batch are interleaved (entry t of signal s of a node at t * stride + s).
FAST_LOOP void ring_write(Index n, Index stride, Index ahead, const double* __restrict y, const std::int32_t* __restrict start,
                          const std::int32_t* __restrict len, std::int32_t* __restrict w, float* __restrict ring) {
    const std::int32_t st = static_cast<std::int32_t>(stride);
    for (Index i = 0; i < n; ++i) {
        const std::int32_t wi = w[i] + 1 == len[i] ? 0 : w[i] + 1;
        w[i] = wi;
        const float yi = static_cast<float>(y[i]);
        const Index k = i + ahead < n ? i + ahead : i;
        __builtin_prefetch(ring + start[k] + st * (w[k] + 1), 1);  // see shift_windows
        ring[start[i] + st * wi] = yi;
        if (wi < fast_engine::kMirror) ring[start[i] + st * (len[i] + wi)] = yi;
    }
}

// Stimulus force at fraction phi of sample j (the original's cubic, spec 4.9), per signal.
inline void stimulus_force(const Plan& p, const State& s, Index j, double phi, double* __restrict force) {
    for (Index sig = 0; sig < p.signals; ++sig) {
        const double* x = s.stimulus + sig * s.stimulus_stride;
        const double a = j > 0 ? x[j - 1] : 0.0;
        const double b = x[j], c = x[j + 1], d = x[j + 2];
        force[sig] = b + phi * ((c - b) - fast_engine::kStimulusCubic * (1.0 - phi) *
                                             (((d - a) - 3.0 * (c - b)) * phi + ((d + 2.0 * a) - 3.0 * b)));
    }
}

// ---------------------------------------------------------------------------------------------
// One right-hand-side evaluation (spec 4.9) for the stage state
//   V_s = V + sum_j ha_j k_j,  Y_s = (Y + hc V) + sum_j hb_j k_j   (NK terms; NK = 0: the state),
// in two or three loops: (1) stage state, g, r and the forward sweep of every block, rows in
// order with the lanes of a row side by side; (2) the backward sweep, and with one block
// dV/dt = q - g at once; (3) with blocks, the separators and the spike corrections. The stapes'
// dV_0/dt = K0 q_0 + KG0 (g_0 + p0x F) is set last.

// The Zweig factors of the poles at two rows' stage velocities: f = 2 (P - a(P)) (omega d =
// omega f) and rho(P), P the pole of |V| (spec 4.7.3, 4.5). In float32, both rows in one vector
// of 2W lanes where the compiler has vector extensions (the poles need ~1e-7, far less than double).
template <bool Shared>
inline void pole_factors(const PoleConstants& k, vd v0, Index row0, Index i0, vd v1, Index row1, Index i1, vd& f0,
                         vd& r0, vd& f1, vd& r1) {
#ifdef FAST_PAIRED_POLES
#define FAST_BOTH(c) pack(node_constant<Shared>(c, row0, i0), node_constant<Shared>(c, row1, i1))
    const vf2 a = vabs2(pack(v0, v1));
    const vf2 x = FAST_BOTH(k.c3) * a - FAST_BOTH(k.c4);
    const vf2 pole = vmin2(FAST_BOTH(k.c0) + FAST_BOTH(k.c1) * a + FAST_BOTH(k.c2) * vsqrt2(1.0f + x * x),
                           vf2{} + float(k.passive));
#undef FAST_BOTH
    const vf2 t = pole * float(2.0 / fast_engine::kPoleFitHigh) - 1.0f;
    const float* fa = k.fit_f;
    const float* fr = k.fit_f + 2 * fast_engine::kPoleFitTerms;
    vf2 pa = vf2{} + fa[fast_engine::kFitDegreeA];
    for (int j = fast_engine::kFitDegreeA - 1; j >= 0; --j) pa = pa * t + fa[j];
    vf2 rho = vf2{} + fr[fast_engine::kFitDegreeRho];
    for (int j = fast_engine::kFitDegreeRho - 1; j >= 0; --j) rho = rho * t + fr[j];
    const vf2 f = 2.0f * (pole - pa);
    f0 = low_half(f);
    f1 = high_half(f);
    r0 = low_half(rho);
    r1 = high_half(rho);
#else
    const vd p0 = pole_of<Shared>(k, v0, row0, i0), p1 = pole_of<Shared>(k, v1, row1, i1);
    const double* fa = k.fit;
    const double* fr = k.fit + 2 * fast_engine::kPoleFitTerms;
    f0 = vset(2.0) * (p0 - polynomial<fast_engine::kFitDegreeA>(fa, fit_variable(p0)));
    f1 = vset(2.0) * (p1 - polynomial<fast_engine::kFitDegreeA>(fa, fit_variable(p1)));
    r0 = polynomial<fast_engine::kFitDegreeRho>(fr, fit_variable(p0));
    r1 = polynomial<fast_engine::kFitDegreeRho>(fr, fit_variable(p1));
#endif
}

template <int NK, bool Shared>
FAST_LOOP void forward(Index row0, Index row1, Index L, const double* __restrict V, const double* __restrict Y,
                       const double* __restrict k0, const double* __restrict k1, const double* __restrict k2,
                       const double* __restrict k3, const double* __restrict k4, const double* __restrict ha,
                       const double* __restrict hb, double hc, PoleConstants pk, const double* __restrict om,
                       const double* __restrict om2, const float* __restrict ydel, const double* __restrict zasq,
                       const double* __restrict ta, const double* __restrict tm, double* __restrict g,
                       double* __restrict z, double* __restrict zprev, double* __restrict vs_row0) {
    const vd a0 = vset(NK > 0 ? ha[0] : 0.0), a1 = vset(NK > 1 ? ha[1] : 0.0), a2 = vset(NK > 2 ? ha[2] : 0.0),
             a3 = vset(NK > 3 ? ha[3] : 0.0), a4 = vset(NK > 4 ? ha[4] : 0.0);
    const vd b0 = vset(NK > 0 ? hb[0] : 0.0), b1 = vset(NK > 1 ? hb[1] : 0.0), b2 = vset(NK > 2 ? hb[2] : 0.0),
             b3 = vset(NK > 3 ? hb[3] : 0.0), b4 = vset(NK > 4 ? hb[4] : 0.0);
    const vd vhc = vset(hc);
// the stage state V_s, Y_s of the W lanes at slot i
#define FAST_STAGE(i, vs, ys)                                                   \
    {                                                                           \
        const vd v_ = vload(V + (i));                                           \
        vs = v_;                                                                \
        ys = vload(Y + (i)) + vhc * v_;                                         \
        if (NK > 0) { const vd k_ = vload(k0 + (i)); vs += a0 * k_; ys += b0 * k_; } \
        if (NK > 1) { const vd k_ = vload(k1 + (i)); vs += a1 * k_; ys += b1 * k_; } \
        if (NK > 2) { const vd k_ = vload(k2 + (i)); vs += a2 * k_; ys += b2 * k_; } \
        if (NK > 3) { const vd k_ = vload(k3 + (i)); vs += a3 * k_; ys += b3 * k_; } \
        if (NK > 4) { const vd k_ = vload(k4 + (i)); vs += a4 * k_; ys += b4 * k_; } \
    }
// g = omega d V_s + omega^2 (Y_s + rho Y_delayed), r = S g and the forward sweep of the row
#define FAST_SWEEP(row, i, vs, ys, f, rho)                                                          \
    {                                                                                               \
        const vd g_ = node_constant<Shared>(om, row, i) * (f) * (vs) +                              \
                      node_constant<Shared>(om2, row, i) * ((ys) + (rho) * vloadf(ydel + (i)));     \
        vstore(g + (i), g_);                                                                        \
        zp = (node_constant<Shared>(zasq, row, i) * g_ - node_constant<Shared>(ta, row, i) * zp) *  \
             node_constant<Shared>(tm, row, i);                                                     \
        vstore(z + (i), zp);                                                                        \
    }
    for (Index c = 0; c < L; c += W) {
        vd zp = vload(zprev + c);
        Index row = row0;
        for (; row + 1 < row1; row += 2) {  // two rows at a time: their poles in one vector
            const Index i = row * L + c, j = i + L;
            vd vs0, ys0, vs1, ys1, f0, r0, f1, r1;
            FAST_STAGE(i, vs0, ys0)
            FAST_STAGE(j, vs1, ys1)
            if (row == 0) vstore(vs_row0 + c, vs0);  // the stapes' velocity (rhs fixes its g)
            pole_factors<Shared>(pk, vs0, row, i, vs1, row + 1, j, f0, r0, f1, r1);
            FAST_SWEEP(row, i, vs0, ys0, f0, r0)
            FAST_SWEEP(row + 1, j, vs1, ys1, f1, r1)
        }
        if (row < row1) {
            const Index i = row * L + c;
            vd vs, ys, f, r, f_, r_;
            FAST_STAGE(i, vs, ys)
            if (row == 0) vstore(vs_row0 + c, vs);
            pole_factors<Shared>(pk, vs, row, i, vs, row, i, f, r, f_, r_);
            FAST_SWEEP(row, i, vs, ys, f, r)
        }
        vstore(zprev + c, zp);
    }
#undef FAST_STAGE
#undef FAST_SWEEP
}

// Backward sweep. Direct (one block): dV/dt = q - g into kv, q kept for row 0 only (the stapes).
template <bool Shared, bool Direct>
FAST_LOOP void backward(Index rows, Index L, const double* __restrict z, const double* __restrict tcp,
                        const double* __restrict g, double* __restrict q, double* __restrict kv) {
    for (Index c = 0; c < L; c += W) {
        vd qn = vset(0.0);
        for (Index row = rows; row-- > 0;) {
            const Index i = row * L + c;
            qn = vload(z + i) - node_constant<Shared>(tcp, row, i) * qn;
            if (Direct) {
                vstore(kv + i, qn - vload(g + i));
            } else {
                vstore(q + i, qn);
            }
        }
        if (Direct) vstore(q + c, qn);
    }
}

FAST_LOOP void correct(Index m, Index L, const double* __restrict lsp, const double* __restrict rsp,
                       const double* __restrict left, const double* __restrict right, const double* __restrict g,
                       double* __restrict q, double* __restrict kv) {
    for (Index c = 0; c < L; c += W) {
        const vd lf = vload(left + c), rt = vload(right + c);
        for (Index row = 0; row < m; ++row) {
            const Index i = row * L + c;
            const vd qi = (vload(q + i) - vload(lsp + i) * lf) - vload(rsp + i) * rt;
            if (row == 0) vstore(q + i, qi);  // kept for the stapes
            vstore(kv + i, qi - vload(g + i));
        }
        const Index i = m * L + c;  // the separator row: its value (0 in the last block's padding)
        vstore(kv + i, rt - vload(g + i));
    }
}

// The separators' tridiagonal system, one per signal (spec 4.4 restricted to the separators).
inline void separators(const Plan& p, State& s) {
    const Index B = p.signals, P = p.blocks, L = p.lanes, m = p.rows - 1;
    const double* z = s.z;
    const double* q = s.q;
    double* sep = s.sep;  // (P-1, B)
    for (Index b = 0; b + 1 < P; ++b) {
        const double* zs = z + m * L + b * B;
        const double* ylast = q + (m - 1) * L + b * B;
        const double* yfirst = q + (b + 1) * B;
        const double sa = p.sep_a[b], sc = p.sep_c[b], ra = p.red_a[b], rm = p.red_m[b];
        for (Index sig = 0; sig < B; ++sig) {
            const double r = (zs[sig] - sa * ylast[sig]) - sc * yfirst[sig];
            sep[b * B + sig] = (r - (b > 0 ? ra * sep[(b - 1) * B + sig] : 0.0)) * rm;
        }
    }
    for (Index b = P - 1; b-- > 1;) {
        const double rcp = p.red_cp[b - 1];
        for (Index sig = 0; sig < B; ++sig) sep[(b - 1) * B + sig] -= rcp * sep[b * B + sig];
    }
    for (Index b = 0; b < P; ++b)
        for (Index sig = 0; sig < B; ++sig) {
            s.lane_left[b * B + sig] = b > 0 ? sep[(b - 1) * B + sig] : 0.0;
            s.lane_right[b * B + sig] = b + 1 < P ? sep[b * B + sig] : 0.0;
        }
}

template <int NK, bool Shared>
inline void rhs_layout(const Plan& p, State& s, double* const* ks, const double* ha, const double* hb, double hc,
                       const float* ydel, const double* force, double* kv) {
    const Index L = p.lanes, B = p.signals;
    double* zprev = s.lane_tmp;
    for (Index l = 0; l < L; ++l) zprev[l] = 0.0;
    const PoleConstants pk = pole_constants(p);
    // row 0, then the stapes slots (slot `signal` of row 0): g_0 = d_m V_0, r_0 = g_0 + p0x F; then the
    // other rows
    forward<NK, Shared>(0, 1, L, s.v, s.y, ks[0], ks[1], ks[2], ks[3], ks[4], ha, hb, hc, pk, p.omega, p.omega2,
                        ydel, p.zasq, p.tri_a, p.tri_m, s.g, s.z, zprev, s.vs_row0);
    for (Index sig = 0; sig < B; ++sig) {
        const double g0 = p.d_m * s.vs_row0[sig];
        s.g[sig] = g0;
        const double zi = (g0 + p.p0x * force[sig]) * p.tri_m[Shared ? 0 : sig];
        s.z[sig] = zi;
        zprev[sig] = zi;
    }
    forward<NK, Shared>(1, p.rows, L, s.v, s.y, ks[0], ks[1], ks[2], ks[3], ks[4], ha, hb, hc, pk, p.omega,
                        p.omega2, ydel, p.zasq, p.tri_a, p.tri_m, s.g, s.z, zprev, s.vs_row0);
    if (p.blocks > 1) {
        backward<Shared, false>(p.rows, L, s.z, p.tri_cp, s.g, s.q, kv);
        separators(p, s);
        correct(p.rows - 1, L, p.spike_left, p.spike_right, s.lane_left, s.lane_right, s.g, s.q, kv);
    } else {
        backward<Shared, true>(p.rows, L, s.z, p.tri_cp, s.g, s.q, kv);
    }
    for (Index sig = 0; sig < B; ++sig) kv[sig] = p.k0 * s.q[sig] + p.kg0 * (s.g[sig] + p.p0x * force[sig]);
}

template <int NK>
inline void rhs(const Plan& p, State& s, double* const* ks, const double* ha, const double* hb, double hc,
                const float* ydel, const double* force, double* kv) {
    if (p.shared)
        rhs_layout<NK, true>(p, s, ks, ha, hb, hc, ydel, force, kv);
    else
        rhs_layout<NK, false>(p, s, ks, ha, hb, hc, ydel, force, kv);
}

// The fifth-order solution of the step (V, Y in place) and the velocity `lead` ahead for the poles:
//   V' = V + sum_j hb_j k_j,  Y' = (Y + h V) + sum_j hbt_j k_j.
FAST_LOOP void combine(Index n, double h, const double* __restrict w, const double* __restrict wt, double lead,
                       const double* __restrict k0, const double* __restrict k1, const double* __restrict k2,
                       const double* __restrict k3, const double* __restrict k4, const double* __restrict k5,
                       double* __restrict V, double* __restrict Y, double* __restrict vlead) {
    const double w0 = w[0], w2 = w[2], w3 = w[3], w4 = w[4], w5 = w[5];
    const double t0 = wt[0], t1 = wt[1], t2 = wt[2], t3 = wt[3], t4 = wt[4];
    for (Index i = 0; i < n; ++i) {
        const double vi = V[i];
        const double vn = vi + ((((w0 * k0[i] + w2 * k2[i]) + w3 * k3[i]) + w4 * k4[i]) + w5 * k5[i]);
        Y[i] = (Y[i] + h * vi) + ((((t0 * k0[i] + t1 * k1[i]) + t2 * k2[i]) + t3 * k3[i]) + t4 * k4[i]);
        V[i] = vn;
        vlead[i] = vn + lead * k5[i];
    }
}

// Butcher tableau of DOPRI5 and the derived coefficients for the displacement (see _fast.cpp).
struct Tableau {
    double c[7];
    double a[7][6];
    double at[7][6];  // at[s][j] = sum_i a[s][i] a[i][j]: Y_s = Y + h c_s V + h^2 sum_j at[s][j] k_j
    double b[6], bt[6];
};

inline Tableau dopri5() {
    Tableau t = {};
    const double c[7] = {0, 0, 1.0 / 5, 3.0 / 10, 4.0 / 5, 8.0 / 9, 1.0};  // index = stage (1-based)
    const double a[7][6] = {{0},
                            {0},
                            {1.0 / 5},
                            {3.0 / 40, 9.0 / 40},
                            {44.0 / 45, -56.0 / 15, 32.0 / 9},
                            {19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729},
                            {9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176, -5103.0 / 18656}};
    const double b[6] = {35.0 / 384, 0.0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84};
    for (int s = 0; s < 7; ++s) {
        t.c[s] = c[s];
        for (int j = 0; j < 6; ++j) t.a[s][j] = a[s][j];
    }
    for (int s = 2; s <= 6; ++s)  // stage s uses k_1..k_{s-1}: a[s][j-1] for k_j
        for (int j = 1; j < s; ++j) {
            double acc = 0.0;
            for (int i = j + 1; i < s; ++i) acc += a[s][i - 1] * a[i][j - 1];
            t.at[s][j - 1] = acc;
        }
    for (int j = 1; j <= 6; ++j) {
        t.b[j - 1] = b[j - 1];
        double acc = 0.0;
        for (int i = j + 1; i <= 6; ++i) acc += b[i - 1] * a[i][j - 1];
        t.bt[j - 1] = acc;
    }
    return t;
}

// ---------------------------------------------------------------------------------------------
// Inner hair cell (spec 5), decimation (spec 6) and ANF synapse (spec 7) of the stored channels,
// one sample at a time.
FAST_LOOP void ihc_step(fast_engine::Ihc k, Index n, const double* __restrict vbm, double* __restrict vm,
                        double* __restrict m_met, double* __restrict m_f, double* __restrict m_s,
                        double* __restrict out) {
    for (Index i = 0; i < n; ++i) {
        const double d = k.x0 - vbm[i] * k.gain;
        const double e0 = fast_exp(d * k.inv_s0);  // exp(d / s1) = e0^3 since s0 = 3 s1
        const double m_inf = 1.0 / (1.0 + e0 * (1.0 + e0 * e0 * e0));
        const double mm = m_met[i] * k.a_met + m_inf * k.b_met;
        m_met[i] = mm;
        const double vi = vm[i];
        const double mk = 1.0 / (1.0 + fast_exp((k.v_k - vi) * k.inv_s_k));
        const double mf = mk * k.b_f + m_f[i] * k.a_f;
        const double ms = mk * k.b_s + m_s[i] * k.a_s;
        m_f[i] = mf;
        m_s[i] = ms;
        const double total =
            (mm * k.g_met) * (vi - k.ep) + (mf * k.g_k) * (vi - k.e_kf) + (ms * k.g_k) * (vi - k.e_ks);
        const double vn = vi - total * k.dt_over_cm;
        vm[i] = vn;
        out[i] = vn;
    }
}

FAST_LOOP void anf_step(fast_engine::Anf c, Index n, const double* __restrict vihc, double* __restrict q,
                        double* __restrict w, double* __restrict k, double* __restrict rho, double* __restrict avail,
                        double* __restrict hist, double* __restrict out) {
    for (Index i = 0; i < n; ++i) {
        const double k_in = std::sqrt(1.0 / (1.0 + fast_exp((c.v_half - vihc[i]) * c.inv_s)));
        const double ki = k[i] * c.a_ca + k_in * c.b_ca;
        k[i] = ki;
        const double qi = dmin(dmax(q[i], 0.0), c.m_rrp);
        const double wi = dmin(dmax(w[i], 0.0), c.l_res);
        const double e = ((ki * ki) * c.pp_dt) * qi;
        const double rw = (c.l_res - wi) * c.rw_factor;
        const double rq = dmax(wi * c.inv_l - qi * c.inv_m, 0.0) * c.rq_factor;
        q[i] = (qi + rq) - e;
        w[i] = (wi - rq) + rw;
        const double f = (avail[i] - rho[i]) * e;
        const double rec = hist[i];
        rho[i] = rho[i] * c.a_ref + rec * c.b_ref;
        avail[i] = (avail[i] - f) + rec;
        hist[i] = f;
        out[i] = f * c.fs_an;
    }
}

FAST_LOOP void accumulate(Index n, double h, const double* __restrict x, double* __restrict acc) {
    for (Index i = 0; i < n; ++i) acc[i] += h * x[i];
}

// Decimated row m of the IHC potential is complete: replace the first rows (spec 6), then one
// step of each requested fibre type.
inline void finish_row(const Plan& p, State& s, Index m) {
    fast_engine::Outputs& out = s.out;
    const Index C = out.n_channels, B = p.signals, BC = B * C;
    double* row = s.dec_acc + (m % fast_engine::kDecimationRows) * BC;
    if (m < fast_engine::kStartRows)
        for (Index sig = 0; sig < B; ++sig)
            for (Index ch = 0; ch < C; ++ch) row[sig * C + ch] = s.dec_first[sig];
    for (int f = 0; f < 3; ++f) {
        if (!out.anf_wanted[f]) continue;
        fast_engine::AnfState& st = s.anf_state[f];
        anf_step(s.anf[f], BC, row, st.q, st.w, st.k, st.rho, st.avail, st.history + st.ptr * BC, s.anf_row);
        st.ptr = st.ptr + 1 == s.anf[f].n_ref ? 0 : st.ptr + 1;
        for (Index sig = 0; sig < B; ++sig)
            if (out.anf[f][sig]) std::memcpy(out.anf[f][sig] + m * C, s.anf_row + sig * C, C * sizeof(double));
    }
    for (Index i = 0; i < BC; ++i) row[i] = 0.0;
    s.dec_done = m + 1;
}

// Input row j of the decimation filter: y[m] = sum_k h_k x[5m + 15 - k] (zero outside the signal).
inline void decimate_sample(const Plan& p, State& s, Index j, const double* x) {
    const Index C = s.out.n_channels, B = p.signals, BC = B * C;
    const Index M = s.out.n_decimated;
    const std::ptrdiff_t half = fast_engine::kDecimationHalf, q = fast_engine::kDecimation;
    if (j == 0)
        for (Index sig = 0; sig < B; ++sig) s.dec_first[sig] = x[sig * C];
    const std::ptrdiff_t jj = static_cast<std::ptrdiff_t>(j);
    const std::ptrdiff_t m_lo = jj - half <= 0 ? 0 : (jj - half + q - 1) / q;
    std::ptrdiff_t m_hi = (jj + half) / q;
    if (m_hi > static_cast<std::ptrdiff_t>(M) - 1) m_hi = static_cast<std::ptrdiff_t>(M) - 1;
    for (std::ptrdiff_t m = m_lo; m <= m_hi; ++m)
        accumulate(BC, s.dec_taps[q * m + half - jj], x, s.dec_acc + (m % fast_engine::kDecimationRows) * BC);
    if (jj >= half && (jj - half) % q == 0 && static_cast<Index>((jj - half) / q) < M)
        finish_row(p, s, static_cast<Index>((jj - half) / q));
}

// The decimated rows whose filter window reaches past the end of the signal (zeros there).
inline void finish(const Plan& p, State& s) {
    if (!s.out.need_anf) return;
    for (Index m = s.dec_done; m < s.out.n_decimated; ++m) finish_row(p, s, m);
}

// ---------------------------------------------------------------------------------------------
// Initial state: all at rest, delays of the poles at rest, k_1 of the first step.
inline void start(const Plan& p, State& s) {
    set_delays(p, s, s.v);  // the state is at rest
    reload_windows(p, s, true);
    const double phi = 0.0;
    double force[fast_engine::kMaxSignals];
    delayed(p.slots, 1, &phi, s.frac, s.win[0], s.win[1], s.win[2], s.win[3], s.win[4], s.ydel[0], s.ydel[0],
            s.ydel[0], s.ydel[0], s.ydel[0]);
    stimulus_force(p, s, 0, 0.0, force);
    rhs<0>(p, s, s.k, nullptr, nullptr, 0.0, s.ydel[0], force, s.k[0]);
}

// Samples s.j .. j1 - 1 of the whole chain (s.j counts the samples done).
inline void advance(const Plan& p, State& s, Index j1) {
    static const Tableau tab = dopri5();
    const Index n = p.slots, B = p.signals;
    const int steps = p.steps;
    const double h = p.dt / steps;
    double force[fast_engine::kMaxSignals];
    double* const* ks = s.k;
    double ha[7][5], hb[7][5], w[6], wt[6];
    for (int st = 2; st <= 6; ++st)
        for (int j = 0; j < 5; ++j) {
            ha[st][j] = h * tab.a[st][j];
            hb[st][j] = h * h * tab.at[st][j];
        }
    for (int j = 0; j < 6; ++j) {
        w[j] = h * tab.b[j];
        wt[j] = h * h * tab.bt[j];
    }
    for (; s.j < j1; ++s.j) {
        const Index j = s.j;
        const bool integrate = j + 2 < s.n_samples;  // the last two samples are not integrated (spec 4.10)
        if (integrate) {
            for (int step = 0; step < steps; ++step) {
                const double phi0 = static_cast<double>(step) / steps;
                double phis[5];
                for (int st = 2; st <= 6; ++st) phis[st - 2] = phi0 + tab.c[st] / steps;
                delayed(n, 5, phis, s.frac, s.win[0], s.win[1], s.win[2], s.win[3], s.win[4], s.ydel[0], s.ydel[1],
                        s.ydel[2], s.ydel[3], s.ydel[4]);
                // k_1 is in ks[0] (from the end of the previous step); stages 2..6
                stimulus_force(p, s, j, phis[0], force);
                rhs<1>(p, s, ks, ha[2], hb[2], h * tab.c[2], s.ydel[0], force, ks[1]);
                stimulus_force(p, s, j, phis[1], force);
                rhs<2>(p, s, ks, ha[3], hb[3], h * tab.c[3], s.ydel[1], force, ks[2]);
                stimulus_force(p, s, j, phis[2], force);
                rhs<3>(p, s, ks, ha[4], hb[4], h * tab.c[4], s.ydel[2], force, ks[3]);
                stimulus_force(p, s, j, phis[3], force);
                rhs<4>(p, s, ks, ha[5], hb[5], h * tab.c[5], s.ydel[3], force, ks[4]);
                stimulus_force(p, s, j, phis[4], force);
                rhs<5>(p, s, ks, ha[6], hb[6], h * tab.c[6], s.ydel[4], force, ks[5]);
                combine(n, h, w, wt, p.lead * h, ks[0], ks[1], ks[2], ks[3], ks[4], ks[5], s.v, s.y, s.vlead);
                const bool end_of_sample = step + 1 == steps;
                if (end_of_sample) ring_write(n, B, p.prefetch, s.y, p.ring_start, p.ring_length, s.write, s.ring);
                set_delays(p, s, s.vlead);  // the delays of the next step, from its middle's velocity
                refresh_windows(p, s, end_of_sample);
                // k_1 of the next step (first same as last), at the end of this one, with the new delays
                const double phi_end = end_of_sample ? 0.0 : static_cast<double>(step + 1) / steps;
                const Index jn = end_of_sample ? j + 1 : j;
                delayed(n, 1, &phi_end, s.frac, s.win[0], s.win[1], s.win[2], s.win[3], s.win[4], s.ydel[0],
                        s.ydel[0], s.ydel[0], s.ydel[0], s.ydel[0]);
                stimulus_force(p, s, jn, phi_end, force);
                rhs<0>(p, s, ks, nullptr, nullptr, 0.0, s.ydel[0], force, ks[0]);
            }
            for (Index sig = 0; sig < B; ++sig) s.emission[sig][j] = s.q[sig];
        }
        // stored channels of this output row (zeros for the two rows that are not integrated)
        fast_engine::Outputs& out = s.out;
        const Index C = out.n_channels;
        double* vb = s.vbm;
        for (Index i = 0; i < B * C; ++i) vb[i] = integrate ? s.v[out.slot[i]] : 0.0;
        for (Index sig = 0; sig < B; ++sig) {
            if (out.v[sig]) std::memcpy(out.v[sig] + j * C, vb + sig * C, C * sizeof(double));
            if (out.y[sig])
                for (Index ch = 0; ch < C; ++ch) out.y[sig][j * C + ch] = integrate ? s.y[out.slot[sig * C + ch]] : 0.0;
        }
        if (!out.need_ihc) continue;
        ihc_step(s.ihc, B * C, vb, s.ihc_v, s.ihc_m_met, s.ihc_m_f, s.ihc_m_s, s.vihc);
        for (Index sig = 0; sig < B; ++sig)
            if (out.ihc[sig]) std::memcpy(out.ihc[sig] + j * C, s.vihc + sig * C, C * sizeof(double));
        if (out.need_anf) decimate_sample(p, s, j, s.vihc);
    }
}

#undef FAST_LOOP

}  // namespace FAST_NS
