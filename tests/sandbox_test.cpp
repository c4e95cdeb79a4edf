// The sandbox (docs/sandbox.md): memory accesses at and across the end of
// memory in both memory strategies, the fault handler's chaining, and VMs on
// several threads.
#include "test_util.h"

#include <sys/mman.h>

#include <atomic>
#include <csignal>
#include <thread>

namespace nomos {
namespace {

using test::loadVM;
using test::watModule;

std::string strategyName(const testing::TestParamInfo<MemoryStrategy> &info) {
  return info.param == MemoryStrategy::GuardPages ? "GuardPages" : "ExplicitChecks";
}

class Sandbox : public testing::TestWithParam<MemoryStrategy> {
protected:
  VM sandboxVM() {
    auto engine = std::make_shared<Engine>(EngineOptions{.memory = GetParam()});
    return loadVM(watModule("sandbox"), {.engine = engine});
  }
};

constexpr uint64_t kPage = 65536;
constexpr unsigned kWidths[] = {1, 2, 4, 8, 16};
constexpr uint64_t kOffsets[] = {0,          1,          65535,      65536,
                                 0x7fffffff, 0x80000000, 0xfffffff0, 0xffffffff};

// Addresses around the end of a memory of `size` bytes for an access of
// `width` bytes at `offset`, and a few far away.
std::vector<uint64_t> addressesNearEnd(uint64_t size, uint64_t offset,
                                       unsigned width) {
  std::vector<uint64_t> out{0, 1, 0x7fffffff, 0x80000000, 0xffffffff};
  if (size >= offset + width) {
    uint64_t last = size - offset - width; // the last address in bounds
    for (uint64_t delta : {0, 1, 2, 15, 16})
      if (last >= delta)
        out.push_back(last - delta);
    out.push_back(last + 1);
    out.push_back(last + width);
  }
  std::erase_if(out, [](uint64_t a) { return a > 0xffffffff; });
  return out;
}

// Every load and store width at every offset, at addresses around the end
// of `pages` pages: in bounds runs, out of bounds traps, the VM goes on.
void checkAccesses(VM &vm, uint64_t pages) {
  uint64_t size = pages * kPage;
  for (unsigned width : kWidths) {
    for (uint64_t offset : kOffsets) {
      for (uint64_t address : addressesNearEnd(size, offset, width)) {
        bool inBounds = address + offset + width <= size;
        for (const char *kind : {"load", "store"}) {
          std::string name = kind + std::to_string(width) + "_" + std::to_string(offset);
          auto result = vm.call(name, std::vector{Value::i32(int32_t(uint32_t(address)))});
          std::string where = name + " at " + std::to_string(address) + " with " +
                              std::to_string(pages) + " pages";
          if (inBounds) {
            EXPECT_TRUE(result) << where << ": " << result.error().toString();
          } else {
            ASSERT_FALSE(result) << where << " did not trap";
            EXPECT_EQ(result.error().kind, ErrorKind::MemoryOutOfBounds) << where;
          }
        }
      }
    }
  }
}

TEST_P(Sandbox, EveryWidthAndOffsetAtTheEndOfMemory) {
  VM vm = sandboxVM();
  checkAccesses(vm, 1);
}

// The memory starts at one page in every call (a VM keeps no memory between
// calls), so each call grows it first: the exports only access memory, and
// growing is checked through `grow`'s results.
TEST_P(Sandbox, MemoryGrowsToItsMaximumAndNoFurther) {
  Engine engine(EngineOptions{.memory = GetParam()});
  auto instance = Instance::create(engine, watModule("sandbox"));
  ASSERT_TRUE(instance) << instance.error().toString();
  auto grow = [&](int32_t pages) {
    auto result = instance->call("grow", std::vector{Value::i32(pages)});
    EXPECT_TRUE(result);
    return result ? (*result)[0].asI32() : -2;
  };
  EXPECT_EQ(grow(3), -1); // past the maximum of 3 pages: refused
  EXPECT_EQ(grow(1), 1);
  EXPECT_EQ(grow(1), 2);
  EXPECT_EQ(grow(1), -1);
  EXPECT_EQ(grow(-1), -1); // 4 GiB pages
  // At three pages, the same accesses against the new end.
  for (uint64_t address : {3 * kPage - 4, 3 * kPage - 3, 2 * kPage})
    for (const char *kind : {"load4_0", "store4_0"}) {
      auto result = instance->call(kind, std::vector{Value::i32(int32_t(address))});
      if (address + 4 <= 3 * kPage)
        EXPECT_TRUE(result) << kind << " at " << address;
      else
        EXPECT_EQ(result.error().kind, ErrorKind::MemoryOutOfBounds) << kind;
    }
}

TEST_P(Sandbox, AThousandTrapsInARowLeaveTheHostWell) {
  VM vm = sandboxVM();
  for (int i = 0; i < 1000; ++i) {
    auto result = vm.call("load1_65536", std::vector{Value::i32(i)});
    ASSERT_FALSE(result);
    ASSERT_EQ(result.error().kind, ErrorKind::MemoryOutOfBounds);
  }
  auto inside = vm.call("load1_0", std::vector{Value::i32(65535)});
  EXPECT_TRUE(inside) << inside.error().toString();
}

INSTANTIATE_TEST_SUITE_P(BothStrategies, Sandbox,
                         testing::Values(MemoryStrategy::GuardPages,
                                         MemoryStrategy::ExplicitChecks),
                         strategyName);

TEST(SandboxLinking, GuardPageCodeRefusesAnExplicitCheckMemory) {
  Bytes code = watModule("memory_import");
  Engine engine(EngineOptions{.memory = MemoryStrategy::GuardPages});
  auto unchecked = Extern::memory(1, std::nullopt, MemoryStrategy::ExplicitChecks);
  ASSERT_TRUE(unchecked);
  auto refused = Instance::create(engine, code,
                                  [&](std::string_view, std::string_view) {
                                    return std::optional<Extern>(*unchecked);
                                  });
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, ErrorKind::LinkError);
  EXPECT_NE(refused.error().message.find("guard pages"), std::string::npos)
      << refused.error().message;
  // Code with explicit checks runs with either kind of memory.
  Engine checkedEngine(EngineOptions{.memory = MemoryStrategy::ExplicitChecks});
  auto guarded = Extern::memory(1, std::nullopt, MemoryStrategy::GuardPages);
  ASSERT_TRUE(guarded);
  for (const Extern &memory : {*unchecked, *guarded}) {
    auto instance = Instance::create(checkedEngine, code,
                                     [&](std::string_view, std::string_view) {
                                       return std::optional<Extern>(memory);
                                     });
    ASSERT_TRUE(instance) << instance.error().toString();
    auto result = instance->call("load", std::vector{Value::i32(65536)});
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().kind, ErrorKind::MemoryOutOfBounds);
  }
}

