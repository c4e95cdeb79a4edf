#include "run_exports.h"

#include <algorithm>
#include <bit>
#include <memory>

namespace nomos::fuzz {
namespace {

std::optional<ValueType> logType(std::string_view name) {
  if (name == "log-i32") return ValueType::I32;
  if (name == "log-i64") return ValueType::I64;
  if (name == "log-f32") return ValueType::F32;
  if (name == "log-f64") return ValueType::F64;
  if (name == "log-v128") return ValueType::V128;
  return std::nullopt;
}

Value zeroOf(ValueType type) { return {type, 0, 0}; }

std::string describe(const Error &error) {
  return std::string(errorKindName(error.kind)) + ": " + error.message;
}

std::string describe(const std::vector<Value> &values) {
  std::string text = "(";
  for (const Value &value : values)
    text += (text.size() > 1 ? ", " : "") + toString(value);
  return text + ")";
}

std::string compareCalls(const CallOutcome &a, const CallOutcome &b) {
  std::string where = "export " + a.name + ": ";
  if (a.logs != b.logs)
    return where + "logged " + describe(a.logs) + " vs " + describe(b.logs);
  if (a.trap.has_value() != b.trap.has_value())
    return where + (a.trap ? describe(*a.trap) : "returned") + " vs " +
           (b.trap ? describe(*b.trap) : "returned");
  if (a.trap && a.trap->kind != b.trap->kind)
    return where + describe(*a.trap) + " vs " + describe(*b.trap);
  if (a.results != b.results)
    return where + describe(a.results) + " vs " + describe(b.results);
  if (a.gasUsed != b.gasUsed)
    return where + "gas " + std::to_string(a.gasUsed) + " vs " +
           std::to_string(b.gasUsed);
  return {};
}

// A log of one scalar type, as a typed host function; `make` takes the
// value's bits.
template <class T, class Bits>
Extern wrappedLog(std::shared_ptr<std::vector<Value>> logs, Value (*make)(Bits)) {
  return Extern::wrap([logs = std::move(logs), make](T v) {
    logs->push_back(make(std::bit_cast<Bits>(v)));
  });
}

} // namespace

Engine &reusedEngine(const EngineOptions &options) {
  // One engine per optimization level, replaced once it holds 64 modules.
  static std::unique_ptr<Engine> engines[4];
  std::unique_ptr<Engine> &engine = engines[std::min(options.optLevel, 3u)];
  if (!engine || engine->compiledModules() >= 64)
    engine = std::make_unique<Engine>(options);
  return *engine;
}

RunOutcome runExports(Engine &engine, ByteView code, Limits limits) {
  RunOutcome outcome;
  // The log of the call being made; the host functions append to it.
  auto logs = std::make_shared<std::vector<Value>>();
  ImportResolver imports = [&](std::string_view module,
                               std::string_view name) -> std::optional<Extern> {
    std::optional<ValueType> type = logType(name);
    if (module != "fuzzing-support" || !type)
      return std::nullopt;
    // The scalar logs are typed host functions (Extern::wrap: called
    // directly by generated code), v128 a callback: both paths are fuzzed.
    switch (*type) {
    case ValueType::I32:
      return wrappedLog<int32_t>(logs, Value::i32);
    case ValueType::I64:
      return wrappedLog<int64_t>(logs, Value::i64);
    case ValueType::F32:
      return wrappedLog<float>(logs, Value::f32Bits);
    case ValueType::F64:
      return wrappedLog<double>(logs, Value::f64Bits);
    default:
      break;
    }
    return Extern::function(
        FunctionType{{*type}, {}},
        [logs](std::span<const Value> args) -> Expected<std::vector<Value>> {
          logs->push_back(args[0]);
          return std::vector<Value>{};
        });
  };
  auto instance = Instance::create(engine, code, imports, limits);
  if (!instance) {
    outcome.error = instance.error();
    return outcome;
  }
  std::vector<std::string> names = instance->exportNames();
  // wasm-opt -ttf modules bound loops and recursion with a global counter
  // that this export resets; --fuzz-exec calls it before every export.
  bool hangLimit = std::find(names.begin(), names.end(),
                             "hangLimitInitializer") != names.end();
  for (const std::string &name : names) {
    std::optional<Extern> exp = instance->exported(name);
    if (!exp || exp->kind() != ExternKind::Function)
      continue;
    std::vector<Value> args;
    for (ValueType type : exp->functionType().params)
      args.push_back(zeroOf(type));
    if (hangLimit)
      (void)instance->call("hangLimitInitializer");
    logs->clear();
    CallOutcome call{name, {}, {}, {}, 0};
    auto results = instance->call(name, args);
    if (results)
      call.results = std::move(*results);
    else
      call.trap = results.error();
    call.logs = *logs;
    call.gasUsed = instance->lastCallGas().used;
    outcome.calls.push_back(std::move(call));
  }
  return outcome;
}

std::string compareOutcomes(const RunOutcome &a, const RunOutcome &b) {
  if (a.error.has_value() != b.error.has_value())
    return "loaded in one run only: " +
           describe(a.error ? *a.error : *b.error);
  if (a.error && a.error->kind != b.error->kind)
    return "errors differ: " + describe(*a.error) + " vs " + describe(*b.error);
  if (a.calls.size() != b.calls.size())
    return "different numbers of calls";
  for (size_t i = 0; i < a.calls.size(); ++i) {
    std::string difference = compareCalls(a.calls[i], b.calls[i]);
    if (!difference.empty())
      return difference;
  }
  return {};
}

} // namespace nomos::fuzz
