#include "tokenizer/decoder.h"

#include <nlohmann/json.hpp>

#include "bit_ttt/error.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/json_fields.h"
#include "tokenizer/split.h"

namespace bit_ttt::tokenizer {
namespace {

// "<0xNN>" byte tokens of SentencePiece byte fallback; -1 for other tokens.
int byte_token_value(std::string_view token) {
  if (token.size() != 6 || !token.starts_with("<0x") || token[5] != '>') return -1;
  int value = 0;
  for (size_t i = 3; i < 5; ++i) {
    const char c = token[i];
    int digit = -1;
    if (c >= '0' && c <= '9') digit = c - '0';
    if (c >= 'a' && c <= 'f') digit = c - 'a' + 10;
    if (c >= 'A' && c <= 'F') digit = c - 'A' + 10;
    if (digit < 0) return -1;
    value = value * 16 + digit;
  }
  return value;
}

std::string replace_all(std::string_view text, const DecodeStep& step) {
  std::vector<Match> matches;
  if (step.regex) {
    step.regex->find_all(text, matches);
  } else {
    find_literal(text, step.pattern, matches);
  }
  std::string out;
  size_t prev = 0;
  for (const Match& m : matches) {
    out.append(text.substr(prev, m.begin - prev));
    out.append(step.content);
    prev = m.end;
  }
  out.append(text.substr(prev));
  return out;
}

// HF's Strip on one token: up to n_strip_start leading and n_strip_stop
// trailing copies of the character.
std::string strip_token(std::string_view token, const DecodeStep& step) {
  std::vector<size_t> starts;  // byte offset of each character
  std::vector<char32_t> chars;
  for (size_t pos = 0; pos < token.size();) {
    starts.push_back(pos);
    chars.push_back(next_code_point(token, pos));
  }
  const auto n = static_cast<int64_t>(chars.size());
  int64_t start_cut = 0;
  for (int64_t i = 0; i < std::min(step.n_strip_start, n); ++i) {
    if (chars[static_cast<size_t>(i)] != step.strip_char) break;
    start_cut = i + 1;
  }
  int64_t stop_cut = n;
  for (int64_t i = 0; i < step.n_strip_stop && n - i - 1 >= 0; ++i) {
    if (chars[static_cast<size_t>(n - i - 1)] != step.strip_char) break;
    stop_cut = n - i - 1;
  }
  if (start_cut >= stop_cut) return {};
  const size_t begin = starts[static_cast<size_t>(start_cut)];
  const size_t end = stop_cut == n ? token.size() : starts[static_cast<size_t>(stop_cut)];
  return std::string(token.substr(begin, end - begin));
}

// Metaspace: the replacement character becomes a space, except in the first
// token (when a prefix space was added at encode time) where it is dropped.
std::string metaspace_token(std::string_view token, const DecodeStep& step, bool first) {
  std::string out;
  out.reserve(token.size());
  size_t pos = 0;
  while (pos < token.size()) {
    if (token.substr(pos).starts_with(step.replacement)) {
      if (!(first && step.strip_first)) out += ' ';
      pos += step.replacement.size();
    } else {
      out += token[pos++];
    }
  }
  return out;
}

// ByteLevel: a token whose characters are all byte symbols stands for those
// bytes; any other token (an added token like "<|x|>" with a foreign
// character) is taken as its own UTF-8.
std::string byte_level_bytes(std::string_view token) {
  std::string bytes;
  bytes.reserve(token.size());
  size_t pos = 0;
  while (pos < token.size()) {
    const int byte = symbol_byte(next_code_point(token, pos));
    if (byte < 0) return std::string(token);
    bytes.push_back(static_cast<char>(byte));
  }
  return bytes;
}

}  // namespace

DecoderPipeline::DecoderPipeline(const nlohmann::json& j, const std::string& file) {
  if (j.is_null()) {
    DecodeStep step;
    step.kind = DecodeStepKind::kJoinWithSpace;
    steps_.push_back(step);
    return;
  }
  add(j, file);
}

void DecoderPipeline::add(const nlohmann::json& j, const std::string& file) {
  const std::string what = "decoder in " + file;
  const std::string type = json_type(j, what);
  const std::string component = type + " " + what;
  DecodeStep step;
  step.text_mode = joined_;
  if (type == "Sequence") {
    const auto it = j.find("decoders");
    if (it == j.end() || !it->is_array()) fail(component, ": missing array \"decoders\"");
    for (const auto& child : *it) add(child, file);
    return;
  }
  if (type == "Replace") {
    step.kind = DecodeStepKind::kReplace;
    const PatternSpec pattern = json_pattern(j, "pattern", component);
    if (pattern.text.empty()) fail(component, ": empty pattern is not supported");
    if (pattern.is_regex) {
      if (joined_) {
        fail("unsupported decoder order in ", file,
             ": Replace with a regex after ByteLevel/Fuse cannot be streamed");
      }
      step.regex = std::make_shared<const Regex>(pattern.text, component);
    }
    step.pattern = pattern.text;
    step.content = json_string(j, "content", component);
  } else if (type == "Strip") {
    step.kind = DecodeStepKind::kStrip;
    step.strip_char = json_char(j, "content", component);
    step.n_strip_start = json_int_or(j, "start", 0, component);
    step.n_strip_stop = json_int_or(j, "stop", 0, component);
    if (step.n_strip_start < 0 || step.n_strip_stop < 0) fail(component, ": negative count");
  } else if (type == "Metaspace") {
    step.kind = DecodeStepKind::kMetaspace;
    append_utf8(step.replacement, json_char(j, "replacement", component));
    if (j.contains("prepend_scheme") && !j["prepend_scheme"].is_null()) {
      const std::string scheme = json_string(j, "prepend_scheme", component);
      if (scheme != "always" && scheme != "first" && scheme != "never") {
        fail(component, ": unknown prepend_scheme \"", scheme, "\"");
      }
      step.strip_first = scheme != "never";
    } else {
      step.strip_first = json_bool_or(j, "add_prefix_space", true, component);
    }
  } else if (type == "ByteFallback" || type == "ByteLevel") {
    if (joined_) {
      fail("unsupported decoder order in ", file, ": ", type,
           " after ByteLevel/Fuse (it would see one joined string)");
    }
    step.kind = type == "ByteFallback" ? DecodeStepKind::kByteFallback : DecodeStepKind::kByteLevel;
    if (type == "ByteLevel") joined_ = true;
  } else if (type == "Fuse") {
    step.kind = DecodeStepKind::kFuse;
    joined_ = true;
  } else {
    fail("unsupported decoder ", type, " in ", file,
         " (supported: ByteLevel, ByteFallback, Fuse, Strip, Replace, Metaspace, Sequence)");
  }
  steps_.push_back(std::move(step));
}

DecodeState::DecodeState(const DecoderPipeline& pipeline)
    : steps_(&pipeline.steps()), states_(pipeline.steps().size()) {}

void DecodeState::reset() {
  for (StepState& s : states_) s = StepState{};
}

void DecodeState::push_token(std::string_view token, std::string& out) {
  feed_token(0, std::string(token), out);
}

void DecodeState::finish(std::string& out) {
  // Each step's leftovers flow through the steps after it, which finish later.
  for (size_t i = 0; i < steps_->size(); ++i) finish_step(i, out);
  reset();
}

void DecodeState::feed_token(size_t i, std::string token, std::string& out) {
  if (i == steps_->size()) {
    out += token;
    return;
  }
  const DecodeStep& step = (*steps_)[i];
  StepState& state = states_[i];
  switch (step.kind) {
    case DecodeStepKind::kReplace:
      feed_token(i + 1, replace_all(token, step), out);
      return;
    case DecodeStepKind::kStrip:
      feed_token(i + 1, strip_token(token, step), out);
      return;
    case DecodeStepKind::kMetaspace: {
      const bool first = !state.seen_token;
      state.seen_token = true;
      feed_token(i + 1, metaspace_token(token, step, first), out);
      return;
    }
    case DecodeStepKind::kByteFallback: {
      const int byte = byte_token_value(token);
      if (byte >= 0) {
        state.pending.push_back(static_cast<char>(byte));
        return;
      }
      flush_bytes(i, out);
      feed_token(i + 1, std::move(token), out);
      return;
    }
    case DecodeStepKind::kFuse:
      feed_text(i + 1, token, out);
      return;
    case DecodeStepKind::kByteLevel: {
      std::string text;
      state.utf8.push(byte_level_bytes(token), text);
      if (!text.empty()) feed_text(i + 1, text, out);
      return;
    }
    case DecodeStepKind::kJoinWithSpace:
      if (state.seen_token) feed_text(i + 1, " ", out);
      state.seen_token = true;
      feed_text(i + 1, token, out);
      return;
  }
}

void DecodeState::flush_bytes(size_t i, std::string& out) {
  StepState& state = states_[i];
  if (state.pending.empty()) return;
  std::string bytes;
  bytes.swap(state.pending);
  // HF: a run of byte tokens that is valid UTF-8 becomes one token, else each
  // byte becomes its own U+FFFD token.
  if (find_invalid_utf8(bytes) == std::string::npos) {
    feed_token(i + 1, std::move(bytes), out);
  } else {
    for (size_t k = 0; k < bytes.size(); ++k) feed_token(i + 1, std::string(kReplacementChar), out);
  }
}

void DecodeState::feed_text(size_t i, std::string_view text, std::string& out) {
  if (i == steps_->size()) {
    out += text;
    return;
  }
  const DecodeStep& step = (*steps_)[i];
  StepState& state = states_[i];
  switch (step.kind) {
    case DecodeStepKind::kReplace: {
      std::string buffer = std::move(state.pending);
      state.pending.clear();
      buffer.append(text);
      std::string done;
      size_t prev = 0;
      size_t hit = 0;
      while ((hit = buffer.find(step.pattern, prev)) != std::string::npos) {
        done.append(buffer, prev, hit - prev);
        done += step.content;
        prev = hit + step.pattern.size();
      }
      // Hold back the longest tail that could start the pattern.
      const std::string_view rest = std::string_view(buffer).substr(prev);
      size_t n_hold = std::min(rest.size(), step.pattern.size() - 1);
      while (n_hold > 0 && !step.pattern.starts_with(rest.substr(rest.size() - n_hold))) --n_hold;
      done.append(rest.substr(0, rest.size() - n_hold));
      state.pending.assign(rest.substr(rest.size() - n_hold));
      if (!done.empty()) feed_text(i + 1, done, out);
      return;
    }
    case DecodeStepKind::kStrip: {
      std::string done;
      size_t pos = 0;
      while (pos < text.size()) {
        const size_t begin = pos;
        const char32_t cp = next_code_point(text, pos);
        const std::string_view ch = text.substr(begin, pos - begin);
        if (!state.start_done) {
          if (cp == step.strip_char && state.n_stripped < step.n_strip_start) {
            ++state.n_stripped;
            continue;
          }
          state.start_done = true;
        }
        if (step.n_strip_stop == 0) {
          done.append(ch);
        } else if (cp == step.strip_char) {
          // Trailing copies may still be cut: hold up to n_strip_stop of them.
          if (state.n_held < step.n_strip_stop) {
            ++state.n_held;
          } else {
            done.append(ch);
          }
        } else {
          std::string held;
          append_utf8(held, step.strip_char);
          for (int64_t k = 0; k < state.n_held; ++k) done += held;
          state.n_held = 0;
          done.append(ch);
        }
      }
      if (!done.empty()) feed_text(i + 1, done, out);
      return;
    }
    case DecodeStepKind::kMetaspace:
      // After a join there is a single token: the first one.
      feed_text(i + 1, metaspace_token(text, step, true), out);
      return;
    case DecodeStepKind::kFuse:
      feed_text(i + 1, text, out);
      return;
    case DecodeStepKind::kByteFallback:
    case DecodeStepKind::kByteLevel:
    case DecodeStepKind::kJoinWithSpace:
      // Rejected when the pipeline is built.
      feed_text(i + 1, text, out);
      return;
  }
}

void DecodeState::finish_step(size_t i, std::string& out) {
  const DecodeStep& step = (*steps_)[i];
  StepState& state = states_[i];
  switch (step.kind) {
    case DecodeStepKind::kByteFallback:
      flush_bytes(i, out);
      return;
    case DecodeStepKind::kByteLevel: {
      std::string text;
      state.utf8.finish(text);
      if (!text.empty()) feed_text(i + 1, text, out);
      return;
    }
    case DecodeStepKind::kReplace:
      if (step.text_mode && !state.pending.empty()) {
        std::string rest;
        rest.swap(state.pending);
        feed_text(i + 1, rest, out);
      }
      return;
    case DecodeStepKind::kStrip:  // held trailing characters are the ones Strip cuts
    case DecodeStepKind::kMetaspace:
    case DecodeStepKind::kFuse:
    case DecodeStepKind::kJoinWithSpace:
      return;
  }
}

}  // namespace bit_ttt::tokenizer
