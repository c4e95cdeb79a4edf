// Test guest for state (tests/state_test.cpp): storage limits, children's
// storage, self-upgrade. Version 1 of the program; tests/wat/stateful_v2.wat
// is version 2.
//
// version() -> 1; store_version: writes "v" = u32 1.
// fill(n): writes "blob" = n bytes (n <= 64 KiB).
// fill_from_store: fill(u32 at "n").
// write_then_trap: writes "a" then aborts.
// child_fill(n, storage): opens a child on the code at "child_code" with
//   store key "c" and `storage` bytes, gives it "n" = n, calls its
//   fill_from_store, and writes its child_call status to "rc" (i32).
// grandchild_fill(n, storage): the same one level deeper: the child runs
//   child_fill(n, storage) for its own child.
// do_upgrade: upgrade("next"), writes the status to "upgrade_rc".
// write_key(n): writes an n-byte key. pair_increment: "a" = "b" = a + 1.
// do_upgrade_then_trap: upgrade("next"), then aborts.
// child_upgrade: a child on "child_code" (store "k") gets "next" (copied from
//   this program's store), upgrades itself in one call and runs
//   store_version in the next; its "v" is copied to "child_v".
#include <nomos/guest.h>

using namespace nomos;

static uint8_t buffer[65536];

NOMOS_EXPORT(version) int32_t version() { return 1; }

NOMOS_EXPORT(store_version) void store_version() {
  write_value("v", uint32_t(1));
}

NOMOS_EXPORT(fill) void fill(uint32_t n) {
  if (n > sizeof buffer) abort("fill: too large");
  for (uint32_t i = 0; i < n; ++i) buffer[i] = uint8_t(i);
  write("blob", Bytes(buffer, n));
}

NOMOS_EXPORT(fill_from_store) void fill_from_store() {
  uint32_t n = 0;
  if (!read_value("n", n)) abort("fill_from_store: no n");
  fill(n);
}

NOMOS_EXPORT(write_then_trap) void write_then_trap() {
  write_value("a", uint32_t(1));
  abort("write_then_trap");
}

NOMOS_EXPORT(child_fill) void child_fill(uint32_t n, uint32_t storage) {
  Child child = Child::create("child_code", "c", 100'000'000, storage);
  if (!child.ok()) abort("child_fill: child_new failed");
  child.set_value("n", n);
  write_value("rc", int32_t(child.call("fill_from_store")));
}

// Run by a child: its own child, with the parameters in its store.
NOMOS_EXPORT(child_fill_from_store) void child_fill_from_store() {
  uint32_t n = 0, storage = 0;
  if (!read_value("n", n) || !read_value("storage", storage))
    abort("child_fill_from_store: no parameters");
  child_fill(n, storage);
}

NOMOS_EXPORT(grandchild_fill) void grandchild_fill(uint32_t n, uint32_t storage) {
  // The child needs the code too, to open the grandchild.
  int32_t size = read("child_code", buffer, sizeof buffer);
  if (size < 0 || uint32_t(size) > sizeof buffer) abort("no child_code");
  Child child = Child::create("child_code", "g", 100'000'000, 1 << 20);
  if (!child.ok()) abort("grandchild_fill: child_new failed");
  child.set("child_code", Bytes(buffer, uint32_t(size)));
  child.set_value("n", n);
  child.set_value("storage", storage);
  write_value("rc", int32_t(child.call("child_fill_from_store")));
}

NOMOS_EXPORT(do_upgrade) void do_upgrade() {
  write_value("upgrade_rc", int32_t(upgrade("next")));
}

NOMOS_EXPORT(do_upgrade_then_trap) void do_upgrade_then_trap() {
  upgrade("next");
  abort("do_upgrade_then_trap");
}

NOMOS_EXPORT(child_upgrade) void child_upgrade() {
  int32_t size = read("next", buffer, sizeof buffer);
  if (size < 0 || uint32_t(size) > sizeof buffer) abort("no next");
  Child child = Child::create("child_code", "k", 100'000'000, 1 << 20);
  if (!child.ok()) abort("child_upgrade: child_new failed");
  child.set("next", Bytes(buffer, uint32_t(size)));
  if (child.call("do_upgrade") != 0) abort("child do_upgrade trapped");
  if (child.call("store_version") != 0) abort("child store_version trapped");
  uint32_t v = 0;
  if (!child.get_value("v", v)) abort("child wrote no v");
  write_value("child_v", v);
}

// write_key(n): writes an n-byte key (n <= 1024) with a 1-byte value.
NOMOS_EXPORT(write_key) void write_key(uint32_t n) {
  if (n > 1024) abort("write_key: too large");
  for (uint32_t i = 0; i < n; ++i) buffer[i] = 'k';
  write(Bytes(buffer, n), "v");
}

// pair_increment: "a" and "b" (u64) both become a + 1, in one call.
NOMOS_EXPORT(pair_increment) void pair_increment() {
  uint64_t a = 0;
  read_value("a", a);
  write_value("a", a + 1);
  write_value("b", a + 1);
}
