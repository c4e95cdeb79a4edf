#include "demo.h"

#include <nomos/nomos.h>

#include <cstdio>

extern const unsigned char embedded_counter[];
extern const std::size_t embedded_counter_size;
extern const unsigned char embedded_doubler[];
extern const std::size_t embedded_doubler_size;

namespace nomos::cli {

static int fail(const Error &error) {
  std::fprintf(stderr, "nomos demo: %s\n", error.toString().c_str());
  return 1;
}

static void printCount(VM &vm) {
  auto count = decode<uint64_t>(vm.get("count").value_or(Bytes{}));
  if (count)
    std::printf("count is %llu\n", static_cast<unsigned long long>(*count));
  else
    std::printf("count is unreadable: %s\n", count.error().message.c_str());
}

int runDemo() {
  auto vm = VM::create(ByteView(embedded_counter, embedded_counter_size));
  if (!vm)
    return fail(vm.error());
  vm->set("count", encode<uint64_t>(10));
  for (int i = 0; i < 2; ++i)
    if (auto called = vm->call("increment"); !called)
      return fail(called.error());
  printCount(*vm);

  // The counter runs the doubler as a child, from code in its own store.
  vm->set("doubler", ByteView(embedded_doubler, embedded_doubler_size));
  if (auto called = vm->call("exec_other"); !called)
    return fail(called.error());
  printCount(*vm);
  return 0;
}

} // namespace nomos::cli
