// .bitt container: round trips of every dtype through write_bitt / BittFile,
// zero-copy and alignment of the mapping, corrupt files (each with its own
// message), verify(), writer validation and atomic replacement.
#include "io/bitt.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <algorithm>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "bit_ttt/error.h"
#include "core/mmap_file.h"
#include "test_util.h"

namespace bit_ttt {
namespace {

using testing::as_bytes_of;
using testing::contains;
using testing::error_of;
using testing::FileSizeLimit;
using testing::list_dir;
using testing::random_bytes;
using json = nlohmann::ordered_json;

constexpr size_t kPrefixBytes = 24;

std::vector<int8_t> random_codes(int64_t n, uint32_t seed) {
  std::mt19937 random(seed);
  std::vector<int8_t> codes(static_cast<size_t>(n));
  for (int8_t& code : codes) code = static_cast<int8_t>(static_cast<int>(random() % 3) - 1);
  return codes;
}

// A model with one tensor of every dtype; owns the bytes the contents point to.
struct SampleModel {
  std::vector<float> f32 = {1.0f, -2.5f, 0.0f, 3.25f, 1e-30f, -7.0f};
  std::vector<std::byte> f16 = random_bytes(2 * 7, 1);
  std::vector<std::byte> bf16 = random_bytes(2 * 4, 2);
  std::vector<std::byte> i8 = random_bytes(5, 3);
  std::vector<int8_t> i2_codes = random_codes(3 * 300, 4);
  std::vector<int8_t> tq1_codes = random_codes(2 * 170, 5);
  PackedTernary i2 = pack_ternary(TernaryFormat::i2, i2_codes.data(), 3, 300, 0.125f);
  PackedTernary tq1 = pack_ternary(TernaryFormat::tq1, tq1_codes.data(), 2, 170, 0.3f);
  BittContents contents;

  SampleModel() {
    contents.config_json = R"({"dim":64,"n_layers":2,"rope":{"theta":10000.0},"name":"tiny"})";
    contents.tokenizer_json = R"({"model":{"type":"BPE","vocab":{"a":0}}})";
    contents.fingerprint = "tok-0123456789abcdef";
    contents.metadata = {{"created_by", "bitt_test"}, {"note", "caf\xc3\xa9"}};
    const auto packed_bytes = [](const PackedTernary& p) {
      return std::as_bytes(std::span(p.data.data(), p.data.size()));
    };
    contents.tensors = {
        {"w.f32", BittDType::f32, {2, 3}, std::nullopt, as_bytes_of(f32)},
        {"w.f16", BittDType::f16, {7}, std::nullopt, f16},
        {"w.bf16", BittDType::bf16, {2, 2}, 1.5f, bf16},
        {"w.i8", BittDType::i8, {5}, std::nullopt, i8},
        {"w.empty", BittDType::f32, {0, 4}, std::nullopt, {}},
        {"w.i2", BittDType::ternary_i2, {3, 300}, i2.beta, packed_bytes(i2)},
        {"w.tq1", BittDType::ternary_tq1, {2, 170}, tq1.beta, packed_bytes(tq1)},
    };
  }
};

// A .bitt file split into its parts, to be mutated and put back together with a
// correct header checksum (unless a test breaks that on purpose).
struct RawBitt {
  uint32_t version = 1;
  json header;
  std::string data;

  static RawBitt parse(const std::string& bytes) {
    uint64_t header_length;
    std::memcpy(&header_length, bytes.data() + 8, 8);
    RawBitt raw;
    raw.header = json::parse(bytes.substr(kPrefixBytes, header_length));
    raw.data = bytes.substr(kPrefixBytes + header_length);
    return raw;
  }

