// SafetensorsReader: validates the whole header up front (see docs/formats.md)
// so that tensors() can hand out raw pointers into the mapping.
#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>

#include "bit_ttt/error.h"
#include "core/check.h"
#include "core/mmap_file.h"
#include "io/header_checks.h"
#include "io/safetensors.h"
#include "io/safetensors_format.h"
#include "io/strict_json.h"

namespace bit_ttt {
namespace {

using nlohmann::json;
using safetensors::shape_string;

// Names from the safetensors spec that DType does not represent (sub-byte and
// complex types): recognised so the error says "unsupported", not "unknown".
constexpr std::array<std::string_view, 6> kUnsupportedDTypeNames = {
    "F4", "F6_E2M3", "F6_E3M2", "F8_E4M3FNUZ", "F8_E5M2FNUZ", "C64"};

// Everything one header entry says, before the data pointer is attached.
struct Entry {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  uint64_t begin;
  uint64_t end;
};

// A valid header nests 3 deep (root, entry, shape). The limit keeps a hostile
// header like [[[[... from costing a DOM node plus a key set per input byte.
constexpr int kMaxJsonDepth = 16;

// Parses the header JSON, rejecting duplicate keys at any depth: nlohmann keeps
// the last value of a repeated key, so "w" listed twice would silently pick one
// of two tensors.
json parse_header_json(const std::string& file, std::string_view text) {
  StrictJson<json> header =
      parse_strict_json<json>(file, text, kMaxJsonDepth, " (a safetensors header needs 3)");
  if (header.duplicate_key) {
    if (header.duplicate_key_depth == 1 && *header.duplicate_key != safetensors::kMetadataKey)
      fail(file, ": duplicate tensor name '", *header.duplicate_key, "'");
    fail(file, ": duplicate key '", *header.duplicate_key, "' in header JSON");
  }
  return std::move(header.value);
}

// A non-negative JSON integer, or an error naming `what`.
uint64_t get_unsigned(const std::string& file, const std::string& what, const json& value) {
  if (value.is_number_unsigned()) return value.get<uint64_t>();
  if (value.is_number_integer()) {
    const auto signed_value = value.get<int64_t>();
    if (signed_value >= 0) return static_cast<uint64_t>(signed_value);  // "-0"
    fail(file, ": ", what, " is negative (", signed_value, ")");
  }
  fail(file, ": ", what, " must be an integer, got ", value.type_name(), " ", value.dump());
}

const json& get_field(const std::string& file, const std::string& tensor_name, const json& entry,
                      const char* field) {
  const auto it = entry.find(field);
  if (it == entry.end()) fail(file, ": tensor '", tensor_name, "' has no \"", field, "\"");
  return *it;
}

DType parse_dtype(const std::string& file, const std::string& name, const json& value) {
  if (!value.is_string()) {
    fail(file, ": tensor '", name, "': \"dtype\" must be a string, got ", value.type_name());
  }
  const auto& text = value.get_ref<const std::string&>();
  if (const std::optional<DType> dtype = dtype_from_name(text)) return *dtype;
  if (std::find(kUnsupportedDTypeNames.begin(), kUnsupportedDTypeNames.end(), text) !=
      kUnsupportedDTypeNames.end()) {
    fail(file, ": unsupported dtype ", text, " for tensor '", name, "'");
  }
  fail(file, ": unknown dtype '", text, "' for tensor '", name, "'");
}

std::vector<int64_t> parse_shape(const std::string& file, const std::string& name,
                                 const json& value) {
  if (!value.is_array()) {
    fail(file, ": tensor '", name, "': \"shape\" must be an array, got ", value.type_name());
  }
  std::vector<int64_t> shape;
  shape.reserve(value.size());
  for (size_t axis = 0; axis < value.size(); ++axis) {
    const std::string what = "tensor '" + name + "': shape[" + std::to_string(axis) + "]";
    const uint64_t dim = get_unsigned(file, what, value[axis]);
    if (dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      fail(file, ": ", what, " = ", dim, " is too large");
    }
    shape.push_back(static_cast<int64_t>(dim));
  }
  return shape;
}

Entry parse_entry(const std::string& file, const std::string& name, const json& entry,
                  uint64_t n_data_bytes) {
  if (name.empty()) fail(file, ": empty tensor name in header");
  if (!entry.is_object()) {
    fail(file, ": tensor '", name, "': entry must be a JSON object, got ", entry.type_name());
  }
  Entry result{name, parse_dtype(file, name, get_field(file, name, entry, "dtype")),
               parse_shape(file, name, get_field(file, name, entry, "shape")), 0, 0};

  const json& offsets = get_field(file, name, entry, "data_offsets");
  if (!offsets.is_array() || offsets.size() != 2) {
    fail(file, ": tensor '", name, "': data_offsets must be [begin, end], got ", offsets.dump());
  }
  result.begin = get_unsigned(file, "tensor '" + name + "': data_offsets[0]", offsets[0]);
  result.end = get_unsigned(file, "tensor '" + name + "': data_offsets[1]", offsets[1]);
  if (result.begin > result.end) {
    fail(file, ": tensor '", name, "': data_offsets begin ", result.begin, " > end ", result.end);
  }
  if (result.end > n_data_bytes) {
    fail(file, ": tensor '", name, "': data_offsets [", result.begin, ", ", result.end,
         "] go beyond the data section (", n_data_bytes, " bytes)");
  }

  const std::optional<uint64_t> n_bytes =
      safetensors::checked_n_bytes(result.shape, dtype_size(result.dtype));
  if (!n_bytes) {
    fail(file, ": tensor '", name, "': shape ", shape_string(result.shape),
         " overflows the element count");
  }
  if (*n_bytes != result.end - result.begin) {
    fail(file, ": tensor '", name, "': ", dtype_name(result.dtype), " shape ",
         shape_string(result.shape), " needs ", *n_bytes, " bytes but data_offsets span ",
         result.end - result.begin);
  }
  return result;
}

}  // namespace

SafetensorsReader SafetensorsReader::open(const std::filesystem::path& path) {
  std::shared_ptr<const MappedFile> mapping = MappedFile::open(path);
  const std::span<const std::byte> bytes(mapping->data(), mapping->size());
  return from_memory(path, bytes, std::move(mapping));
}

SafetensorsReader SafetensorsReader::from_memory(std::filesystem::path path,
                                                 std::span<const std::byte> bytes,
                                                 std::shared_ptr<const void> owner) {
  const std::string file = path.string();
  if (bytes.size() < safetensors::kLengthPrefixBytes) {
    fail(file, ": file is ", bytes.size(),
         " bytes, too short for the 8-byte header length of a safetensors file");
  }
  uint64_t header_length;
  std::memcpy(&header_length, bytes.data(), sizeof(header_length));
  const uint64_t n_after_prefix = bytes.size() - safetensors::kLengthPrefixBytes;
  if (header_length > safetensors::kMaxHeaderBytes) {
    fail(file, ": header length ", header_length, " exceeds the limit of ",
         safetensors::kMaxHeaderBytes, " bytes");
  }
  if (header_length > n_after_prefix) {
    fail(file, ": header length ", header_length, " is larger than the rest of the file (",
         n_after_prefix, " bytes)");
  }
  const std::string_view header_text(
      reinterpret_cast<const char*>(bytes.data()) + safetensors::kLengthPrefixBytes,
      static_cast<size_t>(header_length));
  if (header_text.empty()) fail(file, ": header is empty (length 0)");
  if (const std::optional<size_t> bad = safetensors::find_invalid_utf8(header_text)) {
    fail(file, ": header is not valid UTF-8 (bad byte at header offset ", *bad, ")");
  }
  const json header = parse_header_json(file, header_text);
  if (!header.is_object()) fail(file, ": header is not a JSON object, got ", header.type_name());

  const size_t data_start = safetensors::kLengthPrefixBytes + static_cast<size_t>(header_length);
  const uint64_t n_data_bytes = bytes.size() - data_start;

  SafetensorsReader reader;
  std::vector<Entry> entries;
  entries.reserve(header.size());
  for (const auto& [key, value] : header.items()) {
    if (key == safetensors::kMetadataKey) {
      reader.metadata_ = parse_string_map(file, value, "__metadata__");
    } else {
      entries.push_back(parse_entry(file, key, value, n_data_bytes));
    }
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return std::tie(a.begin, a.end, a.name) < std::tie(b.begin, b.end, b.name);
  });
  std::vector<NamedByteRange> ranges;
  for (const Entry& entry : entries) ranges.push_back({entry.name, entry.begin, entry.end});
  check_no_overlap(file, std::move(ranges));

