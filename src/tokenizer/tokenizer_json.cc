// Loading tokenizer.json into a Tokenizer::Impl.
#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>
#include <span>

#include "bit_ttt/error.h"
#include "tokenizer/fingerprint.h"
#include "tokenizer/json_fields.h"
#include "tokenizer/tokenizer_impl.h"

namespace bit_ttt {
namespace {

using tokenizer::AddedToken;

std::vector<AddedToken> parse_added_tokens(const nlohmann::json& root, const std::string& file) {
  std::vector<AddedToken> tokens;
  const auto it = root.find("added_tokens");
  if (it == root.end() || it->is_null()) return tokens;
  if (!it->is_array()) fail("added_tokens in ", file, " must be an array");
  for (size_t i = 0; i < it->size(); ++i) {
    const auto& j = (*it)[i];
    const std::string what = concat("added_tokens[", i, "] in ", file);
    AddedToken token;
    // The "id" field is only informative: HF re-derives ids on load.
    token.content = tokenizer::json_string(j, "content", what);
    token.special = tokenizer::json_bool_or(j, "special", false, what);
    token.single_word = tokenizer::json_bool_or(j, "single_word", false, what);
    token.lstrip = tokenizer::json_bool_or(j, "lstrip", false, what);
    token.rstrip = tokenizer::json_bool_or(j, "rstrip", false, what);
    token.normalized = tokenizer::json_bool_or(j, "normalized", !token.special, what);
    tokens.push_back(std::move(token));
  }
  return tokens;
}

const nlohmann::json& member_or_null(const nlohmann::json& root, const char* key) {
  static const nlohmann::json null_json;
  const auto it = root.find(key);
  return it == root.end() ? null_json : *it;
}

void build_id_tables(Tokenizer::Impl& impl) {
  const auto& model_tokens = impl.model->tokens_by_id();
  const auto& model_has = impl.model->has_token();
  size_t n_ids = model_tokens.size();
  if (!impl.added.by_id.empty()) {
    n_ids = std::max(n_ids, static_cast<size_t>(impl.added.by_id.back().id) + 1);
  }
  impl.token_text.assign(n_ids, std::string());
  impl.has_token.assign(n_ids, 0);
  impl.special.assign(n_ids, 0);
  for (size_t id = 0; id < model_tokens.size(); ++id) {
    if (!model_has[id]) continue;
    impl.token_text[id] = model_tokens[id];
    impl.has_token[id] = 1;
  }
  for (const AddedToken& t : impl.added.by_id) {
    const auto id = static_cast<size_t>(t.id);
    impl.token_text[id] = impl.added.decode_text.at(t.id);
    impl.has_token[id] = 1;
  }
  for (size_t id = 0; id < n_ids; ++id) {
    if (impl.has_token[id] && impl.added.special_contents.contains(impl.token_text[id])) {
      impl.special[id] = 1;
    }
  }
}

std::optional<int32_t> find_token(const Tokenizer::Impl& impl, std::string_view name,
                                  bool special_only) {
  if (const auto it = impl.added.id_by_content.find(std::string(name));
      it != impl.added.id_by_content.end()) {
    if (!special_only || impl.added.special_contents.contains(std::string(name))) return it->second;
  }
  if (special_only) return std::nullopt;
  return impl.model->token_to_id(name);
}

// Known names, most specific first; special added tokens beat plain vocab
// entries, which beat what the post-processor template suggests.
constexpr std::array<std::string_view, 5> kBosNames = {
    "<|begin_of_text|>", "<s>", "<bos>", "<|startoftext|>", "<｜begin▁of▁sentence｜>"};
constexpr std::array<std::string_view, 7> kEosNames = {
    "</s>",  "<|endoftext|>", "<|end_of_text|>",      "<|eot_id|>",
    "<eos>", "<|im_end|>",    "<｜end▁of▁sentence｜>"};
// Chat turn ends a generator should also stop at.
constexpr std::array<std::string_view, 5> kTurnEndNames = {"<|eot_id|>", "<|eom_id|>", "<|im_end|>",
                                                           "<|end|>", "<end_of_turn>"};

std::optional<int32_t> first_known(const Tokenizer::Impl& impl,
                                   std::span<const std::string_view> names) {
  for (const bool special_only : {true, false}) {
    for (const std::string_view name : names) {
      if (auto id = find_token(impl, name, special_only)) return id;
    }
  }
  return std::nullopt;
}

void find_special_ids(Tokenizer::Impl& impl) {
  if (impl.post_processor) impl.bos_id = impl.post_processor->leading_token();
  if (!impl.bos_id) impl.bos_id = first_known(impl, kBosNames);
  // GPT-2 style vocabularies mark document boundaries with <|endoftext|> only
  // and use it as BOS too (as HF's GPT-2 config does).
  if (!impl.bos_id) impl.bos_id = find_token(impl, "<|endoftext|>", false);

  impl.eos_id = first_known(impl, kEosNames);
  if (!impl.eos_id && impl.post_processor) impl.eos_id = impl.post_processor->trailing_token();

  if (impl.eos_id) impl.stop_ids.push_back(*impl.eos_id);
  for (const std::string_view name : kTurnEndNames) {
    if (auto id = find_token(impl, name, false)) impl.stop_ids.push_back(*id);
  }
  std::sort(impl.stop_ids.begin(), impl.stop_ids.end());
  impl.stop_ids.erase(std::unique(impl.stop_ids.begin(), impl.stop_ids.end()), impl.stop_ids.end());
}

std::string compute_fingerprint(const Tokenizer::Impl& impl) {
  tokenizer::Fnv1a64 hash;
  hash.add("bit_ttt tokenizer fingerprint v1\n");
  const auto& tokens = impl.model->tokens_by_id();
  const auto& has = impl.model->has_token();
  hash.add("vocab");
  for (size_t id = 0; id < tokens.size(); ++id) {
    if (!has[id]) continue;
    hash.add_int(static_cast<int64_t>(id));
    hash.add_field(tokens[id]);
  }
  hash.add("merges");
  for (const auto& [left, right] : impl.model->merges_in_rank_order()) {
    hash.add_int(left);
    hash.add_int(right);
  }
  hash.add("added");
  for (const AddedToken& t : impl.added.by_id) {
    hash.add_int(t.id);
    hash.add_field(t.content);
    hash.add_int((t.special ? 1 : 0) | (t.single_word ? 2 : 0) | (t.lstrip ? 4 : 0) |
                 (t.rstrip ? 8 : 0) | (t.normalized ? 16 : 0));
  }
  return hash.hex();
}

void check_unsupported_top_level(const nlohmann::json& root, const std::string& file) {
  for (const char* key : {"truncation", "padding"}) {
    const auto it = root.find(key);
    if (it != root.end() && !it->is_null()) {
      fail("unsupported ", key, " in ", file, " (encode never truncates or pads; set \"", key,
           "\": null)");
    }
  }
}

std::unique_ptr<const tokenizer::BpeModel> parse_model(const nlohmann::json& root,
                                                       const std::string& file) {
  const auto it = root.find("model");
  if (it == root.end() || !it->is_object()) fail(file, ": missing object \"model\"");
  const nlohmann::json& model = *it;
  // Old files omit the type of a BPE model but always have merges.
  const std::string type = model.contains("type") ? tokenizer::json_type(model, "model in " + file)
                           : model.contains("merges") ? "BPE"
                                                      : "(no type)";
  if (type != "BPE") {
    fail("unsupported model type ", type, " in ", file, " (only BPE is supported)");
  }
  return std::make_unique<const tokenizer::BpeModel>(model, file);
}

}  // namespace

std::shared_ptr<const Tokenizer::Impl> load_tokenizer_json(std::string_view json_text,
                                                           const std::string& source_name) {
  auto impl = std::make_shared<Tokenizer::Impl>();
  impl->source_name = source_name;
  const std::string& file = source_name;
  try {
    nlohmann::json root;
    try {
      root = nlohmann::json::parse(json_text);
    } catch (const nlohmann::json::parse_error& e) {
      fail("invalid JSON in ", file, ": ", e.what());
    }
    if (!root.is_object()) fail(file, ": a tokenizer.json must be a JSON object");
    check_unsupported_top_level(root, file);
    impl->model = parse_model(root, file);
    const std::vector<AddedToken> file_tokens = parse_added_tokens(root, file);
    impl->normalizer = tokenizer::parse_normalizer(member_or_null(root, "normalizer"), file);
    impl->added =
        tokenizer::build_added_vocabulary(file_tokens, *impl->model, impl->normalizer.get());
    impl->pre_tokenizer =
        tokenizer::parse_pre_tokenizer(member_or_null(root, "pre_tokenizer"), file);
    impl->post_processor =
        tokenizer::parse_post_processor(member_or_null(root, "post_processor"), file);
    impl->decoder =
        std::make_unique<const tokenizer::DecoderPipeline>(member_or_null(root, "decoder"), file);
    impl->raw_matcher = std::make_unique<const tokenizer::AddedTokenMatcher>(
        impl->added, false, impl->normalizer.get());
    impl->normalized_matcher = std::make_unique<const tokenizer::AddedTokenMatcher>(
        impl->added, true, impl->normalizer.get());
  } catch (const nlohmann::json::exception& e) {
    fail(file, ": malformed tokenizer.json: ", e.what());
  }
  build_id_tables(*impl);
  if (impl->post_processor) {
    std::vector<int32_t> added;
    impl->post_processor->add_special_tokens(added);
    for (const int32_t id : added) impl->check_id(id, "post_processor special token");
  }
  find_special_ids(*impl);
  impl->fingerprint = compute_fingerprint(*impl);
  return impl;
}

}  // namespace bit_ttt
