// A compiled, linked module: immutable, shared by every instance (and every
// VM or child running the same code).
#pragma once

#include "jit.h"

#include <nomos/compiler/runtime_abi.h>
#include <nomos/engine.h>
#include <nomos/metering/gas.h>
#include <nomos/metering/module_info.h>
#include <nomos/vm.h>

#include <map>
#include <mutex>
#include <optional>

namespace nomos {

// Canonical ids of function signatures, shared by an engine's modules, so
// that call_indirect compares one integer across instances.
class TypeRegistry {
public:
  uint32_t idOf(const wasm::FuncType &type);

private:
  std::mutex mutex_;
  std::map<std::pair<std::vector<wasm::ValType>, std::vector<wasm::ValType>>,
           uint32_t>
      ids_;
};

class Module {
public:
  // Links the module's code into the JIT. `info` and `object` come from the
  // front end and the compiler.
  static Expected<std::shared_ptr<const Module>>
  link(wasm::ModuleInfo info, const std::vector<uint8_t> &object, Jit &jit,
       TypeRegistry &types, rt::MemoryStrategy memory,
       std::optional<metering::GasSchedule> gas = std::nullopt);
  ~Module();

  const wasm::ModuleInfo &info() const { return info_; }
  // The gas schedule its code was instrumented with, if it is metered.
  const std::optional<metering::GasSchedule> &gas() const { return gas_; }
  // How its code checks memory accesses; its memories must match.
  rt::MemoryStrategy memoryStrategy() const { return memory_; }
  // The invoke thunk of an exported (or start) function, else null.
  rt::InvokeThunk thunk(uint32_t functionIndex) const {
    return thunks_[functionIndex];
  }
  // Native entry of a defined function.
  void *function(uint32_t functionIndex) const {
    return functionTable_[functionIndex];
  }
  // Entry with the native signature of imported function `importIndex`
  // that calls its host callback through nomos_rt_host_call.
  void *hostAdapter(uint32_t importIndex) const {
    return hostAdapters_[importIndex];
  }
  uint32_t typeId(uint32_t typeIndex) const { return typeIds_[typeIndex]; }
  const std::vector<uint32_t> &typeIds() const { return typeIds_; }

  // The exported function `name`, or an UnknownExport error.
  Expected<uint32_t> exportedFunction(std::string_view name) const;
  std::vector<ExportedFunction> exportedFunctions() const;
  std::string functionName(uint32_t index) const;

private:
  Module() = default;

  wasm::ModuleInfo info_;
  std::vector<rt::InvokeThunk> thunks_;
  void *const *functionTable_ = nullptr;
  void *const *hostAdapters_ = nullptr;
  std::vector<uint32_t> typeIds_;
  std::unique_ptr<LinkedCode> code_;
  std::optional<metering::GasSchedule> gas_;
  rt::MemoryStrategy memory_ = rt::MemoryStrategy::GuardPages;
};

// The compiler's and runtime's name for a public MemoryStrategy.
inline rt::MemoryStrategy lowerStrategy(MemoryStrategy strategy) {
  return strategy == MemoryStrategy::GuardPages
             ? rt::MemoryStrategy::GuardPages
             : rt::MemoryStrategy::ExplicitChecks;
}

// Maps a wasm value type to the public one.
ValueType publicValueType(wasm::ValType type);

} // namespace nomos
