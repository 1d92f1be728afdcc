// Corrupt and hostile safetensors files: each must fail with a bit_ttt::Error
// naming the file and the specific problem, never crash or over-allocate.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "bit_ttt/error.h"
#include "io/safetensors.h"
#include "test_util.h"

namespace bit_ttt {
namespace {

std::string length_prefix(uint64_t length) {
  std::string bytes(8, '\0');
  std::memcpy(bytes.data(), &length, 8);
  return bytes;
}

// A file with the given header text and data section.
std::string raw_file(const std::string& header, const std::string& data = "") {
  return length_prefix(header.size()) + header + data;
}

struct Corruption {
  std::string name;      // test name suffix
  std::string bytes;     // whole file
  std::string expected;  // part of the message that names the problem
};

// gtest prints parameters on failure; the name says it all.
void PrintTo(const Corruption& corruption, std::ostream* out) {
  *out << corruption.name;
}

std::vector<Corruption> corruptions() {
  const std::string f32_4 = R"("dtype":"F32","shape":[4])";
  const std::string sixteen(16, '\0');
  return {
      {"EmptyFile", "", "file is 0 bytes, too short for the 8-byte header length"},
      {"ShorterThanLengthPrefix", std::string("\x05\0\0", 3), "file is 3 bytes, too short"},
      {"HeaderLengthBeyondFile", length_prefix(1000) + "{}",
       "header length 1000 is larger than the rest of the file (2 bytes)"},
      {"HeaderLengthAbsurd", length_prefix(1ull << 40) + "{}",
       "header length 1099511627776 exceeds the limit of 100000000 bytes"},
      {"HeaderLengthMaxU64", length_prefix(~0ull) + "{}", "exceeds the limit"},
      {"HeaderEmpty", raw_file(""), "header is empty"},
      {"HeaderNotUtf8", raw_file("{\"w\xff\":{}}"), "header is not valid UTF-8"},
      {"HeaderOverlongUtf8", raw_file("{\"\xc0\xaf\":{}}"), "header is not valid UTF-8"},
      {"HeaderNotJson", raw_file("{\"w\": {\"dtype\": \"F32\""), "header is not valid JSON"},
      {"HeaderTrailingGarbage", raw_file("{} x"), "header is not valid JSON"},
      {"HeaderNotObject", raw_file("[1, 2]"), "header is not a JSON object, got array"},
      {"EntryNotObject", raw_file(R"({"w": [1]})"), "tensor 'w': entry must be a JSON object"},
      {"MissingDtype", raw_file(R"({"w": {"shape":[1],"data_offsets":[0,4]}})", sixteen),
       "tensor 'w' has no \"dtype\""},
      {"MissingShape", raw_file(R"({"w": {"dtype":"F32","data_offsets":[0,4]}})", sixteen),
       "tensor 'w' has no \"shape\""},
      {"MissingDataOffsets", raw_file(R"({"w": {)" + f32_4 + "}}", sixteen),
       "tensor 'w' has no \"data_offsets\""},
      {"DtypeNotString",
       raw_file(R"({"w": {"dtype":4,"shape":[4],"data_offsets":[0,16]}})", sixteen),
       "tensor 'w': \"dtype\" must be a string, got number"},
      {"UnknownDtype",
       raw_file(R"({"w": {"dtype":"F33","shape":[4],"data_offsets":[0,16]}})", sixteen),
       "unknown dtype 'F33' for tensor 'w'"},
      {"UnsupportedDtype",
       raw_file(R"({"w": {"dtype":"F4","shape":[4],"data_offsets":[0,2]}})", sixteen),
       "unsupported dtype F4 for tensor 'w'"},
      {"ShapeNotArray",
       raw_file(R"({"w": {"dtype":"F32","shape":4,"data_offsets":[0,16]}})", sixteen),
       "tensor 'w': \"shape\" must be an array, got number"},
      {"ShapeNotInteger",
       raw_file(R"({"w": {"dtype":"F32","shape":[2,2.0],"data_offsets":[0,16]}})", sixteen),
       "tensor 'w': shape[1] must be an integer, got number 2.0"},
      {"ShapeString",
       raw_file(R"({"w": {"dtype":"F32","shape":["4"],"data_offsets":[0,16]}})", sixteen),
       "tensor 'w': shape[0] must be an integer, got string"},
      {"NegativeDimension",
       raw_file(R"({"w": {"dtype":"F32","shape":[-4],"data_offsets":[0,16]}})", sixteen),
       "tensor 'w': shape[0] is negative (-4)"},
      {"DimensionBeyondInt64",
       raw_file(R"({"w": {"dtype":"U8","shape":[18446744073709551615],"data_offsets":[0,16]}})",
                sixteen),
       "tensor 'w': shape[0] = 18446744073709551615 is too large"},
      {"ShapeProductOverflow",
       raw_file(R"({"w": {"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,16]}})",
                sixteen),
       "tensor 'w': shape [4294967296, 4294967296] overflows the element count"},
      {"ShapeTimesSizeOverflow",
       raw_file(R"({"w": {"dtype":"F64","shape":[4611686018427387904],"data_offsets":[0,16]}})",
                sixteen),
       "overflows the element count"},
      {"OffsetsNotPair", raw_file(R"({"w": {)" + f32_4 + R"(,"data_offsets":[0,8,16]}})", sixteen),
       "tensor 'w': data_offsets must be [begin, end], got [0,8,16]"},
      {"OffsetsNotArray", raw_file(R"({"w": {)" + f32_4 + R"(,"data_offsets":"0-16"}})", sixteen),
       "data_offsets must be [begin, end]"},
      {"OffsetNegative", raw_file(R"({"w": {)" + f32_4 + R"(,"data_offsets":[-4,12]}})", sixteen),
       "tensor 'w': data_offsets[0] is negative (-4)"},
      {"OffsetNotInteger",
       raw_file(R"({"w": {)" + f32_4 + R"(,"data_offsets":[0,16.5]}})", sixteen),
       "tensor 'w': data_offsets[1] must be an integer"},
      {"OffsetsReversed", raw_file(R"({"w": {)" + f32_4 + R"(,"data_offsets":[16,0]}})", sixteen),
       "tensor 'w': data_offsets begin 16 > end 0"},
      {"OffsetsBeyondData", raw_file(R"({"w": {)" + f32_4 + R"(,"data_offsets":[8,24]}})", sixteen),
       "tensor 'w': data_offsets [8, 24] go beyond the data section (16 bytes)"},
      {"OffsetsHuge",
       raw_file(R"({"w": {)" + f32_4 +
                    R"(,"data_offsets":[18446744073709551600,18446744073709551615]}})",
                sixteen),
       "go beyond the data section"},
      {"SizeMismatch", raw_file(R"({"w": {)" + f32_4 + R"(,"data_offsets":[0,12]}})", sixteen),
       "tensor 'w': F32 shape [4] needs 16 bytes but data_offsets span 12"},
      {"Overlap",
       raw_file(R"({"a": {"dtype":"F32","shape":[3],"data_offsets":[0,12]},)"
                R"("b": {"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
                sixteen),
       "tensors 'a' [0, 12) and 'b' [8, 16) overlap"},
      {"OverlapSameRange",
       raw_file(R"({"a": {)" + f32_4 + R"(,"data_offsets":[0,16]},"b": {)" + f32_4 +
                    R"(,"data_offsets":[0,16]}})",
                sixteen),
       "tensors 'a' [0, 16) and 'b' [0, 16) overlap"},
      {"OverlapNested",
       raw_file(
           R"({"outer": {)" + f32_4 +
               R"(,"data_offsets":[0,16]},"inner": {"dtype":"U8","shape":[2],"data_offsets":[4,6]}})",
           sixteen),
       "tensors 'outer' [0, 16) and 'inner' [4, 6) overlap"},
      {"DuplicateTensorName",
       raw_file(
           R"({"w": {)" + f32_4 +
               R"(,"data_offsets":[0,16]},"w": {"dtype":"U8","shape":[1],"data_offsets":[0,1]}})",
           sixteen),
       "duplicate tensor name 'w'"},
      {"DuplicateKeyInEntry",
       raw_file(R"({"w": {"dtype":"F16","dtype":"F32","shape":[4],"data_offsets":[0,16]}})",
                sixteen),
       "duplicate key 'dtype' in header JSON"},
      {"DuplicateMetadata", raw_file(R"({"__metadata__": {}, "__metadata__": {}})"),
       "duplicate key '__metadata__' in header JSON"},
      {"UnterminatedHugeString", raw_file("{\"" + std::string(1 << 20, 'a')),
       "header is not valid JSON"},
      {"EmptyTensorName", raw_file(R"({"": {)" + f32_4 + R"(,"data_offsets":[0,16]}})", sixteen),
       "empty tensor name"},
      {"MetadataNotObject", raw_file(R"({"__metadata__": ["a"]})"),
       "__metadata__ must be an object of strings, got array"},
      {"MetadataValueNotString", raw_file(R"({"__metadata__": {"format": "pt", "n": 3}})"),
       "__metadata__ value of 'n' must be a string, got number"},
      // A million levels of nesting: cut off early, long before stack or memory
      // could become a problem.
      {"DeeplyNestedArray", raw_file(std::string(1000000, '[') + std::string(1000000, ']')),
       "header JSON nests deeper than 16 levels"},
      {"DeeplyNestedObjects", raw_file([] {
         std::string text;
         for (int i = 0; i < 100000; ++i) text += "{\"a\":";
         return text + "1" + std::string(100000, '}');
       }()),
       "header JSON nests deeper than 16 levels"},
      {"NestedTooDeepInMetadata",
       raw_file(R"({"__metadata__": {"k": )" + std::string(20, '[') + std::string(20, ']') + "}}"),
       "header JSON nests deeper than 16 levels"},
      {"MetadataNestedObject", raw_file(R"({"__metadata__": {"x": {}}})"),
       "__metadata__ value of 'x' must be a string, got object"},
  };
}

