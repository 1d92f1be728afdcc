// Token files (.bin): the tokenized training corpus that `prepare` writes and
// the trainer memory-maps. Layout (docs/data-format.md), little-endian:
//
//   0  "BTTK"           4  u32 version (1)     8  u32 token width (2 or 4)
//   12 u32 vocab size   16 u32 eos id (0xFFFFFFFF = none)
//   20 16 ASCII hex digits: tokenizer fingerprint   36 4 zero bytes
//   40 u64 token count  48 16 zero bytes            64 tokens (u16 or u32 each)
//
// The width is 2 whenever every id fits in 16 bits (vocab <= 65536), halving
// the file and the page-cache footprint of GPT-2/Llama-2 sized vocabularies.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bit_ttt {
class AtomicFileWriter;
class MappedFile;
}  // namespace bit_ttt

namespace bit_ttt::data {

inline constexpr char kTokenFileMagic[4] = {'B', 'T', 'T', 'K'};
inline constexpr uint32_t kTokenFileVersion = 1;
inline constexpr size_t kTokenFileHeaderSize = 64;
inline constexpr size_t kFingerprintSize = 16;
inline constexpr uint32_t kNoEosId = 0xFFFFFFFFu;

struct TokenFileHeader {
  uint32_t version = kTokenFileVersion;
  uint32_t token_width = 2;
  uint32_t vocab_size = 0;
  uint32_t eos_id = kNoEosId;
  std::string fingerprint;  // 16 lowercase hex digits
  uint64_t n_tokens = 0;

  std::optional<int32_t> eos() const;
};

// 2 for vocab_size <= 65536, else 4.
uint32_t token_width_for_vocab(uint32_t vocab_size);

// The 64 header bytes. Fails for a header no reader would accept.
std::string encode_token_file_header(const TokenFileHeader& header);
// Parses and validates the header of a file of `file_size` bytes (`source`
// names it in errors): magic, version, width, vocab, eos, fingerprint, zero
// padding and that the size is exactly header + n_tokens * width.
TokenFileHeader parse_token_file_header(std::span<const std::byte> bytes, uint64_t file_size,
                                        const std::string& source);

// A read-only, memory-mapped token file; copies share the mapping and every
// method may be called from several threads at once.
//
// open() checks only the header and the file size, so it is O(1) for any file
// size. Token ids are checked against vocab_size as they are read (token(),
// read()), where the compare is free next to the copy; an out-of-range id is an
// Error naming the file, the token position and its byte offset.
// check_all_tokens() does the same for the whole file up front.
class TokenFile {
 public:
  static TokenFile open(const std::filesystem::path& path);

  const TokenFileHeader& header() const { return header_; }
  const std::filesystem::path& path() const;
  int64_t n_tokens() const { return static_cast<int64_t>(header_.n_tokens); }
  uint32_t vocab_size() const { return header_.vocab_size; }
  uint32_t token_width() const { return header_.token_width; }
  std::optional<int32_t> eos_id() const { return header_.eos(); }
  const std::string& fingerprint() const { return header_.fingerprint; }

  uint32_t token(int64_t i) const;
  // Tokens [begin, begin + count) into out[0, count).
  void read(int64_t begin, int64_t count, int32_t* out) const;
  std::vector<int32_t> read(int64_t begin, int64_t count) const;
  void check_all_tokens() const;

 private:
  TokenFile(std::shared_ptr<const MappedFile> file, TokenFileHeader header);
  [[noreturn]] void fail_bad_token(int64_t position, uint32_t id) const;

  std::shared_ptr<const MappedFile> file_;
  TokenFileHeader header_;
  const std::byte* tokens_ = nullptr;
};

// Streams tokens into a new token file. Nothing appears at `path` until
// commit(): the tokens go to a temp file next to it, and commit() writes the
// final count into the header, fsyncs, and renames over `path` (an existing
// file there is replaced atomically). Destroying an uncommitted writer removes
// the temp file.
class TokenFileWriter {
 public:
  TokenFileWriter(const std::filesystem::path& path, uint32_t vocab_size,
                  std::optional<int32_t> eos_id, std::string fingerprint);
  ~TokenFileWriter();
  TokenFileWriter(const TokenFileWriter&) = delete;
  TokenFileWriter& operator=(const TokenFileWriter&) = delete;

  // Every id must be in [0, vocab_size) (an Error otherwise, nothing written).
  void append(std::span<const int32_t> tokens);
  void append(int32_t token) { append(std::span<const int32_t>(&token, 1)); }
  int64_t n_tokens() const { return static_cast<int64_t>(header_.n_tokens); }
  const std::filesystem::path& path() const { return path_; }
  void commit();

 private:
  void flush_buffer();

  std::filesystem::path path_;
  TokenFileHeader header_;
  std::unique_ptr<AtomicFileWriter> writer_;
  std::vector<std::byte> buffer_;  // batches small appends into large writes
  bool committed_ = false;
};

}  // namespace bit_ttt::data
