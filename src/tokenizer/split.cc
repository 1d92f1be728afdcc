#include "tokenizer/split.h"

#include <algorithm>

#include "bit_ttt/error.h"

namespace bit_ttt::tokenizer {
namespace {

struct Span {
  size_t begin;
  size_t end;
  bool is_match;
};

}  // namespace

SplitBehavior parse_split_behavior(std::string_view name, const std::string& what) {
  if (name == "Removed") return SplitBehavior::kRemoved;
  if (name == "Isolated") return SplitBehavior::kIsolated;
  if (name == "MergedWithPrevious") return SplitBehavior::kMergedWithPrevious;
  if (name == "MergedWithNext") return SplitBehavior::kMergedWithNext;
  if (name == "Contiguous") return SplitBehavior::kContiguous;
  fail("unknown split behavior \"", std::string(name), "\" in ", what);
}

void split_by_matches(size_t text_size, const std::vector<Match>& matches, SplitBehavior behavior,
                      bool invert, std::vector<Match>& pieces) {
  // The text as alternating gap / match spans covering every byte, empty
  // matches included, exactly like Hugging Face's Pattern::find_matches.
  std::vector<Span> spans;
  spans.reserve(matches.size() * 2 + 1);
  size_t prev = 0;
  for (const Match& m : matches) {
    if (prev != m.begin) spans.push_back({prev, m.begin, false});
    spans.push_back({m.begin, m.end, true});
    prev = m.end;
  }
  if (prev != text_size || text_size == 0) spans.push_back({prev, text_size, false});
  if (invert) {
    for (Span& s : spans) s.is_match = !s.is_match;
  }

  std::vector<Span> out;  // is_match now means "remove this span"
  out.reserve(spans.size());
  switch (behavior) {
    case SplitBehavior::kRemoved:
      out = spans;
      break;
    case SplitBehavior::kIsolated:
      for (const Span& s : spans) out.push_back({s.begin, s.end, false});
      break;
    case SplitBehavior::kContiguous: {
      bool previous_match = false;
      for (const Span& s : spans) {
        if (s.is_match == previous_match && !out.empty()) {
          out.back().end = s.end;
        } else {
          out.push_back({s.begin, s.end, false});
        }
        previous_match = s.is_match;
      }
      break;
    }
    case SplitBehavior::kMergedWithPrevious: {
      bool previous_match = false;
      for (const Span& s : spans) {
        if (s.is_match && !previous_match && !out.empty()) {
          out.back().end = s.end;
        } else {
          out.push_back({s.begin, s.end, false});
        }
        previous_match = s.is_match;
      }
      break;
    }
    case SplitBehavior::kMergedWithNext: {
      bool previous_match = false;
      for (auto it = spans.rbegin(); it != spans.rend(); ++it) {
        if (it->is_match && !previous_match && !out.empty()) {
          out.back().begin = it->begin;
        } else {
          out.push_back({it->begin, it->end, false});
        }
        previous_match = it->is_match;
      }
      std::reverse(out.begin(), out.end());
      break;
    }
  }
  for (const Span& s : out) {
    if (!s.is_match && s.begin != s.end) pieces.push_back({s.begin, s.end});
  }
}

void find_literal(std::string_view text, std::string_view literal, std::vector<Match>& matches) {
  matches.clear();
  if (literal.empty()) return;
  size_t pos = 0;
  while ((pos = text.find(literal, pos)) != std::string_view::npos) {
    matches.push_back({pos, pos + literal.size()});
    pos += literal.size();
  }
}

}  // namespace bit_ttt::tokenizer