class SafetensorsCorruption : public ::testing::TestWithParam<Corruption> {};

TEST_P(SafetensorsCorruption, FailsWithMessageNamingFileAndProblem) {
  testing::TempDir dir;
  const auto path = dir / "corrupt.safetensors";
  testing::write_file_bytes(path, GetParam().bytes);
  try {
    SafetensorsReader::open(path);
    FAIL() << "no error for " << GetParam().name;
  } catch (const Error& error) {
    const std::string message = error.what();
    EXPECT_EQ(message.rfind(path.string() + ": ", 0), 0u) << message;  // starts with the file
    EXPECT_LT(message.size(), 1000u) << "messages quote at most a short excerpt";
    EXPECT_NE(message.find(GetParam().expected), std::string::npos)
        << "message: " << message << "\nexpected to contain: " << GetParam().expected;
  }
}

INSTANTIATE_TEST_SUITE_P(All, SafetensorsCorruption, ::testing::ValuesIn(corruptions()),
                         [](const auto& test_info) { return test_info.param.name; });

// What the format allows, even if our writer never produces it.
TEST(SafetensorsLenient, AcceptsGapsPaddingUnknownKeysAndAnyHeaderOrder) {
  testing::TempDir dir;
  const auto path = dir / "ok.safetensors";
  std::string data(40, '\0');
  const float one = 1.0f;
  std::memcpy(data.data() + 32, &one, 4);
  // "b" comes first in the data though last in the header; 16 unused bytes at the
  // start and 4 between; an unknown key; trailing spaces; an empty tensor at 0.
  testing::write_file_bytes(
      path, raw_file(R"({"b": {"dtype":"F32","shape":[1],"data_offsets":[32,36],"x":1},)"
                     R"( "e": {"dtype":"F32","shape":[0],"data_offsets":[0,0]},)"
                     R"( "a": {"dtype":"U8","shape":[2,2],"data_offsets":[16,20]}}     )",
                     data));
  const auto reader = SafetensorsReader::open(path);
  ASSERT_EQ(reader.tensors().size(), 3u);
  EXPECT_EQ(reader.tensors()[0].name, "e");
  EXPECT_EQ(reader.tensors()[1].name, "a");
  EXPECT_EQ(reader.tensors()[2].name, "b");
  const std::vector<int64_t> shape = {1};
  EXPECT_EQ(reader.load_f32("b", shape).data[0], 1.0f);
}

