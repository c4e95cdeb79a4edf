// bench_cache: cold compile vs disk-cache hit vs memory-cache hit
// (docs/cache.md).
//
//   build/tools/bench_cache [--runs N] [--cold-runs N] [--kernels DIR]
//                           [MODULE.wasm...]
//
// Without modules: the kernels of ../shared/bench (built with its build.sh
// into <build>/bench-kernels when they are not there yet) and two modules
// generated here, of about 100 KiB and 1.2 MiB of wasm. For each module
// (medians): a cold compile (Engine::load in a new engine with an empty
// cache directory: decode, Binaryen, LLVM, link, write the entry;
// --cold-runs times), a disk hit (a new engine on the filled directory:
// decode, read, link; then instantiate; --runs times) and a memory hit (the
// same engine: load and instantiate again). Each engine first loads a tiny
// module so that starting the JIT is not counted. Not a test.
#include "bench_util.h"

#include <nomos/nomos.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <unistd.h>

namespace fs = std::filesystem;
using namespace nomos;
using benchmark::median;

namespace {

using Clock = std::chrono::steady_clock;

double micros(Clock::duration d) {
  return std::chrono::duration<double, std::micro>(d).count();
}

// (module (func (export "f")))
const Bytes kTiny = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
                     0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02,
                     0x01, 0x00, 0x07, 0x05, 0x01, 0x01, 0x66, 0x00,
                     0x00, 0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b};

[[noreturn]] void fail(const std::string &what) {
  std::fprintf(stderr, "bench_cache: %s\n", what.c_str());
  std::exit(1);
}

std::shared_ptr<Engine> warmEngine(const fs::path &dir) {
  EngineOptions options;
  options.cacheDir = dir.string();
  auto engine = std::make_shared<Engine>(options);
  if (!engine->load(kTiny))
    fail("the tiny module does not load");
  return engine;
}

// ---- A generated module of a given size ------------------------------------

void leb(Bytes &out, uint64_t v) {
  do {
    uint8_t byte = v & 0x7f;
    v >>= 7;
    out.push_back(byte | (v ? 0x80 : 0));
  } while (v);
}

void sleb(Bytes &out, int64_t v) {
  for (;;) {
    uint8_t byte = v & 0x7f;
    v >>= 7;
    bool done = (v == 0 && !(byte & 0x40)) || (v == -1 && (byte & 0x40));
    out.push_back(byte | (done ? 0 : 0x80));
    if (done)
      return;
  }
}

void section(Bytes &out, uint8_t id, const Bytes &body) {
  out.push_back(id);
  leb(out, body.size());
  out.insert(out.end(), body.begin(), body.end());
}

// One function (param i32) (result i32) (local i32): `rounds` rounds of
// arithmetic mixing the parameter into the local (about 25 bytes each), and
// a call of the previous function every eighth, so that the code is not one
// straight line LLVM could fold away.
Bytes functionBody(uint32_t index, int rounds) {
  Bytes body = {0x01, 0x01, 0x7f}; // one local i32
  for (int r = 0; r < rounds; ++r) {
    int32_t c = int32_t(index * 2654435761u + r * 40503u);
    body.insert(body.end(), {0x20, 0x00, 0x41});          // local.get 0; i32.const
    sleb(body, c);
    body.insert(body.end(), {0x6a, 0x41});                // i32.add; i32.const
    sleb(body, c | 1);
    body.insert(body.end(), {0x6c, 0x20, 0x01, 0x73,      // i32.mul; local.get 1; i32.xor
                             0x21, 0x01, 0x20, 0x00, 0x41, 0x07, 0x77,
                             0x21, 0x00});                // local.set 1; rotl 7; local.set 0
  }
  if (index > 0 && index % 8 == 0) {
    body.insert(body.end(), {0x20, 0x01, 0x10});          // local.get 1; call
    leb(body, index - 1);
    body.insert(body.end(), {0x21, 0x01});                // local.set 1
  }
  body.insert(body.end(), {0x20, 0x01, 0x0b});            // local.get 1; end
  return body;
}

// A valid module of `functions` functions, each exported as fN every 64th.
Bytes generateModule(uint32_t functions, int rounds) {
  Bytes out = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00};
  section(out, 1, {0x01, 0x60, 0x01, 0x7f, 0x01, 0x7f}); // (i32) -> i32
  Bytes funcs;
  leb(funcs, functions);
  funcs.insert(funcs.end(), functions, 0x00);
  section(out, 3, funcs);
  Bytes exports;
  uint32_t exported = (functions + 63) / 64;
  leb(exports, exported);
  for (uint32_t i = 0; i < functions; i += 64) {
    std::string name = "f" + std::to_string(i);
    leb(exports, name.size());
    exports.insert(exports.end(), name.begin(), name.end());
    exports.push_back(0x00);
    leb(exports, i);
  }
  section(out, 7, exports);
  Bytes code;
  leb(code, functions);
  for (uint32_t i = 0; i < functions; ++i) {
    Bytes body = functionBody(i, rounds);
    leb(code, body.size());
    code.insert(code.end(), body.begin(), body.end());
  }
  section(out, 10, code);
  return out;
}

