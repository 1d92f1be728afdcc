// Cross-entropy of next-token logits (MODEL_SPEC.md §4).
//   logits, probs, d_logits [n_rows, n_vocab]; targets, losses [n_rows]
// A row whose target is negative has no target (the last position of a sequence):
// its loss is 0 and its gradient is 0. The float exponentials are exp_fast
// (ops_math.h, relative error 2e-7): the loss is not compared bit for bit with
// anything, and glibc's scalar expf would cost more than the softmax's memory passes.
#pragma once

#include <cstdint>

namespace bit_ttt::train {

// probs = softmax(logits) (may alias logits; rows without a target are left as they
// are), losses[r] = logsumexp(logits[r]) − logits[r, targets[r]].
template <typename T>
void cross_entropy_forward(T* probs, T* losses, const T* logits, const int32_t* targets,
                           int64_t n_rows, int64_t n_vocab);

// d_logits = d_loss · (probs − onehot(target)) where there is a target, else 0
// (may alias probs). d_loss is ∂L/∂losses[r], the same for every row (a mean).
template <typename T>
void cross_entropy_backward(T* d_logits, T d_loss, const T* probs, const int32_t* targets,
                            int64_t n_rows, int64_t n_vocab);

// Both in one pass over each row while it is in cache (what the trainer runs):
// d_logits (may alias logits) = cross_entropy_backward(cross_entropy_forward(...)).
template <typename T>
void cross_entropy_forward_backward(T* d_logits, T* losses, const T* logits, const int32_t* targets,
                                    T d_loss, int64_t n_rows, int64_t n_vocab);

}  // namespace bit_ttt::train
