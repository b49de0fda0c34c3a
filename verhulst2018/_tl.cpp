// Compiled time stepping of the Verhulst et al. (2018) transmission-line cochlea.
//
// The whole per-sample update runs here: one DOPRI5 interval per stimulus
// sample (with the pole update inside the stages), the ring buffer of past
// displacements, the cubic interpolation of the delayed displacement, the
// tridiagonal (Thomas) solve and the output storage. The arithmetic follows
// verhulst2018/cochlea.py (the NumPy executable specification) operation for
// operation, so both engines give bit-identical results on IEEE-754 hardware.
// Build flags must not allow fused multiply-add contraction or fast-math
// (see CMakeLists.txt).
//
// Two sets of loops compute the same numbers: portable ones (the order of cochlea.py:
// all pole terms, all delayed forces, forward sweep, backward sweep) and, on x86-64 CPUs
// with AVX2 and FMA, SIMD ones that work on four sections at a time and overlap the two
// sequential Thomas sweeps with independent work: the delayed force runs inside the forward
// sweep, and the next Runge-Kutta stage and its instantaneous poles inside the backward
// sweep. exp() there is exp4 (_exp.h), used only where it reproduces the C library's bits.
// Tests compare both sets with each other and with the NumPy engine bit for bit.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include "_exp.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#if defined(_MSC_VER)
#define __restrict __restrict
#endif
#if defined(_WIN32)
#include <malloc.h>
#endif
#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace py = pybind11;

#if defined(__GNUC__) && defined(__x86_64__) && defined(__linux__) && !defined(__clang__)
#define CLONE_AVX2 __attribute__((target_clones("avx2", "default")))
#else
#define CLONE_AVX2
#endif

