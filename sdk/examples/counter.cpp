// A counter that keeps its count in the store, and can hand the count to a
// child program ("doubler") to transform it.
#include <nomos/guest.h>

using namespace nomos;

static uint64_t load_count() {
  uint64_t count = 0;
  if (!read_value("count", count)) count = 0; // absent: start from zero
  return count;
}

// count += 1
NOMOS_EXPORT(increment) void increment() {
  write_value("count", load_count() + 1);
}

// Runs the code stored at key "doubler" as a child (its store under
// "doubler"), lets it transform this program's count, and keeps the result.
NOMOS_EXPORT(exec_other) void exec_other() {
  uint64_t count = load_count();

  Child child = Child::create("doubler", "doubler", 1000000, 65536);
  if (!child.ok()) {
    Message<96> m;
    m.append("exec_other: cannot open child \"doubler\": status ")
        .append_status(child.status());
    abort(m.bytes());
  }

  int32_t rc = child.set_value("count", count);
  if (rc != NOMOS_OK) {
    Message<96> m;
    m.append("exec_other: child set \"count\" failed: status ").append_status(rc);
    abort(m.bytes());
  }

  rc = child.call("run");
  if (rc != 0) {
    Message<96> m;
    m.append("exec_other: child call \"run\" failed: status ").append_status(rc);
    abort(m.bytes());
  }

  uint64_t result;
  if (!child.get_value("count", result))
    abort("exec_other: child's \"count\" is absent or malformed");
  write_value("count", result);
}
