// Exact wasm semantics of what this slice lowers, on hand-written modules,
// at every optimization level.
#include "test_util.h"

#include <cstdint>

using namespace nomos;
using nomos::test::watModule;

namespace {

class Semantics : public testing::TestWithParam<unsigned> {
protected:
  VM load(const std::string &name) {
    auto engine = std::make_shared<Engine>(EngineOptions{GetParam()});
    return nomos::test::loadVM(watModule(name), {.engine = engine});
  }
};

Expected<CallResult> call(VM &vm, std::string_view name,
                          std::vector<Value> args = {}) {
  return vm.call(name, args);
}

int64_t result(VM &vm, std::string_view name, std::vector<Value> args = {}) {
  auto r = vm.call(name, args);
  if (!r) {
    ADD_FAILURE() << name << ": " << r.error().toString();
    return 0;
  }
  return r->results.at(0).type == ValueType::I32 ? r->results[0].asI32()
                                                 : r->results[0].asI64();
}

ErrorKind trapKind(VM &vm, std::string_view name, std::vector<Value> args = {}) {
  auto r = vm.call(name, args);
  if (r) {
    ADD_FAILURE() << name << " returned normally";
    return ErrorKind::HostError;
  }
  return r.error().kind;
}

Value i32(int32_t v) { return Value::i32(v); }
Value i64(int64_t v) { return Value::i64(v); }

} // namespace

TEST_P(Semantics, IntegerDivisionTrapsAndOverflow) {
  VM vm = load("arith");
  EXPECT_EQ(result(vm, "div_s", {i32(-7), i32(2)}), -3);
  EXPECT_EQ(result(vm, "div_u", {i32(-1), i32(2)}), 0x7fffffff);
  EXPECT_EQ(trapKind(vm, "div_s", {i32(1), i32(0)}), ErrorKind::IntegerDivideByZero);
  EXPECT_EQ(trapKind(vm, "div_u", {i32(1), i32(0)}), ErrorKind::IntegerDivideByZero);
  EXPECT_EQ(trapKind(vm, "div_s", {i32(INT32_MIN), i32(-1)}),
            ErrorKind::IntegerOverflow);
  EXPECT_EQ(trapKind(vm, "div_s64", {i64(INT64_MIN), i64(-1)}),
            ErrorKind::IntegerOverflow);
  // INT_MIN % -1 is 0 in wasm (undefined in C and LLVM).
  EXPECT_EQ(result(vm, "rem_s", {i32(INT32_MIN), i32(-1)}), 0);
  EXPECT_EQ(result(vm, "rem_s64", {i64(INT64_MIN), i64(-1)}), 0);
  EXPECT_EQ(result(vm, "rem_s", {i32(-7), i32(2)}), -1);
  EXPECT_EQ(trapKind(vm, "rem_s", {i32(1), i32(0)}), ErrorKind::IntegerDivideByZero);
}

TEST_P(Semantics, ShiftCountsWrapAndRotates) {
  VM vm = load("arith");
  EXPECT_EQ(result(vm, "shl", {i32(1), i32(33)}), 2);
  EXPECT_EQ(result(vm, "shr_s", {i32(-16), i32(34)}), -4);
  EXPECT_EQ(result(vm, "shr_u64", {i64(-1), i64(64 + 60)}), 15);
  EXPECT_EQ(result(vm, "rotl", {i32(int32_t(0x80000001)), i32(1)}), 3);
  EXPECT_EQ(result(vm, "rotl", {i32(0x12345678), i32(32)}), 0x12345678);
  EXPECT_EQ(uint64_t(result(vm, "rotr64", {i64(1), i64(1)})), 0x8000000000000000ull);
}

