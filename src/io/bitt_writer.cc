// write_bitt: validates everything, lays the tensors out at 64-byte aligned
// offsets, checksums them and the header, and writes through AtomicFileWriter.
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "bit_ttt/error.h"
#include "core/atomic_file.h"
#include "io/bitt.h"
#include "io/bitt_format.h"
#include "io/safetensors_format.h"

namespace bit_ttt {
namespace {

void check_utf8(const std::string& file, std::string_view what, const std::string& text) {
  if (safetensors::find_invalid_utf8(text)) fail(file, ": ", what, " is not valid UTF-8");
}

nlohmann::ordered_json parse_config(const std::string& file, const std::string& config_json) {
  nlohmann::ordered_json config;
  try {
    config = nlohmann::ordered_json::parse(config_json);
  } catch (const nlohmann::json::exception& error) {
    fail(file, ": config is not valid JSON: ", error.what());
  }
  if (!config.is_object()) fail(file, ": config must be a JSON object, got ", config.type_name());
  return config;
}

// Checks one tensor and returns its byte count.
uint64_t check_tensor(const std::string& file, const BittTensorToWrite& tensor) {
  const std::string& name = tensor.name;
  if (name.empty()) fail(file, ": cannot write a tensor with an empty name");
  check_utf8(file, "tensor name '" + name + "'", name);
  const std::string_view dtype = bitt_dtype_name(tensor.dtype);
  const std::optional<TernaryFormat> format = bitt_ternary_format(tensor.dtype);
  if (format && tensor.shape.size() != 2) {
    fail(file, ": tensor '", name, "': ", dtype, " needs a shape [n_out, n_in], got ",
         safetensors::shape_string(tensor.shape));
  }
  const std::optional<uint64_t> n_bytes = bitt_n_bytes(tensor.dtype, tensor.shape);
  if (!n_bytes) {
    fail(file, ": tensor '", name, "' has invalid shape ", safetensors::shape_string(tensor.shape),
         " (negative dimension or overflow)");
  }
  if (*n_bytes != tensor.bytes.size()) {
    fail(file, ": tensor '", name, "' has ", tensor.bytes.size(), " bytes, but ", dtype, " shape ",
         safetensors::shape_string(tensor.shape), " needs ", *n_bytes);
  }
  if (tensor.scale && !std::isfinite(*tensor.scale)) {
    fail(file, ": tensor '", name, "' has a scale that is not finite (", *tensor.scale, ")");
  }
  if (format) {
    const int64_t n_in = tensor.shape[1];
    const TernaryMatrixView view{*format, tensor.shape[0], n_in,
                                 ternary_row_stride_bytes(*format, n_in),
                                 reinterpret_cast<const uint8_t*>(tensor.bytes.data())};
    validate_packed_ternary(view, tensor.bytes.size(), file + ": tensor '" + name + "'");
  }
  return *n_bytes;
}

}  // namespace

void write_bitt(const std::filesystem::path& path, const BittContents& contents) {
  const std::string file = path.string();
  // ordered_json keeps the header in write order: the small keys and the tensor
  // table first, the big tokenizer text last, so `head -c` shows what matters.
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  header["format_version"] = bitt::kVersion;
  check_utf8(file, "fingerprint", contents.fingerprint);
  header["fingerprint"] = contents.fingerprint;
  nlohmann::ordered_json metadata = nlohmann::ordered_json::object();
  for (const auto& [key, value] : contents.metadata) {
    check_utf8(file, "metadata key '" + key + "'", key);
    check_utf8(file, "metadata value of '" + key + "'", value);
    metadata[key] = value;
  }

  std::set<std::string_view> names;
  std::vector<uint64_t> offsets;
  nlohmann::ordered_json tensors = nlohmann::ordered_json::array();
  uint64_t offset = 0;
  for (const BittTensorToWrite& tensor : contents.tensors) {
    const uint64_t n_bytes = check_tensor(file, tensor);
    if (!names.insert(tensor.name).second) {
      fail(file, ": duplicate tensor name '", tensor.name, "'");
    }
    offset = bitt::round_up(offset, bitt::kAlignment);
    nlohmann::ordered_json entry = {
        {"name", tensor.name},   {"dtype", bitt_dtype_name(tensor.dtype)},
        {"shape", tensor.shape}, {"offset", offset},
        {"n_bytes", n_bytes},    {"checksum", bitt::checksum_hex(bitt_checksum(tensor.bytes))}};
    // A float widened to double prints with enough digits to read back exactly.
    if (tensor.scale) entry["scale"] = static_cast<double>(*tensor.scale);
    tensors.push_back(std::move(entry));
    offsets.push_back(offset);
    offset += n_bytes;
  }
  const uint64_t n_data_bytes = offset;
  header["data_bytes"] = n_data_bytes;
  header["metadata"] = std::move(metadata);
  header["tensors"] = std::move(tensors);
  header["config"] = parse_config(file, contents.config_json);
  if (contents.tokenizer_json) {
    check_utf8(file, "tokenizer JSON", *contents.tokenizer_json);
    header["tokenizer"] = *contents.tokenizer_json;
  } else {
    header["tokenizer"] = nullptr;
  }

  std::string header_text = header.dump();
  // Trailing spaces are JSON whitespace; they put the data section on a 64-byte
  // boundary of the file (and so of the page-aligned mapping).
  header_text.resize(bitt::round_up(bitt::kPrefixBytes + header_text.size(), bitt::kAlignment) -
                         bitt::kPrefixBytes,
                     ' ');
  const uint64_t header_length = header_text.size();
  if (header_length > bitt::kMaxHeaderBytes) {
    fail(file, ": header would be ", header_length, " bytes, over the ", bitt::kMaxHeaderBytes,
         "-byte limit readers enforce");
  }
  const uint64_t header_checksum = bitt_checksum(std::as_bytes(std::span(header_text)));

  char prefix[bitt::kPrefixBytes];
  std::memcpy(prefix, bitt::kMagic.data(), 4);
  std::memcpy(prefix + 4, &bitt::kVersion, 4);  // little-endian host (static_assert)
  std::memcpy(prefix + 8, &header_length, 8);
  std::memcpy(prefix + 16, &header_checksum, 8);

  AtomicFileWriter writer(path);
  writer.write(prefix, sizeof(prefix));
  writer.write(header_text.data(), header_text.size());
  static constexpr char kZeros[bitt::kAlignment] = {};
  uint64_t position = 0;  // within the data section
  for (size_t i = 0; i < contents.tensors.size(); ++i) {
    writer.write(kZeros, static_cast<size_t>(offsets[i] - position));
    const std::span<const std::byte> bytes = contents.tensors[i].bytes;
    writer.write(bytes.data(), bytes.size());
    position = offsets[i] + bytes.size();
  }
  writer.commit();
}

}  // namespace bit_ttt