// Random damage to a valid file: any outcome but a crash, a sanitizer report or
// an exception other than bit_ttt::Error is fine.
TEST(SafetensorsRobustness, RandomMutationsOnlyEverThrowError) {
  testing::TempDir dir;
  std::vector<uint16_t> halves(64, 0x3c00);
  std::vector<float> floats(16, 2.0f);
  const std::vector<SafetensorsTensorToWrite> tensors = {
      {"f", DType::f32, {4, 4}, std::as_bytes(std::span<const float>(floats))},
      {"h", DType::f16, {8, 8}, std::as_bytes(std::span<const uint16_t>(halves))},
      {"b", DType::bf16, {64}, std::as_bytes(std::span<const uint16_t>(halves))},
  };
  write_safetensors(dir / "seed.safetensors", tensors, {{"k", "v"}});
  const std::string seed = testing::read_file_bytes(dir / "seed.safetensors");
  std::mt19937 random(1234);
  int n_accepted = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string bytes = seed;
    const int n_edits = 1 + static_cast<int>(random() % 4);
    for (int edit = 0; edit < n_edits; ++edit) {
      const size_t at = random() % bytes.size();
      switch (random() % 4) {
        case 0:
          bytes[at] = static_cast<char>(random());
          break;
        case 1:
          bytes.resize(at);
          break;
        case 2:
          bytes.insert(at, 1, "{}[],:\"0123456789-e."[random() % 20]);
          break;
        default:
          bytes.erase(at, 1 + random() % 8);
          break;
      }
      if (bytes.empty()) break;
    }
    // An exact-size heap copy so ASan sees any read past the end.
    auto buffer = std::make_shared<std::vector<std::byte>>(bytes.size());
    if (!bytes.empty()) std::memcpy(buffer->data(), bytes.data(), bytes.size());
    try {
      const auto reader = SafetensorsReader::from_memory("mutant", *buffer, buffer);
      ++n_accepted;
      for (const SafetensorsTensor& tensor : reader.tensors()) {
        unsigned sum = 0;
        for (size_t i = 0; i < tensor.n_bytes; ++i) sum += static_cast<unsigned>(tensor.data[i]);
        (void)sum;
        if (tensor.dtype == DType::f32 || tensor.dtype == DType::f16 ||
            tensor.dtype == DType::bf16) {
          const F32Data values = reader.load_f32(tensor.name, tensor.shape);
          ASSERT_EQ(values.count * dtype_size(tensor.dtype), tensor.n_bytes);
        }
      }
    } catch (const Error& error) {
      ASSERT_EQ(std::string(error.what()).rfind("mutant: ", 0), 0u) << error.what();
    }
  }
  EXPECT_GT(n_accepted, 0);  // some edits (e.g. in data bytes) keep the file valid
}

}  // namespace
}  // namespace bit_ttt
