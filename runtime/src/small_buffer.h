// A buffer for a call's arguments and results: on the stack when it is
// small (nearly every signature), so that a call allocates nothing; on the
// heap otherwise.
#pragma once

#include <cstddef>
#include <span>
#include <type_traits>
#include <vector>

namespace nomos {

// The stack part is left uninitialized (zeroing 16 Values took most of a
// host call): callers write each element before reading it.
template <class T, size_t N = 16> class SmallBuffer {
  static_assert(std::is_trivially_copyable_v<T> &&
                std::is_trivially_destructible_v<T>);

public:
  explicit SmallBuffer(size_t size) : size_(size) {
    if (size > N)
      heap_.resize(size);
  }
  SmallBuffer(const SmallBuffer &) = delete;
  SmallBuffer &operator=(const SmallBuffer &) = delete;

  T *data() {
    return size_ > N ? heap_.data() : reinterpret_cast<T *>(stack_);
  }
  std::span<T> span() { return {data(), size_}; }

private:
  alignas(T) unsigned char stack_[N * sizeof(T)];
  std::vector<T> heap_;
  size_t size_;
};

} // namespace nomos
