#include "io/npy.h"

#include <array>
#include <bit>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "bit_ttt/error.h"
#include "core/atomic_file.h"
#include "core/check.h"
#include "core/mmap_file.h"

namespace bit_ttt {
namespace {

// We read and write the data bytes as they are in memory.
static_assert(std::endian::native == std::endian::little, ".npy I/O assumes little-endian");

constexpr std::string_view kMagic = "\x93NUMPY";
// NumPy pads the header so the data starts at a multiple of 64 bytes.
constexpr size_t kHeaderAlignment = 64;

struct NpyType {
  DType dtype;
  char kind;  // NumPy's kind letter: f, i, u, b
};

constexpr std::array<NpyType, 12> kNpyTypes = {{
    {DType::f16, 'f'},
    {DType::f32, 'f'},
    {DType::f64, 'f'},
    {DType::i8, 'i'},
    {DType::i16, 'i'},
    {DType::i32, 'i'},
    {DType::i64, 'i'},
    {DType::u8, 'u'},
    {DType::u16, 'u'},
    {DType::u32, 'u'},
    {DType::u64, 'u'},
    {DType::boolean, 'b'},
}};

std::optional<std::string> descr_of(DType dtype) {
  for (const NpyType& type : kNpyTypes) {
    if (type.dtype != dtype) continue;
    const size_t size = dtype_size(dtype);
    // '|' = byte order not applicable, which is what NumPy writes for 1-byte types.
    return std::string(1, size == 1 ? '|' : '<') + type.kind + std::to_string(size);
  }
  return std::nullopt;
}

// Element count of a shape, nullopt on a negative dimension or overflow.
std::optional<uint64_t> checked_n_bytes(std::span<const int64_t> shape, size_t element_size) {
  uint64_t product = element_size;
  bool zero = false;
  for (const int64_t dim : shape) {
    if (dim < 0) return std::nullopt;
    if (dim == 0) {
      zero = true;
      continue;
    }
    if (product > std::numeric_limits<uint64_t>::max() / static_cast<uint64_t>(dim)) {
      return std::nullopt;
    }
    product *= static_cast<uint64_t>(dim);
  }
  return zero ? 0 : product;
}

std::string shape_tuple(std::span<const int64_t> shape) {
  std::string text = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) text += ", ";
    text += std::to_string(shape[i]);
  }
  // A 1-tuple needs its trailing comma in Python syntax.
  return text + (shape.size() == 1 ? ",)" : ")");
}

// Reader of the header dict, a Python literal such as
// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
class HeaderParser {
 public:
  HeaderParser(const std::string& file, std::string_view text) : file_(file), text_(text) {}

