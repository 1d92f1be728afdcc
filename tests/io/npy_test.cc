#include "io/npy.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "bit_ttt/error.h"
#include "test_util.h"

namespace bit_ttt {
namespace {

using testing::contains;
using testing::error_of;

// The system interpreter: the one with python3-numpy (a pyenv python on PATH may lack it).
constexpr const char* kPython = "/usr/bin/python3";

bool numpy_available() {
  const std::string command = std::string(kPython) + " -c 'import numpy' >/dev/null 2>&1";
  return std::system(command.c_str()) == 0;
}

// Runs a Python script; returns "" on success, else its output.
std::string run_python(const testing::TempDir& dir, const std::string& script,
                       const std::string& argument) {
  testing::write_file_bytes(dir / "script.py", script);
  const std::string command = std::string(kPython) + " '" + (dir / "script.py").string() + "' '" +
                              argument + "' >'" + (dir / "python.log").string() + "' 2>&1";
  if (std::system(command.c_str()) == 0) return "";
  return "python failed:\n" + testing::read_file_bytes(dir / "python.log");
}

constexpr DType kNpyDTypes[] = {DType::f32, DType::f16, DType::f64, DType::i8,
                                DType::i16, DType::i32, DType::i64, DType::u8,
                                DType::u16, DType::u32, DType::u64, DType::boolean};

// Element i of our test arrays, the same formula as in the Python checks below.
std::vector<std::byte> test_values(DType dtype, size_t count) {
  std::vector<std::byte> bytes(count * dtype_size(dtype));
  for (size_t i = 0; i < count; ++i) {
    const double value = static_cast<double>(i) - 3.0;  // negative, zero and positive
    std::byte* out = bytes.data() + i * dtype_size(dtype);
    const auto store = [&](auto typed) { std::memcpy(out, &typed, sizeof(typed)); };
    switch (dtype) {
      case DType::f32:
        store(static_cast<float>(value * 0.5));
        break;
      case DType::f16:
        store(f32_to_f16(static_cast<float>(value * 0.5)));
        break;
      case DType::f64:
        store(value * 0.5);
        break;
      case DType::i8:
        store(static_cast<int8_t>(value));
        break;
      case DType::i16:
        store(static_cast<int16_t>(value));
        break;
      case DType::i32:
        store(static_cast<int32_t>(value));
        break;
      case DType::i64:
        store(static_cast<int64_t>(value));
        break;
      case DType::u8:
        store(static_cast<uint8_t>(i));
        break;
      case DType::u16:
        store(static_cast<uint16_t>(i));
        break;
      case DType::u32:
        store(static_cast<uint32_t>(i));
        break;
      case DType::u64:
        store(static_cast<uint64_t>(i));
        break;
      case DType::boolean:
        store(static_cast<uint8_t>(i % 2));
        break;
      default:
        ADD_FAILURE() << "no test values for " << dtype_name(dtype);
    }
  }
  return bytes;
}

TEST(Npy, RoundTripsEveryDTypeAndShape) {
  testing::TempDir dir;
  const std::vector<std::vector<int64_t>> shapes = {{}, {5}, {2, 3, 4}, {0, 3}, {1, 1, 1, 1}};
  for (const DType dtype : kNpyDTypes) {
    for (const std::vector<int64_t>& shape : shapes) {
      size_t count = 1;
      for (const int64_t dim : shape) count *= static_cast<size_t>(dim);
      const std::vector<std::byte> values = test_values(dtype, count);
      const auto path = dir / "a.npy";
      write_npy(path, dtype, shape, values.data());
      const NpyArray array = read_npy(path);
      EXPECT_EQ(array.dtype, dtype) << dtype_name(dtype);
      EXPECT_EQ(array.shape, shape);
      EXPECT_EQ(array.bytes, values) << dtype_name(dtype);
    }
  }
}

TEST(Npy, WritesNumpyVersion1HeaderAlignedTo64) {
  testing::TempDir dir;
  const std::vector<float> values(6, 1.0f);
  const std::vector<int64_t> shape = {2, 3};
  write_npy(dir / "h.npy", DType::f32, shape, values.data());
  const std::string bytes = testing::read_file_bytes(dir / "h.npy");
  ASSERT_GE(bytes.size(), 10u);
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  const size_t header_length =
      static_cast<uint8_t>(bytes[8]) | (static_cast<uint8_t>(bytes[9]) << 8);
  EXPECT_EQ((10 + header_length) % 64, 0u);
  const std::string header = bytes.substr(10, header_length);
  EXPECT_EQ(header.rfind("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 0), 0u)
      << header;
  EXPECT_EQ(header.back(), '\n');
  EXPECT_EQ(bytes.size(), 10 + header_length + 24);

  const std::vector<int64_t> one = {7};
  const std::vector<uint8_t> bytes7(7, 1);
  write_npy(dir / "v.npy", DType::u8, one, bytes7.data());
  EXPECT_TRUE(contains(testing::read_file_bytes(dir / "v.npy"),
                       "{'descr': '|u1', 'fortran_order': False, 'shape': (7,), }"));
  write_npy(dir / "s.npy", DType::i64, {}, values.data());
  EXPECT_TRUE(contains(testing::read_file_bytes(dir / "s.npy"), "'shape': (), }"));
}

TEST(Npy, WriteErrorsNameTheFile) {
  testing::TempDir dir;
  const auto path = dir / "bad.npy";
  const std::vector<uint16_t> values(4, 0);
  const std::vector<int64_t> shape = {4};
  std::string message = error_of([&] { write_npy(path, DType::bf16, shape, values.data()); });
  EXPECT_TRUE(contains(message, path.string()));
  EXPECT_TRUE(contains(message, ".npy has no dtype for BF16"));
  const std::vector<int64_t> negative = {-1};
  message = error_of([&] { write_npy(path, DType::f32, negative, values.data()); });
  EXPECT_TRUE(contains(message, path.string()));
  EXPECT_TRUE(contains(message, "invalid shape (-1,)"));
  message = error_of([&] { write_npy(path, DType::f32, shape, nullptr); });
  EXPECT_TRUE(contains(message, "null data"));
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(Npy, NumpyReadsWhatWeWrite) {
  if (!numpy_available()) GTEST_SKIP() << kPython << " has no numpy (apt install python3-numpy)";
  testing::TempDir dir;
  const std::vector<int64_t> shape = {2, 3, 4};
  for (const DType dtype : kNpyDTypes) {
    const std::vector<std::byte> values = test_values(dtype, 24);
    write_npy(dir / (std::string(dtype_name(dtype)) + ".npy"), dtype, shape, values.data());
  }
  write_npy(dir / "scalar.npy", DType::f32, {}, test_values(DType::f32, 1).data());
  write_npy(dir / "empty.npy", DType::i32, std::vector<int64_t>{0, 5}, nullptr);
  const std::string script = R"(
import sys, numpy as np
d = sys.argv[1]
i = np.arange(24)
expected = {
    'F32': ((i - 3) * 0.5).astype('<f4'), 'F16': ((i - 3) * 0.5).astype('<f2'),
    'F64': ((i - 3) * 0.5).astype('<f8'),
    'I8': (i - 3).astype('i1'), 'I16': (i - 3).astype('<i2'), 'I32': (i - 3).astype('<i4'),
    'I64': (i - 3).astype('<i8'), 'U8': i.astype('u1'), 'U16': i.astype('<u2'),
    'U32': i.astype('<u4'), 'U64': i.astype('<u8'), 'BOOL': (i % 2).astype('?'),
}
for name, want in expected.items():
    a = np.load(f'{d}/{name}.npy')
    assert a.dtype == want.dtype, (name, a.dtype, want.dtype)
    assert a.shape == (2, 3, 4), (name, a.shape)
    assert a.flags['C_CONTIGUOUS']
    assert np.array_equal(a, want.reshape(2, 3, 4)), (name, a)
s = np.load(f'{d}/scalar.npy')
assert s.shape == () and s.dtype == np.float32 and s == -1.5, s
e = np.load(f'{d}/empty.npy')
assert e.shape == (0, 5) and e.dtype == np.int32, e
)";
  const std::string failure = run_python(dir, script, dir.path().string());
  EXPECT_EQ(failure, "");
}

TEST(Npy, WeReadWhatNumpyWrites) {
  if (!numpy_available()) GTEST_SKIP() << kPython << " has no numpy (apt install python3-numpy)";
  testing::TempDir dir;
  const std::string script = R"(
import sys, numpy as np
from numpy.lib import format as fmt
d = sys.argv[1]
np.save(f'{d}/f32.npy', np.arange(12, dtype='<f4').reshape(3, 4) * 0.25)
np.save(f'{d}/i64.npy', np.array([-5, 0, 7], dtype='<i8'))
np.save(f'{d}/bool.npy', np.array([[True, False]]))
np.save(f'{d}/f16_scalar.npy', np.float16(-2.5))
np.save(f'{d}/sliced.npy', np.arange(20, dtype='<i4').reshape(4, 5)[:, 1:3])
for version in [(2, 0), (3, 0)]:
    with open(f'{d}/v{version[0]}.npy', 'wb') as f:
        fmt.write_array(f, np.arange(6, dtype='<u2').reshape(2, 3), version=version)
np.save(f'{d}/fortran.npy', np.asfortranarray(np.arange(6, dtype='<f4').reshape(2, 3)))
np.save(f'{d}/fortran_1d.npy', np.asfortranarray(np.arange(3, dtype='<f4')))
np.save(f'{d}/big_endian.npy', np.arange(3, dtype='>f4'))
np.save(f'{d}/complex.npy', np.zeros(3, dtype='<c8'))
np.save(f'{d}/structured.npy', np.zeros(2, dtype=[('a', '<f4'), ('b', '<i4')]))
)";
  ASSERT_EQ(run_python(dir, script, dir.path().string()), "");

  NpyArray a = read_npy(dir / "f32.npy");
  EXPECT_EQ(a.dtype, DType::f32);
  EXPECT_EQ(a.shape, (std::vector<int64_t>{3, 4}));
  ASSERT_EQ(a.bytes.size(), 48u);
  float last;
  std::memcpy(&last, a.bytes.data() + 44, 4);
  EXPECT_EQ(last, 2.75f);

  a = read_npy(dir / "i64.npy");
  EXPECT_EQ(a.dtype, DType::i64);
  int64_t first;
  std::memcpy(&first, a.bytes.data(), 8);
  EXPECT_EQ(first, -5);
  EXPECT_EQ(read_npy(dir / "bool.npy").dtype, DType::boolean);
  a = read_npy(dir / "f16_scalar.npy");
  EXPECT_EQ(a.dtype, DType::f16);
  EXPECT_TRUE(a.shape.empty());
  uint16_t half;
  std::memcpy(&half, a.bytes.data(), 2);
  EXPECT_EQ(f16_to_f32(half), -2.5f);
  a = read_npy(dir / "sliced.npy");  // np.save makes non-contiguous views C order
  EXPECT_EQ(a.shape, (std::vector<int64_t>{4, 2}));
  int32_t value;
  std::memcpy(&value, a.bytes.data() + 4, 4);
  EXPECT_EQ(value, 2);
  for (const char* name : {"v2.npy", "v3.npy"}) {
    a = read_npy(dir / name);
    EXPECT_EQ(a.dtype, DType::u16) << name;
    EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 3})) << name;
  }
  EXPECT_EQ(read_npy(dir / "fortran_1d.npy").shape, std::vector<int64_t>{3});

