// BitLlama: the weights of a Bit-TTT model plus its forward pass (MODEL_SPEC.md
// §3), and TttState: the model's context memory (§5). A state is separate from
// the model so one loaded model can serve many independent sequences.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "bit_ttt/config.h"

namespace bit_ttt {

// LoadOptions::n_gpu_layers value that asks for the automatic plan even when
// config.json names a count, and runs on the CPU (with a warning) when there is
// no usable GPU. Without any count, device "cuda" plans too but fails without a GPU.
inline constexpr int64_t kAutoGpuLayers = -1;

struct LoadOptions {
  std::string device = "cpu";            // "cpu" | "cuda"
  std::optional<int64_t> n_gpu_layers;   // blocks 0..n-1 on the GPU; overrides config.json;
                                         // absent in both, or kAutoGpuLayers: planned
                                         // from free GPU memory
  std::optional<int64_t> gpu_mem_limit;  // bytes the automatic plan may use (a smaller card)
  int n_threads = 0;                     // CPU threads; 0 = every core
  bool verify = false;  // .bitt: check every tensor's checksum before use (reads the file)
};

// How export_bitt stores the weights (docs/bitt-format.md).
struct ExportOptions {
  std::string ternary = "2bit";  // "2bit" (i2: fastest kernels) | "1.6bit" (tq1: smallest file)
  std::string head = "f16";      // LM head: "f32" | "f16" | "bf16" | "int8" (per-row scales)
  std::string embed = "f16";     // embedding table: same choices
};

// Writes the model at `model_path` (a directory, a .safetensors file with
// config.json beside it, or a .bitt file) as one .bitt file, with the directory's
// tokenizer.json when there is one. Atomic (temp file, fsync, rename).
void export_bitt(const std::filesystem::path& model_path, const std::filesystem::path& out,
                 const ExportOptions& options = {});

// The TTT memory of every layer (N states of d×d floats) and how many tokens it
// has absorbed. Copying a state copies the memory (a fork of the conversation).
class TttState {
 public:
  TttState();
  ~TttState();
  TttState(const TttState& other);
  TttState& operator=(const TttState& other);
  TttState(TttState&&) noexcept;
  TttState& operator=(TttState&&) noexcept;

  int64_t n_layers() const;
  int64_t ttt_dim() const;
  int64_t n_tokens() const;
  void reset();  // back to S_0 = 0, n_tokens = 0

  // Host copies of one layer's d×d state (row-major), for inspection and tests.
  std::vector<float> layer_to_host(int64_t layer) const;
  void layer_from_host(int64_t layer, std::span<const float> values);

  struct Impl;
  Impl& impl() { return *impl_; }
  const Impl& impl() const { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

enum class LogitsMode { all, last };

class BitLlama {
 public:
  // A model directory (config.json + model.safetensors) or a .safetensors file
  // with config.json next to it.
  static BitLlama load(const std::filesystem::path& path, const LoadOptions& options = {});
  // Explicit config and weights file (the seed's Python form).
  static BitLlama load(const BitLlamaConfig& config, const std::filesystem::path& weights_path,
                       const LoadOptions& options = {});

  BitLlama(BitLlama&&) noexcept;
  BitLlama& operator=(BitLlama&&) noexcept;
  ~BitLlama();

  const BitLlamaConfig& config() const;
  // Stable identity of the weights (shape + content hash) stored in state files.
  const std::string& fingerprint() const;
  // Where each block lives, e.g. "embed:cpu blocks 0-7:cpu head:cpu".
  std::string placement_summary() const;
  // Bytes the weights occupy in memory (packed ternary, embedding, norms, head).
  int64_t weight_bytes() const;
  // How the weights are stored, e.g. "ternary i2, embed f16, head int8".
  std::string format_summary() const;

  TttState new_state() const;

  // Feeds tokens after whatever `state` has absorbed, updating it. Writes [T, V]
  // logits (LogitsMode::all) or the last position's [V] (LogitsMode::last) into
  // `logits`, which must have room for that many floats.
  void forward(std::span<const int32_t> tokens, TttState& state, std::span<float> logits,
               LogitsMode mode = LogitsMode::all) const;
  std::vector<float> forward(std::span<const int32_t> tokens, TttState& state,
                             LogitsMode mode = LogitsMode::all) const;

  // State files (safetensors, §5). Loading a state of another model shape fails.
  void save_state(const TttState& state, const std::filesystem::path& path) const;
  TttState load_state(const std::filesystem::path& path) const;

  struct Impl;
  const Impl& impl() const { return *impl_; }

 private:
  explicit BitLlama(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Writes a model directory with random weights per the spec's init (normal, std 0.02;
// RMSNorm weights 1): config.json + model.safetensors. Deterministic per seed.
void write_random_model(const BitLlamaConfig& config, uint64_t seed,
                        const std::filesystem::path& directory);

}  // namespace bit_ttt
