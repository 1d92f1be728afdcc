// A tensor is a typed, shaped view of memory on one device plus a handle that
// keeps the memory alive (an owned allocation, a file mapping, a device buffer).
// No autograd, no graph: the model is plain functions over these (gemma.cpp style).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "core/check.h"
#include "core/dtype.h"

namespace bit_ttt {

enum class Device { cpu, cuda };

std::string device_name(Device device);

class Tensor {
 public:
  Tensor() = default;
  Tensor(DType dtype, std::vector<int64_t> shape, Device device, void* data,
         std::shared_ptr<const void> owner);

  // A zero-filled CPU tensor in 64-byte aligned memory.
  static Tensor zeros_cpu(DType dtype, std::vector<int64_t> shape);

  DType dtype() const { return dtype_; }
  Device device() const { return device_; }
  const std::vector<int64_t>& shape() const { return shape_; }
  int64_t dim(size_t axis) const {
    BT_CHECK(axis < shape_.size());
    return shape_[axis];
  }
  size_t rank() const { return shape_.size(); }
  int64_t numel() const;
  size_t n_bytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype_); }
  bool empty() const { return data_ == nullptr; }

  void* raw() { return data_; }
  const void* raw() const { return data_; }
  template <typename T>
  T* data() {
    return static_cast<T*>(data_);
  }
  template <typename T>
  const T* data() const {
    return static_cast<const T*>(data_);
  }

  // Rows [begin, begin + count) of the first axis, sharing memory.
  Tensor rows(int64_t begin, int64_t count) const;
  // Same memory, new shape with the same number of elements.
  Tensor reshaped(std::vector<int64_t> shape) const;

  std::string shape_string() const;

 private:
  DType dtype_ = DType::f32;
  std::vector<int64_t> shape_;
  Device device_ = Device::cpu;
  void* data_ = nullptr;
  std::shared_ptr<const void> owner_;
};

// 64-byte aligned host allocation owned by a shared_ptr.
std::shared_ptr<void> allocate_host(size_t n_bytes);

}  // namespace bit_ttt
