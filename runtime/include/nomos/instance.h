// The lower-level API: instances that live across calls, linked to each
// other and to host-made functions, globals, memories and tables through
// their imports. (VM, in vm.h, is built on it: a fresh instance per call.)
#pragma once

#include <nomos/bytes.h>
#include <nomos/engine.h>
#include <nomos/error.h>
#include <nomos/value.h>
#include <nomos/vm.h>

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace nomos {

enum class ExternKind : uint8_t { Function, Table, Memory, Global };

class ModuleInstance; // the runtime's instance state
struct ExternData;    // the runtime's function/table/memory/global objects

// A host function's body: takes the arguments, returns the results or an
// Error, which traps the calling guest (kind HostError unless it is a trap).
using HostCallback =
    std::function<Expected<std::vector<Value>>(std::span<const Value> args)>;
// The allocation-free form: writes the results into `results` (sized to the
// signature's results, zeroed), or returns an Error as HostCallback does.
using HostResultsCallback = std::function<Expected<void>(
    std::span<const Value> args, std::span<Value> results)>;

// Something an instance exports, or the host made, that an import can be
// bound to. Copies share the same object (a global set through one copy is
// seen through all).
class NOMOS_API Extern {
public:
  ExternKind kind() const;

  static Extern function(FunctionType type, HostCallback callback);
  static Extern function(FunctionType type, HostResultsCallback callback);
  // The fast form (what wasmtime's Func::wrap is): `fn` is any callable
  // whose parameters are int32_t, uint32_t, int64_t, uint64_t, float or
  // double (the wasm signature follows from them) and whose result is void,
  // one of those, or Expected of one of those. Generated code calls it
  // directly with wasm's native calling convention: no Value marshalling,
  // no std::function, no allocation (about 4x faster than the callback
  // forms: BENCHMARKS.md). An Error it returns, or an exception it throws,
  // traps the guest as with the callback forms. At most one result.
  template <class F> static Extern wrap(F fn);
  static Extern global(Value initial, bool isMutable);
  // A memory for modules compiled with `strategy`: a module compiled for
  // guard pages can import only a guard-page memory.
  static Expected<Extern>
  memory(uint32_t minimumPages, std::optional<uint32_t> maximumPages,
         MemoryStrategy strategy = defaultMemoryStrategy());
  static Expected<Extern> table(ValueType elementType, uint32_t minimum,
                                std::optional<uint32_t> maximum);

  // Globals: the current value (a mutable global may change).
  Value globalValue() const;
  // Functions: the signature.
  FunctionType functionType() const;

  const std::shared_ptr<ExternData> &data() const { return data_; }
  explicit Extern(std::shared_ptr<ExternData> data) : data_(std::move(data)) {}

private:
  std::shared_ptr<ExternData> data_;
};

// Resolves an import (module, name) to an Extern, or nullopt when there is
// none (a LinkError names it).
using ImportResolver =
    std::function<std::optional<Extern>(std::string_view module,
                                        std::string_view name)>;

// An exported function resolved once (Instance::function): calling it looks
// nothing up, and a call that returns allocates nothing. The handle shares
// the instance's state: that state (memories, tables, globals) lives as long
// as the Instance or any handle does, so a handle stays valid after its
// Instance is destroyed or moved from. Like Instance, not for concurrent
// calls from several threads.
class NOMOS_API Function {
public:
  const FunctionType &type() const { return type_; }
  // Runs the function with `args` (their number and types must match the
  // parameters) and writes its results into `results` (exactly as many as
  // the function returns). Errors: BadArguments for a mismatch, or the trap.
  Expected<void> call(std::span<const Value> args, std::span<Value> results);
  // The same, returning the results in a new vector.
  Expected<std::vector<Value>> call(std::span<const Value> args = {});

private:
  friend class Instance;
  Function(std::shared_ptr<ModuleInstance> state, uint32_t index,
           FunctionType type);
  std::shared_ptr<ModuleInstance> state_;
  uint32_t index_;
  FunctionType type_;
};

class NOMOS_API Instance {
public:
  // Loads `code` in `engine`, binds its imports, and instantiates it:
  // elements and data segments are written in order and the start function
  // runs. Errors: the load errors of Engine::load, LinkError for an import
  // that is missing or of the wrong type, or a trap (for example a segment
  // out of bounds: segments before it stay written, as the spec says).
  static Expected<Instance> create(Engine &engine, ByteView code,
                                   const ImportResolver &imports = {},
                                   Limits limits = {});

  // Looks up the export `name` on every call: a caller that calls it often
  // resolves it once with function().
  Expected<std::vector<Value>> call(std::string_view name,
                                    std::span<const Value> args = {});
  // Gas of the last call from the host, whether it returned or trapped: each
  // gets Limits::gas (after OutOfGas, used == the limit and left == 0). A
  // call from a host function (nested in a guest call) runs on the gas of
  // the call it is part of, and does not count here.
  GasReport lastCallGas() const;
  // The exported function `name`, or an error when there is none.
  Expected<Function> function(std::string_view name) const;
  std::optional<Extern> exported(std::string_view name) const;
  std::vector<std::string> exportNames() const;

  Instance(Instance &&) noexcept;
  Instance &operator=(Instance &&) noexcept;
  ~Instance();

private:
  explicit Instance(std::shared_ptr<ModuleInstance> state);
  std::shared_ptr<ModuleInstance> state_;
};

} // namespace nomos

#include <nomos/wrapped_function.h>