  // `header_text` replaces the dumped header (for JSON the json type cannot hold).
  std::string assemble(std::optional<std::string> header_text = std::nullopt) const {
    std::string text = header_text ? *header_text : header.dump();
    text.resize((kPrefixBytes + text.size() + 63) / 64 * 64 - kPrefixBytes, ' ');
    const uint64_t length = text.size();
    const uint64_t checksum = bitt_checksum(std::as_bytes(std::span(text)));
    std::string prefix(kPrefixBytes, '\0');
    std::memcpy(prefix.data(), "BITT", 4);
    std::memcpy(prefix.data() + 4, &version, 4);
    std::memcpy(prefix.data() + 8, &length, 8);
    std::memcpy(prefix.data() + 16, &checksum, 8);
    return prefix + text + data;
  }
};

std::string sample_file_bytes() {
  testing::TempDir dir;
  const SampleModel model;
  write_bitt(dir / "m.bitt", model.contents);
  return testing::read_file_bytes(dir / "m.bitt");
}

TEST(Bitt, RoundTripsEveryDType) {
  testing::TempDir dir;
  const SampleModel model;
  write_bitt(dir / "m.bitt", model.contents);
  const BittFile file = BittFile::open(dir / "m.bitt");
  EXPECT_EQ(file.path(), dir / "m.bitt");
  EXPECT_EQ(file.version(), 1u);
  EXPECT_EQ(file.config_json(), model.contents.config_json);  // compact, key order kept
  EXPECT_EQ(file.tokenizer_json(), model.contents.tokenizer_json);
  EXPECT_EQ(file.fingerprint(), model.contents.fingerprint);
  EXPECT_EQ(file.metadata(), model.contents.metadata);
  ASSERT_EQ(file.tensors().size(), model.contents.tensors.size());
  uint64_t previous_end = 0;
  for (size_t i = 0; i < file.tensors().size(); ++i) {
    const BittTensor& tensor = file.tensors()[i];
    const BittTensorToWrite& written = model.contents.tensors[i];
    SCOPED_TRACE(written.name);
    EXPECT_EQ(tensor.name, written.name);
    EXPECT_EQ(tensor.dtype, written.dtype);
    EXPECT_EQ(tensor.shape, written.shape);
    EXPECT_EQ(tensor.scale, written.scale);  // exact, float -> JSON -> float
    EXPECT_EQ(tensor.checksum, bitt_checksum(written.bytes));
    EXPECT_EQ(tensor.offset % 64, 0u);
    EXPECT_GE(tensor.offset, previous_end);
    previous_end = tensor.offset + tensor.bytes.size();
    ASSERT_EQ(tensor.bytes.size(), written.bytes.size());
    if (!written.bytes.empty()) {
      EXPECT_EQ(std::memcmp(tensor.bytes.data(), written.bytes.data(), written.bytes.size()), 0);
    }
    EXPECT_EQ(file.find(tensor.name), &tensor);
    EXPECT_EQ(&file.get(tensor.name), &tensor);
  }
  EXPECT_EQ(file.find("absent"), nullptr);
  EXPECT_NO_THROW(file.verify());
}

TEST(Bitt, TernaryViewsUnpackToTheOriginalCodes) {
  testing::TempDir dir;
  const SampleModel model;
  write_bitt(dir / "m.bitt", model.contents);
  const BittFile file = BittFile::open(dir / "m.bitt");
  for (const auto& [name, codes, format] :
       {std::tuple{"w.i2", &model.i2_codes, TernaryFormat::i2},
        std::tuple{"w.tq1", &model.tq1_codes, TernaryFormat::tq1}}) {
    const TernaryMatrixView view = file.ternary_view(name);
    EXPECT_EQ(view.format, format);
    EXPECT_EQ(view.row_stride_bytes, ternary_row_stride_bytes(format, view.n_in));
    std::vector<int8_t> unpacked(codes->size());
    unpack_ternary(view, unpacked.data());
    EXPECT_EQ(unpacked, *codes) << name;
  }
  EXPECT_EQ(file.get("w.i2").scale, 0.125f);
  EXPECT_EQ(file.get("w.tq1").scale, 0.3f);
  EXPECT_TRUE(contains(error_of([&] { file.ternary_view("w.f32"); }),
                       "tensor 'w.f32' has dtype f32, not a ternary dtype"));
}

TEST(Bitt, TensorsAreZeroCopyAndSixtyFourByteAlignedInTheMapping) {
  testing::TempDir dir;
  const SampleModel model;
  write_bitt(dir / "m.bitt", model.contents);
  const BittFile file = BittFile::open(dir / "m.bitt");
  const auto mapping = std::static_pointer_cast<const MappedFile>(file.owner());
  ASSERT_NE(mapping, nullptr);
  const std::byte* begin = mapping->data();
  const std::byte* end = begin + mapping->size();
  for (const BittTensor& tensor : file.tensors()) {
    if (tensor.bytes.empty()) continue;
    EXPECT_GE(tensor.bytes.data(), begin) << tensor.name;
    EXPECT_LE(tensor.bytes.data() + tensor.bytes.size(), end) << tensor.name;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(tensor.bytes.data()) % 64, 0u) << tensor.name;
  }
  // The data section starts on a 64-byte boundary of the file.
  const std::string bytes = testing::read_file_bytes(dir / "m.bitt");
  uint64_t header_length;
  std::memcpy(&header_length, bytes.data() + 8, 8);
  EXPECT_EQ((kPrefixBytes + header_length) % 64, 0u);
  // Copies share the mapping, which outlives the file's removal.
  const BittFile copy = file;
  std::filesystem::remove(dir / "m.bitt");
  EXPECT_EQ(copy.get("w.f32").bytes.data(), file.get("w.f32").bytes.data());
  EXPECT_NO_THROW(copy.verify());
}

TEST(Bitt, NoTokenizerAndNoTensors) {
  testing::TempDir dir;
  BittContents contents;
  write_bitt(dir / "empty.bitt", contents);
  const BittFile file = BittFile::open(dir / "empty.bitt");
  EXPECT_EQ(file.config_json(), "{}");
  EXPECT_FALSE(file.tokenizer_json().has_value());
  EXPECT_TRUE(file.tensors().empty());
  EXPECT_TRUE(file.metadata().empty());
  EXPECT_EQ(file.fingerprint(), "");
  EXPECT_EQ(testing::read_file_bytes(dir / "empty.bitt").size() % 64, 0u);
  EXPECT_TRUE(contains(error_of([&] { file.get("w"); }),
                       (dir / "empty.bitt").string() + ": missing tensor 'w'"));
}

TEST(Bitt, FromMemoryParsesTheSameBytes) {
  auto buffer = std::make_shared<std::string>(sample_file_bytes());
  const BittFile file = BittFile::from_memory(
      "in-memory", std::as_bytes(std::span(buffer->data(), buffer->size())), buffer);
  EXPECT_EQ(file.path(), "in-memory");
  EXPECT_EQ(file.tensors().size(), 7u);
  EXPECT_GE(file.get("w.i8").bytes.data(), reinterpret_cast<const std::byte*>(buffer->data()));
  EXPECT_NO_THROW(file.verify());
  EXPECT_TRUE(contains(error_of([&] { file.get("nope"); }), "in-memory: missing tensor 'nope'"));
}

TEST(Bitt, HeaderIsTheDocumentedJson) {
  const RawBitt raw = RawBitt::parse(sample_file_bytes());
  EXPECT_EQ(raw.header["format_version"], 1);
  EXPECT_TRUE(raw.header["config"].is_object());
  EXPECT_TRUE(raw.header["tokenizer"].is_string());
  EXPECT_EQ(raw.header["data_bytes"].get<uint64_t>(), raw.data.size());
  const json& first = raw.header["tensors"][0];
  EXPECT_EQ(first["name"], "w.f32");
  EXPECT_EQ(first["dtype"], "f32");
  EXPECT_EQ(first["offset"], 0);
  EXPECT_EQ(first["n_bytes"], 24);
  EXPECT_EQ(first["checksum"].get<std::string>().size(), 16u);
  EXPECT_FALSE(first.contains("scale"));
  // Zero padding between tensors.
  const uint64_t second_offset = raw.header["tensors"][1]["offset"];
  EXPECT_EQ(second_offset, 64u);
  EXPECT_EQ(raw.data.substr(24, 40), std::string(40, '\0'));
}

// ---- corrupt files ---------------------------------------------------------

struct Corruption {
  std::string name;
  std::function<std::string(const std::string& good)> make;  // whole file
  std::string expected;  // part of the message that names the problem
};

std::string with_u32(std::string bytes, size_t at, uint32_t value) {
  std::memcpy(bytes.data() + at, &value, 4);
  return bytes;
}

std::string with_u64(std::string bytes, size_t at, uint64_t value) {
  std::memcpy(bytes.data() + at, &value, 8);
  return bytes;
}

// Rebuilds the file after `edit` changed the parsed header or data.
std::function<std::string(const std::string&)> edited(std::function<void(RawBitt&)> edit) {
  return [edit](const std::string& good) {
    RawBitt raw = RawBitt::parse(good);
    edit(raw);
    return raw.assemble();
  };
}

std::function<std::string(const std::string&)> header_text(std::string text) {
  return [text](const std::string& good) { return RawBitt::parse(good).assemble(text); };
}

std::vector<Corruption> corruptions() {
  return {
      {"EmptyFile", [](const std::string&) { return std::string(); },
       "file is 0 bytes, shorter than the 24-byte .bitt prefix (truncated)"},
      {"BadMagic", [](const std::string& good) { return "GGUF" + good.substr(4); },
       "not a .bitt file"},
      {"SafetensorsFile",
       [](const std::string&) { return std::string("\x10\0\0\0\0\0\0\0{}", 10); },
       "not a .bitt file"},
      {"WrongVersion", [](const std::string& good) { return with_u32(good, 4, 7); },
       "unsupported .bitt version 7 (this build reads version 1)"},
      {"TruncatedInPrefix", [](const std::string& good) { return good.substr(0, 13); },
       "file is 13 bytes, shorter than the 24-byte .bitt prefix (truncated)"},
      {"TruncatedInHeader", [](const std::string& good) { return good.substr(0, 100); },
       "is larger than the rest of the file (76 bytes): truncated"},
      {"TruncatedInData", [](const std::string& good) { return good.substr(0, good.size() - 10); },
       "truncated: the data section has"},
      {"TrailingBytes", [](const std::string& good) { return good + "junk"; },
       "4 unexpected bytes after the data section"},
      {"HeaderLengthBeyondFile", [](const std::string& good) { return with_u64(good, 8, 1 << 20); },
       "header length 1048576 is larger than the rest of the file"},
      {"HeaderLengthAbsurd", [](const std::string& good) { return with_u64(good, 8, ~0ull); },
       "header length 18446744073709551615 exceeds the limit"},
      {"HeaderLengthZero", [](const std::string& good) { return with_u64(good, 8, 0); },
       "header is empty"},
      {"HeaderLengthMisaligned",
       [](const std::string& good) {
         uint64_t length;
         std::memcpy(&length, good.data() + 8, 8);
         return with_u64(good, 8, length - 8);
       },
       "not a multiple of 64"},
      {"HeaderChecksum",
       [](const std::string& good) {
         std::string bytes = good;
         bytes[bytes.find("tiny")] = 'T';  // still valid JSON: only the checksum sees it
         return bytes;
       },
       "header checksum mismatch"},
      {"InvalidJson", header_text(R"({"format_version":1,"config":{})"),
       "header is not valid JSON"},
      {"InvalidUtf8", header_text("{\"format_version\":1,\"x\":\"\xff\"}"),
       "header is not valid UTF-8"},
      {"NotAnObject", header_text("[1,2]"), "header is not a JSON object, got array"},
      {"DuplicateKey",
       header_text(R"({"format_version":1,"config":{},"config":{},"fingerprint":"",)"
                   R"("metadata":{},"data_bytes":0,"tensors":[]})"),
       "duplicate key 'config' in header JSON"},
      {"TooDeep", header_text(std::string(100, '[') + std::string(100, ']')),
       "nests deeper than 64 levels"},
      {"MissingConfig", edited([](RawBitt& raw) { raw.header.erase("config"); }),
       "header has no \"config\""},
      {"ConfigNotObject", edited([](RawBitt& raw) { raw.header["config"] = json::array({1}); }),
       "\"config\" must be a JSON object, got array"},
      {"TokenizerNotString", edited([](RawBitt& raw) { raw.header["tokenizer"] = 3; }),
       "\"tokenizer\" must be a string, got number"},
      {"FingerprintNotString", edited([](RawBitt& raw) { raw.header["fingerprint"] = true; }),
       "\"fingerprint\" must be a string, got boolean"},
      {"MetadataValueNotString", edited([](RawBitt& raw) { raw.header["metadata"]["note"] = 1; }),
       "\"metadata\" value of 'note' must be a string, got number"},
      {"FormatVersionMismatch", edited([](RawBitt& raw) { raw.header["format_version"] = 2; }),
       "header \"format_version\" 2 differs from the prefix version 1"},
      {"TensorsNotArray", edited([](RawBitt& raw) { raw.header["tensors"] = json::object(); }),
       "\"tensors\" must be an array, got object"},
      {"TensorNotObject", edited([](RawBitt& raw) { raw.header["tensors"][2] = "w"; }),
       "tensors[2] must be a JSON object, got string"},
      {"MissingName", edited([](RawBitt& raw) { raw.header["tensors"][1].erase("name"); }),
       "tensors[1] has no \"name\""},
      {"EmptyName", edited([](RawBitt& raw) { raw.header["tensors"][1]["name"] = ""; }),
       "tensors[1] has an empty name"},
      {"UnknownDtype", edited([](RawBitt& raw) { raw.header["tensors"][0]["dtype"] = "f64"; }),
       "unknown dtype 'f64' for tensor 'w.f32'"},
      {"ShapeNegative", edited([](RawBitt& raw) { raw.header["tensors"][0]["shape"][0] = -2; }),
       "tensor 'w.f32': shape[0] is negative (-2)"},
      {"ShapeNotInteger", edited([](RawBitt& raw) { raw.header["tensors"][0]["shape"][1] = 3.0; }),
       "tensor 'w.f32': shape[1] must be a non-negative integer, got number"},
      {"ShapeOverflow", edited([](RawBitt& raw) {
         raw.header["tensors"][0]["shape"] = json::array({1ll << 40, 1ll << 40});
       }),
       "tensor 'w.f32': shape [1099511627776, 1099511627776] overflows the byte count"},
      {"TernaryShapeRank",
       edited([](RawBitt& raw) { raw.header["tensors"][5]["shape"] = json::array({900}); }),
       "tensor 'w.i2': ternary_i2 needs a shape [n_out, n_in], got [900]"},
      {"TernaryHugeNIn", edited([](RawBitt& raw) {
         raw.header["tensors"][5]["shape"] = json::array({1, std::numeric_limits<int64_t>::max()});
       }),
       "tensor 'w.i2': shape [1, 9223372036854775807] overflows the byte count"},
      {"NBytesMismatch", edited([](RawBitt& raw) { raw.header["tensors"][0]["n_bytes"] = 28; }),
       "tensor 'w.f32': f32 shape [2, 3] needs 24 bytes but \"n_bytes\" is 28"},
      {"TernaryNBytesMismatch", edited([](RawBitt& raw) {
         raw.header["tensors"][6]["shape"] = json::array({2, 160});
       }),
       "tensor 'w.tq1': ternary_tq1 shape [2, 160] needs 64 bytes but \"n_bytes\" is 128"},
      {"OffsetMisaligned", edited([](RawBitt& raw) { raw.header["tensors"][3]["offset"] = 200; }),
       "tensor 'w.i8': offset 200 is not a multiple of 64"},
      {"OutOfRange", edited([](RawBitt& raw) {
         raw.header["tensors"][5]["offset"] = raw.header["data_bytes"].get<uint64_t>() / 64 * 64;
       }),
       "tensor 'w.i2': bytes ["},
      {"OffsetHuge",
       edited([](RawBitt& raw) { raw.header["tensors"][0]["offset"] = ~0ull / 64 * 64; }),
       "go beyond the data section"},
      {"Overlapping", edited([](RawBitt& raw) { raw.header["tensors"][2]["offset"] = 64; }),
       "tensors 'w.f16' [64, 78) and 'w.bf16' [64, 72) overlap"},
      {"DuplicateName", edited([](RawBitt& raw) { raw.header["tensors"][3]["name"] = "w.f16"; }),
       "duplicate tensor name 'w.f16'"},
      {"ChecksumNotHex", edited([](RawBitt& raw) { raw.header["tensors"][0]["checksum"] = "xyz"; }),
       "tensor 'w.f32': \"checksum\" 'xyz' is not 16 hex digits"},
      {"ScaleNotNumber", edited([](RawBitt& raw) { raw.header["tensors"][5]["scale"] = "0.5"; }),
       "tensor 'w.i2': \"scale\" must be a number, got string"},
      {"ScaleOutOfFloatRange",
       edited([](RawBitt& raw) { raw.header["tensors"][5]["scale"] = 1e300; }),
       "is not a finite float"},
      {"DataBytesMissing", edited([](RawBitt& raw) { raw.header.erase("data_bytes"); }),
       "header has no \"data_bytes\""},
  };
}

TEST(BittCorrupt, EveryCorruptionIsAClearError) {
  testing::TempDir dir;
  const std::string good = sample_file_bytes();
  ASSERT_NO_THROW(BittFile::from_memory("good.bitt", std::as_bytes(std::span(good)), nullptr));
  size_t n_corruptions = 0;
  for (const Corruption& corruption : corruptions()) {
    SCOPED_TRACE(corruption.name);
    const auto path = dir / (corruption.name + ".bitt");
    testing::write_file_bytes(path, corruption.make(good));
    const std::string message = error_of([&] { BittFile::open(path); });
    EXPECT_TRUE(contains(message, path.string() + ": ")) << "no file name";
    EXPECT_TRUE(contains(message, corruption.expected));
    ++n_corruptions;
  }
  EXPECT_GE(n_corruptions, 40u);
}

TEST(BittCorrupt, FlippedDataByteIsCaughtByVerifyNotByOpen) {
  testing::TempDir dir;
  std::string bytes = sample_file_bytes();
  const RawBitt raw = RawBitt::parse(bytes);
  const uint64_t i8_offset = raw.header["tensors"][3]["offset"];
  bytes[bytes.size() - raw.data.size() + i8_offset + 2] ^= 0x10;
  testing::write_file_bytes(dir / "flipped.bitt", bytes);
  const BittFile file = BittFile::open(dir / "flipped.bitt");  // O(header): data not read
  const std::string message = error_of([&] { file.verify(); });
  EXPECT_TRUE(contains(
      message, (dir / "flipped.bitt").string() + ": tensor 'w.i8': checksum mismatch (stored "));
  EXPECT_TRUE(contains(message, "the data is corrupt"));
}

TEST(BittCorrupt, I2ByteHoldingThreeIsCaughtByVerify) {
  testing::TempDir dir;
  RawBitt raw = RawBitt::parse(sample_file_bytes());
  json& entry = raw.header["tensors"][5];
  const uint64_t offset = entry["offset"];
  const uint64_t n_bytes = entry["n_bytes"];
  raw.data[offset + 7] = static_cast<char>(0xff);
  // A consistent checksum: only the packed-ternary check can see the problem.
  const auto payload = std::as_bytes(std::span(raw.data.data() + offset, n_bytes));
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx",
                static_cast<unsigned long long>(bitt_checksum(payload)));
  entry["checksum"] = std::string(hex);
  testing::write_file_bytes(dir / "three.bitt", raw.assemble());
  const BittFile file = BittFile::open(dir / "three.bitt");
  const std::string message = error_of([&] { file.verify(); });
  EXPECT_TRUE(contains(message, (dir / "three.bitt").string() + ": tensor 'w.i2': byte 7"));
  EXPECT_TRUE(contains(message, "holds the unused i2 value 3"));
}

