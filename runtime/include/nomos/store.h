// The key-value store a VM keeps its state in.
#pragma once

#include <nomos/bytes.h>
#include <nomos/error.h>

#include <map>
#include <optional>

namespace nomos {

// A map from byte strings to byte strings. Implementations need not be
// thread-safe: a VM uses its store from one thread at a time.
class NOMOS_API Store {
public:
  virtual ~Store();
  virtual std::optional<Bytes> get(ByteView key) const = 0;
  virtual void set(ByteView key, ByteView value) = 0;
  // True when the key existed.
  virtual bool remove(ByteView key) = 0;
};

// The default store, in memory.
class NOMOS_API MemoryStore final : public Store {
public:
  std::optional<Bytes> get(ByteView key) const override;
  void set(ByteView key, ByteView value) override;
  bool remove(ByteView key) override;
  size_t size() const { return entries_.size(); }

private:
  std::map<Bytes, Bytes, BytesLess> entries_;
};

} // namespace nomos