  const auto expect_error = [&](const std::string& name, const std::string& expected) {
    const std::string message = error_of([&] { read_npy(dir / name); });
    EXPECT_TRUE(contains(message, (dir / name).string()));
    EXPECT_TRUE(contains(message, expected));
  };
  expect_error("fortran.npy", "Fortran-order arrays are not supported");
  expect_error("big_endian.npy", "big-endian dtype '>f4' is not supported");
  expect_error("complex.npy", "unsupported dtype '<c8'");
  expect_error("structured.npy", "structured dtypes");
}

std::string npy_bytes(const std::string& header, const std::string& data, char major = 1) {
  std::string bytes = std::string("\x93NUMPY", 6) + major + '\0';
  const auto length = static_cast<uint32_t>(header.size());
  bytes += static_cast<char>(length & 0xff);
  bytes += static_cast<char>((length >> 8) & 0xff);
  if (major != 1) {
    bytes += static_cast<char>((length >> 16) & 0xff);
    bytes += static_cast<char>(length >> 24);
  }
  return bytes + header + data;
}

TEST(Npy, CorruptFilesFailWithClearErrors) {
  testing::TempDir dir;
  const auto path = dir / "c.npy";
  const auto expect_error = [&](const std::string& bytes, const std::string& expected) {
    testing::write_file_bytes(path, bytes);
    const std::string message = error_of([&] { read_npy(path); });
    EXPECT_EQ(message.rfind(path.string() + ": ", 0), 0u) << message;
    EXPECT_TRUE(contains(message, expected)) << "for " << ::testing::PrintToString(bytes);
  };
  const std::string f32_2 = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n";
  const std::string eight(8, '\0');
  expect_error("", "not a .npy file");
  expect_error("\x93NUMPX\x01\x00", "not a .npy file");
  expect_error(npy_bytes(f32_2, eight, 4), "unsupported .npy version 4.0");
  expect_error(std::string("\x93NUMPY\x01\x00\x10", 9), "truncated .npy file (9 bytes)");
  expect_error(std::string("\x93NUMPY\x01\x00\xff\x00{}", 12),
               "header length 255 but only 2 bytes follow");
  expect_error(npy_bytes(f32_2, "1234"),
               "truncated .npy data: shape (2,) of F32 needs 8 bytes, file has 4");
  expect_error(npy_bytes(f32_2, eight + "x"), "1 unexpected bytes after the data");
  expect_error(npy_bytes("{'descr': '<f4', 'shape': (2,), }", eight),
               "header has no 'fortran_order'");
  expect_error(npy_bytes("{'fortran_order': False, 'shape': (2,)}", eight),
               "header has no 'descr'");
  expect_error(npy_bytes("{'descr': '<f4', 'fortran_order': False}", eight),
               "header has no 'shape'");
  expect_error(
      npy_bytes("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", eight),
      "duplicate key 'descr'");
  expect_error(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}", eight),
               "unexpected key 'x'");
  expect_error(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,)}", eight),
               "negative dimension");
  expect_error(npy_bytes("{'descr': '<f4', 'fortran_order': false, 'shape': (2,)}", eight),
               "fortran_order must be True or False");
  expect_error(npy_bytes("{'descr': '<f4, 'fortran_order': False}", eight),
               "malformed .npy header");
  expect_error(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)", eight),
               "malformed .npy header");
  expect_error(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} junk", eight),
               "unexpected text after the header dict");
  expect_error(
      npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}",
                eight),
      "dimension too large");
  expect_error(
      npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296)}",
                eight),
      "overflows");
  expect_error(npy_bytes("{'descr': '<U8', 'fortran_order': False, 'shape': (2,)}", eight),
               "unsupported dtype '<U8'");
  expect_error(npy_bytes("{'descr': '>i8', 'fortran_order': False, 'shape': (1,)}", eight),
               "big-endian dtype '>i8'");
  expect_error(npy_bytes("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 1)}", eight),
               "Fortran-order arrays are not supported");
}

