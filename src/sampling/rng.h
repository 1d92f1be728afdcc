// Uniform doubles from mt19937_64 built by hand: mt19937_64's bit stream is
// fixed by the standard, but std::uniform_real_distribution differs between
// standard libraries, which would make the same seed pick different tokens.
#pragma once

#include <random>

namespace bit_ttt {

// Uniform in [0, 1): the top 53 bits of one draw scaled by 2^-53, exact in a double.
inline double uniform_unit(std::mt19937_64& rng) {
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

}  // namespace bit_ttt
