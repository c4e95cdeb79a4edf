// The contract between generated code and the runtime: the layout of the
// instance context every compiled function receives as its first argument,
// the runtime objects it points to, and the few runtime functions generated
// code calls. Kept tiny on purpose (as WAVM's runtime ABI): everything else
// is plain loads and stores. Compiled code depends only on this, never on
// how an import was bound, so one object serves every instance.
#pragma once

#include <cstddef>
#include <cstdint>

namespace nomos::rt {

struct VMContext;

// A function as a value (table element, funcref): call fn(ctx, args...).
// typeId is the engine's canonical id of the signature. ctx is the callee's
// context: its instance's, or one of a wrapped host function (VMContext).
struct FuncRef {
  void *fn;
  VMContext *ctx;
  uint32_t typeId;
};

// One imported function: generated code calls fn(ctx, args...).
struct ImportSlot {
  void *fn;
  VMContext *ctx;
};

// Values crossing the invoke thunks, one 16-byte slot each (v128-sized).
struct alignas(16) ValueSlot {
  uint64_t lo;
  uint64_t hi;
};

// A global's storage, shared by every instance that imports it.
using GlobalSlot = ValueSlot;

// How generated code keeps memory accesses inside linear memory
// (docs/sandbox.md). Chosen per engine; a module compiled for guard pages
// runs only with guard-page memories.
enum class MemoryStrategy : uint8_t {
  // No check in code: a memory is a slot of 4 GiB plus kGuardBytes of
  // address space that never moves, inaccessible past its size; the
  // runtime's signal handler turns a fault there into a trap.
  GuardPages,
  // Every access is compared with the current size; a memory may move when
  // it grows, so code reloads its base after calls and memory.grow.
  ExplicitChecks,
};
// Guard pages: every i32 address plus a static offset up to this (minus the
// access width) lands inside the slot; larger offsets are checked in code.
inline constexpr uint64_t kGuardBytes = uint64_t(2) << 30;
inline constexpr uint64_t kGuardSlotBytes = (uint64_t(4) << 30) + kGuardBytes;

// A linear memory, shared by every instance that imports it. With guard
// pages `base` never moves; with explicit checks it may as memory grows.
struct Memory {
  uint8_t *base;
  uint64_t size; // accessible bytes
};

// A table: elements are FuncRef* (funcref) or host values (externref);
// null is 0. Grown by the runtime, so `elements` may move.
struct Table {
  uint64_t *elements;
  uint32_t size;
  uint32_t maximum;
};

struct VMContext {
  union {
    uint8_t *memoryBase; // memory->base, cached for guard pages (it never moves)
    // In the context of a wrapped host function (Extern::wrap), which exists
    // for the caller's stores of callDepth, stackLimit and gas: the
    // callable, which the thunk in nomos/wrapped_function.h reads here.
    void *hostCallable;
  };
  Memory *memory;        // memory 0, or null
  GlobalSlot **globals;  // by global index (imported ones point elsewhere)
  ImportSlot *imports;   // by imported function index
  Table **tables;        // by table index
  const uint32_t *typeIds; // canonical id by the module's type index
  FuncRef **functions;   // by function index, for ref.func
  uint32_t callDepth;    // wasm frames on the stack now
  uint32_t maxCallDepth; // deterministic limit, in wasm frames
  void *instance;        // the runtime's ModuleInstance
  // The gas left to the call running this context (metering,
  // docs/metering.md): one counter per call from the host, shared by every
  // instance the call reaches, so a caller passes its pointer on with each
  // call into another context. Generated code keeps the value in a local
  // inside a function and stores it here before calls, host calls, returns
  // and traps; it reloads it after calls.
  int64_t *gas;
  // Lowest native stack address guest code may use before it traps with
  // StackExhausted: a safety net under the deterministic callDepth limit,
  // for frames so large that the native stack runs out first.
  uintptr_t stackLimit;
};

// Field indices for the compiler's LLVM struct type (same order as above).
enum VMContextField : unsigned {
  kMemoryBase = 0,
  kMemory,
  kGlobals,
  kImports,
  kTables,
  kTypeIds,
  kFunctions,
  kCallDepth,
  kMaxCallDepth,
  kInstance,
  kGas,
  kStackLimit,
};
static_assert(offsetof(VMContext, memory) == 8);
static_assert(offsetof(VMContext, tables) == 32);
static_assert(offsetof(VMContext, functions) == 48);
static_assert(offsetof(VMContext, callDepth) == 56);
static_assert(offsetof(VMContext, instance) == 64);
static_assert(offsetof(VMContext, gas) == 72);
static_assert(offsetof(VMContext, stackLimit) == 80);

// Runtime functions, bound by absolute address when code is linked.
// nomos_rt_trap never returns: it unwinds to the innermost invoke.
inline constexpr const char *kTrapFunction = "nomos_rt_trap";
inline constexpr const char *kMemoryGrowFunction = "nomos_rt_memory_grow";
// i32 nomos_rt_host_call(ctx, i32 importIndex, ValueSlot *argsAndResults):
// calls an imported host function that has no native entry point.
inline constexpr const char *kHostCallFunction = "nomos_rt_host_call";
// Table and segment operations (argument order as in the wasm instruction).
inline constexpr const char *kTableGetFunction = "nomos_rt_table_get";
inline constexpr const char *kTableSetFunction = "nomos_rt_table_set";
inline constexpr const char *kTableGrowFunction = "nomos_rt_table_grow";
inline constexpr const char *kTableFillFunction = "nomos_rt_table_fill";
inline constexpr const char *kTableCopyFunction = "nomos_rt_table_copy";
inline constexpr const char *kTableInitFunction = "nomos_rt_table_init";
inline constexpr const char *kElemDropFunction = "nomos_rt_elem_drop";
inline constexpr const char *kMemoryInitFunction = "nomos_rt_memory_init";
inline constexpr const char *kDataDropFunction = "nomos_rt_data_drop";

// Symbols each compiled object defines:
// - per exported (or start) function an invoke thunk
//   void thunk(VMContext *ctx, ValueSlot *argsAndResults),
//   named kInvokePrefix + function index;
// - kFunctionTable: the native entry of every defined function, by function
//   index (null for imports), to build FuncRefs;
// - kHostAdapterTable: for every imported function, an entry with its native
//   signature that forwards to nomos_rt_host_call, for imports bound to host
//   callbacks (imports bound to wasm functions are called directly).
inline constexpr const char *kInvokePrefix = "nomos_invoke_";
inline constexpr const char *kFunctionTable = "nomos_functions";
inline constexpr const char *kHostAdapterTable = "nomos_host_adapters";
// Host adapters' symbols (internal; named for backtraces, backtrace.cpp).
inline constexpr const char *kHostAdapterPrefix = "nomos_host_adapter_";

using InvokeThunk = void (*)(VMContext *, ValueSlot *);

} // namespace nomos::rt
