// An instance: a module's memory, globals and context for one call, and
// the machinery that runs guest code and turns traps into values.
#pragma once

#include "module.h"
#include "transaction.h"

#include <nomos/compiler/runtime_abi.h>
#include <nomos/vm.h>

#include <csetjmp>
#include <optional>

namespace nomos {

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
  uint64_t sizeBytes() const { return pages_ * kPageSize; }
  uint64_t pages() const { return pages_; }
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

// A child opened by child_new, alive until child_drop or the call's end.
struct ChildHandle {
  std::shared_ptr<const Module> module;
  Bytes prefix; // the child's store, inside its parent's (transaction.h)
  int64_t gas;     // recorded; enforced once metering lands
  int64_t storage; // recorded; enforced with storage accounting
};

// What a running program can reach besides its instance: its store (through
// the call's transaction), its children, and the call's log.
struct CallContext {
  Engine &engine;
  Transaction &transaction;
  Bytes prefix;          // namespace of this program's keys (transaction.h)
  const Limits &limits;
  uint32_t childDepth;   // 0 for the VM's own program
  uint32_t callDepth;    // wasm frames below this program's entry
  std::vector<std::string> &logs;
  std::vector<std::unique_ptr<ChildHandle>> children; // by handle
};

class Instance {
public:
  // Memory from the data segments, globals from their initializers.
  static Expected<std::unique_ptr<Instance>>
  create(std::shared_ptr<const Module> module, CallContext &call);

  // Runs the start function, if any.
  Expected<void> start();
  Expected<std::vector<Value>> invoke(uint32_t functionIndex,
                                      std::span<const Value> args);

  const Module &module() const { return *module_; }
  CallContext &call() { return call_; }
  rt::VMContext &context() { return context_; }

  // Guest memory [offset, offset + length), or null when out of bounds.
  uint8_t *memoryRange(uint32_t offset, uint32_t length);

  // Trapping is two steps: record the error, then unwind to the innermost
  // invoke with longjmp. Unwind only from a frame holding no C++ object
  // with a destructor (the error is already stored in the instance).
  void setTrap(Error error) { pendingTrap_ = std::move(error); }
  [[noreturn]] void unwind() { longjmp(*trapTarget_, 1); }
  [[noreturn]] void trap(nomos_trap code);
  int32_t growMemory(uint32_t delta);

private:
  Instance(std::shared_ptr<const Module> module, CallContext &call)
      : module_(std::move(module)), call_(call) {}
  Expected<void> initialize();
  Expected<void> runThunk(uint32_t functionIndex, rt::ValueSlot *slots);

  std::shared_ptr<const Module> module_;
  CallContext &call_;
  std::optional<LinearMemory> memory_;
  std::vector<rt::GlobalSlot> globals_;
  std::vector<rt::ImportSlot> imports_;
  rt::VMContext context_{};
  // Set while guest code runs: where a trap unwinds to.
  jmp_buf *trapTarget_ = nullptr;
  std::optional<Error> pendingTrap_;
};

// Runs `exportName` of `module` on a fresh instance in `call`.
Expected<std::vector<Value>> runProgram(std::shared_ptr<const Module> module,
                                        CallContext &call,
                                        std::string_view exportName,
                                        std::span<const Value> args);

Error trapError(nomos_trap code);

} // namespace nomos

// The runtime functions generated code calls (runtime_abi.h).
extern "C" {
[[noreturn]] void nomos_rt_trap(nomos::rt::VMContext *ctx, int32_t code);
int32_t nomos_rt_memory_grow(nomos::rt::VMContext *ctx, int32_t delta);
}
