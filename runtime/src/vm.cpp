#include "host_functions.h"
#include "module_instance.h"
#include "transaction.h"

#include <nomos/vm.h>

#include <algorithm>

namespace nomos {

struct VM::Impl {
  std::shared_ptr<Engine> engine;
  std::shared_ptr<Store> store;
  std::shared_ptr<const Module> module;
  Limits limits;
  GasReport lastGas;
};

VM::VM(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
VM::VM(VM &&) noexcept = default;
VM &VM::operator=(VM &&) noexcept = default;
VM::~VM() = default;

Expected<VM> VM::create(ByteView code, VMOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->engine = options.engine ? options.engine : std::make_shared<Engine>();
  impl->store = options.store ? options.store : std::make_shared<MemoryStore>();
  impl->limits = options.limits;
  auto module = impl->engine->load(code);
  if (!module)
    return tl::unexpected(module.error());
  // A VM's program may import only the guest ABI: check it now, not at the
  // first call.
  if (auto imports = resolveImports(**module, findAbiFunction); !imports)
    return tl::unexpected(imports.error());
  impl->module = *module;
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
  auto values = runProgram(impl_->module, call, name, args);
  uint64_t left = static_cast<uint64_t>(std::clamp<int64_t>(call.gasLeft, 0, limit));
  if (!impl_->module->gas())
    left = static_cast<uint64_t>(limit);
  impl_->lastGas = {static_cast<uint64_t>(limit), static_cast<uint64_t>(limit) - left, left};
  if (!values)
    return tl::unexpected(values.error());
  transaction.commit();
  result.results = std::move(*values);
  result.gasUsed = impl_->lastGas.used;
  result.gasLeft = left;
  return result;
}

GasReport VM::lastCallGas() const { return impl_->lastGas; }

std::vector<ExportedFunction> VM::exports() const {
  return impl_->module->exportedFunctions();
}

Store &VM::store() { return *impl_->store; }
const Limits &VM::limits() const { return impl_->limits; }

} // namespace nomos
