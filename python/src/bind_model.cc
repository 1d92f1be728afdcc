// BitLlama: the seed's Python model object. Weights plus one TTT memory that
// every forward call continues (streaming), with batched prefill for lists.
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "bindings.h"
#include "bit_ttt/config.h"
#include "bit_ttt/model.h"

namespace bit_ttt::python {
namespace {

struct PyBitLlama {
  BitLlama model;
  TttState state;
  std::string device;
  std::mutex mutex;  // one engine call at a time per object (the GIL is released)
};

LoadOptions load_options(const std::string& device, std::optional<int64_t> n_gpu_layers,
                         int n_threads, bool verify) {
  check_device(device);
  if (n_gpu_layers && *n_gpu_layers < 0)
    throw py::value_error(concat("n_gpu_layers must be >= 0 (or None), got ", *n_gpu_layers));
  if (n_gpu_layers && device == "cpu")
    throw py::value_error(
        concat("n_gpu_layers = ", *n_gpu_layers, " needs device='cuda' (device is 'cpu')"));
  if (n_threads < 0) throw py::value_error(concat("n_threads must be >= 0, got ", n_threads));
  LoadOptions options;
  options.device = device;
  options.n_gpu_layers = n_gpu_layers;
  options.n_threads = n_threads;
  options.verify = verify;
  return options;
}

std::unique_ptr<PyBitLlama> load_model(const std::optional<BitLlamaConfig>& config,
                                       const std::filesystem::path& path, const std::string& device,
                                       std::optional<int64_t> n_gpu_layers, int n_threads,
                                       bool verify) {
  const LoadOptions options = load_options(device, n_gpu_layers, n_threads, verify);
  if (!std::filesystem::exists(path))
    throw py::value_error(concat(path.string(),
                                 ": no such file or directory (expected a .safetensors file, a "
                                 "model directory or a .bitt file)"));
  const bool self_describing = std::filesystem::is_directory(path) || path.extension() == ".bitt";
  std::optional<BitLlama> model;
  {
    py::gil_scoped_release release;
    if (self_describing || !config) {
      model.emplace(BitLlama::load(path, options));
    } else {
      model.emplace(BitLlama::load(*config, path, options));
    }
  }
  if (self_describing && config) {
    BitLlamaConfig wanted = *config;
    as_value_error([&] { wanted.finalize("config argument"); });
    if (!wanted.same_shape(model->config()))
      throw py::value_error(concat("config argument (", wanted.shape_string(),
                                   ") does not match the model in ", path.string(), " (",
                                   model->config().shape_string(),
                                   "); pass config=None to use the file's own config"));
  }
  TttState state = model->new_state();
  return std::unique_ptr<PyBitLlama>(
      new PyBitLlama{std::move(*model), std::move(state), device, {}});
}

py::array_t<float> forward(PyBitLlama& self, const py::handle& tokens, bool all_logits) {
  const int64_t vocab = self.model.config().vocab_size;
  const bool single = PyIndex_Check(tokens.ptr()) && !py::isinstance<py::array>(tokens);
  TokenIds ids;
  if (single) {
    ids = token_ids(py::make_tuple(tokens), vocab, "token_id");
  } else {
    ids = token_ids(tokens, vocab);
  }
  const bool all = all_logits && !single;
  const size_t n_rows = all ? ids.size : 1;
  if (ids.size == 0) {
    if (all) return owning_array({}, {0, static_cast<py::ssize_t>(vocab)});
    throw py::value_error("forward: no tokens given");
  }
  std::vector<float> logits;
  {
    py::gil_scoped_release release;
    std::lock_guard<std::mutex> lock(self.mutex);
    logits.resize(n_rows * static_cast<size_t>(vocab));
    self.model.forward(ids.span(), self.state, logits, all ? LogitsMode::all : LogitsMode::last);
  }
  if (all) return owning_array(std::move(logits), {static_cast<py::ssize_t>(n_rows), vocab});
  return owning_array(std::move(logits), {vocab});
}

}  // namespace

void register_model(py::module_& m) {
  m.def(
      "device_available",
      [](const std::string& device) { return device_available(parse_device(device)); },
      py::arg("device"),
      "True when `device` (\"cpu\" or \"cuda\") can run models in this build on this machine.");
  py::class_<PyBitLlama> model(m, "BitLlama", R"doc(
A Bit-TTT model and its TTT memory (the seed's cortex_rust.BitLlama).

    model = BitLlama(config, "model.safetensors", device="cpu")
    model = BitLlama(None, "models/m")            # a model directory or a .bitt file
    logits = model.forward(token_id=42)           # numpy float32 [V], continues the memory
    logits = model.forward([1, 2, 3])             # batched prefill: float32 [T, V]
    model.reset_state()

Every forward call continues the same stream: the memory absorbs each token, so
feeding tokens one at a time gives the same logits as one batched call. The GIL is
released while the engine computes; one object serialises its own calls.
Logit arrays own their memory (no copy). A C-contiguous int32 numpy array of
tokens is read in place; other integer arrays and lists are converted.
)doc");
  model
      .def(py::init(&load_model), py::arg("config").none(true), py::arg("path"),
           py::arg("device") = "cpu", py::arg("n_gpu_layers") = py::none(),
           py::arg("n_threads") = 0, py::arg("verify") = false,
           R"doc(Loads a model.

config: a BitLlamaConfig, or None. With a .safetensors file, the config gives the
    shapes (None: config.json next to the file). A model directory or a .bitt file
    carries its own config; a config given with one must have the same shape
    (ValueError otherwise).
path: a .safetensors file, a model directory (config.json + model.safetensors) or a
    .bitt file.
device: "cpu" or "cuda" (ValueError for anything else; bit_ttt.Error when this
    build or machine has no CUDA backend).
n_gpu_layers: with device="cuda", blocks 0..n-1 on the GPU (None: config / all).
n_threads: CPU threads (0 = every core). verify: check a .bitt file's checksums.)doc")
      .def(
          "forward",
          [](PyBitLlama& self, const py::object& tokens, const py::object& token_id,
             bool all_logits) {
            if (tokens.is_none() == token_id.is_none())
              throw py::type_error(
                  "forward() takes exactly one of `tokens` (a list or int array) or `token_id` "
                  "(an int)");
            if (!token_id.is_none()) {
              if (!PyIndex_Check(token_id.ptr()) || PyBool_Check(token_id.ptr()))
                throw py::type_error(concat("token_id must be an int, got ",
                                            py::str(py::type::of(token_id)).cast<std::string>()));
              return forward(self, token_id, false);
            }
            return forward(self, tokens, all_logits);
          },
          py::arg("tokens") = py::none(), py::kw_only(), py::arg("token_id") = py::none(),
          py::arg("all_logits") = true,
          R"doc(Feeds tokens after whatever the memory holds and returns their logits.

forward(token_id=42) or forward(42) -> float32 array [V]: one decode step.
forward([1, 2, 3]) or forward(np.array(..., dtype=np.int32)) -> float32 [T, V]
    (batched prefill; all_logits=False returns only the last position, [V]).
Token ids must be in [0, vocab_size) (ValueError otherwise).)doc")
      .def(
          "reset_state",
          [](PyBitLlama& self) {
            py::gil_scoped_release release;
            std::lock_guard<std::mutex> lock(self.mutex);
            self.state.reset();
          },
          "forgets every absorbed token (memory back to zero)")
      .def(
          "save_state",
          [](PyBitLlama& self, const std::filesystem::path& path) {
            py::gil_scoped_release release;
            std::lock_guard<std::mutex> lock(self.mutex);
            self.model.save_state(self.state, path);
          },
          py::arg("path"), "writes the memory to a state file (safetensors)")
      .def(
          "load_state",
          [](PyBitLlama& self, const std::filesystem::path& path) {
            py::gil_scoped_release release;
            std::lock_guard<std::mutex> lock(self.mutex);
            self.state = self.model.load_state(path);
          },
          py::arg("path"),
          "replaces the memory with a state file's (bit_ttt.Error for another model's shape)")
      .def(
          "state_layer",
          [](PyBitLlama& self, int64_t layer) {
            const int64_t n_layers = self.state.n_layers();
            if (layer < 0 || layer >= n_layers)
              throw py::index_error(concat("layer ", layer, " out of range [0, ", n_layers, ")"));
            const int64_t dim = self.state.ttt_dim();
            std::vector<float> values;
            {
              py::gil_scoped_release release;
              std::lock_guard<std::mutex> lock(self.mutex);
              values = self.state.layer_to_host(layer);
            }
            return owning_array(std::move(values), {dim, dim});
          },
          py::arg("layer"), "a copy of one layer's d x d memory, float32 [d, d]")
      .def_property_readonly(
          "n_tokens",
          [](PyBitLlama& self) {
            std::lock_guard<std::mutex> lock(self.mutex);
            return self.state.n_tokens();
          },
          "tokens the memory has absorbed since load/reset")
      .def_property_readonly(
          "config", [](const PyBitLlama& self) { return self.model.config(); },
          "a copy of the model's BitLlamaConfig")
      .def_property_readonly("vocab_size",
                             [](const PyBitLlama& self) { return self.model.config().vocab_size; })
      .def_property_readonly(
          "device", [](const PyBitLlama& self) { return self.device; }, "the device asked for")
      .def_property_readonly(
          "fingerprint", [](const PyBitLlama& self) { return self.model.fingerprint(); },
          "stable identity of the weights (stored in state files)")
      .def_property_readonly(
          "placement", [](const PyBitLlama& self) { return self.model.placement_summary(); },
          "where each block lives, e.g. 'embed:cpu blocks 0-7:cpu head:cpu'")
      .def_property_readonly(
          "format", [](const PyBitLlama& self) { return self.model.format_summary(); },
          "how the weights are stored, e.g. 'ternary i2, embed f16, head int8'")
      .def_property_readonly(
          "weight_bytes", [](const PyBitLlama& self) { return self.model.weight_bytes(); },
          "bytes the weights occupy in memory")
      .def("__repr__", [](PyBitLlama& self) {
        std::lock_guard<std::mutex> lock(self.mutex);
        return concat("BitLlama(", self.model.config().shape_string(), ", ",
                      self.model.placement_summary(), ", n_tokens=", self.state.n_tokens(), ")");
      });
}

}  // namespace bit_ttt::python