TEST(Npy, AcceptsOlderAndLooserHeaders) {
  testing::TempDir dir;
  const auto path = dir / "ok.npy";
  const std::string eight(8, '\0');
  // Python 2 long suffixes, double quotes, any key order, no trailing comma.
  testing::write_file_bytes(
      path, npy_bytes(R"({"shape": (2L, 1L), "fortran_order": False, "descr": "<f4"})", eight));
  NpyArray array = read_npy(path);
  EXPECT_EQ(array.shape, (std::vector<int64_t>{2, 1}));
  EXPECT_EQ(array.dtype, DType::f32);
  // A one-byte type with any byte-order mark, and a v2.0 header.
  testing::write_file_bytes(
      path, npy_bytes("{'descr': '>u1', 'fortran_order': False, 'shape': (8,), }\n", eight, 2));
  array = read_npy(path);
  EXPECT_EQ(array.dtype, DType::u8);
  EXPECT_EQ(array.bytes.size(), 8u);
}

TEST(Npy, RandomMutationsOnlyEverThrowError) {
  testing::TempDir dir;
  const std::vector<int64_t> shape = {3, 4};
  const std::vector<std::byte> values = test_values(DType::i32, 12);
  write_npy(dir / "seed.npy", DType::i32, shape, values.data());
  const std::string seed = testing::read_file_bytes(dir / "seed.npy");
  std::mt19937 random(99);
  for (int round = 0; round < 3000; ++round) {
    std::string bytes = seed;
    for (int edit = 0; edit < 1 + static_cast<int>(random() % 3) && !bytes.empty(); ++edit) {
      const size_t at = random() % bytes.size();
      switch (random() % 3) {
        case 0:
          bytes[at] = "{}(),:'0123456789-LTF<|>fiub "[random() % 29];
          break;
        case 1:
          bytes.resize(at);
          break;
        default:
          bytes[at] = static_cast<char>(random());
          break;
      }
    }
    std::vector<std::byte> buffer(bytes.size());
    if (!bytes.empty()) std::memcpy(buffer.data(), bytes.data(), bytes.size());
    try {
      const NpyArray array = parse_npy(buffer, "mutant.npy");
      size_t count = dtype_size(array.dtype);
      for (const int64_t dim : array.shape) count *= static_cast<size_t>(dim);
      ASSERT_EQ(array.bytes.size(), count);
    } catch (const Error& error) {
      ASSERT_EQ(std::string(error.what()).rfind("mutant.npy: ", 0), 0u) << error.what();
    }
  }
}

}  // namespace
}  // namespace bit_ttt
