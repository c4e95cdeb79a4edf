#include "transaction.h"

namespace nomos {

std::optional<Bytes> Transaction::get(ByteView key) const {
  auto found = writes_.find(key);
  if (found != writes_.end())
    return found->second;
  return parent_ ? parent_->get(key) : base_->get(key);
}

void Transaction::set(ByteView key, ByteView value) {
  writes_.insert_or_assign(key.bytes(), value.bytes());
}

bool Transaction::remove(ByteView key) {
  bool existed = get(key).has_value();
  writes_.insert_or_assign(key.bytes(), std::nullopt);
  return existed;
}

Expected<void> Transaction::commit() {
  if (parent_) {
    for (auto &[key, value] : writes_)
      parent_->writes_.insert_or_assign(key, std::move(value));
    writes_.clear();
    return {};
  }
  // A call that wrote nothing leaves the store as it is: no batch to apply
  // (for a durable store, no write transaction).
  if (writes_.empty())
    return {};
  std::vector<StoreWrite> batch;
  batch.reserve(writes_.size());
  for (auto &[key, value] : writes_)
    batch.emplace_back(key, std::move(value));
  writes_.clear();
  return base_->apply(batch);
}

Bytes ownKey(ByteView prefix, ByteView key) {
  Bytes out = prefix.bytes();
  out.push_back(0x00);
  out.insert(out.end(), key.begin(), key.end());
  return out;
}

Bytes childPrefix(ByteView prefix, ByteView storeKey) {
  Bytes out = prefix.bytes();
  out.push_back(0x01);
  uint32_t size = static_cast<uint32_t>(storeKey.size());
  for (int i = 0; i < 4; ++i)
    out.push_back(static_cast<uint8_t>(size >> (8 * i)));
  out.insert(out.end(), storeKey.begin(), storeKey.end());
  return out;
}

} // namespace nomos
