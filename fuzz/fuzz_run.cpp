// libFuzzer target: the bytes choose a valid module (module_generator.h),
// which is compiled, instantiated and run: every export once, with a small
// gas limit. Every call must return or trap; loading must succeed (the
// module is valid), and a trap must be a trap, not another error.
#include "module_generator.h"
#include "run_exports.h"

#include <cstdio>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  // The first byte picks the optimization level: -O0 for 7 inputs in 8
  // (about a fifth of -O2's compile time for a small module, so a campaign
  // reaches a million inputs on one core), -O2 for the rest. The
  // differential driver runs every module at both levels.
  unsigned optLevel = data[0] % 8 == 0 ? 2 : 0;
  std::vector<uint8_t> code = nomos::fuzz::generateModule(
      std::span<const uint8_t>(data + 1, size - 1));
  nomos::Engine &engine = nomos::fuzz::reusedEngine({.optLevel = optLevel});
  nomos::Limits limits;
  limits.gas = 100'000;
  nomos::fuzz::RunOutcome outcome =
      nomos::fuzz::runExports(engine, code, limits);
  if (outcome.error) {
    fprintf(stderr, "valid module refused: %s\n",
            outcome.error->toString().c_str());
    abort();
  }
  for (const nomos::fuzz::CallOutcome &call : outcome.calls) {
    bool badError = call.trap && !call.trap->isTrap();
    if (badError || call.gasUsed > limits.gas) {
      fprintf(stderr, "%s: %s, gas %llu\n", call.name.c_str(),
              badError ? call.trap->toString().c_str() : "returned",
              (unsigned long long)call.gasUsed);
      abort();
    }
  }
  return 0;
}
