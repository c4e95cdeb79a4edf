// bench_state: what state costs. Prints calls per second of the seed
// counter's `increment` on the in-memory store and on LMDB (with and without
// fsync per commit), and the cost of a child create + call + drop (the
// counter's `exec_other`, which opens the doubler as a child, sets, calls,
// gets and drops it). A benchmark program, not a test: figures vary.
//   build/tools/bench_state [--calls N]
#include "bench_util.h"

#include <nomos/nomos.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

namespace {

void mustSucceed(const nomos::Expected<nomos::CallResult> &result) {
  if (!result) {
    std::fprintf(stderr, "bench_state: %s\n", result.error().toString().c_str());
    std::exit(1);
  }
}

// Calls `increment` `calls` times on a fresh VM over `store`; calls/s.
double incrementsPerSecond(std::shared_ptr<nomos::Store> store,
                           std::shared_ptr<nomos::Engine> engine,
                           const nomos::Bytes &counter, int calls) {
  auto vm = nomos::VM::create(counter, {.engine = engine, .store = store});
  if (!vm) {
    std::fprintf(stderr, "bench_state: %s\n", vm.error().toString().c_str());
    std::exit(1);
  }
  mustSucceed(vm->call("increment")); // warm-up
  double seconds = nomos::bench::secondsOf([&] {
    for (int i = 0; i < calls; ++i)
      mustSucceed(vm->call("increment"));
  });
  return calls / seconds;
}

} // namespace

int main(int argc, char **argv) {
  int calls = 20000;
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], "--calls") == 0 && i + 1 < argc)
      calls = std::atoi(argv[++i]);
  nomos::Bytes counter = nomos::bench::readFileOrExit(NOMOS_COUNTER_WASM);
  nomos::Bytes doubler = nomos::bench::readFileOrExit(NOMOS_DOUBLER_WASM);
  auto engine = std::make_shared<nomos::Engine>();
  auto dir = std::filesystem::temp_directory_path() /
             ("nomos-bench-state-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);

  std::printf("| store | increment calls/s |\n| --- | --- |\n");
  std::printf("| memory | %.0f |\n",
              incrementsPerSecond(std::make_shared<nomos::MemoryStore>(), engine,
                                  counter, calls));
  for (bool sync : {false, true}) {
    auto path = dir / (sync ? "sync.mdb" : "nosync.mdb");
    auto store = nomos::LmdbStore::open(path.string(), {.sync = sync});
    if (!store) {
      std::fprintf(stderr, "bench_state: %s\n", store.error().toString().c_str());
      return 1;
    }
    // fsync per commit is slow on a VM disk: fewer calls.
    int n = sync ? std::max(calls / 20, 100) : calls;
    std::printf("| LMDB, %s | %.0f |\n", sync ? "fsync per commit" : "no fsync",
                incrementsPerSecond(*store, engine, counter, n));
  }

  auto vm = nomos::VM::create(counter, {.engine = engine});
  vm->set("count", nomos::encode<uint64_t>(1));
  vm->set("doubler", doubler);
  mustSucceed(vm->call("exec_other")); // compiles the doubler once
  int children = std::max(calls / 4, 100);
  double withChild = nomos::bench::secondsOf([&] {
    for (int i = 0; i < children; ++i) {
      vm->set("count", nomos::encode<uint64_t>(1));
      mustSucceed(vm->call("exec_other"));
    }
  });
  double plain = nomos::bench::secondsOf([&] {
    for (int i = 0; i < children; ++i)
      mustSucceed(vm->call("increment"));
  });
  std::printf("\nchild create + set + call + get + drop (exec_other - increment): "
              "%.1f us per child\n",
              (withChild - plain) / children * 1e6);
  std::filesystem::remove_all(dir);
  return 0;
}