namespace {

constexpr double kPi = 3.14159265358979311600;  // numpy.pi
constexpr double kSheraC = 120.8998691636393;
constexpr double kPoleFactor = 100.0;
constexpr double kPoleTolerance = 0.01;
constexpr double kStimulusCubic = 0.1666667;
constexpr double kRtol = 1e-2;
constexpr std::int64_t kMirror = 4;  // mirrored slots at the end of each ring
constexpr double kAtol = 1e-13;
constexpr std::size_t kPrefetchBlocks = 8;  // how far ahead (in blocks of 4 nodes) the forward pass prefetches ring lines

// DOPRI5 coefficients, as double divisions (same values as cochlea.py)
const double C2 = 1.0 / 5, C3 = 3.0 / 10, C4 = 4.0 / 5, C5 = 8.0 / 9;
const double A21 = 1.0 / 5;
const double A31 = 3.0 / 40, A32 = 9.0 / 40;
const double A41 = 44.0 / 45, A42 = -56.0 / 15, A43 = 32.0 / 9;
const double A51 = 19372.0 / 6561, A52 = -25360.0 / 2187, A53 = 64448.0 / 6561, A54 = -212.0 / 729;
const double A61 = 9017.0 / 3168, A62 = -355.0 / 33, A63 = 46732.0 / 5247, A64 = 49.0 / 176,
             A65 = -5103.0 / 18656;
const double A71 = 35.0 / 384, A73 = 500.0 / 1113, A74 = 125.0 / 192, A75 = -2187.0 / 6784,
             A76 = 11.0 / 84;
const double E1 = 71.0 / 57600, E3 = -71.0 / 16695, E4 = 71.0 / 1920, E5 = -17253.0 / 339200,
             E6 = 22.0 / 525, E7 = -1.0 / 40;

using Array = py::array_t<double, py::array::c_style | py::array::forcecast>;

// Zero-filled float array aligned to 2 MiB; on Linux it asks for transparent huge pages, since
// every evaluation reads one place in each of the 1001 rings (fewer TLB misses).
struct AlignedFree {
    void operator()(float* p) const {
#if defined(_WIN32)
        _aligned_free(p);
#else
        std::free(p);
#endif
    }
};
using RingStorage = std::unique_ptr<float[], AlignedFree>;

RingStorage allocate_rings(std::size_t n) {
    const std::size_t align = std::size_t(2) << 20;
    const std::size_t bytes = ((n * sizeof(float) + align - 1) / align) * align;
    void* p = nullptr;
#if defined(_WIN32)
    p = _aligned_malloc(bytes, align);
#else
    if (posix_memalign(&p, align, bytes) != 0) p = nullptr;
#endif
    if (p == nullptr) throw std::bad_alloc();
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    madvise(p, bytes, MADV_HUGEPAGE);  // a hint only; ignored where unsupported
#endif
    float* f = static_cast<float*>(p);
    std::fill(f, f + n, 0.0f);
    return RingStorage(f);
}

std::vector<double> to_vector(const Array& a, std::size_t n, const char* name) {
    if (a.ndim() != 1 || static_cast<std::size_t>(a.shape(0)) != n) {
        throw std::invalid_argument(std::string("_tl.solve: parameter '") + name + "' must have " +
                                    std::to_string(n) + " values");
    }
    return std::vector<double>(a.data(), a.data() + n);
}

struct Parameters {
    std::size_t n = 0;  // number of nodes (1001)
    double dt = 0, p0x = 0, d_m = 0, k0 = 0, kg0 = 0, tri_b0 = 0;
    std::int64_t n_buffer = 0;
    bool nonlinear = true;
    std::vector<double> omega, zasq, tri_a, tri_cp, tri_m;
    std::vector<double> start_pole, knee_1, kappa, hyp_a, hyp_b, cos_theta, sin_theta, passive_pole;
    std::vector<double> initial_pole;
    std::vector<std::int64_t> ring_length;  // per-node ring-buffer length
};

// Instantaneous pole P^ of every node for velocities v (spec §4.7.3) and its relative
// change from the current pole; a free function with restrict pointers so it vectorises.
// Divisions and square roots are exactly rounded in every SIMD width, so the AVX2 clone
// gives the same bits as the baseline one.
CLONE_AVX2 void instantaneous_poles(std::size_t n, const double* __restrict v, const double* __restrict knee_1,
                         const double* __restrict kappa, const double* __restrict hyp_a,
                         const double* __restrict hyp_b, const double* __restrict sin_theta,
                         const double* __restrict cos_theta, const double* __restrict start_pole,
                         const double* __restrict passive_pole, const double* __restrict pole,
                         double* __restrict pole_new, double* __restrict change) {
    for (std::size_t i = 0; i < n; ++i) {
        const double x = (std::fabs(v[i]) / knee_1[i] - 1) * kappa[i];
        const double xa = x / hyp_a[i];
        const double yp = hyp_b[i] * std::sqrt(1 + xa * xa);
        const double sv = x * sin_theta[i] + yp * cos_theta[i];
        const double pu = start_pole[i] + sv / kPoleFactor;
        const double pn = passive_pole[i] < pu ? passive_pole[i] : pu;
        pole_new[i] = pn;
        change[i] = std::fabs(pn - pole[i]) / std::fabs(pole[i]);
    }
}

// Delayed displacement of nodes 1..n-1 by the reference's float32 4-point cubic (spec §4.6),
// then g_i and the tridiagonal right-hand side r_i = S_i g_i. read_start[i] indexes the first
// of the four ring entries; each ring has 4 mirrored slots at its end, so no wrap is needed.
void delayed_force_scalar(std::size_t n0, std::size_t n, double phi, const double* __restrict v, const double* __restrict y,
                              double* __restrict frac, const std::int64_t* __restrict read_start,
                              const float* __restrict buffer, const double* __restrict om_d,
                              const double* __restrict om2, const double* __restrict rho,
                              const double* __restrict zasq, double* __restrict g, double* __restrict r) {
    for (std::size_t i = n0; i < n; ++i) {
        const double e = frac[i] + phi;
        // past the next buffer column: read one column later (branch-free; e - 0.0 == e)
        const std::int64_t late = e >= 1 ? 1 : 0;
        const std::int64_t k = read_start[i] + late;
        const double nu_d = e - static_cast<double>(late);
        const float y0 = buffer[k], y1 = buffer[k + 1], y2 = buffer[k + 2], y3 = buffer[k + 3];
        const float nu = static_cast<float>(nu_d);
        const float a0 = (y1 - y0) + (y3 - y2);
        const float y01 = y0 - y1, y20 = y2 - y0, nu2 = nu * nu;
        const double yd = (static_cast<double>(a0) * (static_cast<double>(nu) - 1) + static_cast<double>(y01)) *
                              static_cast<double>(nu2) +
                          (static_cast<double>(y1) + static_cast<double>(y20) * static_cast<double>(nu));
        // the reference adds phi to the fraction and subtracts it again (1-ulp drift)
        frac[i] = e - phi;
        const double gi = om_d[i] * v[i] + om2[i] * (y[i] + rho[i] * yd);
        g[i] = gi;
        r[i] = zasq[i] * gi;
    }
}

// Zweig impedance terms for poles P (spec §4.5) and the delay in samples (spec §4.6):
// om_d = omega d, rho_pre * exp(exp_arg) = rho, d_int = floor(D) + 1, frac0 = d_int - D.
// Vectorisable; exp() is left to the caller.
CLONE_AVX2 void zweig_parameters(std::size_t n, const double* __restrict pole, const double* __restrict omega,
                                 double dt, double* __restrict om_d, double* __restrict rho_pre,
                                 double* __restrict exp_arg, double* __restrict frac0,
                                 double* __restrict d_int) {
    for (std::size_t i = 0; i < n; ++i) {
        const double pl = pole[i];
        const double a = (pl + std::sqrt(pl * pl + kSheraC * (1 - pl * pl))) / kSheraC;
        const double d = 2 * (pl - a);
        om_d[i] = omega[i] * d;
        const double mu = 1 / ((2 * kPi) * a);
        const double half_d = d / 2;
        rho_pre[i] = (2 * a) * std::sqrt(1 - half_d * half_d);
        exp_arg[i] = -pl / a;
        // the delay only changes with the poles: keep its integer part and fraction
        const double d_exact = ((2 * kPi) * mu) / (omega[i] * dt);
        const double di = std::floor(d_exact) + 1;
        frac0[i] = di - d_exact;
        d_int[i] = di;
    }
}


#if defined(__GNUC__) && defined(__x86_64__)
// The SIMD loops need AVX2 and FMA (every x86-64 CPU with AVX2 in practice has both). FMA is
// used only where written explicitly (exp4); -ffp-contract=off keeps every other a*b+c unfused.
#define HAVE_AVX2_PATH 1
#define SIMD_TARGET __attribute__((target("avx2,fma")))
#include <immintrin.h>
// The same arithmetic as delayed_force_scalar, four nodes at a time. Every operation is an
// IEEE-754 operation of the same precision in the same order (conversions round to nearest,
// no fused multiply-add), so the results are bit-identical to the scalar loop.
// Delayed displacement, g and r of the four nodes i..i+3 with their fraction, first ring index,
// omega*d and rho given in registers; stores the advanced-and-restored fraction and g, returns r.
SIMD_TARGET inline __m256d delayed_force_block_avx2(
    std::size_t i, __m256d vphi, __m256d frac_i, __m256i start_i, __m256d om_d_i, __m256d rho_i,
    const double* __restrict v, const double* __restrict y, double* __restrict frac,
    const float* __restrict buffer, const double* __restrict om2, const double* __restrict zasq,
    double* __restrict g) {
    const __m256d one = _mm256_set1_pd(1.0);
    const __m256d e = _mm256_add_pd(frac_i, vphi);
    const __m256d late = _mm256_cmp_pd(e, one, _CMP_GE_OQ);
    const __m256d nu_d = _mm256_sub_pd(e, _mm256_and_pd(late, one));
    const __m256i k = _mm256_add_epi64(start_i, _mm256_and_si256(_mm256_castpd_si256(late), _mm256_set1_epi64x(1)));
    // the four (float32) ring entries of each node, transposed to y0..y3 across nodes
    __m128 y0 = _mm_loadu_ps(buffer + _mm256_extract_epi64(k, 0));
    __m128 y1 = _mm_loadu_ps(buffer + _mm256_extract_epi64(k, 1));
    __m128 y2 = _mm_loadu_ps(buffer + _mm256_extract_epi64(k, 2));
    __m128 y3 = _mm_loadu_ps(buffer + _mm256_extract_epi64(k, 3));
    _MM_TRANSPOSE4_PS(y0, y1, y2, y3);
    const __m128 nu = _mm256_cvtpd_ps(nu_d);
    const __m128 a0 = _mm_add_ps(_mm_sub_ps(y1, y0), _mm_sub_ps(y3, y2));
    const __m128 y01 = _mm_sub_ps(y0, y1), y20 = _mm_sub_ps(y2, y0), nu2 = _mm_mul_ps(nu, nu);
    const __m256d nud = _mm256_cvtps_pd(nu);
    const __m256d t1 = _mm256_add_pd(_mm256_mul_pd(_mm256_cvtps_pd(a0), _mm256_sub_pd(nud, one)),
                                     _mm256_cvtps_pd(y01));
    const __m256d t2 = _mm256_add_pd(_mm256_cvtps_pd(y1), _mm256_mul_pd(_mm256_cvtps_pd(y20), nud));
    const __m256d yd = _mm256_add_pd(_mm256_mul_pd(t1, _mm256_cvtps_pd(nu2)), t2);
    // the reference adds phi to the fraction and subtracts it again (1-ulp drift)
    _mm256_storeu_pd(frac + i, _mm256_sub_pd(e, vphi));
    const __m256d inner = _mm256_add_pd(_mm256_loadu_pd(y + i), _mm256_mul_pd(rho_i, yd));
    const __m256d gi = _mm256_add_pd(_mm256_mul_pd(om_d_i, _mm256_loadu_pd(v + i)),
                                     _mm256_mul_pd(_mm256_loadu_pd(om2 + i), inner));
    _mm256_storeu_pd(g + i, gi);
    return _mm256_mul_pd(_mm256_loadu_pd(zasq + i), gi);
}

// zweig_parameters for the four nodes i..i+3, the same operations in the same order
// (division, square root and floor are exactly rounded in every width); results in registers.
struct ZweigBlock {
    __m256d om_d, rho_pre, exp_arg, frac0, d_int;
};

SIMD_TARGET inline ZweigBlock zweig_parameters_avx2(__m256d pl, __m256d om, double dt) {
    const __m256d one = _mm256_set1_pd(1.0), two = _mm256_set1_pd(2.0), c = _mm256_set1_pd(kSheraC);
    const __m256d two_pi = _mm256_set1_pd(2 * kPi);
    ZweigBlock z;
    const __m256d pl2 = _mm256_mul_pd(pl, pl);
    const __m256d root = _mm256_sqrt_pd(_mm256_add_pd(pl2, _mm256_mul_pd(c, _mm256_sub_pd(one, pl2))));
    const __m256d a = _mm256_div_pd(_mm256_add_pd(pl, root), c);
    const __m256d d = _mm256_mul_pd(two, _mm256_sub_pd(pl, a));
    z.om_d = _mm256_mul_pd(om, d);
    const __m256d mu = _mm256_div_pd(one, _mm256_mul_pd(two_pi, a));
    const __m256d half_d = _mm256_div_pd(d, two);
    z.rho_pre = _mm256_mul_pd(_mm256_mul_pd(two, a), _mm256_sqrt_pd(_mm256_sub_pd(one, _mm256_mul_pd(half_d, half_d))));
    z.exp_arg = _mm256_div_pd(_mm256_xor_pd(pl, _mm256_set1_pd(-0.0)), a);
    const __m256d d_exact = _mm256_div_pd(_mm256_mul_pd(two_pi, mu), _mm256_mul_pd(om, _mm256_set1_pd(dt)));
    z.d_int = _mm256_add_pd(_mm256_round_pd(d_exact, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC), one);
    z.frac0 = _mm256_sub_pd(z.d_int, d_exact);
    return z;
}
#endif

// The Runge-Kutta stage that follows a right-hand-side evaluation, when it is known in advance:
// state <- yp + h * (c[0] k[0] + c[1] k[1] + ...), summed left to right (spec 4.10). k[nk-1] is
// the evaluation's own output. rhs() builds it while its backward sweep runs.
struct NextStage {
    const double* yp;
    const double* k[6];
    double c[6];
    int nk;
    double h;
};

#ifdef HAVE_AVX2_PATH
// instantaneous_poles() for the four nodes i..i+3 at velocities vi; returns the update mask
// !(change <= tolerance) (NaN counts as a change).
SIMD_TARGET inline __m256d instantaneous_poles_avx2(
    std::size_t i, __m256d vi, const double* __restrict knee_1, const double* __restrict kappa,
    const double* __restrict hyp_a, const double* __restrict hyp_b, const double* __restrict sin_theta,
    const double* __restrict cos_theta, const double* __restrict start_pole, const double* __restrict passive_pole,
    const double* __restrict pole, double* __restrict pole_new) {
    const __m256d sign = _mm256_set1_pd(-0.0), one = _mm256_set1_pd(1.0);
    const __m256d x = _mm256_mul_pd(_mm256_sub_pd(_mm256_div_pd(_mm256_andnot_pd(sign, vi), _mm256_loadu_pd(knee_1 + i)), one),
                                    _mm256_loadu_pd(kappa + i));
    const __m256d xa = _mm256_div_pd(x, _mm256_loadu_pd(hyp_a + i));
    const __m256d yp = _mm256_mul_pd(_mm256_loadu_pd(hyp_b + i), _mm256_sqrt_pd(_mm256_add_pd(one, _mm256_mul_pd(xa, xa))));
    const __m256d sv = _mm256_add_pd(_mm256_mul_pd(x, _mm256_loadu_pd(sin_theta + i)),
                                     _mm256_mul_pd(yp, _mm256_loadu_pd(cos_theta + i)));
    const __m256d pu = _mm256_add_pd(_mm256_loadu_pd(start_pole + i), _mm256_div_pd(sv, _mm256_set1_pd(kPoleFactor)));
    const __m256d pn = _mm256_min_pd(_mm256_loadu_pd(passive_pole + i), pu);  // passive < pu ? passive : pu
    _mm256_storeu_pd(pole_new + i, pn);
    const __m256d pl = _mm256_loadu_pd(pole + i);
    const __m256d change = _mm256_div_pd(_mm256_andnot_pd(sign, _mm256_sub_pd(pn, pl)), _mm256_andnot_pd(sign, pl));
    return _mm256_cmp_pd(change, _mm256_set1_pd(kPoleTolerance), _CMP_NLE_UQ);
}
#endif

class TransmissionLine {
   public:
    TransmissionLine(const Parameters& p, const double* stimulus, std::size_t n_samples, bool simd)
        : p_(p), s_(stimulus), n_t_(n_samples), n_(p.n) {
#ifdef HAVE_AVX2_PATH
        simd_ = simd && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
        exp4_ = simd_ && exp_matches_libm();
#else
        (void)simd;
#endif
        // One ring per node, each as long as that node's longest possible delay needs
        // (spec §4.6 uses one length for all nodes; a node reads only its own history, so
        // shorter rings give the same numbers in a twelfth of the memory).
        ring_start_.resize(n_ + 1, 0);
        for (std::size_t i = 0; i < n_; ++i) ring_start_[i + 1] = ring_start_[i] + p.ring_length[i] + kMirror;
        buffer_ = allocate_rings(static_cast<std::size_t>(ring_start_[n_]));
        write_.assign(n_, 0);
        read_start_.assign(n_, 0);
        pole_ = p.initial_pole;
        pole_new_.resize(n_);
        om_d_.resize(n_);
        om2_.resize(n_);
        rho_.resize(n_);
        change_.resize(n_);
        frac_.resize(n_);
        frac0_.resize(n_);
        exp_arg_.resize(n_);
        d_int_real_.resize(n_);
        d_int_.resize(n_);
        g_.resize(n_);
        z_.resize(n_);
        for (std::size_t i = 0; i < n_; ++i) om2_[i] = p.omega[i] * p.omega[i];
        set_poles();
    }

