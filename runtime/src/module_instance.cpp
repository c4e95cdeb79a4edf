#include "module_instance.h"

#include "backtrace.h"
#include "host_functions.h"
#include "small_buffer.h"

#include <pthread.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstring>

namespace nomos {

// Tables never grow past this many elements, whatever their declared
// maximum: it bounds the host memory a guest can take (8 bytes each).
static constexpr uint64_t kMaxTableElements = 10'000'000;

int32_t TableData::grow(uint32_t delta, uint64_t init) {
  uint64_t old = elements.size();
  uint64_t maximum = std::min<uint64_t>(
      type.limits.max.value_or(UINT32_MAX), kMaxTableElements);
  if (old + delta > maximum)
    return -1;
  elements.resize(old + delta, init);
  sync();
  return static_cast<int32_t>(old);
}

// ---- traps -----------------------------------------------------------------

namespace {
// Where a trap unwinds to on this thread, and the trap being raised.
struct TrapState {
  jmp_buf *target = nullptr;
  std::optional<Error> pending;
  int64_t *gas = nullptr;   // the innermost invoke's gas counter
  uintptr_t stackLimit = 0; // threadStackLimit(), once computed
};
// Built with -ftls-model=initial-exec (runtime/CMakeLists.txt): one
// %fs-relative access instead of a call to __tls_get_addr per access (a
// tenth of an empty call's time), and async-signal-safe from the start. It
// takes ~100 bytes of the static TLS glibc keeps for libraries loaded with
// dlopen.
thread_local TrapState trapState;
} // namespace

Error trapError(nomos_trap code) {
  auto kind = static_cast<ErrorKind>(code);
  switch (code) {
  case NOMOS_TRAP_UNREACHABLE: return {kind, "unreachable executed", {}};
  case NOMOS_TRAP_MEMORY_OUT_OF_BOUNDS: return {kind, "out of bounds memory access", {}};
  case NOMOS_TRAP_TABLE_OUT_OF_BOUNDS: return {kind, "out of bounds table access", {}};
  case NOMOS_TRAP_INDIRECT_CALL_NULL: return {kind, "uninitialized element", {}};
  case NOMOS_TRAP_INDIRECT_CALL_TYPE: return {kind, "indirect call type mismatch", {}};
  case NOMOS_TRAP_INTEGER_DIVIDE_BY_ZERO: return {kind, "integer divide by zero", {}};
  case NOMOS_TRAP_INTEGER_OVERFLOW: return {kind, "integer overflow", {}};
  case NOMOS_TRAP_INVALID_CONVERSION: return {kind, "invalid conversion to integer", {}};
  case NOMOS_TRAP_STACK_EXHAUSTED: return {kind, "call stack exhausted", {}};
  case NOMOS_TRAP_OUT_OF_GAS: return {kind, "out of gas", {}};
  default: return {kind, std::string(errorKindName(kind)), {}};
  }
}

void setTrap(Error error) { trapState.pending = std::move(error); }

bool inGuestCall() { return trapState.target != nullptr; }

int64_t gasCounter(uint64_t limit) {
  return static_cast<int64_t>(std::min(limit, kMaxGas));
}

// Adds the wasm frames between frame `fp` and the invoke that catches the
// trap to its backtrace (after those of a trap it passes on, which are
// further in).
[[gnu::noinline]] static void addBacktrace(const void *fp) {
  if (!trapState.pending)
    return;
  std::vector<Frame> frames = walkBacktrace(fp, trapState.target);
  std::vector<Frame> &backtrace = trapState.pending->backtrace;
  backtrace.insert(backtrace.end(), std::make_move_iterator(frames.begin()),
                   std::make_move_iterator(frames.end()));
}

void unwindTrapFrom(const void *fp) {
  if (!trapState.target)
    __builtin_trap(); // a runtime bug: traps only happen inside invoke
  addBacktrace(fp);
  longjmp(*trapState.target, 1);
}

void unwindTrap() { unwindTrapFrom(__builtin_frame_address(0)); }

void trap(nomos_trap code) {
  setTrap(trapError(code));
  unwindTrap();
}

// The lowest stack address guest code on this thread may use: the thread's
// stack bottom plus a margin that host functions (a child's compilation
// included) run in. Frames are checked against it on entry.
static uintptr_t threadStackLimit() {
  constexpr size_t kMargin = 1 << 20;
  uintptr_t here = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
  pthread_attr_t attr;
  void *bottom = nullptr;
  size_t size = 0;
  bool known = pthread_getattr_np(pthread_self(), &attr) == 0;
  if (known) {
    known = pthread_attr_getstack(&attr, &bottom, &size) == 0;
    pthread_attr_destroy(&attr);
  }
  // Unknown or unlimited (ulimit -s unlimited): assume 4 MiB below here.
  if (!known || size > (size_t(1) << 30) || size < 2 * kMargin)
    return here - (size_t(4) << 20) + kMargin;
  return reinterpret_cast<uintptr_t>(bottom) + kMargin;
}

ModuleInstance &instanceOf(rt::VMContext *ctx) {
  return *static_cast<ModuleInstance *>(ctx->instance);
}

// Runs a thunk with a landing point for traps. Nothing in this frame has a
// destructor, so unwinding to it with longjmp skips none. The thread's state
// is reached once.
Expected<void> ModuleInstance::runThunk(uint32_t functionIndex,
                                        rt::ValueSlot *slots) {
  TrapState &traps = trapState; // one thread-local lookup per call
  rt::InvokeThunk thunk = module_->thunk(functionIndex);
  jmp_buf landing;
  // Read after longjmp: volatile, so they are not kept in registers
  // that setjmp/longjmp do not preserve.
  jmp_buf *volatile outer = traps.target;
  int64_t *volatile outerGas = traps.gas;
  // A call from the host starts from this instance's base depth; a nested
  // one (a host function calling back in) continues the count.
  if (!outer) {
    context_.callDepth = call_ ? call_->callDepth : 0;
    // The Instance API: each call from the host gets the limit's gas.
    if (!call_)
      gas_ = gasCounter(limits_.gas);
  }
  // Whose gas: a VM program's call's (a child's is its own); else, nested,
  // the enclosing invoke's, wherever the host function that called back in
  // was reached from; else this instance's. Every context the call reaches
  // gets the pointer from its caller (passCallState in the compiler).
  int64_t *volatile gas = call_ ? &call_->gasLeft : outer ? outerGas : &gas_;
  context_.gas = gas;
  traps.gas = gas;
  volatile uint32_t depth = context_.callDepth;
  if (!traps.stackLimit)
    traps.stackLimit = threadStackLimit();
  context_.stackLimit = traps.stackLimit;
  traps.target = &landing;
  if (setjmp(landing) == 0) {
    thunk(&context_, slots);
    traps.target = outer;
    traps.gas = outerGas;
    // Generated code leaves the depth it last stored (a function's frames
    // pass theirs in registers and never restore it).
    context_.callDepth = depth;
    return {};
  }
  traps.target = outer;
  traps.gas = outerGas;
  context_.callDepth = depth;
  Error error = std::move(*traps.pending);
  traps.pending.reset();
  // Gas is exact after a trap (docs/metering.md): generated code stored its
  // counter before trapping. Out of gas uses it all, and so does a memory
  // access out of bounds: with guard pages the fault comes where the counter
  // is in a register, and gas must not depend on the memory strategy.
  if (error.kind == ErrorKind::OutOfGas ||
      error.kind == ErrorKind::MemoryOutOfBounds || *gas < 0)
    *gas = 0;
  return tl::unexpected(std::move(error));
}

// ---- linking ---------------------------------------------------------------

namespace {

std::string describe(const wasm::Import &import) {
  return "import \"" + import.module + "\" \"" + import.name + "\"";
}

const char *kindName(ExternKind kind) {
  switch (kind) {
  case ExternKind::Function: return "a function";
  case ExternKind::Table: return "a table";
  case ExternKind::Memory: return "a memory";
  case ExternKind::Global: return "a global";
  }
  return "?";
}

ExternKind externKind(wasm::ExternKind kind) {
  switch (kind) {
  case wasm::ExternKind::Func: return ExternKind::Function;
  case wasm::ExternKind::Table: return ExternKind::Table;
  case wasm::ExternKind::Memory: return ExternKind::Memory;
  case wasm::ExternKind::Global: return ExternKind::Global;
  }
  return ExternKind::Function;
}

// The spec's limits subtyping: at least as large, at most as large a maximum.
bool limitsMatch(const wasm::Limits &actual, const wasm::Limits &expected) {
  if (actual.min < expected.min)
    return false;
  if (!expected.max)
    return true;
  return actual.max && *actual.max <= *expected.max;
}

Expected<void> checkImport(const Module &module, const wasm::Import &import,
                           const Extern &value) {
  const wasm::ModuleInfo &info = module.info();
  ExternKind expected = externKind(import.kind);
  if (value.kind() != expected)
    return makeError(ErrorKind::LinkError,
                     describe(import) + ": incompatible import type: expected " +
                         kindName(expected) + ", got " + kindName(value.kind()));
  auto mismatch = [&](const std::string &what) {
    return makeError(ErrorKind::LinkError,
                     describe(import) + ": incompatible import type: " + what);
  };
  const ExternData &data = *value.data();
  switch (import.kind) {
  case wasm::ExternKind::Func:
    if (static_cast<const FunctionData &>(data).type !=
        info.types[import.typeIndex])
      return mismatch("function signatures differ");
    return {};
  case wasm::ExternKind::Global: {
    const auto &global = static_cast<const GlobalData &>(data);
    if (global.type.type != import.global.type ||
        global.type.isMutable != import.global.isMutable)
      return mismatch("global types differ");
    return {};
  }
  case wasm::ExternKind::Memory: {
    const auto &memory = static_cast<const MemoryData &>(data);
    wasm::Limits actual{memory.memory.pages(), memory.declaredMaximum};
    if (!limitsMatch(actual, import.memory))
      return mismatch("memory limits do not match");
    // Code without bounds checks needs a memory with guard pages.
    if (module.memoryStrategy() == rt::MemoryStrategy::GuardPages &&
        memory.memory.strategy() != rt::MemoryStrategy::GuardPages)
      return mismatch("the module is compiled for guard pages and the memory "
                      "is not (make it with MemoryStrategy::GuardPages)");
    return {};
  }
  case wasm::ExternKind::Table: {
    const auto &table = static_cast<const TableData &>(data);
    wasm::Limits actual{table.elements.size(), table.type.limits.max};
    if (table.type.elemType != import.table.elemType ||
        !limitsMatch(actual, import.table.limits))
      return mismatch("table types do not match");
    return {};
  }
  }
  return {};
}

} // namespace

Expected<std::vector<Extern>> resolveImports(const Module &module,
                                             const ImportResolver &resolve) {
  std::vector<Extern> externs;
  for (const wasm::Import &import : module.info().imports) {
    std::optional<Extern> value =
        resolve ? resolve(import.module, import.name) : std::nullopt;
    if (!value)
      return makeError(ErrorKind::LinkError, describe(import) +
                                                 ": unknown import (nothing "
                                                 "provides it)");
    if (auto ok = checkImport(module, import, *value); !ok)
      return tl::unexpected(ok.error());
    externs.push_back(std::move(*value));
  }
  return externs;
}

// ---- instantiation ---------------------------------------------------------

ModuleInstance::~ModuleInstance() = default;

Expected<std::shared_ptr<ModuleInstance>>
ModuleInstance::instantiate(std::shared_ptr<const Module> module,
                            std::vector<Extern> imports, const Limits &limits,
                            CallContext *call) {
  auto instance =
      std::make_shared<ModuleInstance>(Key{}, std::move(module), limits, call);
  if (auto ok = instance->bindImports(std::move(imports)); !ok)
    return tl::unexpected(ok.error());
  if (auto ok = instance->createDefinitions(); !ok)
    return tl::unexpected(ok.error());
  instance->finishContext();
  if (auto ok = instance->initializeSegments(); !ok)
    return tl::unexpected(ok.error());
  if (const auto &start = instance->module_->info().start) {
    rt::ValueSlot slot{};
    if (auto ok = instance->runThunk(*start, &slot); !ok)
      return tl::unexpected(ok.error());
  }
  return instance;
}

Expected<void> ModuleInstance::bindImports(std::vector<Extern> imports) {
  const wasm::ModuleInfo &info = module_->info();
  size_t defined = info.functions.size() - info.importedFunctions;
  // Own FuncRefs: one per defined function, one per import that is not a
  // wasm function (its entry is an adapter or native host code).
  ownRefs_ = std::make_unique<rt::FuncRef[]>(info.functions.size());
  // Only an instance importing wrapped host functions needs their contexts
  // (VM::call makes an instance per call: no allocation for the others).
  bool anyWrapped = std::any_of(imports.begin(), imports.end(), [](const Extern &e) {
    return e.kind() == ExternKind::Function &&
           static_cast<const FunctionData &>(*e.data()).nativeEnv;
  });
  if (anyWrapped)
    hostContexts_ = std::make_unique<rt::VMContext[]>(imports.size());
  functionRefs_.assign(info.functions.size(), nullptr);
  size_t own = 0;
  for (size_t i = 0; i < imports.size(); ++i) {
    const wasm::Import &import = info.imports[i];
    const auto &data = imports[i].data();
    switch (import.kind) {
    case wasm::ExternKind::Func: {
      auto fn = std::static_pointer_cast<FunctionData>(data);
      uint32_t index = static_cast<uint32_t>(importedFunctions_.size());
      uint32_t typeId = module_->typeId(import.typeIndex);
      rt::FuncRef *ref = fn->ref;
      if (!ref) {
        void *entry = fn->native ? fn->native : module_->hostAdapter(index);
        rt::VMContext *ctx = &context_;
        if (fn->nativeEnv) {
          ctx = &hostContexts_[i];
          ctx->hostCallable = fn->nativeEnv.get();
          ctx->instance = this; // owns the FuncRef (keepReferenced)
        }
        ref = &ownRefs_[own++];
        *ref = {entry, ctx, typeId};
      }
      importSlots_.push_back({ref->fn, ref->ctx});
      functionRefs_[index] = ref;
      importedFunctions_.push_back(std::move(fn));
      break;
    }
    case wasm::ExternKind::Memory:
      memories_.push_back(std::static_pointer_cast<MemoryData>(data));
      break;
    case wasm::ExternKind::Global: {
      auto global = std::static_pointer_cast<GlobalData>(data);
      globalPointers_.push_back(&global->slot);
      globals_.push_back(std::move(global));
      break;
    }
    case wasm::ExternKind::Table: {
      auto table = std::static_pointer_cast<TableData>(data);
      tablePointers_.push_back(&table->state);
      tables_.push_back(std::move(table));
      break;
    }
    }
  }
  for (size_t i = 0; i < defined; ++i) {
    uint32_t index = info.importedFunctions + static_cast<uint32_t>(i);
    rt::FuncRef *ref = &ownRefs_[own++];
    *ref = {module_->function(index), &context_,
            module_->typeId(info.functions[index])};
    functionRefs_[index] = ref;
  }
  return {};
}

uint64_t ModuleInstance::evaluate(const wasm::ConstExpr &expr) const {
  using Op = wasm::ConstExpr::Op;
  switch (expr.op) {
  case Op::GlobalGet: return globalPointers_[expr.index]->lo;
  case Op::RefNull: return 0;
  case Op::RefFunc:
    return reinterpret_cast<uint64_t>(functionRefs_[expr.index]);
  default: return expr.bits[0];
  }
}

Expected<void> ModuleInstance::createDefinitions() {
  const wasm::ModuleInfo &info = module_->info();
  for (size_t i = info.importedMemories; i < info.memories.size(); ++i) {
    const wasm::Limits &declared = info.memories[i];
    uint64_t maximum = std::min<uint64_t>(declared.max.value_or(65536),
                                          limits_.memoryPages);
    if (declared.min > maximum)
      return makeError(ErrorKind::MemoryLimit,
                       "the module needs " + std::to_string(declared.min) +
                           " pages of memory; the limit is " +
                           std::to_string(maximum));
    auto memory =
        LinearMemory::create(declared.min, maximum, module_->memoryStrategy());
    if (!memory)
      return tl::unexpected(memory.error());
    auto data = std::make_shared<MemoryData>(std::move(*memory));
    data->declaredMaximum = declared.max;
    memories_.push_back(std::move(data));
  }
  for (size_t i = info.importedTables; i < info.tables.size(); ++i) {
    auto table = std::make_shared<TableData>();
    table->type = info.tables[i];
    table->creator = this;
    if (table->grow(static_cast<uint32_t>(info.tables[i].limits.min), 0) < 0)
      return makeError(ErrorKind::ResourceError,
                       "a table of " + std::to_string(info.tables[i].limits.min) +
                           " elements is larger than Nomos allows");
    tablePointers_.push_back(&table->state);
    tables_.push_back(std::move(table));
  }
  // Defined globals may read imported globals and refer to functions.
  for (const wasm::Global &defined : info.definedGlobals) {
    auto global = std::make_shared<GlobalData>();
    global->type = defined.type;
    global->slot = {evaluate(defined.init), defined.init.bits[1]};
    globalPointers_.push_back(&global->slot);
    globals_.push_back(std::move(global));
  }
  droppedElems_.assign(info.elems.size(), false);
  droppedData_.assign(info.datas.size(), false);
  return {};
}

void ModuleInstance::finishContext() {
  if (!memories_.empty()) {
    context_.memory = &memories_[0]->state;
    context_.memoryBase = memories_[0]->state.base;
  }
  context_.globals = globalPointers_.data();
  context_.imports = importSlots_.data();
  context_.tables = tablePointers_.data();
  context_.typeIds = module_->typeIds().data();
  context_.functions = functionRefs_.data();
  context_.callDepth = call_ ? call_->callDepth : 0;
  context_.maxCallDepth = limits_.callDepth;
  context_.instance = this;
  gas_ = gasCounter(limits_.gas); // context_.gas: set by every runThunk
}

// Active segments are written in order, elements first; the first that does
// not fit traps, and what was written before it stays (WebAssembly 2.0).
// Active and declarative segments are dropped once instantiation is done.
Expected<void> ModuleInstance::initializeSegments() {
  const wasm::ModuleInfo &info = module_->info();
  for (uint32_t i = 0; i < info.elems.size(); ++i) {
    const wasm::ElemSegment &segment = info.elems[i];
    if (segment.mode == wasm::ElemSegment::Mode::Active) {
      uint32_t offset = static_cast<uint32_t>(evaluate(segment.offset));
      auto ok = initTable(segment.table, i, offset, 0,
                          static_cast<uint32_t>(segment.items.size()));
      if (!ok)
        return ok;
    }
    if (segment.mode != wasm::ElemSegment::Mode::Passive)
      droppedElems_[i] = true;
  }
  for (uint32_t i = 0; i < info.datas.size(); ++i) {
    const wasm::DataSegment &segment = info.datas[i];
    if (segment.mode != wasm::DataSegment::Mode::Active)
      continue;
    uint32_t offset = static_cast<uint32_t>(evaluate(segment.offset));
    auto ok = initMemory(i, offset, 0, static_cast<uint32_t>(segment.bytes.size()));
    if (!ok)
      return ok;
    droppedData_[i] = true;
  }
  return {};
}

Expected<void> ModuleInstance::initTable(uint32_t tableIndex, uint32_t segment,
                                         uint32_t dest, uint32_t offset,
                                         uint32_t count) {
  const wasm::ElemSegment &elems = module_->info().elems[segment];
  uint64_t available = droppedElems_[segment] ? 0 : elems.items.size();
  TableData &target = *tables_[tableIndex];
  if (uint64_t(offset) + count > available ||
      uint64_t(dest) + count > target.elements.size())
    return tl::unexpected(trapError(NOMOS_TRAP_TABLE_OUT_OF_BOUNDS));
  for (uint32_t i = 0; i < count; ++i) {
    uint64_t ref = evaluate(elems.items[offset + i]);
    target.elements[dest + i] = ref;
    keepReferenced(target, ref);
  }
  return {};
}

Expected<void> ModuleInstance::initMemory(uint32_t segment, uint32_t dest,
                                          uint32_t offset, uint32_t count) {
  const wasm::DataSegment &data = module_->info().datas[segment];
  uint64_t available = droppedData_[segment] ? 0 : data.bytes.size();
  uint64_t size = memories_.empty() ? 0 : memories_[0]->state.size;
  if (uint64_t(offset) + count > available || uint64_t(dest) + count > size)
    return tl::unexpected(trapError(NOMOS_TRAP_MEMORY_OUT_OF_BOUNDS));
  if (count)
    std::memcpy(memories_[0]->state.base + dest, data.bytes.data() + offset,
                count);
  return {};
}

void keepReferenced(TableData &table, uint64_t ref) {
  if (ref == 0 || table.type.elemType != wasm::ValType::FuncRef)
    return;
  auto *funcRef = reinterpret_cast<rt::FuncRef *>(ref);
  ModuleInstance *owner = &instanceOf(funcRef->ctx);
  if (owner == table.creator)
    return;
  for (const auto &kept : table.referenced)
    if (kept.get() == owner)
      return;
  table.referenced.push_back(owner->shared_from_this());
}

// ---- calls -----------------------------------------------------------------


static Value fromSlot(wasm::ValType type, const rt::ValueSlot &slot) {
  ValueType t = publicValueType(type);
  uint64_t bits = slot.lo;
  if (t == ValueType::I32 || t == ValueType::F32)
    bits = uint32_t(bits);
  return {t, bits, t == ValueType::V128 ? slot.hi : 0};
}

Expected<void> ModuleInstance::checkArguments(uint32_t functionIndex,
                                              std::span<const Value> args,
                                              size_t resultCount) const {
  const wasm::FuncType &type = module_->info().funcType(functionIndex);
  auto mismatch = [&](const std::string &what) {
    return makeError(ErrorKind::BadArguments,
                     module_->functionName(functionIndex) + what);
  };
  if (args.size() != type.params.size())
    return mismatch(" takes " + std::to_string(type.params.size()) +
                    " argument(s), " + std::to_string(args.size()) + " given");
  for (size_t i = 0; i < args.size(); ++i)
    if (publicValueType(type.params[i]) != args[i].type)
      return mismatch(": argument " + std::to_string(i + 1) + " must be " +
                      wasm::valTypeName(type.params[i]) + ", not " +
                      std::string(valueTypeName(args[i].type)));
  if (resultCount != type.results.size())
    return mismatch(" returns " + std::to_string(type.results.size()) +
                    " result(s); room for " + std::to_string(resultCount) +
                    " given");
  return {};
}

Expected<void> ModuleInstance::call(uint32_t functionIndex,
                                    std::span<const Value> args,
                                    std::span<Value> results) {
  if (auto ok = checkArguments(functionIndex, args, results.size()); !ok)
    return ok;
  return callChecked(functionIndex, args, results);
}

Expected<void> ModuleInstance::callChecked(uint32_t functionIndex,
                                           std::span<const Value> args,
                                           std::span<Value> results) {
  const wasm::FuncType &type = module_->info().funcType(functionIndex);
  SmallBuffer<rt::ValueSlot> buffer(
      std::max<size_t>({args.size(), results.size(), 1}));
  rt::ValueSlot *slots = buffer.data();
  for (size_t i = 0; i < args.size(); ++i)
    slots[i] = {args[i].bits, args[i].hi};
  if (auto ran = runThunk(functionIndex, slots); !ran)
    return ran;
  for (size_t i = 0; i < results.size(); ++i)
    results[i] = fromSlot(type.results[i], slots[i]);
  return {};
}

Expected<std::vector<Value>>
ModuleInstance::invoke(uint32_t functionIndex, std::span<const Value> args) {
  std::vector<Value> results(
      module_->info().funcType(functionIndex).results.size());
  if (auto ok = call(functionIndex, args, results); !ok)
    return tl::unexpected(std::move(ok.error()));
  return results;
}

// Runs a host function's callback on the arguments in `slots` and writes
// its results back (the allocation-free callback form allocates nothing).
static Expected<void> runCallback(const FunctionData &fn, rt::ValueSlot *slots) {
  size_t paramCount = fn.type.params.size();
  size_t resultCount = fn.type.results.size();
  SmallBuffer<Value> buffer(paramCount + resultCount);
  Value *values = buffer.data();
  for (size_t i = 0; i < paramCount; ++i)
    values[i] = fromSlot(fn.type.params[i], slots[i]);
  std::span<const Value> args(values, paramCount);
  std::span<Value> results(values + paramCount, resultCount);
  if (fn.resultsCallback) {
    for (size_t i = 0; i < resultCount; ++i)
      results[i] = Value{publicValueType(fn.type.results[i]), 0, 0};
    if (auto ok = fn.resultsCallback(args, results); !ok)
      return ok;
    for (size_t i = 0; i < resultCount; ++i)
      if (results[i].type != publicValueType(fn.type.results[i]))
        return makeError(ErrorKind::HostError,
                         "host function returned a value of the wrong type");
  } else {
    Expected<std::vector<Value>> returned = fn.callback(args);
    if (!returned)
      return tl::unexpected(std::move(returned.error()));
    if (returned->size() != resultCount)
      return makeError(ErrorKind::HostError,
                       "host function returned the wrong number of values");
    std::copy(returned->begin(), returned->end(), results.begin());
  }
  for (size_t i = 0; i < resultCount; ++i)
    slots[i] = {results[i].bits, results[i].hi};
  return {};
}

// Called from generated code through a host adapter: runs the callback with
// the arguments in `slots`, writes its results back, or traps.
void ModuleInstance::callHost(uint32_t importIndex, rt::ValueSlot *slots) {
  bool trapped = false;
  {
    Expected<void> done;
    try {
      done = runCallback(*importedFunctions_[importIndex], slots);
    } catch (const std::exception &e) {
      done = makeError(ErrorKind::HostError,
                       std::string("host function threw: ") + e.what());
    }
    if (!done) {
      Error error = std::move(done.error());
      if (!error.isTrap())
        error = Error{ErrorKind::HostError, error.toString(), {}};
      setTrap(std::move(error));
      trapped = true;
    }
  }
  if (trapped)
    unwindTrap();
}

Extern ModuleInstance::exportOf(const wasm::Export &exp) {
  switch (exp.kind) {
  case wasm::ExternKind::Func: {
    auto fn = std::make_shared<FunctionData>();
    fn->type = module_->info().funcType(exp.index);
    fn->owner = shared_from_this();
    fn->ref = functionRefs_[exp.index];
    return Extern(fn);
  }
  case wasm::ExternKind::Memory: return Extern(memories_[exp.index]);
  case wasm::ExternKind::Global: return Extern(globals_[exp.index]);
  case wasm::ExternKind::Table: return Extern(tables_[exp.index]);
  }
  return Extern(nullptr);
}

uint8_t *ModuleInstance::memoryRange(uint32_t offset, uint32_t length) {
  if (memories_.empty() ||
      uint64_t(offset) + length > memories_[0]->state.size)
    return nullptr;
  return memories_[0]->state.base + offset;
}

int32_t ModuleInstance::growMemory(uint32_t delta) {
  return memories_.empty() ? -1 : memories_[0]->grow(delta);
}

} // namespace nomos

