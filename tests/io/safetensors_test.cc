// Round trips through write_safetensors / SafetensorsReader, and load_f32.
#include "io/safetensors.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "bit_ttt/error.h"
#include "test_util.h"

namespace bit_ttt {
namespace {

using testing::as_bytes_of;
using testing::contains;
using testing::error_of;
using testing::random_bytes;

// 8 + header length, read straight from the file.
uint64_t data_start_of(const std::filesystem::path& path) {
  const std::string bytes = testing::read_file_bytes(path);
  uint64_t header_length;
  std::memcpy(&header_length, bytes.data(), 8);
  return 8 + header_length;
}

constexpr DType kAllDTypes[] = {DType::f32, DType::f16,     DType::bf16,    DType::i8,
                                DType::u8,  DType::i32,     DType::i64,     DType::boolean,
                                DType::i16, DType::u16,     DType::u32,     DType::u64,
                                DType::f64, DType::f8_e4m3, DType::f8_e5m2, DType::f8_e8m0};

TEST(Safetensors, RoundTripsEveryDType) {
  testing::TempDir dir;
  std::vector<std::vector<std::byte>> payloads;
  std::vector<SafetensorsTensorToWrite> tensors;
  const std::vector<int64_t> shape = {2, 3};
  for (const DType dtype : kAllDTypes) {
    payloads.push_back(random_bytes(6 * dtype_size(dtype), static_cast<uint32_t>(dtype)));
  }
  for (size_t i = 0; i < std::size(kAllDTypes); ++i) {
    tensors.push_back(
        {"t." + std::string(dtype_name(kAllDTypes[i])), kAllDTypes[i], shape, payloads[i]});
  }
  write_safetensors(dir / "all.safetensors", tensors);

  const auto reader = SafetensorsReader::open(dir / "all.safetensors");
  EXPECT_EQ(reader.path(), dir / "all.safetensors");
  ASSERT_EQ(reader.tensors().size(), tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    // Written in the given order, so data-offset order is the same.
    const SafetensorsTensor& tensor = reader.tensors()[i];
    EXPECT_EQ(tensor.name, tensors[i].name);
    EXPECT_EQ(tensor.dtype, kAllDTypes[i]);
    EXPECT_EQ(tensor.shape, shape);
    ASSERT_EQ(tensor.n_bytes, payloads[i].size());
    EXPECT_EQ(std::memcmp(tensor.data, payloads[i].data(), tensor.n_bytes), 0) << tensor.name;
    EXPECT_EQ(reader.find(tensor.name), &tensor);
  }
  EXPECT_EQ(reader.find("absent"), nullptr);
  EXPECT_TRUE(reader.metadata().empty());
}

TEST(Safetensors, HeaderIsPaddedSoDataIsEightByteAligned) {
  testing::TempDir dir;
  const std::vector<float> values = {1, 2, 3};
  for (size_t name_length = 1; name_length <= 16; ++name_length) {
    const SafetensorsTensorToWrite tensor{
        std::string(name_length, 'n'), DType::f32, {3}, as_bytes_of(values)};
    write_safetensors(dir / "p.safetensors", std::span(&tensor, 1));
    EXPECT_EQ(data_start_of(dir / "p.safetensors") % 8, 0u) << name_length;
    const std::string bytes = testing::read_file_bytes(dir / "p.safetensors");
    // Valid JSON as written (other readers parse it), starting with '{'.
    EXPECT_EQ(bytes[8], '{');
    const std::string header = bytes.substr(8, data_start_of(dir / "p.safetensors") - 8);
    EXPECT_TRUE(nlohmann::json::accept(header)) << header;
  }
}

TEST(Safetensors, MetadataRoundTrips) {
  testing::TempDir dir;
  const std::map<std::string, std::string> metadata = {
      {"format", "pt"}, {"note", "ünïcode ✓"}, {"empty", ""}};
  write_safetensors(dir / "m.safetensors", {}, metadata);
  const auto reader = SafetensorsReader::open(dir / "m.safetensors");
  EXPECT_EQ(reader.metadata(), metadata);
  EXPECT_TRUE(reader.tensors().empty());
}

TEST(Safetensors, EmptyAndScalarTensors) {
  testing::TempDir dir;
  const std::vector<float> scalar = {42.0f};
  const std::vector<SafetensorsTensorToWrite> tensors = {
      {"empty", DType::f32, {0, 4}, {}},
      {"scalar", DType::f32, {}, as_bytes_of(scalar)},
      {"empty_too", DType::i64, {3, 0}, {}},
  };
  write_safetensors(dir / "e.safetensors", tensors);
  const auto reader = SafetensorsReader::open(dir / "e.safetensors");
  EXPECT_EQ(reader.get("empty").n_bytes, 0u);
  EXPECT_EQ(reader.get("empty").shape, (std::vector<int64_t>{0, 4}));
  EXPECT_EQ(reader.get("scalar").shape, std::vector<int64_t>{});
  const F32Data value = reader.load_f32("scalar", {});
  ASSERT_EQ(value.count, 1u);
  EXPECT_EQ(value.data[0], 42.0f);
  const std::vector<int64_t> empty_shape = {0, 4};
  EXPECT_EQ(reader.load_f32("empty", empty_shape).count, 0u);
}

TEST(Safetensors, F32LoadIsZeroCopyAndOutlivesReaderAndFileName) {
  testing::TempDir dir;
  std::vector<float> values(12);
  for (size_t i = 0; i < values.size(); ++i) values[i] = 0.5f * static_cast<float>(i);
  const std::vector<int64_t> shape = {3, 4};
  const SafetensorsTensorToWrite tensor{"w", DType::f32, shape, as_bytes_of(values)};
  write_safetensors(dir / "z.safetensors", std::span(&tensor, 1));
  F32Data loaded;
  {
    const auto reader = SafetensorsReader::open(dir / "z.safetensors");
    loaded = reader.load_f32("w", shape);
    // The pointer is the tensor's bytes in the mapping itself, not a copy.
    EXPECT_EQ(static_cast<const void*>(loaded.data),
              static_cast<const void*>(reader.get("w").data));
  }
  std::filesystem::remove(dir / "z.safetensors");
  ASSERT_EQ(loaded.count, values.size());
  ASSERT_NE(loaded.owner, nullptr);
  for (size_t i = 0; i < values.size(); ++i) EXPECT_EQ(loaded.data[i], values[i]);
}

TEST(Safetensors, UnalignedF32IsCopied) {
  testing::TempDir dir;
  const std::vector<uint8_t> one_byte = {7};
  const std::vector<float> values = {1.5f, -2.25f, 3e-40f};  // includes an f32 subnormal
  const std::vector<SafetensorsTensorToWrite> tensors = {
      {"pad", DType::u8, {1}, as_bytes_of(one_byte)},
      {"w", DType::f32, {3}, as_bytes_of(values)},
  };
  write_safetensors(dir / "u.safetensors", tensors);
  const auto reader = SafetensorsReader::open(dir / "u.safetensors");
  const SafetensorsTensor& stored = reader.get("w");
  ASSERT_NE(reinterpret_cast<uintptr_t>(stored.data) % 4, 0u);
  const std::vector<int64_t> shape = {3};
  const F32Data loaded = reader.load_f32("w", shape);
  EXPECT_NE(static_cast<const void*>(loaded.data), static_cast<const void*>(stored.data));
  EXPECT_EQ(reinterpret_cast<uintptr_t>(loaded.data) % alignof(float), 0u);
  ASSERT_EQ(loaded.count, 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(loaded.data[i], values[i]);
}

// Every F16 / BF16 bit pattern converts exactly (subnormals, +-inf, NaN).
TEST(Safetensors, HalfPrecisionLoadsConvertEveryBitPatternExactly) {
  testing::TempDir dir;
  std::vector<uint16_t> patterns(65536);
  for (uint32_t i = 0; i < 65536; ++i) patterns[i] = static_cast<uint16_t>(i);
  const std::vector<int64_t> shape = {256, 256};
  const std::vector<SafetensorsTensorToWrite> tensors = {
      {"h", DType::f16, shape, as_bytes_of(patterns)},
      {"b", DType::bf16, shape, as_bytes_of(patterns)},
  };
  write_safetensors(dir / "h.safetensors", tensors);
  const auto reader = SafetensorsReader::open(dir / "h.safetensors");
  const F32Data f16 = reader.load_f32("h", shape);
  const F32Data bf16 = reader.load_f32("b", shape);
  ASSERT_EQ(f16.count, 65536u);
  ASSERT_EQ(bf16.count, 65536u);
  for (uint32_t i = 0; i < 65536; ++i) {
    const float expected_f16 = f16_to_f32(static_cast<uint16_t>(i));
    if (std::isnan(expected_f16)) {
      EXPECT_TRUE(std::isnan(f16.data[i])) << i;
    } else {
      EXPECT_EQ(std::bit_cast<uint32_t>(f16.data[i]), std::bit_cast<uint32_t>(expected_f16)) << i;
    }
    // bf16 -> f32 is a shift, so even NaN payloads are kept bit for bit.
    EXPECT_EQ(std::bit_cast<uint32_t>(bf16.data[i]), i << 16) << i;
  }
  // Spot checks against known values.
  EXPECT_EQ(f16.data[0x0001], std::ldexp(1.0f, -24));
  EXPECT_EQ(f16.data[0x3c00], 1.0f);
  EXPECT_EQ(f16.data[0x7bff], 65504.0f);
  EXPECT_EQ(f16.data[0x7c00], std::numeric_limits<float>::infinity());
  EXPECT_EQ(f16.data[0xfc00], -std::numeric_limits<float>::infinity());
  EXPECT_EQ(bf16.data[0x3f80], 1.0f);
  EXPECT_EQ(bf16.data[0x0001], std::bit_cast<float>(0x00010000u));  // f32 subnormal
}

TEST(Safetensors, LoadF32Errors) {
  testing::TempDir dir;
  const std::vector<float> values(6, 1.0f);
  const std::vector<int32_t> ints(6, 3);
  const std::vector<SafetensorsTensorToWrite> tensors = {
      {"w", DType::f32, {2, 3}, as_bytes_of(values)},
      {"ids", DType::i32, {6}, as_bytes_of(ints)},
  };
  const auto path = dir / "err.safetensors";
  write_safetensors(path, tensors);
  const auto reader = SafetensorsReader::open(path);
  const std::vector<int64_t> wrong = {3, 2};
  EXPECT_EQ(error_of([&] { reader.load_f32("w", wrong); }),
            path.string() + ": tensor 'w' has shape [2, 3], expected [3, 2]");
  const std::vector<int64_t> wrong_rank = {6};
  EXPECT_EQ(error_of([&] { reader.load_f32("w", wrong_rank); }),
            path.string() + ": tensor 'w' has shape [2, 3], expected [6]");
  EXPECT_EQ(error_of([&] { reader.get("nope"); }), path.string() + ": missing tensor 'nope'");
  EXPECT_EQ(error_of([&] { reader.load_f32("nope", wrong); }),
            path.string() + ": missing tensor 'nope'");
  const std::string message = error_of([&] { reader.load_f32("ids", wrong_rank); });
  EXPECT_TRUE(contains(message, path.string()));
  EXPECT_TRUE(contains(message, "dtype I32"));
}

TEST(Safetensors, WriterValidatesAndLeavesNoFile) {
  testing::TempDir dir;
  const auto path = dir / "bad.safetensors";
  const std::vector<float> four(4, 0.0f);
  const auto expect_error = [&](const std::vector<SafetensorsTensorToWrite>& tensors,
                                const std::string& expected,
                                const std::map<std::string, std::string>& metadata = {}) {
    const std::string message = error_of([&] { write_safetensors(path, tensors, metadata); });
    EXPECT_TRUE(contains(message, path.string()));
    EXPECT_TRUE(contains(message, expected));
    EXPECT_FALSE(std::filesystem::exists(path));
  };
  expect_error(
      {{"a", DType::f32, {4}, as_bytes_of(four)}, {"a", DType::f32, {4}, as_bytes_of(four)}},
      "duplicate tensor name 'a'");
  expect_error({{"a", DType::f32, {5}, as_bytes_of(four)}},
               "has 16 bytes, but F32 shape [5] needs 20");
  expect_error({{"a", DType::f16, {2, 2}, as_bytes_of(four)}}, "needs 8");
  expect_error({{"a", DType::f32, {-4}, as_bytes_of(four)}}, "invalid shape [-4]");
  expect_error({{"a", DType::f32, {1LL << 40, 1LL << 40}, as_bytes_of(four)}}, "overflow");
  expect_error({{"", DType::f32, {4}, as_bytes_of(four)}}, "empty name");
  expect_error({{"__metadata__", DType::f32, {4}, as_bytes_of(four)}}, "reserved");
  expect_error({{"bad\xff", DType::f32, {4}, as_bytes_of(four)}}, "not valid UTF-8");
  expect_error({}, "not valid UTF-8", {{"k", "\xc3"}});
}

TEST(Safetensors, WriterReplacesAnExistingFileAtomically) {
  testing::TempDir dir;
  const auto path = dir / "r.safetensors";
  const std::vector<float> a = {1, 2};
  const std::vector<float> b = {3, 4, 5};
  const SafetensorsTensorToWrite first{"x", DType::f32, {2}, as_bytes_of(a)};
  const SafetensorsTensorToWrite second{"x", DType::f32, {3}, as_bytes_of(b)};
  write_safetensors(path, std::span(&first, 1));
  const auto old_reader = SafetensorsReader::open(path);
  write_safetensors(path, std::span(&second, 1));
  // The old mapping still sees the old file: it was replaced, not rewritten.
  const std::vector<int64_t> two = {2};
  EXPECT_EQ(old_reader.load_f32("x", two).data[1], 2.0f);
  const std::vector<int64_t> three = {3};
  EXPECT_EQ(SafetensorsReader::open(path).load_f32("x", three).data[2], 5.0f);
}

TEST(Safetensors, FromMemoryParsesTheSameBytes) {
  testing::TempDir dir;
  const std::vector<float> values = {1, 2, 3, 4};
  const SafetensorsTensorToWrite tensor{"v", DType::f32, {2, 2}, as_bytes_of(values)};
  write_safetensors(dir / "mem.safetensors", std::span(&tensor, 1), {{"k", "v"}});
  auto buffer = std::make_shared<std::string>(testing::read_file_bytes(dir / "mem.safetensors"));
  const auto reader = SafetensorsReader::from_memory(
      "in-memory", std::as_bytes(std::span(buffer->data(), buffer->size())), buffer);
  EXPECT_EQ(reader.path(), "in-memory");
  EXPECT_EQ(reader.metadata().at("k"), "v");
  const std::vector<int64_t> shape = {2, 2};
  EXPECT_EQ(reader.load_f32("v", shape).data[3], 4.0f);
  EXPECT_EQ(reader.load_f32("v", shape).owner, buffer);
}

}  // namespace
}  // namespace bit_ttt
