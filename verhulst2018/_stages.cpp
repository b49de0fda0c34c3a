// Compiled time loops of the IHC receptor potential (spec §5) and the ANF synapse (spec §7).
//
// Both stages are sequential in time and independent across channels. ihc_run evaluates the
// MET nonlinearity inside the loop (four channels at a time with AVX2 where available);
// anf_loop takes its Ca drive from NumPy. The order of operations follows ihc.py and anf.py,
// the NumPy specifications the tests compare against, and exp4() (see _exp.h) is used only
// where it gives std::exp's bits, so both engines agree bit for bit.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include "_exp.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <vector>

namespace py = pybind11;

namespace {

using Array = py::array_t<double, py::array::c_style | py::array::forcecast>;

using State = py::array_t<double, py::array::c_style>;  // updated in place, no conversion

double* state(State& a, std::size_t n, const char* name) {
    if (a.ndim() != 1 || static_cast<std::size_t>(a.shape(0)) != n)
        throw std::invalid_argument(std::string("state array '") + name + "' must be float64 of length " +
                                    std::to_string(n));
    return a.mutable_data();
}

struct IhcConstants {
    double gain, x0, s0, s1, a_met, b_met, a_f, a_s, b_f, b_s, g_met, ep, g_k, v_k, s_k, e_kf, e_ks, c_m, dt;
};

// One time step of channels [i0, i1): MET open probability of the cilia displacement
// u = gain * v_bm (double Boltzmann), then the membrane update (spec 5), as in ihc.py.
inline void ihc_step_scalar(const IhcConstants& k, std::size_t i0, std::size_t i1, const double* vbm, double* v,
                            double* m_met, double* m_f, double* m_s, double* out) {
    for (std::size_t i = i0; i < i1; ++i) {
        const double d = k.x0 - vbm[i] * k.gain;
        const double m_inf = 1.0 / (1.0 + std::exp(d / k.s0) * (1.0 + std::exp(d / k.s1)));
        const double mm = m_met[i] * k.a_met + m_inf * k.b_met;
        m_met[i] = mm;
        const double vi = v[i];
        const double mk = 1.0 / (1.0 + std::exp((-(vi - k.v_k)) / k.s_k));
        const double mf = mk * k.b_f + m_f[i] * k.a_f;
        const double ms = mk * k.b_s + m_s[i] * k.a_s;
        m_f[i] = mf;
        m_s[i] = ms;
        double total = (mm * k.g_met) * (vi - k.ep);
        total = total + (mf * k.g_k) * (vi - k.e_kf);
        total = total + (ms * k.g_k) * (vi - k.e_ks);
        const double vn = vi + ((-total) / k.c_m) * k.dt;
        v[i] = vn;
        out[i] = vn;
    }
}

#ifdef HAVE_EXP4
// ihc_step_scalar for four channels per iteration: the same IEEE operations in the same order.
__attribute__((target("avx2,fma"))) void ihc_step_avx2(const IhcConstants& k, std::size_t n_c, const double* vbm,
                                                     double* v, double* m_met, double* m_f, double* m_s,
                                                     double* out) {
    const __m256d one = _mm256_set1_pd(1.0), sign = _mm256_set1_pd(-0.0);
    const __m256d gain = _mm256_set1_pd(k.gain), x0 = _mm256_set1_pd(k.x0), s0 = _mm256_set1_pd(k.s0),
                  s1 = _mm256_set1_pd(k.s1), a_met = _mm256_set1_pd(k.a_met), b_met = _mm256_set1_pd(k.b_met),
                  a_f = _mm256_set1_pd(k.a_f), a_s = _mm256_set1_pd(k.a_s), b_f = _mm256_set1_pd(k.b_f),
                  b_s = _mm256_set1_pd(k.b_s), g_met = _mm256_set1_pd(k.g_met), ep = _mm256_set1_pd(k.ep),
                  g_k = _mm256_set1_pd(k.g_k), v_k = _mm256_set1_pd(k.v_k), s_k = _mm256_set1_pd(k.s_k),
                  e_kf = _mm256_set1_pd(k.e_kf), e_ks = _mm256_set1_pd(k.e_ks), c_m = _mm256_set1_pd(k.c_m),
                  dt = _mm256_set1_pd(k.dt);
    std::size_t i = 0;
    for (; i + 4 <= n_c; i += 4) {
        const __m256d d = _mm256_sub_pd(x0, _mm256_mul_pd(_mm256_loadu_pd(vbm + i), gain));
        const __m256d e0 = exp4(_mm256_div_pd(d, s0)), e1 = exp4(_mm256_div_pd(d, s1));
        const __m256d m_inf = _mm256_div_pd(one, _mm256_add_pd(one, _mm256_mul_pd(e0, _mm256_add_pd(one, e1))));
        const __m256d mm = _mm256_add_pd(_mm256_mul_pd(_mm256_loadu_pd(m_met + i), a_met), _mm256_mul_pd(m_inf, b_met));
        _mm256_storeu_pd(m_met + i, mm);
        const __m256d vi = _mm256_loadu_pd(v + i);
        const __m256d mk = _mm256_div_pd(
            one, _mm256_add_pd(one, exp4(_mm256_div_pd(_mm256_xor_pd(_mm256_sub_pd(vi, v_k), sign), s_k))));
        const __m256d mf = _mm256_add_pd(_mm256_mul_pd(mk, b_f), _mm256_mul_pd(_mm256_loadu_pd(m_f + i), a_f));
        const __m256d ms = _mm256_add_pd(_mm256_mul_pd(mk, b_s), _mm256_mul_pd(_mm256_loadu_pd(m_s + i), a_s));
        _mm256_storeu_pd(m_f + i, mf);
        _mm256_storeu_pd(m_s + i, ms);
        __m256d total = _mm256_mul_pd(_mm256_mul_pd(mm, g_met), _mm256_sub_pd(vi, ep));
        total = _mm256_add_pd(total, _mm256_mul_pd(_mm256_mul_pd(mf, g_k), _mm256_sub_pd(vi, e_kf)));
        total = _mm256_add_pd(total, _mm256_mul_pd(_mm256_mul_pd(ms, g_k), _mm256_sub_pd(vi, e_ks)));
        const __m256d vn =
            _mm256_add_pd(vi, _mm256_mul_pd(_mm256_div_pd(_mm256_xor_pd(total, sign), c_m), dt));
        _mm256_storeu_pd(v + i, vn);
        _mm256_storeu_pd(out + i, vn);
    }
    ihc_step_scalar(k, i, n_c, vbm, v, m_met, m_f, m_s, out);
}
#endif

// The warm-up of ihc.py: n steps of the membrane with the MET conductance held at its state
// value, on channel 0, then copied to every channel (all channels start alike).
void ihc_warmup(const IhcConstants& k, std::size_t n_c, int n, double* v, double* m_met, double* m_f, double* m_s) {
    double vi = v[0], mf = m_f[0], ms = m_s[0];
    const double mm = m_met[0];
    for (int s = 0; s < n; ++s) {
        const double mk = 1.0 / (1.0 + std::exp((-(vi - k.v_k)) / k.s_k));
        mf = mk * k.b_f + mf * k.a_f;
        ms = mk * k.b_s + ms * k.a_s;
        double total = (mm * k.g_met) * (vi - k.ep);
        total = total + (mf * k.g_k) * (vi - k.e_kf);
        total = total + (ms * k.g_k) * (vi - k.e_ks);
        vi = vi + ((-total) / k.c_m) * k.dt;
    }
    std::fill(v, v + n_c, vi);
    std::fill(m_f, m_f + n_c, mf);
    std::fill(m_s, m_s + n_c, ms);
}

// BM velocity v_bm (T, C) in m/s -> IHC potential (T, C) in V; the state v, m_met, m_f, m_s (C,)
// advances in place, after `warmup` steps at rest (see ihc_warmup). simd=False runs the portable
// loop (the same numbers).
py::array ihc_run(Array v_bm, State v0, State m_met0, State m_f0, State m_s0, const py::dict& c, int warmup,
                  bool simd, py::object out_obj) {
    if (v_bm.ndim() != 2) throw std::invalid_argument("v_bm must be (T, C)");
    const std::size_t n_t = v_bm.shape(0), n_c = v_bm.shape(1);
    double* v = state(v0, n_c, "v");
    double* m_met = state(m_met0, n_c, "m_met");
    double* m_f = state(m_f0, n_c, "m_f");
    double* m_s = state(m_s0, n_c, "m_s");
    IhcConstants k;
    auto get = [&](const char* name) { return c[name].cast<double>(); };
    k.gain = get("gain");
    k.x0 = get("x0");
    k.s0 = get("s0");
    k.s1 = get("s1");
    k.a_met = get("a_met");
    k.b_met = 1.0 - k.a_met;
    k.a_f = get("a_f");
    k.a_s = get("a_s");
    k.b_f = 1.0 - k.a_f;
    k.b_s = 1.0 - k.a_s;
    k.g_met = get("g_met");
    k.ep = get("ep");
    k.g_k = get("g_k");
    k.v_k = get("v_k");
    k.s_k = get("s_k");
    k.e_kf = get("e_kf");
    k.e_ks = get("e_ks");
    k.c_m = get("c_m");
    k.dt = get("dt");
    // out may be v_bm itself (row n is read before it is written)
    State out = out_obj.is_none() ? State({n_t, n_c}) : out_obj.cast<State>();
    if (out.ndim() != 2 || static_cast<std::size_t>(out.shape(0)) != n_t ||
        static_cast<std::size_t>(out.shape(1)) != n_c)
        throw std::invalid_argument("out must be a C-contiguous float64 array of the shape of v_bm");
    const double* vb = v_bm.data();
    double* o = out.mutable_data();
    {
        py::gil_scoped_release release;
        if (warmup > 0 && n_c > 0) ihc_warmup(k, n_c, warmup, v, m_met, m_f, m_s);
        bool vector = false;
#ifdef HAVE_EXP4
        vector = simd && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && exp_matches_libm();
        if (vector)
            for (std::size_t n = 0; n < n_t; ++n) ihc_step_avx2(k, n_c, vb + n * n_c, v, m_met, m_f, m_s, o + n * n_c);
#endif
        (void)simd;
        if (!vector)
            for (std::size_t n = 0; n < n_t; ++n)
                ihc_step_scalar(k, 0, n_c, vb + n * n_c, v, m_met, m_f, m_s, o + n * n_c);
    }
    return out;
}

// Ca-channel drive of the synapse for IHC potentials x (M, C) [V], as ca_drive in anf.py:
// (1 - alpha_Ca) * sqrt(1 / (1 + exp(-(x - V_half) / s_Ca))).
inline double ca_drive_scalar(double x, double v_half, double s_ca, double b_ca) {
    return std::sqrt(1.0 / (1.0 + std::exp((-(x - v_half)) / s_ca))) * b_ca;
}

#ifdef HAVE_EXP4
__attribute__((target("avx2,fma"))) void ca_drive_avx2(std::size_t n, const double* x, double v_half, double s_ca,
                                                     double b_ca, double* out) {
    const __m256d one = _mm256_set1_pd(1.0), sign = _mm256_set1_pd(-0.0), vh = _mm256_set1_pd(v_half),
                  s = _mm256_set1_pd(s_ca), b = _mm256_set1_pd(b_ca);
    std::size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const __m256d arg = _mm256_div_pd(_mm256_xor_pd(_mm256_sub_pd(_mm256_loadu_pd(x + i), vh), sign), s);
        const __m256d act = _mm256_div_pd(one, _mm256_add_pd(one, exp4(arg)));
        _mm256_storeu_pd(out + i, _mm256_mul_pd(_mm256_sqrt_pd(act), b));
    }
    for (; i < n; ++i) out[i] = ca_drive_scalar(x[i], v_half, s_ca, b_ca);
}
#endif

