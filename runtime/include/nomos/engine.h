// The Engine compiles and caches modules; VMs and children share it.
#pragma once

#include <nomos/bytes.h>
#include <nomos/error.h>
#include <nomos/gas.h>

#include <memory>

namespace nomos {

class Module; // a compiled module, immutable, shared by instances

struct EngineOptions {
  unsigned optLevel = 2; // LLVM optimization level, 0..3
  // Gas metering (docs/metering.md): instrument every module with the gas
  // pass and charge host calls. Off: programs run unmetered (gas used 0).
  bool metering = true;
  GasSchedule schedule;
  // Metering-specific optimization (keep the counter in a register inside
  // a function). Gas counts are the same with it off; for tests.
  bool gasInRegister = true;
};

class NOMOS_API Engine {
public:
  explicit Engine(EngineOptions options = {});
  ~Engine();
  Engine(const Engine &) = delete;
  Engine &operator=(const Engine &) = delete;

  // Decodes, validates, compiles and links `code`, or returns the module
  // compiled before for the same bytes (keyed by BLAKE3 of the code).
  Expected<std::shared_ptr<const Module>> load(ByteView code);

  const EngineOptions &options() const;
  // How many distinct modules this engine has compiled.
  size_t compiledModules() const;

  struct Impl;

private:
  std::unique_ptr<Impl> impl_;
};

} // namespace nomos
