// Shared by the fuzzers and the differential driver: run every exported
// function of a module once, in export order, on one instance, the way
// Binaryen's `wasm-opt --fuzz-exec` does (zero arguments), and record what
// each call did.
#pragma once

#include <nomos/engine.h>
#include <nomos/instance.h>

#include <optional>
#include <string>
#include <vector>

namespace nomos::fuzz {

// One export call: the values it logged through the "fuzzing-support"
// imports, then its results or its trap, and the gas it used.
struct CallOutcome {
  std::string name;
  std::vector<Value> logs;
  std::vector<Value> results;
  std::optional<Error> trap;
  uint64_t gasUsed = 0;
};

struct RunOutcome {
  // Set when the module did not load or instantiate; calls is then empty.
  std::optional<Error> error;
  std::vector<CallOutcome> calls;
};

// An engine for a fuzzer, reused across inputs (making one costs more than
// most inputs do), one per optimization level, replaced once its memory
// cache holds 64 modules. Options other than the level are the first caller's.
Engine &reusedEngine(const EngineOptions &options);

// Loads `code` in `engine`, binds Binaryen's fuzzing imports
// ("fuzzing-support" "log-i32" ... "log-f64", "log-v128"; anything else is a LinkError),
// instantiates it with `limits` and calls each exported function (after
// "hangLimitInitializer", if exported, as --fuzz-exec does).
RunOutcome runExports(Engine &engine, ByteView code, Limits limits);

// Empty if both runs did the same (results, logs, traps by kind, gas);
// otherwise what differs first.
std::string compareOutcomes(const RunOutcome &a, const RunOutcome &b);

} // namespace nomos::fuzz
