#include "linear_memory.h"

#include "module_instance.h"

#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstring>
#include <mutex>
#include <vector>

#include <ucontext.h>

namespace nomos {

namespace {

struct Slot {
  uint8_t *base = nullptr;
  uint64_t accessible = 0; // read-write bytes at its start (guard pages)
};

// Slots of one size carved from reservations of many slots. Reservations
// are never unmapped: a slot is reused by the next memory of its size.
class SlotPool {
public:
  SlotPool(uint64_t slotBytes, uint64_t regionBytes, int protection)
      : slotBytes_(slotBytes), regionBytes_(regionBytes),
        protection_(protection) {}

  uint64_t slotBytes() const { return slotBytes_; }

  Expected<Slot> acquire() {
    std::lock_guard lock(mutex_);
    if (free_.empty()) {
      if (auto reserved = reserveRegion(); !reserved)
        return tl::unexpected(reserved.error());
    }
    Slot slot = free_.back();
    free_.pop_back();
    return slot;
  }

  // `used`: bytes the memory may have written (zeroed here for the next).
  void release(Slot slot, uint64_t used) {
    if (used)
      madvise(slot.base, used, MADV_DONTNEED);
    std::lock_guard lock(mutex_);
    free_.push_back(slot);
  }

  // Async-signal-safe: regions are published with release stores.
  bool contains(uintptr_t address) const {
    size_t count = regionCount_.load(std::memory_order_acquire);
    for (size_t i = 0; i < count; ++i) {
      uintptr_t begin = regions_[i].load(std::memory_order_relaxed);
      if (address >= begin && address - begin < regionBytes_)
        return true;
    }
    return false;
  }

private:
  static constexpr size_t kMaxRegions = 4096;

