// Doubles the count in its store; counter's exec_other runs it as a child.
#include <nomos/guest.h>

using namespace nomos;

NOMOS_EXPORT(run) void run() {
  uint64_t count = 0;
  if (!read_value("count", count)) count = 0; // absent: 0
  write_value("count", count * 2);
}