  reader.path_ = std::move(path);
  reader.owner_ = std::move(owner);
  reader.tensors_.reserve(entries.size());
  for (Entry& entry : entries) {
    BT_CHECK(entry.end <= n_data_bytes);
    const size_t index = reader.tensors_.size();
    reader.tensors_.push_back({std::move(entry.name), entry.dtype, std::move(entry.shape),
                               bytes.data() + data_start + entry.begin,
                               static_cast<size_t>(entry.end - entry.begin)});
    // Unique: the JSON parser already rejected repeated keys.
    BT_CHECK(reader.index_by_name_.emplace(reader.tensors_.back().name, index).second);
  }
  return reader;
}

const SafetensorsTensor* SafetensorsReader::find(std::string_view name) const {
  const auto it = index_by_name_.find(name);
  return it == index_by_name_.end() ? nullptr : &tensors_[it->second];
}

const SafetensorsTensor& SafetensorsReader::get(std::string_view name) const {
  const SafetensorsTensor* tensor = find(name);
  if (tensor == nullptr) fail(path_.string(), ": missing tensor '", name, "'");
  return *tensor;
}

F32Data SafetensorsReader::load_f32(std::string_view name,
                                    std::span<const int64_t> expected_shape) const {
  const SafetensorsTensor& tensor = get(name);
  if (!std::equal(tensor.shape.begin(), tensor.shape.end(), expected_shape.begin(),
                  expected_shape.end())) {
    fail(path_.string(), ": tensor '", name, "' has shape ", shape_string(tensor.shape),
         ", expected ", shape_string(expected_shape));
  }
  const size_t count = tensor.n_bytes / dtype_size(tensor.dtype);
  if (tensor.dtype == DType::f32 &&
      reinterpret_cast<uintptr_t>(tensor.data) % alignof(float) == 0) {
    return {reinterpret_cast<const float*>(tensor.data), count, owner_};
  }
  if (tensor.dtype != DType::f32 && tensor.dtype != DType::f16 && tensor.dtype != DType::bf16) {
    fail(path_.string(), ": tensor '", name, "' has dtype ", dtype_name(tensor.dtype),
         ", but load_f32 reads only F32, F16 or BF16");
  }
  std::shared_ptr<float[]> values(new float[count]);
  // memcpy per element: the stored bytes need not be aligned for their type.
  if (tensor.dtype == DType::f32) {
    std::memcpy(values.get(), tensor.data, tensor.n_bytes);
  } else {
    const bool is_f16 = tensor.dtype == DType::f16;
    for (size_t i = 0; i < count; ++i) {
      uint16_t bits;
      std::memcpy(&bits, tensor.data + 2 * i, sizeof(bits));
      values[i] = is_f16 ? f16_to_f32(bits) : bf16_to_f32(bits);
    }
  }
  const float* data = values.get();
  return {data, count, std::move(values)};
}

}  // namespace bit_ttt
