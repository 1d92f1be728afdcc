#include "data/document_reader.h"

#include <cerrno>
#include <cstring>
#include <utility>

#include "bit_ttt/error.h"

namespace bit_ttt::data {
namespace {

// The line without its "\n" or "\r\n".
std::string_view strip_line_end(std::string_view line) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

bool is_blank(std::string_view line) {
  for (char c : line)
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return false;
  return true;
}

}  // namespace

DocumentReader::DocumentReader(const CorpusFile& file, uint32_t file_index, std::string separator,
                               size_t block_bytes)
    : file_(file),
      file_index_(file_index),
      separator_(std::move(separator)),
      block_bytes_(block_bytes == 0 ? 1 : block_bytes),
      stream_(std::fopen(file.path.c_str(), "rb"), &std::fclose) {
  if (!stream_) fail(file_.path.string(), ": cannot open: ", std::strerror(errno));
}

DocumentReader::~DocumentReader() = default;

bool DocumentReader::next_line(std::string_view& line) {
  while (true) {
    const char* begin = buffer_.data() + buffer_pos_;
    const size_t available = buffer_.size() - buffer_pos_;
    if (const void* newline = std::memchr(begin, '\n', available)) {
      const size_t length = static_cast<size_t>(static_cast<const char*>(newline) - begin) + 1;
      line = std::string_view(begin, length);
      buffer_pos_ += length;
      return true;
    }
    if (eof_) {
      if (available == 0) return false;
      line = std::string_view(begin, available);
      buffer_pos_ += available;
      return true;
    }
    // Keep the partial line, drop what was consumed, read another block. A
    // line longer than a block just makes the buffer grow to hold it.
    buffer_.erase(0, buffer_pos_);
    buffer_pos_ = 0;
    const size_t old_size = buffer_.size();
    buffer_.resize(old_size + block_bytes_);
    const size_t n_read = std::fread(buffer_.data() + old_size, 1, block_bytes_, stream_.get());
    buffer_.resize(old_size + n_read);
    // A UTF-8 byte order mark is an encoding marker, not text.
    if (line_offset_ == 0 && old_size == 0 && buffer_.starts_with("\xEF\xBB\xBF")) {
      buffer_pos_ = 3;
      line_offset_ = 3;
    }
    if (n_read < block_bytes_) {
      if (std::ferror(stream_.get()))
        fail(file_.path.string(), ": read error at byte ", line_offset_ + old_size + n_read, ": ",
             std::strerror(errno));
      eof_ = true;
    }
  }
}

bool DocumentReader::next(RawDocument& document) {
  document.bytes.clear();
  document.file_index = file_index_;
  return file_.format == CorpusFormat::jsonl ? next_jsonl(document) : next_text(document);
}

bool DocumentReader::next_text(RawDocument& document) {
  // Documents that end up empty (a blank line before a separator) are skipped.
  while (read_text_document(document)) {
    if (!document.bytes.empty()) return true;
  }
  return false;
}

bool DocumentReader::read_text_document(RawDocument& document) {
  document.bytes.clear();
  std::string_view line;
  bool started = false;
  while (next_line(line)) {
    const uint64_t offset = line_offset_;
    line_offset_ += line.size();
    line_number_ += line.back() == '\n' ? 1 : 0;
    if (strip_line_end(line) == separator_) {
      consumed_ = line_offset_;
      if (document.bytes.empty()) {
        started = false;
        continue;  // nothing before this separator
      }
      break;
    }
    if (!started) {
      document.byte_offset = offset;
      document.line = line_number_ - (line.back() == '\n' ? 1 : 0);
      started = true;
    }
    document.bytes.append(line);
  }
  if (document.bytes.empty()) {
    consumed_ = line_offset_;
    return false;
  }
  // The line break before a separator (or at the end of the file) ends the
  // last line; it is not part of the text.
  std::string& bytes = document.bytes;
  if (!bytes.empty() && bytes.back() == '\n') {
    bytes.pop_back();
    if (!bytes.empty() && bytes.back() == '\r') bytes.pop_back();
  }
  consumed_ = line_offset_;
  return true;
}

bool DocumentReader::next_jsonl(RawDocument& document) {
  std::string_view line;
  while (next_line(line)) {
    const uint64_t offset = line_offset_;
    const int64_t number = line_number_;
    line_offset_ += line.size();
    line_number_ += line.back() == '\n' ? 1 : 0;
    consumed_ = line_offset_;
    if (is_blank(line)) continue;
    document.bytes.assign(strip_line_end(line));
    document.byte_offset = offset;
    document.line = number;
    return true;
  }
  return false;
}

}  // namespace bit_ttt::data
