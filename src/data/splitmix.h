// splitmix64 (Steele, Lea & Flood 2014): a fast, well-mixing 64-bit bijection,
// used as a counter-based random generator (value = mix(seed, index)) so that
// any draw can be recomputed from its index without replaying a stream.
#pragma once

#include <cstdint>

namespace bit_ttt::data {

inline uint64_t splitmix64_mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// The index-th output of splitmix64 seeded with `seed`.
inline uint64_t splitmix64_at(uint64_t seed, uint64_t index) {
  return splitmix64_mix(seed + (index + 1) * 0x9e3779b97f4a7c15ull);
}

}  // namespace bit_ttt::data
