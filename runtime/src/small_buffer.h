// A buffer for a call's arguments and results: on the stack when it is
// small (nearly every signature), so that a call allocates nothing; on the
// heap otherwise.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace nomos {

template <class T, size_t N = 16> class SmallBuffer {
public:
  explicit SmallBuffer(size_t size) : size_(size) {
    if (size > N)
      heap_.resize(size);
  }
  SmallBuffer(const SmallBuffer &) = delete;
  SmallBuffer &operator=(const SmallBuffer &) = delete;

  T *data() { return size_ > N ? heap_.data() : stack_; }
  std::span<T> span() { return {data(), size_}; }

private:
  T stack_[N];
  std::vector<T> heap_;
  size_t size_;
};

} // namespace nomos
