#include "engine_impl.h"

#include <pthread.h>

#include <nomos/compiler/compiler.h>
#include <nomos/metering/binaryen_module.h>
#include <nomos/metering/gas_injection.h>

#include <nomos/metering/module_info.h>
#include <nomos/version.h>

#include <llvm/Config/llvm-config.h>
#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/Support/BLAKE3.h>

#include <binaryen-c.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>

#include <dlfcn.h>
#include <link.h>
#include <sys/stat.h>

namespace nomos {

Engine::Engine(EngineOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = options;
  if (options.cacheDir && !options.cacheDir->empty())
    impl_->disk.emplace(*options.cacheDir, options.cacheMaxBytes);
}

std::optional<std::string> defaultCacheDir() {
  if (const char *xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
    return std::string(xdg) + "/nomos";
  if (const char *home = std::getenv("HOME"); home && *home)
    return std::string(home) + "/.cache/nomos";
  return std::nullopt;
}

EngineStats Engine::stats() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->stats;
}

namespace {

// The GNU build-id of the loaded object holding this code (libnomos, or an
// executable that links it statically), from its notes in memory.
std::optional<std::string> loadedBuildId() {
  struct Search {
    uintptr_t code = reinterpret_cast<uintptr_t>(&loadedBuildId);
    std::optional<std::string> id;
  } search;
  dl_iterate_phdr(
      [](dl_phdr_info *info, size_t, void *data) -> int {
        auto &search = *static_cast<Search *>(data);
        bool holdsCode = false;
        for (int i = 0; i < info->dlpi_phnum; ++i) {
          const ElfW(Phdr) &segment = info->dlpi_phdr[i];
          uintptr_t start = info->dlpi_addr + segment.p_vaddr;
          holdsCode |= segment.p_type == PT_LOAD && search.code >= start &&
                       search.code - start < segment.p_memsz;
        }
        if (!holdsCode)
          return 0;
        for (int i = 0; i < info->dlpi_phnum; ++i) {
          const ElfW(Phdr) &segment = info->dlpi_phdr[i];
          if (segment.p_type != PT_NOTE)
            continue;
          auto *at = reinterpret_cast<const char *>(info->dlpi_addr + segment.p_vaddr);
          const char *end = at + segment.p_memsz;
          while (end - at >= static_cast<ptrdiff_t>(sizeof(ElfW(Nhdr)))) {
            auto *note = reinterpret_cast<const ElfW(Nhdr) *>(at);
            const char *name = at + sizeof(ElfW(Nhdr));
            const char *desc = name + ((note->n_namesz + 3) & ~3u);
            at = desc + ((note->n_descsz + 3) & ~3u);
            if (note->n_type != NT_GNU_BUILD_ID || note->n_namesz != 4 ||
                std::memcmp(name, "GNU", 4) != 0 || at > end)
              continue;
            static const char digits[] = "0123456789abcdef";
            std::string id;
            for (unsigned j = 0; j < note->n_descsz; ++j) {
              auto byte = static_cast<unsigned char>(desc[j]);
              id += digits[byte >> 4];
              id += digits[byte & 15];
            }
            search.id = "build-id " + id;
            return 1;
          }
        }
        return 1;
      },
      &search);
  return search.id;
}

// The code that is running, once per process: its build-id, else the size
// and modification time of its file. A rebuilt library may generate other
// code under the same version; and the file on disk may be replaced while a
// process runs, which must not then write entries under the new one's name.
std::string buildIdentity() {
  static const std::string identity = [] {
    if (std::optional<std::string> id = loadedBuildId())
      return *id;
    Dl_info info;
    struct stat st;
    if (!dladdr(reinterpret_cast<void *>(&buildIdentity), &info) ||
        !info.dli_fname || ::stat(info.dli_fname, &st) != 0)
      return std::string("unknown");
    return std::to_string(st.st_size) + "@" + std::to_string(st.st_mtim.tv_sec) +
           "." + std::to_string(st.st_mtim.tv_nsec);
  }();
  return identity;
}

Expected<std::string> keyPartsText(const EngineOptions &options) {
  compiler::initializeNativeTarget();
  auto host = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!host)
    return makeError(ErrorKind::CompileError,
                     "cannot detect the host target: " +
                         llvm::toString(host.takeError()));
  CacheKeyParts parts;
  parts.nomosVersion = NOMOS_VERSION;
  parts.build = buildIdentity();
  parts.llvmVersion = LLVM_VERSION_STRING;
  parts.triple = host->getTargetTriple().str();
  parts.cpu = host->getCPU();
  parts.features = host->getFeatures().getString();
  parts.metering = options.metering;
  parts.gasSchedule = options.metering ? options.schedule.hashHex() : "none";
  parts.gasInRegister = options.metering && options.gasInRegister;
  parts.optLevel = options.optLevel;
  parts.memory = options.memory == MemoryStrategy::GuardPages ? "guard-pages"
                                                              : "explicit-checks";
  return parts.text();
}

} // namespace

