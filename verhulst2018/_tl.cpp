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
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#if defined(_MSC_VER)
#define __restrict __restrict
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
                              const double* __restrict buffer, const double* __restrict om_d,
                              const double* __restrict om2, const double* __restrict rho,
                              const double* __restrict zasq, double* __restrict g, double* __restrict r) {
    for (std::size_t i = n0; i < n; ++i) {
        const double e = frac[i] + phi;
        // past the next buffer column: read one column later (branch-free; e - 0.0 == e)
        const std::int64_t late = e >= 1 ? 1 : 0;
        const std::int64_t k = read_start[i] + late;
        const double nu_d = e - static_cast<double>(late);
        const float y0 = static_cast<float>(buffer[k]), y1 = static_cast<float>(buffer[k + 1]);
        const float y2 = static_cast<float>(buffer[k + 2]), y3 = static_cast<float>(buffer[k + 3]);
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
#define HAVE_AVX2_PATH 1
#include <immintrin.h>
// The same arithmetic as delayed_force_scalar, four nodes at a time. Every operation is an
// IEEE-754 operation of the same precision in the same order (conversions round to nearest,
// no fused multiply-add), so the results are bit-identical to the scalar loop.
__attribute__((target("avx2"))) void delayed_force_avx2(std::size_t n, double phi, const double* __restrict v,
                                                       const double* __restrict y, double* __restrict frac,
                                                       const std::int64_t* __restrict read_start,
                                                       const double* __restrict buffer,
                                                       const double* __restrict om_d, const double* __restrict om2,
                                                       const double* __restrict rho, const double* __restrict zasq,
                                                       double* __restrict g, double* __restrict r) {
    const __m256d vphi = _mm256_set1_pd(phi), one = _mm256_set1_pd(1.0);
    const __m256i one_i = _mm256_set1_epi64x(1);
    std::size_t i = 1;
    for (; i + 4 <= n; i += 4) {
        const __m256d e = _mm256_add_pd(_mm256_loadu_pd(frac + i), vphi);
        const __m256d late = _mm256_cmp_pd(e, one, _CMP_GE_OQ);
        const __m256d nu_d = _mm256_sub_pd(e, _mm256_and_pd(late, one));
        alignas(32) std::int64_t k[4];
        _mm256_store_si256(reinterpret_cast<__m256i*>(k),
                           _mm256_add_epi64(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(read_start + i)),
                                            _mm256_and_si256(_mm256_castpd_si256(late), one_i)));
        // the four ring entries of each node, then transposed to y0..y3 across nodes
        const __m256d a = _mm256_loadu_pd(buffer + k[0]), b = _mm256_loadu_pd(buffer + k[1]);
        const __m256d c = _mm256_loadu_pd(buffer + k[2]), d = _mm256_loadu_pd(buffer + k[3]);
        const __m256d ab_lo = _mm256_unpacklo_pd(a, b), ab_hi = _mm256_unpackhi_pd(a, b);
        const __m256d cd_lo = _mm256_unpacklo_pd(c, d), cd_hi = _mm256_unpackhi_pd(c, d);
        const __m128 y0 = _mm256_cvtpd_ps(_mm256_permute2f128_pd(ab_lo, cd_lo, 0x20));
        const __m128 y1 = _mm256_cvtpd_ps(_mm256_permute2f128_pd(ab_hi, cd_hi, 0x20));
        const __m128 y2 = _mm256_cvtpd_ps(_mm256_permute2f128_pd(ab_lo, cd_lo, 0x31));
        const __m128 y3 = _mm256_cvtpd_ps(_mm256_permute2f128_pd(ab_hi, cd_hi, 0x31));
        const __m128 nu = _mm256_cvtpd_ps(nu_d);
        const __m128 a0 = _mm_add_ps(_mm_sub_ps(y1, y0), _mm_sub_ps(y3, y2));
        const __m128 y01 = _mm_sub_ps(y0, y1), y20 = _mm_sub_ps(y2, y0), nu2 = _mm_mul_ps(nu, nu);
        const __m256d nud = _mm256_cvtps_pd(nu);
        const __m256d t1 = _mm256_add_pd(_mm256_mul_pd(_mm256_cvtps_pd(a0), _mm256_sub_pd(nud, one)),
                                         _mm256_cvtps_pd(y01));
        const __m256d t2 = _mm256_add_pd(_mm256_cvtps_pd(y1), _mm256_mul_pd(_mm256_cvtps_pd(y20), nud));
        const __m256d yd = _mm256_add_pd(_mm256_mul_pd(t1, _mm256_cvtps_pd(nu2)), t2);
        _mm256_storeu_pd(frac + i, _mm256_sub_pd(e, vphi));
        const __m256d inner = _mm256_add_pd(_mm256_loadu_pd(y + i), _mm256_mul_pd(_mm256_loadu_pd(rho + i), yd));
        const __m256d gi = _mm256_add_pd(_mm256_mul_pd(_mm256_loadu_pd(om_d + i), _mm256_loadu_pd(v + i)),
                                         _mm256_mul_pd(_mm256_loadu_pd(om2 + i), inner));
        _mm256_storeu_pd(g + i, gi);
        _mm256_storeu_pd(r + i, _mm256_mul_pd(_mm256_loadu_pd(zasq + i), gi));
    }
    delayed_force_scalar(i, n, phi, v, y, frac, read_start, buffer, om_d, om2, rho, zasq, g, r);
}
#endif

// Delayed displacement and right-hand side for nodes 1..n-1 (see delayed_force_scalar).
void delayed_force(std::size_t n, double phi, const double* v, const double* y, double* frac,
                   const std::int64_t* read_start, const double* buffer, const double* om_d, const double* om2,
                   const double* rho, const double* zasq, double* g, double* r) {
#ifdef HAVE_AVX2_PATH
    static const bool avx2 = __builtin_cpu_supports("avx2");
    if (avx2) return delayed_force_avx2(n, phi, v, y, frac, read_start, buffer, om_d, om2, rho, zasq, g, r);
#endif
    delayed_force_scalar(1, n, phi, v, y, frac, read_start, buffer, om_d, om2, rho, zasq, g, r);
}

class TransmissionLine {
   public:
    TransmissionLine(const Parameters& p, const double* stimulus, std::size_t n_samples)
        : p_(p), s_(stimulus), n_t_(n_samples), n_(p.n) {
        // One ring per node, each as long as that node's longest possible delay needs
        // (spec §4.6 uses one length for all nodes; a node reads only its own history, so
        // shorter rings give the same numbers in a twelfth of the memory).
        ring_start_.resize(n_ + 1, 0);
        for (std::size_t i = 0; i < n_; ++i) ring_start_[i + 1] = ring_start_[i] + p.ring_length[i] + kMirror;
        buffer_.assign(static_cast<std::size_t>(ring_start_[n_]), 0.0);
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
    void rhs(double t, const double* state, double* dstate) {
        const std::size_t n = n_;
        const double* v = state;
        const double* y = state + n;
        const double phi = (t - t_j_) / p_.dt;
        const double a = j_ > 0 ? s_[j_ - 1] : 0.0;
        const double b = s_[j_], c = s_[j_ + 1], d = s_[j_ + 2];
        const double force =
            b + phi * ((c - b) - kStimulusCubic * (1 - phi) *
                                     (((d - a) - 3 * (c - b)) * phi + ((d + 2 * a) - 3 * b)));
        if (p_.nonlinear) {
            instantaneous_poles(n, v, p_.knee_1.data(), p_.kappa.data(), p_.hyp_a.data(), p_.hyp_b.data(),
                                p_.sin_theta.data(), p_.cos_theta.data(), p_.start_pole.data(),
                                p_.passive_pole.data(), pole_.data(), pole_new_.data(), change_.data());
            const double* ch = change_.data();
            bool update = false;
            for (std::size_t i = 1; i < n; ++i) update |= !(ch[i] <= kPoleTolerance);  // NaN counts
            if (update) {
                ++n_pole_updates_;
                pole_.swap(pole_new_);
                set_poles();
            }
        }
        const double pf = p_.p0x * force;
        // node 0 (stapes): g_0 = d_m V_0; its delayed displacement is never used
        g_[0] = p_.d_m * v[0];
        z_[0] = g_[0] + pf;  // right-hand side r_0
        delayed_force(n, phi, v, y, frac_.data(), read_start_.data(), buffer_.data(), om_d_.data(), om2_.data(),
                      rho_.data(), p_.zasq.data(), g_.data(), z_.data());
        // Thomas algorithm (spec §4.4): forward sweep in place over r (held in z_), then backward
        const double* tri_a = p_.tri_a.data();
        const double* tri_m = p_.tri_m.data();
        const double* tri_cp = p_.tri_cp.data();
        double z_prev = z_[0] / p_.tri_b0;
        z_[0] = z_prev;
        for (std::size_t i = 1; i < n; ++i) {
            z_prev = (z_[i] - tri_a[i] * z_prev) * tri_m[i];
            z_[i] = z_prev;
        }
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
    }

    void end_of_sample(double t_next, const double* state) {
        t_j_ = t_next;
        for (std::size_t i = 0; i < n_; ++i) {
            const std::int64_t w = write_[i] + 1 == p_.ring_length[i] ? 0 : write_[i] + 1;
            write_[i] = w;
            double* ring = buffer_.data() + ring_start_[i];
            ring[w] = state[n_ + i];
            if (w < kMirror) ring[p_.ring_length[i] + w] = state[n_ + i];  // mirror of the start
        }
        update_pointers();
        ++j_;
    }

    double q0() const { return q0_; }
    std::int64_t n_pole_updates() const { return n_pole_updates_; }

   private:
    void set_poles() {
        zweig_parameters(n_, pole_.data(), p_.omega.data(), p_.dt, om_d_.data(), rho_.data(), exp_arg_.data(),
                         frac0_.data(), d_int_real_.data());
        for (std::size_t i = 0; i < n_; ++i) {
            rho_[i] = rho_[i] * std::exp(exp_arg_[i]);  // the only scalar call per node
            d_int_[i] = static_cast<std::int64_t>(d_int_real_[i]);
            if (d_int_[i] < 1 || d_int_[i] + 2 > p_.ring_length[i])
                throw std::runtime_error("TL delay outside the ring buffer; check fs and the poles");
        }
        update_pointers();
    }

    // Read positions for the current write pointer (spec §4.6), no integer division.
    void update_pointers() {
        for (std::size_t i = 0; i < n_; ++i) {
            const std::int64_t nb = p_.ring_length[i];
            std::int64_t k1 = write_[i] + nb - d_int_[i];  // in (0, 2 nb)
            if (k1 >= nb) k1 -= nb;
            const std::int64_t k0 = k1 == 0 ? nb - 1 : k1 - 1;  // first of the four entries
            read_start_[i] = ring_start_[i] + k0;
            frac_[i] = frac0_[i];
        }
    }

    const Parameters& p_;
    const double* s_;
    std::size_t n_t_, n_;
    std::vector<double> buffer_;  // the nodes' rings, one after the other
    std::vector<std::int64_t> ring_start_, write_, read_start_;
    std::vector<double> pole_, pole_new_, change_, om_d_, om2_, rho_, frac_, frac0_, exp_arg_, d_int_real_, g_, z_;
    std::vector<std::int64_t> d_int_;
    std::size_t j_ = 0;
    double t_j_ = 0.0;
    double q0_ = 0.0;
    std::int64_t n_pole_updates_ = 0;
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
    explicit Dopri5(std::size_t n) : n(n), k1(n), k2(n), k3(n), k4(n), k5(n), k6(n), k7(n), ys(n), sk(n), er(n) {}
    std::size_t n;
    std::vector<double> k1, k2, k3, k4, k5, k6, k7, ys, sk, er;
    std::int64_t n_rhs = 0;

    double hinit(TransmissionLine& tl, double x, const double* y, double h_max) {
        for (std::size_t i = 0; i < n; ++i) sk[i] = kAtol + kRtol * std::fabs(y[i]);
        const double dnf = seq_sum_sq_ratio(k1.data(), sk.data(), n);
        const double dny = seq_sum_sq_ratio(y, sk.data(), n);
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
            tl.rhs(x + C2 * h, ys.data(), k2.data());
            for (std::size_t i = 0; i < n; ++i) ys[i] = yp[i] + h * (A31 * k1[i] + A32 * k2[i]);
            tl.rhs(x + C3 * h, ys.data(), k3.data());
            for (std::size_t i = 0; i < n; ++i) ys[i] = yp[i] + h * (A41 * k1[i] + A42 * k2[i] + A43 * k3[i]);
            tl.rhs(x + C4 * h, ys.data(), k4.data());
            for (std::size_t i = 0; i < n; ++i)
                ys[i] = yp[i] + h * (A51 * k1[i] + A52 * k2[i] + A53 * k3[i] + A54 * k4[i]);
            tl.rhs(x + C5 * h, ys.data(), k5.data());
            const double xph = x + h;
            for (std::size_t i = 0; i < n; ++i)
                ys[i] = yp[i] + h * (A61 * k1[i] + A62 * k2[i] + A63 * k3[i] + A64 * k4[i] + A65 * k5[i]);
            tl.rhs(xph, ys.data(), k6.data());
            // ys now holds the new state
            for (std::size_t i = 0; i < n; ++i)
                ys[i] = yp[i] + h * (A71 * k1[i] + A73 * k3[i] + A74 * k4[i] + A75 * k5[i] + A76 * k6[i]);
            tl.rhs(xph, ys.data(), k7.data());
            n_rhs += 6;
            double err = 0.0;
            for (std::size_t i = 0; i < n; ++i) {
                const double ei =
                    (E1 * k1[i] + E3 * k3[i] + E4 * k4[i] + E5 * k5[i] + E6 * k6[i] + E7 * k7[i]) * h;
                const double ski = kAtol + kRtol * std::max(std::fabs(yp[i]), std::fabs(ys[i]));
                const double r = ei / ski;
                err += r * r;
            }
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
                py::object progress) {
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
    Array y_out({n_t, n_store});
    Array q0_out(static_cast<py::ssize_t>(n_t));
    double* vo = v_out.mutable_data();
    double* yo = y_out.mutable_data();
    double* qo = q0_out.mutable_data();
    std::fill(vo, vo + n_t * n_store, 0.0);
    std::fill(yo, yo + n_t * n_store, 0.0);
    std::fill(qo, qo + n_t, 0.0);
    std::int64_t n_rhs = 0, n_updates = 0;
    const double* s = stimulus.data();
    {
        py::gil_scoped_release release;
        TransmissionLine tl(p, s, n_t);
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
            for (std::size_t c = 0; c < n_store; ++c) {
                vo[j * n_store + c] = state[node_list[c]];
                yo[j * n_store + c] = state[p.n + node_list[c]];
            }
            qo[j] = tl.q0();
        }
        n_rhs = integrator.n_rhs;
        n_updates = tl.n_pole_updates();
    }
    return py::make_tuple(v_out, y_out, q0_out, n_rhs, n_updates);
}

}  // namespace

void bind_tl(py::module_& m) {
    m.def("solve", &solve, py::arg("stimulus"), py::arg("params"), py::arg("store_nodes"), py::arg("legacy"),
          py::arg("progress") = py::none(),
          "Run the TL cochlea over a middle-ear-filtered stimulus (T,) and return "
          "(v (T, n_store) m/s, y (T, n_store) m, q0 (T,) raw emission, number of RHS evaluations, "
          "number of pole updates). progress(j) is called every 5000 samples if given.");
}
