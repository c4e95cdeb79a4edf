// The Engine compiles and caches modules; VMs and children share it.
#pragma once

#include <nomos/bytes.h>
#include <nomos/error.h>
#include <nomos/gas.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace nomos {

class Module; // a compiled module, immutable, shared by instances

// A stage of the pipeline, for Engine::inspect (docs/cache.md).
enum class Stage {
  Wasm,    // the input as wasm text (Binaryen's text of the module as read)
  Metered, // the wasm text after the gas pass
  LLVM,    // the LLVM IR before optimization
  LLVMOpt, // the LLVM IR after optimization
  Asm,     // the native assembly
};
// "wasm", "metered", "llvm", "llvm-opt", "asm".
NOMOS_API std::optional<Stage> parseStage(std::string_view name);

// How compiled code keeps memory accesses inside linear memory
// (docs/sandbox.md).
enum class MemoryStrategy {
  // No bounds check in code: each memory is a slot of 6 GiB of address
  // space (4 GiB plus a guard region); a fault there becomes a
  // MemoryOutOfBounds trap through a SIGSEGV/SIGBUS handler, which passes
  // every other fault to the handler installed before it.
  GuardPages,
  // Every access is checked in code; no signal handler, and memories take
  // address space only as large as they are (many more fit in a process).
  ExplicitChecks,
};

// GuardPages, unless the environment variable NOMOS_MEMORY is "explicit"
// (read once): hosts that cannot take over SIGSEGV choose without a rebuild.
NOMOS_API MemoryStrategy defaultMemoryStrategy();

// The default bound of a disk cache directory: 1 GiB.
inline constexpr uint64_t kDefaultCacheMaxBytes = uint64_t(1) << 30;

struct EngineOptions {
  unsigned optLevel = 2; // LLVM optimization level, 0..3
  // Gas metering (docs/metering.md): instrument every module with the gas
  // pass and charge host calls. Off: programs run unmetered (gas used 0).
  bool metering = true;
  GasSchedule schedule;
  // Metering-specific optimization (keep the counter in a register inside
  // a function). Gas counts are the same with it off; for tests.
  bool gasInRegister = true;
  // Disk cache of compiled code (docs/cache.md): a directory of entries
  // keyed by BLAKE3 of the code and of everything that changes the code
  // generated for it. Empty (the default): no disk cache, only the
  // engine's memory cache. defaultCacheDir() is what the CLI uses.
  std::optional<std::string> cacheDir;
  // The disk cache's size bound: after a write makes the entries exceed
  // it, the least recently used entries are removed (docs/cache.md).
  uint64_t cacheMaxBytes = kDefaultCacheMaxBytes;
  MemoryStrategy memory = defaultMemoryStrategy();
};

// $XDG_CACHE_HOME/nomos, else $HOME/.cache/nomos (else empty).
NOMOS_API std::optional<std::string> defaultCacheDir();

// What an engine's load() did, since the engine was made.
struct EngineStats {
  uint64_t compiles = 0;     // modules compiled (Binaryen and LLVM ran)
  uint64_t memoryHits = 0;   // loads answered by the memory cache
  uint64_t diskHits = 0;     // loads answered by a disk entry (no compile)
  uint64_t diskMisses = 0;   // no entry on disk (compiled, then written)
  uint64_t diskRejected = 0; // corrupt, truncated, foreign or stale entries
                             // (ignored, rebuilt and rewritten)
  uint64_t diskWrites = 0;   // entries written
  uint64_t diskEvicted = 0;  // entries removed to keep the size bound
  // Time spent in load() (compile, or read and link, or a memory hit).
  std::chrono::nanoseconds loadTime{0};
};

class NOMOS_API Engine {
public:
  explicit Engine(EngineOptions options = {});
  ~Engine();
  Engine(const Engine &) = delete;
  Engine &operator=(const Engine &) = delete;

  // Decodes, validates, compiles and links `code`, or returns the module
  // compiled before for the same bytes (keyed by BLAKE3 of the code). With
  // a cacheDir, an entry on disk replaces the compile (the code is still
  // decoded and validated), and a compiled object is written there.
  Expected<std::shared_ptr<const Module>> load(ByteView code);

  // The text of `code` at `stage`, compiled with this engine's options
  // (the Metered stage applies the gas pass even when metering is off).
  // With `function`, only that wasm function (named as in the module's name
  // section; in LLVM IR and assembly its wrapper "w.NAME" and its body
  // "w.g.NAME"); a BadArguments error if
  // it is absent. Compiles afresh: caches nothing.
  Expected<std::string> inspect(ByteView code, Stage stage,
                                std::string_view function = {}) const;

  const EngineOptions &options() const;
  // How many distinct modules this engine has loaded (compiled or read
  // from the disk cache).
  size_t compiledModules() const;
  EngineStats stats() const;

  struct Impl;

private:
  std::unique_ptr<Impl> impl_;
};

} // namespace nomos