    // Right-hand side of the ODE at time t for state [V_0..V_N, Y_0..Y_N]; writes dstate.
    // Right-hand side at time t for the stage state [V_0..V_N, Y_0..Y_N]; writes dstate. With
    // next, state is then overwritten by the next stage's state (see NextStage).
    void rhs(double t, double* state, double* dstate, const NextStage* next = nullptr) {
        const std::size_t n = n_;
        const double* v = state;
        const double* y = state + n;
        const double phi = (t - t_j_) / p_.dt;
        const double a = j_ > 0 ? s_[j_ - 1] : 0.0;
        const double b = s_[j_], c = s_[j_ + 1], d = s_[j_ + 2];
        const double force =
            b + phi * ((c - b) - kStimulusCubic * (1 - phi) *
                                     (((d - a) - 3 * (c - b)) * phi + ((d + 2 * a) - 3 * b)));
        bool update = false;
        if (p_.nonlinear && poles_ready_) {
            update = pending_update_;  // computed by the previous evaluation for this state
            poles_ready_ = false;
            if (update) {
                ++n_pole_updates_;
                pole_.swap(pole_new_);
            }
        } else if (p_.nonlinear) {
            instantaneous_poles(n, v, p_.knee_1.data(), p_.kappa.data(), p_.hyp_a.data(), p_.hyp_b.data(),
                                p_.sin_theta.data(), p_.cos_theta.data(), p_.start_pole.data(),
                                p_.passive_pole.data(), pole_.data(), pole_new_.data(), change_.data());
            const double* ch = change_.data();
            for (std::size_t i = 1; i < n; ++i) update |= !(ch[i] <= kPoleTolerance);  // NaN counts
            if (update) {
                ++n_pole_updates_;
                pole_.swap(pole_new_);
            }
        }
        const double pf = p_.p0x * force;
#ifdef HAVE_AVX2_PATH
        if (simd_) {
            forward_pass_avx2(update, phi, v, y, pf);
        } else
#endif
        {
            if (update) set_poles();
            forward_pass(phi, v, y, pf);
        }
#ifdef HAVE_AVX2_PATH
        if (simd_) {
            backward_pass_avx2(state, dstate, pf, next);
            return;
        }
#endif
        const double* tri_cp = p_.tri_cp.data();
        double q_next = z_[n - 1];
        dstate[n - 1] = q_next - g_[n - 1];
        for (std::size_t i = n - 1; i-- > 1;) {
            q_next = z_[i] - tri_cp[i] * q_next;
            dstate[i] = q_next - g_[i];
        }
        const double q_0 = z_[0] - tri_cp[0] * q_next;
        dstate[0] = p_.k0 * q_0 + p_.kg0 * (g_[0] + pf);
        q0_ = q_0;
        std::copy(v, v + n, dstate + n);
        if (next) next_stage(*next, state, 0, 2 * n);
    }