  Expected<void> reserveRegion() {
    size_t count = regionCount_.load(std::memory_order_relaxed);
    void *region = count < kMaxRegions
                       ? mmap(nullptr, regionBytes_, protection_,
                              MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
                       : MAP_FAILED;
    if (region == MAP_FAILED)
      return makeError(ErrorKind::ResourceError,
                       "cannot reserve " + std::to_string(regionBytes_ >> 20) +
                           " MiB of address space for linear memories (" +
                           std::to_string(count) + " reservations made)");
    regions_[count].store(reinterpret_cast<uintptr_t>(region),
                          std::memory_order_relaxed);
    regionCount_.store(count + 1, std::memory_order_release);
    auto *bytes = static_cast<uint8_t *>(region);
    // Lowest address last: slots are handed out in address order.
    for (uint64_t offset = regionBytes_; offset >= slotBytes_; offset -= slotBytes_)
      free_.push_back({bytes + offset - slotBytes_, 0});
    return {};
  }

  const uint64_t slotBytes_;
  const uint64_t regionBytes_;
  const int protection_;
  std::mutex mutex_;
  std::vector<Slot> free_;
  std::atomic<uintptr_t> regions_[kMaxRegions] = {};
  std::atomic<size_t> regionCount_ = 0;
};

// The pools are never destroyed: a memory may be released during static
// destruction (an Instance held by a global).

// Guard pages: 16 slots of 6 GiB a reservation.
SlotPool &guardPool() {
  static SlotPool &pool =
      *new SlotPool(rt::kGuardSlotBytes, 16 * rt::kGuardSlotBytes, PROT_NONE);
  return pool;
}

// Explicit checks: size classes of 64 KiB << k, all read-write, in
// reservations of at least 256 MiB.
constexpr unsigned kSizeClasses = 17; // up to 4 GiB
SlotPool &explicitPool(unsigned sizeClass) {
  static std::vector<SlotPool *> &pools = *[] {
    auto *all = new std::vector<SlotPool *>;
    for (unsigned k = 0; k < kSizeClasses; ++k) {
      uint64_t slot = LinearMemory::kPageSize << k;
      all->push_back(new SlotPool(slot, std::max<uint64_t>(slot, uint64_t(256) << 20),
                                  PROT_READ | PROT_WRITE));
    }
    return all;
  }();
  return *pools[sizeClass];
}

// The smallest size class holding `pages` (at least one page).
unsigned sizeClassFor(uint64_t pages) {
  unsigned k = 0;
  while ((uint64_t(1) << k) < pages)
    ++k;
  return k;
}

bool setAccessible(Slot &slot, uint64_t bytes) {
  if (bytes > slot.accessible &&
      mprotect(slot.base + slot.accessible, bytes - slot.accessible,
               PROT_READ | PROT_WRITE) != 0)
    return false;
  if (bytes < slot.accessible &&
      mprotect(slot.base + bytes, slot.accessible - bytes, PROT_NONE) != 0)
    return false;
  slot.accessible = bytes;
  return true;
}

} // namespace

// ---- LinearMemory ----------------------------------------------------------

Expected<LinearMemory> LinearMemory::create(uint64_t initialPages,
                                            uint64_t maximumPages,
                                            rt::MemoryStrategy strategy) {
  LinearMemory memory;
  memory.strategy_ = strategy;
  memory.maximumPages_ = maximumPages;
  uint64_t bytes = initialPages * kPageSize;
  if (strategy == rt::MemoryStrategy::GuardPages) {
    installFaultHandler();
    auto slot = guardPool().acquire();
    if (!slot)
      return tl::unexpected(slot.error());
    if (!setAccessible(*slot, bytes)) {
      guardPool().release(*slot, 0);
      return makeError(ErrorKind::ResourceError,
                       "cannot commit " + std::to_string(initialPages) +
                           " pages of linear memory");
    }
    memory.base_ = slot->base;
    memory.slotBytes_ = slot->accessible;
  } else {
    unsigned sizeClass = sizeClassFor(std::min(initialPages, maximumPages));
    auto slot = explicitPool(sizeClass).acquire();
    if (!slot)
      return tl::unexpected(slot.error());
    memory.base_ = slot->base;
    memory.slotBytes_ = explicitPool(sizeClass).slotBytes();
  }
  memory.pages_ = initialPages;
  return memory;
}

LinearMemory::LinearMemory(LinearMemory &&other) noexcept {
  *this = std::move(other);
}

LinearMemory &LinearMemory::operator=(LinearMemory &&other) noexcept {
  std::swap(base_, other.base_);
  std::swap(pages_, other.pages_);
  std::swap(maximumPages_, other.maximumPages_);
  std::swap(slotBytes_, other.slotBytes_);
  std::swap(strategy_, other.strategy_);
  return *this;
}

LinearMemory::~LinearMemory() { release(); }

// The slot goes back to its pool, its written bytes zeroed; a guard slot
// keeps its accessible size (the next memory of that size needs no
// mprotect).
void LinearMemory::release() {
  if (!base_)
    return;
  uint64_t used = pages_ * kPageSize;
  if (strategy_ == rt::MemoryStrategy::GuardPages)
    guardPool().release({base_, slotBytes_}, slotBytes_);
  else
    explicitPool(sizeClassFor(slotBytes_ / kPageSize)).release({base_, 0}, used);
  base_ = nullptr;
}

int32_t LinearMemory::grow(uint32_t deltaPages) {
  uint64_t old = pages_;
  if (deltaPages > maximumPages_ - pages_)
    return -1;
  if (deltaPages == 0)
    return static_cast<int32_t>(old);
  uint64_t bytes = (old + deltaPages) * kPageSize;
  if (strategy_ == rt::MemoryStrategy::GuardPages) {
    Slot slot{base_, slotBytes_};
    if (bytes > slot.accessible && !setAccessible(slot, bytes))
      return -1;
    slotBytes_ = slot.accessible;
  } else if (bytes > slotBytes_) {
    // Move to a slot large enough: the old one's bytes are copied.
    unsigned sizeClass = sizeClassFor(old + deltaPages);
    auto slot = explicitPool(sizeClass).acquire();
    if (!slot)
      return -1;
    std::memcpy(slot->base, base_, old * kPageSize);
    explicitPool(sizeClassFor(slotBytes_ / kPageSize))
        .release({base_, 0}, old * kPageSize);
    base_ = slot->base;
    slotBytes_ = explicitPool(sizeClass).slotBytes();
  }
  pages_ += deltaPages;
  return static_cast<int32_t>(old);
}

// ---- the fault handler -----------------------------------------------------

namespace {

struct sigaction previousSegv;
struct sigaction previousBus;

// Where a guest's fault resumes: an ordinary frame on the guest's stack,
// from which the trap unwinds as any other.
[[noreturn]] void memoryFaultTrap() { trap(NOMOS_TRAP_MEMORY_OUT_OF_BOUNDS); }

// Resumes the faulting thread in memoryFaultTrap, as if the faulting
// instruction had called it (the guest frame is abandoned by the unwind):
// its return address is the faulting instruction, and the frame pointer
// still the guest's, so the trap's backtrace starts at the faulting frame.
bool redirectToTrap(void *context) {
  auto *uc = static_cast<ucontext_t *>(context);
#if defined(__x86_64__)
  auto sp = static_cast<uintptr_t>(uc->uc_mcontext.gregs[REG_RSP]);
  auto *returnSlot = reinterpret_cast<uintptr_t *>((sp & ~uintptr_t(15)) - 8);
  *returnSlot = static_cast<uintptr_t>(uc->uc_mcontext.gregs[REG_RIP]);
  uc->uc_mcontext.gregs[REG_RSP] =
      static_cast<greg_t>(reinterpret_cast<uintptr_t>(returnSlot));
  uc->uc_mcontext.gregs[REG_RIP] =
      static_cast<greg_t>(reinterpret_cast<uintptr_t>(&memoryFaultTrap));
  return true;
#elif defined(__aarch64__)
  uc->uc_mcontext.sp &= ~uint64_t(15);
  uc->uc_mcontext.regs[30] = uc->uc_mcontext.pc; // the link register
  uc->uc_mcontext.pc = reinterpret_cast<uint64_t>(&memoryFaultTrap);
  return true;
#else
  (void)uc;
  return false;
#endif
}

// Not ours: as if our handler were not there.
void chainFault(int signal, siginfo_t *info, void *context) {
  const struct sigaction &previous =
      signal == SIGSEGV ? previousSegv : previousBus;
  if (previous.sa_flags & SA_SIGINFO) {
    previous.sa_sigaction(signal, info, context);
    return;
  }
  if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN) {
    previous.sa_handler(signal);
    return;
  }
  // The default action: restore it; the faulting instruction runs again
  // when we return and gets it (a signal sent by kill is raised again).
  struct sigaction fallback {};
  fallback.sa_handler = SIG_DFL;
  sigemptyset(&fallback.sa_mask);
  sigaction(signal, &fallback, nullptr);
  if (info->si_code <= 0)
    raise(signal);
}

void handleFault(int signal, siginfo_t *info, void *context) {
  auto address = reinterpret_cast<uintptr_t>(info->si_addr);
  if (inGuestCall() && guardPool().contains(address) && redirectToTrap(context))
    return;
  chainFault(signal, info, context);
}

} // namespace

void installFaultHandler() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction action {};
    action.sa_sigaction = handleFault;
    action.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&action.sa_mask);
    sigaction(SIGSEGV, &action, &previousSegv);
    sigaction(SIGBUS, &action, &previousBus);
  });
}

} // namespace nomos
