#include "instance.h"

#include <sys/mman.h>

#include <cstring>

namespace nomos {

// ---- LinearMemory ----------------------------------------------------------

Expected<LinearMemory> LinearMemory::create(uint64_t initialPages,
                                            uint64_t maximumPages) {
  LinearMemory memory;
  memory.reservedBytes_ = std::max<uint64_t>(maximumPages, 1) * kPageSize;
  void *base = mmap(nullptr, memory.reservedBytes_, PROT_NONE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (base == MAP_FAILED)
    return makeError(ErrorKind::ResourceError,
                     "cannot reserve " + std::to_string(memory.reservedBytes_) +
                         " bytes of address space for linear memory");
  memory.base_ = static_cast<uint8_t *>(base);
  memory.maximumPages_ = maximumPages;
  if (memory.grow(static_cast<uint32_t>(initialPages)) < 0)
    return makeError(ErrorKind::ResourceError,
                     "cannot commit the initial linear memory");
  return memory;
}

LinearMemory::LinearMemory(LinearMemory &&other) noexcept { *this = std::move(other); }

LinearMemory &LinearMemory::operator=(LinearMemory &&other) noexcept {
  std::swap(base_, other.base_);
  std::swap(pages_, other.pages_);
  std::swap(maximumPages_, other.maximumPages_);
  std::swap(reservedBytes_, other.reservedBytes_);
  return *this;
}

LinearMemory::~LinearMemory() {
  if (base_)
    munmap(base_, reservedBytes_);
}

int32_t LinearMemory::grow(uint32_t deltaPages) {
  uint64_t old = pages_;
  if (deltaPages > maximumPages_ - pages_)
    return -1;
  if (deltaPages == 0)
    return static_cast<int32_t>(old);
  if (mprotect(base_ + old * kPageSize, uint64_t(deltaPages) * kPageSize,
               PROT_READ | PROT_WRITE) != 0)
    return -1;
  pages_ += deltaPages;
  return static_cast<int32_t>(old);
}

// ---- traps -----------------------------------------------------------------

Error trapError(nomos_trap code) {
  auto kind = static_cast<ErrorKind>(code);
  switch (code) {
  case NOMOS_TRAP_UNREACHABLE: return {kind, "unreachable executed", {}};
  case NOMOS_TRAP_MEMORY_OUT_OF_BOUNDS: return {kind, "out of bounds memory access", {}};
  case NOMOS_TRAP_INTEGER_DIVIDE_BY_ZERO: return {kind, "integer divide by zero", {}};
  case NOMOS_TRAP_INTEGER_OVERFLOW: return {kind, "integer overflow", {}};
  case NOMOS_TRAP_STACK_EXHAUSTED: return {kind, "call stack exhausted", {}};
  default: return {kind, std::string(errorKindName(kind)), {}};
  }
}

void Instance::trap(nomos_trap code) {
  setTrap(trapError(code));
  unwind();
}

// Runs a thunk with a landing point for traps. Nothing in this frame has a
// destructor, so unwinding to it with longjmp skips none.
Expected<void> Instance::runThunk(uint32_t functionIndex, rt::ValueSlot *slots) {
  rt::InvokeThunk thunk = module_->thunk(functionIndex);
  jmp_buf landing;
  jmp_buf *outer = trapTarget_;
  uint32_t depth = context_.callDepth;
  trapTarget_ = &landing;
  if (setjmp(landing) == 0) {
    thunk(&context_, slots);
    trapTarget_ = outer;
    return {};
  }
  trapTarget_ = outer;
  context_.callDepth = depth;
  Error error = std::move(*pendingTrap_);
  pendingTrap_.reset();
  return tl::unexpected(std::move(error));
}

// ---- instantiation ---------------------------------------------------------

Expected<std::unique_ptr<Instance>>
Instance::create(std::shared_ptr<const Module> module, CallContext &call) {
  std::unique_ptr<Instance> instance(new Instance(std::move(module), call));
  if (auto ok = instance->initialize(); !ok)
    return tl::unexpected(ok.error());
  return instance;
}

static uint64_t constantOffset(const wasm::ConstExpr &expr) {
  return expr.op == wasm::ConstExpr::Op::I32Const ? uint32_t(expr.bits[0]) : 0;
}

Expected<void> Instance::initialize() {
  const wasm::ModuleInfo &info = module_->info();
  if (!info.memories.empty()) {
    const wasm::Limits &limits = info.memories[0];
    uint64_t maximum = std::min<uint64_t>(limits.max.value_or(65536),
                                          call_.limits.memoryPages);
    if (limits.min > maximum)
      return makeError(ErrorKind::MemoryLimit,
                       "the module needs " + std::to_string(limits.min) +
                           " pages of memory; the limit is " +
                           std::to_string(maximum));
    auto memory = LinearMemory::create(limits.min, maximum);
    if (!memory)
      return tl::unexpected(memory.error());
    memory_.emplace(std::move(*memory));
    context_.memoryBase = memory_->base();
    context_.memorySize = memory_->sizeBytes();
  }

  globals_.resize(info.globals.size());
  for (size_t i = 0; i < info.definedGlobals.size(); ++i) {
    const wasm::ConstExpr &init = info.definedGlobals[i].init;
    globals_[info.importedGlobals + i] = {init.bits[0], init.bits[1]};
  }

  imports_.resize(info.importedFunctions);
  for (uint32_t i = 0; i < info.importedFunctions; ++i)
    imports_[i] = {module_->hostFunctions()[i], &context_};

  context_.globals = globals_.data();
  context_.imports = imports_.data();
  context_.callDepth = call_.callDepth;
  context_.maxCallDepth = call_.limits.callDepth;
  context_.instance = this;

  for (const wasm::DataSegment &segment : info.datas) {
    if (segment.mode != wasm::DataSegment::Mode::Active)
      continue;
    uint64_t offset = constantOffset(segment.offset);
    if (offset + segment.bytes.size() > context_.memorySize)
      return tl::unexpected(Error{ErrorKind::MemoryOutOfBounds,
                                  "data segment does not fit in memory", {}});
    if (!segment.bytes.empty())
      std::memcpy(context_.memoryBase + offset, segment.bytes.data(),
                  segment.bytes.size());
  }
  return {};
}

Expected<void> Instance::start() {
  const auto &start = module_->info().start;
  if (!start)
    return {};
  rt::ValueSlot slot{};
  return runThunk(*start, &slot);
}

Expected<std::vector<Value>> Instance::invoke(uint32_t functionIndex,
                                              std::span<const Value> args) {
  const wasm::FuncType &type = module_->info().funcType(functionIndex);
  std::string name = module_->functionName(functionIndex);
  if (args.size() != type.params.size())
    return makeError(ErrorKind::BadArguments,
                     name + " takes " + std::to_string(type.params.size()) +
                         " argument(s), " + std::to_string(args.size()) +
                         " given");
  for (size_t i = 0; i < args.size(); ++i) {
    auto expected = publicValueType(type.params[i]);
    if (!expected || *expected != args[i].type)
      return makeError(ErrorKind::BadArguments,
                       name + ": argument " + std::to_string(i + 1) +
                           " must be " + wasm::valTypeName(type.params[i]) +
                           ", not " + std::string(valueTypeName(args[i].type)));
  }
  std::vector<rt::ValueSlot> slots(
      std::max<size_t>({args.size(), type.results.size(), 1}));
  for (size_t i = 0; i < args.size(); ++i)
    slots[i] = {args[i].bits, 0};
  if (auto ran = runThunk(functionIndex, slots.data()); !ran)
    return tl::unexpected(ran.error());
  std::vector<Value> results;
  for (size_t i = 0; i < type.results.size(); ++i) {
    ValueType resultType =
        publicValueType(type.results[i]).value_or(ValueType::I64);
    uint64_t bits = slots[i].lo;
    if (resultType == ValueType::I32 || resultType == ValueType::F32)
      bits = uint32_t(bits);
    results.push_back({resultType, bits});
  }
  return results;
}

uint8_t *Instance::memoryRange(uint32_t offset, uint32_t length) {
  if (uint64_t(offset) + length > context_.memorySize)
    return nullptr;
  return context_.memoryBase + offset;
}

int32_t Instance::growMemory(uint32_t delta) {
  if (!memory_)
    return -1;
  int32_t old = memory_->grow(delta);
  context_.memorySize = memory_->sizeBytes();
  return old;
}

Expected<std::vector<Value>> runProgram(std::shared_ptr<const Module> module,
                                        CallContext &call,
                                        std::string_view exportName,
                                        std::span<const Value> args) {
  auto index = module->exportedFunction(exportName);
  if (!index)
    return tl::unexpected(index.error());
  auto instance = Instance::create(std::move(module), call);
  if (!instance)
    return tl::unexpected(instance.error());
  if (auto started = (*instance)->start(); !started)
    return tl::unexpected(started.error());
  return (*instance)->invoke(*index, args);
}

} // namespace nomos

using nomos::Instance;

static Instance &instanceOf(nomos::rt::VMContext *ctx) {
  return *static_cast<Instance *>(ctx->instance);
}

void nomos_rt_trap(nomos::rt::VMContext *ctx, int32_t code) {
  instanceOf(ctx).trap(static_cast<nomos_trap>(code));
}

int32_t nomos_rt_memory_grow(nomos::rt::VMContext *ctx, int32_t delta) {
  return instanceOf(ctx).growMemory(static_cast<uint32_t>(delta));
}
