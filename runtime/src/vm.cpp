#include "host_functions.h"
#include "module_instance.h"
#include "transaction.h"

#include <nomos/vm.h>

namespace nomos {

struct VM::Impl {
  std::shared_ptr<Engine> engine;
  std::shared_ptr<Store> store;
  std::shared_ptr<const Module> module;
  Limits limits;
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
  Transaction transaction(*impl_->store);
  CallResult result;
  CallContext call{*impl_->engine, transaction, {}, impl_->limits, 0, 0,
                   result.logs, {}};
  auto values = runProgram(impl_->module, call, name, args);
  if (!values)
    return tl::unexpected(values.error());
  transaction.commit();
  result.results = std::move(*values);
  return result;
}

std::vector<ExportedFunction> VM::exports() const {
  return impl_->module->exportedFunctions();
}

Store &VM::store() { return *impl_->store; }
const Limits &VM::limits() const { return impl_->limits; }

} // namespace nomos
