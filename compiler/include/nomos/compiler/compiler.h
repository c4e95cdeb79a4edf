// The compiler: Binaryen IR -> LLVM IR -> optimized native object code.
#pragma once

#include <nomos/metering/binaryen_module.h>

#include <cstdint>
#include <string>
#include <vector>

namespace nomos::compiler {

struct CompileOptions {
  unsigned optLevel = 2; // 0..3, as clang's -O
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

// Host CPU target set-up; safe to call many times from any thread.
void initializeNativeTarget();

} // namespace nomos::compiler
