// The seed example from C++: the counter counts to 12, then has a child
// running the doubler double it. Prints "count is 12" and "count is 24".
#include <nomos/nomos.h>

#include <cstdio>
#include <fstream>
#include <iterator>

static nomos::Bytes readFile(const char *path) {
  std::ifstream file(path, std::ios::binary);
  return nomos::Bytes(std::istreambuf_iterator<char>(file), {});
}

static int fail(const nomos::Error &error) {
  std::fprintf(stderr, "embed_cpp: %s\n", error.toString().c_str());
  return 1;
}

static void printCount(const nomos::VM &vm) {
  auto count = nomos::decode<uint64_t>(vm.get("count").value_or(nomos::Bytes{}));
  std::printf("count is %llu\n", (unsigned long long)count.value_or(0));
}

int main(int argc, char **argv) {
  const char *counterPath = argc > 1 ? argv[1] : COUNTER_WASM;
  const char *doublerPath = argc > 2 ? argv[2] : DOUBLER_WASM;
  auto vm = nomos::VM::create(readFile(counterPath));
  if (!vm)
    return fail(vm.error());
  vm->set("count", nomos::encode<uint64_t>(10));
  for (int i = 0; i < 2; ++i)
    if (auto called = vm->call("increment"); !called)
      return fail(called.error());
  printCount(*vm);

  vm->set("doubler", readFile(doublerPath));
  if (auto called = vm->call("exec_other"); !called)
    return fail(called.error());
  printCount(*vm);
  return 0;
}
