// nomos_bench: Nomos beside native code and V8 (BENCHMARKS.md).
//
//   build/tools/nomos_bench [--rounds N] [--only KERNEL] [--no-node]
//                           [--no-kernels] [--no-micro] [--quick]
//
// Kernels (../shared/bench, built into <build>/bench-kernels at build time
// by its build.sh): for each kernel and each of four engines,
//   native     NAME.native (clang-19 -O2 with native_main.c), a process
//   unmetered  NAME.wasm in this process, an Engine without metering
//   metered    the same with metering (gas limit kMaxGas)
//   node       node ../shared/bench/node_run.mjs NAME.wasm, when node runs
// one "run" is run(work_default()) five times in one process or instance,
// timed around each call, and its median (the drivers' own median for
// native and node; node also makes an untimed warm-up call so V8 tiers up,
// Nomos compiles before the first call). Every checksum must be the
// README's. There are N rounds (default 1, a few minutes on an idle 2-core
// machine), the kernels and engines interleaved in each, as compare.sh does;
// the table has the median of the rounds, the ratios to native and their
// geometric means.
//
// Micro-benchmarks (public C++ API, unmetered and metered engines, medians
// of N rounds): host->guest call of an empty export (Instance::call,
// Function::call and VM::call), guest->host call of an empty import
// (Extern::function's two callback forms, Extern::wrap and the guest ABI's
// gas_left), storage write and read of 32-byte values, child
// create + call + drop, and the seed counter's increments per second.
//
// --quick is the smoke test ctest runs: each kernel once on every engine at
// a small n (see quickN), every checksum against Nomos's without metering
// (the full run checks the README's, at work_default()); the
// micro-benchmarks with few iterations, their results checked. Exits 1 when
// any check fails.
#include "bench_util.h"

#include <nomos/nomos.h>

#include <array>
#include <cmath>
#include <cstring>
#include <functional>
#include <sstream>
#include <thread>

namespace fs = std::filesystem;
using namespace nomos;
using nomos::bench::median;
using nomos::bench::secondsOf;

