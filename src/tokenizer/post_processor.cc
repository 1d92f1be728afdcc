#include "tokenizer/post_processor.h"

#include <nlohmann/json.hpp>

#include "bit_ttt/error.h"
#include "tokenizer/json_fields.h"

namespace bit_ttt::tokenizer {
namespace {

// The single-sequence template: runs of fixed ids around the sequence ("$A").
class TemplatePostProcessor final : public PostProcessor {
 public:
  TemplatePostProcessor(std::vector<int32_t> before, std::vector<int32_t> after)
      : before_(std::move(before)), after_(std::move(after)) {}
  void add_special_tokens(std::vector<int32_t>& ids) const override {
    ids.insert(ids.begin(), before_.begin(), before_.end());
    ids.insert(ids.end(), after_.begin(), after_.end());
  }
  std::optional<int32_t> leading_token() const override {
    if (before_.size() != 1) return std::nullopt;
    return before_[0];
  }
  std::optional<int32_t> trailing_token() const override {
    if (after_.size() != 1) return std::nullopt;
    return after_[0];
  }

 private:
  std::vector<int32_t> before_;
  std::vector<int32_t> after_;
};

class SequencePostProcessor final : public PostProcessor {
 public:
  explicit SequencePostProcessor(std::vector<std::unique_ptr<const PostProcessor>> steps)
      : steps_(std::move(steps)) {}
  void add_special_tokens(std::vector<int32_t>& ids) const override {
    for (const auto& step : steps_) step->add_special_tokens(ids);
  }
  std::optional<int32_t> leading_token() const override {
    for (const auto& step : steps_) {
      if (auto id = step->leading_token()) return id;
    }
    return std::nullopt;
  }
  std::optional<int32_t> trailing_token() const override {
    for (const auto& step : steps_) {
      if (auto id = step->trailing_token()) return id;
    }
    return std::nullopt;
  }

 private:
  std::vector<std::unique_ptr<const PostProcessor>> steps_;
};

// ByteLevel only trims offsets, which this API does not expose.
class NoOpPostProcessor final : public PostProcessor {
 public:
  void add_special_tokens(std::vector<int32_t>&) const override {}
};

std::unique_ptr<const PostProcessor> parse_template(const nlohmann::json& j,
                                                    const std::string& what) {
  const auto single = j.find("single");
  if (single == j.end() || !single->is_array()) fail(what, ": missing array \"single\"");
  const auto specials = j.find("special_tokens");
  std::vector<int32_t> before;
  std::vector<int32_t> after;
  bool seen_sequence = false;
  for (const auto& piece : *single) {
    if (piece.contains("Sequence")) {
      const std::string id = json_string(piece["Sequence"], "id", what);
      if (id != "A" || seen_sequence) {
        fail(what, ": the single template must contain sequence A exactly once, got ",
             single->dump());
      }
      seen_sequence = true;
    } else if (piece.contains("SpecialToken")) {
      const std::string name = json_string(piece["SpecialToken"], "id", what);
      if (specials == j.end() || !specials->is_object() || !specials->contains(name)) {
        fail(what, ": special token \"", name, "\" is used but not defined in special_tokens");
      }
      const auto& ids = (*specials)[name]["ids"];
      if (!ids.is_array()) fail(what, ": special_tokens[\"", name, "\"] has no \"ids\" array");
      for (const auto& id : ids) {
        if (!id.is_number_integer()) fail(what, ": special_tokens[\"", name, "\"] has a bad id");
        (seen_sequence ? after : before).push_back(id.get<int32_t>());
      }
    } else {
      fail(what, ": unknown template piece ", piece.dump());
    }
  }
  if (!seen_sequence) fail(what, ": the single template has no sequence A");
  return std::make_unique<TemplatePostProcessor>(std::move(before), std::move(after));
}

// RobertaProcessing / BertProcessing: "cls": [token, id], "sep": [token, id].
int32_t special_pair_id(const nlohmann::json& j, const char* key, const std::string& what) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_array() || it->size() != 2 || !(*it)[1].is_number_integer()) {
    fail(what, ": field \"", key, "\" must be [token, id]");
  }
  return (*it)[1].get<int32_t>();
}

}  // namespace

std::unique_ptr<const PostProcessor> parse_post_processor(const nlohmann::json& j,
                                                          const std::string& file) {
  if (j.is_null()) return nullptr;
  const std::string what = "post_processor in " + file;
  const std::string type = json_type(j, what);
  const std::string component = type + " " + what;
  if (type == "TemplateProcessing") return parse_template(j, component);
  if (type == "ByteLevel") return std::make_unique<NoOpPostProcessor>();
  if (type == "RobertaProcessing" || type == "BertProcessing") {
    return std::make_unique<TemplatePostProcessor>(
        std::vector<int32_t>{special_pair_id(j, "cls", component)},
        std::vector<int32_t>{special_pair_id(j, "sep", component)});
  }
  if (type == "Sequence") {
    const auto it = j.find("processors");
    if (it == j.end() || !it->is_array()) fail(component, ": missing array \"processors\"");
    std::vector<std::unique_ptr<const PostProcessor>> steps;
    for (const auto& child : *it) {
      if (auto step = parse_post_processor(child, file)) steps.push_back(std::move(step));
    }
    return std::make_unique<SequencePostProcessor>(std::move(steps));
  }
  fail("unsupported post_processor ", type, " in ", file,
       " (supported: TemplateProcessing, ByteLevel, RobertaProcessing, BertProcessing, "
       "Sequence)");
}

}  // namespace bit_ttt::tokenizer
