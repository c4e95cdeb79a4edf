// The Engine compiles and caches modules; VMs and children share it.
#pragma once

#include <nomos/bytes.h>
#include <nomos/error.h>

#include <memory>

namespace nomos {

class Module; // a compiled module, immutable, shared by instances

struct EngineOptions {
  unsigned optLevel = 2; // LLVM optimization level, 0..3
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
