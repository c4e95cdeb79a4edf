#include "engine_impl.h"

#include <nomos/compiler/compiler.h>
#include <nomos/metering/binaryen_module.h>

#include <llvm/Support/BLAKE3.h>

namespace nomos {

Engine::Engine(EngineOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = options;
}

Engine::~Engine() = default;

const EngineOptions &Engine::options() const { return impl_->options; }

size_t Engine::compiledModules() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->modules.size();
}

Expected<std::shared_ptr<const Module>> Engine::load(ByteView code) {
  std::array<uint8_t, 32> hash = llvm::BLAKE3::hash<32>(
      llvm::ArrayRef<uint8_t>(code.data(), code.size()));
  std::lock_guard lock(impl_->mutex);
  if (auto found = impl_->modules.find(hash); found != impl_->modules.end())
    return found->second;
  if (!impl_->jit) {
    auto jit = Jit::create();
    if (!jit)
      return tl::unexpected(jit.error());
    impl_->jit = std::move(*jit);
  }
  auto loaded = metering::loadModule(code.span());
  if (!loaded)
    return tl::unexpected(loaded.error());
  auto compiled =
      compiler::compile(*loaded, {.optLevel = impl_->options.optLevel});
  if (!compiled)
    return tl::unexpected(compiled.error());
  auto module =
      Module::link(std::move(loaded->info), compiled->object, *impl_->jit,
                   impl_->types);
  if (!module)
    return tl::unexpected(module.error());
  impl_->modules.emplace(hash, *module);
  return *module;
}

} // namespace nomos
