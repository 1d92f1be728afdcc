// Invariant checks: a failed BT_CHECK is a bug in the engine, not bad input,
// so it aborts with file:line instead of throwing (bad input uses bit_ttt::fail).
#pragma once

#include <cstdio>
#include <cstdlib>

#define BT_CHECK(cond)                                                               \
  do {                                                                               \
    if (!(cond)) {                                                                   \
      std::fprintf(stderr, "%s:%d: invariant violated: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                  \
    }                                                                                \
  } while (0)
