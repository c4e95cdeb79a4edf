// The contract between generated code and the runtime: the layout of the
// instance context every compiled function receives as its first argument,
// and the few runtime functions generated code calls. Kept tiny on purpose
// (as WAVM's runtime ABI): everything else is plain loads and stores.
#pragma once

#include <cstddef>
#include <cstdint>

namespace nomos::rt {

struct VMContext;

// One imported function: generated code calls fn(ctx, args...). For a host
// function ctx is the calling instance's own context.
struct ImportSlot {
  void *fn;
  VMContext *ctx;
};

// Values crossing the invoke thunks, one 16-byte slot each (v128-sized).
struct alignas(16) ValueSlot {
  uint64_t lo;
  uint64_t hi;
};

// Globals live in 16-byte slots too; i32 in the low 4 bytes, and so on.
using GlobalSlot = ValueSlot;

struct VMContext {
  uint8_t *memoryBase;   // start of linear memory (never moves)
  uint64_t memorySize;   // accessible bytes
  GlobalSlot *globals;   // globals[index]
  ImportSlot *imports;   // imports[function index] for imported functions
  uint32_t callDepth;    // wasm frames on the stack now
  uint32_t maxCallDepth; // deterministic limit, in wasm frames
  void *instance;        // the runtime's Instance
};

// Field indices for the compiler's LLVM struct type (same order as above).
enum VMContextField : unsigned {
  kMemoryBase = 0,
  kMemorySize,
  kGlobals,
  kImports,
  kCallDepth,
  kMaxCallDepth,
  kInstance,
};
static_assert(offsetof(VMContext, memoryBase) == 0);
static_assert(offsetof(VMContext, memorySize) == 8);
static_assert(offsetof(VMContext, globals) == 16);
static_assert(offsetof(VMContext, imports) == 24);
static_assert(offsetof(VMContext, callDepth) == 32);
static_assert(offsetof(VMContext, maxCallDepth) == 36);
static_assert(offsetof(VMContext, instance) == 40);

// Runtime functions, bound by absolute address when code is linked.
// nomos_rt_trap never returns: it unwinds to the innermost invoke.
inline constexpr const char *kTrapFunction = "nomos_rt_trap";
inline constexpr const char *kMemoryGrowFunction = "nomos_rt_memory_grow";

// Every exported function (and the start function) gets an invoke thunk:
// void thunk(VMContext *ctx, ValueSlot *argsAndResults)
// named kInvokePrefix + function index.
inline constexpr const char *kInvokePrefix = "nomos_invoke_";

using InvokeThunk = void (*)(VMContext *, ValueSlot *);

} // namespace nomos::rt
