// A VM: a program (its current code), its store and its limits.
#pragma once

#include <nomos/bytes.h>
#include <nomos/engine.h>
#include <nomos/error.h>
#include <nomos/store.h>
#include <nomos/value.h>

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace nomos {

struct Limits {
  // Linear memory, in 64 KiB pages; memory.grow past it fails (returns -1).
  uint32_t memoryPages = 16384; // 1 GiB
  // Frame units on the stack at once, children included: a wasm frame counts
  // 1 plus 1 per 512 bytes of a frame estimate made from the wasm (16 bytes
  // a local, 8 a byte of code). Deterministic: the same program exhausts it
  // at the same point on every machine and at every optimization level.
  uint32_t callDepth = 5000;
  // Children inside children.
  uint32_t childDepth = 8;
  // Child handles open at once in one call.
  uint32_t openChildren = 64;
  // Gas per call (VM::call without an explicit limit, and each outermost
  // Instance::call). Out of gas traps with OutOfGas; see docs/metering.md.
  uint64_t gas = 1'000'000'000;
  // Storage: bytes of keys + values in the VM's store (children's stores
  // included, as they live inside it). A guest write that would take the
  // total past it traps with StorageLimit; removals give bytes back. The
  // host's own writes are not limited, but count. See docs/architecture.md
  // "State".
  uint64_t storageBytes = uint64_t(1) << 30; // 1 GiB
};

// At most this much gas per call (the counter is a signed 64-bit integer).
inline constexpr uint64_t kMaxGas = uint64_t(1) << 62;

struct VMOptions {
  std::shared_ptr<Engine> engine; // created with defaults when null
  std::shared_ptr<Store> store;   // a MemoryStore when null
  Limits limits;
};

struct CallResult {
  std::vector<Value> results;
  std::vector<std::string> logs; // lines the guest logged
  uint64_t gasUsed = 0;          // by the call, its host calls and children
  uint64_t gasLeft = 0;          // of the call's limit
};

// Gas of the last VM::call, whether it returned or trapped (after OutOfGas,
// used == the limit and left == 0).
struct GasReport {
  uint64_t limit = 0;
  uint64_t used = 0;
  uint64_t left = 0;
};

struct ExportedFunction {
  std::string name;
  std::vector<ValueType> params;
  std::vector<ValueType> results;
};

class NOMOS_API VM {
public:
  // Loads `code` (compiling it, or finding it in the engine's cache). On a
  // durable store (Store::durable, e.g. LmdbStore) the VM keeps its code, by
  // hash, and its code history in the store itself (kVmRecordPrefix), so
  // VM::open finds them again; create starts a new history there.
  static Expected<VM> create(ByteView code, VMOptions options = {});
  // Reopens the VM kept in a durable store: its current code (after every
  // upgrade) and code history, with `options`' engine and limits
  // (options.store is used when `store` is null). IoError when the store
  // holds no VM.
  static Expected<VM> open(std::shared_ptr<Store> store, VMOptions options = {});
  VM(VM &&) noexcept;
  VM &operator=(VM &&) noexcept;
  ~VM();

  // The host's own writes commit at once.
  void set(ByteView key, ByteView value);
  std::optional<Bytes> get(ByteView key) const;
  // A child's store, seen from the host for inspection: `path` lists store
  // keys from this VM's program down (one for a child, two for a grandchild).
  std::optional<Bytes> getChild(std::span<const ByteView> path,
                                ByteView key) const;
  bool remove(ByteView key);

  // Runs an exported function on a fresh instance of the current code. The
  // call is a transaction: its writes commit when it returns normally and
  // are discarded when it traps.
  Expected<CallResult> call(std::string_view name,
                            std::span<const Value> args = {});
  // The same with a gas limit for this call (capped at kMaxGas).
  Expected<CallResult> call(std::string_view name, std::span<const Value> args,
                            uint64_t gasLimit);
  GasReport lastCallGas() const;

  // Replaces the VM's code at once (loaded, validated and compiled, or found
  // in the engine's cache); on an error the code is unchanged. A guest
  // upgrades itself with the `upgrade` import (effective when its call
  // commits). When the new code exports `migrate` (no parameters, no
  // results; another type is an InvalidModule error), it runs once on the
  // new code in a transaction of its own, with the VM's gas and storage
  // limits (lastCallGas reports it; its log lines are dropped): a trap there
  // is returned, and nothing changes. A guest's upgrade runs migrate the
  // same way, inside the upgrading call's transaction.
  Expected<void> upgrade(ByteView code);
  // BLAKE3 (32 bytes) of every code version the VM has had, oldest first:
  // its first code, then one entry per upgrade (a return to an earlier
  // version appends it again; the engine finds it compiled).
  std::vector<Bytes> codeHistory() const;

  std::vector<ExportedFunction> exports() const;
  Store &store();
  const Limits &limits() const;

  struct Impl;

private:
  explicit VM(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

} // namespace nomos
