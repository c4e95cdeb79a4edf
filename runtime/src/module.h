// A compiled, linked module: immutable, shared by every instance (and every
// VM or child running the same code).
#pragma once

#include "jit.h"

#include <nomos/compiler/runtime_abi.h>
#include <nomos/engine.h>
#include <nomos/metering/module_info.h>
#include <nomos/vm.h>

#include <array>
#include <optional>

namespace nomos {

class Module {
public:
  // Links the module's imports against the host ABI and its code into the
  // JIT. `info` and `object` come from the front end and the compiler.
  static Expected<std::shared_ptr<const Module>>
  link(wasm::ModuleInfo info, std::vector<void *> hostFunctions,
       const std::vector<uint8_t> &object, Jit &jit);

  const wasm::ModuleInfo &info() const { return info_; }
  // The invoke thunk of an exported (or start) function, else null.
  rt::InvokeThunk thunk(uint32_t functionIndex) const {
    return thunks_[functionIndex];
  }
  // Host functions bound to the imported functions, by function index.
  const std::vector<void *> &hostFunctions() const { return hostFunctions_; }
  // The exported function `name`, or an UnknownExport error.
  Expected<uint32_t> exportedFunction(std::string_view name) const;
  std::vector<ExportedFunction> exportedFunctions() const;
  std::string functionName(uint32_t index) const;

private:
  Module() = default;

  wasm::ModuleInfo info_;
  std::vector<void *> hostFunctions_;
  std::vector<rt::InvokeThunk> thunks_;
  std::unique_ptr<LinkedCode> code_;
};

// The host functions for a module's imports (by imported function index),
// or a LinkError naming the first import Nomos cannot provide.
Expected<std::vector<void *>> bindImports(const wasm::ModuleInfo &info);

// Maps a wasm value type to the public one (numbers only).
std::optional<ValueType> publicValueType(wasm::ValType type);

} // namespace nomos
