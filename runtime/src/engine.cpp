#include "engine_impl.h"

#include <nomos/compiler/compiler.h>
#include <nomos/metering/binaryen_module.h>
#include <nomos/metering/gas_injection.h>

#include <llvm/Support/BLAKE3.h>

#include <binaryen-c.h>

#include <cstdlib>

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
  compiler::CompileOptions compileOptions{.optLevel = impl_->options.optLevel};
  if (impl_->options.metering) {
    if (auto metered = metering::injectGas(*loaded, impl_->options.schedule);
        !metered)
      return tl::unexpected(metered.error());
    compileOptions.gas = impl_->options.schedule;
    compileOptions.gasInRegister = impl_->options.gasInRegister;
  }
  auto compiled = compiler::compile(*loaded, compileOptions);
  if (!compiled)
    return tl::unexpected(compiled.error());
  std::optional<GasSchedule> schedule;
  if (impl_->options.metering)
    schedule = impl_->options.schedule;
  auto module =
      Module::link(std::move(loaded->info), compiled->object, *impl_->jit,
                   impl_->types, schedule);
  if (!module)
    return tl::unexpected(module.error());
  impl_->modules.emplace(hash, *module);
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
