// Linear memories and the address space they live in (docs/sandbox.md).
//
// Memories are slots carved from large reservations made once, so that an
// instantiation makes no mmap and a fault can be told to be a guest's:
// - guard pages: a slot of 4 GiB plus a guard region, inaccessible past the
//   memory's size; generated code does no bounds check and the fault
//   handler (installFaultHandler) turns a fault in a slot into a trap;
// - explicit checks: a slot as large as the memory's size rounded up to a
//   power of two, all of it read-write (code checks every access); growing
//   past it moves the memory to a larger slot.
#pragma once

#include <nomos/compiler/runtime_abi.h>
#include <nomos/error.h>

#include <cstdint>

namespace nomos {

class LinearMemory {
public:
  static Expected<LinearMemory> create(uint64_t initialPages,
                                       uint64_t maximumPages,
                                       rt::MemoryStrategy strategy);
  LinearMemory(LinearMemory &&other) noexcept;
  LinearMemory &operator=(LinearMemory &&other) noexcept;
  ~LinearMemory();

  uint8_t *base() const { return base_; }
  uint64_t pages() const { return pages_; }
  uint64_t maximumPages() const { return maximumPages_; }
  rt::MemoryStrategy strategy() const { return strategy_; }
  // Old size in pages, or -1 when the maximum would be exceeded (or the
  // host cannot provide the memory). With explicit checks base() may move.
  int32_t grow(uint32_t deltaPages);

  static constexpr uint64_t kPageSize = 65536;

private:
  LinearMemory() = default;
  void release();
  uint8_t *base_ = nullptr;
  uint64_t pages_ = 0;
  uint64_t maximumPages_ = 0;
  // Explicit checks: the slot's size; guard pages: its accessible bytes.
  uint64_t slotBytes_ = 0;
  rt::MemoryStrategy strategy_ = rt::MemoryStrategy::GuardPages;
};

// Installs (once per process) the SIGSEGV/SIGBUS handler that turns a fault
// in a guard-page slot, raised while this thread runs guest code, into a
// MemoryOutOfBounds trap. Every other fault goes to the handler installed
// before ours (or the default action).
void installFaultHandler();

} // namespace nomos
