// The CTRL-style repetition penalty (as in llama.cpp and HF transformers).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace bit_ttt {

// Divides positive logits and multiplies negative ones by `penalty` for every
// id in the last `repeat_last_n` entries of `history` (-1 = all), once per id
// however often it repeats. Only logits.size() ids are touched (ids past that
// are allowed in history but have nothing to penalise). Every history id
// looked at must lie in [0, n_vocab). `seen` is scratch of size >= logits.size(),
// all zero on entry and on return.
void apply_repetition_penalty(std::span<float> logits, std::span<const int32_t> history,
                              int repeat_last_n, float penalty, int64_t n_vocab,
                              std::vector<uint8_t>& seen);

}  // namespace bit_ttt
