// BittFile: validates the prefix and the whole header up front (see
// docs/bitt-format.md) so tensors() can hand out spans into the mapping. The
// data itself is only read by verify().
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "bit_ttt/error.h"
#include "core/check.h"
#include "core/mmap_file.h"
#include "io/bitt.h"
#include "io/bitt_format.h"
#include "io/header_checks.h"
#include "io/safetensors_format.h"
#include "io/strict_json.h"

namespace bit_ttt {
namespace {

// ordered: config_json() keeps the key order the writer used.
using json = nlohmann::ordered_json;
using safetensors::shape_string;

// Parses the header JSON, rejecting repeated keys in any object: nlohmann keeps
// the last value, so two "config" keys would silently pick one.
json parse_header_json(const std::string& file, std::string_view text) {
  StrictJson<json> header = parse_strict_json<json>(file, text, bitt::kMaxJsonDepth);
  if (header.duplicate_key)
    fail(file, ": duplicate key '", *header.duplicate_key, "' in header JSON");
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
  // Cut: the value can be a megabyte-long string.
  fail(file, ": ", what, " must be a non-negative integer, got ", value.type_name(), " ",
       value.dump().substr(0, 80));
}

const json& get_key(const std::string& file, const std::string& where, const json& object,
                    const char* key) {
  const auto it = object.find(key);
  if (it == object.end()) fail(file, ": ", where, " has no \"", key, "\"");
  return *it;
}

const std::string& get_string(const std::string& file, const std::string& what, const json& value) {
  if (!value.is_string()) fail(file, ": ", what, " must be a string, got ", value.type_name());
  return value.get_ref<const std::string&>();
}

std::vector<int64_t> parse_shape(const std::string& file, const std::string& where,
                                 const json& value) {
  if (!value.is_array()) {
    fail(file, ": ", where, ": \"shape\" must be an array, got ", value.type_name());
  }
  std::vector<int64_t> shape;
  shape.reserve(value.size());
  for (size_t axis = 0; axis < value.size(); ++axis) {
    const std::string what = where + ": shape[" + std::to_string(axis) + "]";
    const uint64_t dim = get_unsigned(file, what, value[axis]);
    if (dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      fail(file, ": ", what, " = ", dim, " is too large");
    }
    shape.push_back(static_cast<int64_t>(dim));
  }
  return shape;
}

std::optional<float> parse_scale(const std::string& file, const std::string& where,
                                 const json& entry) {
  const auto it = entry.find("scale");
  if (it == entry.end() || it->is_null()) return std::nullopt;
  if (!it->is_number()) {
    fail(file, ": ", where, ": \"scale\" must be a number, got ", it->type_name());
  }
  const double value = it->get<double>();
  // Checked before the cast: a double outside float's range is UB to convert.
  if (!std::isfinite(value) || std::fabs(value) > std::numeric_limits<float>::max()) {
    fail(file, ": ", where, ": \"scale\" ", it->dump(), " is not a finite float");
  }
  return static_cast<float>(value);
}

// One "tensors" entry, checked against the data section; bytes attached later.
BittTensor parse_tensor(const std::string& file, size_t index, const json& entry,
                        uint64_t n_data_bytes) {
  std::string where = "tensors[" + std::to_string(index) + "]";
  if (!entry.is_object()) {
    fail(file, ": ", where, " must be a JSON object, got ", entry.type_name());
  }
  BittTensor tensor;
  tensor.name = get_string(file, where + ".name", get_key(file, where, entry, "name"));
  if (tensor.name.empty()) fail(file, ": ", where, " has an empty name");
  where = "tensor '" + tensor.name + "'";

  const std::string& dtype_text =
      get_string(file, where + ": \"dtype\"", get_key(file, where, entry, "dtype"));
  const std::optional<BittDType> dtype = bitt_dtype_from_name(dtype_text);
  if (!dtype) {
    fail(file, ": unknown dtype '", dtype_text, "' for ", where,
         " (valid: f32, f16, bf16, i8, ternary_i2, ternary_tq1)");
  }
  tensor.dtype = *dtype;
  tensor.shape = parse_shape(file, where, get_key(file, where, entry, "shape"));
  tensor.offset = get_unsigned(file, where + ": \"offset\"", get_key(file, where, entry, "offset"));
  const uint64_t n_bytes =
      get_unsigned(file, where + ": \"n_bytes\"", get_key(file, where, entry, "n_bytes"));
  const std::string& checksum_text =
      get_string(file, where + ": \"checksum\"", get_key(file, where, entry, "checksum"));
  const std::optional<uint64_t> checksum = bitt::parse_checksum_hex(checksum_text);
  if (!checksum) {
    fail(file, ": ", where, ": \"checksum\" '", checksum_text.substr(0, 40),
         "' is not 16 hex digits");
  }
  tensor.checksum = *checksum;
  tensor.scale = parse_scale(file, where, entry);

  if (bitt_ternary_format(tensor.dtype) && tensor.shape.size() != 2) {
    fail(file, ": ", where, ": ", dtype_text, " needs a shape [n_out, n_in], got ",
         shape_string(tensor.shape));
  }
  const std::optional<uint64_t> expected = bitt_n_bytes(tensor.dtype, tensor.shape);
  if (!expected) {
    fail(file, ": ", where, ": shape ", shape_string(tensor.shape), " overflows the byte count");
  }
  if (*expected != n_bytes) {
    fail(file, ": ", where, ": ", dtype_text, " shape ", shape_string(tensor.shape), " needs ",
         *expected, " bytes but \"n_bytes\" is ", n_bytes);
  }
  if (tensor.offset % bitt::kAlignment != 0) {
    fail(file, ": ", where, ": offset ", tensor.offset, " is not a multiple of ", bitt::kAlignment);
  }
  if (n_bytes > n_data_bytes || tensor.offset > n_data_bytes - n_bytes) {
    fail(file, ": ", where, ": bytes [", tensor.offset, ", +", n_bytes,
         ") go beyond the data section (", n_data_bytes, " bytes)");
  }
  return tensor;  // `bytes` is attached once every entry has been checked
}

}  // namespace

BittFile BittFile::open(const std::filesystem::path& path) {
  std::shared_ptr<const MappedFile> mapping = MappedFile::open(path);
  const std::span<const std::byte> bytes(mapping->data(), mapping->size());
  return from_memory(path, bytes, std::move(mapping));
}

BittFile BittFile::from_memory(std::filesystem::path path, std::span<const std::byte> bytes,
                               std::shared_ptr<const void> owner) {
  const std::string file = path.string();
  const size_t size = bytes.size();
  const auto* chars = reinterpret_cast<const char*>(bytes.data());

  // Fixed prefix.
  const size_t n_magic = std::min(size, bitt::kMagic.size());
  if (std::string_view(chars, n_magic) != bitt::kMagic.substr(0, n_magic)) {
    fail(file, ": not a .bitt file (the first bytes are not the magic \"BITT\")");
  }
  if (size < bitt::kPrefixBytes) {
    fail(file, ": file is ", size, " bytes, shorter than the ", bitt::kPrefixBytes,
         "-byte .bitt prefix (truncated)");
  }
  uint32_t version;
  uint64_t header_length;
  uint64_t header_checksum;
  std::memcpy(&version, chars + 4, sizeof(version));
  std::memcpy(&header_length, chars + 8, sizeof(header_length));
  std::memcpy(&header_checksum, chars + 16, sizeof(header_checksum));
  if (version != bitt::kVersion) {
    fail(file, ": unsupported .bitt version ", version, " (this build reads version ",
         bitt::kVersion, ")");
  }
  if (header_length == 0) fail(file, ": header is empty (length 0)");
  if (header_length > bitt::kMaxHeaderBytes) {
    fail(file, ": header length ", header_length, " exceeds the limit of ", bitt::kMaxHeaderBytes,
         " bytes");
  }
  const uint64_t n_after_prefix = size - bitt::kPrefixBytes;
  if (header_length > n_after_prefix) {
    fail(file, ": header length ", header_length, " is larger than the rest of the file (",
         n_after_prefix, " bytes): truncated or corrupt");
  }
  const uint64_t data_start = bitt::kPrefixBytes + header_length;
  if (data_start % bitt::kAlignment != 0) {
    fail(file, ": header length ", header_length, " leaves the data section at byte ", data_start,
         ", not a multiple of ", bitt::kAlignment);
  }
  const std::span<const std::byte> header_bytes =
      bytes.subspan(bitt::kPrefixBytes, static_cast<size_t>(header_length));
  const uint64_t computed_header_checksum = bitt_checksum(header_bytes);
  if (computed_header_checksum != header_checksum) {
    fail(file, ": header checksum mismatch (stored ", bitt::checksum_hex(header_checksum),
         ", computed ", bitt::checksum_hex(computed_header_checksum), "): the header is corrupt");
  }

  // JSON header.
  const std::string_view header_text(chars + bitt::kPrefixBytes,
                                     static_cast<size_t>(header_length));
  if (const std::optional<size_t> bad = safetensors::find_invalid_utf8(header_text)) {
    fail(file, ": header is not valid UTF-8 (bad byte at header offset ", *bad, ")");
  }
  const json header = parse_header_json(file, header_text);
  if (!header.is_object()) fail(file, ": header is not a JSON object, got ", header.type_name());

  BittFile result;
  result.version_ = version;
  const uint64_t format_version =
      get_unsigned(file, "\"format_version\"", get_key(file, "header", header, "format_version"));
  if (format_version != version) {
    fail(file, ": header \"format_version\" ", format_version, " differs from the prefix version ",
         version);
  }
  const json& config = get_key(file, "header", header, "config");
  if (!config.is_object())
    fail(file, ": \"config\" must be a JSON object, got ", config.type_name());
  result.config_json_ = config.dump();
  if (const auto it = header.find("tokenizer"); it != header.end() && !it->is_null()) {
    result.tokenizer_json_ = get_string(file, "\"tokenizer\"", *it);
  }
  result.fingerprint_ =
      get_string(file, "\"fingerprint\"", get_key(file, "header", header, "fingerprint"));
  result.metadata_ =
      parse_string_map(file, get_key(file, "header", header, "metadata"), "\"metadata\"");

  const uint64_t n_data_bytes =
      get_unsigned(file, "\"data_bytes\"", get_key(file, "header", header, "data_bytes"));
  const uint64_t n_present = size - data_start;
  if (n_present < n_data_bytes) {
    fail(file, ": truncated: the data section has ", n_present, " bytes, the header says ",
         n_data_bytes);
  }
  if (n_present > n_data_bytes) {
    fail(file, ": ", n_present - n_data_bytes, " unexpected bytes after the data section (",
         n_data_bytes, " bytes)");
  }

  const json& entries = get_key(file, "header", header, "tensors");
  if (!entries.is_array()) {
    fail(file, ": \"tensors\" must be an array, got ", entries.type_name());
  }
  std::vector<uint64_t> n_bytes;
  result.tensors_.reserve(entries.size());
  n_bytes.reserve(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    BittTensor tensor = parse_tensor(file, i, entries[i], n_data_bytes);
    n_bytes.push_back(*bitt_n_bytes(tensor.dtype, tensor.shape));
    if (!result.index_by_name_.emplace(tensor.name, i).second) {
      fail(file, ": duplicate tensor name '", tensor.name, "'");
    }
    result.tensors_.push_back(std::move(tensor));
  }
  std::vector<NamedByteRange> ranges;
  for (size_t i = 0; i < result.tensors_.size(); ++i) {
    const BittTensor& tensor = result.tensors_[i];
    ranges.push_back({tensor.name, tensor.offset, tensor.offset + n_bytes[i]});
  }
  check_no_overlap(file, std::move(ranges));

  const std::span<const std::byte> data = bytes.subspan(static_cast<size_t>(data_start));
  for (size_t i = 0; i < result.tensors_.size(); ++i) {
    BittTensor& tensor = result.tensors_[i];
    BT_CHECK(n_bytes[i] <= data.size() && tensor.offset <= data.size() - n_bytes[i]);
    tensor.bytes =
        data.subspan(static_cast<size_t>(tensor.offset), static_cast<size_t>(n_bytes[i]));
  }
  result.path_ = std::move(path);
  result.owner_ = std::move(owner);
  return result;
}

const BittTensor* BittFile::find(std::string_view name) const {
  const auto it = index_by_name_.find(name);
  return it == index_by_name_.end() ? nullptr : &tensors_[it->second];
}

const BittTensor& BittFile::get(std::string_view name) const {
  const BittTensor* tensor = find(name);
  if (tensor == nullptr) fail(path_.string(), ": missing tensor '", name, "'");
  return *tensor;
}

TernaryMatrixView BittFile::ternary_view(std::string_view name) const {
  const BittTensor& tensor = get(name);
  const std::optional<TernaryFormat> format = bitt_ternary_format(tensor.dtype);
  if (!format) {
    fail(path_.string(), ": tensor '", name, "' has dtype ", bitt_dtype_name(tensor.dtype),
         ", not a ternary dtype");
  }
  const int64_t n_in = tensor.shape[1];
  return {*format, tensor.shape[0], n_in, ternary_row_stride_bytes(*format, n_in),
          reinterpret_cast<const uint8_t*>(tensor.bytes.data())};
}

void BittFile::verify() const {
  const std::string file = path_.string();
  for (const BittTensor& tensor : tensors_) {
    const uint64_t computed = bitt_checksum(tensor.bytes);
    if (computed != tensor.checksum) {
      fail(file, ": tensor '", tensor.name, "': checksum mismatch (stored ",
           bitt::checksum_hex(tensor.checksum), ", computed ", bitt::checksum_hex(computed),
           "): the data is corrupt");
    }
    if (bitt_ternary_format(tensor.dtype)) {
      validate_packed_ternary(ternary_view(tensor.name), tensor.bytes.size(),
                              file + ": tensor '" + tensor.name + "'");
    }
  }
}

}  // namespace bit_ttt
