#include "core/log.h"

#include <atomic>

namespace bit_ttt {
namespace {
std::atomic<bool> g_quiet{false};
}
void set_log_quiet(bool quiet) { g_quiet = quiet; }
bool log_quiet() { return g_quiet; }
}  // namespace bit_ttt