TEST_P(Semantics, BitCountsAndConversions) {
  VM vm = load("arith");
  EXPECT_EQ(result(vm, "clz", {i32(0)}), 32);
  EXPECT_EQ(result(vm, "clz", {i32(1)}), 31);
  EXPECT_EQ(result(vm, "ctz64", {i64(0)}), 64);
  EXPECT_EQ(result(vm, "popcnt", {i32(-1)}), 32);
  EXPECT_EQ(result(vm, "extend8_s", {i32(0x80)}), -128);
  EXPECT_EQ(result(vm, "extend32_s", {i64(0xffffffffll)}), -1);
  EXPECT_EQ(result(vm, "extend_u", {i32(-1)}), 0xffffffffll);
  EXPECT_EQ(result(vm, "wrap", {i64(0x1234567800000005ll)}), 5);
  EXPECT_EQ(result(vm, "lt_u", {i32(1), i32(-1)}), 1);
  EXPECT_EQ(result(vm, "ge_s64", {i64(-1), i64(0)}), 0);
  EXPECT_EQ(result(vm, "eqz64", {i64(0)}), 1);
  EXPECT_EQ(result(vm, "mul64", {i64(INT64_MAX), i64(2)}), -2);
}

TEST_P(Semantics, ControlFlowCallsAndGlobals) {
  VM vm = load("control");
  EXPECT_EQ(result(vm, "fac", {i64(20)}), 2432902008176640000ll);
  EXPECT_EQ(result(vm, "sum", {i32(100)}), 5050);
  EXPECT_EQ(result(vm, "classify", {i32(0)}), 10);
  EXPECT_EQ(result(vm, "classify", {i32(1)}), 11);
  EXPECT_EQ(result(vm, "classify", {i32(2)}), 12);
  EXPECT_EQ(result(vm, "classify", {i32(7)}), 99);
  EXPECT_EQ(result(vm, "classify", {i32(-1)}), 99);
  EXPECT_EQ(result(vm, "table_value", {i32(0)}), 5);
  EXPECT_EQ(result(vm, "table_value", {i32(1)}), 105);
  EXPECT_EQ(result(vm, "table_value", {i32(9)}), 105);
  EXPECT_EQ(result(vm, "early", {i32(1)}), 7);
  EXPECT_EQ(result(vm, "early", {i32(0)}), 8);
  EXPECT_EQ(result(vm, "select", {i32(5)}), 1);
  EXPECT_EQ(result(vm, "select", {i32(0)}), 2);
  // Each VM::call runs a fresh instance: globals start from their
  // initializers every time (state that lasts lives in the store).
  EXPECT_EQ(result(vm, "bump"), 101);
  EXPECT_EQ(result(vm, "bump"), 101);
}

TEST_P(Semantics, TrapsAreValues) {
  VM vm = load("control");
  EXPECT_EQ(trapKind(vm, "unreachable"), ErrorKind::Unreachable);
  EXPECT_EQ(trapKind(vm, "recurse", {i32(0)}), ErrorKind::StackExhausted);
  // The depth limit is counted in wasm frames, the same on every machine.
  EXPECT_EQ(result(vm, "depth", {i32(4999)}), 4999);
  EXPECT_EQ(trapKind(vm, "depth", {i32(5000)}), ErrorKind::StackExhausted);
  // The VM is usable after every trap.
  EXPECT_EQ(result(vm, "sum", {i32(3)}), 6);
}

TEST_P(Semantics, MemoryAccessesAreBoundsChecked) {
  VM vm = load("memory");
  EXPECT_EQ(result(vm, "load", {i32(16)}), 42);
  EXPECT_EQ(result(vm, "load8_s", {i32(20)}), 'h');
  EXPECT_EQ(result(vm, "load16_u64", {i32(20)}), 'h' | ('e' << 8));
  EXPECT_EQ(result(vm, "load", {i32(65532)}), 0);
  EXPECT_EQ(trapKind(vm, "load", {i32(65533)}), ErrorKind::MemoryOutOfBounds);
  EXPECT_EQ(trapKind(vm, "load", {i32(-1)}), ErrorKind::MemoryOutOfBounds);
  // address + offset is computed without wrapping at 32 bits.
  EXPECT_EQ(result(vm, "load_offset", {i32(0)}), 0);
  EXPECT_EQ(trapKind(vm, "load_offset", {i32(1)}), ErrorKind::MemoryOutOfBounds);
  EXPECT_EQ(trapKind(vm, "load_offset", {i32(-4)}), ErrorKind::MemoryOutOfBounds);
  EXPECT_EQ(result(vm, "store_load64", {i32(100), i64(-5)}), -5);
  EXPECT_EQ(trapKind(vm, "store", {i32(65535), i32(1)}), ErrorKind::MemoryOutOfBounds);
}

