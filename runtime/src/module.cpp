#include "module.h"

#include "host_functions.h"

namespace nomos {

std::optional<ValueType> publicValueType(wasm::ValType type) {
  switch (type) {
  case wasm::ValType::I32: return ValueType::I32;
  case wasm::ValType::I64: return ValueType::I64;
  case wasm::ValType::F32: return ValueType::F32;
  case wasm::ValType::F64: return ValueType::F64;
  default: return std::nullopt;
  }
}

static std::string signatureText(const wasm::FuncType &type) {
  std::string text = "(";
  for (size_t i = 0; i < type.params.size(); ++i)
    text += std::string(i ? ", " : "") + wasm::valTypeName(type.params[i]);
  text += ") -> (";
  for (size_t i = 0; i < type.results.size(); ++i)
    text += std::string(i ? ", " : "") + wasm::valTypeName(type.results[i]);
  return text + ")";
}

Expected<std::vector<void *>> bindImports(const wasm::ModuleInfo &info) {
  std::vector<void *> functions;
  for (const wasm::Import &import : info.imports) {
    std::string what = "import \"" + import.module + "\" \"" + import.name + "\"";
    if (import.kind != wasm::ExternKind::Func)
      return makeError(ErrorKind::LinkError,
                       what + ": Nomos provides only functions to import");
    const HostFunction *host = findHostFunction(import.module, import.name);
    if (!host)
      return makeError(ErrorKind::LinkError,
                       what + ": no such host function (the \"nomos\" module "
                              "provides the functions in nomos/abi.h)");
    const wasm::FuncType &type = info.types[import.typeIndex];
    if (type != host->type)
      return makeError(ErrorKind::LinkError,
                       what + ": signature " + signatureText(type) +
                           " does not match the host's " +
                           signatureText(host->type));
    functions.push_back(host->function);
  }
  return functions;
}

Expected<std::shared_ptr<const Module>>
Module::link(wasm::ModuleInfo info, std::vector<void *> hostFunctions,
             const std::vector<uint8_t> &object, Jit &jit) {
  std::shared_ptr<Module> module(new Module());
  module->info_ = std::move(info);
  module->hostFunctions_ = std::move(hostFunctions);

  // Thunks exist for exported functions and the start function.
  const wasm::ModuleInfo &mi = module->info_;
  std::vector<uint32_t> withThunk;
  std::vector<std::string> names;
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
  module->thunks_.assign(mi.functions.size(), nullptr);
  for (size_t i = 0; i < withThunk.size(); ++i)
    module->thunks_[withThunk[i]] =
        reinterpret_cast<rt::InvokeThunk>((*code)->symbols()[i]);
  module->code_ = std::move(*code);
  return module;
}

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
      fn.params.push_back(publicValueType(t).value_or(ValueType::I64));
    for (wasm::ValType t : type.results)
      fn.results.push_back(publicValueType(t).value_or(ValueType::I64));
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
