// Token embedding (MODEL_SPEC.md §3: h_t = embed[x_t]).
//   table [n_vocab, dim], tokens [n_rows] (each in [0, n_vocab)), out [n_rows, dim]
#pragma once

#include <cstdint>

namespace bit_ttt::train {

// out[r] = table[tokens[r]]
template <typename T>
void embedding_forward(T* out, const T* table, const int32_t* tokens, int64_t n_rows, int64_t dim);

// d_table[tokens[r]] += d_out[r]. Serial over rows: a token repeated in the batch
// adds into the same table row, and one pass in row order keeps the sum deterministic.
template <typename T>
void embedding_backward(T* d_table, const T* d_out, const int32_t* tokens, int64_t n_rows,
                        int64_t dim);

}  // namespace bit_ttt::train
