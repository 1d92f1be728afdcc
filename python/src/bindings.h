// Shared pieces of the Python bindings (module bit_ttt._core): one register_*
// per file, the error mapping and the token-array conversion.
//
// Threading: every call into the engine releases the GIL (py::gil_scoped_release)
// and then takes the object's own mutex, so other Python threads run during a
// forward pass and two threads sharing one object are serialised, never racing.
// Python callbacks reacquire the GIL (py::gil_scoped_acquire).
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "bit_ttt/config.h"
#include "bit_ttt/error.h"
#include "bit_ttt/llama.h"
#include "bit_ttt/tokenizer.h"
#include "train/trainer.h"

// pybind11 2.10 builds signatures with an unqualified concat(descr<N, T>...), and
// for a type T declared directly in namespace bit_ttt argument-dependent lookup
// also finds bit_ttt::concat (error.h), which then wins. These casters are the
// default ones with a plain-text name, so no bit_ttt type reaches that call.
#define BIT_TTT_PY_NAMED_CASTER(Type, python_name)          \
  namespace pybind11::detail {                              \
  template <>                                               \
  class type_caster<Type> : public type_caster_base<Type> { \
   public:                                                  \
    static constexpr auto name = const_name(python_name);   \
  };                                                        \
  }
BIT_TTT_PY_NAMED_CASTER(bit_ttt::BitLlamaConfig, "BitLlamaConfig")
BIT_TTT_PY_NAMED_CASTER(bit_ttt::Tokenizer, "Tokenizer")
BIT_TTT_PY_NAMED_CASTER(bit_ttt::GenerationResult, "GenerationResult")
BIT_TTT_PY_NAMED_CASTER(bit_ttt::TrainOptions, "TrainOptions")
#undef BIT_TTT_PY_NAMED_CASTER

namespace bit_ttt::python {

namespace py = pybind11;

void register_config(py::module_& m);
void register_model(py::module_& m);
void register_llama(py::module_& m);
void register_train(py::module_& m);

// Runs `body` and turns a bit_ttt::Error into ValueError: for calls whose only
// failure mode is a bad argument (config values, sampling settings).
template <typename Body>
auto as_value_error(Body&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const Error& error) {
    throw py::value_error(error.what());
  }
}

// Token ids read from a Python sequence or numpy integer array. A C-contiguous
// int32 array is read in place (`keep` holds it alive); anything else is
// converted into `owned`. Every id is checked against [0, vocab) when vocab > 0.
struct TokenIds {
  py::object keep;
  std::vector<int32_t> owned;
  const int32_t* data = nullptr;
  size_t size = 0;
  std::span<const int32_t> span() const { return {data, size}; }
};
TokenIds token_ids(const py::handle& tokens, int64_t vocab, const char* what = "tokens");

// A float32 numpy array of `shape` that owns `values` (no copy: a capsule frees the vector).
py::array_t<float> owning_array(std::vector<float>&& values, std::vector<py::ssize_t> shape);

// "cpu" and "cuda"; anything else is a ValueError naming the valid ones.
void check_device(const std::string& device);

}  // namespace bit_ttt::python
