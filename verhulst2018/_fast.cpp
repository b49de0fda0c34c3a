// The fast engine of the Verhulst et al. (2018) model: TL cochlea, IHC, decimation and ANF synapse
// in one compiled time loop, for one signal or several signals in lockstep. The scheme is
// documented in verhulst2018/fast.py (which also builds the per-slot constants this file reads).
//
// Layout: slot i = row * lanes + block * signals + signal holds node block * rows + row of that
// signal (rows = block length + 1 separator node; with one block, rows = 1001). Per-slot arrays
// hold the state (V, Y, the Runge-Kutta stages, the delays and their five ring entries); the
// node's constants are stored per slot, or once per row for a batch (one block, a multiple of 8
// signals: `shared`). Every loop but the sweeps of the tridiagonal solve runs over all slots; the
// sweeps run over rows with the lanes of a row side by side.
//
// _fast_kernel.h holds the loops; it is compiled three times here (portable, AVX2+FMA, AVX-512)
// and run() picks the best one the CPU has. This file, unlike _tl.cpp, may fuse multiply-adds
// (CMakeLists.txt): the fast engine is not bit-exact by design.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>
#if defined(__linux__)
#include <sys/mman.h>
#endif
#if defined(__x86_64__)
#include <immintrin.h>
#endif
#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#define FAST_HAVE_MXCSR 1
#endif

namespace py = pybind11;

namespace fast_engine {

constexpr double kSheraC = 120.8998691636393;
constexpr double kStimulusCubic = 0.1666667;
constexpr std::int32_t kMirror = 5;             // mirrored entries at the end of each ring
constexpr std::size_t kMaxSignals = 64;
constexpr std::size_t kPrefetchSlots = 64;       // how far ahead (in slots) the ring entries are prefetched
constexpr int kPoleFitTerms = 17;               // coefficients per row of the pole fits (degree <= 16)
constexpr int kFitDegreeA = 6, kFitDegreeInvA = 7, kFitDegreeRho = 12;  // errors 3e-9, 2e-9, 3e-9
constexpr double kPoleFitHigh = 0.32;            // ... on P in [0, 0.32] (poles never exceed 0.31)
constexpr std::size_t kDecimation = 5;
constexpr std::size_t kDecimationHalf = 15;    // 31 taps
constexpr std::size_t kDecimationRows = 8;     // open rows of the decimation (at most 7)
constexpr std::size_t kStartRows = 5;

struct Plan {
    std::size_t signals = 0, blocks = 0, lanes = 0, rows = 0, slots = 0;
    int steps = 2;
    double dt = 0, lead = 0.5, p0x = 0, k0 = 0, kg0 = 0, d_m = 0;
    bool shared = false;  // node constants once per row (one block, a batch of signals)
    std::size_t prefetch = kPrefetchSlots;  // slots ahead at which ring entries are prefetched
    const double *omega, *omega2, *inv_omega_dt, *zasq, *tri_a, *tri_m, *tri_cp, *spike_left, *spike_right;
    const double *sep_a, *sep_c, *red_a, *red_m, *red_cp;
    const double* pole_fit;  // (3, kPoleFitTerms) monomial coefficients in t = 2P/0.32 - 1
    float pole_fit_f[3 * 17];  // the same in float32 (the per-stage poles)
    const float* pole_c[5];  // the pole hyperbola's constants per node (kernel: PoleConstants)
    double passive_pole = 0.31;
    const std::int32_t* ring_length;
    const std::int32_t* ring_start;  // absolute index of each slot's ring in the float32 buffer
};

struct Ihc {
    double gain, x0, inv_s0, a_met, b_met, v_k, inv_s_k, a_f, b_f, a_s, b_s, g_met, ep, g_k, e_kf, e_ks, dt_over_cm;
};

struct Anf {
    double v_half, inv_s, a_ca, b_ca, m_rrp, l_res, inv_m, inv_l, pp_dt, rw_factor, rq_factor, a_ref, b_ref, fs_an;
    std::size_t n_ref;
};

struct AnfState {
    double *q, *w, *k, *rho, *avail, *history;
    std::size_t ptr = 0;
};

struct Outputs {
    std::size_t n_channels = 0, n_decimated = 0;
    const std::size_t* slot = nullptr;  // (signals, channels) slot of each stored channel
    std::vector<double*> v, y, ihc;
    std::vector<double*> anf[3];
    bool need_ihc = false, need_anf = false, anf_wanted[3] = {false, false, false};
};

struct State {
    // TL
    double *frac, *v, *y, *k[6], *g, *z, *q, *vlead, *vs_row0;
    float *ydel[5], *win[5];
    std::int32_t *dint, *rb, *write, *fetch;
    std::uint8_t* reload;
    double *lane_tmp, *lane_left, *lane_right, *sep;
    float* ring;
    const double* stimulus;
    std::size_t stimulus_stride = 0, n_samples = 0, j = 0;
    std::vector<double*> emission;
    // stages
    Outputs out;
    double *vbm, *vihc, *ihc_v, *ihc_m_met, *ihc_m_f, *ihc_m_s;
    Ihc ihc;
    Anf anf[3];
    AnfState anf_state[3];
    double *anf_row, *dec_acc, *dec_first;
    const double* dec_taps;
    std::size_t dec_done = 0;
};

}  // namespace fast_engine

