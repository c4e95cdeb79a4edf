// A validated module as Binaryen IR, next to Nomos's own module-level view.
#pragma once

#include <nomos/metering/module_info.h>

#include <memory>
#include <span>

// What binaryen-c.h's BinaryenModuleRef points to in C++, without including
// the C API here.
namespace wasm {
class Module;
} // namespace wasm

namespace nomos::metering {

struct BinaryenModuleDeleter {
  void operator()(::wasm::Module *module) const;
};

// What the front end hands to the compiler: Binaryen IR plus the module info
// decoded by Nomos (the two agree on every index space).
struct LoadedModule {
  wasm::ModuleInfo info;
  std::unique_ptr<::wasm::Module, BinaryenModuleDeleter> binaryen;
};

// Decodes and validates with Nomos's own validator first, and only then lets
// Binaryen read the function bodies (Binaryen's reader exits the process on
// bad input, and on some valid input outside the bodies, so it reads a
// rewrite of the module: metering/src/binaryen_input.h).
Expected<LoadedModule> loadModule(std::span<const uint8_t> bytes);

} // namespace nomos::metering
