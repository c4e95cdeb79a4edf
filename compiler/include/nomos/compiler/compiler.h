// The compiler: Binaryen IR -> LLVM IR -> optimized native object code.
#pragma once

#include <nomos/compiler/runtime_abi.h>
#include <nomos/metering/binaryen_module.h>
#include <nomos/metering/gas.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace nomos::compiler {

struct CompileOptions {
  unsigned optLevel = 2; // 0..3, as clang's -O
  // The schedule the gas pass used; required when the module is metered
  // (the compiler accounts for metered blocks with the same costs).
  std::optional<metering::GasSchedule> gas;
  // Metering-specific optimization: keep the gas counter in a local
  // (promoted to a register) instead of vmctx. Gas is the same either way.
  bool gasInRegister = true;
  rt::MemoryStrategy memory = rt::MemoryStrategy::GuardPages;
};

// A relocatable ELF object for the host, with one invoke thunk per exported
// function and for the start function (see runtime_abi.h). It is all the
// runtime needs from the compiler, and what an AOT cache would store.
struct CompiledCode {
  std::vector<uint8_t> object;
};

Expected<CompiledCode> compile(const metering::LoadedModule &module,
                               const CompileOptions &options);

// The LLVM IR the compiler generates, as text: before optimization, or after
// it when `optimized` is set. For inspection and tests.
Expected<std::string> emitLLVMIR(const metering::LoadedModule &module,
                                 const CompileOptions &options, bool optimized);

// The native assembly of the optimized module (AT&T syntax), as text. For
// inspection.
Expected<std::string> emitAssembly(const metering::LoadedModule &module,
                                   const CompileOptions &options);

// Host CPU target set-up; safe to call many times from any thread.
void initializeNativeTarget();

} // namespace nomos::compiler
