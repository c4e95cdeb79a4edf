#include "host_functions.h"
#include "module_instance.h"
#include "transaction.h"

#include <nomos/vm.h>

#include <llvm/Support/BLAKE3.h>

#include <algorithm>

namespace nomos {

struct VM::Impl {
  std::shared_ptr<Engine> engine;
  std::shared_ptr<Store> store;
  std::shared_ptr<const Module> module;
  Limits limits;
  GasReport lastGas;
  std::vector<Bytes> history; // BLAKE3 of each code version

  void record(ByteView code) { history.push_back(codeHash(code)); }

  // Storage the VM's program may still add: the limit less what the store
  // holds (counted by the store).
  int64_t storageLeft() const {
    return static_cast<int64_t>(gasCounter(limits.storageBytes)) -
           static_cast<int64_t>(std::min(store->bytesUsed(), kMaxGas));
  }
};

// A durable VM's records in its store (kVmRecordPrefix, transaction.h):
//   0x02 'c' hash   -> the code with that BLAKE3 hash (once per version)
//   0x02 'h'        -> the code history: its hashes, 32 bytes each, oldest
//                      first; the last is the current code
static Bytes codeRecordKey(ByteView hash) {
  Bytes key{kVmRecordPrefix, 'c'};
  key.insert(key.end(), hash.begin(), hash.end());
  return key;
}

static Bytes historyKey() { return Bytes{kVmRecordPrefix, 'h'}; }

// Writes the records for a VM whose code history is `history` (its current
// code, `code`, last) into `transaction`, when the store is durable.
static void stageRecords(Transaction &transaction, Store &store, ByteView code,
                         const std::vector<Bytes> &history) {
  if (!store.durable())
    return;
  Bytes codeKey = codeRecordKey(history.back());
  if (!transaction.get(codeKey))
    transaction.set(codeKey, code);
  Bytes all;
  for (const Bytes &hash : history)
    all.insert(all.end(), hash.begin(), hash.end());
  transaction.set(historyKey(), all);
}

Bytes codeHash(ByteView code) {
  auto hash = llvm::BLAKE3::hash<32>(
      llvm::ArrayRef<uint8_t>(code.data(), code.size()));
  return Bytes(hash.begin(), hash.end());
}

// The VM's code must import only the guest ABI: checked at load, not at the
// first call.
static Expected<std::shared_ptr<const Module>> loadProgram(Engine &engine,
                                                           ByteView code) {
  auto module = engine.load(code);
  if (!module)
    return tl::unexpected(module.error());
  if (auto imports = resolveImports(**module, findAbiFunction); !imports)
    return tl::unexpected(imports.error());
  return module;
}

VM::VM(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
VM::VM(VM &&) noexcept = default;
VM &VM::operator=(VM &&) noexcept = default;
VM::~VM() = default;

Expected<VM> VM::create(ByteView code, VMOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->engine = options.engine ? options.engine : std::make_shared<Engine>();
  impl->store = options.store ? options.store : std::make_shared<MemoryStore>();
  impl->limits = options.limits;
  auto module = loadProgram(*impl->engine, code);
  if (!module)
    return tl::unexpected(module.error());
  impl->module = *module;
  impl->record(code);
  // A durable store keeps the code and a history that starts with it.
  Transaction transaction(*impl->store);
  stageRecords(transaction, *impl->store, code, impl->history);
  if (auto committed = transaction.commit(); !committed)
    return tl::unexpected(committed.error());
  return VM(std::move(impl));
}

Expected<VM> VM::open(std::shared_ptr<Store> store, VMOptions options) {
  if (!store)
    store = options.store;
  if (!store)
    return makeError(ErrorKind::IoError, "VM::open: no store");
  auto history = store->get(historyKey());
  if (!history || history->empty() || history->size() % 32 != 0)
    return makeError(ErrorKind::IoError,
                     "VM::open: the store holds no VM (VM::create one on it)");
  Bytes current(history->end() - 32, history->end());
  auto code = store->get(codeRecordKey(current));
  if (!code || codeHash(*code) != current)
    return makeError(ErrorKind::IoError,
                     "VM::open: the store's current code is missing or damaged");
  auto impl = std::make_unique<Impl>();
  impl->engine = options.engine ? options.engine : std::make_shared<Engine>();
  impl->store = std::move(store);
  impl->limits = options.limits;
  auto module = loadProgram(*impl->engine, *code);
  if (!module)
    return tl::unexpected(module.error());
  impl->module = *module;
  for (size_t i = 0; i < history->size(); i += 32)
    impl->history.emplace_back(history->begin() + i, history->begin() + i + 32);
  return VM(std::move(impl));
}

// The VM's own program has the empty key prefix (transaction.h).
void VM::set(ByteView key, ByteView value) {
  impl_->store->set(ownKey({}, key), value);
}

std::optional<Bytes> VM::get(ByteView key) const {
  return impl_->store->get(ownKey({}, key));
}

std::optional<Bytes> VM::getChild(std::span<const ByteView> path,
                                  ByteView key) const {
  Bytes prefix;
  for (ByteView storeKey : path)
    prefix = childPrefix(prefix, storeKey);
  return impl_->store->get(ownKey(prefix, key));
}

bool VM::remove(ByteView key) { return impl_->store->remove(ownKey({}, key)); }

Expected<CallResult> VM::call(std::string_view name,
                              std::span<const Value> args) {
  return call(name, args, impl_->limits.gas);
}

// Gas: the call runs with `gasLimit` (docs/metering.md); what it used is
// reported whether it returns or traps. Unmetered code uses none.
Expected<CallResult> VM::call(std::string_view name, std::span<const Value> args,
                              uint64_t gasLimit) {
  Transaction transaction(*impl_->store);
  CallResult result;
  CallContext call{*impl_->engine, transaction, {}, impl_->limits, 0, 0,
                   result.logs, {}};
  int64_t limit = gasCounter(gasLimit);
  call.gasLeft = limit;
  // Storage: the limit less what the store holds (counted by the store).
  call.storageLeft = impl_->storageLeft();
  auto values = runProgram(impl_->module, call, name, args);
  // An upgrade's migrate runs in this transaction; a trap there fails the
  // call (and so rolls the upgrade back).
  if (values && call.upgrade)
    if (auto migrated = runMigrate(call); !migrated)
      values = tl::unexpected(migrated.error());
  uint64_t left = static_cast<uint64_t>(std::clamp<int64_t>(call.gasLeft, 0, limit));
  if (!impl_->module->gas())
    left = static_cast<uint64_t>(limit);
  impl_->lastGas = {static_cast<uint64_t>(limit), static_cast<uint64_t>(limit) - left, left};
  if (!values)
    return tl::unexpected(values.error());
  // The history is copied only when it changes (most calls do not upgrade).
  std::vector<Bytes> history;
  if (call.upgrade) {
    history = impl_->history;
    history.push_back(call.upgradeHash);
    stageRecords(transaction, *impl_->store, call.upgradeCode, history);
  }
  // One Store::apply: all of the call's writes (a durable VM's new code and
  // history included), or none and an error.
  if (auto committed = transaction.commit(); !committed)
    return tl::unexpected(committed.error());
  // A self-upgrade takes effect with the commit (never after a trap).
  if (call.upgrade) {
    impl_->module = std::move(call.upgrade);
    impl_->history = std::move(history);
  }
  result.results = std::move(*values);
  result.gasUsed = impl_->lastGas.used;
  result.gasLeft = left;
  return result;
}

GasReport VM::lastCallGas() const { return impl_->lastGas; }

Expected<void> VM::upgrade(ByteView code) {
  auto module = loadProgram(*impl_->engine, code);
  if (!module)
    return tl::unexpected(module.error());
  auto migrate = hasMigrate(**module);
  if (!migrate)
    return tl::unexpected(migrate.error());
  // One transaction: migrate's writes, and a durable VM's records.
  Transaction transaction(*impl_->store);
  if (*migrate) {
    std::vector<std::string> logs; // migrate's log lines are dropped
    CallContext call{*impl_->engine, transaction, {}, impl_->limits, 0, 0,
                     logs, {}};
    int64_t limit = gasCounter(impl_->limits.gas);
    call.gasLeft = limit;
    call.storageLeft = impl_->storageLeft();
    call.upgrade = *module;
    auto migrated = runMigrate(call);
    uint64_t left = (*module)->gas()
        ? static_cast<uint64_t>(std::clamp<int64_t>(call.gasLeft, 0, limit))
        : static_cast<uint64_t>(limit);
    impl_->lastGas = {static_cast<uint64_t>(limit),
                      static_cast<uint64_t>(limit) - left, left};
    if (!migrated)
      return tl::unexpected(migrated.error());
  }
  std::vector<Bytes> history = impl_->history;
  history.push_back(codeHash(code));
  stageRecords(transaction, *impl_->store, code, history);
  if (auto committed = transaction.commit(); !committed)
    return tl::unexpected(committed.error());
  impl_->module = *module;
  impl_->history = std::move(history);
  return {};
}

std::vector<Bytes> VM::codeHistory() const { return impl_->history; }

std::vector<ExportedFunction> VM::exports() const {
  return impl_->module->exportedFunctions();
}

Store &VM::store() { return *impl_->store; }
const Limits &VM::limits() const { return impl_->limits; }

} // namespace nomos
