// Transactions over a store, and the key layout that nests children's
// stores inside their parent's.
#pragma once

#include <nomos/store.h>

#include <map>
#include <optional>

namespace nomos {

// Writes buffered over a parent (another transaction, or the store itself),
// applied to it by commit() and dropped by destruction without commit.
class Transaction {
public:
  explicit Transaction(Store &base) : base_(&base) {}
  explicit Transaction(Transaction &parent) : parent_(&parent) {}

  std::optional<Bytes> get(ByteView key) const;
  void set(ByteView key, ByteView value);
  bool remove(ByteView key);
  // Into the parent transaction (cannot fail), or into the store as one
  // Store::apply: all of this transaction's writes or, on an error
  // (StorageLimit, IoError), none of them.
  Expected<void> commit();

private:
  Store *base_ = nullptr;
  Transaction *parent_ = nullptr;
  // nullopt marks a removal.
  std::map<Bytes, std::optional<Bytes>, BytesLess> writes_;
};

// Keys in the store are namespaced, so that a program's own keys and its
// children's stores can never collide:
//   own key k          -> prefix 0x00 k
//   child store s      -> prefix 0x01 u32le(|s|) s   (the child's prefix)
// The root program's prefix is empty. Keys starting with 0x02
// (kVmRecordPrefix, store.h) are the VM's own records (its code by hash and
// its code history, vm.cpp), never a program's.
Bytes ownKey(ByteView prefix, ByteView key);
Bytes childPrefix(ByteView prefix, ByteView storeKey);

} // namespace nomos
