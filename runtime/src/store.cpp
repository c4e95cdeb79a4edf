#include <nomos/store.h>

namespace nomos {

Store::~Store() = default;

std::optional<Bytes> MemoryStore::get(ByteView key) const {
  auto found = entries_.find(key);
  if (found == entries_.end())
    return std::nullopt;
  return found->second;
}

void MemoryStore::set(ByteView key, ByteView value) {
  entries_.insert_or_assign(key.bytes(), value.bytes());
}

bool MemoryStore::remove(ByteView key) {
  auto found = entries_.find(key);
  if (found == entries_.end())
    return false;
  entries_.erase(found);
  return true;
}

} // namespace nomos
