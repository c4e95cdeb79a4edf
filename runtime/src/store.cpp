#include <nomos/store.h>

#include <lmdb.h>

#include <stdexcept>

namespace nomos {

Store::~Store() = default;

Expected<void> checkEntry(ByteView key, size_t valueSize) {
  if (key.empty() || key.size() > kMaxKeySize)
    return makeError(ErrorKind::StorageLimit,
                     "a stored key is 1 to " + std::to_string(kMaxKeySize) +
                         " bytes (namespace included); this one is " +
                         std::to_string(key.size()));
  if (valueSize > kMaxValueSize)
    return makeError(ErrorKind::StorageLimit,
                     "a stored value is at most " +
                         std::to_string(kMaxValueSize) + " bytes; this one is " +
                         std::to_string(valueSize));
  return {};
}

static Expected<void> checkBatch(const std::vector<StoreWrite> &writes) {
  for (const auto &[key, value] : writes)
    if (auto ok = checkEntry(key, value ? value->size() : 0); !ok)
      return ok;
  return {};
}

static void checkOrThrow(ByteView key, size_t valueSize) {
  if (auto ok = checkEntry(key, valueSize); !ok)
    throw std::length_error(ok.error().message);
}

Expected<void> Store::apply(const std::vector<StoreWrite> &writes) {
  if (auto ok = checkBatch(writes); !ok)
    return ok;
  for (const auto &[key, value] : writes) {
    if (value)
      set(key, *value);
    else
      remove(key);
  }
  return {};
}

// ---- MemoryStore -----------------------------------------------------------

std::optional<Bytes> MemoryStore::get(ByteView key) const {
  auto found = entries_.find(key);
  if (found == entries_.end())
    return std::nullopt;
  return found->second;
}

void MemoryStore::set(ByteView key, ByteView value) {
  checkOrThrow(key, value.size());
  auto found = entries_.find(key);
  if (found != entries_.end()) {
    bytes_ -= countedBytes(found->first, found->second.size());
    found->second = value.bytes();
  } else {
    entries_.emplace(key.bytes(), value.bytes());
  }
  bytes_ += countedBytes(key, value.size());
}

bool MemoryStore::remove(ByteView key) {
  auto found = entries_.find(key);
  if (found == entries_.end())
    return false;
  bytes_ -= countedBytes(found->first, found->second.size());
  entries_.erase(found);
  return true;
}

// Checked first, so it writes all or nothing.
Expected<void> MemoryStore::apply(const std::vector<StoreWrite> &writes) {
  return Store::apply(writes);
}

// ---- LmdbStore -------------------------------------------------------------

struct LmdbStore::Impl {
  MDB_env *env = nullptr;
  MDB_dbi dbi = 0;
  std::string path;
  ~Impl() {
    if (env)
      mdb_env_close(env);
  }
};

namespace {

tl::unexpected<Error> lmdbError(const std::string &what, int rc) {
  ErrorKind kind = rc == MDB_MAP_FULL || rc == ENOSPC ? ErrorKind::StorageLimit
                                                      : ErrorKind::IoError;
  return makeError(kind, "lmdb: " + what + ": " + mdb_strerror(rc));
}

MDB_val val(ByteView bytes) {
  return {bytes.size(), const_cast<uint8_t *>(bytes.data())};
}

// A read or write transaction, aborted unless committed.
struct Txn {
  MDB_txn *txn = nullptr;
  ~Txn() {
    if (txn)
      mdb_txn_abort(txn);
  }
  int commit() {
    int rc = mdb_txn_commit(txn);
    txn = nullptr;
    return rc;
  }
};

} // namespace

LmdbStore::LmdbStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LmdbStore::~LmdbStore() = default;

Expected<std::shared_ptr<LmdbStore>> LmdbStore::open(const std::string &path,
                                                     LmdbOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  if (int rc = mdb_env_create(&impl->env); rc)
    return lmdbError("create " + path, rc);
  if (int rc = mdb_env_set_mapsize(impl->env, options.mapSize); rc)
    return lmdbError("set map size", rc);
  unsigned flags = MDB_NOSUBDIR | (options.sync ? 0 : MDB_NOSYNC);
  if (int rc = mdb_env_open(impl->env, path.c_str(), flags, 0644); rc)
    return lmdbError("open " + path, rc);
  if (mdb_env_get_maxkeysize(impl->env) < int(kMaxKeySize))
    return makeError(ErrorKind::IoError,
                     "lmdb: this build's key size limit is below " +
                         std::to_string(kMaxKeySize) + " bytes");
  Txn txn;
  if (int rc = mdb_txn_begin(impl->env, nullptr, 0, &txn.txn); rc)
    return lmdbError("begin", rc);
  if (int rc = mdb_dbi_open(txn.txn, nullptr, 0, &impl->dbi); rc)
    return lmdbError("open database", rc);
  // Count the bytes stored, once.
  uint64_t bytes = 0;
  MDB_cursor *cursor = nullptr;
  if (int rc = mdb_cursor_open(txn.txn, impl->dbi, &cursor); rc)
    return lmdbError("cursor", rc);
  MDB_val key, data;
  int rc = mdb_cursor_get(cursor, &key, &data, MDB_FIRST);
  while (rc == 0) {
    bytes += countedBytes(ByteView(static_cast<const uint8_t *>(key.mv_data), key.mv_size),
                           data.mv_size);
    rc = mdb_cursor_get(cursor, &key, &data, MDB_NEXT);
  }
  mdb_cursor_close(cursor);
  if (rc != MDB_NOTFOUND)
    return lmdbError("scan", rc);
  if (int rc = txn.commit(); rc)
    return lmdbError("commit", rc);
  std::shared_ptr<LmdbStore> store(new LmdbStore(std::move(impl)));
  store->bytes_ = bytes;
  return store;
}

std::optional<Bytes> LmdbStore::get(ByteView key) const {
  if (key.empty() || key.size() > kMaxKeySize)
    return std::nullopt; // cannot be stored
  Txn txn;
  if (int rc = mdb_txn_begin(impl_->env, nullptr, MDB_RDONLY, &txn.txn); rc)
    throw std::runtime_error(lmdbError("begin", rc).value().message);
  MDB_val k = val(key), data;
  int rc = mdb_get(txn.txn, impl_->dbi, &k, &data);
  if (rc == MDB_NOTFOUND)
    return std::nullopt;
  if (rc)
    throw std::runtime_error(lmdbError("get", rc).value().message);
  auto *begin = static_cast<const uint8_t *>(data.mv_data);
  return Bytes(begin, begin + data.mv_size);
}

void LmdbStore::set(ByteView key, ByteView value) {
  checkOrThrow(key, value.size());
  std::vector<StoreWrite> one;
  one.emplace_back(key.bytes(), value.bytes());
  if (auto ok = apply(one); !ok)
    throw std::runtime_error(ok.error().message);
}

bool LmdbStore::remove(ByteView key) {
  if (key.empty() || key.size() > kMaxKeySize)
    return false;
  bool existed = get(key).has_value();
  std::vector<StoreWrite> one;
  one.emplace_back(key.bytes(), std::nullopt);
  if (auto ok = apply(one); !ok)
    throw std::runtime_error(ok.error().message);
  return existed;
}

// One write transaction: all of the batch or, on any error, none of it.
Expected<void> LmdbStore::apply(const std::vector<StoreWrite> &writes) {
  if (auto ok = checkBatch(writes); !ok)
    return ok;
  if (writes.empty())
    return {};
  Txn txn;
  if (int rc = mdb_txn_begin(impl_->env, nullptr, 0, &txn.txn); rc)
    return lmdbError("begin", rc);
  int64_t delta = 0;
  for (const auto &[key, value] : writes) {
    MDB_val k = val(key), old;
    int rc = mdb_get(txn.txn, impl_->dbi, &k, &old);
    if (rc == 0)
      delta -= int64_t(countedBytes(key, old.mv_size));
    else if (rc != MDB_NOTFOUND)
      return lmdbError("get", rc);
    if (value) {
      MDB_val data = val(*value);
      if (int rc = mdb_put(txn.txn, impl_->dbi, &k, &data, 0); rc)
        return lmdbError("put", rc);
      delta += int64_t(countedBytes(key, value->size()));
    } else if (rc == 0) {
      if (int rc = mdb_del(txn.txn, impl_->dbi, &k, nullptr); rc)
        return lmdbError("delete", rc);
    }
  }
  if (int rc = txn.commit(); rc)
    return lmdbError("commit", rc);
  bytes_ = uint64_t(int64_t(bytes_) + delta);
  return {};
}

size_t LmdbStore::size() const {
  Txn txn;
  if (int rc = mdb_txn_begin(impl_->env, nullptr, MDB_RDONLY, &txn.txn); rc)
    throw std::runtime_error(lmdbError("begin", rc).value().message);
  MDB_stat stat;
  if (int rc = mdb_stat(txn.txn, impl_->dbi, &stat); rc)
    throw std::runtime_error(lmdbError("stat", rc).value().message);
  return stat.ms_entries;
}

bool MemoryStore::forEach(
    const std::function<void(ByteView, ByteView)> &visit) const {
  for (const auto &[key, value] : entries_)
    visit(key, value);
  return true;
}

// In one read transaction (a consistent snapshot).
bool LmdbStore::forEach(
    const std::function<void(ByteView, ByteView)> &visit) const {
  Txn txn;
  if (int rc = mdb_txn_begin(impl_->env, nullptr, MDB_RDONLY, &txn.txn); rc)
    throw std::runtime_error(lmdbError("begin", rc).value().message);
  MDB_cursor *cursor = nullptr;
  if (int rc = mdb_cursor_open(txn.txn, impl_->dbi, &cursor); rc)
    throw std::runtime_error(lmdbError("cursor", rc).value().message);
  MDB_val key, data;
  int rc = mdb_cursor_get(cursor, &key, &data, MDB_FIRST);
  while (rc == 0) {
    visit(ByteView(static_cast<const uint8_t *>(key.mv_data), key.mv_size),
          ByteView(static_cast<const uint8_t *>(data.mv_data), data.mv_size));
    rc = mdb_cursor_get(cursor, &key, &data, MDB_NEXT);
  }
  mdb_cursor_close(cursor);
  if (rc != MDB_NOTFOUND)
    throw std::runtime_error(lmdbError("scan", rc).value().message);
  return true;
}

} // namespace nomos
