#include "host_functions.h"
#include "module_instance.h"
#include "transaction.h"

#include <nomos/vm.h>

#include <llvm/Support/BLAKE3.h>

#include <algorithm>

namespace nomos {

struct VM::Impl {
  std::shared_ptr<Engine> engine;
  std::shared_ptr<Store> store;
  std::shared_ptr<const Module> module;
  Limits limits;
  GasReport lastGas;
  std::vector<Bytes> history; // BLAKE3 of each code version

  void record(ByteView code) { history.push_back(codeHash(code)); }
};

Bytes codeHash(ByteView code) {
  auto hash = llvm::BLAKE3::hash<32>(
      llvm::ArrayRef<uint8_t>(code.data(), code.size()));
  return Bytes(hash.begin(), hash.end());
}

// The VM's code must import only the guest ABI: checked at load, not at the
// first call.
static Expected<std::shared_ptr<const Module>> loadProgram(Engine &engine,
                                                           ByteView code) {
  auto module = engine.load(code);
  if (!module)
    return tl::unexpected(module.error());
  if (auto imports = resolveImports(**module, findAbiFunction); !imports)
    return tl::unexpected(imports.error());
  return module;
}

VM::VM(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
VM::VM(VM &&) noexcept = default;
VM &VM::operator=(VM &&) noexcept = default;
VM::~VM() = default;

Expected<VM> VM::create(ByteView code, VMOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->engine = options.engine ? options.engine : std::make_shared<Engine>();
  impl->store = options.store ? options.store : std::make_shared<MemoryStore>();
  impl->limits = options.limits;
  auto module = loadProgram(*impl->engine, code);
  if (!module)
    return tl::unexpected(module.error());
  impl->module = *module;
  impl->record(code);
  return VM(std::move(impl));
}

// The VM's own program has the empty key prefix (transaction.h).
void VM::set(ByteView key, ByteView value) {
  impl_->store->set(ownKey({}, key), value);
}

std::optional<Bytes> VM::get(ByteView key) const {
  return impl_->store->get(ownKey({}, key));
}

bool VM::remove(ByteView key) { return impl_->store->remove(ownKey({}, key)); }

Expected<CallResult> VM::call(std::string_view name,
                              std::span<const Value> args) {
  return call(name, args, impl_->limits.gas);
}

// Gas: the call runs with `gasLimit` (docs/metering.md); what it used is
// reported whether it returns or traps. Unmetered code uses none.
Expected<CallResult> VM::call(std::string_view name, std::span<const Value> args,
                              uint64_t gasLimit) {
  Transaction transaction(*impl_->store);
  CallResult result;
  CallContext call{*impl_->engine, transaction, {}, impl_->limits, 0, 0,
                   result.logs, {}};
  int64_t limit = gasCounter(gasLimit);
  call.gasLeft = limit;
  // Storage: the limit less what the store holds (counted by the store).
  call.storageLeft = static_cast<int64_t>(
      gasCounter(impl_->limits.storageBytes)) -
      static_cast<int64_t>(std::min(impl_->store->bytesUsed(), kMaxGas));
  auto values = runProgram(impl_->module, call, name, args);
  uint64_t left = static_cast<uint64_t>(std::clamp<int64_t>(call.gasLeft, 0, limit));
  if (!impl_->module->gas())
    left = static_cast<uint64_t>(limit);
  impl_->lastGas = {static_cast<uint64_t>(limit), static_cast<uint64_t>(limit) - left, left};
  if (!values)
    return tl::unexpected(values.error());
  // One Store::apply: all of the call's writes, or none and an error.
  if (auto committed = transaction.commit(); !committed)
    return tl::unexpected(committed.error());
  // A self-upgrade takes effect with the commit (never after a trap).
  if (call.upgrade) {
    impl_->module = std::move(call.upgrade);
    impl_->history.push_back(call.upgradeHash);
  }
  result.results = std::move(*values);
  result.gasUsed = impl_->lastGas.used;
  result.gasLeft = left;
  return result;
}

GasReport VM::lastCallGas() const { return impl_->lastGas; }

Expected<void> VM::upgrade(ByteView code) {
  auto module = loadProgram(*impl_->engine, code);
  if (!module)
    return tl::unexpected(module.error());
  impl_->module = *module;
  impl_->record(code);
  return {};
}

std::vector<Bytes> VM::codeHistory() const { return impl_->history; }

std::vector<ExportedFunction> VM::exports() const {
  return impl_->module->exportedFunctions();
}

Store &VM::store() { return *impl_->store; }
const Limits &VM::limits() const { return impl_->limits; }

} // namespace nomos
