#include <cstring>

#include "bit_ttt/error.h"
#include "core/log.h"
#include "core/read_file.h"
#include "core/thread_pool.h"
#include "io/safetensors.h"
#include "model/bitt_model.h"
#include "model/model_impl.h"
#include "model/state_impl.h"

namespace bit_ttt {
namespace {

constexpr const char* kStateFormat = "bit-ttt-state";
constexpr const char* kStateVersion = "1";

std::string state_tensor_name(int64_t layer) {
  return concat("layers.", layer, ".ttt.state");
}

void apply_thread_option(int n_threads) {
  if (n_threads > 0) set_default_thread_count(n_threads);
}

PlacementRequest placement_request(const LoadOptions& options) {
  PlacementRequest request;
  request.device = parse_device(options.device);
  request.n_gpu_layers = options.n_gpu_layers;
  request.gpu_mem_limit = options.gpu_mem_limit;
  return request;
}

}  // namespace

BitLlama::BitLlama(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BitLlama::BitLlama(BitLlama&&) noexcept = default;
BitLlama& BitLlama::operator=(BitLlama&&) noexcept = default;
BitLlama::~BitLlama() = default;

BitLlama BitLlama::load(const std::filesystem::path& path, const LoadOptions& options) {
  if (is_bitt_file(path)) {
    apply_thread_option(options.n_threads);
    const BittFile file = BittFile::open(path);
    if (options.verify) file.verify();
    const BitLlamaConfig config = bitt_model_config(file);
    PlacementRequest placement = placement_request(options);
    placement.embed_dtype = bitt_dense_dtype(file, "embed.weight");
    placement.head_dtype = bitt_dense_dtype(file, "lm_head.weight");
    auto impl = std::make_unique<Impl>();
    impl->weights = load_bitt_weights(file, config, plan_block_devices(config, placement));
    return BitLlama(std::move(impl));
  }
  const ModelFiles files = resolve_model_files(path);
  return load(BitLlamaConfig::load(files.config), files.weights, options);
}

BitLlama BitLlama::load(const BitLlamaConfig& config, const std::filesystem::path& weights_path,
                        const LoadOptions& options) {
  if (is_bitt_file(weights_path))
    fail(weights_path.string(), ": a .bitt file carries its own config; load it by path alone");
  apply_thread_option(options.n_threads);
  BitLlamaConfig checked = config;
  checked.finalize(weights_path.string());
  auto impl = std::make_unique<Impl>();
  impl->weights = load_model_weights(checked, weights_path,
                                     plan_block_devices(checked, placement_request(options)));
  return BitLlama(std::move(impl));
}

const BitLlamaConfig& BitLlama::config() const {
  return impl_->weights.config;
}
const std::string& BitLlama::fingerprint() const {
  return impl_->weights.fingerprint;
}

int64_t BitLlama::weight_bytes() const {
  const ModelWeights& w = impl_->weights;
  int64_t bytes = w.embed.n_bytes() + w.norm_f.n_bytes() + w.lm_head.n_bytes();
  for (const BlockWeights& block : w.blocks) {
    bytes += block.norm1.n_bytes() + block.norm2.n_bytes();
    for (const TernaryWeight* t :
         {&block.ttt_down, &block.ttt_up, &block.gate_proj, &block.up_proj, &block.down_proj})
      bytes += t->packed.n_out * t->packed.row_stride_bytes;
  }
  return bytes;
}

std::string BitLlama::format_summary() const {
  const ModelWeights& w = impl_->weights;
  const std::string ternary =
      w.blocks.empty() ? "none"
                       : std::string(ternary_format_name(w.blocks[0].ttt_down.packed.format));
  return concat("ternary ", ternary, ", embed ", dense_dtype_name(w.embed.matrix.dtype), ", head ",
                dense_dtype_name(w.lm_head.matrix.dtype));
}

std::string BitLlama::placement_summary() const {
  const ModelWeights& w = impl_->weights;
  std::string text = "embed:" + device_name(w.embed_backend->device());
  size_t begin = 0;
  for (size_t i = 1; i <= w.blocks.size(); ++i) {
    if (i == w.blocks.size() || w.blocks[i].backend != w.blocks[begin].backend) {
      text += concat(" blocks ", begin, "-", i - 1, ":",
                     device_name(w.blocks[begin].backend->device()));
      begin = i;
    }
  }
  return text + " head:" + device_name(w.head_backend->device());
}

TttState BitLlama::new_state() const {
  const ModelWeights& w = impl_->weights;
  TttState state;
  TttState::Impl& s = state.impl();
  s.n_layers = w.config.num_layers;
  s.ttt_dim = w.config.ttt_dim;
  s.model_fingerprint = w.fingerprint;
  for (const BlockWeights& block : w.blocks) {
    s.backends.push_back(block.backend);
    s.layers.push_back(block.backend->empty(DType::f32, {w.config.ttt_dim, w.config.ttt_dim}));
  }
  return state;
}

void BitLlama::forward(std::span<const int32_t> tokens, TttState& state, std::span<float> logits,
                       LogitsMode mode) const {
  forward_tokens(impl_->weights, tokens, state, logits, mode);
}

std::vector<float> BitLlama::forward(std::span<const int32_t> tokens, TttState& state,
                                     LogitsMode mode) const {
  const size_t rows = mode == LogitsMode::all ? tokens.size() : (tokens.empty() ? 0 : 1);
  std::vector<float> logits(rows * static_cast<size_t>(config().vocab_size));
  forward(tokens, state, logits, mode);
  return logits;
}

void BitLlama::save_state(const TttState& state, const std::filesystem::path& path) const {
  const BitLlamaConfig& c = config();
  if (state.n_layers() != c.num_layers || state.ttt_dim() != c.ttt_dim)
    fail("cannot save a state of ", state.n_layers(), " layers x ", state.ttt_dim(),
         " for a model with ", c.num_layers, " layers x ", c.ttt_dim);
  std::vector<std::vector<float>> host_layers;
  std::vector<SafetensorsTensorToWrite> tensors;
  for (int64_t i = 0; i < c.num_layers; ++i) host_layers.push_back(state.layer_to_host(i));
  for (int64_t i = 0; i < c.num_layers; ++i) {
    const auto& values = host_layers[static_cast<size_t>(i)];
    tensors.push_back({state_tensor_name(i),
                       DType::f32,
                       {c.ttt_dim, c.ttt_dim},
                       std::as_bytes(std::span<const float>(values))});
  }
  const std::map<std::string, std::string> metadata = {
      {"format", kStateFormat},
      {"version", kStateVersion},
      {"n_tokens", std::to_string(state.n_tokens())},
      {"model_shape", c.shape_string()},
      {"model_fingerprint", fingerprint()},
      {"num_layers", std::to_string(c.num_layers)},
      {"ttt_dim", std::to_string(c.ttt_dim)},
  };
  write_safetensors(path, tensors, metadata);
}

TttState BitLlama::load_state(const std::filesystem::path& path) const {
  const BitLlamaConfig& c = config();
  const SafetensorsReader reader = SafetensorsReader::open(path);
  const auto& metadata = reader.metadata();
  auto meta = [&](const char* key) -> const std::string& {
    auto it = metadata.find(key);
    if (it == metadata.end())
      fail(path.string(), ": not a Bit-TTT state file (metadata key '", key, "' missing)");
    return it->second;
  };
  if (meta("format") != kStateFormat)
    fail(path.string(), ": not a Bit-TTT state file (format '", meta("format"), "')");
  if (meta("version") != kStateVersion)
    fail(path.string(), ": unsupported state file version ", meta("version"), " (this build reads ",
         kStateVersion, ")");
  if (meta("model_shape") != c.shape_string())
    fail(path.string(), ": state belongs to a model of shape ", meta("model_shape"),
         ", but the loaded model is ", c.shape_string());
  if (meta("model_fingerprint") != fingerprint())
    log_warning(path.string(), ": state was saved from different weights of the same shape (",
                meta("model_fingerprint"), " vs ", fingerprint(), "); continuing");
  int64_t n_tokens = 0;
  try {
    size_t used = 0;
    n_tokens = std::stoll(meta("n_tokens"), &used);
    if (used != meta("n_tokens").size() || n_tokens < 0) throw std::invalid_argument("");
  } catch (const std::exception&) {
    fail(path.string(), ": metadata n_tokens '", meta("n_tokens"), "' is not a token count");
  }
  TttState state = new_state();
  const std::vector<int64_t> shape = {c.ttt_dim, c.ttt_dim};
  for (int64_t i = 0; i < c.num_layers; ++i) {
    const F32Data values = reader.load_f32(state_tensor_name(i), shape);
    state.layer_from_host(i, std::span<const float>(values.data, values.count));
  }
  state.impl().n_tokens = n_tokens;
  return state;
}

void export_bitt(const std::filesystem::path& model_path, const std::filesystem::path& out,
                 const ExportOptions& options) {
  if (std::filesystem::exists(out) && std::filesystem::equivalent(model_path, out))
    fail(out.string(), ": export would overwrite its own source");
  const BitLlama model = BitLlama::load(model_path);
  std::vector<std::shared_ptr<const void>> storage;
  BittContents contents = bitt_contents(model.impl().weights, options, storage);
  if (is_bitt_file(model_path)) {
    contents.tokenizer_json = BittFile::open(model_path).tokenizer_json();
  } else {
    const std::filesystem::path directory =
        std::filesystem::is_directory(model_path) ? model_path : model_path.parent_path();
    const std::filesystem::path tokenizer = directory / "tokenizer.json";
    if (std::filesystem::exists(tokenizer))
      contents.tokenizer_json = read_file_to_string(tokenizer);
  }
  write_bitt(out, contents);
}

}  // namespace bit_ttt
