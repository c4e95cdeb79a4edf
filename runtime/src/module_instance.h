// An instance of a module: its memories, tables, globals and function
// references, the context generated code runs with, and the machinery that
// runs guest code and turns traps into values.
#pragma once

#include "module.h"
#include "objects.h"
#include "transaction.h"

#include <nomos/compiler/runtime_abi.h>
#include <nomos/vm.h>

#include <csetjmp>
#include <optional>

namespace nomos {

// A child opened by child_new, alive until child_drop or the call's end.
struct ChildHandle {
  std::shared_ptr<const Module> module; // replaced when a call that
                                        // upgraded the child commits
  Bytes prefix;    // the child's store, inside its parent's (transaction.h)
  int64_t gas;     // gas it may still burn, over all its calls
  int64_t storage; // bytes its calls may still add, net, over all its calls
};

// What a program run by a VM can reach besides its instance: its store
// (through the call's transaction), its children, and the call's log.
struct CallContext {
  Engine &engine;
  Transaction &transaction;
  Bytes prefix;          // namespace of this program's keys (transaction.h)
  const Limits &limits;
  uint32_t childDepth;   // 0 for the VM's own program
  uint32_t callDepth;    // wasm frames below this program's entry
  std::vector<std::string> &logs;
  std::vector<std::unique_ptr<ChildHandle>> children; // by handle
  // Gas: the call's limit when it starts, what is left as it runs (updated
  // after every invoke of the program's instance, trapped or not).
  int64_t gasLeft = 0;
  // Storage: bytes (keys + values) this program may still add, net; each
  // write subtracts its net effect (a removal gives bytes back).
  int64_t storageLeft = 0;
  // The code this program upgraded itself to in this call, if any: it
  // takes effect when the call commits.
  std::shared_ptr<const Module> upgrade;
  Bytes upgradeHash; // its codeHash
  Bytes upgradeCode; // its bytes (a durable VM stores them at the commit)
  // True while this program runs the `migrate` of code it upgraded to: an
  // upgrade from migrate traps.
  bool migrating = false;
  // The log line that text written to stdout or stderr (WASI fd_write) is
  // still being added to: its index in `logs` and the fd. Text goes on in
  // it while it is the log's last line (host_functions.cpp).
  struct OpenLogLine {
    size_t index;
    int32_t fd;
  };
  std::optional<OpenLogLine> openLogLine;
};

// Whether `module` exports `migrate`; an export of that name that is not a
// function taking and returning nothing is an InvalidModule error.
Expected<bool> hasMigrate(const Module &module);
// When the call upgraded its program (call.upgrade) and the new code exports
// `migrate`, runs it once on a fresh instance of the new code, in the call's
// transaction, with what the call has left of its gas and storage (taken
// from it). An error (a trap in migrate) fails the call.
Expected<void> runMigrate(CallContext &call);

// BLAKE3 of code (32 bytes): the engine's cache key, VM::codeHistory's.
Bytes codeHash(ByteView code);

class ModuleInstance : public std::enable_shared_from_this<ModuleInstance> {
public:
  // Creates the instance with `imports` (one per import, already checked by
  // resolveImports), then writes element and data segments and runs the
  // start function. `call` is the VM call it runs in, if any.
  static Expected<std::shared_ptr<ModuleInstance>>
  instantiate(std::shared_ptr<const Module> module, std::vector<Extern> imports,
              const Limits &limits, CallContext *call = nullptr);
  ~ModuleInstance();

  Expected<std::vector<Value>> invoke(uint32_t functionIndex,
                                      std::span<const Value> args);
  // Runs the function with `args`, its results written to `results`
  // (exactly as many as it returns); allocates nothing for small signatures.
  Expected<void> call(uint32_t functionIndex, std::span<const Value> args,
                      std::span<Value> results);
  // The same for arguments and results already checked against the
  // function's signature (Function::call checks them against its copy).
  Expected<void> callChecked(uint32_t functionIndex, std::span<const Value> args,
                             std::span<Value> results);
  Extern exportOf(const wasm::Export &exp);

  const Module &module() const { return *module_; }
  CallContext &call() { return *call_; }
  rt::VMContext &context() { return context_; }
  // What the last call from the host left of its gas (the Instance API).
  int64_t gasLeftByLastCall() const { return gas_; }
  const Limits &limits() const { return limits_; }

