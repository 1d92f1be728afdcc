// StreamDecoder: the decoder pipeline fed one id at a time.
#include "bit_ttt/error.h"
#include "tokenizer/tokenizer_impl.h"

namespace bit_ttt {

struct StreamDecoder::State {
  explicit State(const tokenizer::DecoderPipeline& pipeline) : decode(pipeline) {}
  tokenizer::DecodeState decode;
};

StreamDecoder::StreamDecoder(Tokenizer tokenizer, bool skip_special_tokens)
    : tokenizer_(std::move(tokenizer)),
      skip_special_tokens_(skip_special_tokens),
      state_(std::make_unique<State>(*tokenizer_.impl_->decoder)) {}

StreamDecoder::~StreamDecoder() = default;
StreamDecoder::StreamDecoder(StreamDecoder&&) noexcept = default;
StreamDecoder& StreamDecoder::operator=(StreamDecoder&&) noexcept = default;

StreamDecoder::StreamDecoder(const StreamDecoder& other)
    : tokenizer_(other.tokenizer_),
      skip_special_tokens_(other.skip_special_tokens_),
      state_(std::make_unique<State>(*other.state_)) {}

StreamDecoder& StreamDecoder::operator=(const StreamDecoder& other) {
  if (this != &other) *this = StreamDecoder(other);
  return *this;
}

std::string StreamDecoder::push(int32_t id) {
  const Tokenizer::Impl& impl = *tokenizer_.impl_;
  impl.check_id(id, "StreamDecoder::push:");
  const auto index = static_cast<size_t>(id);
  std::string out;
  if (!impl.has_token[index] || (skip_special_tokens_ && impl.special[index])) return out;
  state_->decode.push_token(impl.token_text[index], out);
  return out;
}

std::string StreamDecoder::flush() {
  std::string out;
  state_->decode.finish(out);
  return out;
}

void StreamDecoder::reset() {
  state_->decode.reset();
}

}  // namespace bit_ttt
