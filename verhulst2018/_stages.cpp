// Compiled time loops of the IHC receptor potential (spec §5) and the ANF synapse (spec §7).
//
// Both stages are sequential in time and independent across channels; the memoryless
// input nonlinearities (MET and Ca activation) are evaluated in NumPy beforehand, so these
// loops hold only the state updates. The order of operations follows ihc.py and anf.py,
// the NumPy specifications the tests compare against.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

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

// met_drive: (T, C) = (1 - alpha_MET) * m_MET,inf(u); state v, m_met, m_f, m_s (C,) is advanced in place.
Array ihc_loop(Array met_drive, State v0, State m_met0, State m_f0, State m_s0, const py::dict& c) {
    if (met_drive.ndim() != 2) throw std::invalid_argument("met_drive must be (T, C)");
    const std::size_t n_t = met_drive.shape(0), n_c = met_drive.shape(1);
    double* v = state(v0, n_c, "v");
    double* m_met = state(m_met0, n_c, "m_met");
    double* m_f = state(m_f0, n_c, "m_f");
    double* m_s = state(m_s0, n_c, "m_s");
    const double a_met = c["a_met"].cast<double>(), a_f = c["a_f"].cast<double>(), a_s = c["a_s"].cast<double>();
    const double g_met = c["g_met"].cast<double>(), ep = c["ep"].cast<double>(), g_k = c["g_k"].cast<double>();
    const double v_k = c["v_k"].cast<double>(), s_k = c["s_k"].cast<double>();
    const double e_kf = c["e_kf"].cast<double>(), e_ks = c["e_ks"].cast<double>();
    const double c_m = c["c_m"].cast<double>(), dt = c["dt"].cast<double>();
    Array out({n_t, n_c});
    const double* drive = met_drive.data();
    double* o = out.mutable_data();
    {
        py::gil_scoped_release release;
        const double b_f = 1.0 - a_f, b_s = 1.0 - a_s;
        for (std::size_t n = 0; n < n_t; ++n) {
            const double* dn = drive + n * n_c;
            double* on = o + n * n_c;
            for (std::size_t i = 0; i < n_c; ++i) {
                const double mm = m_met[i] * a_met + dn[i];
                m_met[i] = mm;
                const double vi = v[i];
                const double mk = 1.0 / (1.0 + std::exp((-(vi - v_k)) / s_k));
                const double mf = mk * b_f + m_f[i] * a_f;
                const double ms = mk * b_s + m_s[i] * a_s;
                m_f[i] = mf;
                m_s[i] = ms;
                double total = (mm * g_met) * (vi - ep);
                total = total + (mf * g_k) * (vi - e_kf);
                total = total + (ms * g_k) * (vi - e_ks);
                const double vn = vi + ((-total) / c_m) * dt;
                v[i] = vn;
                on[i] = vn;
            }
        }
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

}  // namespace

void bind_stages(py::module_& m) {
    m.def("ihc_loop", &ihc_loop, py::arg("met_drive"), py::arg("v"), py::arg("m_met"), py::arg("m_f"),
          py::arg("m_s"), py::arg("constants"),
          "IHC membrane potential (T, C) in V from the MET drive (T, C); the state arrays advance in place.");
    m.def("anf_loop", &anf_loop, py::arg("k_drive"), py::arg("constants"), py::arg("state"), py::arg("n_warmup"),
          "Firing probability per bin (M, C) of the three-store synapse for the Ca drive (M, C).");
}