  // Guest memory [offset, offset + length), or null when out of bounds.
  uint8_t *memoryRange(uint32_t offset, uint32_t length);

  // Runtime functions (runtime_functions.cpp) work on these.
  int32_t growMemory(uint32_t delta);
  void callHost(uint32_t importIndex, rt::ValueSlot *slots);
  TableData &table(uint32_t index) { return *tables_[index]; }
  Expected<void> initTable(uint32_t table, uint32_t segment, uint32_t dest,
                           uint32_t offset, uint32_t count);
  Expected<void> initMemory(uint32_t segment, uint32_t dest, uint32_t offset,
                            uint32_t count);
  void dropElements(uint32_t segment) { droppedElems_[segment] = true; }
  void dropData(uint32_t segment) { droppedData_[segment] = true; }

private:
  // Only instantiate constructs (through make_shared: one allocation).
  struct Key {
    explicit Key() = default;
  };

public:
  ModuleInstance(Key, std::shared_ptr<const Module> module,
                 const Limits &limits, CallContext *call)
      : module_(std::move(module)), limits_(limits), call_(call) {}

private:
  Expected<void> bindImports(std::vector<Extern> imports);
  Expected<void> createDefinitions();
  Expected<void> initializeSegments();
  uint64_t evaluate(const wasm::ConstExpr &expr) const;
  Expected<void> runThunk(uint32_t functionIndex, rt::ValueSlot *slots);
  // BadArguments unless `args` match the parameters and `resultCount` the
  // results.
  Expected<void> checkArguments(uint32_t functionIndex,
                                std::span<const Value> args,
                                size_t resultCount) const;
  void finishContext();

  std::shared_ptr<const Module> module_;
  Limits limits_;
  CallContext *call_;

  std::vector<std::shared_ptr<FunctionData>> importedFunctions_;
  std::vector<rt::ImportSlot> importSlots_;
  std::vector<std::shared_ptr<MemoryData>> memories_;
  std::vector<std::shared_ptr<GlobalData>> globals_;
  std::vector<rt::GlobalSlot *> globalPointers_;
  std::vector<std::shared_ptr<TableData>> tables_;
  std::vector<rt::Table *> tablePointers_;
  // FuncRefs this instance owns (its functions, and imports bound to host
  // functions), allocated once: pointers to them must stay valid.
  std::unique_ptr<rt::FuncRef[]> ownRefs_;
  // By import index: the context of each import bound to a wrapped host
  // function (its callable, and this instance as the FuncRef's owner).
  std::unique_ptr<rt::VMContext[]> hostContexts_;
  std::vector<rt::FuncRef *> functionRefs_; // by function index
  std::vector<bool> droppedElems_;
  std::vector<bool> droppedData_;
  rt::VMContext context_{};
  // Gas left to the last call from the host (the Instance API; a VM's
  // program uses its CallContext's, a nested call its caller's).
  int64_t gas_ = 0;
};

// Binds a module's imports with `resolve`, checking kinds and types as the
// spec's linking rules say; a LinkError names the first that fails.
Expected<std::vector<Extern>> resolveImports(const Module &module,
                                             const ImportResolver &resolve);

// Runs `exportName` of `module` on a fresh instance in a VM call.
Expected<std::vector<Value>> runProgram(std::shared_ptr<const Module> module,
                                        CallContext &call,
                                        std::string_view exportName,
                                        std::span<const Value> args);

// Traps: recorded per thread, then unwound to the innermost invoke with
// longjmp. Only unwind from a frame holding no C++ object with a destructor
// (the error is already stored).
void setTrap(Error error);
[[noreturn]] void unwindTrap();
// The same, with the backtrace walked from frame `fp` (the frame of a caller
// built without frame pointers may break the chain between).
[[noreturn]] void unwindTrapFrom(const void *fp);
[[noreturn]] void trap(nomos_trap code);
// Whether this thread is inside an invoke (guest code, or a host function
// it called). Async-signal-safe once the thread has made a call.
bool inGuestCall();
// A gas limit as the counter's value (capped at kMaxGas).
int64_t gasCounter(uint64_t limit);
Error trapError(nomos_trap code);

ModuleInstance &instanceOf(rt::VMContext *ctx);

} // namespace nomos