  NpyArray parse() {
    std::optional<std::string> descr;
    std::optional<bool> fortran_order;
    std::optional<std::vector<int64_t>> shape;
    expect('{');
    while (true) {
      skip_space();
      if (peek() == '}') break;
      const std::string key = parse_string();
      expect(':');
      skip_space();
      if (key == "descr") {
        if (descr) error("duplicate key 'descr'");
        if (peek() == '[') error("structured dtypes (a list descr) are not supported");
        descr = parse_string();
      } else if (key == "fortran_order") {
        if (fortran_order) error("duplicate key 'fortran_order'");
        fortran_order = parse_bool();
      } else if (key == "shape") {
        if (shape) error("duplicate key 'shape'");
        shape = parse_shape();
      } else {
        error("unexpected key '" + key + "'");
      }
      skip_space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() != '}') error("expected ',' or '}' after the value of '" + key + "'");
    }
    ++pos_;  // '}'
    // NumPy ends the header with spaces and '\n'; nothing else may follow.
    for (; pos_ < text_.size(); ++pos_) {
      if (text_[pos_] != ' ' && text_[pos_] != '\n' && text_[pos_] != '\t' && text_[pos_] != '\r' &&
          text_[pos_] != '\0') {
        error("unexpected text after the header dict");
      }
    }
    if (!descr) error("header has no 'descr'");
    if (!fortran_order) error("header has no 'fortran_order'");
    if (!shape) error("header has no 'shape'");
    // With at most one axis, Fortran and C order are the same bytes.
    if (*fortran_order && shape->size() > 1) {
      fail(file_, ": Fortran-order arrays are not supported (save with np.ascontiguousarray)");
    }
    return {parse_descr(*descr), std::move(*shape), {}};
  }

 private:
  [[noreturn]] void error(const std::string& what) const {
    fail(file_, ": malformed .npy header: ", what, " (at header offset ", pos_, ")");
  }

  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }

  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }

  void expect(char c) {
    skip_space();
    if (peek() != c) error(std::string("expected '") + c + "'");
    ++pos_;
  }

  std::string parse_string() {
    const char quote = peek();
    if (quote != '\'' && quote != '"') error("expected a quoted string");
    const size_t begin = ++pos_;
    while (pos_ < text_.size() && text_[pos_] != quote) {
      if (text_[pos_] == '\\') error("escape sequences are not supported");
      ++pos_;
    }
    if (pos_ >= text_.size()) error("unterminated string");
    return std::string(text_.substr(begin, pos_++ - begin));
  }

  bool parse_bool() {
    if (text_.substr(pos_, 4) == "True") {
      pos_ += 4;
      return true;
    }
    if (text_.substr(pos_, 5) == "False") {
      pos_ += 5;
      return false;
    }
    error("fortran_order must be True or False");
  }

  std::vector<int64_t> parse_shape() {
    std::vector<int64_t> shape;
    if (peek() != '(') error("shape must be a tuple");
    ++pos_;
    while (true) {
      skip_space();
      if (peek() == ')') break;
      shape.push_back(parse_dim());
      skip_space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() != ')') error("expected ',' or ')' in shape");
    }
    ++pos_;
    return shape;
  }

  int64_t parse_dim() {
    if (peek() == '-') error("negative dimension in shape");
    if (peek() < '0' || peek() > '9') error("shape must hold integers");
    int64_t value = 0;
    while (peek() >= '0' && peek() <= '9') {
      const int digit = peek() - '0';
      if (value > (std::numeric_limits<int64_t>::max() - digit) / 10) {
        error("dimension too large");
      }
      value = value * 10 + digit;
      ++pos_;
    }
    if (peek() == 'L') ++pos_;  // Python 2 long suffix, as old NumPy wrote it
    return value;
  }

  DType parse_descr(const std::string& descr) const {
    std::string_view rest = descr;
    char order = '=';
    if (!rest.empty() && (rest[0] == '<' || rest[0] == '>' || rest[0] == '|' || rest[0] == '=')) {
      order = rest[0];
      rest.remove_prefix(1);
    }
    for (const NpyType& type : kNpyTypes) {
      const size_t size = dtype_size(type.dtype);
      if (rest != std::string(1, type.kind) + std::to_string(size)) continue;
      if (order == '>' && size > 1) {
        fail(file_, ": big-endian dtype '", descr,
             "' is not supported (convert with "
             "arr.astype(arr.dtype.newbyteorder('<')))");
      }
      return type.dtype;
    }
    fail(file_, ": unsupported dtype '", descr,
         "' (expected one of f2 f4 f8 i1 i2 i4 i8 "
         "u1 u2 u4 u8 b1, little-endian)");
  }

  const std::string& file_;
  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

