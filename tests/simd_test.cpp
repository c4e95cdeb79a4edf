// v128 values across every boundary (host functions, imported and own
// globals, calls, memory) and the SIMD operators where wasm differs from
// LLVM or determinism matters, bit for bit, at every optimization level.
// (The official simd_*.wast files cover the operators at large.)
#include "test_util.h"

#include <nomos/instance.h>

#include <array>
#include <bit>
#include <cstdint>
#include <optional>

using namespace nomos;
using nomos::test::watModule;

namespace {

constexpr uint32_t kNaN32 = 0x7fc00000; // canonical
constexpr uint64_t kNaN64 = 0x7ff8000000000000ull;
constexpr uint32_t kSNaN32 = 0x7fa00001; // signaling, with payload
constexpr uint32_t kNegQNaN32 = 0xffc12345;
constexpr uint64_t kNegQNaN64 = 0xfff8000000012345ull;

uint32_t f(float v) { return std::bit_cast<uint32_t>(v); }
uint64_t d(double v) { return std::bit_cast<uint64_t>(v); }

Value v128(uint64_t lo, uint64_t hi) { return Value::v128(lo, hi); }
// Lanes, lowest first.
Value u32x4(uint32_t a, uint32_t b, uint32_t c, uint32_t e) {
  return v128(a | uint64_t(b) << 32, c | uint64_t(e) << 32);
}
Value u16x8(std::array<uint16_t, 8> lanes) {
  uint64_t half[2] = {0, 0};
  for (unsigned i = 0; i < 8; ++i)
    half[i / 4] |= uint64_t(lanes[i]) << (16 * (i % 4));
  return v128(half[0], half[1]);
}
Value u8x16(std::array<uint8_t, 16> lanes) {
  uint64_t half[2] = {0, 0};
  for (unsigned i = 0; i < 16; ++i)
    half[i / 8] |= uint64_t(lanes[i]) << (8 * (i % 8));
  return v128(half[0], half[1]);
}

class Simd : public testing::TestWithParam<unsigned> {
protected:
  void SetUp() override {
    engine_ = std::make_unique<Engine>(EngineOptions{GetParam()});
    importedGlobal_ = Extern::global(u32x4(1, 2, 3, 4), true);
    // host.twist(v, n) = (v.hi, v.lo + n): the halves swapped, n added.
    Extern twist = Extern::function(
        FunctionType{{ValueType::V128, ValueType::I32}, {ValueType::V128}},
        [](std::span<const Value> args) -> Expected<std::vector<Value>> {
          return std::vector<Value>{
              v128(args[0].hi, args[0].bits + uint32_t(args[1].bits))};
        });
    auto instance = Instance::create(
        *engine_, watModule("simd"),
        [&](std::string_view module, std::string_view name)
            -> std::optional<Extern> {
          if (module == "host" && name == "twist")
            return twist;
          if (module == "host" && name == "g")
            return *importedGlobal_;
          return std::nullopt;
        });
    ASSERT_TRUE(instance) << instance.error().toString();
    instance_.emplace(std::move(*instance));
  }

  Value call(std::string_view name, std::vector<Value> args = {}) {
    auto r = instance_->call(name, args);
    if (!r) {
      ADD_FAILURE() << name << ": " << r.error().toString();
      return {};
    }
    if (r->size() != 1) {
      ADD_FAILURE() << name << " returned " << r->size() << " values";
      return {};
    }
    return (*r)[0];
  }

  std::unique_ptr<Engine> engine_;
  std::optional<Extern> importedGlobal_;
  std::optional<Instance> instance_;
};

} // namespace

TEST_P(Simd, V128CrossesHostCallsGlobalsAndMemory) {
  // Swapped by a wasm callee, swapped back and added to by the host.
  EXPECT_EQ(call("call_host", {v128(0x1111, 0x2222)}), v128(0x1111, 0x2229));
  EXPECT_EQ(call("globals", {u32x4(10, 20, 30, 40)}), u32x4(11, 22, 33, 44));
  EXPECT_EQ(importedGlobal_->globalValue(), u32x4(11, 22, 33, 44));
  EXPECT_EQ(call("own_global"), u32x4(10, 20, 30, 40));
  Value pattern = v128(0x0123456789abcdefull, 0xfedcba9876543210ull);
  EXPECT_EQ(call("memory", {pattern}), pattern);
  auto oob = instance_->call("load_oob");
  ASSERT_FALSE(oob);
  EXPECT_EQ(oob.error().kind, ErrorKind::MemoryOutOfBounds);
  auto laneOob = instance_->call("lane_oob", std::vector{pattern});
  ASSERT_FALSE(laneOob);
  EXPECT_EQ(laneOob.error().kind, ErrorKind::MemoryOutOfBounds);
}

