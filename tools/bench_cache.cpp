// bench_cache: cold compile vs disk-cache hit vs memory-cache hit
// (docs/cache.md).
//
//   build/tools/bench_cache [--runs N] [--cold-runs N] [--kernels DIR]
//                           [--save-generated DIR] [MODULE.wasm...]
//   build/tools/bench_cache --small N
//
// Without modules: the kernels of ../shared/bench (built with its build.sh
// into <build>/bench-kernels when they are not there yet) and two modules
// generated here, of 111 KiB and 1.35 MiB of wasm. For each module
// (medians): a cold compile (Engine::load in a new engine with an empty
// cache directory: decode, Binaryen, LLVM, link, write the entry;
// --cold-runs times), a disk hit (a new engine on the filled directory:
// decode, read, link; then instantiate; --runs times) and a memory hit (the
// same engine: load and instantiate again). Each engine first loads a tiny
// module so that starting the JIT is not counted. --small N: the mean cold
// load of N distinct one-function modules in one engine (no disk cache), at
// -O0 and -O2: the fixed cost of a compile. Not a test.
#include "bench_util.h"

#include <nomos/nomos.h>

#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

namespace fs = std::filesystem;
using namespace nomos;
using bench::median;

namespace {

using Clock = std::chrono::steady_clock;

double micros(Clock::duration d) {
  return std::chrono::duration<double, std::micro>(d).count();
}

// CPU time of the whole process (the compiler runs on a thread of its own),
// in microseconds: on a shared machine wall time also counts waiting for a
// core.
double cpuMicros() {
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return double(t.tv_sec) * 1e6 + double(t.tv_nsec) / 1e3;
}

// Wall and CPU microseconds of `work`, appended to `wall` and `cpu`.
template <class Work>
void timed(std::vector<double> &wall, std::vector<double> &cpu, Work &&work) {
  double cpu0 = cpuMicros();
  auto start = Clock::now();
  work();
  wall.push_back(micros(Clock::now() - start));
  cpu.push_back(cpuMicros() - cpu0);
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

// (module (func (export "f") (result i32) (i32.const K))), K a 5-byte LEB so
// that every K gives a module of the same size.
Bytes smallModule(uint32_t k) {
  Bytes code = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05,
                0x01, 0x60, 0x00, 0x01, 0x7f, 0x03, 0x02, 0x01, 0x00, 0x07,
                0x05, 0x01, 0x01, 0x66, 0x00, 0x00, 0x0a, 0x0a, 0x01, 0x08,
                0x00, 0x41};
  for (int i = 0; i < 4; ++i, k >>= 7)
    code.push_back(uint8_t(0x80 | (k & 0x7f)));
  code.push_back(uint8_t(k & 0x3f));
  code.push_back(0x0b);
  return code;
}

// Mean wall / CPU microseconds of loading `count` distinct small modules.
int measureSmall(int count) {
  for (unsigned level : {0u, 2u}) {
    Engine engine({.optLevel = level});
    if (!engine.load(kTiny))
      fail("the tiny module does not load");
    std::vector<double> wall, cpu;
    timed(wall, cpu, [&] {
      for (int i = 0; i < count; ++i)
        if (auto module = engine.load(smallModule(uint32_t(i))); !module)
          fail("a small module: " + module.error().toString());
    });
    std::printf("-O%u: %d one-function modules, %.0f / %.0f us each (wall / CPU)\n",
                level, count, wall[0] / count, cpu[0] / count);
  }
  return 0;
}

struct Subject {
  std::string name;
  Bytes code;
};

// Medians, in microseconds: wall and CPU time.
struct Figures {
  double coldWall, coldCpu, diskLoadWall, diskLoadCpu, diskTotalWall,
      diskTotalCpu, memoryTotalWall;
  uintmax_t entryBytes;
};

void loadAndInstantiate(Engine &engine, const Subject &subject) {
  if (auto instance = Instance::create(engine, subject.code); !instance)
    fail(subject.name + ": " + instance.error().toString());
}

Figures measure(const Subject &subject, const fs::path &dir, int runs,
                int coldRuns) {
  std::vector<double> coldWall, coldCpu, diskLoadWall, diskLoadCpu,
      diskTotalWall, diskTotalCpu, memoryTotalWall, memoryTotalCpu;
  for (int r = 0; r < coldRuns; ++r) {
    fs::remove_all(dir);
    auto engine = warmEngine(dir); // writes the tiny module's entry
    bool loaded = false;
    timed(coldWall, coldCpu, [&] { loaded = bool(engine->load(subject.code)); });
    if (!loaded || engine->stats().diskWrites != 2)
      fail(subject.name + ": the cold load did not compile and write");
  }
  uintmax_t entryBytes = 0; // the larger of the two entries, not the tiny one
  for (const CacheEntryInfo &entry : listCacheEntries(dir.string()))
    entryBytes = std::max<uintmax_t>(entryBytes, entry.bytes);
  for (int r = 0; r < runs; ++r) {
    // A disk hit's load alone, then load and instantiate in another engine.
    auto loadOnly = warmEngine(dir);
    bool loaded = false;
    timed(diskLoadWall, diskLoadCpu,
          [&] { loaded = bool(loadOnly->load(subject.code)); });
    auto engine = warmEngine(dir);
    timed(diskTotalWall, diskTotalCpu,
          [&] { loadAndInstantiate(*engine, subject); });
    timed(memoryTotalWall, memoryTotalCpu,
          [&] { loadAndInstantiate(*engine, subject); });
    EngineStats s = engine->stats();
    // The tiny module and the subject from disk, then the subject again.
    if (!loaded || s.compiles != 0 || s.diskHits != 2 || s.memoryHits != 1)
      fail(subject.name + ": expected disk hits, then a memory hit");
  }
  return {median(coldWall),      median(coldCpu),      median(diskLoadWall),
          median(diskLoadCpu),   median(diskTotalWall), median(diskTotalCpu),
          median(memoryTotalWall), entryBytes};
}

std::vector<Subject> defaultSubjects(const fs::path &kernels) {
  std::vector<Subject> subjects;
  // The kernels, when the build made them (../shared/bench present).
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto &entry : fs::directory_iterator(kernels, ec))
    if (entry.path().extension() == ".wasm")
      files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  for (const fs::path &file : files)
    subjects.push_back({file.stem().string(), bench::readFileOrExit(file)});
  // 111 KiB and 1.35 MiB of wasm, in functions of about 560 bytes.
  subjects.push_back({"gen-111k", generateModule(200, 20)});
  subjects.push_back({"gen-1.35m", generateModule(2500, 20)});
  return subjects;
}

