// The key-value store a VM keeps its state in.
#pragma once

#include <nomos/bytes.h>
#include <nomos/error.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace nomos {

// Entry size limits, the same for every backend (LMDB's default maximum key
// size is 511 bytes): a stored key is 1 to kMaxKeySize bytes, a value at
// most kMaxValueSize. Stored keys are namespaced (transaction.h), so a
// guest's own key may be at most kMaxKeySize - 1 - (its prefix) bytes. A
// guest write past them traps with StorageLimit; Store::apply returns
// StorageLimit; Store::set throws std::length_error.
inline constexpr size_t kMaxKeySize = 511;
inline constexpr size_t kMaxValueSize = size_t(16) << 20; // 16 MiB

// A stored entry's size, as storage limits count it: key + value bytes.
inline uint64_t entryBytes(size_t keySize, size_t valueSize) {
  return uint64_t(keySize) + valueSize;
}

// Stored keys that begin with this byte are the VM's own records (a durable
// VM's code, by hash, and its code history: docs/architecture.md "State"),
// apart from its program's keys (0x00) and its children's stores (0x01).
// They are not counted by bytesUsed, so not toward storage limits.
inline constexpr uint8_t kVmRecordPrefix = 0x02;

// What bytesUsed counts for an entry: entryBytes, or 0 for a VM record.
inline uint64_t countedBytes(ByteView key, size_t valueSize) {
  if (key.size() != 0 && key.data()[0] == kVmRecordPrefix)
    return 0;
  return entryBytes(key.size(), valueSize);
}

// One write of a batch: a value to set, or nullopt to remove the key.
using StoreWrite = std::pair<Bytes, std::optional<Bytes>>;

// A map from byte strings to byte strings. Implementations need not be
// thread-safe: a VM uses its store from one thread at a time.
class NOMOS_API Store {
public:
  virtual ~Store();
  virtual std::optional<Bytes> get(ByteView key) const = 0;
  virtual void set(ByteView key, ByteView value) = 0;
  // True when the key existed.
  virtual bool remove(ByteView key) = 0;
  // Applies a batch of writes (in order) atomically where the backend can:
  // a VM call's commit is one apply. An error (StorageLimit, IoError) means
  // nothing was written. The default applies them one by one with set and
  // remove, after checking every entry's size.
  virtual Expected<void> apply(const std::vector<StoreWrite> &writes);
  // Bytes of keys + values of every entry (storage limits, docs/
  // architecture.md "State"). A store that does not track it returns 0.
  virtual uint64_t bytesUsed() const { return 0; }
  // True for a store whose entries outlive the process: a VM on it keeps
  // its code there too, and VM::open finds it again.
  virtual bool durable() const { return false; }
  // Calls `visit` with every entry in key order and returns true, or returns
  // false when the store cannot list its entries.
  virtual bool forEach(
      const std::function<void(ByteView key, ByteView value)> &visit) const {
    (void)visit;
    return false;
  }
};

// An entry's sizes against kMaxKeySize and kMaxValueSize.
NOMOS_API Expected<void> checkEntry(ByteView key, size_t valueSize);

// The default store, in memory.
class NOMOS_API MemoryStore final : public Store {
public:
  std::optional<Bytes> get(ByteView key) const override;
  void set(ByteView key, ByteView value) override;
  bool remove(ByteView key) override;
  Expected<void> apply(const std::vector<StoreWrite> &writes) override;
  uint64_t bytesUsed() const override { return bytes_; }
  bool forEach(const std::function<void(ByteView, ByteView)> &visit)
      const override;
  size_t size() const { return entries_.size(); }

private:
  std::map<Bytes, Bytes, BytesLess> entries_;
  uint64_t bytes_ = 0;
};

struct LmdbOptions {
  // LMDB's map size: the most the file may grow to. A commit that does not
  // fit fails with StorageLimit and writes nothing.
  size_t mapSize = size_t(1) << 30; // 1 GiB
  // fsync on every commit (LMDB's default). Off: MDB_NOSYNC, faster; a
  // system crash may lose the last commits, never corrupt the file.
  bool sync = true;
};

// A durable store in an LMDB environment at a file path (MDB_NOSUBDIR: the
// data file is `path`, its lock file `path-lock`). Every apply (so every VM
// call's commit) is one LMDB write transaction. Errors from set/remove, which
// return no error value, are thrown as std::runtime_error.
class NOMOS_API LmdbStore final : public Store {
public:
  static Expected<std::shared_ptr<LmdbStore>> open(const std::string &path,
                                                   LmdbOptions options = {});
  ~LmdbStore() override;
  LmdbStore(const LmdbStore &) = delete;
  LmdbStore &operator=(const LmdbStore &) = delete;

  std::optional<Bytes> get(ByteView key) const override;
  void set(ByteView key, ByteView value) override;
  bool remove(ByteView key) override;
  Expected<void> apply(const std::vector<StoreWrite> &writes) override;
  // Counted once when the store opens (a scan), then kept up to date.
  uint64_t bytesUsed() const override { return bytes_; }
  bool durable() const override { return true; }
  bool forEach(const std::function<void(ByteView, ByteView)> &visit)
      const override;
  size_t size() const;

  struct Impl;

private:
  explicit LmdbStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  uint64_t bytes_ = 0;
};

} // namespace nomos
