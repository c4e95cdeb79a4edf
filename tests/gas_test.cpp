// Gas metering: exact gas for hand-computed programs (tests/wat/gas.wat has
// the arithmetic), the same gas at every optimization level and with the
// metering-specific optimization off, out of gas and stack exhaustion as
// traps the VM survives, host calls and children paying their share.
#include "test_util.h"

#include <nomos/instance.h>
#include <nomos/metering/gas.h>

using namespace nomos;
using namespace nomos::test;

namespace {

std::shared_ptr<Engine> engineWith(unsigned optLevel, bool inRegister = true,
                                   bool metering = true) {
  EngineOptions options;
  options.optLevel = optLevel;
  options.gasInRegister = inRegister;
  options.metering = metering;
  return std::make_shared<Engine>(options);
}

VM gasVM(std::shared_ptr<Engine> engine = nullptr) {
  return loadVM(watModule("gas"), {.engine = std::move(engine)});
}

// Gas used by one call (returned or trapped).
uint64_t gasOf(VM &vm, std::string_view name, std::vector<Value> args = {},
               uint64_t limit = 1'000'000) {
  (void)vm.call(name, args, limit);
  return vm.lastCallGas().used;
}

// An export of gas.wat and its arguments.
struct Case {
  const char *name;
  std::vector<Value> args;
};

} // namespace

TEST(Gas, StraightLine) {
  VM vm = gasVM();
  auto result = vm.call("straight", {}, 1000);
  ASSERT_TRUE(result) << result.error().toString();
  EXPECT_EQ(result->results[0].asI32(), 43);
  EXPECT_EQ(result->gasUsed, 5u);
  EXPECT_EQ(result->gasLeft, 995u);
}

TEST(Gas, Branches) {
  VM vm = gasVM();
  EXPECT_EQ(gasOf(vm, "branches", {Value::i32(1)}), 3u);
  EXPECT_EQ(gasOf(vm, "branches", {Value::i32(0)}), 5u);
}

TEST(Gas, LoopsPayEveryIteration) {
  VM vm = gasVM();
  for (int n : {0, 1, 10, 1000}) {
    auto result = vm.call("loop", std::vector{Value::i32(n)}, 1'000'000);
    ASSERT_TRUE(result);
    EXPECT_EQ(result->results[0].asI32(), n * (n + 1) / 2);
    EXPECT_EQ(result->gasUsed, uint64_t(12 * n + 4)) << "n = " << n;
  }
}

TEST(Gas, Calls) {
  VM vm = gasVM();
  EXPECT_EQ(gasOf(vm, "calls"), 17u);
  EXPECT_EQ(gasOf(vm, "call_mid"), 11u);
}

TEST(Gas, TrapMidBlockChargesWhatRan) {
  VM vm = gasVM();
  EXPECT_EQ(gasOf(vm, "trap_mid", {Value::i32(1)}), 10u);
  auto trapped = vm.call("trap_mid", std::vector{Value::i32(0)}, 1000);
  ASSERT_FALSE(trapped);
  EXPECT_EQ(trapped.error().kind, ErrorKind::IntegerDivideByZero);
  EXPECT_EQ(vm.lastCallGas().used, 6u);
  EXPECT_EQ(vm.lastCallGas().left, 994u);
  EXPECT_EQ(gasOf(vm, "unreachable_mid"), 3u);
  // A memory access out of bounds uses all the gas, in both memory
  // strategies (docs/metering.md).
  auto oob = vm.call("oob_mid", {}, 1000);
  ASSERT_FALSE(oob);
  EXPECT_EQ(oob.error().kind, ErrorKind::MemoryOutOfBounds);
  EXPECT_EQ(vm.lastCallGas().used, 1000u);
  EXPECT_EQ(vm.lastCallGas().left, 0u);
}

TEST(Gas, OutOfGasBeforeTheBlockRuns) {
  VM vm = gasVM();
  // straight costs 5: 4 is not enough, and nothing of it runs.
  auto result = vm.call("straight", {}, 4);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ErrorKind::OutOfGas);
  EXPECT_EQ(vm.lastCallGas().used, 4u);
  EXPECT_EQ(vm.lastCallGas().left, 0u);
  ASSERT_TRUE(vm.call("straight", {}, 5));
  EXPECT_EQ(vm.lastCallGas().left, 0u);
}

