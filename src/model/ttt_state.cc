#include <cstring>

#include "bit_ttt/error.h"
#include "bit_ttt/model.h"
#include "model/state_impl.h"

namespace bit_ttt {

TttState::TttState() : impl_(std::make_unique<Impl>()) {}
TttState::~TttState() = default;
TttState::TttState(TttState&&) noexcept = default;
TttState& TttState::operator=(TttState&&) noexcept = default;

TttState::TttState(const TttState& other) : impl_(std::make_unique<Impl>()) {
  *this = other;
}

TttState& TttState::operator=(const TttState& other) {
  if (this == &other) return *this;
  auto copy = std::make_unique<Impl>();
  copy->n_layers = other.impl_->n_layers;
  copy->ttt_dim = other.impl_->ttt_dim;
  copy->n_tokens = other.impl_->n_tokens;
  copy->backends = other.impl_->backends;
  copy->model_fingerprint = other.impl_->model_fingerprint;
  for (size_t i = 0; i < other.impl_->layers.size(); ++i) {
    Backend& backend = *other.impl_->backends[i];
    Tensor layer = backend.empty(DType::f32, other.impl_->layers[i].shape());
    backend.copy(other.impl_->layers[i], layer);
    copy->layers.push_back(std::move(layer));
  }
  impl_ = std::move(copy);
  return *this;
}

int64_t TttState::n_layers() const {
  return impl_->n_layers;
}
int64_t TttState::ttt_dim() const {
  return impl_->ttt_dim;
}
int64_t TttState::n_tokens() const {
  return impl_->n_tokens;
}

void TttState::reset() {
  for (size_t i = 0; i < impl_->layers.size(); ++i)
    impl_->layers[i] = impl_->backends[i]->empty(DType::f32, impl_->layers[i].shape());
  impl_->n_tokens = 0;
}

std::vector<float> TttState::layer_to_host(int64_t layer) const {
  if (layer < 0 || layer >= impl_->n_layers)
    fail("state layer ", layer, " is out of range [0, ", impl_->n_layers, ")");
  const Tensor& tensor = impl_->layers[static_cast<size_t>(layer)];
  std::vector<float> values(static_cast<size_t>(tensor.numel()));
  impl_->backends[static_cast<size_t>(layer)]->download(tensor, values.data());
  return values;
}

void TttState::layer_from_host(int64_t layer, std::span<const float> values) {
  if (layer < 0 || layer >= impl_->n_layers)
    fail("state layer ", layer, " is out of range [0, ", impl_->n_layers, ")");
  Tensor& tensor = impl_->layers[static_cast<size_t>(layer)];
  if (static_cast<int64_t>(values.size()) != tensor.numel())
    fail("state layer ", layer, " needs ", tensor.numel(), " values (", impl_->ttt_dim, "x",
         impl_->ttt_dim, "), got ", values.size());
  Tensor host(DType::f32, tensor.shape(), Device::cpu, const_cast<float*>(values.data()), nullptr);
  impl_->backends[static_cast<size_t>(layer)]->copy(host, tensor);
}

}  // namespace bit_ttt