#ifdef HAVE_EXP4
__attribute__((target("avx2,fma"))) void exp_array_avx2(std::size_t n, const double* x, double* out) {
    std::size_t i = 0;
    for (; i + 4 <= n; i += 4) _mm256_storeu_pd(out + i, exp4(_mm256_loadu_pd(x + i)));
    for (; i < n; ++i) out[i] = std::exp(x[i]);
}
#endif

Array ca_drive(Array x, double v_half, double s_ca, double a_ca, bool simd) {
    const std::size_t n = static_cast<std::size_t>(x.size());
    Array out(std::vector<py::ssize_t>(x.shape(), x.shape() + x.ndim()));
    const double* xp = x.data();
    double* o = out.mutable_data();
    const double b_ca = 1.0 - a_ca;
    {
        py::gil_scoped_release release;
        bool vector = false;
#ifdef HAVE_EXP4
        vector = simd && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && exp_matches_libm();
        if (vector) ca_drive_avx2(n, xp, v_half, s_ca, b_ca, o);
#endif
        (void)simd;
        if (!vector)
            for (std::size_t i = 0; i < n; ++i) o[i] = ca_drive_scalar(xp[i], v_half, s_ca, b_ca);
    }
    return out;
}

// k_drive: (M, C) = (1 - alpha_Ca) * sqrt(Ca activation); returns the firing probability per bin.
// The synapse state (q, w, k, rho, avail: (C,); history: (n_ref, C); ptr) lives in `st` and is
// advanced in place, so a long signal can be processed in blocks of time.
Array anf_loop(Array k_drive, const py::dict& c, py::dict st, int n_warmup) {
    if (k_drive.ndim() != 2) throw std::invalid_argument("k_drive must be (M, C)");
    const std::size_t n_m = k_drive.shape(0), n_c = k_drive.shape(1);
    const double m_rrp = c["M"].cast<double>(), l_res = c["L"].cast<double>();
    const double pp = c["pp"].cast<double>(), dt = c["dt"].cast<double>();
    const double rw_factor = c["rw_factor"].cast<double>(), rq_factor = c["rq_factor"].cast<double>();
    const double a_ca = c["alpha_ca"].cast<double>(), a_ref = c["alpha_ref"].cast<double>();
    const std::size_t n_ref = c["n_ref"].cast<std::size_t>();
    if (n_ref < 1) throw std::invalid_argument("n_ref must be at least 1");
    State sq = st["q"].cast<State>(), sw = st["w"].cast<State>(), sk = st["k"].cast<State>();
    State srho = st["rho"].cast<State>(), savail = st["avail"].cast<State>(), shist = st["history"].cast<State>();
    double* q = state(sq, n_c, "q");
    double* w = state(sw, n_c, "w");
    double* k = state(sk, n_c, "k");
    double* rho = state(srho, n_c, "rho");
    double* avail = state(savail, n_c, "avail");
    if (shist.ndim() != 2 || static_cast<std::size_t>(shist.shape(0)) != n_ref ||
        static_cast<std::size_t>(shist.shape(1)) != n_c)
        throw std::invalid_argument("state array 'history' must be (n_ref, C)");
    double* history = shist.mutable_data();
    std::size_t ptr = st["ptr"].cast<std::size_t>();
    std::vector<double> fire(n_c, 0.0);
    Array out({n_m, n_c});
    const double* drive = k_drive.data();
    double* o = out.mutable_data();
    {
        py::gil_scoped_release release;
        const double b_ref = 1.0 - a_ref;
        auto step = [&](bool clamp_low) {
            double* hist = history + ptr * n_c;
            for (std::size_t i = 0; i < n_c; ++i) {
                double e = ((k[i] * k[i]) * pp) * dt;
                double qi = q[i], wi = w[i];
                if (clamp_low) {
                    qi = std::max(qi, 0.0);
                    wi = std::max(wi, 0.0);
                }
                qi = std::min(qi, m_rrp);
                wi = std::min(wi, l_res);
                e = e * qi;
                const double rw = (l_res - wi) * rw_factor;
                const double rq = std::max(wi / l_res - qi / m_rrp, 0.0) * rq_factor;
                q[i] = (qi + rq) - e;
                w[i] = (wi - rq) + rw;
                const double f = (avail[i] - rho[i]) * e;
                const double rec = hist[i];
                rho[i] = rho[i] * a_ref + rec * b_ref;
                avail[i] = (avail[i] - f) + rec;
                hist[i] = f;
                fire[i] = f;
            }
            ptr = ptr + 1 == n_ref ? 0 : ptr + 1;
        };
        for (int s = 0; s < n_warmup; ++s) step(false);
        for (std::size_t m = 0; m < n_m; ++m) {
            const double* dm = drive + m * n_c;
            for (std::size_t i = 0; i < n_c; ++i) k[i] = k[i] * a_ca + dm[i];
            step(true);
            std::copy(fire.begin(), fire.end(), o + m * n_c);
        }
    }
    st["ptr"] = ptr;
    return out;
}

