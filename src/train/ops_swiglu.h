// SwiGLU gating (MODEL_SPEC.md §3), elementwise over n values:
//   out = silu(gate) ⊙ up,   silu(z) = z·σ(z)
#pragma once

#include <cstdint>

namespace bit_ttt::train {

// The float version is the inference kernel (cpu::swiglu_row), bit for bit.
template <typename T>
void swiglu_forward(T* out, const T* gate, const T* up, int64_t n);

// d_gate = d_out ⊙ up ⊙ σ(gate)·(1 + gate·(1 − σ(gate))),  d_up = d_out ⊙ silu(gate).
// d_gate may alias d_out (each element is read before it is written). The float
// σ uses exp_fast (ops_math.h): a gradient needs no bit-exact match with inference.
template <typename T>
void swiglu_backward(T* d_gate, T* d_up, const T* d_out, const T* gate, const T* up, int64_t n);

}  // namespace bit_ttt::train
