#include "jit.h"

#include "runtime_functions.h"

#include <nomos/compiler/compiler.h>
#include <nomos/compiler/runtime_abi.h>

#include <llvm/ExecutionEngine/Orc/Core.h>
#include <llvm/ExecutionEngine/JITLink/JITLink.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/ExecutionEngine/Orc/ObjectLinkingLayer.h>
#include <llvm/Object/ELFObjectFile.h>
#include <llvm/Support/MemoryBuffer.h>

#include <cmath>
#include <cstring>
#include <map>

namespace nomos {

// A JITLink plugin that records where each executable section of an object
// was placed. JITLink keeps no names of local symbols, so backtraces take
// the function symbols from the object itself (codeSymbols) and place them
// with these addresses.
class CodeRecorder : public llvm::orc::ObjectLinkingLayer::Plugin {
public:
  using SectionStarts = std::map<std::string, uintptr_t>;

  void modifyPassConfig(llvm::orc::MaterializationResponsibility &mr,
                        llvm::jitlink::LinkGraph &,
                        llvm::jitlink::PassConfiguration &config) override {
    llvm::orc::JITDylib *dylib = &mr.getTargetJITDylib();
    config.PostFixupPasses.push_back([this, dylib](llvm::jitlink::LinkGraph &g) {
      record(dylib, g);
      return llvm::Error::success();
    });
  }
  llvm::Error notifyFailed(llvm::orc::MaterializationResponsibility &) override {
    return llvm::Error::success();
  }
  llvm::Error notifyRemovingResources(llvm::orc::JITDylib &,
                                      llvm::orc::ResourceKey) override {
    return llvm::Error::success();
  }
  void notifyTransferringResources(llvm::orc::JITDylib &, llvm::orc::ResourceKey,
                                   llvm::orc::ResourceKey) override {}

  // The sections recorded for `dylib` (forgotten here).
  SectionStarts take(llvm::orc::JITDylib *dylib) {
    std::lock_guard lock(mutex_);
    SectionStarts result = std::move(starts_[dylib]);
    starts_.erase(dylib);
    return result;
  }

private:
  // An ELF section is one block in the graph; others are not recorded.
  void record(llvm::orc::JITDylib *dylib, llvm::jitlink::LinkGraph &g) {
    std::lock_guard lock(mutex_);
    SectionStarts &out = starts_[dylib];
    for (llvm::jitlink::Section &section : g.sections()) {
      auto prot = unsigned(section.getMemProt());
      if (!(prot & unsigned(llvm::orc::MemProt::Exec)) ||
          section.blocks_size() != 1)
        continue;
      out[section.getName().str()] =
          (*section.blocks().begin())->getAddress().getValue();
    }
  }

  std::mutex mutex_;
  std::map<llvm::orc::JITDylib *, SectionStarts> starts_;
};

// The function symbols of `object`, at the addresses its sections were
// linked at.
static std::vector<CodeSymbol>
codeSymbols(const std::vector<uint8_t> &object,
            const CodeRecorder::SectionStarts &starts) {
  std::vector<CodeSymbol> result;
  auto file = llvm::object::ObjectFile::createObjectFile(llvm::MemoryBufferRef(
      llvm::StringRef(reinterpret_cast<const char *>(object.data()),
                      object.size()),
      "wasm-module"));
  if (!file) {
    llvm::consumeError(file.takeError());
    return result;
  }
  if (!llvm::isa<llvm::object::ELFObjectFileBase>(**file))
    return result; // Nomos compiles to ELF only (codegen.cpp)
  for (const llvm::object::SymbolRef &symbol : (*file)->symbols()) {
    auto type = symbol.getType();
    auto name = symbol.getName();
    auto section = symbol.getSection();
    auto value = symbol.getValue();
    if (!type || !name || !section || !value ||
        *type != llvm::object::SymbolRef::ST_Function ||
        *section == (*file)->section_end()) {
      llvm::consumeError(type.takeError());
      llvm::consumeError(name.takeError());
      llvm::consumeError(section.takeError());
      llvm::consumeError(value.takeError());
      continue;
    }
    auto sectionName = (*section)->getName();
    if (!sectionName) {
      llvm::consumeError(sectionName.takeError());
      continue;
    }
    auto start = starts.find(sectionName->str());
    if (start == starts.end())
      continue;
    result.push_back({name->str(), start->second + *value,
                      llvm::object::ELFSymbolRef(symbol).getSize()});
  }
  return result;
}

Expected<std::shared_ptr<Jit>> Jit::create() {
  compiler::initializeNativeTarget();
  auto jit = llvm::orc::LLJITBuilder().create();
  if (!jit)
    return makeError(ErrorKind::CompileError,
                     "cannot start the LLVM JIT: " +
                         llvm::toString(jit.takeError()));
  std::shared_ptr<Jit> result(new Jit());
  result->jit_ = std::move(*jit);
  auto *layer = llvm::dyn_cast<llvm::orc::ObjectLinkingLayer>(
      &result->jit_->getObjLinkingLayer());
  if (!layer)
    return makeError(ErrorKind::CompileError,
                     "the LLVM JIT does not link with JITLink");
  result->recorder_ = std::make_shared<CodeRecorder>();
  layer->addPlugin(result->recorder_);
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
    if (dylib) {
      recorder_->take(dylib);
      llvm::consumeError(session.removeJITDylib(*dylib));
    }
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
  code->code_ = codeSymbols(object, recorder_->take(dylib));
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
