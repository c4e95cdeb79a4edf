// The public Instance and Extern API, over ModuleInstance and the runtime
// objects.
#include "module_instance.h"

#include <nomos/instance.h>

#include <algorithm>

namespace nomos {

namespace {

wasm::ValType wasmType(ValueType type) {
  switch (type) {
  case ValueType::I32: return wasm::ValType::I32;
  case ValueType::I64: return wasm::ValType::I64;
  case ValueType::F32: return wasm::ValType::F32;
  case ValueType::F64: return wasm::ValType::F64;
  case ValueType::V128: return wasm::ValType::V128;
  case ValueType::FuncRef: return wasm::ValType::FuncRef;
  case ValueType::ExternRef: return wasm::ValType::ExternRef;
  }
  return wasm::ValType::I32;
}

FunctionType publicType(const wasm::FuncType &wasmType) {
  FunctionType type;
  for (wasm::ValType t : wasmType.params)
    type.params.push_back(publicValueType(t));
  for (wasm::ValType t : wasmType.results)
    type.results.push_back(publicValueType(t));
  return type;
}

} // namespace

ExternKind Extern::kind() const { return data_->kind; }

Extern Extern::function(FunctionType type, HostCallback callback) {
  auto data = std::make_shared<FunctionData>();
  for (ValueType t : type.params)
    data->type.params.push_back(wasmType(t));
  for (ValueType t : type.results)
    data->type.results.push_back(wasmType(t));
  data->callback = std::move(callback);
  return Extern(std::move(data));
}

Extern Extern::function(FunctionType type, HostResultsCallback callback) {
  Extern fn = function(std::move(type), HostCallback{});
  static_cast<FunctionData &>(*fn.data()).resultsCallback = std::move(callback);
  return fn;
}

Extern detail::nativeFunction(FunctionType type, void *entry,
                              std::shared_ptr<void> env) {
  Extern fn = Extern::function(std::move(type), HostCallback{});
  auto &data = static_cast<FunctionData &>(*fn.data());
  data.native = entry;
  data.nativeEnv = std::move(env);
  return fn;
}

void detail::setHostTrap(Error error) {
  if (!error.isTrap())
    error = Error{ErrorKind::HostError, error.toString(), {}};
  setTrap(std::move(error));
}

void detail::raiseHostTrap(const void *frame) { unwindTrapFrom(frame); }

Extern Extern::global(Value initial, bool isMutable) {
  auto data = std::make_shared<GlobalData>();
  data->type = {wasmType(initial.type), isMutable};
  data->slot = {initial.bits, initial.hi};
  return Extern(std::move(data));
}

Expected<Extern> Extern::memory(uint32_t minimumPages,
                                std::optional<uint32_t> maximumPages,
                                MemoryStrategy strategy) {
  if (minimumPages > maximumPages.value_or(65536) || minimumPages > 65536)
    return makeError(ErrorKind::BadArguments,
                     "memory minimum is larger than its maximum");
  auto memory = LinearMemory::create(minimumPages, maximumPages.value_or(65536),
                                     lowerStrategy(strategy));
  if (!memory)
    return tl::unexpected(memory.error());
  auto data = std::make_shared<MemoryData>(std::move(*memory));
  if (maximumPages)
    data->declaredMaximum = *maximumPages;
  return Extern(std::move(data));
}

Expected<Extern> Extern::table(ValueType elementType, uint32_t minimum,
                               std::optional<uint32_t> maximum) {
  if (elementType != ValueType::FuncRef && elementType != ValueType::ExternRef)
    return makeError(ErrorKind::BadArguments,
                     "a table holds funcref or externref");
  auto data = std::make_shared<TableData>();
  data->type.elemType = wasmType(elementType);
  data->type.limits = {minimum, maximum};
  if (data->grow(minimum, 0) < 0)
    return makeError(ErrorKind::BadArguments, "table minimum is too large");
  return Extern(std::move(data));
}

Value Extern::globalValue() const {
  const auto &global = static_cast<const GlobalData &>(*data_);
  ValueType type = publicValueType(global.type.type);
  uint64_t bits = global.slot.lo;
  if (type == ValueType::I32 || type == ValueType::F32)
    bits = uint32_t(bits);
  return {type, bits, type == ValueType::V128 ? global.slot.hi : 0};
}

FunctionType Extern::functionType() const {
  return publicType(static_cast<const FunctionData &>(*data_).type);
}

Instance::Instance(std::shared_ptr<ModuleInstance> state)
    : state_(std::move(state)) {}
Instance::Instance(Instance &&) noexcept = default;
Instance &Instance::operator=(Instance &&) noexcept = default;
Instance::~Instance() = default;

Expected<Instance> Instance::create(Engine &engine, ByteView code,
                                    const ImportResolver &imports,
                                    Limits limits) {
  auto module = engine.load(code);
  if (!module)
    return tl::unexpected(module.error());
  auto externs = resolveImports(**module, imports);
  if (!externs)
    return tl::unexpected(externs.error());
  auto state = ModuleInstance::instantiate(*module, std::move(*externs), limits);
  if (!state)
    return tl::unexpected(state.error());
  return Instance(std::move(*state));
}

Expected<std::vector<Value>> Instance::call(std::string_view name,
                                            std::span<const Value> args) {
  auto index = state_->module().exportedFunction(name);
  if (!index)
    return tl::unexpected(index.error());
  return state_->invoke(*index, args);
}

GasReport Instance::lastCallGas() const {
  uint64_t limit = gasCounter(state_->limits().gas);
  uint64_t left = uint64_t(std::max<int64_t>(state_->gasLeftByLastCall(), 0));
  return {limit, limit - left, left};
}

Expected<Function> Instance::function(std::string_view name) const {
  auto index = state_->module().exportedFunction(name);
  if (!index)
    return tl::unexpected(index.error());
  return Function(state_, *index,
                  publicType(state_->module().info().funcType(*index)));
}

Function::Function(std::shared_ptr<ModuleInstance> state, uint32_t index,
                   FunctionType type)
    : state_(std::move(state)), index_(index), type_(std::move(type)) {}

Expected<void> Function::call(std::span<const Value> args,
                              std::span<Value> results) {
  // Checked here against the handle's copy of the signature (a fifth of an
  // empty call's time in ModuleInstance::call); a mismatch goes the slow way
  // for its message.
  bool matches = args.size() == type_.params.size() &&
                 results.size() == type_.results.size();
  for (size_t i = 0; matches && i < args.size(); ++i)
    matches = args[i].type == type_.params[i];
  if (!matches)
    return state_->call(index_, args, results);
  return state_->callChecked(index_, args, results);
}

Expected<std::vector<Value>> Function::call(std::span<const Value> args) {
  return state_->invoke(index_, args);
}

std::optional<Extern> Instance::exported(std::string_view name) const {
  const wasm::Export *exp = state_->module().info().findExport(name);
  if (!exp)
    return std::nullopt;
  return state_->exportOf(*exp);
}

std::vector<std::string> Instance::exportNames() const {
  std::vector<std::string> names;
  for (const wasm::Export &exp : state_->module().info().exports)
    names.push_back(exp.name);
  return names;
}

} // namespace nomos
