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
  pcre2_code* code =
      pcre2_compile(reinterpret_cast<PCRE2_SPTR>(translated.data()), translated.size(),
                    PCRE2_UTF | PCRE2_UCP, &error_code, &error_offset, nullptr);
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

namespace {

// Hugging Face's Oniguruma has Unicode 16 tables; PCRE2 10.42 has Unicode 14.
// These tables are what PCRE2 lacks, measured code point by code point
// against HF tokenizers 0.23.2 (redundant, and harmless, with a newer PCRE2).
constexpr std::string_view kExtraLetters =
    R"(\x{1C89}-\x{1C8A}\x{A7CB}-\x{A7CD}\x{A7DA}-\x{A7DC}\x{105C0}-\x{105F3}\x{10D4A}-\x{10D65})"
    R"(\x{10D6F}-\x{10D85}\x{10EC2}-\x{10EC4}\x{1123F}-\x{11240}\x{11380}-\x{11389}\x{1138B})"
    R"(\x{1138E}\x{11390}-\x{113B5}\x{113B7}\x{113D1}\x{113D3}\x{11BC0}-\x{11BE0}\x{11F02})"
    R"(\x{11F04}-\x{11F10}\x{11F12}-\x{11F33}\x{1342F}\x{13441}-\x{13446}\x{13460}-\x{143FA})"
    R"(\x{16100}-\x{1611D}\x{16D40}-\x{16D6C}\x{18CFF}\x{1B132}\x{1B155}\x{1DF25}-\x{1DF2A})"
    R"(\x{1E030}-\x{1E06D}\x{1E4D0}-\x{1E4EB}\x{1E5D0}-\x{1E5ED}\x{1E5F0}\x{2B739})"
    R"(\x{2EBF0}-\x{2EE5D}\x{31350}-\x{323AF})";
constexpr std::string_view kExtraNumbers =
    R"(\x{10D40}-\x{10D49}\x{116D0}-\x{116E3}\x{11BF0}-\x{11BF9}\x{11F50}-\x{11F59})"
    R"(\x{16130}-\x{16139}\x{16D70}-\x{16D79}\x{1CCF0}-\x{1CCF9}\x{1D2C0}-\x{1D2D3})"
    R"(\x{1E4F0}-\x{1E4F9}\x{1E5F1}-\x{1E5FA})";
// Oniguruma's \d is \p{Nd}; its \w is Alphabetic, marks, Nd, Pc (plus a few
// Latin-1 numbers): PCRE2's \w is L, N and '_' instead.
constexpr std::string_view kExtraDigits =
    R"(\x{10D40}-\x{10D49}\x{116D0}-\x{116E3}\x{11BF0}-\x{11BF9}\x{11F50}-\x{11F59})"
    R"(\x{16130}-\x{16139}\x{16D70}-\x{16D79}\x{1CCF0}-\x{1CCF9}\x{1E4F0}-\x{1E4F9})"
    R"(\x{1E5F1}-\x{1E5FA})";
constexpr std::string_view kExtraWord =
    R"(\x{B2}-\x{B3}\x{B9}\x{BC}-\x{BE}\x{897}\x{CF3}\x{ECE}\x{1C89}-\x{1C8A})"
    R"(\x{A7CB}-\x{A7CD}\x{A7DA}-\x{A7DC}\x{105C0}-\x{105F3}\x{10D40}-\x{10D65})"
    R"(\x{10D69}-\x{10D6D}\x{10D6F}-\x{10D85}\x{10EC2}-\x{10EC4}\x{10EFC}-\x{10EFF})"
    R"(\x{1123F}-\x{11241}\x{11380}-\x{11389}\x{1138B}\x{1138E}\x{11390}-\x{113B5})"
    R"(\x{113B7}-\x{113C0}\x{113C2}\x{113C5}\x{113C7}-\x{113CA}\x{113CC}-\x{113D3})"
    R"(\x{113E1}-\x{113E2}\x{116D0}-\x{116E3}\x{11BC0}-\x{11BE0}\x{11BF0}-\x{11BF9})"
    R"(\x{11F00}-\x{11F10}\x{11F12}-\x{11F3A}\x{11F3E}-\x{11F42}\x{11F50}-\x{11F5A})"
    R"(\x{1342F}\x{13440}-\x{13455}\x{13460}-\x{143FA}\x{16100}-\x{16139})"
    R"(\x{16D40}-\x{16D6C}\x{16D70}-\x{16D79}\x{18CFF}\x{1B132}\x{1B155}\x{1CCF0}-\x{1CCF9})"
    R"(\x{1DF25}-\x{1DF2A}\x{1E030}-\x{1E06D}\x{1E08F}\x{1E4D0}-\x{1E4F9})"
    R"(\x{1E5D0}-\x{1E5FA}\x{2B739}\x{2EBF0}-\x{2EE5D}\x{31350}-\x{323AF})";
// Oniguruma's \s is Unicode White_Space: PCRE2's lacks U+0085 and adds U+180E.
constexpr std::string_view kSpaces =
    R"(\t\n\x{B}\f\r\x{20}\x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F})"
    R"(\x{205F}\x{3000})";

// The class members standing for escape `e` (after the backslash, e.g. "p{L}"),
// or empty when PCRE2 reads it like Oniguruma already.
std::string class_members(std::string_view e) {
  if (e == "p{L}" || e == "pL") return concat(R"(\p{L})", kExtraLetters);
  if (e == "p{N}" || e == "pN") return concat(R"(\p{N})", kExtraNumbers);
  if (e == "s") return std::string(kSpaces);
  if (e == "d") return concat(R"(\p{Nd})", kExtraDigits);
  if (e == "w") return concat(R"(\p{Alphabetic}\p{M}\p{Nd}\p{Pc})", kExtraWord);
  if (e == "h") return "0-9A-Fa-f";  // Oniguruma: hex digit, not horizontal space
  return {};
}

// The negated escapes that can be rewritten outside a class.
std::string negated_members(std::string_view e) {
  if (e == "P{L}" || e == "PL") return class_members("p{L}");
  if (e == "P{N}" || e == "PN") return class_members("p{N}");
  if (e == "S" || e == "D" || e == "W" || e == "H") {
    return class_members(std::string(1, static_cast<char>(e[0] - 'A' + 'a')));
  }
  return {};
}

// Length of the escape starting after a backslash at pattern[i]: "p{..}" or one char.
size_t escape_length(std::string_view pattern, size_t i) {
  if ((pattern[i] == 'p' || pattern[i] == 'P') && i + 1 < pattern.size() && pattern[i + 1] == '{') {
    const size_t close = pattern.find('}', i);
    if (close != std::string_view::npos) return close - i + 1;
  }
  return 1;
}

}  // namespace

std::string oniguruma_compatible(std::string_view pattern) {
  std::string out;
  out.reserve(pattern.size() + 64);
  bool in_class = false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      if (pattern[i + 1] == 'Q') {
        // \Q...\E is literal text: copy it untouched.
        const size_t end = pattern.find("\\E", i + 2);
        const size_t stop = end == std::string_view::npos ? pattern.size() : end + 2;
        out.append(pattern.substr(i, stop - i));
        i = stop - 1;
        continue;
      }
      const size_t n = escape_length(pattern, i + 1);
      const std::string_view escape = pattern.substr(i + 1, n);
      const std::string members = class_members(escape);
      const std::string negated = in_class ? std::string() : negated_members(escape);
      if (!members.empty()) {
        out += in_class ? members : "[" + members + "]";
      } else if (!negated.empty()) {
        out += "[^" + negated + "]";
      } else {
        out += '\\';
        out.append(escape);
      }
      i += n;
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
