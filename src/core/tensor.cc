#include "core/tensor.h"

#include <cstdlib>
#include <cstring>
#include <new>

#include "bit_ttt/error.h"

namespace bit_ttt {

std::string device_name(Device device) { return device == Device::cuda ? "cuda" : "cpu"; }

Tensor::Tensor(DType dtype, std::vector<int64_t> shape, Device device, void* data,
               std::shared_ptr<const void> owner)
    : dtype_(dtype), shape_(std::move(shape)), device_(device), data_(data), owner_(std::move(owner)) {
  for (int64_t extent : shape_) BT_CHECK(extent >= 0);
}

std::shared_ptr<void> allocate_host(size_t n_bytes) {
  const size_t rounded = (n_bytes + 63) / 64 * 64;
  void* memory = std::aligned_alloc(64, rounded == 0 ? 64 : rounded);
  if (!memory) fail("out of memory: cannot allocate ", n_bytes, " bytes on the host");
  std::memset(memory, 0, rounded == 0 ? 64 : rounded);
  return std::shared_ptr<void>(memory, [](void* p) { std::free(p); });
}

Tensor Tensor::zeros_cpu(DType dtype, std::vector<int64_t> shape) {
  int64_t count = 1;
  for (int64_t extent : shape) count *= extent;
  auto memory = allocate_host(static_cast<size_t>(count) * dtype_size(dtype));
  void* data = memory.get();
  return Tensor(dtype, std::move(shape), Device::cpu, data, std::move(memory));
}

int64_t Tensor::numel() const {
  int64_t count = 1;
  for (int64_t extent : shape_) count *= extent;
  return count;
}

Tensor Tensor::rows(int64_t begin, int64_t count) const {
  BT_CHECK(!shape_.empty() && begin >= 0 && count >= 0 && begin + count <= shape_[0]);
  std::vector<int64_t> shape = shape_;
  shape[0] = count;
  const size_t row_bytes = shape_[0] == 0 ? 0 : n_bytes() / static_cast<size_t>(shape_[0]);
  return Tensor(dtype_, std::move(shape), device_,
                static_cast<char*>(data_) + static_cast<size_t>(begin) * row_bytes, owner_);
}

Tensor Tensor::reshaped(std::vector<int64_t> shape) const {
  Tensor result(dtype_, std::move(shape), device_, data_, owner_);
  BT_CHECK(result.numel() == numel());
  return result;
}

std::string Tensor::shape_string() const {
  std::string text = "[";
  for (size_t i = 0; i < shape_.size(); ++i) text += (i ? ", " : "") + std::to_string(shape_[i]);
  return text + "]";
}

}  // namespace bit_ttt