void write_npy(const std::filesystem::path& path, DType dtype, std::span<const int64_t> shape,
               const void* data) {
  const std::string file = path.string();
  const std::optional<std::string> descr = descr_of(dtype);
  if (!descr) fail(file, ": .npy has no dtype for ", dtype_name(dtype));
  const std::optional<uint64_t> n_bytes = checked_n_bytes(shape, dtype_size(dtype));
  if (!n_bytes) {
    fail(file, ": invalid shape ", shape_tuple(shape), " (negative dimension or overflow)");
  }
  if (data == nullptr && *n_bytes != 0) fail(file, ": null data for ", *n_bytes, " bytes");

  std::string header =
      "{'descr': '" + *descr + "', 'fortran_order': False, 'shape': " + shape_tuple(shape) + ", }";
  // Magic (6) + version (2) + length (2) + header must be a multiple of 64, and
  // the header ends in '\n'.
  const size_t prefix = kMagic.size() + 4;
  const size_t total =
      (prefix + header.size() + 1 + kHeaderAlignment - 1) / kHeaderAlignment * kHeaderAlignment;
  header.resize(total - prefix - 1, ' ');
  header += '\n';
  if (header.size() > std::numeric_limits<uint16_t>::max()) {
    fail(file, ": shape with ", shape.size(), " axes makes a header too large for .npy 1.0");
  }
  const auto header_length = static_cast<uint16_t>(header.size());

  AtomicFileWriter writer(path);
  writer.write(kMagic.data(), kMagic.size());
  const unsigned char version[2] = {1, 0};
  writer.write(version, sizeof(version));
  writer.write(&header_length, sizeof(header_length));  // little-endian host
  writer.write(header.data(), header.size());
  if (*n_bytes != 0) writer.write(data, static_cast<size_t>(*n_bytes));
  writer.commit();
}

NpyArray read_npy(const std::filesystem::path& path) {
  const std::shared_ptr<const MappedFile> mapping = MappedFile::open(path);
  return parse_npy({mapping->data(), mapping->size()}, path);
}

NpyArray parse_npy(std::span<const std::byte> bytes, const std::filesystem::path& path) {
  const std::string file = path.string();
  const auto* chars = reinterpret_cast<const char*>(bytes.data());
  if (bytes.size() < kMagic.size() + 2 || std::string_view(chars, kMagic.size()) != kMagic) {
    fail(file, ": not a .npy file (missing the \\x93NUMPY magic)");
  }
  const auto major = static_cast<unsigned>(bytes[6]);
  const auto minor = static_cast<unsigned>(bytes[7]);
  if (minor != 0 || major < 1 || major > 3) {
    fail(file, ": unsupported .npy version ", major, ".", minor, " (expected 1.0, 2.0 or 3.0)");
  }
  // 1.0 has a 2-byte header length, 2.0 and 3.0 a 4-byte one.
  const size_t length_bytes = major == 1 ? 2 : 4;
  const size_t prefix = 8 + length_bytes;
  if (bytes.size() < prefix) fail(file, ": truncated .npy file (", bytes.size(), " bytes)");
  uint64_t header_length = 0;
  for (size_t i = 0; i < length_bytes; ++i) {
    header_length |= static_cast<uint64_t>(bytes[8 + i]) << (8 * i);
  }
  if (header_length > bytes.size() - prefix) {
    fail(file, ": truncated .npy file: header length ", header_length, " but only ",
         bytes.size() - prefix, " bytes follow");
  }
  const std::string_view header_text(chars + prefix, static_cast<size_t>(header_length));
  NpyArray array = HeaderParser(file, header_text).parse();

  const std::optional<uint64_t> n_bytes = checked_n_bytes(array.shape, dtype_size(array.dtype));
  if (!n_bytes) fail(file, ": shape ", shape_tuple(array.shape), " overflows");
  const size_t data_start = prefix + static_cast<size_t>(header_length);
  const uint64_t n_available = bytes.size() - data_start;
  if (*n_bytes > n_available) {
    fail(file, ": truncated .npy data: shape ", shape_tuple(array.shape), " of ",
         dtype_name(array.dtype), " needs ", *n_bytes, " bytes, file has ", n_available);
  }
  if (*n_bytes < n_available) {
    fail(file, ": .npy file has ", n_available - *n_bytes, " unexpected bytes after the data");
  }
  BT_CHECK(data_start + *n_bytes == bytes.size());
  array.bytes.assign(bytes.begin() + static_cast<ptrdiff_t>(data_start), bytes.end());
  return array;
}

}  // namespace bit_ttt