// ---- Measuring --------------------------------------------------------------

struct Subject {
  std::string name;
  Bytes code;
};

struct Figures {
  double coldMs, diskLoadUs, diskTotalUs, memoryTotalUs;
  uintmax_t entryBytes;
};

// Load and instantiate; the times of both together.
Clock::duration loadAndInstantiate(Engine &engine, const Subject &subject) {
  auto start = Clock::now();
  auto instance = Instance::create(engine, subject.code);
  auto end = Clock::now();
  if (!instance)
    fail(subject.name + ": " + instance.error().toString());
  return end - start;
}

Figures measure(const Subject &subject, const fs::path &dir, int runs,
                int coldRuns) {
  std::vector<double> cold, diskLoad, diskTotal, memoryTotal;
  for (int r = 0; r < coldRuns; ++r) {
    fs::remove_all(dir);
    auto engine = warmEngine(dir);
    auto start = Clock::now();
    auto loaded = engine->load(subject.code);
    cold.push_back(micros(Clock::now() - start) / 1000);
    if (!loaded || engine->stats().diskWrites != 1)
      fail(subject.name + ": the cold load did not compile and write");
  }
  uintmax_t entryBytes = 0;
  for (const CacheEntryInfo &entry : listCacheEntries(dir.string()))
    entryBytes = std::max<uintmax_t>(entryBytes, entry.bytes);
  for (int r = 0; r < runs; ++r) {
    // A disk hit's load alone, then load and instantiate in another engine.
    auto loadOnly = warmEngine(dir);
    auto start = Clock::now();
    bool loaded = bool(loadOnly->load(subject.code));
    diskLoad.push_back(micros(Clock::now() - start));
    auto engine = warmEngine(dir);
    diskTotal.push_back(micros(loadAndInstantiate(*engine, subject)));
    memoryTotal.push_back(micros(loadAndInstantiate(*engine, subject)));
    EngineStats s = engine->stats();
    if (!loaded || s.compiles != 0 || s.diskHits != 2 || s.memoryHits != 1)
      fail(subject.name + ": expected disk hits, then a memory hit");
  }
  return {median(cold), median(diskLoad), median(diskTotal),
          median(memoryTotal), entryBytes};
}

std::vector<Subject> defaultSubjects(const fs::path &kernels) {
  std::vector<Subject> subjects;
  if (!benchmark::ensureKernels(NOMOS_BENCH_DIR, kernels, "bench_cache"))
    std::exit(2);
  std::vector<fs::path> files;
  for (const auto &entry : fs::directory_iterator(kernels))
    if (entry.path().extension() == ".wasm")
      files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  for (const fs::path &file : files)
    subjects.push_back({file.stem().string(), benchmark::readFile(file)});
  // About 100 KiB and about 1.2 MiB of wasm, functions of about 500 bytes.
  subjects.push_back({"gen-100k", generateModule(200, 20)});
  subjects.push_back({"gen-1.2m", generateModule(2500, 20)});
  return subjects;
}

} // namespace

int main(int argc, char **argv) {
  int runs = 11, coldRuns = 3;
  fs::path kernels = NOMOS_BENCH_OUT;
  std::vector<Subject> subjects;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--runs" && i + 1 < argc)
      runs = std::max(1, std::atoi(argv[++i]));
    else if (arg == "--cold-runs" && i + 1 < argc)
      coldRuns = std::max(1, std::atoi(argv[++i]));
    else if (arg == "--kernels" && i + 1 < argc)
      kernels = argv[++i];
    else if (arg.starts_with("-"))
      fail("usage: bench_cache [--runs N] [--cold-runs N] [--kernels DIR] "
           "[MODULE.wasm...]");
    else
      subjects.push_back({fs::path(arg).stem().string(),
                          benchmark::readFile(arg)});
  }
  if (subjects.empty())
    subjects = defaultSubjects(kernels);
  fs::path dir = fs::temp_directory_path() /
                 ("nomos-bench-cache-" + std::to_string(::getpid()));
  std::printf("medians: cold of %d, hits of %d\n\n", coldRuns, runs);
  std::printf("| module | wasm bytes | cold compile (ms) | disk hit: load (us) "
              "| disk hit: load + instantiate (us) | memory hit: load + "
              "instantiate (us) | entry bytes |\n");
  std::printf("|---|---:|---:|---:|---:|---:|---:|\n");
  for (const Subject &subject : subjects) {
    Figures f = measure(subject, dir, runs, coldRuns);
    std::printf("| %s | %zu | %.1f | %.0f | %.0f | %.1f | %ju |\n",
                subject.name.c_str(), subject.code.size(), f.coldMs,
                f.diskLoadUs, f.diskTotalUs, f.memoryTotalUs, f.entryBytes);
    std::fflush(stdout);
  }
  fs::remove_all(dir);
  return 0;
}
