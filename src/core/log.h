// Minimal logging to stderr. Warnings are for problems that do not stop work
// (e.g. extra tensors in a checkpoint); errors that stop work are exceptions.
#pragma once

#include <cstdio>
#include <string>

#include "bit_ttt/error.h"

namespace bit_ttt {

void set_log_quiet(bool quiet);  // silences info (not warnings)
bool log_quiet();

template <typename... Parts>
void log_warning(Parts&&... parts) {
  std::fprintf(stderr, "warning: %s\n", concat(std::forward<Parts>(parts)...).c_str());
}

template <typename... Parts>
void log_info(Parts&&... parts) {
  if (!log_quiet()) std::fprintf(stderr, "%s\n", concat(std::forward<Parts>(parts)...).c_str());
}

}  // namespace bit_ttt
