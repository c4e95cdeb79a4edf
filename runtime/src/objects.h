// The runtime objects behind Extern: functions, memories, globals and
// tables that instances define, export and import. An object lives as long
// as anything refers to it (instances importing it hold it).
#pragma once

#include "linear_memory.h"

#include <nomos/compiler/runtime_abi.h>
#include <nomos/instance.h>
#include <nomos/metering/module_info.h>

#include <memory>
#include <optional>
#include <vector>

namespace nomos {

class ModuleInstance;

struct ExternData {
  explicit ExternData(ExternKind kind) : kind(kind) {}
  virtual ~ExternData() = default;
  const ExternKind kind;
};

// A function: a wasm function of an instance, a host callback, or one of the
// runtime's own host functions (the nomos ABI) with a native entry point.
struct FunctionData final : ExternData {
  FunctionData() : ExternData(ExternKind::Function) {}
  wasm::FuncType type;
  // Wasm: the owner's FuncRef (the owner stays alive through `owner`).
  std::shared_ptr<ModuleInstance> owner;
  rt::FuncRef *ref = nullptr;
  // Host: called through the importer's host adapter (resultsCallback when
  // set, else callback).
  HostCallback callback;
  HostResultsCallback resultsCallback;
  // Native: called directly as native(ctx, args...), where ctx is the
  // importer's VMContext (the guest ABI) or, when nativeEnv is set
  // (Extern::wrap), a VMContext of the importer's whose first word is it.
  void *native = nullptr;
  std::shared_ptr<void> nativeEnv;
};

struct MemoryData final : ExternData {
  explicit MemoryData(LinearMemory memory)
      : ExternData(ExternKind::Memory), memory(std::move(memory)) {
    state = {this->memory.base(), this->memory.pages() * LinearMemory::kPageSize};
  }
  wasm::Limits limits() const {
    return {memory.pages(), memory.maximumPages()};
  }
  int32_t grow(uint32_t deltaPages) {
    int32_t old = memory.grow(deltaPages);
    state = {memory.base(), memory.pages() * LinearMemory::kPageSize};
    return old;
  }
  LinearMemory memory;
  rt::Memory state; // what generated code reads
  std::optional<uint64_t> declaredMaximum;
};

struct GlobalData final : ExternData {
  GlobalData() : ExternData(ExternKind::Global) {}
  wasm::GlobalType type;
  rt::GlobalSlot slot{};
};

struct TableData final : ExternData {
  TableData() : ExternData(ExternKind::Table) {}
  wasm::TableType type;
  std::vector<uint64_t> elements;
  rt::Table state{}; // what generated code reads
  // The instance that defined the table (null when the host made it), and
  // the other instances whose functions are stored here, kept alive so that
  // their FuncRefs stay valid. (The creator's own are not: no cycle.)
  ModuleInstance *creator = nullptr;
  std::vector<std::shared_ptr<ModuleInstance>> referenced;

  void sync() {
    state.elements = elements.data();
    state.size = static_cast<uint32_t>(elements.size());
  }
  // Old size, or -1 past the maximum.
  int32_t grow(uint32_t delta, uint64_t init);
};

// Keeps the instance owning `ref` (a FuncRef* or 0) alive as long as
// `table` may hold it.
void keepReferenced(TableData &table, uint64_t ref);

} // namespace nomos
