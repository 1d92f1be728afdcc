// A Bit-TTT model in one .bitt file (docs/bitt-format.md): the spec's tensor
// names (MODEL_SPEC.md §2) with BitLinear weights already packed (ternary_i2 /
// ternary_tq1, β as the tensor's scale), norms in f32, the embedding and the LM
// head in f32 / f16 / bf16 / i8 (int8 rows carry "<name>.row_scales" f32 [V]).
// Loading is the mapping plus pointer setup: every weight is used in place.
#pragma once

#include <filesystem>
#include <vector>

#include "bit_ttt/model.h"
#include "io/bitt.h"
#include "model/weights.h"

namespace bit_ttt {

// True for a path ending in ".bitt" or a file starting with the BITT magic.
bool is_bitt_file(const std::filesystem::path& path);

// The config stored in the file, finalized (errors name the file).
BitLlamaConfig bitt_model_config(const BittFile& file);

// The storage type of a dense tensor in the file (f32 when absent or not dense:
// load_bitt_weights reports those), for planning GPU placement before loading.
DenseDType bitt_dense_dtype(const BittFile& file, std::string_view name);

// Checks every spec tensor's presence, dtype and shape; errors name the file and tensor.
ModelWeights load_bitt_weights(const BittFile& file, const BitLlamaConfig& config,
                               const std::vector<Device>& block_devices);

// The .bitt contents of loaded weights (on the CPU); views into `weights` and into
// `storage`, which must outlive the returned contents.
BittContents bitt_contents(const ModelWeights& weights, const ExportOptions& options,
                           std::vector<std::shared_ptr<const void>>& storage);

}  // namespace bit_ttt