// Writes the generated modules as DIR/NAME.wasm (to run them elsewhere).
int saveGenerated(const std::vector<Subject> &subjects, const fs::path &dir) {
  fs::create_directories(dir);
  for (const Subject &subject : subjects) {
    if (!subject.name.starts_with("gen-"))
      continue;
    std::ofstream out(dir / (subject.name + ".wasm"), std::ios::binary);
    out.write(reinterpret_cast<const char *>(subject.code.data()),
              std::streamsize(subject.code.size()));
  }
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  int runs = 11, coldRuns = 3;
  fs::path kernels = NOMOS_BENCH_KERNELS;
  fs::path saveDir; // --save-generated: write the generated modules there
  std::vector<Subject> subjects;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--runs" && i + 1 < argc)
      runs = std::max(1, std::atoi(argv[++i]));
    else if (arg == "--cold-runs" && i + 1 < argc)
      coldRuns = std::max(1, std::atoi(argv[++i]));
    else if (arg == "--kernels" && i + 1 < argc)
      kernels = argv[++i];
    else if (arg == "--save-generated" && i + 1 < argc)
      saveDir = argv[++i];
    else if (arg == "--small" && i + 1 < argc)
      return measureSmall(std::max(1, std::atoi(argv[++i])));
    else if (arg.starts_with("-"))
      fail("usage: bench_cache [--runs N] [--cold-runs N] [--kernels DIR] "
           "[--save-generated DIR] [MODULE.wasm...] | --small N");
    else
      subjects.push_back({fs::path(arg).stem().string(),
                          bench::readFileOrExit(arg)});
  }
  if (subjects.empty())
    subjects = defaultSubjects(kernels);
  if (!saveDir.empty())
    return saveGenerated(subjects, saveDir);
  fs::path dir = fs::temp_directory_path() /
                 ("nomos-bench-cache-" + std::to_string(::getpid()));
  std::printf("medians: cold of %d, hits of %d; wall / CPU time\n\n",
              coldRuns, runs);
  std::printf("| module | wasm bytes | cold compile (ms) | disk hit: load (us) "
              "| disk hit: load + instantiate (us) | memory hit: load + "
              "instantiate (us) | entry bytes |\n");
  std::printf("|---|---:|---:|---:|---:|---:|---:|\n");
  for (const Subject &subject : subjects) {
    Figures f = measure(subject, dir, runs, coldRuns);
    std::printf("| %s | %zu | %.1f / %.1f | %.0f / %.0f | %.0f / %.0f | %.1f "
                "| %ju |\n",
                subject.name.c_str(), subject.code.size(), f.coldWall / 1000,
                f.coldCpu / 1000, f.diskLoadWall, f.diskLoadCpu,
                f.diskTotalWall, f.diskTotalCpu, f.memoryTotalWall,
                f.entryBytes);
    std::fflush(stdout);
  }
  fs::remove_all(dir);
  return 0;
}
