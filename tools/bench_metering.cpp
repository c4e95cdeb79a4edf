// bench_metering: the cost of gas metering on the kernels of ../shared/bench.
//
//   build/tools/bench_metering [--runs N] [--only NAME] [--kernels DIR]
//
// For each kernel (built by ../shared/bench/build.sh into
// <build>/bench-kernels: the target bench_kernels), loads it into two
// engines of one process (metering on, metering off), checks that
// run(work_default()) returns the checksum of the bench README's table,
// times N runs of each (alternating), and prints the median times, the
// overhead of metering from the medians and from the best runs, the gas the
// run used, and how much the gas pass grew the module; then the geometric
// means of the overheads. The best of N is the steadier figure on a shared
// machine: interference only ever adds time. Not a test: its output goes
// into docs/metering.md.
#include "bench_util.h"

#include <nomos/nomos.h>

#include <algorithm>
#include <cmath>

namespace fs = std::filesystem;
using namespace nomos;
using nomos::bench::median;

int main(int argc, char **argv) {
  fs::path benchDir = NOMOS_BENCH_DIR;
  fs::path kernels = NOMOS_BENCH_KERNELS;
  int runs = 5;
  std::string only;
  MemoryStrategy memory = MemoryStrategy::GuardPages;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--runs" && i + 1 < argc)
      runs = std::max(1, std::atoi(argv[++i]));
    else if (arg == "--only" && i + 1 < argc)
      only = argv[++i];
    else if (arg == "--kernels" && i + 1 < argc)
      kernels = argv[++i];
    else if (arg == "--memory" && i + 1 < argc)
      memory = std::string(argv[++i]) == "explicit" ? MemoryStrategy::ExplicitChecks
                                                    : MemoryStrategy::GuardPages;
    else {
      std::fprintf(stderr,
                   "usage: %s [--runs N] [--only NAME] [--kernels DIR] "
                   "[--memory guard|explicit]\n",
                   argv[0]);
      return 2;
    }
  }
  auto table = bench::readKernelTable(benchDir / "README.md");
  if (table.empty()) {
    std::fprintf(stderr, "bench_metering: no kernel table in %s\n",
                 (benchDir / "README.md").c_str());
    return 2;
  }

  EngineOptions metered, unmetered;
  unmetered.metering = false;
  metered.memory = unmetered.memory = memory;
  auto meteredEngine = std::make_shared<Engine>(metered);
  auto unmeteredEngine = std::make_shared<Engine>(unmetered);
  Limits limits;
  limits.gas = kMaxGas;

  std::printf("runs per kernel and mode: %d (alternating), times are medians\n\n", runs);
  std::printf("| kernel | unmetered (s) | metered (s) | overhead | overhead, best runs | gas used | module bytes | instrumented | growth |\n");
  std::printf("| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
  double logSum = 0, bestLogSum = 0;
  int counted = 0;
  bool failed = false;
  for (const auto &[name, expected] : table) {
    if (!only.empty() && name != only)
      continue;
    Bytes code = bench::readFileOrExit(kernels / (name + ".wasm"));
    auto on = VM::create(code, {.engine = meteredEngine, .limits = limits});
    auto off = VM::create(code, {.engine = unmeteredEngine, .limits = limits});
    if (!on || !off) {
      std::fprintf(stderr, "%s: %s\n", name.c_str(),
                   (!on ? on.error() : off.error()).toString().c_str());
      failed = true;
      continue;
    }
    auto n = off->call("work_default");
    if (!n || n->results[0].asI32() != expected.workDefault) {
      std::fprintf(stderr, "%s: work_default() differs from the README\n", name.c_str());
      failed = true;
      continue;
    }
    std::vector<Value> args{Value::i32(expected.workDefault)};
    std::vector<double> tOn, tOff;
    uint64_t gas = 0;
    bool ok = true;
    for (int r = 0; r < runs && ok; ++r) {
      for (VM *vm : {&*off, &*on}) {
        Expected<CallResult> result;
        double seconds =
            bench::secondsOf([&] { result = vm->call("run", args); });
        if (!result || result->results[0].asI64() != expected.checksum) {
          std::fprintf(stderr, "%s: %s\n", name.c_str(),
                       result ? "wrong checksum" : result.error().toString().c_str());
          ok = false;
          break;
        }
        (vm == &*on ? tOn : tOff).push_back(seconds);
        if (vm == &*on) {
          if (gas && gas != result->gasUsed) {
            std::fprintf(stderr, "%s: gas differs between runs\n", name.c_str());
            ok = false;
          }
          gas = result->gasUsed;
        }
      }
    }
    if (!ok) {
      failed = true;
      continue;
    }
    double mOn = median(tOn), mOff = median(tOff);
    double ratio = mOn / mOff;
    double bestRatio = *std::min_element(tOn.begin(), tOn.end()) /
                       *std::min_element(tOff.begin(), tOff.end());
    logSum += std::log(ratio);
    bestLogSum += std::log(bestRatio);
    ++counted;
    auto size = meteringSize(code);
    std::printf("| %s | %.3f | %.3f | %+.1f%% | %+.1f%% | %llu | %zu | %zu | %+.1f%% |\n",
                name.c_str(), mOff, mOn, (ratio - 1) * 100, (bestRatio - 1) * 100,
                static_cast<unsigned long long>(gas), size ? size->before : 0,
                size ? size->after : 0,
                size ? (double(size->after) / size->before - 1) * 100 : 0.0);
    std::fflush(stdout);
  }
  if (counted)
    std::printf("\ngeometric mean overhead: %+.1f%% from the medians, %+.1f%% from "
                "the best runs (%d kernels)\n",
                (std::exp(logSum / counted) - 1) * 100,
                (std::exp(bestLogSum / counted) - 1) * 100, counted);
  return failed ? 1 : 0;
}
