// Trap backtraces (docs/sandbox.md "Traps and backtraces"): the wasm frames
// of a trap, innermost first, named from the name section, the same for
// every way a trap is raised, memory strategy and optimization level.
#include "test_util.h"

#include <tuple>

namespace nomos {
namespace {

using test::loadVM;
using test::readFile;
using test::watModule;

Bytes namedModule() {
  return readFile(std::string(WAT_DIR) + "/backtrace_named.wasm");
}

// Function indices in tests/wat/backtrace.wat.
constexpr uint32_t kInnermost = 1, kMiddle = 2, kOuter = 3, kByTable = 4,
                   kRunUnreachable = 5, kRunOob = 6, kRunAbort = 7,
                   kRunIndirect = 8, kRecurse = 9;

std::vector<uint32_t> indices(const Error &error) {
  std::vector<uint32_t> out;
  for (const Frame &frame : error.backtrace)
    out.push_back(frame.functionIndex);
  return out;
}

std::vector<std::string> names(const Error &error) {
  std::vector<std::string> out;
  for (const Frame &frame : error.backtrace)
    out.push_back(frame.functionName);
  return out;
}

// (memory strategy, LLVM optimization level, metering)
using Config = std::tuple<MemoryStrategy, unsigned, bool>;

std::string configName(const testing::TestParamInfo<Config> &info) {
  auto [memory, opt, metered] = info.param;
  return std::string(memory == MemoryStrategy::GuardPages ? "GuardPages"
                                                          : "ExplicitChecks") +
         "_O" + std::to_string(opt) + (metered ? "_Metered" : "_Unmetered");
}

class Backtrace : public testing::TestWithParam<Config> {
protected:
  Error trapOf(const Bytes &code, std::string_view exportName) {
    auto [memory, opt, metered] = GetParam();
    auto engine = std::make_shared<Engine>(
        EngineOptions{.optLevel = opt, .metering = metered, .memory = memory});
    VM vm = loadVM(code, {.engine = engine});
    auto result = vm.call(exportName);
    EXPECT_FALSE(result) << exportName << " did not trap";
    return result ? Error{ErrorKind::HostError, "no trap", {}} : result.error();
  }
};

TEST_P(Backtrace, UnreachableThreeCallsDeepNamesEveryFrame) {
  Error error = trapOf(namedModule(), "unreachable");
  EXPECT_EQ(error.kind, ErrorKind::Unreachable);
  EXPECT_EQ(indices(error),
            (std::vector<uint32_t>{kInnermost, kMiddle, kOuter, kRunUnreachable}));
  EXPECT_EQ(names(error), (std::vector<std::string>{"innermost", "middle", "outer",
                                                    "run_unreachable"}));
}

TEST_P(Backtrace, WithoutANameSectionFramesAreFuncN) {
  Error error = trapOf(watModule("backtrace"), "unreachable");
  EXPECT_EQ(names(error), (std::vector<std::string>{"func[1]", "func[2]",
                                                    "func[3]", "func[5]"}));
}

// Guard pages: a fault redirected by the signal handler; explicit checks: a
// check in code. The backtrace is the same.
TEST_P(Backtrace, OutOfBoundsMemoryAccess) {
  Error error = trapOf(namedModule(), "oob");
  EXPECT_EQ(error.kind, ErrorKind::MemoryOutOfBounds);
  EXPECT_EQ(indices(error),
            (std::vector<uint32_t>{kInnermost, kMiddle, kOuter, kRunOob}));
}

// A trap raised by a host function starts at the guest function that
// called it.
TEST_P(Backtrace, GuestAbortIncludesTheCallingFunction) {
  Error error = trapOf(namedModule(), "abort");
  EXPECT_EQ(error.kind, ErrorKind::GuestAbort);
  EXPECT_EQ(indices(error),
            (std::vector<uint32_t>{kInnermost, kMiddle, kOuter, kRunAbort}));
}

TEST_P(Backtrace, ThroughCallIndirect) {
  Error error = trapOf(namedModule(), "indirect");
  EXPECT_EQ(error.kind, ErrorKind::Unreachable);
  EXPECT_EQ(indices(error), (std::vector<uint32_t>{kByTable, kInnermost, kMiddle,
                                                   kOuter, kRunIndirect}));
  EXPECT_EQ(error.backtrace[0].functionName, "by_table");
}

// Deep recursion: the innermost kMaxBacktraceFrames (64) frames.
TEST_P(Backtrace, StackExhaustionKeepsTheInnermost64Frames) {
  Error error = trapOf(namedModule(), "recurse");
  EXPECT_EQ(error.kind, ErrorKind::StackExhausted);
  EXPECT_EQ(indices(error), std::vector<uint32_t>(64, kRecurse));
}

INSTANTIATE_TEST_SUITE_P(
    All, Backtrace,
    testing::Combine(testing::Values(MemoryStrategy::GuardPages,
                                     MemoryStrategy::ExplicitChecks),
                     testing::Values(0u, 2u), testing::Bool()),
    configName);

TEST(BacktraceText, ToStringPrintsOneLineAFrame) {
  Error error{ErrorKind::Unreachable,
              "unreachable executed",
              {{1, "innermost"}, {5, "func[5]"}}};
  EXPECT_EQ(error.toString(), "unreachable: unreachable executed\n"
                              "  at innermost (func[1])\n"
                              "  at func[5]");
}

TEST(BacktraceText, ACallThatReturnsLeavesNoFrames) {
  VM vm = loadVM(namedModule());
  ASSERT_TRUE(vm.call("ok"));
  auto trapped = vm.call("unreachable");
  ASSERT_FALSE(trapped);
  EXPECT_EQ(trapped.error().backtrace.size(), 4u);
  // A second trap has its own backtrace, not the first one's too.
  auto again = vm.call("oob");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().backtrace.size(), 4u);
}

// The Instance API: a host callback's error traps the guest function that
// called the import (through a host adapter).
TEST(BacktraceHost, HostCallbackErrorStartsAtTheCaller) {
  Engine engine;
  auto resolve = [](std::string_view module,
                    std::string_view name) -> std::optional<Extern> {
    if (name == "add")
      return Extern::function(
          {{ValueType::I32, ValueType::I32}, {ValueType::I32}},
          [](std::span<const Value>) -> Expected<std::vector<Value>> {
            return std::vector<Value>{Value::i32(0)};
          });
    if (name == "fail")
      return Extern::function({}, [](std::span<const Value>) {
        return Expected<std::vector<Value>>(
            makeError(ErrorKind::BadArguments, "refused"));
      });
    if (name == "base")
      return Extern::global(Value::i32(0), false);
    return std::nullopt;
  };
  auto instance = Instance::create(engine, watModule("host_import"), resolve);
  ASSERT_TRUE(instance) << instance.error().toString();
  auto result = instance->call("call_fail");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ErrorKind::HostError);
  // Imports are functions 0 and 1; call_fail is function 3.
  EXPECT_EQ(names(result.error()), std::vector<std::string>{"func[3]"});
}

} // namespace
} // namespace nomos