namespace {

struct Options {
  int rounds = 1;
  std::string only;
  bool node = true;
  bool kernels = true;
  bool micro = true;
  bool quick = false;
};

// ---- processes ---------------------------------------------------------------

tl::unexpected<std::string> failure(std::string message) {
  return tl::unexpected(std::move(message));
}

std::string quote(const std::string &text) { return "'" + text + "'"; }

// The command's stdout, or nullopt when it could not run or exited non-zero.
std::optional<std::string> capture(const std::string &command) {
  FILE *pipe = ::popen(command.c_str(), "r");
  if (!pipe)
    return std::nullopt;
  std::string out;
  char buffer[4096];
  while (size_t n = std::fread(buffer, 1, sizeof buffer, pipe))
    out.append(buffer, n);
  if (::pclose(pipe) != 0)
    return std::nullopt;
  return out;
}

// The value of a "key=value" line of the drivers' output.
std::optional<std::string> field(const std::string &output, const std::string &key) {
  std::istringstream lines(output);
  std::string line;
  while (std::getline(lines, line))
    if (line.rfind(key + "=", 0) == 0)
      return line.substr(key.size() + 1);
  return std::nullopt;
}

// ---- kernels -------------------------------------------------------------------

enum Column { Native, Unmetered, Metered, Node, kColumns };
constexpr std::array<const char *, kColumns> kColumnNames = {
    "native", "unmetered", "metered", "node"};

struct Kernel {
  std::string name;
  bench::KernelInfo expected;
  Bytes code;
  fs::path wasm, native;
};

// One process's or instance's result: the checksum and the median time.
struct Run {
  int64_t checksum = 0;
  double seconds = 0;
};
using RunResult = tl::expected<Run, std::string>;

struct Engines {
  Engine unmetered{EngineOptions{.metering = false}};
  Engine metered{EngineOptions{.metering = true}};
};

// `reps` calls of run(n) on one instance, timed one by one.
RunResult runNomos(Engine &engine, const Kernel &kernel, int n, int reps) {
  Limits limits;
  limits.gas = kMaxGas;
  auto instance = Instance::create(engine, kernel.code, {}, limits);
  if (!instance)
    return tl::unexpected(instance.error().toString());
  std::vector<Value> args{Value::i32(n)};
  std::vector<double> times;
  std::optional<int64_t> first;
  for (int r = 0; r < reps; ++r) {
    Expected<std::vector<Value>> result;
    times.push_back(secondsOf([&] { result = instance->call("run", args); }));
    if (!result)
      return tl::unexpected(result.error().toString());
    if (result->size() != 1 || (*result)[0].type != ValueType::I64)
      return failure("run does not return one i64");
    int64_t checksum = (*result)[0].asI64();
    if (first && *first != checksum)
      return failure("run(" + std::to_string(n) + ") is not deterministic");
    first = checksum;
  }
  return Run{*first, median(times)};
}

// A driver process: its checksum= and the median under `secondsKey`.
RunResult runProcess(const std::string &command, const std::string &secondsKey) {
  auto output = capture(command);
  if (!output)
    return failure("failed: " + command);
  auto checksum = field(*output, "checksum");
  auto seconds = field(*output, secondsKey);
  if (!checksum || !seconds)
    return failure("no checksum/" + secondsKey + " in the output of " + command);
  try {
    return Run{std::stoll(*checksum), std::stod(*seconds)};
  } catch (const std::exception &) {
    return failure("unreadable checksum or time in the output of " + command);
  }
}

RunResult runColumn(Column column, Engines &engines, const Kernel &kernel, int n,
                    int reps) {
  std::string arg = " " + std::to_string(n);
  switch (column) {
  case Native:
    return runProcess(quote(kernel.native) + arg, "median_seconds");
  case Unmetered:
    return runNomos(engines.unmetered, kernel, n, reps);
  case Metered:
    return runNomos(engines.metered, kernel, n, reps);
  case Node:
    return runProcess("node " + quote(fs::path(NOMOS_BENCH_DIR) / "node_run.mjs") +
                          " " + quote(kernel.wasm) + arg,
                      "seconds");
  case kColumns: break;
  }
  return failure("no such engine");
}

// Runs one engine on a kernel and checks the checksum; false on a failure
// (reported on stderr).
bool checked(Column column, Engines &engines, const Kernel &kernel, int n,
             int reps, int64_t expected, std::vector<double> *times = nullptr) {
  RunResult run = runColumn(column, engines, kernel, n, reps);
  if (!run) {
    std::fprintf(stderr, "%s on %s: %s\n", kernel.name.c_str(),
                 kColumnNames[column], run.error().c_str());
    return false;
  }
  if (run->checksum != expected) {
    std::fprintf(stderr, "%s on %s: run(%d) = %lld, expected %lld\n",
                 kernel.name.c_str(), kColumnNames[column], n,
                 static_cast<long long>(run->checksum),
                 static_cast<long long>(expected));
    return false;
  }
  if (times)
    times->push_back(run->seconds);
  return true;
}

std::vector<Column> columns(const Options &options) {
  std::vector<Column> list{Native, Unmetered, Metered};
  if (options.node)
    list.push_back(Node);
  return list;
}

// The smallest power of two n (at most work_default()) for which run(n)
// takes 5 ms without metering: the n of the smoke test, small enough to be
// quick and large enough to run every kernel's loops (fib's work grows
// exponentially with n, the others' linearly).
tl::expected<int, std::string> quickN(Engines &engines, const Kernel &kernel) {
  for (int n = 1;; n *= 2) {
    n = std::min(n, kernel.expected.workDefault);
    RunResult run = runNomos(engines.unmetered, kernel, n, 1);
    if (!run)
      return failure(run.error());
    if (run->seconds >= 0.005 || n == kernel.expected.workDefault)
      return n;
  }
}

// The smoke test: every engine computes the same checksum as Nomos without
// metering, at a small n.
bool quickKernels(const std::vector<Kernel> &kernels, const Options &options) {
  Engines engines;
  bool ok = true;
  for (const Kernel &kernel : kernels) {
    auto n = quickN(engines, kernel);
    RunResult reference =
        n ? runNomos(engines.unmetered, kernel, *n, 1) : failure(n.error());
    bool good = bool(reference);
    if (!reference)
      std::fprintf(stderr, "%s: %s\n", kernel.name.c_str(), reference.error().c_str());
    for (Column column : columns(options))
      good = good && checked(column, engines, kernel, *n, 1, reference->checksum);
    std::printf("%s: %s (run(%d) on every engine)\n", kernel.name.c_str(),
                good ? "ok" : "FAILED", n.value_or(0));
    ok = ok && good;
  }
  return ok;
}

double geomean(const std::vector<double> &ratios) {
  double logSum = 0;
  for (double r : ratios)
    logSum += std::log(r);
  return ratios.empty() ? 0 : std::exp(logSum / ratios.size());
}

bool fullKernels(const std::vector<Kernel> &kernels, const Options &options) {
  Engines engines;
  std::vector<Column> cols = columns(options);
  std::printf("kernels: medians of %d rounds, each the median of 5 runs\n\n",
              options.rounds);
  // times[kernel][column]: one median per round
  std::vector<std::array<std::vector<double>, kColumns>> times(kernels.size());
  bool ok = true;
  for (int round = 1; round <= options.rounds; ++round) {
    std::fprintf(stderr, "round %d of %d\n", round, options.rounds);
    for (size_t k = 0; k < kernels.size(); ++k)
      for (Column column : cols)
        ok &= checked(column, engines, kernels[k], kernels[k].expected.workDefault,
                      5, kernels[k].expected.checksum, &times[k][column]);
  }
  std::printf("| kernel | native (s) | unmetered (s) | / native | metered (s) "
              "| / native |%s\n",
              options.node ? " node (s) | / native | unmetered / node |" : "");
  std::printf("| --- | --- | --- | --- | --- | --- |%s\n",
              options.node ? " --- | --- | --- |" : "");
  std::array<std::vector<double>, kColumns> ratios;
  std::vector<double> versusNode;
  for (size_t k = 0; k < kernels.size(); ++k) {
    std::array<double, kColumns> m{};
    for (Column column : cols)
      m[column] = median(times[k][column]);
    if (std::any_of(cols.begin(), cols.end(), [&](Column c) { return m[c] <= 0; }))
      continue; // a failure (reported)
    std::printf("| %s | %.3f |", kernels[k].name.c_str(), m[Native]);
    for (Column column : cols) {
      if (column == Native)
        continue;
      ratios[column].push_back(m[column] / m[Native]);
      std::printf(" %.3f | %.2f |", m[column], m[column] / m[Native]);
    }
    if (options.node) {
      versusNode.push_back(m[Unmetered] / m[Node]);
      std::printf(" %.2f |", m[Unmetered] / m[Node]);
    }
    std::printf("\n");
  }
  std::printf("| geometric mean | | | %.2f | | %.2f |", geomean(ratios[Unmetered]),
              geomean(ratios[Metered]));
  if (options.node)
    std::printf(" | %.2f | %.2f |", geomean(ratios[Node]), geomean(versusNode));
  std::printf("\n\n");
  return ok;
}

std::vector<Kernel> loadKernels(const Options &options) {
  fs::path dir = NOMOS_BENCH_KERNELS;
  auto table = bench::readKernelTable(fs::path(NOMOS_BENCH_DIR) / "README.md");
  std::vector<Kernel> kernels;
  for (const auto &[name, expected] : table) {
    if (!options.only.empty() && name != options.only)
      continue;
    fs::path wasm = dir / (name + ".wasm");
    kernels.push_back({name, expected, bench::readFileOrExit(wasm), wasm,
                       dir / (name + ".native")});
  }
  return kernels;
}

// ---- micro-benchmarks ------------------------------------------------------

fs::path watModule(const char *name) {
  return fs::path(NOMOS_BENCH_WAT_DIR) / (std::string(name) + ".wasm");
}

// A micro-benchmark: `measure` does `iterations` operations on an engine and
// returns the seconds they took, or an error when a result is wrong.
struct Micro {
  const char *name;
  const char *unit; // "ns", "us" or "/s" (operations per second)
  int iterations;
  std::function<tl::expected<double, std::string>(std::shared_ptr<Engine>, int)>
      measure;
};

VMOptions vmOptions(std::shared_ptr<Engine> engine) {
  VMOptions options{.engine = std::move(engine)};
  options.limits.gas = kMaxGas;
  return options;
}

template <class T> tl::expected<T, std::string> orError(Expected<T> value) {
  if (!value)
    return tl::unexpected(value.error().toString());
  return std::move(*value);
}

// `iterations` VM calls of `name`, after one untimed call.
tl::expected<double, std::string> timeVmCalls(VM &vm, const char *name,
                                              int iterations) {
  if (auto warm = vm.call(name); !warm)
    return tl::unexpected(warm.error().toString());
  bool failed = false;
  double seconds = secondsOf([&] {
    for (int i = 0; i < iterations && !failed; ++i)
      failed = !vm.call(name);
  });
  if (failed)
    return tl::unexpected(std::string(name) + " failed");
  return seconds;
}

// One VM call of `name(n)` whose single i32 result must be `expected`.
tl::expected<double, std::string> timeLoopCall(VM &vm, const char *name, int n,
                                               std::optional<int32_t> expected) {
  std::vector<Value> args{Value::i32(n)};
  Expected<CallResult> result;
  double seconds = secondsOf([&] { result = vm.call(name, args); });
  if (!result)
    return tl::unexpected(std::string(name) + ": " + result.error().toString());
  if (expected && (result->results.size() != 1 ||
                   result->results[0].asI32() != *expected))
    return tl::unexpected(std::string(name) + " returned a wrong result");
  return seconds;
}

tl::expected<Instance, std::string> noopInstance(Engine &engine) {
  Limits limits;
  limits.gas = kMaxGas;
  return orError(Instance::create(
      engine, bench::readFileOrExit(watModule("bench_noop")), {}, limits));
}

// One untimed `call()`, then `iterations` timed ones; each says whether it
// succeeded.
template <class F>
tl::expected<double, std::string> timeCalls(int iterations, F &&call) {
  bool failed = !call();
  double seconds = secondsOf([&] {
    for (int i = 0; i < iterations && !failed; ++i)
      failed = !call();
  });
  if (failed)
    return failure("noop failed");
  return seconds;
}

tl::expected<double, std::string> instanceCall(std::shared_ptr<Engine> engine,
                                               int iterations) {
  auto instance = noopInstance(*engine);
  if (!instance)
    return tl::unexpected(instance.error());
  return timeCalls(iterations, [&] { return bool(instance->call("noop")); });
}

// The same call through a Function handle: no lookup, no allocation.
tl::expected<double, std::string> functionCall(std::shared_ptr<Engine> engine,
                                               int iterations) {
  auto instance = noopInstance(*engine);
  if (!instance)
    return tl::unexpected(instance.error());
  auto noop = orError(instance->function("noop"));
  if (!noop)
    return tl::unexpected(noop.error());
  return timeCalls(iterations, [&] { return bool(noop->call({}, {})); });
}

tl::expected<double, std::string> vmCall(std::shared_ptr<Engine> engine,
                                         int iterations) {
  auto vm = orError(VM::create(bench::readFileOrExit(watModule("bench_noop")),
                               vmOptions(engine)));
  if (!vm)
    return tl::unexpected(vm.error());
  return timeVmCalls(*vm, "noop", iterations);
}

// `iterations` guest->host calls of `empty` from one call of call_host;
// `calls` is what empty counts.
tl::expected<double, std::string> timeHostCalls(Engine &engine, Extern empty,
                                                const int64_t &calls,
                                                int iterations) {
  Limits limits;
  limits.gas = kMaxGas;
  auto instance = orError(Instance::create(
      engine, bench::readFileOrExit(watModule("bench_host_import")),
      [&](std::string_view module, std::string_view name) -> std::optional<Extern> {
        if (module == "env" && name == "empty")
          return empty;
        return std::nullopt;
      },
      limits));
  if (!instance)
    return tl::unexpected(instance.error());
  std::vector<Value> args{Value::i32(iterations)};
  Expected<std::vector<Value>> result;
  double seconds = secondsOf([&] { result = instance->call("call_host", args); });
  if (!result)
    return tl::unexpected(result.error().toString());
  if (calls != iterations)
    return failure("the host function ran " + std::to_string(calls) +
                          " times, not " + std::to_string(iterations));
  return seconds;
}

tl::expected<double, std::string> hostFunction(std::shared_ptr<Engine> engine,
                                               int iterations) {
  int64_t calls = 0;
  auto empty = Extern::function({}, [&](std::span<const Value>)
                                        -> Expected<std::vector<Value>> {
    ++calls;
    return std::vector<Value>{};
  });
  return timeHostCalls(*engine, empty, calls, iterations);
}

// The same with the allocation-free callback form.
tl::expected<double, std::string> hostFunctionInPlace(std::shared_ptr<Engine> engine,
                                                      int iterations) {
  int64_t calls = 0;
  auto empty = Extern::function(
      {}, [&](std::span<const Value>, std::span<Value>) -> Expected<void> {
        ++calls;
        return {};
      });
  return timeHostCalls(*engine, empty, calls, iterations);
}

// The same with a typed function that generated code calls directly.
tl::expected<double, std::string> hostFunctionWrapped(std::shared_ptr<Engine> engine,
                                                      int iterations) {
  int64_t calls = 0;
  auto empty = Extern::wrap([&calls]() { ++calls; });
  return timeHostCalls(*engine, empty, calls, iterations);
}

tl::expected<double, std::string> abiFunction(std::shared_ptr<Engine> engine,
                                              int iterations) {
  auto vm = orError(VM::create(bench::readFileOrExit(watModule("bench_abi_import")),
                               vmOptions(engine)));
  if (!vm)
    return tl::unexpected(vm.error());
  return timeLoopCall(*vm, "call_host", iterations, std::nullopt);
}

// Writes keys 0..n-1 in one call (its commit included), on a fresh store.
tl::expected<double, std::string> storageWrite(std::shared_ptr<Engine> engine,
                                               int iterations) {
  auto vm = orError(VM::create(bench::readFileOrExit(watModule("bench_storage")),
                               vmOptions(engine)));
  if (!vm)
    return tl::unexpected(vm.error());
  auto seconds = timeLoopCall(*vm, "write_n", iterations, std::nullopt);
  // Every key must hold the value.
  auto key = encode<uint32_t>(uint32_t(iterations - 1));
  auto value = vm->get(key);
  if (seconds && (!value || value->size() != 32))
    return failure("write_n did not store the last key");
  return seconds;
}

tl::expected<double, std::string> storageRead(std::shared_ptr<Engine> engine,
                                              int iterations) {
  auto vm = orError(VM::create(bench::readFileOrExit(watModule("bench_storage")),
                               vmOptions(engine)));
  if (!vm)
    return tl::unexpected(vm.error());
  if (auto written = timeLoopCall(*vm, "write_n", iterations, std::nullopt);
      !written)
    return written;
  return timeLoopCall(*vm, "read_n", iterations, 32 * iterations);
}

tl::expected<double, std::string> childRoundTrip(std::shared_ptr<Engine> engine,
                                                 int iterations) {
  auto vm = orError(VM::create(bench::readFileOrExit(watModule("bench_child")),
                               vmOptions(engine)));
  if (!vm)
    return tl::unexpected(vm.error());
  vm->set("c", bench::readFileOrExit(watModule("bench_noop")));
  if (auto warm = timeLoopCall(*vm, "children", 1, 1); !warm)
    return warm; // compiles the child once
  return timeLoopCall(*vm, "children", iterations, iterations);
}

tl::expected<double, std::string> counterIncrement(std::shared_ptr<Engine> engine,
                                                   int iterations) {
  auto vm = orError(VM::create(bench::readFileOrExit(NOMOS_COUNTER_WASM),
                               vmOptions(engine)));
  if (!vm)
    return tl::unexpected(vm.error());
  auto seconds = timeVmCalls(*vm, "increment", iterations);
  auto count = vm->get("count");
  bool counted = count && decode<uint64_t>(*count) == uint64_t(iterations) + 1;
  if (seconds && !counted)
    return failure("the count is not the number of increments");
  return seconds;
}

std::vector<Micro> micros() {
  return {
      {"host->guest, empty export, Instance::call (lookup by name)", "ns",
       1000000, instanceCall},
      {"host->guest, empty export, Function::call (resolved handle)", "ns",
       1000000, functionCall},
      {"host->guest, empty export, VM::call (fresh instance, transaction)", "ns",
       20000, vmCall},
      {"guest->host, empty import (Extern::function, vector results)", "ns",
       2000000, hostFunction},
      {"guest->host, empty import (Extern::function, in-place results)", "ns",
       2000000, hostFunctionInPlace},
      {"guest->host, empty import (Extern::wrap, typed)", "ns", 10000000,
       hostFunctionWrapped},
      {"guest->host, guest ABI import (nomos.gas_left)", "ns", 10000000, abiFunction},
      {"storage write, 32-byte value (10^4 per call, commit included)", "ns",
       10000, storageWrite},
      {"storage read, 32-byte value", "ns", 10000, storageRead},
      {"child create + call + drop (empty child)", "us", 2000, childRoundTrip},
      {"counter increment (VM::call, memory store)", "/s", 20000, counterIncrement},
  };
}

// The figure of one round: per operation (ns, us) or operations per second.
double figure(const Micro &micro, double seconds, int iterations) {
  if (std::strcmp(micro.unit, "/s") == 0)
    return iterations / seconds;
  double scale = std::strcmp(micro.unit, "us") == 0 ? 1e6 : 1e9;
  return seconds / iterations * scale;
}

bool runMicros(const Options &options) {
  auto unmetered = std::make_shared<Engine>(EngineOptions{.metering = false});
  auto metered = std::make_shared<Engine>(EngineOptions{.metering = true});
  int rounds = options.quick ? 1 : options.rounds;
  bool ok = true;
  std::printf("| micro-benchmark | unit | unmetered | metered |\n| --- | --- | --- | --- |\n");
  for (const Micro &micro : micros()) {
    int iterations = options.quick ? std::max(micro.iterations / 1000, 2)
                                   : micro.iterations;
    std::printf("| %s | %s |", micro.name, micro.unit);
    for (const auto &engine : {unmetered, metered}) {
      std::vector<double> figures;
      for (int r = 0; r < rounds; ++r) {
        auto seconds = micro.measure(engine, iterations);
        if (!seconds) {
          std::fprintf(stderr, "%s: %s\n", micro.name, seconds.error().c_str());
          ok = false;
          break;
        }
        figures.push_back(figure(micro, *seconds, iterations));
      }
      std::printf(figures.empty() ? " failed |" : " %.1f |", median(figures));
    }
    std::printf("\n");
    std::fflush(stdout);
  }
  std::printf("\n");
  return ok;
}

// ---- main ----------------------------------------------------------------------

void printMachine(bool node) {
  std::string model = "unknown CPU";
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line))
    if (line.rfind("model name", 0) == 0) {
      model = line.substr(line.find(':') + 2);
      break;
    }
  std::string version = node ? capture("node --version").value_or("?") : "not run";
  version.erase(version.find_last_not_of('\n') + 1);
  std::printf("machine: %s, %u cores; node: %s\n\n", model.c_str(),
              std::thread::hardware_concurrency(), version.c_str());
}