    void end_of_sample(double t_next, const double* state) {
        t_j_ = t_next;
        for (std::size_t i = 0; i < n_; ++i) {
            const std::int64_t w = write_[i] + 1 == p_.ring_length[i] ? 0 : write_[i] + 1;
            write_[i] = w;
            float* ring = buffer_.get() + ring_start_[i];
            const float yi = static_cast<float>(state[n_ + i]);
            ring[w] = yi;
            if (w < kMirror) ring[p_.ring_length[i] + w] = yi;  // mirror of the start
        }
        update_pointers();
        ++j_;
    }

    double q0() const { return q0_; }
    std::int64_t n_pole_updates() const { return n_pole_updates_; }

   private:
    // Delayed force and right-hand side r for every node, then the forward sweep of the Thomas
    // algorithm (spec 4.4) in place over r (held in z_). The portable order: all nodes' r first.
    void forward_pass(double phi, const double* v, const double* y, double pf) {
        const std::size_t n = n_;
        // node 0 (stapes): g_0 = d_m V_0; its delayed displacement is never used
        g_[0] = p_.d_m * v[0];
        z_[0] = g_[0] + pf;  // right-hand side r_0
        delayed_force_scalar(1, n, phi, v, y, frac_.data(), read_start_.data(), buffer_.get(), om_d_.data(),
                             om2_.data(), rho_.data(), p_.zasq.data(), g_.data(), z_.data());
        const double* tri_a = p_.tri_a.data();
        const double* tri_m = p_.tri_m.data();
        double z_prev = z_[0] / p_.tri_b0;
        z_[0] = z_prev;
        for (std::size_t i = 1; i < n; ++i) {
            z_prev = (z_[i] - tri_a[i] * z_prev) * tri_m[i];
            z_[i] = z_prev;
        }
    }

#ifdef HAVE_AVX2_PATH
    // The same numbers as set_poles() (when update) and forward_pass(), four nodes at a time: the
    // sequential forward sweep of each block runs while the next block's independent work (pole
    // terms, exp, read pointers, delayed force) fills the pipeline.
    SIMD_TARGET void forward_pass_avx2(bool update, double phi, const double* v, const double* y, double pf) {
        const std::size_t n = n_;
        const double* __restrict tri_a = p_.tri_a.data();
        const double* __restrict tri_m = p_.tri_m.data();
        const __m256d vphi = _mm256_set1_pd(phi);
        if (update) set_node_poles(0, 1);
        g_[0] = p_.d_m * v[0];
        double z_prev = (g_[0] + pf) / p_.tri_b0;
        z_[0] = z_prev;
        const std::size_t n_blocks = (n - 1) / 4;  // blocks of nodes 1+4b .. 4+4b
        // New poles: their terms first, in a loop of independent blocks (square roots,
        // divisions and exp pipeline well there; interleaved with the sweep they did not)
        if (update)
            for (std::size_t b = 0; b < n_blocks; ++b) pole_terms_avx2(1 + 4 * b);
        // local restrict pointers: the compiler need not reload them after every store
        double* __restrict frac = frac_.data();
        const std::int64_t* __restrict rs = read_start_.data();
        const double* __restrict om_d = om_d_.data();
        const double* __restrict rho = rho_.data();
        const float* __restrict ring = buffer_.get();
        const double* __restrict om2 = om2_.data();
        const double* __restrict zasq = p_.zasq.data();
        double* __restrict g = g_.data();
        double* __restrict z = z_.data();
        for (std::size_t b = 0; b < n_blocks; ++b) {
            const std::size_t i = 1 + 4 * b;
            // the rings are 1000 separate places in memory: ask for a later block's lines early
            if (b + kPrefetchBlocks < n_blocks) {
                const std::int64_t* ahead = rs + 1 + 4 * (b + kPrefetchBlocks);
                for (int k = 0; k < 4; ++k) _mm_prefetch(reinterpret_cast<const char*>(ring + ahead[k]), _MM_HINT_T0);
            }
            const __m256d r = delayed_force_block_avx2(
                i, vphi, _mm256_loadu_pd(frac + i), _mm256_loadu_si256(reinterpret_cast<const __m256i*>(rs + i)),
                _mm256_loadu_pd(om_d + i), _mm256_loadu_pd(rho + i), v, y, frac, ring, om2, zasq, g);
            const __m128d r01 = _mm256_castpd256_pd128(r), r23 = _mm256_extractf128_pd(r, 1);
            z_prev = (_mm_cvtsd_f64(r01) - tri_a[i] * z_prev) * tri_m[i];
            z[i] = z_prev;
            z_prev = (_mm_cvtsd_f64(_mm_unpackhi_pd(r01, r01)) - tri_a[i + 1] * z_prev) * tri_m[i + 1];
            z[i + 1] = z_prev;
            z_prev = (_mm_cvtsd_f64(r23) - tri_a[i + 2] * z_prev) * tri_m[i + 2];
            z[i + 2] = z_prev;
            z_prev = (_mm_cvtsd_f64(_mm_unpackhi_pd(r23, r23)) - tri_a[i + 3] * z_prev) * tri_m[i + 3];
            z[i + 3] = z_prev;
        }
        const std::size_t i = 1 + 4 * n_blocks;
        if (i < n) {
            if (update) set_node_poles(i, n);
            delayed_force_scalar(i, n, phi, v, y, frac_.data(), read_start_.data(), buffer_.get(), om_d_.data(),
                                 om2_.data(), rho_.data(), p_.zasq.data(), g_.data(), z_.data());
            for (std::size_t k = i; k < n; ++k) {
                z_prev = (z_[k] - tri_a[k] * z_prev) * tri_m[k];
                z_[k] = z_prev;
            }
        }
    }

