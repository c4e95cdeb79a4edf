// bench_sandbox: what the sandbox costs (docs/sandbox.md).
//
//   build/tools/bench_sandbox [--count N]
//
// For each memory strategy: the time to instantiate a compiled module
// (tools/small_instance.wat: its memory slot comes from the pool) and how
// many of its Instances live at once; how many VMs of the seed's counter can
// be open at once (each called once); up to N (100,000 by default), with the
// resident memory each takes. Not a test: its output goes into docs/sandbox.md. The run-time
// ratio of the two strategies on the kernels comes from
// `bench_metering --memory explicit` against `bench_metering`.
#include "bench_util.h"

#include <nomos/nomos.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

using namespace nomos;
using Clock = std::chrono::steady_clock;

namespace {

double residentMiB() {
  std::ifstream statm("/proc/self/statm");
  uint64_t size = 0, resident = 0;
  statm >> size >> resident;
  return double(resident) * double(sysconf(_SC_PAGESIZE)) / (1 << 20);
}

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

const char *nameOf(MemoryStrategy strategy) {
  return strategy == MemoryStrategy::GuardPages ? "guard pages" : "explicit checks";
}

// Median over 5 rounds of the mean time of `perRound` instantiations.
double instantiateMicros(Engine &engine, const Bytes &code) {
  constexpr int kRounds = 5, kPerRound = 2000;
  std::vector<double> means;
  for (int round = 0; round < kRounds; ++round) {
    auto start = Clock::now();
    for (int i = 0; i < kPerRound; ++i) {
      auto instance = Instance::create(engine, code);
      if (!instance) {
        std::fprintf(stderr, "instantiate: %s\n", instance.error().toString().c_str());
        std::exit(1);
      }
    }
    means.push_back(secondsSince(start) * 1e6 / kPerRound);
  }
  std::sort(means.begin(), means.end());
  return means[kRounds / 2];
}

struct Peak {
  size_t reached = 0;
  double mibEach = 0;
  std::string stoppedBy;
};

Peak openVMs(std::shared_ptr<Engine> engine, const Bytes &code, size_t count) {
  Peak peak;
  std::vector<VM> vms;
  vms.reserve(count);
  double before = residentMiB();
  while (vms.size() < count) {
    auto vm = VM::create(code, {.engine = engine});
    if (!vm) {
      peak.stoppedBy = vm.error().toString();
      break;
    }
    if (auto called = vm->call("increment"); !called) {
      peak.stoppedBy = called.error().toString();
      break;
    }
    vms.push_back(std::move(*vm));
  }
  peak.reached = vms.size();
  peak.mibEach = (residentMiB() - before) / double(std::max<size_t>(1, peak.reached));
  return peak;
}

Peak liveInstances(Engine &engine, const Bytes &code, size_t count) {
  Peak peak;
  std::vector<Instance> instances;
  instances.reserve(count);
  double before = residentMiB();
  while (instances.size() < count) {
    auto instance = Instance::create(engine, code);
    if (!instance) {
      peak.stoppedBy = instance.error().toString();
      break;
    }
    instances.push_back(std::move(*instance));
  }
  peak.reached = instances.size();
  peak.mibEach = (residentMiB() - before) / double(std::max<size_t>(1, peak.reached));
  return peak;
}

} // namespace

int main(int argc, char **argv) {
  size_t count = 100'000;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--count" && i + 1 < argc) {
      count = std::strtoull(argv[++i], nullptr, 10);
    } else {
      std::fprintf(stderr, "usage: %s [--count N]\n", argv[0]);
      return 2;
    }
  }
  Bytes code = bench::readFileOrExit(NOMOS_COUNTER_WASM);
  Bytes small = bench::readFileOrExit(NOMOS_SMALL_WASM);
  std::printf("counter.wasm: %zu bytes (VMs), small_instance.wasm: %zu bytes "
              "(instances); up to %zu of each per strategy\n\n",
              code.size(), small.size(), count);
  std::printf("| strategy | instantiate (us) | open VMs | KiB per VM | live instances "
              "| KiB per instance |\n");
  std::printf("| --- | --- | --- | --- | --- | --- |\n");
  for (MemoryStrategy strategy :
       {MemoryStrategy::GuardPages, MemoryStrategy::ExplicitChecks}) {
    auto engine = std::make_shared<Engine>(EngineOptions{.memory = strategy});
    double micros = instantiateMicros(*engine, small);
    Peak vms = openVMs(engine, code, count);
    Peak instances = liveInstances(*engine, small, count);
    std::printf("| %s | %.2f | %zu | %.1f | %zu | %.1f |\n",
                nameOf(strategy), micros, vms.reached, vms.mibEach * 1024,
                instances.reached, instances.mibEach * 1024);
    for (const Peak *peak : {&vms, &instances})
      if (!peak->stoppedBy.empty())
        std::printf("  (%s stopped at %zu: %s)\n", nameOf(strategy), peak->reached,
                    peak->stoppedBy.c_str());
    std::fflush(stdout);
  }
  return 0;
}