Engine::~Engine() = default;

const EngineOptions &Engine::options() const { return impl_->options; }

size_t Engine::compiledModules() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->modules.size();
}

namespace {

struct Compiled {
  wasm::ModuleInfo info;
  compiler::CompiledCode code;
};

// Binaryen and LLVM recurse over a module's structure: they run on a thread
// of their own with a large stack, so that how deep a module nests never
// depends on the caller's stack (a guest's, when it opens a child).
constexpr size_t kCompilerStack = size_t(64) << 20;

template <class Work>
Expected<Compiled> onCompilerThread(Work &&work) {
  struct Job {
    Work *work;
    std::optional<Expected<Compiled>> result;
  } job{&work, std::nullopt};
  auto run = [](void *arg) -> void * {
    auto *job = static_cast<Job *>(arg);
    try {
      job->result.emplace((*job->work)());
    } catch (const std::exception &e) {
      job->result.emplace(makeError(ErrorKind::ResourceError,
                                    std::string("compiling failed: ") + e.what()));
    }
    return nullptr;
  };
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, kCompilerStack);
  pthread_t thread;
  int failed = pthread_create(&thread, &attr, run, &job);
  pthread_attr_destroy(&attr);
  if (failed)
    return makeError(ErrorKind::ResourceError,
                     "cannot start the compiler thread");
  pthread_join(thread, nullptr);
  return std::move(*job.result);
}

// Adds the time from its making to its end to `total` (stats().loadTime).
struct LoadTimer {
  std::chrono::steady_clock::time_point start;
  std::chrono::nanoseconds &total;
  ~LoadTimer() { total += std::chrono::steady_clock::now() - start; }
};

} // namespace

MemoryStrategy defaultMemoryStrategy() {
  static const MemoryStrategy strategy = [] {
    const char *chosen = std::getenv("NOMOS_MEMORY");
    return chosen && std::string_view(chosen) == "explicit"
               ? MemoryStrategy::ExplicitChecks
               : MemoryStrategy::GuardPages;
  }();
  return strategy;
}

compiler::CompileOptions compileOptionsFor(const EngineOptions &options,
                                           bool metered) {
  compiler::CompileOptions compileOptions{.optLevel = options.optLevel};
  compileOptions.memory = lowerStrategy(options.memory);
  if (metered) {
    compileOptions.gas = options.schedule;
    compileOptions.gasInRegister = options.gasInRegister;
  }
  return compileOptions;
}

