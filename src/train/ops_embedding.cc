#include "train/ops_embedding.h"

#include <algorithm>

namespace bit_ttt::train {

template <typename T>
void embedding_forward(T* out, const T* table, const int32_t* tokens, int64_t n_rows, int64_t dim) {
  for (int64_t r = 0; r < n_rows; ++r) {
    const T* row = table + static_cast<int64_t>(tokens[r]) * dim;
    std::copy(row, row + dim, out + r * dim);
  }
}

template <typename T>
void embedding_backward(T* d_table, const T* d_out, const int32_t* tokens, int64_t n_rows,
                        int64_t dim) {
  for (int64_t r = 0; r < n_rows; ++r) {
    T* row = d_table + static_cast<int64_t>(tokens[r]) * dim;
    const T* d_row = d_out + r * dim;
    for (int64_t i = 0; i < dim; ++i) row[i] += d_row[i];
  }
}

template void embedding_forward<float>(float*, const float*, const int32_t*, int64_t, int64_t);
template void embedding_forward<double>(double*, const double*, const int32_t*, int64_t, int64_t);
template void embedding_backward<float>(float*, const float*, const int32_t*, int64_t, int64_t);
template void embedding_backward<double>(double*, const double*, const int32_t*, int64_t, int64_t);

}  // namespace bit_ttt::train