    // set_node_poles(i, i + 4) in vector form: omega*d, rho, the delay's fraction and read pointer.
    SIMD_TARGET void pole_terms_avx2(std::size_t i) {
        const ZweigBlock zb =
            zweig_parameters_avx2(_mm256_loadu_pd(pole_.data() + i), _mm256_loadu_pd(p_.omega.data() + i), p_.dt);
        __m256d rho_i;
        if (exp4_) {
            rho_i = _mm256_mul_pd(zb.rho_pre, exp4(zb.exp_arg));  // the bits of std::exp
        } else {
            alignas(32) double arg[4];
            _mm256_store_pd(arg, zb.exp_arg);
            rho_i = _mm256_mul_pd(zb.rho_pre, _mm256_set_pd(std::exp(arg[3]), std::exp(arg[2]), std::exp(arg[1]),
                                                            std::exp(arg[0])));
        }
        // read pointers (spec 4.6) in 64-bit integer lanes; delays are far below 2^31
        const __m256i d_int = _mm256_cvtepi32_epi64(_mm256_cvttpd_epi32(zb.d_int));
        const __m256i nb = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p_.ring_length.data() + i));
        const __m256i bad = _mm256_or_si256(_mm256_cmpgt_epi64(_mm256_set1_epi64x(1), d_int),
                                            _mm256_cmpgt_epi64(_mm256_add_epi64(d_int, _mm256_set1_epi64x(2)), nb));
        if (!_mm256_testz_si256(bad, bad))
            throw std::runtime_error("TL delay outside the ring buffer; check fs and the poles");
        __m256i k1 = _mm256_sub_epi64(
            _mm256_add_epi64(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(write_.data() + i)), nb), d_int);
        k1 = _mm256_sub_epi64(k1, _mm256_andnot_si256(_mm256_cmpgt_epi64(nb, k1), nb));  // k1 >= nb: k1 - nb
        const __m256i k1_zero = _mm256_cmpeq_epi64(k1, _mm256_setzero_si256());
        const __m256i k0 = _mm256_blendv_epi8(_mm256_sub_epi64(k1, _mm256_set1_epi64x(1)),
                                              _mm256_sub_epi64(nb, _mm256_set1_epi64x(1)), k1_zero);
        _mm256_storeu_pd(om_d_.data() + i, zb.om_d);
        _mm256_storeu_pd(rho_.data() + i, rho_i);
        _mm256_storeu_pd(frac0_.data() + i, zb.frac0);
        _mm256_storeu_pd(frac_.data() + i, zb.frac0);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(d_int_.data() + i), d_int);
        _mm256_storeu_si256(
            reinterpret_cast<__m256i*>(read_start_.data() + i),
            _mm256_add_epi64(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(ring_start_.data() + i)), k0));
    }