TEST(Gas, MemoryGrowAndBulkMemory) {
  VM vm = gasVM();
  EXPECT_EQ(gasOf(vm, "grow", {Value::i32(0)}), 101u);
  EXPECT_EQ(gasOf(vm, "grow", {Value::i32(2)}), 2101u);
  // Charged per page added: a grow that fails (-1) pays only its own cost.
  auto failed = vm.call("grow", std::vector{Value::i32(100)}, 1'000'000);
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->results[0].asI32(), -1);
  EXPECT_EQ(failed->gasUsed, 101u);
  EXPECT_EQ(gasOf(vm, "fill"), 108u);
  // Out of bounds: the fill traps, and like every memory access out of
  // bounds uses all the gas.
  auto oob = vm.call("fill_oob", {}, 1'000'000);
  ASSERT_FALSE(oob);
  EXPECT_EQ(oob.error().kind, ErrorKind::MemoryOutOfBounds);
  EXPECT_EQ(vm.lastCallGas().used, 1'000'000u);
}

TEST(Gas, HostCalls) {
  VM vm = gasVM();
  auto result = vm.call("gas", {}, 10'000);
  ASSERT_TRUE(result);
  EXPECT_EQ(result->gasUsed, 105u);
  EXPECT_EQ(result->results[0].asI64(), 10'000 - 105);
  EXPECT_EQ(gasOf(vm, "log5"), 112u);
}

TEST(Gas, InfiniteLoopRunsOutOfGasAndTheVMGoesOn) {
  VM vm = gasVM();
  auto spun = vm.call("spin", {}, 1'000'000);
  ASSERT_FALSE(spun);
  EXPECT_EQ(spun.error().kind, ErrorKind::OutOfGas);
  EXPECT_EQ(vm.lastCallGas().used, 1'000'000u);
  auto next = vm.call("straight");
  ASSERT_TRUE(next);
  EXPECT_EQ(next->gasUsed, 5u);
  EXPECT_EQ(next->gasLeft, Limits{}.gas - 5);
}

TEST(Gas, InfiniteRecursionExhaustsTheStackAndTheVMGoesOn) {
  VM vm = gasVM();
  auto deep = vm.call("recurse");
  ASSERT_FALSE(deep);
  EXPECT_EQ(deep.error().kind, ErrorKind::StackExhausted);
  // Limits::callDepth frames entered, each paying its call (5); the frame
  // that does not fit pays nothing.
  EXPECT_EQ(vm.lastCallGas().used, uint64_t(5) * Limits{}.callDepth);
  // With little gas, the same recursion runs out of gas instead.
  auto poor = vm.call("recurse", {}, 1000);
  ASSERT_FALSE(poor);
  EXPECT_EQ(poor.error().kind, ErrorKind::OutOfGas);
  ASSERT_TRUE(vm.call("straight"));
}

// Every program above, at every optimization level, with and without the
// counter kept in a register: the same results, traps and gas.
TEST(Gas, SameGasAtEveryOptimizationLevel) {
  std::vector<Case> cases = {
      {"straight", {}},           {"branches", {Value::i32(0)}},
      {"branches", {Value::i32(1)}}, {"loop", {Value::i32(77)}},
      {"calls", {}},              {"call_mid", {}},
      {"trap_mid", {Value::i32(0)}}, {"trap_mid", {Value::i32(3)}},
      {"unreachable_mid", {}},    {"oob_mid", {}},
      {"grow", {Value::i32(1)}},  {"fill", {}},
      {"gas", {}},                {"log5", {}},
      {"spin", {}},               {"recurse", {}},
      {"mix", {Value::i32(1000)}}, {"mix", {Value::i32(0)}},
      {"sort", {Value::i32(5)}},  {"countdown", {Value::i32(50)}},
      {"nested", {Value::i32(30)}}};
  std::vector<std::vector<std::string>> outcomes;
  for (unsigned opt : {0u, 1u, 2u, 3u})
    for (bool inRegister : {true, false}) {
      VM vm = gasVM(engineWith(opt, inRegister));
      std::vector<std::string> outcome;
      for (const Case &c : cases) {
        auto result = vm.call(c.name, c.args, 50'000);
        std::string text = std::string(c.name) + ": " +
                           std::to_string(vm.lastCallGas().used) + " ";
        text += result ? (result->results.empty() ? "()" : toString(result->results[0]))
                       : std::string(errorKindName(result.error().kind));
        outcome.push_back(text);
      }
      outcomes.push_back(outcome);
    }
  for (size_t i = 1; i < outcomes.size(); ++i)
    EXPECT_EQ(outcomes[i], outcomes[0]) << "configuration " << i;
  // mix(1000): a loop with a call, an if and a trap-free remainder.
  EXPECT_NE(outcomes[0][16].find("mix: "), std::string::npos);
  // sort(5) sorts "hello": "ehll" read back as an i32.
  EXPECT_NE(outcomes[0][18].find("sort: "), std::string::npos);
  EXPECT_NE(outcomes[0][18].find(std::to_string(0x6c6c6865)), std::string::npos)
      << outcomes[0][18];
}

// Every limit below what a call needs runs out of gas having used exactly the
// limit, and every limit from it on completes with the same result and gas:
// wherever the counter runs out (every charge, including those the compiler
// merges into one check), at -O0 and -O2, counter in a register or not.
TEST(Gas, EveryLimitBelowTheCostRunsOutOfGasThere) {
  std::vector<Case> cases = {{"straight", {}},           {"branches", {Value::i32(0)}},
                             {"loop", {Value::i32(9)}},  {"calls", {}},
                             {"call_mid", {}},           {"mix", {Value::i32(12)}},
                             {"fib", {Value::i32(9)}},  {"sort", {Value::i32(5)}},
                             {"countdown", {Value::i32(20)}}, {"nested", {Value::i32(6)}}};
  for (unsigned opt : {0u, 2u})
    for (bool inRegister : {true, false}) {
      VM vm = gasVM(engineWith(opt, inRegister));
      for (const Case &c : cases) {
        auto full = vm.call(c.name, c.args, 1'000'000);
        ASSERT_TRUE(full) << c.name << ": " << full.error().toString();
        const uint64_t needed = full->gasUsed;
        ASSERT_LT(needed, 5000u) << c.name;
        for (uint64_t limit = 0; limit <= needed + 1; ++limit) {
          auto result = vm.call(c.name, c.args, limit);
          SCOPED_TRACE(std::string(c.name) + " with " + std::to_string(limit) +
                       " gas, -O" + std::to_string(opt) +
                       (inRegister ? "" : ", counter in memory"));
          if (limit < needed) {
            ASSERT_FALSE(result);
            ASSERT_EQ(result.error().kind, ErrorKind::OutOfGas);
            ASSERT_EQ(vm.lastCallGas().used, limit);
          } else {
            ASSERT_TRUE(result) << result.error().toString();
            ASSERT_EQ(result->results, full->results);
            ASSERT_EQ(result->gasUsed, needed);
          }
        }
      }
    }
}

// A counted loop that LLVM unrolls and vectorizes at -O2 (its gas checks
// turned into trip-count compares): with gas to spare, exactly enough, one
// short and running out mid-loop, the same gas, trap and memory (what the
// loop wrote before it stopped) at every level, counter in a register or not.
TEST(Gas, CountedLoopsStopAtTheSamePointEverywhere) {
  const int32_t n = 1000;
  const uint64_t full = 16 * n + 4; // tests/wat/gas_loop.wat
  std::vector<uint64_t> limits = {1'000'000, full, full - 1, full - 16,
                                  16 * 500 + 3, 16 * 500 + 12, 5, 4};
  auto run = [&](Engine &engine, uint64_t gas) {
    auto memory = Extern::memory(1, std::nullopt);
    if (!memory)
      return memory.error().toString();
    auto imports = [&](std::string_view, std::string_view) -> std::optional<Extern> {
      return *memory;
    };
    Limits limits;
    limits.gas = gas;
    auto filler = Instance::create(engine, watModule("gas_loop"), imports, limits);
    limits.gas = 10'000'000;
    auto checker = Instance::create(engine, watModule("gas_loop"), imports, limits);
    if (!filler || !checker)
      return std::string("instantiation failed");
    auto filled = filler->call("fill", std::vector<Value>{Value::i32(n)});
    std::string text = std::to_string(gas) + ": " + std::to_string(filler->lastCallGas().used) +
                       " " + (filled ? "()" : std::string(errorKindName(filled.error().kind)));
    auto sum = checker->call("sum", std::vector<Value>{Value::i32(n)});
    return text + " sum " + (sum ? toString(sum->at(0)) : sum.error().toString());
  };
  std::vector<std::vector<std::string>> outcomes;
  for (unsigned opt : {0u, 1u, 2u, 3u})
    for (bool inRegister : {true, false}) {
      auto engine = engineWith(opt, inRegister);
      std::vector<std::string> outcome;
      for (uint64_t gas : limits)
        outcome.push_back(run(*engine, gas));
      outcomes.push_back(outcome);
    }
  for (size_t i = 1; i < outcomes.size(); ++i)
    EXPECT_EQ(outcomes[i], outcomes[0]) << "configuration " << i;
  // The hand-computed figures, at -O0 with the counter in a register.
  EXPECT_EQ(outcomes[0][0], "1000000: 16004 () sum 500500");
  EXPECT_EQ(outcomes[0][1], "16004: 16004 () sum 500500");
  EXPECT_EQ(outcomes[0][2].substr(0, 24), "16003: 16003 out_of_gas ");
  EXPECT_EQ(outcomes[0][4].substr(0, 21), "8003: 8003 out_of_gas");
}

TEST(Gas, MeteringOffUsesNoGas) {
  VM vm = gasVM(engineWith(2, true, false));
  auto result = vm.call("loop", std::vector{Value::i32(10)}, 10);
  ASSERT_TRUE(result);
  EXPECT_EQ(result->gasUsed, 0u);
}

TEST(Gas, ChildGasIsChargedToItsParent) {
  VM vm = loadVM(watModule("gas_parent"));
  vm.set("spin", watModule("gas_spin"));
  // The child spins until its limit is gone: it burns exactly its limit, so
  // the parent pays 1000 more when the child gets 1000 more.
  auto small = vm.call("run", std::vector{Value::i64(1000)}, 1'000'000);
  ASSERT_TRUE(small) << small.error().toString();
  EXPECT_EQ(small->results[0].asI32(), NOMOS_TRAP_OUT_OF_GAS);
  auto large = vm.call("run", std::vector{Value::i64(2000)}, 1'000'000);
  ASSERT_TRUE(large);
  EXPECT_EQ(large->gasUsed - small->gasUsed, 1000u);
  // A child cannot get more than its parent has left: asking for 10^15
  // gives it the rest of the parent's gas. The parent has nothing left to
  // run after child_call, so it returns with 0 gas left.
  auto capped = vm.call("run", std::vector{Value::i64(1'000'000'000'000'000)}, 100'000);
  ASSERT_TRUE(capped);
  EXPECT_EQ(capped->results[0].asI32(), NOMOS_TRAP_OUT_OF_GAS);
  EXPECT_EQ(capped->gasUsed, 100'000u);
  EXPECT_EQ(capped->gasLeft, 0u);
  // The VM goes on.
  EXPECT_TRUE(vm.call("run", std::vector{Value::i64(10)}, 1'000'000));
}

TEST(Gas, SeedExampleChargesTheChild) {
  VM vm = loadVM(readFile(COUNTER_WASM));
  vm.set("doubler", readFile(DOUBLER_WASM));
  vm.set("count", encode<uint64_t>(3));
  auto result = vm.call("exec_other");
  ASSERT_TRUE(result) << result.error().toString();
  EXPECT_EQ(*decode<uint64_t>(*vm.get("count")), 6u);
  // Deterministic: the same call costs the same.
  vm.set("count", encode<uint64_t>(3));
  auto again = vm.call("exec_other");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->gasUsed, result->gasUsed);
  EXPECT_GT(result->gasUsed, 10'000u); // child_new alone costs 10,000 + code
}

TEST(GasSchedule, TextFileAndHash) {
  GasSchedule defaults;
  auto parsed = GasSchedule::parse("# comment\n\ncall = 7\n division=9 \n");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->call, 7u);
  EXPECT_EQ(parsed->division, 9u);
  EXPECT_EQ(parsed->simple, defaults.simple);
  EXPECT_NE(parsed->hash(), defaults.hash());
  EXPECT_EQ(GasSchedule::parse(defaults.toText())->hash(), defaults.hash());
  EXPECT_EQ(GasSchedule{}.hash(), defaults.hash());
  EXPECT_FALSE(GasSchedule::parse("nope = 1\n"));
  EXPECT_FALSE(GasSchedule::parse("call = x\n"));
  EXPECT_FALSE(GasSchedule::parse("call = 999999999999\n"));
}

TEST(GasSchedule, CustomScheduleChangesGas) {
  EngineOptions options;
  options.schedule.simple = 2;
  VM vm = gasVM(std::make_shared<Engine>(options));
  EXPECT_EQ(gasOf(vm, "straight"), 10u);
}
