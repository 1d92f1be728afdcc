// write_safetensors: validates, lays tensors out back to back, pads the header
// so the data section is 8-byte aligned, and writes through AtomicFileWriter.
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "bit_ttt/error.h"
#include "core/atomic_file.h"
#include "io/safetensors.h"
#include "io/safetensors_format.h"

namespace bit_ttt {
namespace {

void check_utf8(const std::string& file, std::string_view what, const std::string& text) {
  if (safetensors::find_invalid_utf8(text)) fail(file, ": ", what, " is not valid UTF-8");
}

}  // namespace

void write_safetensors(const std::filesystem::path& path,
                       std::span<const SafetensorsTensorToWrite> tensors,
                       const std::map<std::string, std::string>& metadata) {
  const std::string file = path.string();
  // ordered_json keeps the header in write order, which makes files easy to read.
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) {
    nlohmann::ordered_json& metadata_json = header[std::string(safetensors::kMetadataKey)];
    metadata_json = nlohmann::ordered_json::object();
    for (const auto& [key, value] : metadata) {
      check_utf8(file, "metadata key '" + key + "'", key);
      check_utf8(file, "metadata value of '" + key + "'", value);
      metadata_json[key] = value;
    }
  }

  std::set<std::string_view> names;
  uint64_t offset = 0;
  for (const SafetensorsTensorToWrite& tensor : tensors) {
    const std::string& name = tensor.name;
    if (name.empty()) fail(file, ": cannot write a tensor with an empty name");
    if (name == safetensors::kMetadataKey) {
      fail(file, ": '", name, "' is reserved and cannot be a tensor name");
    }
    check_utf8(file, "tensor name '" + name + "'", name);
    if (!names.insert(name).second) fail(file, ": duplicate tensor name '", name, "'");
    const std::optional<uint64_t> n_bytes =
        safetensors::checked_n_bytes(tensor.shape, dtype_size(tensor.dtype));
    if (!n_bytes) {
      fail(file, ": tensor '", name, "' has invalid shape ",
           safetensors::shape_string(tensor.shape), " (negative dimension or overflow)");
    }
    if (*n_bytes != tensor.bytes.size()) {
      fail(file, ": tensor '", name, "' has ", tensor.bytes.size(), " bytes, but ",
           dtype_name(tensor.dtype), " shape ", safetensors::shape_string(tensor.shape), " needs ",
           *n_bytes);
    }
    header[name] = {{"dtype", dtype_name(tensor.dtype)},
                    {"shape", tensor.shape},
                    {"data_offsets", {offset, offset + *n_bytes}}};
    offset += *n_bytes;
  }

  std::string header_text = header.dump();
  // Spaces after the JSON are allowed whitespace; they make 8 + length a multiple
  // of 8 so F32/I64 data in the mapping is aligned for zero-copy loads.
  const size_t padded = (header_text.size() + safetensors::kDataAlignment - 1) /
                        safetensors::kDataAlignment * safetensors::kDataAlignment;
  header_text.resize(padded, ' ');
  const uint64_t header_length = header_text.size();
  if (header_length > safetensors::kMaxHeaderBytes) {
    fail(file, ": header would be ", header_length, " bytes, over the ",
         safetensors::kMaxHeaderBytes, "-byte limit readers enforce");
  }

  AtomicFileWriter writer(path);
  writer.write(&header_length, sizeof(header_length));  // little-endian host (static_assert)
  writer.write(header_text.data(), header_text.size());
  for (const SafetensorsTensorToWrite& tensor : tensors) {
    writer.write(tensor.bytes.data(), tensor.bytes.size());
  }
  writer.commit();
}

}  // namespace bit_ttt
