#include "jit.h"

#include "runtime_functions.h"

#include <nomos/compiler/compiler.h>
#include <nomos/compiler/runtime_abi.h>

#include <llvm/ExecutionEngine/Orc/Core.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/Support/MemoryBuffer.h>

#include <cmath>
#include <cstring>

namespace nomos {

Expected<std::shared_ptr<Jit>> Jit::create() {
  compiler::initializeNativeTarget();
  auto jit = llvm::orc::LLJITBuilder().create();
  if (!jit)
    return makeError(ErrorKind::CompileError,
                     "cannot start the LLVM JIT: " +
                         llvm::toString(jit.takeError()));
  std::shared_ptr<Jit> result(new Jit());
  result->jit_ = std::move(*jit);
  return result;
}

Jit::~Jit() = default;

static llvm::orc::SymbolMap runtimeSymbols(llvm::orc::ExecutionSession &session) {
  auto symbol = [](auto *fn) {
    return llvm::orc::ExecutorSymbolDef(llvm::orc::ExecutorAddr::fromPtr(fn),
                                        llvm::JITSymbolFlags::Exported);
  };
  return {
      {session.intern(rt::kTrapFunction), symbol(&nomos_rt_trap)},
      {session.intern(rt::kMemoryGrowFunction), symbol(&nomos_rt_memory_grow)},
      {session.intern(rt::kHostCallFunction), symbol(&nomos_rt_host_call)},
      {session.intern(rt::kTableGetFunction), symbol(&nomos_rt_table_get)},
      {session.intern(rt::kTableSetFunction), symbol(&nomos_rt_table_set)},
      {session.intern(rt::kTableGrowFunction), symbol(&nomos_rt_table_grow)},
      {session.intern(rt::kTableFillFunction), symbol(&nomos_rt_table_fill)},
      {session.intern(rt::kTableCopyFunction), symbol(&nomos_rt_table_copy)},
      {session.intern(rt::kTableInitFunction), symbol(&nomos_rt_table_init)},
      {session.intern(rt::kElemDropFunction), symbol(&nomos_rt_elem_drop)},
      {session.intern(rt::kMemoryInitFunction), symbol(&nomos_rt_memory_init)},
      {session.intern(rt::kDataDropFunction), symbol(&nomos_rt_data_drop)},
      // LLVM may turn guest loops into calls of these, and lowers rounding
      // to libm calls on CPUs without SSE4.1 (all are exact, so
      // deterministic).
      {session.intern("memcpy"), symbol(&::memcpy)},
      {session.intern("memmove"), symbol(&::memmove)},
      {session.intern("memset"), symbol(&::memset)},
      {session.intern("ceil"), symbol(static_cast<double (*)(double)>(&::ceil))},
      {session.intern("ceilf"), symbol(static_cast<float (*)(float)>(&::ceilf))},
      {session.intern("floor"), symbol(static_cast<double (*)(double)>(&::floor))},
      {session.intern("floorf"), symbol(static_cast<float (*)(float)>(&::floorf))},
      {session.intern("trunc"), symbol(static_cast<double (*)(double)>(&::trunc))},
      {session.intern("truncf"), symbol(static_cast<float (*)(float)>(&::truncf))},
      {session.intern("roundeven"), symbol(&::roundeven)},
      {session.intern("roundevenf"), symbol(&::roundevenf)},
  };
}

Expected<std::unique_ptr<LinkedCode>>
Jit::link(const std::vector<uint8_t> &object,
          const std::vector<std::string> &names) {
  std::lock_guard lock(mutex_);
  auto &session = jit_->getExecutionSession();
  auto failure = [&](llvm::orc::JITDylib *dylib, llvm::Error error) {
    std::string message = llvm::toString(std::move(error));
    if (dylib)
      llvm::consumeError(session.removeJITDylib(*dylib));
    return makeError(ErrorKind::CompileError, "linking failed: " + message);
  };
  // A bare JITDylib links against nothing but what is defined in it.
  llvm::orc::JITDylib *dylib =
      &session.createBareJITDylib("module" + std::to_string(nextId_++));
  if (auto error = dylib->define(llvm::orc::absoluteSymbols(runtimeSymbols(session))))
    return failure(dylib, std::move(error));
  auto buffer = llvm::MemoryBuffer::getMemBufferCopy(
      llvm::StringRef(reinterpret_cast<const char *>(object.data()),
                      object.size()),
      "wasm-module");
  if (auto error = jit_->addObjectFile(*dylib, std::move(buffer)))
    return failure(dylib, std::move(error));

  std::unique_ptr<LinkedCode> code(new LinkedCode());
  for (const std::string &name : names) {
    auto address = jit_->lookup(*dylib, name);
    if (!address)
      return failure(dylib, address.takeError());
    code->symbols_.push_back(address->toPtr<void *>());
  }
  code->jit_ = shared_from_this();
  code->dylib_ = dylib;
  return code;
}

void Jit::remove(llvm::orc::JITDylib *dylib) {
  std::lock_guard lock(mutex_);
  llvm::consumeError(jit_->getExecutionSession().removeJITDylib(*dylib));
}

LinkedCode::~LinkedCode() {
  if (jit_ && dylib_)
    jit_->remove(dylib_);
}

} // namespace nomos
