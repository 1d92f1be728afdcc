// BitLlamaConfig: the model configuration (config.json), one attribute per key.
#include <filesystem>
#include <optional>
#include <string>

#include "bindings.h"
#include "bit_ttt/config.h"

namespace bit_ttt::python {
namespace {

const char* const kConfigKeys[] = {"vocab_size",   "hidden_dim",       "num_layers",
                                   "inner_lr",     "intermediate_dim", "ttt_dim",
                                   "rms_norm_eps", "activation_quant", "n_gpu_layers",
                                   "bos_token_id", "eos_token_id",     "extra_keys"};

void apply_keywords(py::object self, const py::kwargs& keywords) {
  for (const auto& [key, value] : keywords) {
    const std::string name = py::str(key);
    bool known = false;
    for (const char* valid : kConfigKeys) known = known || name == valid;
    if (!known) {
      std::string valid_keys;
      for (const char* valid : kConfigKeys)
        valid_keys += concat(valid_keys.empty() ? "" : ", ", valid);
      throw py::type_error(
          concat("BitLlamaConfig got an unknown key '", name, "' (valid keys: ", valid_keys, ")"));
    }
    py::setattr(self, key, value);
  }
}

py::object json_loads(const std::string& text) {
  return py::module_::import("json").attr("loads")(text);
}

}  // namespace

void register_config(py::module_& m) {
  py::class_<BitLlamaConfig> config(m, "BitLlamaConfig", R"doc(
Model configuration: the keys of config.json (MODEL_SPEC.md section 1).

    config = BitLlamaConfig(16384, 256, 8, 0.1)          # vocab, hidden, layers, inner lr
    config = BitLlamaConfig(vocab_size=512, hidden_dim=64, num_layers=2, inner_lr=0.1,
                            intermediate_dim=128, activation_quant="int8")
    config = BitLlamaConfig.from_json("models/m/config.json")   # a path or JSON text

Every key is a readable and writable attribute. The four-argument form fills the
spec defaults (intermediate_dim = 4*hidden_dim, ttt_dim = hidden_dim/4); keyword
arguments then override any key. Values are checked again when a model loads.
)doc");
  config
      .def(py::init([](int64_t vocab_size, int64_t hidden_dim, int64_t num_layers, float inner_lr,
                       const py::kwargs& keywords) {
             BitLlamaConfig result = as_value_error(
                 [&] { return BitLlamaConfig(vocab_size, hidden_dim, num_layers, inner_lr); });
             if (keywords.size() > 0) {
               py::object wrapped = py::cast(result);
               apply_keywords(wrapped, keywords);
               result = wrapped.cast<BitLlamaConfig>();
             }
             return result;
           }),
           py::arg("vocab_size"), py::arg("hidden_dim"), py::arg("num_layers"), py::arg("inner_lr"),
           "Builds a config; the four required keys, then any other key by keyword. A bad value "
           "is a ValueError naming the key.")
      .def_readwrite("vocab_size", &BitLlamaConfig::vocab_size, "V: number of token ids")
      .def_readwrite("hidden_dim", &BitLlamaConfig::hidden_dim, "D: model width")
      .def_readwrite("num_layers", &BitLlamaConfig::num_layers, "N: number of blocks")
      .def_readwrite("inner_lr", &BitLlamaConfig::inner_lr, "eta: TTT inner learning rate")
      .def_readwrite("intermediate_dim", &BitLlamaConfig::intermediate_dim,
                     "I: SwiGLU width (0 = 4*D when finalized)")
      .def_readwrite("ttt_dim", &BitLlamaConfig::ttt_dim, "d: TTT memory size (0 = D/4)")
      .def_readwrite("rms_norm_eps", &BitLlamaConfig::rms_norm_eps, "RMSNorm epsilon")
      .def_property(
          "activation_quant",
          [](const BitLlamaConfig& self) {
            return std::string(activation_quant_name(self.activation_quant));
          },
          [](BitLlamaConfig& self, const std::string& name) {
            self.activation_quant = as_value_error([&] { return parse_activation_quant(name); });
          },
          "'none' or 'int8' (activation quantization of the BitLinear inputs)")
      .def_readwrite("n_gpu_layers", &BitLlamaConfig::n_gpu_layers,
                     "blocks on the GPU for device='cuda' (None = all)")
      .def_readwrite("bos_token_id", &BitLlamaConfig::bos_token_id, "optional BOS id hint")
      .def_readwrite("eos_token_id", &BitLlamaConfig::eos_token_id, "optional EOS id hint")
      .def_readwrite("extra_keys", &BitLlamaConfig::extra_keys,
                     "unknown keys, name -> JSON text, written back out verbatim")
      .def_static(
          "from_json",
          [](const py::object& path_or_text) {
            std::string text;
            if (py::isinstance<py::str>(path_or_text)) text = path_or_text.cast<std::string>();
            const auto first = text.find_first_not_of(" \t\r\n");
            if (!text.empty() && first != std::string::npos && text[first] == '{')
              return as_value_error([&] { return BitLlamaConfig::from_json_text(text, "<text>"); });
            const auto path = path_or_text.cast<std::filesystem::path>();
            if (!std::filesystem::exists(path))
              throw py::value_error(concat(path.string(), ": no such config file"));
            return as_value_error([&] { return BitLlamaConfig::load(path); });
          },
          py::arg("path_or_text"),
          "A config from a config.json path (str or os.PathLike) or from JSON text (a string "
          "starting with '{'). Unknown keys are kept in extra_keys.")
      .def(
          "to_json", [](const BitLlamaConfig& self) { return self.to_json_text(); },
          "config.json text with every key written explicitly")
      .def(
          "to_dict", [](const BitLlamaConfig& self) { return json_loads(self.to_json_text()); },
          "a dict of every key (what config.json would hold)")
      .def(
          "save",
          [](const BitLlamaConfig& self, const std::filesystem::path& path) { self.save(path); },
          py::arg("path"), "writes config.json atomically")
      .def(
          "finalize",
          [](BitLlamaConfig& self) { as_value_error([&] { self.finalize("BitLlamaConfig"); }); },
          "fills intermediate_dim/ttt_dim defaults and checks every value (ValueError names the "
          "key)")
      .def_property_readonly("n_parameters", &BitLlamaConfig::n_parameters,
                             "number of model parameters")
      .def("same_shape", &BitLlamaConfig::same_shape, py::arg("other"),
           "True when both configs describe weights of the same shapes")
      .def("shape_string", &BitLlamaConfig::shape_string, "e.g. 'V=16384 D=256 N=8 I=1024 d=64'")
      .def("__eq__",
           [](const BitLlamaConfig& self, const BitLlamaConfig& other) {
             return self.to_json_text() == other.to_json_text();
           })
      .def("__copy__", [](const BitLlamaConfig& self) { return self; })
      .def("__deepcopy__", [](const BitLlamaConfig& self, py::dict) { return self; })
      .def("__repr__", [](const BitLlamaConfig& self) {
        return concat("BitLlamaConfig(", self.shape_string(), " inner_lr=", self.inner_lr,
                      " activation_quant=", activation_quant_name(self.activation_quant), ")");
      });
  config.attr("__hash__") = py::none();
}

}  // namespace bit_ttt::python
