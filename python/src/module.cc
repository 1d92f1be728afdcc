// bit_ttt._core: the compiled half of the `bit_ttt` Python package.
#include <span>

#include "bindings.h"

namespace bit_ttt::python {

TokenIds token_ids(const py::handle& tokens, int64_t vocab, const char* what) {
  TokenIds ids;
  auto check_range = [&](int64_t value, size_t position) {
    if (value < 0 || (vocab > 0 && value >= vocab))
      throw py::value_error(concat("token id ", value, " at position ", position, " of ", what,
                                   " is out of range [0, ", vocab, ")"));
  };
  if (py::isinstance<py::array>(tokens)) {
    auto array = py::reinterpret_borrow<py::array>(tokens);
    if (array.ndim() != 1)
      throw py::value_error(
          concat(what, " must be a 1-D array of token ids, got ", array.ndim(), " dimensions"));
    const char kind = array.dtype().kind();
    if (kind != 'i' && kind != 'u')
      throw py::type_error(concat(what, " must be integers, got an array of dtype ",
                                  py::str(array.dtype()).cast<std::string>()));
    using Int32Array = py::array_t<int32_t, py::array::c_style>;
    if (Int32Array::check_(array)) {  // zero-copy: read the caller's buffer in place
      auto in_place = py::reinterpret_borrow<Int32Array>(array);
      ids.data = in_place.data();
      ids.size = static_cast<size_t>(in_place.size());
      for (size_t i = 0; i < ids.size; ++i) check_range(ids.data[i], i);
      ids.keep = std::move(in_place);
      return ids;
    }
    auto converted = py::array_t<int64_t, py::array::c_style | py::array::forcecast>::ensure(array);
    if (!converted) throw py::error_already_set();
    if (kind == 'u' && array.itemsize() == 8) {  // uint64 beyond int64 would wrap to negative
      auto original =
          py::array_t<uint64_t, py::array::c_style | py::array::forcecast>::ensure(array);
      for (py::ssize_t i = 0; i < original.size(); ++i)
        if (original.data()[i] > static_cast<uint64_t>(INT64_MAX))
          throw py::value_error(concat("token id ", original.data()[i], " at position ", i, " of ",
                                       what, " is out of range [0, ", vocab, ")"));
    }
    ids.owned.resize(static_cast<size_t>(converted.size()));
    for (size_t i = 0; i < ids.owned.size(); ++i) {
      const int64_t value = converted.data()[i];
      check_range(value, i);
      ids.owned[i] = static_cast<int32_t>(value);
    }
  } else {
    if (py::isinstance<py::str>(tokens) || py::isinstance<py::bytes>(tokens))
      throw py::type_error(concat(what, " must be token ids (a list or numpy array of ints), not ",
                                  "text; encode text with a Tokenizer first"));
    if (!py::isinstance<py::sequence>(tokens) && !py::hasattr(tokens, "__iter__"))
      throw py::type_error(concat(what, " must be a list or numpy array of ints, got ",
                                  py::str(py::type::of(tokens)).cast<std::string>()));
    size_t position = 0;
    for (const py::handle item : tokens) {
      if (!PyIndex_Check(item.ptr()) || PyBool_Check(item.ptr()))
        throw py::type_error(concat(what, "[", position, "] must be an int, got ",
                                    py::str(py::type::of(item)).cast<std::string>()));
      const py::int_ value = py::reinterpret_steal<py::int_>(PyNumber_Index(item.ptr()));
      int overflow = 0;
      const long long as_long = PyLong_AsLongLongAndOverflow(value.ptr(), &overflow);
      if (overflow != 0)
        throw py::value_error(concat("token id at position ", position, " of ", what,
                                     " is out of range [0, ", vocab, ")"));
      check_range(as_long, position);
      ids.owned.push_back(static_cast<int32_t>(as_long));
      ++position;
    }
  }
  ids.data = ids.owned.data();
  ids.size = ids.owned.size();
  return ids;
}

py::array_t<float> owning_array(std::vector<float>&& values, std::vector<py::ssize_t> shape) {
  auto* owned = new std::vector<float>(std::move(values));
  py::capsule free_when_done(
      owned, [](void* pointer) noexcept { delete static_cast<std::vector<float>*>(pointer); });
  return py::array_t<float>(std::move(shape), owned->data(), free_when_done);
}

void check_device(const std::string& device) {
  if (device != "cpu" && device != "cuda")
    throw py::value_error(concat("unknown device '", device, "' (valid devices: cpu, cuda)"));
}

}  // namespace bit_ttt::python

PYBIND11_MODULE(_core, m) {
  namespace py = pybind11;
  m.doc() =
      "Bit-TTT Engine: ternary-weight language models with test-time-training memory.\n\n"
      "The compiled half of the `bit_ttt` package; import `bit_ttt` (or the seed's\n"
      "`cortex_rust` alias) instead of this module.";
  m.attr("__version__") = "0.1.0";
  // Engine errors (bad files, shape mismatches, devices this build lacks) keep
  // the engine's message; bad arguments are ValueError/TypeError instead.
  py::register_exception<bit_ttt::Error>(m, "Error", PyExc_RuntimeError);
  bit_ttt::python::register_config(m);
  bit_ttt::python::register_model(m);
  bit_ttt::python::register_llama(m);
  bit_ttt::python::register_train(m);
}
