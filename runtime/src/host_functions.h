// The host functions of the guest ABI (nomos/abi.h).
#pragma once

#include <nomos/metering/module_info.h>

#include <string_view>

namespace nomos {

struct HostFunction {
  std::string_view module;
  std::string_view name;
  wasm::FuncType type;
  void *function; // called as function(VMContext *, args...)
};

// The host function a module imports as module.name, or null.
const HostFunction *findHostFunction(std::string_view module,
                                     std::string_view name);

} // namespace nomos
