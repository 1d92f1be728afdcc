// Tokenizer: encode (added tokens -> normalizer -> pre-tokenizer -> BPE ->
// post-processor, Hugging Face's pipeline) and decode.
#include "bit_ttt/error.h"
#include "core/read_file.h"
#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/utf8.h"

namespace bit_ttt {

void Tokenizer::Impl::check_id(int32_t id, const char* what) const {
  if (id < 0 || static_cast<size_t>(id) >= token_text.size()) {
    fail(what, " id ", id, " is out of range for tokenizer ", source_name, " (vocab size ",
         token_text.size(), ")");
  }
}

void Tokenizer::Impl::encode_into(std::string_view text, std::vector<int32_t>& ids) const {
  std::vector<tokenizer::TextSegment> raw_segments;
  std::vector<tokenizer::TextSegment> segments;
  std::vector<tokenizer::PreToken> pieces;
  raw_matcher->split(text, raw_segments);
  for (const tokenizer::TextSegment& raw : raw_segments) {
    if (raw.token_id >= 0) {
      ids.push_back(raw.token_id);
      continue;
    }
    // HF normalizes each stretch between non-normalized added tokens on its
    // own, then looks for the normalized added tokens inside it.
    std::string normalized(text.substr(raw.begin, raw.end - raw.begin));
    if (normalizer) normalizer->normalize(normalized);
    normalized_matcher->split(normalized, segments);
    for (const tokenizer::TextSegment& segment : segments) {
      if (segment.token_id >= 0) {
        ids.push_back(segment.token_id);
        continue;
      }
      pieces.clear();
      pieces.push_back({normalized.substr(segment.begin, segment.end - segment.begin),
                        raw.begin == 0 && segment.begin == 0});
      if (pre_tokenizer) pre_tokenizer->apply(pieces);
      for (const tokenizer::PreToken& piece : pieces) model->tokenize(piece.text, ids);
    }
  }
}

Tokenizer Tokenizer::load(const std::string& path) {
  return Tokenizer(load_tokenizer_json(read_file_to_string(path), path));
}

Tokenizer Tokenizer::from_json_text(std::string_view json_text, const std::string& source_name) {
  return Tokenizer(load_tokenizer_json(json_text, source_name));
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special_tokens) const {
  const size_t bad = tokenizer::find_invalid_utf8(text);
  if (bad != std::string_view::npos) {
    fail("cannot encode text with tokenizer ", impl_->source_name,
         ": invalid UTF-8 at byte offset ", bad);
  }
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3 + 4);
  impl_->encode_into(text, ids);
  if (add_special_tokens && impl_->post_processor) {
    impl_->post_processor->add_special_tokens(ids);
  }
  return ids;
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool skip_special_tokens) const {
  tokenizer::DecodeState state(*impl_->decoder);
  std::string out;
  for (const int32_t id : ids) {
    impl_->check_id(id, "decode:");
    const auto index = static_cast<size_t>(id);
    if (!impl_->has_token[index]) continue;  // HF skips ids without a token
    if (skip_special_tokens && impl_->special[index]) continue;
    state.push_token(impl_->token_text[index], out);
  }
  state.finish(out);
  return out;
}

int32_t Tokenizer::vocab_size() const {
  return static_cast<int32_t>(impl_->token_text.size());
}

std::optional<int32_t> Tokenizer::token_to_id(std::string_view token) const {
  // Added tokens first, as HF does.
  const auto it = impl_->added.id_by_content.find(std::string(token));
  if (it != impl_->added.id_by_content.end()) return it->second;
  return impl_->model->token_to_id(token);
}

std::string Tokenizer::id_to_token(int32_t id) const {
  impl_->check_id(id, "id_to_token:");
  if (!impl_->has_token[static_cast<size_t>(id)]) {
    fail("id_to_token: id ", id, " has no token in tokenizer ", impl_->source_name);
  }
  return impl_->token_text[static_cast<size_t>(id)];
}

std::optional<int32_t> Tokenizer::bos_id() const {
  return impl_->bos_id;
}
std::optional<int32_t> Tokenizer::eos_id() const {
  return impl_->eos_id;
}
std::vector<int32_t> Tokenizer::stop_ids() const {
  return impl_->stop_ids;
}

bool Tokenizer::is_special(int32_t id) const {
  return id >= 0 && static_cast<size_t>(id) < impl_->special.size() &&
         impl_->special[static_cast<size_t>(id)] != 0;
}

std::string Tokenizer::fingerprint() const {
  return impl_->fingerprint;
}
std::string Tokenizer::source_name() const {
  return impl_->source_name;
}

}  // namespace bit_ttt