bool parseOptions(int argc, char **argv, Options &options) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--rounds" && i + 1 < argc)
      options.rounds = std::max(1, std::atoi(argv[++i]));
    else if (arg == "--only" && i + 1 < argc)
      options.only = argv[++i];
    else if (arg == "--no-node")
      options.node = false;
    else if (arg == "--no-kernels")
      options.kernels = false;
    else if (arg == "--no-micro")
      options.micro = false;
    else if (arg == "--quick")
      options.quick = true;
    else
      return false;
  }
  return true;
}

} // namespace

int main(int argc, char **argv) {
  Options options;
  if (!parseOptions(argc, argv, options)) {
    std::fprintf(stderr,
                 "usage: %s [--rounds N] [--only KERNEL] [--no-node] "
                 "[--no-kernels] [--no-micro] [--quick]\n",
                 argv[0]);
    return 2;
  }
  // Node is optional: without it the node column is left out.
  if (options.node && !capture("node --version 2>/dev/null")) {
    std::fprintf(stderr, "nomos_bench: node is not on PATH: no node column\n");
    options.node = false;
  }
  bool ok = true;
  if (!options.quick)
    printMachine(options.node);
  if (options.kernels) {
    std::vector<Kernel> kernels = loadKernels(options);
    if (kernels.empty()) {
      std::fprintf(stderr, "nomos_bench: no kernel to run\n");
      return 2;
    }
    ok = options.quick ? quickKernels(kernels, options) : fullKernels(kernels, options);
  }
  if (options.micro)
    ok = runMicros(options) && ok;
  return ok ? 0 : 1;
}