#endif

    // state[i] <- yp[i] + h * (c0 k0[i] + c1 k1[i] + ...) for i in [i0, i1)
    static void next_stage(const NextStage& s, double* state, std::size_t i0, std::size_t i1) {
        for (std::size_t i = i0; i < i1; ++i) {
            double acc = s.c[0] * s.k[0][i];
            for (int j = 1; j < s.nk; ++j) acc = acc + s.c[j] * s.k[j][i];
            state[i] = s.yp[i] + s.h * acc;
        }
    }

#ifdef HAVE_AVX2_PATH
    SIMD_TARGET static __m256d next_stage_avx2(const NextStage& s, std::size_t i) {
        __m256d acc = _mm256_mul_pd(_mm256_set1_pd(s.c[0]), _mm256_loadu_pd(s.k[0] + i));
        for (int j = 1; j < s.nk; ++j)
            acc = _mm256_add_pd(acc, _mm256_mul_pd(_mm256_set1_pd(s.c[j]), _mm256_loadu_pd(s.k[j] + i)));
        return _mm256_add_pd(_mm256_loadu_pd(s.yp + i), _mm256_mul_pd(_mm256_set1_pd(s.h), acc));
    }

    // Backward sweep of the Thomas algorithm and the derivatives, four nodes at a time from the
    // apex down; with next, each block's next-stage state and instantaneous poles are formed
    // while the sequential sweep runs, and the update decision of the next evaluation is kept.
    SIMD_TARGET void backward_pass_avx2(double* state, double* dstate, double pf,
                                                           const NextStage* next) {
        const std::size_t n = n_;
        const double* tri_cp = p_.tri_cp.data();
        const bool poles = next != nullptr && p_.nonlinear;
        __m256d any = _mm256_setzero_pd();
        double q_next = 0.0;
        std::size_t i = n;  // blocks [i-4, i) while i - 4 >= 1
        bool first = true;
        for (; i >= 5; i -= 4) {
            const std::size_t b = i - 4;
            double q3, q2, q1, q0;
            if (first) {
                q3 = z_[b + 3];
                first = false;
            } else {
                q3 = z_[b + 3] - tri_cp[b + 3] * q_next;
            }
            q2 = z_[b + 2] - tri_cp[b + 2] * q3;
            q1 = z_[b + 1] - tri_cp[b + 1] * q2;
            q0 = z_[b] - tri_cp[b] * q1;
            q_next = q0;
            const __m256d k_v = _mm256_sub_pd(_mm256_set_pd(q3, q2, q1, q0), _mm256_loadu_pd(g_.data() + b));
            const __m256d k_y = _mm256_loadu_pd(state + b);
            _mm256_storeu_pd(dstate + b, k_v);
            _mm256_storeu_pd(dstate + n + b, k_y);
            if (next) {
                const __m256d vs = next_stage_avx2(*next, b);
                _mm256_storeu_pd(state + b, vs);
                _mm256_storeu_pd(state + n + b, next_stage_avx2(*next, n + b));
                if (poles)
                    any = _mm256_or_pd(any, instantaneous_poles_avx2(b, vs, p_.knee_1.data(), p_.kappa.data(),
                                                                     p_.hyp_a.data(), p_.hyp_b.data(),
                                                                     p_.sin_theta.data(), p_.cos_theta.data(),
                                                                     p_.start_pole.data(), p_.passive_pole.data(),
                                                                     pole_.data(), pole_new_.data()));
            }
        }
        // the remaining nodes (i-1 .. 1) and node 0, one at a time in the same order
        for (std::size_t k = i; k-- > 1;) {
            q_next = first ? z_[k] : z_[k] - tri_cp[k] * q_next;
            first = false;
            dstate[k] = q_next - g_[k];
            dstate[n + k] = state[k];
        }
        const double q_0 = z_[0] - tri_cp[0] * q_next;
        dstate[0] = p_.k0 * q_0 + p_.kg0 * (g_[0] + pf);
        dstate[n] = state[0];
        q0_ = q_0;
        if (!next) return;
        for (std::size_t k = 0; k < i; ++k) {
            next_stage(*next, state, k, k + 1);
            next_stage(*next, state, n + k, n + k + 1);
        }
        if (!poles) return;
        instantaneous_poles(i, state, p_.knee_1.data(), p_.kappa.data(), p_.hyp_a.data(), p_.hyp_b.data(),
                            p_.sin_theta.data(), p_.cos_theta.data(), p_.start_pole.data(), p_.passive_pole.data(),
                            pole_.data(), pole_new_.data(), change_.data());
        bool update = !_mm256_testz_pd(any, any);
        for (std::size_t k = 1; k < i; ++k) update |= !(change_[k] <= kPoleTolerance);
        pending_update_ = update;
        poles_ready_ = true;
    }
#endif

    // Pole-dependent terms of nodes [i0, i1) from pole_ (zweig_parameters, exp, read pointers).
    void set_node_poles(std::size_t i0, std::size_t i1) {
        zweig_parameters(i1 - i0, pole_.data() + i0, p_.omega.data() + i0, p_.dt, om_d_.data() + i0,
                         rho_.data() + i0, exp_arg_.data() + i0, frac0_.data() + i0, d_int_real_.data() + i0);
        finish_node_poles(i0, i1);
    }

    void finish_node_poles(std::size_t i0, std::size_t i1) {
        for (std::size_t i = i0; i < i1; ++i) {
            rho_[i] = rho_[i] * std::exp(exp_arg_[i]);
            d_int_[i] = static_cast<std::int64_t>(d_int_real_[i]);
            if (d_int_[i] < 1 || d_int_[i] + 2 > p_.ring_length[i])
                throw std::runtime_error("TL delay outside the ring buffer; check fs and the poles");
            pointer_of(i);
        }
    }

    void pointer_of(std::size_t i) {
        const std::int64_t nb = p_.ring_length[i];
        std::int64_t k1 = write_[i] + nb - d_int_[i];  // in (0, 2 nb)
        if (k1 >= nb) k1 -= nb;
        const std::int64_t k0 = k1 == 0 ? nb - 1 : k1 - 1;  // first of the four entries
        read_start_[i] = ring_start_[i] + k0;
        frac_[i] = frac0_[i];
    }

    void set_poles() { set_node_poles(0, n_); }

    // Read positions for the current write pointer (spec §4.6), no integer division.
    void update_pointers() {
        for (std::size_t i = 0; i < n_; ++i) pointer_of(i);
    }

    const Parameters& p_;
    const double* s_;
    std::size_t n_t_, n_;
    // The nodes' rings of past displacements, one after the other. Stored in float32: the
    // interpolation rounds every entry to float32 before use (spec 4.6), so storing the rounded
    // value gives the same numbers in half the memory.
    RingStorage buffer_;
    std::vector<std::int64_t> ring_start_, write_, read_start_;
    std::vector<double> pole_, pole_new_, change_, om_d_, om2_, rho_, frac_, frac0_, exp_arg_, d_int_real_, g_, z_;
    std::vector<std::int64_t> d_int_;
    std::size_t j_ = 0;
    double t_j_ = 0.0;
    double q0_ = 0.0;
    std::int64_t n_pole_updates_ = 0;
    bool simd_ = false;
    bool exp4_ = false;           // exp4() reproduces std::exp here (checked once per process)
    bool poles_ready_ = false;    // pole_new_ and pending_update_ hold the next evaluation's poles
    bool pending_update_ = false;
};