TEST(BittCorrupt, RandomBitFlipsNeverCrash) {
  const std::string good = sample_file_bytes();
  std::mt19937 random(7);
  for (int trial = 0; trial < 2000; ++trial) {
    std::string bytes = good;
    const int n_flips = 1 + static_cast<int>(random() % 3);
    // Mostly the prefix and header, where parsing happens.
    for (int k = 0; k < n_flips; ++k)
      bytes[random() % std::min<size_t>(bytes.size(), 700)] ^= 1 << (random() % 8);
    if (trial % 2 == 0) bytes.resize(random() % bytes.size());
    try {
      const BittFile file =
          BittFile::from_memory("flip.bitt", std::as_bytes(std::span(bytes)), nullptr);
      file.verify();
    } catch (const Error& error) {
      EXPECT_EQ(std::string(error.what()).rfind("flip.bitt: ", 0), 0u) << error.what();
    }
  }
}

// ---- writer --------------------------------------------------------------

TEST(BittWriter, RejectsBadContentsWithoutCreatingAFile) {
  testing::TempDir dir;
  const auto path = dir / "bad.bitt";
  const std::vector<float> four = {1, 2, 3, 4};
  const std::vector<uint8_t> bad_i2(64, 0xff);
  const auto expect_error = [&](BittContents contents, const std::string& fragment) {
    const std::string message = error_of([&] { write_bitt(path, contents); });
    EXPECT_TRUE(contains(message, path.string() + ": "));
    EXPECT_TRUE(contains(message, fragment));
    EXPECT_FALSE(std::filesystem::exists(path));
  };
  const auto with = [&](std::vector<BittTensorToWrite> tensors) {
    BittContents contents;
    contents.tensors = std::move(tensors);
    return contents;
  };
  expect_error(with({{"a", BittDType::f32, {5}, std::nullopt, as_bytes_of(four)}}),
               "tensor 'a' has 16 bytes, but f32 shape [5] needs 20");
  expect_error(with({{"a", BittDType::f32, {4}, std::nullopt, as_bytes_of(four)},
                     {"a", BittDType::f16, {8}, std::nullopt, as_bytes_of(four)}}),
               "duplicate tensor name 'a'");
  expect_error(with({{"", BittDType::f32, {4}, std::nullopt, as_bytes_of(four)}}), "empty name");
  expect_error(with({{"a", BittDType::f32, {-4}, std::nullopt, as_bytes_of(four)}}),
               "invalid shape [-4]");
  expect_error(with({{"a", BittDType::ternary_i2, {16}, std::nullopt, as_bytes_of(four)}}),
               "ternary_i2 needs a shape [n_out, n_in], got [16]");
  expect_error(with({{"a", BittDType::ternary_i2, {1, 256}, 1.0f, as_bytes_of(bad_i2)}}),
               "tensor 'a': byte 0 (0xff) holds the unused i2 value 3");
  expect_error(
      with(
          {{"a", BittDType::f32, {4}, std::numeric_limits<float>::quiet_NaN(), as_bytes_of(four)}}),
      "scale that is not finite");
  BittContents contents;
  contents.config_json = "[1]";
  expect_error(contents, "config must be a JSON object, got array");
  contents.config_json = "{";
  expect_error(contents, "config is not valid JSON");
  contents.config_json = "{}";
  contents.tokenizer_json = "\xc3";
  expect_error(contents, "tokenizer JSON is not valid UTF-8");
  contents.tokenizer_json.reset();
  contents.metadata = {{"k", "\xff"}};
  expect_error(contents, "metadata value of 'k' is not valid UTF-8");
}

