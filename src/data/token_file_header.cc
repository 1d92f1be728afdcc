// Encoding and validation of the 64-byte token file header.
#include <bit>
#include <cstring>

#include "bit_ttt/error.h"
#include "data/token_file.h"

namespace bit_ttt::data {

static_assert(std::endian::native == std::endian::little,
              "token files are little-endian and read in place");

namespace {

constexpr size_t kVersionOffset = 4;
constexpr size_t kWidthOffset = 8;
constexpr size_t kVocabOffset = 12;
constexpr size_t kEosOffset = 16;
constexpr size_t kFingerprintOffset = 20;
constexpr size_t kCountOffset = 40;

template <typename T>
T load(std::span<const std::byte> bytes, size_t offset) {
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof(T));
  return value;
}

template <typename T>
void store(std::string& bytes, size_t offset, T value) {
  std::memcpy(bytes.data() + offset, &value, sizeof(T));
}

bool is_fingerprint(std::string_view text) {
  if (text.size() != kFingerprintSize) return false;
  for (char c : text)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

// Printable form of raw header bytes for error messages.
std::string quoted(std::span<const std::byte> bytes) {
  std::string out = "'";
  for (std::byte b : bytes) {
    const auto c = static_cast<unsigned char>(b);
    if (c >= 0x20 && c < 0x7F) {
      out += static_cast<char>(c);
    } else {
      out += concat("\\x", "0123456789abcdef"[c >> 4], "0123456789abcdef"[c & 15]);
    }
  }
  return out + "'";
}

}  // namespace

std::optional<int32_t> TokenFileHeader::eos() const {
  if (eos_id == kNoEosId) return std::nullopt;
  return static_cast<int32_t>(eos_id);
}

uint32_t token_width_for_vocab(uint32_t vocab_size) {
  return vocab_size <= 65536 ? 2 : 4;
}

std::string encode_token_file_header(const TokenFileHeader& header) {
  if (header.vocab_size == 0) fail("token file header: vocab size must be positive");
  if (header.vocab_size > 0x7FFFFFFFu)
    fail("token file header: vocab size ", header.vocab_size, " does not fit int32 ids");
  if (header.token_width != token_width_for_vocab(header.vocab_size))
    fail("token file header: token width ", header.token_width, " does not match vocab size ",
         header.vocab_size);
  if (header.eos_id != kNoEosId && header.eos_id >= header.vocab_size)
    fail("token file header: eos id ", header.eos_id, " is not below vocab size ",
         header.vocab_size);
  if (!is_fingerprint(header.fingerprint))
    fail("token file header: tokenizer fingerprint '", header.fingerprint,
         "' is not 16 lowercase hex digits");
  std::string bytes(kTokenFileHeaderSize, '\0');
  std::memcpy(bytes.data(), kTokenFileMagic, sizeof(kTokenFileMagic));
  store<uint32_t>(bytes, kVersionOffset, header.version);
  store<uint32_t>(bytes, kWidthOffset, header.token_width);
  store<uint32_t>(bytes, kVocabOffset, header.vocab_size);
  store<uint32_t>(bytes, kEosOffset, header.eos_id);
  std::memcpy(bytes.data() + kFingerprintOffset, header.fingerprint.data(), kFingerprintSize);
  store<uint64_t>(bytes, kCountOffset, header.n_tokens);
  return bytes;
}

TokenFileHeader parse_token_file_header(std::span<const std::byte> bytes, uint64_t file_size,
                                        const std::string& source) {
  if (file_size < kTokenFileHeaderSize)
    fail(source, ": truncated token file: ", file_size, " bytes, less than the ",
         kTokenFileHeaderSize, "-byte header");
  if (std::memcmp(bytes.data(), kTokenFileMagic, sizeof(kTokenFileMagic)) != 0)
    fail(source, ": bad magic ", quoted(bytes.first(4)),
         " at byte 0, expected 'BTTK' (not a Bit-TTT token file)");
  TokenFileHeader header;
  header.version = load<uint32_t>(bytes, kVersionOffset);
  if (header.version != kTokenFileVersion)
    fail(source, ": unsupported token file version ", header.version, " at byte ", kVersionOffset,
         " (this build reads version ", kTokenFileVersion, ")");
  header.vocab_size = load<uint32_t>(bytes, kVocabOffset);
  if (header.vocab_size == 0 || header.vocab_size > 0x7FFFFFFFu)
    fail(source, ": bad vocab size ", header.vocab_size, " at byte ", kVocabOffset);
  header.token_width = load<uint32_t>(bytes, kWidthOffset);
  if (header.token_width != token_width_for_vocab(header.vocab_size))
    fail(source, ": bad token width ", header.token_width, " at byte ", kWidthOffset,
         ": vocab size ", header.vocab_size, " needs ", token_width_for_vocab(header.vocab_size));
  header.eos_id = load<uint32_t>(bytes, kEosOffset);
  if (header.eos_id != kNoEosId && header.eos_id >= header.vocab_size)
    fail(source, ": eos id ", header.eos_id, " at byte ", kEosOffset, " is not below vocab size ",
         header.vocab_size);
  const auto fingerprint_bytes = bytes.subspan(kFingerprintOffset, kFingerprintSize);
  header.fingerprint.assign(reinterpret_cast<const char*>(fingerprint_bytes.data()),
                            kFingerprintSize);
  if (!is_fingerprint(header.fingerprint))
    fail(source, ": tokenizer fingerprint ", quoted(fingerprint_bytes), " at byte ",
         kFingerprintOffset, " is not 16 lowercase hex digits");
  for (size_t i = kFingerprintOffset + kFingerprintSize; i < kTokenFileHeaderSize; ++i) {
    if (i >= kCountOffset && i < kCountOffset + 8) continue;
    if (bytes[i] != std::byte{0})
      fail(source, ": header padding byte ", i, " is ", static_cast<int>(bytes[i]),
           ", expected 0 (corrupt header or a newer format)");
  }
  header.n_tokens = load<uint64_t>(bytes, kCountOffset);
  // Compare in a way that cannot overflow for a garbage count.
  const uint64_t payload = file_size - kTokenFileHeaderSize;
  if (payload % header.token_width != 0 || payload / header.token_width != header.n_tokens) {
    const uint64_t expected_tokens = payload / header.token_width;
    fail(source, ": header says ", header.n_tokens, " tokens of ", header.token_width,
         " bytes but the file has ", payload, " bytes after the header (",
         header.n_tokens > expected_tokens ? "truncated" : "trailing bytes",
         "; expected file size ",
         header.n_tokens <= (UINT64_MAX - kTokenFileHeaderSize) / header.token_width
             ? concat(kTokenFileHeaderSize + header.n_tokens * header.token_width)
             : std::string("too large"),
         ", actual ", file_size, ")");
  }
  return header;
}

}  // namespace bit_ttt::data