#define FAST_NS kernel_portable
#if defined(__GNUC__)
#define FAST_W 2
#else
#define FAST_W 1
#endif
#include "_fast_kernel.h"
#undef FAST_NS
#undef FAST_W

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define FAST_MULTI_ISA 1
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#define FAST_NS kernel_avx2
#define FAST_W 4
#include "_fast_kernel.h"
#undef FAST_NS
#undef FAST_W
#pragma GCC pop_options
#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq,avx512vl,avx512bw,avx2,fma,prefer-vector-width=512")
#define FAST_NS kernel_avx512
#define FAST_W 8
#include "_fast_kernel.h"
#undef FAST_NS
#undef FAST_W
#pragma GCC pop_options
#endif

namespace {

using fast_engine::Plan;
using fast_engine::State;
using Array = py::array_t<double, py::array::c_style | py::array::forcecast>;

// Aligned, zero-filled blocks that live as long as one call. `huge`: aligned to 2 MiB and, on
// Linux, backed by transparent huge pages where the system allows it (the rings: every sample
// touches one place in each of thousands of them, and 4-KiB pages would miss the TLB each time).
struct Arena {
    std::vector<void*> blocks;
    ~Arena() {
        for (void* b : blocks) std::free(b);
    }
    template <class T>
    T* take(std::size_t n, bool huge = false) {
        const std::size_t align = huge ? (std::size_t(2) << 20) : 64;
        const std::size_t bytes = ((n * sizeof(T) + 64 + align - 1) / align) * align;
        void* p = nullptr;
        if (posix_memalign(&p, align, bytes) != 0 || p == nullptr) throw std::bad_alloc();
#if defined(__linux__) && defined(MADV_HUGEPAGE)
        if (huge) madvise(p, bytes, MADV_HUGEPAGE);  // a hint only
#endif
        std::memset(p, 0, bytes);
        blocks.push_back(p);
        return static_cast<T*>(p);
    }
};

const double* slot_array(const py::dict& d, const char* name, std::size_t n, std::vector<Array>& keep) {
    Array a = d[name].cast<Array>();
    if (a.ndim() != 1 || static_cast<std::size_t>(a.shape(0)) != n)
        throw std::invalid_argument(std::string("_fast.run: plan array '") + name + "' must have " + std::to_string(n) +
                                    " values");
    keep.push_back(a);
    return a.data();
}

std::string best_isa() {
#ifdef FAST_MULTI_ISA
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512bw"))
        return "avx512";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "avx2";
#endif
    return "portable";
}

// One scalar lane of the IHC warm-up (spec 5: m_MET held at rest), then copied to every channel.
void ihc_warmup(const fast_engine::Ihc& k, double v0, double m0, int n, double& v, double& mf, double& ms) {
    v = v0;
    mf = ms = 1.0 / (1.0 + std::exp((k.v_k - v0) * k.inv_s_k));
    for (int s = 0; s < n; ++s) {
        const double mk = 1.0 / (1.0 + std::exp((k.v_k - v) * k.inv_s_k));
        mf = mk * k.b_f + mf * k.a_f;
        ms = mk * k.b_s + ms * k.a_s;
        const double total = (m0 * k.g_met) * (v - k.ep) + (mf * k.g_k) * (v - k.e_kf) + (ms * k.g_k) * (v - k.e_ks);
        v = v - total * k.dt_over_cm;
    }
}

py::dict run(Array stimuli, py::dict plan, py::array_t<std::int64_t, py::array::c_style | py::array::forcecast> store_slots,
             py::dict want, py::dict ihc_c, py::list anf_c, py::object progress, std::string isa) {
    if (stimuli.ndim() != 2) throw std::invalid_argument("_fast.run: stimuli must be (signals, samples + 2)");
    Plan p;
    p.signals = plan["signals"].cast<std::size_t>();
    p.blocks = plan["blocks"].cast<std::size_t>();
    p.rows = plan["rows"].cast<std::size_t>();
    p.lanes = p.signals * p.blocks;
    p.slots = p.rows * p.lanes;
    p.steps = plan["steps"].cast<int>();
    p.dt = plan["dt"].cast<double>();
    p.lead = plan["lead"].cast<double>();
    p.p0x = plan["p0x"].cast<double>();
    p.k0 = plan["k0"].cast<double>();
    p.kg0 = plan["kg0"].cast<double>();
    p.d_m = plan["d_m"].cast<double>();
    if (p.signals < 1 || p.signals > fast_engine::kMaxSignals)
        throw std::invalid_argument("_fast.run: 1 to 64 signals per call");
    if (static_cast<std::size_t>(stimuli.shape(0)) != p.signals || stimuli.shape(1) < 3)
        throw std::invalid_argument("_fast.run: stimuli must be (signals, samples + 2)");
    if (p.steps < 1 || p.steps > 8) throw std::invalid_argument("_fast.run: 1 to 8 steps per sample");
    if (p.lanes % 8 != 0) throw std::invalid_argument("_fast.run: signals x blocks must be a multiple of 8");
    std::vector<Array> keep;
    const std::size_t n = p.slots;
    p.shared = plan["shared"].cast<bool>();
    if (p.shared && (p.blocks != 1 || p.signals % 8 != 0))
        throw std::invalid_argument("_fast.run: shared node constants need one block and a multiple of 8 signals");
    const std::size_t n_node = p.shared ? p.rows : n;  // node constants: per row or per slot
    p.omega = slot_array(plan, "omega", n_node, keep);
    static_assert(fast_engine::kPoleFitTerms == 17, "Plan::pole_fit_f holds 3 x 17 coefficients");
    p.omega2 = slot_array(plan, "omega2", n_node, keep);
    p.inv_omega_dt = slot_array(plan, "inv_omega_dt", n_node, keep);
    p.zasq = slot_array(plan, "zasq", n_node, keep);
    p.tri_a = slot_array(plan, "tri_a", n_node, keep);
    p.tri_m = slot_array(plan, "tri_m", n_node, keep);
    p.tri_cp = slot_array(plan, "tri_cp", n_node, keep);
    p.spike_left = slot_array(plan, "spike_left", n, keep);
    p.spike_right = slot_array(plan, "spike_right", n, keep);
    const std::size_t n_sep = p.blocks > 1 ? p.blocks - 1 : 1;
    p.sep_a = slot_array(plan, "sep_a", n_sep, keep);
    p.sep_c = slot_array(plan, "sep_c", n_sep, keep);
    p.red_a = slot_array(plan, "red_a", n_sep, keep);
    p.red_m = slot_array(plan, "red_m", n_sep, keep);
    p.red_cp = slot_array(plan, "red_cp", n_sep, keep);
    std::vector<py::array_t<float, py::array::c_style | py::array::forcecast>> keep_f;
    for (int k = 0; k < 5; ++k) {
        const std::string name = "pole_c" + std::to_string(k);
        auto a = plan[name.c_str()].cast<py::array_t<float, py::array::c_style | py::array::forcecast>>();
        if (a.ndim() != 1 || static_cast<std::size_t>(a.shape(0)) != n_node)
            throw std::invalid_argument("_fast.run: plan array '" + name + "' has the wrong length");
        keep_f.push_back(a);
        p.pole_c[k] = a.data();
    }
    p.passive_pole = plan["passive_pole"].cast<double>();
    p.pole_fit = slot_array(plan, "pole_fit", 3 * fast_engine::kPoleFitTerms, keep);
    for (int k = 0; k < 3 * fast_engine::kPoleFitTerms; ++k) p.pole_fit_f[k] = static_cast<float>(p.pole_fit[k]);
    auto ring_length = plan["ring_length"].cast<py::array_t<std::int32_t, py::array::c_style | py::array::forcecast>>();
    auto ring_start = plan["ring_start"].cast<py::array_t<std::int32_t, py::array::c_style | py::array::forcecast>>();
    if (static_cast<std::size_t>(ring_length.size()) != n || static_cast<std::size_t>(ring_start.size()) != n)
        throw std::invalid_argument("_fast.run: ring_length and ring_start need one value per slot");
    p.ring_length = ring_length.data();
    p.ring_start = ring_start.data();
    const std::size_t ring_size = plan["ring_size"].cast<std::size_t>();

    const std::size_t B = p.signals, L = p.lanes;
    const std::size_t n_t = static_cast<std::size_t>(stimuli.shape(1)) - 2;
    if (store_slots.ndim() != 2 || static_cast<std::size_t>(store_slots.shape(0)) != B)
        throw std::invalid_argument("_fast.run: store_slots must be (signals, channels)");
    const std::size_t C = static_cast<std::size_t>(store_slots.shape(1));
    std::vector<std::size_t> slots(B * C);
    for (std::size_t i = 0; i < B * C; ++i) {
        const std::int64_t sl = store_slots.data()[i];
        if (sl < 0 || static_cast<std::size_t>(sl) >= n) throw std::invalid_argument("_fast.run: store slot out of range");
        slots[i] = static_cast<std::size_t>(sl);
    }

    Arena arena;
    State s;
    s.frac = arena.take<double>(n);
    s.v = arena.take<double>(n);
    s.y = arena.take<double>(n);
    for (auto& k : s.k) k = arena.take<double>(n);
    s.g = arena.take<double>(n);
    s.z = arena.take<double>(n);
    s.q = arena.take<double>(n);
    s.vlead = arena.take<double>(n);
    s.vs_row0 = arena.take<double>(L);
    for (auto& t : s.ydel) t = arena.take<float>(n);
    for (auto& t : s.win) t = arena.take<float>(n);
    s.reload = arena.take<std::uint8_t>(n);
    s.dint = arena.take<std::int32_t>(n);
    s.rb = arena.take<std::int32_t>(n);
    s.fetch = arena.take<std::int32_t>(n);
    s.write = arena.take<std::int32_t>(n);
    s.lane_tmp = arena.take<double>(L);
    s.lane_left = arena.take<double>(L);
    s.lane_right = arena.take<double>(L);
    s.sep = arena.take<double>(n_sep * B);
    s.ring = arena.take<float>(ring_size, true);
    s.stimulus = stimuli.data();
    s.stimulus_stride = n_t + 2;
    s.n_samples = n_t;

    // outputs
    fast_engine::Outputs& out = s.out;
    out.n_channels = C;
    out.slot = slots.data();
    out.n_decimated = (n_t + fast_engine::kDecimation - 1) / fast_engine::kDecimation;
    const bool want_v = want["v"].cast<bool>(), want_y = want["y"].cast<bool>(), want_ihc = want["ihc"].cast<bool>();
    const char* fibre_names[3] = {"anfh", "anfm", "anfl"};
    for (int f = 0; f < 3; ++f) out.anf_wanted[f] = want[fibre_names[f]].cast<bool>();
    out.need_anf = out.anf_wanted[0] || out.anf_wanted[1] || out.anf_wanted[2];
    out.need_ihc = want_ihc || out.need_anf;
    py::list v_list, y_list, ihc_list, anf_lists[3];
    std::vector<Array> emission;
    auto matrix = [](std::size_t rows, std::size_t cols) {
        return Array(std::vector<py::ssize_t>{static_cast<py::ssize_t>(rows), static_cast<py::ssize_t>(cols)});
    };
    for (std::size_t sig = 0; sig < B; ++sig) {
        Array e(static_cast<py::ssize_t>(n_t));
        std::fill(e.mutable_data(), e.mutable_data() + n_t, 0.0);
        s.emission.push_back(e.mutable_data());
        emission.push_back(e);
        auto add = [&](bool wanted, std::size_t rows, py::list& lst, std::vector<double*>& ptrs) {
            if (!wanted) {
                lst.append(py::none());
                ptrs.push_back(nullptr);
                return;
            }
            Array a = matrix(rows, C);
            ptrs.push_back(a.mutable_data());
            lst.append(a);
        };
        add(want_v, n_t, v_list, out.v);
        add(want_y, n_t, y_list, out.y);
        add(want_ihc, n_t, ihc_list, out.ihc);
        for (int f = 0; f < 3; ++f) add(out.anf_wanted[f], out.n_decimated, anf_lists[f], out.anf[f]);
    }
    s.vbm = arena.take<double>(B * C);
    std::vector<double> taps;
    if (out.need_ihc) {
        auto get = [&](const char* name) { return ihc_c[name].cast<double>(); };
        fast_engine::Ihc& k = s.ihc;
        k.gain = get("gain");
        k.x0 = get("x0");
        k.inv_s0 = 1.0 / get("s0");
        k.a_met = get("a_met");
        k.b_met = 1.0 - k.a_met;
        k.v_k = get("v_k");
        k.inv_s_k = 1.0 / get("s_k");
        k.a_f = get("a_f");
        k.b_f = 1.0 - k.a_f;
        k.a_s = get("a_s");
        k.b_s = 1.0 - k.a_s;
        k.g_met = get("g_met");
        k.ep = get("ep");
        k.g_k = get("g_k");
        k.e_kf = get("e_kf");
        k.e_ks = get("e_ks");
        k.dt_over_cm = get("dt") / get("c_m");
        s.vihc = arena.take<double>(B * C);
        s.ihc_v = arena.take<double>(B * C);
        s.ihc_m_met = arena.take<double>(B * C);
        s.ihc_m_f = arena.take<double>(B * C);
        s.ihc_m_s = arena.take<double>(B * C);
        double v0, mf0, ms0;
        const double m_rest = get("m_met_rest");
        ihc_warmup(k, get("v_rest"), m_rest, ihc_c["n_warmup"].cast<int>(), v0, mf0, ms0);
        for (std::size_t i = 0; i < B * C; ++i) {
            s.ihc_v[i] = v0;
            s.ihc_m_met[i] = m_rest;
            s.ihc_m_f[i] = mf0;
            s.ihc_m_s[i] = ms0;
        }
    }
    if (out.need_anf) {
        Array t = ihc_c["decimation_taps"].cast<Array>();
        if (t.size() != 2 * static_cast<py::ssize_t>(fast_engine::kDecimationHalf) + 1)
            throw std::invalid_argument("_fast.run: 31 decimation taps expected");
        taps.assign(t.data(), t.data() + t.size());
        s.dec_taps = taps.data();
        s.dec_acc = arena.take<double>(fast_engine::kDecimationRows * B * C);
        s.dec_first = arena.take<double>(B);
        s.anf_row = arena.take<double>(B * C);
        for (int f = 0; f < 3; ++f) {
            if (!out.anf_wanted[f]) continue;
            py::dict c = anf_c[f].cast<py::dict>();
            auto get = [&](const char* name) { return c[name].cast<double>(); };
            fast_engine::Anf& a = s.anf[f];
            a.v_half = get("V_half");
            a.inv_s = 1.0 / get("s_ca");
            a.a_ca = get("alpha_ca");
            a.b_ca = 1.0 - a.a_ca;
            a.m_rrp = get("M");
            a.l_res = get("L");
            a.inv_m = 1.0 / a.m_rrp;
            a.inv_l = 1.0 / a.l_res;
            a.pp_dt = get("pp") * get("dt");
            a.rw_factor = get("rw_factor");
            a.rq_factor = get("rq_factor");
            a.a_ref = get("alpha_ref");
            a.b_ref = 1.0 - a.a_ref;
            a.fs_an = get("fs_an");
            a.n_ref = c["n_ref"].cast<std::size_t>();
            if (a.n_ref < 1) throw std::invalid_argument("_fast.run: n_ref must be at least 1");
            fast_engine::AnfState& st = s.anf_state[f];
            st.q = arena.take<double>(B * C);
            st.w = arena.take<double>(B * C);
            st.k = arena.take<double>(B * C);
            st.rho = arena.take<double>(B * C);
            st.avail = arena.take<double>(B * C);
            st.history = arena.take<double>(a.n_ref * B * C);
            // warm-up (spec 7): k fixed at k0, no lower clamps; the same in every channel
            double q = get("M_ss"), w = get("L_ss"), rho = 0.0, avail = 1.0;
            const double k0 = get("k0");
            std::vector<double> hist(a.n_ref, 0.0);
            std::size_t ptr = 0;
            const int n_warm = c["n_warmup"].cast<int>();
            for (int it = 0; it < n_warm; ++it) {
                double e = ((k0 * k0) * a.pp_dt);
                q = q < a.m_rrp ? q : a.m_rrp;
                w = w < a.l_res ? w : a.l_res;
                e = e * q;
                const double rw = (a.l_res - w) * a.rw_factor;
                double rq = w / a.l_res - q / a.m_rrp;
                rq = (rq > 0.0 ? rq : 0.0) * a.rq_factor;
                q = (q + rq) - e;
                w = (w - rq) + rw;
                const double fire = (avail - rho) * e;
                const double rec = hist[ptr];
                rho = rho * a.a_ref + rec * a.b_ref;
                avail = (avail - fire) + rec;
                hist[ptr] = fire;
                ptr = ptr + 1 == a.n_ref ? 0 : ptr + 1;
            }
            for (std::size_t i = 0; i < B * C; ++i) {
                st.q[i] = q;
                st.w[i] = w;
                st.k[i] = k0;
                st.rho[i] = rho;
                st.avail[i] = avail;
            }
            for (std::size_t r = 0; r < a.n_ref; ++r)
                for (std::size_t i = 0; i < B * C; ++i) st.history[r * B * C + i] = hist[r];
            st.ptr = ptr;
        }
    }

    if (isa == "auto") isa = best_isa();
    const std::string best = best_isa();
    if (isa != "portable" && isa != "avx2" && isa != "avx512")
        throw std::invalid_argument("_fast.run: isa must be 'auto', 'portable', 'avx2' or 'avx512', got '" + isa + "'");
    if ((isa == "avx512" && best != "avx512") || (isa == "avx2" && best == "portable"))
        throw std::invalid_argument("_fast.run: this CPU cannot run the '" + isa + "' path (best: '" + best + "')");

    using Init = void (*)(const Plan&, State&);
    using Advance = void (*)(const Plan&, State&, std::size_t);
    Init init = kernel_portable::start;
    Advance advance = kernel_portable::advance;
    Init finish = kernel_portable::finish;
#ifdef FAST_MULTI_ISA
    if (isa == "avx2") {
        init = kernel_avx2::start;
        advance = kernel_avx2::advance;
        finish = kernel_avx2::finish;
    } else if (isa == "avx512") {
        init = kernel_avx512::start;
        advance = kernel_avx512::advance;
        finish = kernel_avx512::finish;
    }
#endif
    {
        py::gil_scoped_release release;
#ifdef FAST_HAVE_MXCSR
        // Flush denormals to zero while the loop runs: the apical displacements of the first
        // milliseconds lie in float32's denormal range, where every operation costs ~100 cycles.
        struct Mxcsr {
            unsigned saved = _mm_getcsr();
            Mxcsr() { _mm_setcsr(saved | 0x8040); }
            ~Mxcsr() { _mm_setcsr(saved); }
        } ftz;
#endif
        init(p, s);
        const bool report = !progress.is_none();
        const std::size_t chunk = 5000;
        for (std::size_t j0 = 0; j0 < n_t; j0 += chunk) {
            if (report && j0 > 0) {
                py::gil_scoped_acquire acquire;
                progress(j0);
                if (PyErr_CheckSignals() != 0) throw py::error_already_set();
            }
            advance(p, s, j0 + chunk < n_t ? j0 + chunk : n_t);
        }
        finish(p, s);
    }
    py::list emis;
    for (std::size_t sig = 0; sig < B; ++sig) emis.append(emission[sig]);
    const std::size_t n_integrated = n_t >= 2 ? n_t - 2 : 0;
    py::dict res;
    res["v"] = v_list;
    res["y"] = y_list;
    res["ihc"] = ihc_list;
    res["anfh"] = anf_lists[0];
    res["anfm"] = anf_lists[1];
    res["anfl"] = anf_lists[2];
    res["q0"] = emis;
    res["n_rhs_evaluations"] = static_cast<std::int64_t>(1 + 6 * p.steps * n_integrated);
    res["isa"] = isa;
    return res;
}

}  // namespace

void bind_fast(py::module_& m) {
    m.def("fast_run", &run, py::arg("stimuli"), py::arg("plan"), py::arg("store_slots"), py::arg("outputs"),
          py::arg("ihc"), py::arg("anf"), py::arg("progress") = py::none(), py::arg("isa") = "auto",
          "The fast engine (see verhulst2018/fast.py): middle-ear-filtered stimuli (signals, samples + 2) "
          "-> dict of per-signal lists v, y, ihc (T, C), anfh/anfm/anfl (ceil(T/5), C), q0 (T,) raw emission, "
          "n_pole_updates, n_rhs_evaluations, isa (the instruction set used).");
    m.def("fast_isa", &best_isa, "The instruction set the fast engine uses on this CPU: avx512, avx2 or portable.");
}