TEST_P(Simd, FloatLanesCanonicalizeComputedNaNs) {
  EXPECT_EQ(call("f32x4.add", {u32x4(kSNaN32, f(1), kNegQNaN32, f(2)),
                               u32x4(f(1), kSNaN32, f(1), f(3))}),
            u32x4(kNaN32, kNaN32, kNaN32, f(5)));
  // min: NaN if either lane is NaN; -0 < +0.
  EXPECT_EQ(call("f64x2.min", {v128(d(-0.0), kNegQNaN64), v128(d(0.0), d(1))}),
            v128(d(-0.0), kNaN64));
  // nearest: ties to even, the sign of zero kept.
  EXPECT_EQ(call("f32x4.nearest", {u32x4(f(2.5f), f(-0.5f), kSNaN32, f(3.5f))}),
            u32x4(f(2), f(-0.0f), kNaN32, f(4)));
  EXPECT_EQ(call("f32x4.demote_f64x2_zero", {v128(kNegQNaN64, d(1.5))}),
            u32x4(kNaN32, f(1.5f), 0, 0));
}

TEST_P(Simd, SignOperationsAndPseudoMinKeepNaNBits) {
  EXPECT_EQ(call("f32x4.neg", {u32x4(kSNaN32, kNegQNaN32, 0, f(1))}),
            u32x4(0xffa00001, 0x7fc12345, 0x80000000, f(-1)));
  // pmin(a, b) = b < a ? b : a: an operand's bits, NaN payloads included,
  // and -0 / +0 by position, not by IEEE min.
  EXPECT_EQ(call("f32x4.pmin", {u32x4(kSNaN32, f(1), f(-0.0f), f(0.0f)),
                                u32x4(f(1), kNegQNaN32, f(0.0f), f(-0.0f))}),
            u32x4(kSNaN32, f(1), f(-0.0f), f(0.0f)));
}

TEST_P(Simd, IntegerLanesFollowWasm) {
  // swizzle: an index of 16 or more gives 0 (not index mod 16).
  Value bytes = u8x16({0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18,
                       0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f});
  EXPECT_EQ(call("i8x16.swizzle",
                 {bytes, u8x16({0, 15, 16, 255, 0x80, 1, 17, 31, 2, 3, 4, 5,
                                6, 7, 8, 0x8f})}),
            u8x16({0x10, 0x1f, 0, 0, 0, 0x11, 0, 0, 0x12, 0x13, 0x14, 0x15,
                   0x16, 0x17, 0x18, 0}));
  // Shift counts modulo the lane width.
  EXPECT_EQ(call("i32x4.shl", {u32x4(1, 2, 3, 0x80000001), Value::i32(33)}),
            u32x4(2, 4, 6, 2));
  // q15mulr_sat_s: 0x8000 * 0x8000 saturates to 0x7fff.
  EXPECT_EQ(call("i16x8.q15mulr_sat_s",
                 {u16x8({0x8000, 0x4000, 0x8000, 0xffff, 0, 0, 0, 0x7fff}),
                  u16x8({0x8000, 0x4000, 0x7fff, 0xffff, 0, 0, 0, 0x7fff})}),
            u16x8({0x7fff, 0x2000, 0x8001, 0, 0, 0, 0, 0x7ffe}));
  // abs(INT64_MIN) is INT64_MIN.
  EXPECT_EQ(call("i64x2.abs", {v128(0x8000000000000000ull, uint64_t(-5))}),
            v128(0x8000000000000000ull, 5));
  // narrow_u saturates signed lanes to [0, 255].
  EXPECT_EQ(call("i8x16.narrow_i16x8_u",
                 {u16x8({0xffff, 300, 128, 255, 0, 0x8000, 0x7fff, 1}),
                  u16x8({2, 3, 4, 5, 6, 7, 8, 9})}),
            u8x16({0, 255, 128, 255, 0, 0, 255, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_EQ(call("i8x16.bitmask", {v128(0x80, 0x8000000000000000ull)}),
            Value::i32(0x8001));
  EXPECT_EQ(call("i16x8.extract_lane_s", {v128(0, 0xfffe000000000000ull)}),
            Value::i32(-2));
}

INSTANTIATE_TEST_SUITE_P(OptLevels, Simd, testing::Values(0u, 2u),
                         [](const auto &info) {
                           return "O" + std::to_string(info.param);
                         });