// A fault that is not a guest's reaches the handler installed before
// Nomos's. Run in a fresh process (the handler is installed once).
void exitOnFault(int) { _exit(42); }

TEST(SandboxDeathTest, OtherFaultsReachThePreviousHandler) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        struct sigaction previous {};
        previous.sa_handler = exitOnFault;
        sigemptyset(&previous.sa_mask);
        sigaction(SIGSEGV, &previous, nullptr);
        auto engine = std::make_shared<Engine>(
            EngineOptions{.memory = MemoryStrategy::GuardPages});
        VM vm = loadVM(watModule("sandbox"), {.engine = engine});
        auto trapped = vm.call("load4_65536", std::vector{Value::i32(0)});
        if (trapped || trapped.error().kind != ErrorKind::MemoryOutOfBounds)
          _exit(1);
        void *page = mmap(nullptr, 4096, PROT_NONE,
                          MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        *static_cast<volatile int *>(page) = 1; // the host's own bug
        _exit(2);
      },
      testing::ExitedWithCode(42), "");
}

// VMs of one engine on four threads at once, each trapping and going on.
TEST(SandboxThreads, FourThreadsRunAndTrapAtOnce) {
  for (MemoryStrategy strategy :
       {MemoryStrategy::GuardPages, MemoryStrategy::ExplicitChecks}) {
    auto engine = std::make_shared<Engine>(EngineOptions{.memory = strategy});
    Bytes code = watModule("sandbox");
    std::atomic<int> failures = 0;
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([&] {
        auto vm = VM::create(code, {.engine = engine});
        if (!vm) {
          ++failures;
          return;
        }
        for (int i = 0; i < 200; ++i) {
          auto inside = vm->call("store8_0", std::vector{Value::i32(i)});
          auto outside = vm->call("store8_65536", std::vector{Value::i32(i)});
          if (!inside || outside || outside.error().kind != ErrorKind::MemoryOutOfBounds)
            ++failures;
        }
      });
    for (std::thread &thread : threads)
      thread.join();
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(engine->compiledModules(), 1u);
  }
}

} // namespace
} // namespace nomos
