// Streams the raw documents of one corpus file without holding the file in
// memory: reads fixed-size blocks and cuts them at document boundaries.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

#include "data/corpus_files.h"

namespace bit_ttt::data {

struct RawDocument {
  // Text files: the document text. JSONL: the whole line (without its
  // terminator), parsed later on a worker thread.
  std::string bytes;
  uint64_t byte_offset = 0;  // of bytes[0] in the file
  int64_t line = 0;          // 1-based line of bytes[0]
  uint32_t file_index = 0;   // into the prepare run's file list
};

// Text files: a document ends at a line that is exactly `separator` (a CRLF
// line ending is allowed); the separator line belongs to no document, and the
// line break just before it is dropped. A file without separator lines is one
// document. An empty separator thus splits at blank lines.
// JSONL files: one document per line; blank lines are skipped.
// Documents with no bytes at all (e.g. after a final separator) are skipped.
class DocumentReader {
 public:
  DocumentReader(const CorpusFile& file, uint32_t file_index, std::string separator,
                 size_t block_bytes = 4 << 20);
  ~DocumentReader();
  DocumentReader(const DocumentReader&) = delete;
  DocumentReader& operator=(const DocumentReader&) = delete;

  // The next document; false at the end of the file.
  bool next(RawDocument& document);
  // File bytes consumed by the documents returned so far (for progress).
  uint64_t bytes_consumed() const { return consumed_; }

 private:
  // The next line including its '\n' (none on a last unterminated line);
  // false at end of file. Valid until the next call.
  bool next_line(std::string_view& line);
  bool next_text(RawDocument& document);
  bool read_text_document(RawDocument& document);  // false at end of file
  bool next_jsonl(RawDocument& document);

  CorpusFile file_;
  uint32_t file_index_;
  std::string separator_;
  size_t block_bytes_;
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> stream_;
  std::string buffer_;
  size_t buffer_pos_ = 0;  // start of unread bytes in buffer_
  bool eof_ = false;
  uint64_t line_offset_ = 0;  // file offset of the next line
  int64_t line_number_ = 1;   // of the next line
  uint64_t consumed_ = 0;
};

}  // namespace bit_ttt::data
