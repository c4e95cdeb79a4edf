// Byte strings: keys, values and code are plain bytes.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace nomos {

using Bytes = std::vector<uint8_t>;

// A non-owning view of bytes that also accepts strings, so that
// vm.set("count", encode<uint64_t>(10)) reads as it does in the seed.
class ByteView {
public:
  ByteView() = default;
  ByteView(const uint8_t *data, size_t size) : data_(data), size_(size) {}
  ByteView(std::span<const uint8_t> bytes)
      : data_(bytes.data()), size_(bytes.size()) {}
  ByteView(const Bytes &bytes) : data_(bytes.data()), size_(bytes.size()) {}
  ByteView(std::string_view text)
      : data_(reinterpret_cast<const uint8_t *>(text.data())),
        size_(text.size()) {}
  ByteView(const char *text) : ByteView(std::string_view(text)) {}
  ByteView(const std::string &text) : ByteView(std::string_view(text)) {}

  const uint8_t *data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const uint8_t *begin() const { return data_; }
  const uint8_t *end() const { return data_ + size_; }
  std::span<const uint8_t> span() const { return {data_, size_}; }
  Bytes bytes() const { return Bytes(begin(), end()); }

private:
  const uint8_t *data_ = nullptr;
  size_t size_ = 0;
};

// Orders Bytes and ByteViews alike, so maps keyed by Bytes can be searched
// with a ByteView without copying.
struct BytesLess {
  using is_transparent = void;
  template <class A, class B> bool operator()(const A &a, const B &b) const {
    return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end());
  }
};

} // namespace nomos
