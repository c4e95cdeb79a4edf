#include "module.h"

#include "backtrace.h"

namespace nomos {

ValueType publicValueType(wasm::ValType type) {
  switch (type) {
  case wasm::ValType::I32: return ValueType::I32;
  case wasm::ValType::I64: return ValueType::I64;
  case wasm::ValType::F32: return ValueType::F32;
  case wasm::ValType::F64: return ValueType::F64;
  case wasm::ValType::V128: return ValueType::V128;
  case wasm::ValType::FuncRef: return ValueType::FuncRef;
  case wasm::ValType::ExternRef: return ValueType::ExternRef;
  }
  return ValueType::I32;
}

uint32_t TypeRegistry::idOf(const wasm::FuncType &type) {
  std::lock_guard lock(mutex_);
  auto [it, inserted] = ids_.try_emplace({type.params, type.results},
                                         static_cast<uint32_t>(ids_.size()));
  return it->second;
}

Expected<std::shared_ptr<const Module>>
Module::link(wasm::ModuleInfo info, const std::vector<uint8_t> &object,
             Jit &jit, TypeRegistry &types, rt::MemoryStrategy memory,
             std::optional<metering::GasSchedule> gas) {
  std::shared_ptr<Module> module(new Module());
  module->memory_ = memory;
  module->info_ = std::move(info);
  module->gas_ = std::move(gas);
  const wasm::ModuleInfo &mi = module->info_;

  // Thunks exist for exported functions and the start function.
  std::vector<uint32_t> withThunk;
  std::vector<std::string> names{rt::kFunctionTable, rt::kHostAdapterTable};
  std::vector<bool> seen(mi.functions.size(), false);
  auto want = [&](uint32_t index) {
    if (seen[index])
      return;
    seen[index] = true;
    withThunk.push_back(index);
    names.push_back(rt::kInvokePrefix + std::to_string(index));
  };
  for (const wasm::Export &exp : mi.exports)
    if (exp.kind == wasm::ExternKind::Func)
      want(exp.index);
  if (mi.start)
    want(*mi.start);

  auto code = jit.link(object, names);
  if (!code)
    return tl::unexpected(code.error());
  const std::vector<void *> &symbols = (*code)->symbols();
  module->functionTable_ = static_cast<void *const *>(symbols[0]);
  module->hostAdapters_ = static_cast<void *const *>(symbols[1]);
  module->thunks_.assign(mi.functions.size(), nullptr);
  for (size_t i = 0; i < withThunk.size(); ++i)
    module->thunks_[withThunk[i]] =
        reinterpret_cast<rt::InvokeThunk>(symbols[i + 2]);
  for (const wasm::FuncType &type : mi.types)
    module->typeIds_.push_back(types.idOf(type));
  module->code_ = std::move(*code);
  registerCode(*module, classifyCode(module->code_->code(),
                                     module->functionTable_,
                                     uint32_t(mi.functions.size())));
  return module;
}

Module::~Module() { unregisterCode(*this); }

Expected<uint32_t> Module::exportedFunction(std::string_view name) const {
  const wasm::Export *exp = info_.findExport(name);
  if (exp && exp->kind == wasm::ExternKind::Func)
    return exp->index;
  std::string available;
  for (const wasm::Export &e : info_.exports)
    if (e.kind == wasm::ExternKind::Func)
      available += (available.empty() ? "" : ", ") + e.name;
  return makeError(ErrorKind::UnknownExport,
                   "no exported function named \"" + std::string(name) +
                       "\" (exported functions: " +
                       (available.empty() ? "none" : available) + ")");
}

std::vector<ExportedFunction> Module::exportedFunctions() const {
  std::vector<ExportedFunction> result;
  for (const wasm::Export &exp : info_.exports) {
    if (exp.kind != wasm::ExternKind::Func)
      continue;
    ExportedFunction fn{exp.name, {}, {}};
    const wasm::FuncType &type = info_.funcType(exp.index);
    for (wasm::ValType t : type.params)
      fn.params.push_back(publicValueType(t));
    for (wasm::ValType t : type.results)
      fn.results.push_back(publicValueType(t));
    result.push_back(std::move(fn));
  }
  return result;
}

std::string Module::functionName(uint32_t index) const {
  if (index < info_.functionNames.size() && !info_.functionNames[index].empty())
    return info_.functionNames[index];
  return "func[" + std::to_string(index) + "]";
}

} // namespace nomos