TEST_P(Semantics, MemoryGrowsUpToItsMaximum) {
  VM vm = load("memory");
  EXPECT_EQ(result(vm, "size"), 1);
  EXPECT_EQ(result(vm, "grow", {i32(2)}), 1);
  EXPECT_EQ(result(vm, "grow", {i32(3)}), -1); // past the declared maximum
  EXPECT_EQ(result(vm, "grow_store"), 5);
}

TEST_P(Semantics, MemoryLimitCapsGrowth) {
  auto engine = std::make_shared<Engine>(EngineOptions{GetParam()});
  Limits limits;
  limits.memoryPages = 2;
  VM vm = nomos::test::loadVM(watModule("memory"),
                              {.engine = engine, .limits = limits});
  EXPECT_EQ(result(vm, "grow", {i32(1)}), 1);
  EXPECT_EQ(result(vm, "grow", {i32(2)}), -1);
}

TEST_P(Semantics, ArgumentsAreChecked) {
  VM vm = load("arith");
  auto wrongCount = call(vm, "clz");
  ASSERT_FALSE(wrongCount);
  EXPECT_EQ(wrongCount.error().kind, ErrorKind::BadArguments);
  auto wrongType = call(vm, "clz", {i64(1)});
  ASSERT_FALSE(wrongType);
  EXPECT_EQ(wrongType.error().kind, ErrorKind::BadArguments);
}

TEST_P(Semantics, LargeFramesCountMoreTowardTheDepthLimit) {
  // Frames of about 1.6 KiB at -O0: 4,999 of them would need ~8 MiB of
  // native stack. Each counts 4 toward the limit of 5,000 (113 locals and
  // its code, estimated from the wasm), so the same depth traps at every
  // optimization level, well before the native stack runs out.
  VM vm = load("big_frames");
  EXPECT_EQ(trapKind(vm, "deep", {i32(4999)}), ErrorKind::StackExhausted);
  EXPECT_EQ(trapKind(vm, "deep", {i32(1250)}), ErrorKind::StackExhausted);
  EXPECT_EQ(result(vm, "deep", {i32(1249)}), 1249);
}

INSTANTIATE_TEST_SUITE_P(OptLevels, Semantics, testing::Values(0u, 2u),
                         [](const auto &info) {
                           return "O" + std::to_string(info.param);
                         });

// Valid wasm that Nomos does not run must be refused with a message naming
// the construct, never miscompiled: here a function with 100,001 locals (one
// declaration group), past Nomos's limit. (Built by hand: wat cannot say
// it briefly.)
TEST(Rejection, UnsupportedConstructIsNamed) {
  const Bytes code = {
      0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
      0x01, 0x04, 0x01, 0x60, 0x00, 0x00,             // type 0: [] -> []
      0x03, 0x02, 0x01, 0x00,                         // func 0: type 0
      0x0a, 0x08, 0x01, 0x06,                         // code: 1 body, 6 bytes
      0x01, 0xa1, 0x8d, 0x06, 0x7f,                   // 100001 x i32
      0x0b};                                          // end
  auto vm = VM::create(code);
  ASSERT_FALSE(vm);
  EXPECT_EQ(vm.error().kind, ErrorKind::Unsupported);
  EXPECT_NE(vm.error().message.find("too many locals"), std::string::npos)
      << vm.error().message;
}

TEST(Rejection, UnknownImportIsALinkError) {
  auto vm = VM::create(watModule("link_error"));
  ASSERT_FALSE(vm);
  EXPECT_EQ(vm.error().kind, ErrorKind::LinkError);
  EXPECT_NE(vm.error().message.find("env"), std::string::npos);
  EXPECT_NE(vm.error().message.find("print"), std::string::npos);
}
