#include "bit_ttt/config.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "bit_ttt/error.h"
#include "core/atomic_file.h"
#include "core/read_file.h"

namespace bit_ttt {
namespace {

using Json = nlohmann::json;

// Each spec key with its accepted aliases (first name is the canonical one).
struct KeyAliases {
  const char* canonical;
  std::initializer_list<const char*> aliases;
};
const KeyAliases kKnownKeys[] = {
    {"vocab_size", {}},
    {"hidden_dim", {"hidden_size"}},
    {"num_layers", {"num_hidden_layers", "n_layers"}},
    {"inner_lr", {}},
    {"intermediate_dim", {"intermediate_size"}},
    {"ttt_dim", {}},
    {"rms_norm_eps", {}},
    {"activation_quant", {}},
    {"n_gpu_layers", {}},
    {"bos_token_id", {}},
    {"eos_token_id", {}},
};

// Looks up a key and its aliases; if several are present they must agree.
const Json* find_key(const Json& root, const KeyAliases& key, const std::string& source) {
  const Json* found = nullptr;
  const char* found_name = nullptr;
  auto consider = [&](const char* name) {
    auto it = root.find(name);
    if (it == root.end()) return;
    if (found && *found != *it)
      fail(source, ": keys '", found_name, "' (", found->dump(), ") and '", name, "' (", it->dump(),
           ") are aliases but disagree");
    if (!found) {
      found = &*it;
      found_name = name;
    }
  };
  consider(key.canonical);
  for (const char* alias : key.aliases) consider(alias);
  return found;
}

int64_t read_integer(const Json& value, const char* key, const std::string& source) {
  if (value.is_number_integer()) return value.get<int64_t>();
  if (value.is_number_float()) {
    const double number = value.get<double>();
    if (std::isfinite(number) && number == std::floor(number) && std::fabs(number) < 9e15)
      return static_cast<int64_t>(number);
  }
  fail(source, ": key '", key, "' must be an integer, got ", value.dump());
}

float read_float(const Json& value, const char* key, const std::string& source) {
  if (!value.is_number()) fail(source, ": key '", key, "' must be a number, got ", value.dump());
  return value.get<float>();
}

}  // namespace

std::string_view activation_quant_name(ActivationQuant mode) {
  return mode == ActivationQuant::int8 ? "int8" : "none";
}

ActivationQuant parse_activation_quant(std::string_view name) {
  if (name == "none") return ActivationQuant::none;
  if (name == "int8") return ActivationQuant::int8;
  fail("activation_quant must be \"none\" or \"int8\", got \"", name, "\"");
}

BitLlamaConfig::BitLlamaConfig(int64_t vocab, int64_t hidden, int64_t layers, float lr)
    : vocab_size(vocab), hidden_dim(hidden), num_layers(layers), inner_lr(lr) {
  finalize();
}

BitLlamaConfig BitLlamaConfig::from_json_text(std::string_view json_text,
                                              const std::string& source) {
  Json root;
  try {
    root = Json::parse(json_text);
  } catch (const Json::parse_error& error) {
    fail(source, ": invalid JSON: ", error.what());
  }
  if (!root.is_object()) fail(source, ": expected a JSON object, got ", root.type_name());

  BitLlamaConfig config;
  auto required = [&](const KeyAliases& key) -> const Json& {
    const Json* value = find_key(root, key, source);
    if (!value) fail(source, ": missing required key '", key.canonical, "'");
    return *value;
  };
  config.vocab_size = read_integer(required(kKnownKeys[0]), "vocab_size", source);
  config.hidden_dim = read_integer(required(kKnownKeys[1]), "hidden_dim", source);
  config.num_layers = read_integer(required(kKnownKeys[2]), "num_layers", source);
  config.inner_lr = read_float(required(kKnownKeys[3]), "inner_lr", source);
  // 0 means "default" inside the struct, so an explicit non-positive value is
  // rejected here rather than silently replaced by the default.
  auto optional_size = [&](const KeyAliases& key, int64_t& field) {
    const Json* v = find_key(root, key, source);
    if (!v || v->is_null()) return;
    field = read_integer(*v, key.canonical, source);
    if (field <= 0) fail(source, ": key '", key.canonical, "' must be positive, got ", field);
  };
  optional_size(kKnownKeys[4], config.intermediate_dim);
  optional_size(kKnownKeys[5], config.ttt_dim);
  if (const Json* v = find_key(root, kKnownKeys[6], source); v && !v->is_null())
    config.rms_norm_eps = read_float(*v, "rms_norm_eps", source);
  if (const Json* v = find_key(root, kKnownKeys[7], source); v && !v->is_null()) {
    if (!v->is_string()) fail(source, ": key 'activation_quant' must be a string, got ", v->dump());
    const std::string name = v->get<std::string>();
    if (name != "none" && name != "int8")
      fail(source, ": key 'activation_quant' must be \"none\" or \"int8\", got \"", name, "\"");
    config.activation_quant = parse_activation_quant(name);
  }
  if (const Json* v = find_key(root, kKnownKeys[8], source); v && !v->is_null()) {
    if (!(v->is_string() && v->get<std::string>() == "auto"))
      config.n_gpu_layers = read_integer(*v, "n_gpu_layers", source);
  }
  if (const Json* v = find_key(root, kKnownKeys[9], source); v && !v->is_null())
    config.bos_token_id = read_integer(*v, "bos_token_id", source);
  if (const Json* v = find_key(root, kKnownKeys[10], source); v && !v->is_null())
    config.eos_token_id = read_integer(*v, "eos_token_id", source);

  for (const auto& [name, value] : root.items()) {
    bool known = false;
    for (const KeyAliases& key : kKnownKeys) {
      if (name == key.canonical) known = true;
      for (const char* alias : key.aliases) known = known || name == alias;
    }
    if (!known) config.extra_keys[name] = value.dump();
  }
  config.finalize(source);
  return config;
}

BitLlamaConfig BitLlamaConfig::load(const std::filesystem::path& path) {
  return from_json_text(read_file_to_string(path), path.string());
}

void BitLlamaConfig::finalize(const std::string& source) {
  auto positive = [&](int64_t value, const char* key) {
    if (value <= 0) fail(source, ": key '", key, "' must be positive, got ", value);
  };
  positive(vocab_size, "vocab_size");
  positive(hidden_dim, "hidden_dim");
  positive(num_layers, "num_layers");
  if (!(inner_lr > 0.0f) || !std::isfinite(inner_lr))
    fail(source, ": key 'inner_lr' must be a positive number, got ", inner_lr);
  if (intermediate_dim == 0) intermediate_dim = 4 * hidden_dim;
  positive(intermediate_dim, "intermediate_dim");
  if (ttt_dim == 0) {
    if (hidden_dim % 4 != 0)
      fail(source, ": key 'hidden_dim' (", hidden_dim,
           ") must be divisible by 4 when 'ttt_dim' is absent (ttt_dim defaults to hidden_dim/4)");
    ttt_dim = hidden_dim / 4;
  }
  positive(ttt_dim, "ttt_dim");
  if (!(rms_norm_eps > 0.0f) || !std::isfinite(rms_norm_eps))
    fail(source, ": key 'rms_norm_eps' must be a positive number, got ", rms_norm_eps);
  if (n_gpu_layers && (*n_gpu_layers < 0 || *n_gpu_layers > num_layers))
    fail(source, ": key 'n_gpu_layers' must be in [0, num_layers=", num_layers, "], got ",
         *n_gpu_layers);
  // Guard products used for allocation against overflow (and absurd sizes).
  const int64_t kMaxDim = int64_t{1} << 24;
  if (vocab_size > kMaxDim || hidden_dim > kMaxDim || intermediate_dim > kMaxDim ||
      ttt_dim > kMaxDim || num_layers > 65536)
    fail(source, ": model dimensions are implausibly large (", shape_string(), ")");
  if (bos_token_id && (*bos_token_id < 0 || *bos_token_id >= vocab_size))
    fail(source, ": key 'bos_token_id' (", *bos_token_id, ") is outside [0, vocab_size)");
  if (eos_token_id && (*eos_token_id < 0 || *eos_token_id >= vocab_size))
    fail(source, ": key 'eos_token_id' (", *eos_token_id, ") is outside [0, vocab_size)");
}

std::string BitLlamaConfig::to_json_text() const {
  Json root = Json::object();
  for (const auto& [name, value] : extra_keys) root[name] = Json::parse(value);
  root["vocab_size"] = vocab_size;
  root["hidden_dim"] = hidden_dim;
  root["num_layers"] = num_layers;
  root["inner_lr"] = inner_lr;
  root["intermediate_dim"] = intermediate_dim;
  root["ttt_dim"] = ttt_dim;
  root["rms_norm_eps"] = rms_norm_eps;
  root["activation_quant"] = std::string(activation_quant_name(activation_quant));
  if (n_gpu_layers) root["n_gpu_layers"] = *n_gpu_layers;
  if (bos_token_id) root["bos_token_id"] = *bos_token_id;
  if (eos_token_id) root["eos_token_id"] = *eos_token_id;
  return root.dump(2) + "\n";
}

void BitLlamaConfig::save(const std::filesystem::path& path) const {
  write_file_atomically(path, to_json_text());
}

int64_t BitLlamaConfig::n_parameters() const {
  const int64_t per_block =
      2 * hidden_dim + 2 * ttt_dim * hidden_dim + 3 * intermediate_dim * hidden_dim;
  return 2 * vocab_size * hidden_dim + num_layers * per_block + hidden_dim;
}

bool BitLlamaConfig::same_shape(const BitLlamaConfig& other) const {
  return vocab_size == other.vocab_size && hidden_dim == other.hidden_dim &&
         num_layers == other.num_layers && intermediate_dim == other.intermediate_dim &&
         ttt_dim == other.ttt_dim;
}

std::string BitLlamaConfig::shape_string() const {
  return concat("V=", vocab_size, " D=", hidden_dim, " N=", num_layers, " I=", intermediate_dim,
                " d=", ttt_dim);
}

}  // namespace bit_ttt
