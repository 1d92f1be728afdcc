#include "tokenizer/regex.h"

#include <pcre2.h>

#include "bit_ttt/error.h"
#include "tokenizer/utf8.h"

namespace bit_ttt::tokenizer {
namespace {

// Match data and a JIT stack per thread: large enough for long whitespace runs
// under lookahead patterns; a Regex itself stays immutable.
struct MatchScratch {
  pcre2_match_data* data = nullptr;
  pcre2_match_context* context = nullptr;
  pcre2_jit_stack* jit_stack = nullptr;
  MatchScratch() {
    data = pcre2_match_data_create(1, nullptr);  // only the whole match is read
    context = pcre2_match_context_create(nullptr);
    jit_stack = pcre2_jit_stack_create(32 * 1024, 4 * 1024 * 1024, nullptr);
    if (context && jit_stack) pcre2_jit_stack_assign(context, nullptr, jit_stack);
  }
  ~MatchScratch() {
    pcre2_match_data_free(data);
    pcre2_match_context_free(context);
    pcre2_jit_stack_free(jit_stack);
  }
  MatchScratch(const MatchScratch&) = delete;
  MatchScratch& operator=(const MatchScratch&) = delete;
};

MatchScratch& scratch() {
  thread_local MatchScratch s;
  return s;
}

std::string pcre2_message(int code) {
  PCRE2_UCHAR buffer[256];
  pcre2_get_error_message(code, buffer, sizeof(buffer));
  return reinterpret_cast<const char*>(buffer);
}

}  // namespace

Regex::Regex(std::string_view pattern, const std::string& what) : what_(what) {
  const std::string translated = oniguruma_compatible(pattern);
  int error_code = 0;
  PCRE2_SIZE error_offset = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(translated.data()),
                                   translated.size(), PCRE2_UTF | PCRE2_UCP, &error_code,
                                   &error_offset, nullptr);
  if (code == nullptr) {
    fail("cannot compile regex of ", what, ": ", pcre2_message(error_code), " at offset ",
         error_offset, " in pattern ", std::string(pattern));
  }
  // JIT is only a speed-up: pcre2_match falls back to the interpreter without it.
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
  code_.reset(code, pcre2_code_free);
}

bool Regex::find(std::string_view text, size_t start, Match& match) const {
  MatchScratch& s = scratch();
  if (s.data == nullptr) fail("out of memory for regex match data (", what_, ")");
  const int rc = pcre2_match(code_.get(), reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(),
                             start, PCRE2_NO_UTF_CHECK, s.data, s.context);
  if (rc == PCRE2_ERROR_NOMATCH) return false;
  // rc == 0 only says the ovector is too small for the groups; group 0 is set.
  if (rc < 0) fail("regex match failed for ", what_, ": ", pcre2_message(rc));
  const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(s.data);
  match.begin = ovector[0];
  match.end = ovector[1];
  return true;
}

void Regex::find_all(std::string_view text, std::vector<Match>& matches) const {
  matches.clear();
  size_t pos = 0;
  bool have_previous = false;
  size_t previous_end = 0;
  Match m{};
  while (pos <= text.size() && find(text, pos, m)) {
    if (m.begin == m.end && have_previous && m.end == previous_end) {
      // An empty match touching the previous match: move one character on.
      if (m.begin >= text.size()) break;
      pos = m.begin + utf8_char_len(static_cast<unsigned char>(text[m.begin]));
      continue;
    }
    matches.push_back(m);
    have_previous = true;
    previous_end = m.end;
    if (m.begin == m.end) {
      if (m.end >= text.size()) break;
      pos = m.end + utf8_char_len(static_cast<unsigned char>(text[m.end]));
    } else {
      pos = m.end;
    }
  }
}

std::string oniguruma_compatible(std::string_view pattern) {
  std::string out;
  out.reserve(pattern.size() + 16);
  bool in_class = false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      const char e = pattern[i + 1];
      if (e == 's') {
        out += in_class ? "\\s\\x{85}" : "[\\s\\x{85}]";
      } else if (e == 'S' && !in_class) {
        out += "[^\\s\\x{85}]";
      } else if (e == 'Q') {
        // \Q...\E is literal text: copy it untouched.
        const size_t end = pattern.find("\\E", i + 2);
        const size_t stop = end == std::string_view::npos ? pattern.size() : end + 2;
        out.append(pattern.substr(i, stop - i));
        i = stop - 1;
        continue;
      } else {
        out += c;
        out += e;
      }
      ++i;
      continue;
    }
    if (in_class) {
      if (c == ']') in_class = false;
      out += c;
      continue;
    }
    if (c == '[') {
      in_class = true;
      out += c;
      // A ']' right after '[' or '[^' is a literal member, not the end.
      if (i + 1 < pattern.size() && pattern[i + 1] == '^') out += pattern[++i];
      if (i + 1 < pattern.size() && pattern[i + 1] == ']') out += pattern[++i];
      continue;
    }
    out += c;
  }
  return out;
}

std::string escape_regex(std::string_view literal) {
  // \Q..\E quotes everything except a literal "\E", which is split out.
  std::string out = "\\Q";
  size_t pos = 0;
  while (true) {
    const size_t e = literal.find("\\E", pos);
    if (e == std::string_view::npos) {
      out.append(literal.substr(pos));
      break;
    }
    out.append(literal.substr(pos, e - pos));
    out += "\\E\\\\E\\Q";
    pos = e + 2;
  }
  out += "\\E";
  return out;
}

}  // namespace bit_ttt::tokenizer
