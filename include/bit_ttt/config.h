// Model configuration (config.json), MODEL_SPEC.md §1. Declared once and reused by
// the CLI, the library, serialisation and (later) the server and Python bindings.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace bit_ttt {

enum class ActivationQuant { none, int8 };

std::string_view activation_quant_name(ActivationQuant mode);
ActivationQuant parse_activation_quant(std::string_view name);  // "none" | "int8"

struct BitLlamaConfig {
  int64_t vocab_size = 0;        // V
  int64_t hidden_dim = 0;        // D
  int64_t num_layers = 0;        // N blocks
  float inner_lr = 0.0f;         // η of the TTT update
  int64_t intermediate_dim = 0;  // I (0 before defaults are applied: 4·D)
  int64_t ttt_dim = 0;           // d (0 before defaults are applied: D/4)
  float rms_norm_eps = 1e-5f;
  ActivationQuant activation_quant = ActivationQuant::none;
  std::optional<int64_t> n_gpu_layers;  // absent = auto
  std::optional<int64_t> bos_token_id;  // optional hints for generation
  std::optional<int64_t> eos_token_id;
  // Unknown keys, kept verbatim (serialised JSON values) and written back out.
  std::map<std::string, std::string> extra_keys;

  BitLlamaConfig() = default;
  // The seed's four-argument form; other keys take their spec defaults.
  BitLlamaConfig(int64_t vocab, int64_t hidden, int64_t layers, float lr);

  // Parses config.json text; `source` names the file in error messages.
  static BitLlamaConfig from_json_text(std::string_view json_text, const std::string& source);
  static BitLlamaConfig load(const std::filesystem::path& path);
  std::string to_json_text() const;                    // every key written explicitly
  void save(const std::filesystem::path& path) const;  // atomic

  // Fills intermediate_dim / ttt_dim defaults and checks every value (error names the key).
  void finalize(const std::string& source = "config");

  int64_t n_parameters() const;
  bool same_shape(const BitLlamaConfig& other) const;
  std::string shape_string() const;  // "V=16384 D=256 N=8 I=1024 d=64"
};

}  // namespace bit_ttt