Expected<std::shared_ptr<const Module>> Engine::load(ByteView code) {
  auto started = std::chrono::steady_clock::now();
  std::array<uint8_t, 32> hash = llvm::BLAKE3::hash<32>(
      llvm::ArrayRef<uint8_t>(code.data(), code.size()));
  std::lock_guard lock(impl_->mutex);
  LoadTimer timer{started, impl_->stats.loadTime}; // ends before the lock
  if (auto found = impl_->modules.find(hash); found != impl_->modules.end()) {
    ++impl_->stats.memoryHits;
    return found->second;
  }
  if (!impl_->jit) {
    auto jit = Jit::create();
    if (!jit)
      return tl::unexpected(jit.error());
    impl_->jit = std::move(*jit);
  }
  std::optional<GasSchedule> schedule;
  if (impl_->options.metering)
    schedule = impl_->options.schedule;
  rt::MemoryStrategy strategy = lowerStrategy(impl_->options.memory);

  // The disk cache: on a hit, decode the declarations, then link the
  // stored object; Binaryen and LLVM do not run.
  CacheKey diskKey{};
  if (impl_->disk) {
    if (!impl_->keyParts) {
      auto parts = keyPartsText(impl_->options);
      if (!parts)
        return tl::unexpected(parts.error());
      impl_->keyParts = std::move(*parts);
    }
    diskKey = cacheKey(hash, *impl_->keyParts);
    std::vector<uint8_t> object;
    std::string why;
    switch (impl_->disk->read(diskKey, *impl_->keyParts, object, why)) {
    case DiskCache::Lookup::Hit: {
      // The entry's key holds the code's hash, and entries are written
      // only after the code was validated and compiled: only the module's
      // declarations are decoded again (docs/cache.md, "Fast load").
      auto info = wasm::decodeModule(code.span(),
                                     {.validateFunctionBodies = false});
      if (!info)
        return tl::unexpected(info.error());
      auto module = Module::link(std::move(*info), object, *impl_->jit,
                                 impl_->types, strategy, schedule);
      if (module) {
        ++impl_->stats.diskHits;
        impl_->disk->touch(diskKey);
        impl_->modules.emplace(hash, *module);
        return *module;
      }
      // A checksummed entry of our own configuration that does not link:
      // treat it as corrupt and rebuild.
      why = "does not link: " + module.error().message;
      [[fallthrough]];
    }
    case DiskCache::Lookup::Rejected:
      ++impl_->stats.diskRejected;
      std::fprintf(stderr, "nomos: cache entry %s ignored (%s); rebuilding\n",
                   impl_->disk->pathOf(diskKey).c_str(), why.c_str());
      break;
    case DiskCache::Lookup::Miss:
      ++impl_->stats.diskMisses;
      break;
    }
  }

  auto built = onCompilerThread([&]() -> Expected<Compiled> {
    auto loaded = metering::loadModule(code.span());
    if (!loaded)
      return tl::unexpected(loaded.error());
    if (impl_->options.metering) {
      if (auto metered = metering::injectGas(*loaded, impl_->options.schedule);
          !metered)
        return tl::unexpected(metered.error());
    }
    auto compiled = compiler::compile(
        *loaded, compileOptionsFor(impl_->options, impl_->options.metering));
    if (!compiled)
      return tl::unexpected(compiled.error());
    return Compiled{std::move(loaded->info), std::move(*compiled)};
  });
  if (!built)
    return tl::unexpected(built.error());
  auto compiled = &built->code;
  ++impl_->stats.compiles;
  auto module = Module::link(std::move(built->info), compiled->object,
                             *impl_->jit, impl_->types, strategy, schedule);
  if (!module)
    return tl::unexpected(module.error());
  impl_->modules.emplace(hash, *module);
  // Best effort: a read-only directory only costs compiles.
  if (impl_->disk && impl_->disk->write(diskKey, *impl_->keyParts,
                                        compiled->object)) {
    ++impl_->stats.diskWrites;
    impl_->stats.diskEvicted += impl_->disk->evict(diskKey);
  }
  return *module;
}

namespace {
size_t binaryenSize(BinaryenModuleRef module) {
  BinaryenModuleAllocateAndWriteResult written =
      BinaryenModuleAllocateAndWrite(module, nullptr);
  size_t size = written.binaryBytes;
  free(written.binary);
  free(written.sourceMap);
  return size;
}
} // namespace

Expected<MeteringSize> meteringSize(ByteView code, const GasSchedule &schedule) {
  auto loaded = metering::loadModule(code.span());
  if (!loaded)
    return tl::unexpected(loaded.error());
  MeteringSize size;
  size.functions = BinaryenGetNumFunctions(loaded->binaryen.get());
  size.before = binaryenSize(loaded->binaryen.get());
  if (auto metered = metering::injectGas(*loaded, schedule); !metered)
    return tl::unexpected(metered.error());
  size.after = binaryenSize(loaded->binaryen.get());
  return size;
}

} // namespace nomos
