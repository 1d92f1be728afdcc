// Turns a raw document into the text to tokenize: UTF-8 validation with the
// exact file byte offset of a bad byte, and for JSONL the JSON parse and field
// lookup. Runs on worker threads, so it reports instead of printing.
#pragma once

#include <string>
#include <string_view>

#include "data/corpus_files.h"
#include "data/document_reader.h"

namespace bit_ttt::data {

enum class DocumentStatus {
  ok,
  empty,         // nothing but whitespace: no tokens, no EOS
  invalid_utf8,  // `error` says where; prepare fails or skips it
};

struct DocumentText {
  DocumentStatus status = DocumentStatus::ok;
  std::string text;
  std::string error;
};

// Consumes document.bytes. Malformed JSONL (bad JSON, not an object, missing
// or non-string field) is an Error naming file:line, since it means the input
// is not what the user thinks it is, not one bad document.
DocumentText document_text(RawDocument& document, const CorpusFile& file,
                           std::string_view jsonl_field);

}  // namespace bit_ttt::data
