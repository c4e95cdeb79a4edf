// bench_cache: cold compile vs disk-cache hit vs memory-cache hit
// (docs/cache.md).
//
//   build/tools/bench_cache [--runs N] MODULE.wasm...
//
// For each module, N times (median printed): a cold compile (Engine::load
// with an empty cache directory: decode, Binaryen, LLVM, link, write the
// entry), a disk hit (a new Engine on the same directory: decode, read,
// link) and a memory hit (the same Engine again). Each engine first loads a
// tiny module so that starting the JIT is not counted. Not a test.
#include <nomos/nomos.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <unistd.h>

namespace fs = std::filesystem;
using namespace nomos;

namespace {

using Clock = std::chrono::steady_clock;

double micros(Clock::duration d) {
  return std::chrono::duration<double, std::micro>(d).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// (module (func (export "f")))
const Bytes kTiny = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
                     0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02,
                     0x01, 0x00, 0x07, 0x05, 0x01, 0x01, 0x66, 0x00,
                     0x00, 0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b};

std::shared_ptr<Engine> warmEngine(const fs::path &dir) {
  EngineOptions options;
  options.cacheDir = dir.string();
  auto engine = std::make_shared<Engine>(options);
  if (!engine->load(kTiny)) {
    std::fprintf(stderr, "bench_cache: the tiny module does not load\n");
    std::exit(1);
  }
  return engine;
}

} // namespace

int main(int argc, char **argv) {
  int runs = 11;
  std::vector<std::string> modules;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--runs" && i + 1 < argc)
      runs = std::atoi(argv[++i]);
    else
      modules.push_back(arg);
  }
  if (modules.empty()) {
    std::fprintf(stderr, "usage: bench_cache [--runs N] MODULE.wasm...\n");
    return 2;
  }
  fs::path dir = fs::temp_directory_path() /
                 ("nomos-bench-cache-" + std::to_string(::getpid()));
  std::printf("%-14s %9s %12s %12s %12s %10s\n", "module", "bytes",
              "cold (us)", "disk hit", "memory hit", "entry");
  for (const std::string &path : modules) {
    std::ifstream file(path, std::ios::binary);
    Bytes code((std::istreambuf_iterator<char>(file)), {});
    std::vector<double> cold, disk, memory;
    uintmax_t entry = 0;
    for (int r = 0; r < runs; ++r) {
      fs::remove_all(dir);
      auto first = warmEngine(dir);
      auto t0 = Clock::now();
      auto a = first->load(code);
      auto t1 = Clock::now();
      auto second = warmEngine(dir);
      auto t2 = Clock::now();
      auto b = second->load(code);
      auto t3 = Clock::now();
      auto c = second->load(code);
      auto t4 = Clock::now();
      if (!a || !b || !c || second->stats().compiles != 0 ||
          second->stats().diskHits != 2) {
        std::fprintf(stderr, "bench_cache: %s: unexpected load result\n",
                     path.c_str());
        return 1;
      }
      cold.push_back(micros(t1 - t0));
      disk.push_back(micros(t3 - t2));
      memory.push_back(micros(t4 - t3));
      entry = 0;
      for (const auto &e : fs::directory_iterator(dir))
        entry = std::max(entry, fs::file_size(e.path()));
    }
    std::printf("%-14s %9zu %12.0f %12.0f %12.2f %10ju\n",
                fs::path(path).filename().c_str(), code.size(), median(cold),
                median(disk), median(memory), entry);
  }
  fs::remove_all(dir);
  return 0;
}