namespace nomos {

Expected<std::vector<Value>> runProgram(std::shared_ptr<const Module> module,
                                        CallContext &call,
                                        std::string_view exportName,
                                        std::span<const Value> args) {
  auto index = module->exportedFunction(exportName);
  if (!index)
    return tl::unexpected(index.error());
  auto imports = resolveImports(*module, findAbiFunction);
  if (!imports)
    return tl::unexpected(imports.error());
  auto instance = ModuleInstance::instantiate(std::move(module),
                                              std::move(*imports), call.limits,
                                              &call);
  if (!instance)
    return tl::unexpected(instance.error());
  return (*instance)->invoke(*index, args);
}

Expected<bool> hasMigrate(const Module &module) {
  for (const auto &function : module.exportedFunctions()) {
    if (function.name != "migrate")
      continue;
    if (!function.params.empty() || !function.results.empty())
      return makeError(ErrorKind::InvalidModule,
                       "migrate must take no parameters and return nothing");
    return true;
  }
  return false;
}

Expected<void> runMigrate(CallContext &call) {
  if (!call.upgrade)
    return {};
  auto found = hasMigrate(*call.upgrade);
  if (!found)
    return tl::unexpected(found.error());
  if (!*found)
    return {};
  CallContext migrate{call.engine, call.transaction, call.prefix, call.limits,
                      call.childDepth, call.callDepth, call.logs, {}};
  migrate.gasLeft = call.gasLeft;
  migrate.storageLeft = call.storageLeft;
  migrate.migrating = true;
  auto result = runProgram(call.upgrade, migrate, "migrate", {});
  call.gasLeft = migrate.gasLeft;
  call.storageLeft = migrate.storageLeft;
  if (!result)
    return tl::unexpected(result.error());
  return {};
}

} // namespace nomos
