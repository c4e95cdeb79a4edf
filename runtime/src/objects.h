// The runtime objects behind Extern: functions, memories, globals and
// tables that instances define, export and import. An object lives as long
// as anything refers to it (instances importing it hold it).
#pragma once

#include <nomos/compiler/runtime_abi.h>
#include <nomos/instance.h>
#include <nomos/metering/module_info.h>

#include <memory>
#include <optional>
#include <vector>

namespace nomos {

class ModuleInstance;

// Linear memory: a reservation of its maximum size whose first pages are
// accessible; it grows in place, so its base never moves.
class LinearMemory {
public:
  static Expected<LinearMemory> create(uint64_t initialPages,
                                       uint64_t maximumPages);
  LinearMemory(LinearMemory &&other) noexcept;
  LinearMemory &operator=(LinearMemory &&other) noexcept;
  ~LinearMemory();

  uint8_t *base() const { return base_; }
  uint64_t pages() const { return pages_; }
  uint64_t maximumPages() const { return maximumPages_; }
  // Old size in pages, or -1 when the maximum would be exceeded.
  int32_t grow(uint32_t deltaPages);

  static constexpr uint64_t kPageSize = 65536;

private:
  LinearMemory() = default;
  uint8_t *base_ = nullptr;
  uint64_t pages_ = 0;
  uint64_t maximumPages_ = 0;
  size_t reservedBytes_ = 0;
};

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
  // Host: called through the importer's host adapter.
  HostCallback callback;
  // Native: called directly as native(importerCtx, args...).
  void *native = nullptr;
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
    state.size = memory.pages() * LinearMemory::kPageSize;
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
