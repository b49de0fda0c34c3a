// The compiled core of verhulst2018: one extension module, one source file per stage.
#include <pybind11/pybind11.h>

namespace py = pybind11;

void bind_tl(py::module_& m);      // _tl.cpp: transmission-line cochlea
void bind_stages(py::module_& m);  // _stages.cpp: IHC receptor potential and ANF synapse
void bind_fast(py::module_& m);    // _fast.cpp: the fast engine (all stages, batched lanes)

PYBIND11_MODULE(_core, m) {
    m.doc() = "Compiled time stepping of the Verhulst et al. (2018) model (TL cochlea, IHC, ANF)";
    bind_tl(m);
    bind_stages(m);
    bind_fast(m);
}