double seq_sum_sq_ratio(const double* a, const double* sk, std::size_t n) {
    double s = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
        const double r = a[i] / sk[i];
        s += r * r;
    }
    return s;
}

// DOPRI5 over one sample interval (spec §4.10); advances x and y, returns the step to carry.
struct Dopri5 {
    explicit Dopri5(std::size_t n)
        : n(n), k1(n), k2(n), k3(n), k4(n), k5(n), k6(n), k7(n), ys(n), sk(n), er(n), ra(n), rb(n) {}
    std::size_t n;
    std::vector<double> k1, k2, k3, k4, k5, k6, k7, ys, sk, er, ra, rb;
    std::int64_t n_rhs = 0;

    double hinit(TransmissionLine& tl, double x, const double* y, double h_max) {
        for (std::size_t i = 0; i < n; ++i) sk[i] = kAtol + kRtol * std::fabs(y[i]);
        // the ratios first (vectorisable), then both sums in one loop: two independent
        // sequential chains that overlap (each summed in index order, as the specification)
        for (std::size_t i = 0; i < n; ++i) {
            ra[i] = k1[i] / sk[i];
            rb[i] = y[i] / sk[i];
        }
        double dnf = 0.0, dny = 0.0;
        for (std::size_t i = 0; i < n; ++i) {
            dnf += ra[i] * ra[i];
            dny += rb[i] * rb[i];
        }
        double h = (dnf <= 1e-10 || dny <= 1e-10) ? 1e-6 : std::sqrt(dny / dnf) * 0.01;
        h = std::min(h, h_max);
        for (std::size_t i = 0; i < n; ++i) ys[i] = y[i] + h * k1[i];
        tl.rhs(x + h, ys.data(), k2.data());
        ++n_rhs;
        for (std::size_t i = 0; i < n; ++i) er[i] = k2[i] - k1[i];
        const double der2 = std::sqrt(seq_sum_sq_ratio(er.data(), sk.data(), n)) / h;
        const double der12 = std::max(std::fabs(der2), std::sqrt(dnf));
        const double h1 = der12 <= 1e-15 ? std::max(1e-6, std::fabs(h) * 1e-3) : std::pow(0.01 / der12, 1.0 / 5);
        return std::min(std::min(100 * std::fabs(h), h1), h_max);
    }

    double interval(TransmissionLine& tl, double& x, double x_end, std::vector<double>& y, double h,
                    bool legacy) {
        tl.rhs(x, y.data(), k1.data());
        ++n_rhs;
        const double h_max = x_end - x;
        if (!legacy || h == 0.0) h = hinit(tl, x, y.data(), h_max);
        double facold = 1e-4;
        bool reject = false, last = false;
        for (int step = 0; step < 500; ++step) {
            if (x + 1.01 * h - x_end > 0) {
                h = x_end - x;
                last = true;
            }
            const double* yp = y.data();
            const double ha21 = h * A21;
            for (std::size_t i = 0; i < n; ++i) ys[i] = yp[i] + ha21 * k1[i];
            // each evaluation also forms the next stage's state in ys (NextStage)
            const NextStage s3{yp, {k1.data(), k2.data()}, {A31, A32}, 2, h};
            tl.rhs(x + C2 * h, ys.data(), k2.data(), &s3);
            const NextStage s4{yp, {k1.data(), k2.data(), k3.data()}, {A41, A42, A43}, 3, h};
            tl.rhs(x + C3 * h, ys.data(), k3.data(), &s4);
            const NextStage s5{yp, {k1.data(), k2.data(), k3.data(), k4.data()}, {A51, A52, A53, A54}, 4, h};
            tl.rhs(x + C4 * h, ys.data(), k4.data(), &s5);
            const NextStage s6{yp, {k1.data(), k2.data(), k3.data(), k4.data(), k5.data()}, {A61, A62, A63, A64, A65}, 5, h};
            tl.rhs(x + C5 * h, ys.data(), k5.data(), &s6);
            const double xph = x + h;
            // ys then holds the new state
            const NextStage s7{yp, {k1.data(), k3.data(), k4.data(), k5.data(), k6.data()}, {A71, A73, A74, A75, A76}, 5, h};
            tl.rhs(xph, ys.data(), k6.data(), &s7);
            tl.rhs(xph, ys.data(), k7.data());
            n_rhs += 6;
            for (std::size_t i = 0; i < n; ++i) {  // vectorisable
                const double ei =
                    (E1 * k1[i] + E3 * k3[i] + E4 * k4[i] + E5 * k5[i] + E6 * k6[i] + E7 * k7[i]) * h;
                const double ski = kAtol + kRtol * std::max(std::fabs(yp[i]), std::fabs(ys[i]));
                ra[i] = ei / ski;
            }
            double err = 0.0;
            for (std::size_t i = 0; i < n; ++i) err += ra[i] * ra[i];  // sequential, in index order
            err = std::sqrt(err / static_cast<double>(n));
            const double fac11 = std::pow(err, 0.17);
            double fac = fac11 / std::pow(facold, 0.04);
            fac = std::max(0.1, std::min(5.0, fac / 0.9));
            double h_new = h / fac;
            if (err <= 1.0) {
                facold = std::max(err, 1e-4);
                y.swap(ys);
                k1.swap(k7);
                x = xph;
                if (last) return h_new;
                if (std::fabs(h_new) > h_max) h_new = h_max;
                if (reject) h_new = std::min(std::fabs(h_new), std::fabs(h));
                reject = false;
            } else {
                h_new = h / std::min(5.0, fac11 / 0.9);
                reject = true;
                last = false;
            }
            h = h_new;
        }
        throw std::runtime_error("DOPRI5 needed more than 500 steps in one sample interval");
    }
};

