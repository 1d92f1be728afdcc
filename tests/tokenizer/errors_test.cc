// Bad files and bad input: every problem is a bit_ttt::Error whose message
// names the file (or source) and what is wrong.
#include <gtest/gtest.h>

#include "tokenizer_test_util.h"

namespace bit_ttt {
namespace {

// The error message of `f`, or "" if it did not throw an Error.
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// A small valid tokenizer.json to break one field at a time.
nlohmann::json base_json() {
  return nlohmann::json::parse(byte_level_tokenizer_json({"<s>"}));
}

std::string load_error(const nlohmann::json& j) {
  return error_of([&] { Tokenizer::from_json_text(j.dump(), "my/tokenizer.json"); });
}

TEST(TokenizerErrors, MissingFile) {
  const testing::TempDir dir;
  const std::string path = (dir / "nope.json").string();
  const std::string message = error_of([&] { Tokenizer::load(path); });
  EXPECT_NE(message.find(path), std::string::npos) << message;
}

TEST(TokenizerErrors, InvalidJson) {
  const testing::TempDir dir;
  const auto path = dir / "broken.json";
  testing::write_file_bytes(path, "{\"model\": [1, 2");
  const std::string message = error_of([&] { Tokenizer::load(path.string()); });
  EXPECT_NE(message.find("invalid JSON"), std::string::npos) << message;
  EXPECT_NE(message.find(path.string()), std::string::npos) << message;
  EXPECT_NE(error_of([] { Tokenizer::from_json_text("[]", "x.json"); }).find("x.json"),
            std::string::npos);
}

TEST(TokenizerErrors, UnsupportedComponentsNameTheComponentAndFile) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"model", "unsupported model type WordPiece in my/tokenizer.json"},
      {"normalizer", "unsupported normalizer NFC in my/tokenizer.json"},
      {"pre_tokenizer", "unsupported pre_tokenizer BertPreTokenizer in my/tokenizer.json"},
      {"decoder", "unsupported decoder WordPiece in my/tokenizer.json"},
      {"post_processor", "unsupported post_processor Fancy in my/tokenizer.json"},
  };
  for (const auto& [field, expected] : cases) {
    nlohmann::json j = base_json();
    if (field == "model") {
      j["model"]["type"] = "WordPiece";
    } else if (field == "normalizer") {
      j["normalizer"] = {{"type", "Sequence"}, {"normalizers", {{{"type", "NFC"}}}}};
    } else if (field == "pre_tokenizer") {
      j["pre_tokenizer"] = {{"type", "BertPreTokenizer"}};
    } else if (field == "decoder") {
      j["decoder"] = {{"type", "WordPiece"}, {"prefix", "##"}};
    } else {
      j["post_processor"] = {{"type", "Fancy"}};
    }
    const std::string message = load_error(j);
    EXPECT_NE(message.find(expected), std::string::npos) << field << ": " << message;
  }
}

TEST(TokenizerErrors, MalformedFields) {
  const auto expect_error = [](const nlohmann::json& j, const std::string& expected) {
    const std::string message = load_error(j);
    EXPECT_NE(message.find(expected), std::string::npos) << message;
    EXPECT_NE(message.find("my/tokenizer.json"), std::string::npos) << message;
  };
  nlohmann::json j = base_json();
  j.erase("model");
  expect_error(j, "model");

  j = base_json();
  j["model"]["merges"] = {"Ā ā"};  // "Āā" is not in the byte vocab
  expect_error(j, "not in the vocab");

  j = base_json();
  j["model"]["merges"] = {"a b c"};
  expect_error(j, "merges[0]");

  j = base_json();
  j["model"]["dropout"] = 0.1;
  expect_error(j, "dropout");

  j = base_json();
  j["truncation"] = {{"max_length", 512}};
  expect_error(j, "truncation");

  j = base_json();
  j["pre_tokenizer"] = {{"type", "Split"},
                        {"pattern", {{"Regex", "(unclosed"}}},
                        {"behavior", "Isolated"},
                        {"invert", false}};
  expect_error(j, "cannot compile regex");

  j = base_json();
  j["pre_tokenizer"] = {{"type", "Split"},
                        {"pattern", {{"String", " "}}},
                        {"behavior", "Sideways"},
                        {"invert", false}};
  expect_error(j, "Sideways");

  j = base_json();
  j["pre_tokenizer"] = {{"type", "Metaspace"}, {"replacement", "ab"}};
  expect_error(j, "exactly one character");

  j = base_json();
  j["decoder"] = {{"type", "Sequence"},
                  {"decoders", {{{"type", "Fuse"}}, {{"type", "ByteFallback"}}}}};
  expect_error(j, "ByteFallback after");

  j = base_json();
  j["added_tokens"][0]["special"] = "yes";
  expect_error(j, "added_tokens[0]");

  j = base_json();
  j["post_processor"] = {{"type", "TemplateProcessing"},
                         {"single",
                          {{{"SpecialToken", {{"id", "<x>"}, {"type_id", 0}}}},
                           {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
                         {"special_tokens", nlohmann::json::object()}};
  expect_error(j, "<x>");
}

TEST(TokenizerErrors, BadTextAndIds) {
  const Tokenizer t = Tokenizer::from_json_text(byte_level_tokenizer_json({}), "bytes.json");
  const std::string message = error_of([&] { t.encode(std::string("ok\xC3(", 4)); });
  EXPECT_NE(message.find("invalid UTF-8 at byte offset 2"), std::string::npos) << message;
  EXPECT_NE(message.find("bytes.json"), std::string::npos) << message;
  EXPECT_THROW(t.encode(std::string("\xED\xA0\x80", 3)), Error);  // a surrogate
  EXPECT_THROW(t.encode(std::string("\xC0\x80", 2)), Error);      // overlong
  const std::vector<int32_t> bad = {1, 256};
  EXPECT_NE(error_of([&] { t.decode(bad); }).find("256"), std::string::npos);
  EXPECT_THROW(t.id_to_token(256), Error);
  EXPECT_THROW(t.id_to_token(-5), Error);
}

TEST(TokenizerErrors, UnknownCharacterWithoutUnkToken) {
  // Without the ByteLevel pre-tokenizer "€" is not in the byte vocab, and
  // there is no unk_token: HF fails too.
  nlohmann::json j = base_json();
  j["pre_tokenizer"] = nullptr;
  j["decoder"] = nullptr;
  const Tokenizer t = Tokenizer::from_json_text(j.dump(), "no-unk.json");
  EXPECT_EQ(t.encode("abc"), (std::vector<int32_t>{'a', 'b', 'c'}));
  const std::string message = error_of([&] { t.encode("€"); });
  EXPECT_NE(message.find("unk_token"), std::string::npos) << message;
}

}  // namespace
}  // namespace bit_ttt
