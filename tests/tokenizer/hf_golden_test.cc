// Golden ids and decodes from Hugging Face tokenizers 0.23.2 (see
// data/make_golden.js): the shared tokenizers as they are, plus variants with
// other pre-tokenizers, split behaviours, Metaspace schemes, added-token
// flags, normalizers, decoders and post-processors patched in.
#include <gtest/gtest.h>

#include "tokenizer_test_util.h"

namespace bit_ttt {
namespace {

const nlohmann::json& golden() {
  static const nlohmann::json data =
      testing::read_json(testing::tokenizer_test_data_dir() / "hf_golden.json");
  return data;
}

std::vector<std::string> suite_names() {
  std::vector<std::string> names;
  for (const auto& suite : golden()["suites"]) names.push_back(suite["name"]);
  return names;
}

const nlohmann::json& suite_named(const std::string& name) {
  for (const auto& suite : golden()["suites"]) {
    if (suite["name"] == name) return suite;
  }
  throw std::runtime_error("no golden suite " + name);
}

// The same patch semantics as make_golden.js.
void apply_patch(nlohmann::json& j, const nlohmann::json& patch) {
  for (const auto& [key, value] : patch.items()) {
    if (key == "model") {
      for (const auto& [field, field_value] : value.items()) j["model"][field] = field_value;
    } else if (key == "added_tokens_extra") {
      for (const auto& token : value) j["added_tokens"].push_back(token);
    } else {
      j[key] = value;
    }
  }
}

class HfGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(HfGolden, EncodeDecodeStream) {
  const nlohmann::json& suite = suite_named(GetParam());
  const std::string base = suite["base"];
  nlohmann::json json;
  if (base == "@byte_level") {
    json = nlohmann::json::parse(
        byte_level_tokenizer_json({"<|endoftext|>", "<|pad|>", "<|im_start|>"}));
  } else {
    BT_REQUIRE_SHARED(base, base_path);
    static std::map<std::string, nlohmann::json> parsed;  // tests run on one thread
    if (!parsed.contains(base)) parsed[base] = testing::read_json(base_path);
    json = parsed[base];
  }
  apply_patch(json, suite["patch"]);
  const Tokenizer tokenizer = Tokenizer::from_json_text(json.dump(), "golden:" + GetParam());

  for (const auto& c : suite["cases"]) {
    const std::string text = c["text"];
    SCOPED_TRACE("text \"" + text + "\"");
    const auto ids = c["ids"].get<std::vector<int32_t>>();
    const auto ids_with_special =
        c.contains("ids_with_special") ? c["ids_with_special"].get<std::vector<int32_t>>() : ids;
    const std::string decoded = c.contains("decoded") ? c["decoded"].get<std::string>() : text;
    const std::string skipped = c.contains("decoded_with_special_skipped")
                                    ? c["decoded_with_special_skipped"].get<std::string>()
                                    : decoded;
    EXPECT_EQ(tokenizer.encode(text, false), ids);
    EXPECT_EQ(tokenizer.encode(text, true), ids_with_special);
    EXPECT_EQ(tokenizer.decode(ids), decoded);
    EXPECT_EQ(tokenizer.decode(ids_with_special, true), skipped);

    // Streaming gives the same text, in valid UTF-8 pieces.
    for (const bool skip : {false, true}) {
      StreamDecoder stream(tokenizer, skip);
      std::string joined;
      for (const int32_t id : ids_with_special) {
        const std::string piece = stream.push(id);
        EXPECT_TRUE(testing::is_valid_utf8(piece));
        joined += piece;
      }
      joined += stream.flush();
      EXPECT_EQ(joined, skip ? skipped : tokenizer.decode(ids_with_special, false));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Suites, HfGolden, ::testing::ValuesIn(suite_names()),
                         [](const ::testing::TestParamInfo<std::string>& param_info) {
                           return param_info.param;
                         });

}  // namespace
}  // namespace bit_ttt