py::tuple solve(Array stimulus, const py::dict& params, py::array_t<std::int64_t> store_nodes, bool legacy,
                py::object progress, bool simd, bool store_y) {
    if (stimulus.ndim() != 1) throw std::invalid_argument("_tl.solve: stimulus must be 1-D");
    const std::size_t n_t = static_cast<std::size_t>(stimulus.shape(0));
    Parameters p;
    p.n = 1001;
    auto arr = [&](const char* name) { return to_vector(params[name].cast<Array>(), p.n, name); };
    p.dt = params["dt"].cast<double>();
    p.p0x = params["p0x"].cast<double>();
    p.d_m = params["d_m"].cast<double>();
    p.k0 = params["k0"].cast<double>();
    p.kg0 = params["kg0"].cast<double>();
    p.tri_b0 = params["tri_b0"].cast<double>();
    p.n_buffer = params["n_buffer"].cast<std::int64_t>();
    p.nonlinear = params["nonlinear"].cast<bool>();
    p.omega = arr("omega");
    p.zasq = arr("zasq");
    p.tri_a = arr("tri_a");
    p.tri_cp = arr("tri_cp");
    p.tri_m = arr("tri_m");
    p.start_pole = arr("start_pole");
    p.knee_1 = arr("knee_1");
    p.kappa = arr("kappa");
    p.hyp_a = arr("hyp_a");
    p.hyp_b = arr("hyp_b");
    p.cos_theta = arr("cos_theta");
    p.sin_theta = arr("sin_theta");
    p.passive_pole = arr("passive_pole");
    p.initial_pole = arr("initial_pole");
    {
        auto rl = params["ring_length"].cast<py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>>();
        if (rl.ndim() != 1 || static_cast<std::size_t>(rl.shape(0)) != p.n)
            throw std::invalid_argument("_tl.solve: 'ring_length' must have 1001 values");
        p.ring_length.assign(rl.data(), rl.data() + p.n);
        for (auto l : p.ring_length)
            if (l < 4) throw std::invalid_argument("_tl.solve: ring lengths must be at least 4");
    }

    auto nodes = store_nodes.unchecked<1>();
    const std::size_t n_store = static_cast<std::size_t>(nodes.shape(0));
    std::vector<std::int64_t> node_list(n_store);
    for (std::size_t c = 0; c < n_store; ++c) {
        node_list[c] = nodes(c);
        if (node_list[c] < 0 || node_list[c] >= static_cast<std::int64_t>(p.n))
            throw std::invalid_argument("_tl.solve: store node out of range");
    }
    Array v_out({n_t, n_store});
    Array y_out(store_y ? std::vector<py::ssize_t>{static_cast<py::ssize_t>(n_t), static_cast<py::ssize_t>(n_store)}
                        : std::vector<py::ssize_t>{0, static_cast<py::ssize_t>(n_store)});
    Array q0_out(static_cast<py::ssize_t>(n_t));
    double* vo = v_out.mutable_data();
    double* yo = store_y ? y_out.mutable_data() : nullptr;
    double* qo = q0_out.mutable_data();
    // the last two samples are never integrated (as in the original): zero; the rest is written once
    const std::size_t n_done = n_t >= 2 ? n_t - 2 : 0;
    std::fill(vo + n_done * n_store, vo + n_t * n_store, 0.0);
    if (store_y) std::fill(yo + n_done * n_store, yo + n_t * n_store, 0.0);
    std::fill(qo + n_done, qo + n_t, 0.0);
    std::int64_t n_rhs = 0, n_updates = 0;
    const double* s = stimulus.data();
    {
        py::gil_scoped_release release;
        TransmissionLine tl(p, s, n_t, simd);
        Dopri5 integrator(2 * p.n);
        std::vector<double> state(2 * p.n, 0.0);
        double t = 0.0, h = 0.0;
        const bool report = !progress.is_none();
        for (std::size_t j = 0; j + 2 < n_t; ++j) {
            if (report && j > 0 && j % 5000 == 0) {
                py::gil_scoped_acquire acquire;
                progress(j);
                if (PyErr_CheckSignals() != 0) throw py::error_already_set();  // Ctrl-C
            }
            h = integrator.interval(tl, t, t + p.dt, state, h, legacy);
            tl.end_of_sample(t, state.data());
            for (std::size_t c = 0; c < n_store; ++c) vo[j * n_store + c] = state[node_list[c]];
            if (store_y)
                for (std::size_t c = 0; c < n_store; ++c) yo[j * n_store + c] = state[p.n + node_list[c]];
            qo[j] = tl.q0();
        }
        n_rhs = integrator.n_rhs;
        n_updates = tl.n_pole_updates();
    }
    if (!store_y) return py::make_tuple(v_out, py::none(), q0_out, n_rhs, n_updates);
    return py::make_tuple(v_out, y_out, q0_out, n_rhs, n_updates);
}

}  // namespace

void bind_tl(py::module_& m) {
    m.def("solve", &solve, py::arg("stimulus"), py::arg("params"), py::arg("store_nodes"), py::arg("legacy"),
          py::arg("progress") = py::none(), py::arg("simd") = true, py::arg("store_y") = true,
          "Run the TL cochlea over a middle-ear-filtered stimulus (T,) and return "
          "(v (T, n_store) m/s, y (T, n_store) m, q0 (T,) raw emission, number of RHS evaluations, "
          "number of pole updates). progress(j) is called every 5000 samples if given; simd=False "
          "runs the portable loops instead of the AVX2 ones (the same numbers); "
          "store_y=False returns None for y.");
}