TEST(BittWriter, AtomicWriteLeavesNoTempFileAndReplacesTheOld) {
  testing::TempDir dir;
  const auto path = dir / "m.bitt";
  const SampleModel model;
  write_bitt(path, model.contents);
  EXPECT_EQ(list_dir(dir.path()), std::vector<std::string>{"m.bitt"});
  const BittFile old_file = BittFile::open(path);

  BittContents smaller;
  smaller.fingerprint = "second";
  write_bitt(path, smaller);
  EXPECT_EQ(list_dir(dir.path()), std::vector<std::string>{"m.bitt"});
  EXPECT_EQ(BittFile::open(path).fingerprint(), "second");
  // The old mapping still sees the old file: it was replaced, not rewritten.
  EXPECT_NO_THROW(old_file.verify());
  EXPECT_EQ(old_file.tensors().size(), 7u);
}

TEST(BittWriter, FailedWriteLeavesTheOldFileIntact) {
  testing::TempDir dir;
  const auto path = dir / "m.bitt";
  BittContents small;
  small.fingerprint = "old";
  write_bitt(path, small);
  const std::string old_bytes = testing::read_file_bytes(path);

  // Mid-write I/O failure (EFBIG) on a larger file.
  const std::vector<std::byte> big = random_bytes(64 * 1024, 9);
  BittContents large;
  large.tensors = {{"big", BittDType::i8, {64 * 1024}, std::nullopt, big}};
  std::string message;
  {
    const FileSizeLimit limit(16 * 1024);
    message = error_of([&] { write_bitt(path, large); });
  }
  EXPECT_TRUE(contains(message, path.string()));
  EXPECT_EQ(testing::read_file_bytes(path), old_bytes);
  EXPECT_EQ(list_dir(dir.path()), std::vector<std::string>{"m.bitt"});

  // The target is a directory: the rename fails, the directory stays.
  std::filesystem::create_directory(dir / "occupied");
  message = error_of([&] { write_bitt(dir / "occupied", small); });
  EXPECT_TRUE(contains(message, (dir / "occupied").string()));
  EXPECT_TRUE(std::filesystem::is_directory(dir / "occupied"));
  EXPECT_EQ(list_dir(dir.path()), (std::vector<std::string>{"m.bitt", "occupied"}));
  EXPECT_EQ(BittFile::open(path).fingerprint(), "old");
}

