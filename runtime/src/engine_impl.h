#pragma once

#include "disk_cache.h"
#include "jit.h"
#include "module.h"

#include <nomos/compiler/compiler.h>
#include <nomos/engine.h>

#include <map>
#include <mutex>

namespace nomos {

struct Engine::Impl {
  EngineOptions options;
  std::mutex mutex;
  std::shared_ptr<Jit> jit; // started on first load
  TypeRegistry types;
  // Compiled modules by BLAKE3 of their code.
  std::map<std::array<uint8_t, 32>, std::shared_ptr<const Module>> modules;
  EngineStats stats;
  std::optional<DiskCache> disk;          // when options.cacheDir is set
  std::optional<std::string> keyParts;    // CacheKeyParts::text(), on first use
};

// What the compiler is told for `options`; `metered`: the module went
// through the gas pass.
compiler::CompileOptions compileOptionsFor(const EngineOptions &options,
                                           bool metered);

} // namespace nomos