// exp of every element with the vectorised exp4() when it is in use on this machine, else
// std::exp; returns (values, whether exp4 was used). For tests.
py::tuple simd_exp(Array x) {
    const std::size_t n = static_cast<std::size_t>(x.size());
    Array out(std::vector<py::ssize_t>(x.shape(), x.shape() + x.ndim()));
    const double* xp = x.data();
    double* o = out.mutable_data();
    bool vector = false;
#ifdef HAVE_EXP4
    vector = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && exp_matches_libm();
    if (vector) exp_array_avx2(n, xp, o);
#endif
    if (!vector)
        for (std::size_t i = 0; i < n; ++i) o[i] = std::exp(xp[i]);
    return py::make_tuple(out, vector);
}

}  // namespace

void bind_stages(py::module_& m) {
    m.def("ihc_run", &ihc_run, py::arg("v_bm"), py::arg("v"), py::arg("m_met"), py::arg("m_f"), py::arg("m_s"),
          py::arg("constants"), py::arg("warmup") = 0, py::arg("simd") = true, py::arg("out") = py::none(),
          "IHC membrane potential (T, C) in V from BM velocity (T, C) in m/s, MET nonlinearity included, "
          "after `warmup` steps at rest; the state arrays advance in place. simd=False runs the portable "
          "loop (the same numbers); out (T, C) float64, may be v_bm itself.");
    m.def("simd_exp", &simd_exp, py::arg("x"),
          "exp(x) by the vectorised exp of the SIMD loops where it is in use, else std::exp; returns "
          "(values, used_simd). For tests: the values must equal numpy.exp bit for bit.");
    m.def("ca_drive", &ca_drive, py::arg("x"), py::arg("v_half"), py::arg("s_ca"), py::arg("alpha_ca"),
          py::arg("simd") = true,
          "Ca drive (1 - alpha_Ca) sqrt(1 / (1 + exp(-(x - V_half) / s_Ca))) of IHC potentials x [V], same shape.");
    m.def("anf_loop", &anf_loop, py::arg("k_drive"), py::arg("constants"), py::arg("state"), py::arg("n_warmup"),
          "Firing probability per bin (M, C) of the three-store synapse for the Ca drive (M, C).");
}