TEST(Bitt, DTypeNamesAndSizes) {
  for (const BittDType dtype : {BittDType::f32, BittDType::f16, BittDType::bf16, BittDType::i8,
                                BittDType::ternary_i2, BittDType::ternary_tq1}) {
    EXPECT_EQ(bitt_dtype_from_name(bitt_dtype_name(dtype)), dtype);
  }
  EXPECT_EQ(bitt_dtype_from_name("F32"), std::nullopt);  // names are case-sensitive
  const std::vector<int64_t> shape = {3, 300};
  EXPECT_EQ(bitt_n_bytes(BittDType::f32, shape), 3600u);
  EXPECT_EQ(bitt_n_bytes(BittDType::bf16, shape), 1800u);
  EXPECT_EQ(bitt_n_bytes(BittDType::i8, shape), 900u);
  EXPECT_EQ(bitt_n_bytes(BittDType::ternary_i2, shape), 3u * 128);  // 2 blocks of 64 bytes
  EXPECT_EQ(bitt_n_bytes(BittDType::ternary_tq1, shape), 3u * 64);  // 2 blocks of 32 bytes
  const std::vector<int64_t> scalar = {};
  EXPECT_EQ(bitt_n_bytes(BittDType::f16, scalar), 2u);
  EXPECT_EQ(bitt_n_bytes(BittDType::ternary_i2, scalar), std::nullopt);
  // XXH3-64 of nothing, the published test vector.
  EXPECT_EQ(bitt_checksum({}), 0x2d06800538d394c2ull);
}

}  // namespace
}  // namespace bit_ttt
