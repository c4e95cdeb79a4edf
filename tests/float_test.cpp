// Exact wasm semantics of f32/f64, bit for bit, at every optimization level:
// NaN propagation and canonicalization, signed zeros, rounding, and the edges
// of every conversion.
#include "test_util.h"

#include <bit>
#include <cmath>
#include <cstdint>
#include <optional>
#include <variant>

using namespace nomos;
using nomos::test::watModule;

namespace {

constexpr uint32_t kNaN32 = 0x7fc00000;            // canonical
constexpr uint64_t kNaN64 = 0x7ff8000000000000ull; // canonical
constexpr uint32_t kSNaN32 = 0x7fa00001;           // signaling, with payload
constexpr uint64_t kSNaN64 = 0x7ff4000000000001ull;
constexpr uint32_t kNegQNaN32 = 0xffc12345; // quiet, negative, payload
constexpr uint64_t kNegQNaN64 = 0xfff8000000012345ull;
constexpr uint32_t kNegZero32 = 0x80000000;
constexpr uint64_t kNegZero64 = 0x8000000000000000ull;

Value f32(float v) { return Value{ValueType::F32, std::bit_cast<uint32_t>(v)}; }
Value f64(double v) {
  return Value{ValueType::F64, std::bit_cast<uint64_t>(v)};
}
Value f32b(uint32_t bits) { return Value{ValueType::F32, bits}; }
Value f64b(uint64_t bits) { return Value{ValueType::F64, bits}; }
Value i32(int32_t v) { return Value::i32(v); }
Value i64(int64_t v) { return Value::i64(v); }
uint32_t bits32(float v) { return std::bit_cast<uint32_t>(v); }
uint64_t bits64(double v) { return std::bit_cast<uint64_t>(v); }

VM loadFloats(unsigned optLevel) {
  auto engine = std::make_shared<Engine>(EngineOptions{optLevel});
  return nomos::test::loadVM(watModule("floats"), {.engine = engine});
}

class Floats : public testing::TestWithParam<unsigned> {
protected:
  void SetUp() override { vm_.emplace(loadFloats(GetParam())); }

  // The raw bits of the single result (i32 and f32 in the low 32 bits).
  uint64_t bits(std::string_view name, std::vector<Value> args = {}) {
    auto r = vm_->call(name, args);
    if (!r) {
      ADD_FAILURE() << name << ": " << r.error().toString();
      return 0xdeadbeef;
    }
    if (r->results.size() != 1) {
      ADD_FAILURE() << name << " returned " << r->results.size() << " values";
      return 0xdeadbeef;
    }
    return r->results[0].bits;
  }

  ErrorKind trapKind(std::string_view name, std::vector<Value> args = {}) {
    auto r = vm_->call(name, args);
    if (r) {
      ADD_FAILURE() << name << " returned normally";
      return ErrorKind::HostError;
    }
    return r.error().kind;
  }

  std::optional<VM> vm_;
};

// Both operand orders give the same result.
#define EXPECT_SYMMETRIC(name, a, b, expected)                                 \
  do {                                                                         \
    EXPECT_EQ(bits(name, {a, b}), expected) << name;                           \
    EXPECT_EQ(bits(name, {b, a}), expected) << name;                           \
  } while (0)

} // namespace

TEST_P(Floats, MinMaxPropagateNaNAndOrderZeros) {
  // -0 < +0 in wasm (minnum/fmin may return either).
  EXPECT_SYMMETRIC("f32.min", f32(-0.0f), f32(0.0f), kNegZero32);
  EXPECT_SYMMETRIC("f32.max", f32(-0.0f), f32(0.0f), 0u);
  EXPECT_SYMMETRIC("f64.min", f64(-0.0), f64(0.0), kNegZero64);
  EXPECT_SYMMETRIC("f64.max", f64(-0.0), f64(0.0), 0u);
  // NaN if either operand is NaN (minnum/maxnum return the other), canonical.
  EXPECT_SYMMETRIC("f32.min", f32b(kSNaN32), f32(1.0f), kNaN32);
  EXPECT_SYMMETRIC("f32.max", f32b(kNegQNaN32), f32(1.0f), kNaN32);
  EXPECT_SYMMETRIC("f32.max", f32b(kNegQNaN32), f32(-INFINITY), kNaN32);
  EXPECT_SYMMETRIC("f64.min", f64b(kSNaN64), f64(-INFINITY), kNaN64);
  EXPECT_SYMMETRIC("f64.max", f64b(kNegQNaN64), f64(1.0), kNaN64);
  EXPECT_EQ(bits("f64.max", {f64b(kNegQNaN64), f64b(kSNaN64)}), kNaN64);
  // Ordinary values.
  EXPECT_SYMMETRIC("f32.min", f32(-2.5f), f32(1.0f), bits32(-2.5f));
  EXPECT_SYMMETRIC("f32.max", f32(-2.5f), f32(1.0f), bits32(1.0f));
  EXPECT_SYMMETRIC("f64.min", f64(INFINITY), f64(7.0), bits64(7.0));
  EXPECT_SYMMETRIC("f64.max", f64(-INFINITY), f64(-7.0), bits64(-7.0));
}

TEST_P(Floats, RoundingToIntegralValues) {
  // nearest: ties to even, the sign of zero kept.
  EXPECT_EQ(bits("f32.nearest", {f32(2.5f)}), bits32(2.0f));
  EXPECT_EQ(bits("f32.nearest", {f32(3.5f)}), bits32(4.0f));
  EXPECT_EQ(bits("f32.nearest", {f32(-0.5f)}), kNegZero32);
  EXPECT_EQ(bits("f32.nearest", {f32(0.5f)}), 0u);
  EXPECT_EQ(bits("f32.nearest", {f32(-2.5f)}), bits32(-2.0f));
  EXPECT_EQ(bits("f32.nearest", {f32(8388609.0f)}), bits32(8388609.0f));
  EXPECT_EQ(bits("f64.nearest", {f64(2.5)}), bits64(2.0));
  EXPECT_EQ(bits("f64.nearest", {f64(3.5)}), bits64(4.0));
  EXPECT_EQ(bits("f64.nearest", {f64(-0.5)}), kNegZero64);
  EXPECT_EQ(bits("f64.nearest", {f64(4503599627370497.0)}),
            bits64(4503599627370497.0));
  EXPECT_EQ(bits("f64.nearest", {f64(-1.5)}), bits64(-2.0));
  EXPECT_EQ(bits("f32.ceil", {f32(-0.5f)}), kNegZero32);
  EXPECT_EQ(bits("f32.ceil", {f32(1.25f)}), bits32(2.0f));
  EXPECT_EQ(bits("f32.floor", {f32(-0.5f)}), bits32(-1.0f));
  EXPECT_EQ(bits("f32.trunc", {f32(-0.75f)}), kNegZero32);
  EXPECT_EQ(bits("f64.ceil", {f64(-0.25)}), kNegZero64);
  EXPECT_EQ(bits("f64.floor", {f64(1.75)}), bits64(1.0));
  EXPECT_EQ(bits("f64.trunc", {f64(-2.75)}), bits64(-2.0));
  // NaN in, canonical NaN out.
  EXPECT_EQ(bits("f32.ceil", {f32b(kSNaN32)}), kNaN32);
  EXPECT_EQ(bits("f32.nearest", {f32b(kNegQNaN32)}), kNaN32);
  EXPECT_EQ(bits("f64.floor", {f64b(kNegQNaN64)}), kNaN64);
  EXPECT_EQ(bits("f64.trunc", {f64b(kSNaN64)}), kNaN64);
}

TEST_P(Floats, SignOperationsKeepNaNPayloads) {
  EXPECT_EQ(bits("f32.abs", {f32b(0xffa00001)}), 0x7fa00001u);
  EXPECT_EQ(bits("f32.neg", {f32b(kSNaN32)}), 0xffa00001u);
  EXPECT_EQ(bits("f32.neg", {f32b(kNegQNaN32)}), 0x7fc12345u);
  EXPECT_EQ(bits("f32.copysign", {f32b(kSNaN32), f32(-1.0f)}), 0xffa00001u);
  EXPECT_EQ(bits("f32.copysign", {f32b(kNegQNaN32), f32b(kNaN32)}),
            0x7fc12345u);
  EXPECT_EQ(bits("f32.copysign", {f32(2.0f), f32b(kNegQNaN32)}), bits32(-2.0f));
  EXPECT_EQ(bits("f64.abs", {f64b(kNegQNaN64)}), 0x7ff8000000012345ull);
  EXPECT_EQ(bits("f64.neg", {f64b(kSNaN64)}), 0xfff4000000000001ull);
  EXPECT_EQ(bits("f64.copysign", {f64b(kSNaN64), f64(-0.0)}),
            0xfff4000000000001ull);
  EXPECT_EQ(bits("f64.neg", {f64(0.0)}), kNegZero64);
  EXPECT_EQ(bits("f64.abs", {f64(-0.0)}), 0u);
}

// LLVM 19 crashed compiling this module at -O2 (min/max of a min/max and a
// copysign of the same operands): the whole suite would die here.
TEST_P(Floats, MinMaxBesideCopySignOfTheSameOperands) {
  EXPECT_EQ(bits("min_of_copysign", {f64(1.5), f64(-2.0)}), bits64(-2.0));
  EXPECT_EQ(bits("min_of_copysign", {f64(-0.0), f64(0.0)}), kNegZero64);
  EXPECT_EQ(bits("max_of_copysign32", {f32(-3.0f), f32(2.0f)}), bits32(3.0f));
  EXPECT_EQ(bits("max_of_copysign32", {f32b(kSNaN32), f32(1.0f)}), kNaN32);
}

TEST_P(Floats, ArithmeticNaNsAreCanonical) {
  // x86 itself produces the negative "default NaN" 0xffc00000 for 0/0.
  EXPECT_EQ(bits("f32.div", {f32(0.0f), f32(0.0f)}), kNaN32);
  EXPECT_EQ(bits("f64.div", {f64(0.0), f64(0.0)}), kNaN64);
  EXPECT_EQ(bits("f32.sqrt", {f32(-1.0f)}), kNaN32);
  EXPECT_EQ(bits("f64.sqrt", {f64(-1.0)}), kNaN64);
  EXPECT_EQ(bits("f32.sub", {f32(INFINITY), f32(INFINITY)}), kNaN32);
  EXPECT_EQ(bits("f64.mul", {f64(INFINITY), f64(0.0)}), kNaN64);
  EXPECT_EQ(bits("f64.add", {f64(-INFINITY), f64(INFINITY)}), kNaN64);
  // A NaN operand's payload and sign do not leak through.
  EXPECT_SYMMETRIC("f32.add", f32b(kSNaN32), f32(1.0f), kNaN32);
  EXPECT_SYMMETRIC("f32.mul", f32b(kNegQNaN32), f32(2.0f), kNaN32);
  EXPECT_EQ(bits("f32.sub", {f32b(kNegQNaN32), f32b(kSNaN32)}), kNaN32);
  EXPECT_SYMMETRIC("f64.add", f64b(kNegQNaN64), f64(1.0), kNaN64);
  EXPECT_SYMMETRIC("f64.div", f64b(kSNaN64), f64(3.0), kNaN64);
  EXPECT_EQ(bits("f64.sqrt", {f64b(kNegQNaN64)}), kNaN64);
  // Folded by the optimizer at O2: the same bits.
  EXPECT_EQ(bits("const_sum_nan32"), kNaN32);
  EXPECT_EQ(bits("const_div64"), kNaN64);
  EXPECT_EQ(bits("const_sqrt64"), kNaN64);
  EXPECT_EQ(bits("const_nearest32"), kNegZero32);
  // Ordinary arithmetic is IEEE, round to nearest even.
  EXPECT_EQ(bits("f32.add", {f32(0.1f), f32(0.2f)}), bits32(0.1f + 0.2f));
  EXPECT_EQ(bits("f64.add", {f64(0.1), f64(0.2)}), bits64(0.1 + 0.2));
  EXPECT_EQ(bits("f64.div", {f64(1.0), f64(-0.0)}), bits64(-INFINITY));
  EXPECT_EQ(bits("f32.sqrt", {f32(2.0f)}), bits32(1.41421354f));
  // Subnormals are not flushed to zero.
  EXPECT_EQ(bits("f32.mul", {f32b(0x00000001), f32(1.0f)}), 1u);
  EXPECT_EQ(bits("f64.div", {f64b(2), f64(2.0)}), 1u);
}

TEST_P(Floats, ComparisonsAreOrderedExceptNe) {
  for (const char *op : {"f32.eq", "f32.lt", "f32.le", "f32.gt", "f32.ge"}) {
    EXPECT_EQ(bits(op, {f32b(kNaN32), f32b(kNaN32)}), 0u) << op;
    EXPECT_EQ(bits(op, {f32b(kSNaN32), f32(1.0f)}), 0u) << op;
    EXPECT_EQ(bits(op, {f32(1.0f), f32b(kNegQNaN32)}), 0u) << op;
  }
  EXPECT_EQ(bits("f32.ne", {f32b(kNaN32), f32b(kNaN32)}), 1u);
  EXPECT_EQ(bits("f32.ne", {f32(1.0f), f32b(kSNaN32)}), 1u);
  EXPECT_EQ(bits("f32.ne", {f32(1.0f), f32(1.0f)}), 0u);
  EXPECT_EQ(bits("f32.eq", {f32(-0.0f), f32(0.0f)}), 1u);
  EXPECT_EQ(bits("f32.lt", {f32(-0.0f), f32(0.0f)}), 0u);
  EXPECT_EQ(bits("f32.le", {f32(-0.0f), f32(0.0f)}), 1u);
  EXPECT_EQ(bits("f32.gt", {f32(2.0f), f32(1.0f)}), 1u);
  EXPECT_EQ(bits("f64.eq", {f64b(kNaN64), f64b(kNaN64)}), 0u);
  EXPECT_EQ(bits("f64.ne", {f64b(kSNaN64), f64(0.0)}), 1u);
  EXPECT_EQ(bits("f64.lt", {f64(-INFINITY), f64(-1e308)}), 1u);
  EXPECT_EQ(bits("f64.ge", {f64b(kNaN64), f64(1.0)}), 0u);
  EXPECT_EQ(bits("f64.ge", {f64(0.0), f64(-0.0)}), 1u);
}

// One trapping truncation: the last valid inputs at each end convert, the
// first invalid ones trap with IntegerOverflow, NaN with InvalidConversion.
struct TruncEdges {
  const char *name;
  Value lastValidHigh, firstInvalidHigh, lastValidLow, firstInvalidLow;
  uint64_t highResult, lowResult;
  Value nan, inf;
};

TEST_P(Floats, TrappingTruncationEdges) {
  const TruncEdges cases[] = {
      {"i32.trunc_f32_s", f32b(0x4effffff), f32(2147483648.0f),
       f32(-2147483648.0f), f32b(0xcf000001), 2147483520u, 0x80000000u,
       f32b(kSNaN32), f32(INFINITY)},
      {"i32.trunc_f32_u", f32b(0x4f7fffff), f32(4294967296.0f),
       f32b(0xbf7fffff) /* -0.99999994 */, f32(-1.0f), 4294967040u, 0u,
       f32b(kNegQNaN32), f32(INFINITY)},
      {"i32.trunc_f64_s", f64(2147483647.9999998), f64(2147483648.0),
       f64(-2147483648.9999995), f64(-2147483649.0), 2147483647u, 0x80000000u,
       f64b(kSNaN64), f64(-INFINITY)},
      {"i32.trunc_f64_u", f64(4294967295.9999995), f64(4294967296.0),
       f64(-0.9999999999999999), f64(-1.0), 0xffffffffu, 0u, f64b(kNegQNaN64),
       f64(INFINITY)},
      {"i64.trunc_f32_s", f32b(0x5effffff), f32b(0x5f000000),
       f32b(0xdf000000) /* -2^63 */, f32b(0xdf000001), 9223371487098961920ull,
       0x8000000000000000ull, f32b(kNaN32), f32(-INFINITY)},
      {"i64.trunc_f32_u", f32b(0x5f7fffff), f32b(0x5f800000) /* 2^64 */,
       f32b(0xbf7fffff), f32(-1.0f), 18446742974197923840ull, 0u,
       f32b(0xff800001), f32(INFINITY)},
      {"i64.trunc_f64_s", f64b(0x43dfffffffffffff), f64b(0x43e0000000000000),
       f64b(0xc3e0000000000000) /* -2^63 */, f64b(0xc3e0000000000001),
       9223372036854774784ull, 0x8000000000000000ull, f64b(kNaN64),
       f64(INFINITY)},
      {"i64.trunc_f64_u", f64b(0x43efffffffffffff), f64b(0x43f0000000000000),
       f64(-0.9999999999999999), f64(-1.0), 18446744073709549568ull, 0u,
       f64b(kSNaN64), f64(-INFINITY)},
  };
  for (const TruncEdges &c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(bits(c.name, {c.lastValidHigh}), c.highResult);
    EXPECT_EQ(bits(c.name, {c.lastValidLow}), c.lowResult);
    EXPECT_EQ(trapKind(c.name, {c.firstInvalidHigh}),
              ErrorKind::IntegerOverflow);
    EXPECT_EQ(trapKind(c.name, {c.firstInvalidLow}),
              ErrorKind::IntegerOverflow);
    EXPECT_EQ(trapKind(c.name, {c.inf}), ErrorKind::IntegerOverflow);
    EXPECT_EQ(trapKind(c.name, {c.nan}), ErrorKind::InvalidConversion);
  }
  // Unsigned values at and above 2^63.
  EXPECT_EQ(bits("i64.trunc_f64_u", {f64(9223372036854775808.0)}),
            0x8000000000000000ull);
  EXPECT_EQ(bits("i64.trunc_f32_u", {f32(9223372036854775808.0f)}),
            0x8000000000000000ull);
  EXPECT_EQ(bits("i32.trunc_f32_u", {f32(2147483648.0f)}), 0x80000000u);
  EXPECT_EQ(bits("i32.trunc_f32_s", {f32(-1.75f)}), uint32_t(-1));
  EXPECT_EQ(bits("i32.trunc_f32_u", {f32(-0.0f)}), 0u);
  // The trap happens at O2 too, when the operand is a constant.
  EXPECT_EQ(trapKind("const_trunc_s"), ErrorKind::IntegerOverflow);
  // The instance is usable after a trap.
  EXPECT_EQ(bits("i32.trunc_f64_s", {f64(-7.9)}), uint32_t(-7));
}

TEST_P(Floats, SaturatingTruncationEdges) {
  const char *all[] = {"i32.trunc_sat_f32_s", "i32.trunc_sat_f32_u",
                       "i64.trunc_sat_f32_s", "i64.trunc_sat_f32_u"};
  const char *all64[] = {"i32.trunc_sat_f64_s", "i32.trunc_sat_f64_u",
                         "i64.trunc_sat_f64_s", "i64.trunc_sat_f64_u"};
  for (const char *name : all) {
    EXPECT_EQ(bits(name, {f32b(kSNaN32)}), 0u) << name;
    EXPECT_EQ(bits(name, {f32b(kNegQNaN32)}), 0u) << name;
  }
  for (const char *name : all64) {
    EXPECT_EQ(bits(name, {f64b(kNaN64)}), 0u) << name;
    EXPECT_EQ(bits(name, {f64b(kNegQNaN64)}), 0u) << name;
  }
  EXPECT_EQ(bits("i32.trunc_sat_f32_s", {f32(2147483648.0f)}), 0x7fffffffu);
  EXPECT_EQ(bits("i32.trunc_sat_f32_s", {f32b(0x4effffff)}), 2147483520u);
  EXPECT_EQ(bits("i32.trunc_sat_f32_s", {f32b(0xcf000001)}), 0x80000000u);
  EXPECT_EQ(bits("i32.trunc_sat_f32_s", {f32(-INFINITY)}), 0x80000000u);
  EXPECT_EQ(bits("i32.trunc_sat_f32_u", {f32(-1.0f)}), 0u);
  EXPECT_EQ(bits("i32.trunc_sat_f32_u", {f32(4294967296.0f)}), 0xffffffffu);
  EXPECT_EQ(bits("i32.trunc_sat_f32_u", {f32b(0x4f7fffff)}), 4294967040u);
  EXPECT_EQ(bits("i32.trunc_sat_f64_s", {f64(2147483647.9999998)}),
            2147483647u);
  EXPECT_EQ(bits("i32.trunc_sat_f64_s", {f64(-2147483649.0)}), 0x80000000u);
  EXPECT_EQ(bits("i32.trunc_sat_f64_u", {f64(4294967295.9999995)}),
            0xffffffffu);
  EXPECT_EQ(bits("i32.trunc_sat_f64_u", {f64(1e300)}), 0xffffffffu);
  EXPECT_EQ(bits("i32.trunc_sat_f64_u", {f64(-0.9)}), 0u);
  EXPECT_EQ(bits("i64.trunc_sat_f32_s", {f32(INFINITY)}),
            0x7fffffffffffffffull);
  EXPECT_EQ(bits("i64.trunc_sat_f32_s", {f32b(0xdf000000)}),
            0x8000000000000000ull);
  EXPECT_EQ(bits("i64.trunc_sat_f32_u", {f32b(0x5f800000)}), ~0ull);
  EXPECT_EQ(bits("i64.trunc_sat_f64_s", {f64b(0x43e0000000000000)}),
            0x7fffffffffffffffull);
  EXPECT_EQ(bits("i64.trunc_sat_f64_s", {f64b(0x43dfffffffffffff)}),
            9223372036854774784ull);
  EXPECT_EQ(bits("i64.trunc_sat_f64_s", {f64(-INFINITY)}),
            0x8000000000000000ull);
  EXPECT_EQ(bits("i64.trunc_sat_f64_u", {f64(9223372036854775808.0)}),
            0x8000000000000000ull);
  EXPECT_EQ(bits("i64.trunc_sat_f64_u", {f64b(0x43efffffffffffff)}),
            18446744073709549568ull);
  EXPECT_EQ(bits("i64.trunc_sat_f64_u", {f64b(0x43f0000000000000)}), ~0ull);
  EXPECT_EQ(bits("i64.trunc_sat_f64_u", {f64(-INFINITY)}), 0u);
}

TEST_P(Floats, IntegerToFloatConversionsRoundToNearestEven) {
  // Unsigned values >= 2^63 (x86 has no unsigned conversion).
  EXPECT_EQ(bits("f64.convert_i64_u", {i64(INT64_MIN)}), 0x43e0000000000000ull);
  EXPECT_EQ(bits("f64.convert_i64_u", {i64(-1)}), 0x43f0000000000000ull);
  EXPECT_EQ(bits("f32.convert_i64_u", {i64(-1)}), 0x5f800000u);
  EXPECT_EQ(bits("f32.convert_i64_u", {i64(INT64_MIN)}), 0x5f000000u);
  // Exactly halfway between two f32 values: ties to even (down)...
  EXPECT_EQ(bits("f32.convert_i64_u", {i64(int64_t(0x8000008000000000ull))}),
            0x5f000000u);
  // ...and just above halfway: up. Rounding through f64 first gets this wrong.
  EXPECT_EQ(bits("f32.convert_i64_u", {i64(int64_t(0x8000008000000001ull))}),
            0x5f000001u);
  EXPECT_EQ(bits("f32.convert_i64_s", {i64(0x4000004000000001ll)}),
            0x5e800001u);
  EXPECT_EQ(bits("f32.convert_i64_s", {i64(-0x4000004000000001ll)}),
            0xde800001u);
  EXPECT_EQ(bits("f64.convert_i64_u", {i64(int64_t(0x8000000000000401ull))}),
            0x43e0000000000001ull);
  EXPECT_EQ(bits("f64.convert_i64_s", {i64(0x0020000000000001ll)}),
            bits64(9007199254740992.0));
  EXPECT_EQ(bits("f32.convert_i32_u", {i32(-1)}), 0x4f800000u);
  EXPECT_EQ(bits("f32.convert_i32_s", {i32(16777217)}), bits32(16777216.0f));
  EXPECT_EQ(bits("f32.convert_i32_s", {i32(INT32_MIN)}), 0xcf000000u);
  EXPECT_EQ(bits("f64.convert_i32_u", {i32(-1)}), bits64(4294967295.0));
}

TEST_P(Floats, PromoteAndDemote) {
  EXPECT_EQ(bits("f64.promote_f32", {f32b(kSNaN32)}), kNaN64);
  EXPECT_EQ(bits("f64.promote_f32", {f32b(kNegQNaN32)}), kNaN64);
  EXPECT_EQ(bits("f64.promote_f32", {f32(-0.0f)}), kNegZero64);
  EXPECT_EQ(bits("f64.promote_f32", {f32b(1)}), bits64(0x1p-149));
  EXPECT_EQ(bits("f32.demote_f64", {f64b(kSNaN64)}), kNaN32);
  EXPECT_EQ(bits("f32.demote_f64", {f64b(kNegQNaN64)}), kNaN32);
  EXPECT_EQ(bits("f32.demote_f64", {f64(1e300)}), 0x7f800000u);
  EXPECT_EQ(bits("f32.demote_f64", {f64(-1e-300)}), kNegZero32);
  // Halfway between 1 and the next f32: ties to even.
  EXPECT_EQ(bits("f32.demote_f64", {f64b(0x3ff0000010000000)}), 0x3f800000u);
  EXPECT_EQ(bits("f32.demote_f64", {f64b(0x3ff0000010000001)}), 0x3f800001u);
}

TEST_P(Floats, ReinterpretAndMovesKeepBits) {
  EXPECT_EQ(bits("i32.reinterpret_f32", {f32b(kSNaN32)}), kSNaN32);
  EXPECT_EQ(bits("f32.reinterpret_i32", {i32(int32_t(0xff800001))}),
            0xff800001u);
  EXPECT_EQ(bits("i64.reinterpret_f64", {f64b(kSNaN64)}), kSNaN64);
  EXPECT_EQ(bits("f64.reinterpret_i64", {i64(int64_t(kNegQNaN64))}),
            kNegQNaN64);
  // Memory: f32/f64 loads and stores, unaligned too.
  EXPECT_EQ(bits("store_load32", {i32(0), f32b(kSNaN32)}), kSNaN32);
  EXPECT_EQ(bits("store_load32", {i32(6), f32b(0xff800001)}), 0xff800001u);
  EXPECT_EQ(bits("store_load64", {i32(3), f64b(kSNaN64)}), kSNaN64);
  EXPECT_EQ(bits("store_load64", {i32(64), f64b(kNegQNaN64)}), kNegQNaN64);
  EXPECT_EQ(bits("store32_bits", {i32(8), f32b(0x7f812345)}), 0x7f812345u);
  EXPECT_EQ(bits("load64_from_bits", {i32(8), i64(0x7ff0000000000001ll)}),
            0x7ff0000000000001ull);
  EXPECT_EQ(trapKind("f32.store_oob", {i32(65533), f32(1.0f)}),
            ErrorKind::MemoryOutOfBounds);
  EXPECT_EQ(trapKind("store_load32", {i32(65532), f32(1.0f)}),
            ErrorKind::MemoryOutOfBounds);
  EXPECT_EQ(bits("store_load32", {i32(65531), f32(1.5f)}), bits32(1.5f));
  // Constants, globals, locals, select.
  EXPECT_EQ(bits("const_snan32"), 0xff800001u);
  EXPECT_EQ(bits("const_snan64"), kSNaN64);
  EXPECT_EQ(bits("const_nan_payload32"), 0x7fffffffu);
  EXPECT_EQ(bits("global32"), 0xff800123u);
  EXPECT_EQ(bits("global64_roundtrip", {f64b(kSNaN64)}), kSNaN64);
  EXPECT_EQ(bits("select64", {f64b(kSNaN64), f64(1.0), i32(1)}), kSNaN64);
  EXPECT_EQ(bits("select64", {f64(1.0), f64b(kNegQNaN64), i32(0)}), kNegQNaN64);
}

// Only observed NaNs are canonicalized (nan_canonicalization.cpp), but every
// path to an observation gets canonical bits. x86's own NaN for inf - inf is
// the negative 0xffc00000, and an input payload survives arithmetic: either
// would show if a canonicalization were missing.
TEST_P(Floats, ObservedArithmeticChainsAreCanonical) {
  EXPECT_EQ(bits("chain32", {f32b(kSNaN32), f32(1.0f)}), kNaN32);
  EXPECT_EQ(bits("chain32", {f32(2.0f), f32(3.0f)}),
            bits32((2.0f * 3.0f + 3.0f) / 2.0f - 3.0f));
  EXPECT_EQ(bits("chain_store32", {i32(8), f32(-INFINITY), f32(INFINITY)}),
            kNaN32);
  EXPECT_EQ(bits("chain_store32", {i32(8), f32b(kNegQNaN32), f32(1.0f)}),
            kNaN32);
  EXPECT_EQ(bits("chain_reinterpret64", {f64(-INFINITY), f64(INFINITY)}),
            kNaN64);
  EXPECT_EQ(bits("chain_reinterpret64", {f64b(kNegQNaN64), f64(1.0)}), kNaN64);
  // Sign-bit operations on a chain see the canonical NaN.
  EXPECT_EQ(bits("chain_neg32", {f32(INFINITY), f32(-INFINITY)}),
            kNaN32 | kNegZero32);
  EXPECT_EQ(bits("chain_abs64", {f64b(kNegQNaN64), f64(1.0)}), kNaN64);
  EXPECT_EQ(bits("chain_copysign32", {f32b(kNegQNaN32), f32(1.0f)}), kNaN32);
  EXPECT_EQ(bits("chain_copysign32", {f32b(kNegQNaN32), f32(-1.0f)}),
            kNaN32 | kNegZero32);
  // Through a loop's local, then returned or stored.
  EXPECT_EQ(bits("chain_loop64", {f64b(kNegQNaN64), f64(1.0)}), kNaN64);
  EXPECT_EQ(bits("chain_loop64", {f64(2.0), f64(3.0)}), bits64(53.0));
  EXPECT_EQ(bits("chain_loop_store64", {i32(16), f64b(kSNaN64), f64(1.0)}),
            kNaN64);
  EXPECT_EQ(bits("chain_loop_store64", {i32(16), f64(2.0), f64(3.0)}),
            bits64(26.0));
  // A local that holds the chain's middle, then its stored end.
  EXPECT_EQ(bits("chain_reused_local64", {i32(16), f64b(kNegQNaN64), f64(1.0)}),
            kNaN64);
  EXPECT_EQ(bits("chain_reused_local64", {i32(16), f64(5.0), f64(2.0)}),
            bits64(9.0));
  // A call argument, a select into a global, promote and demote.
  EXPECT_EQ(bits("chain_call32", {f32b(kNegQNaN32), f32(1.0f)}), kNaN32);
  EXPECT_EQ(bits("chain_call32", {f32(1.0f), f32(1.5f)}), bits32(2.5f));
  EXPECT_EQ(bits("chain_select_global64", {f64b(kNegQNaN64), f64(1.0), i32(1)}),
            kNaN64);
  EXPECT_EQ(bits("chain_select_global64", {f64b(kNegQNaN64), f64(1.0), i32(0)}),
            kNaN64);
  EXPECT_EQ(bits("chain_promote32", {f32b(kNegQNaN32), f32(1.0f)}), kNaN64);
  EXPECT_EQ(bits("chain_demote64", {f64b(kNegQNaN64), f64(1.0)}), kNaN32);
}

// Chains seen only by comparisons and conversions to integers.
TEST_P(Floats, UnobservedChainsKeepTheirMeaning) {
  EXPECT_EQ(bits("chain_compare32", {f32b(kNegQNaN32), f32(1.0f)}), 1u);
  EXPECT_EQ(bits("chain_compare32", {f32(1.0f), f32(2.0f)}), 0u);
  EXPECT_EQ(bits("chain_compare32", {f32(4.0f), f32(0.0f)}), 1u);
  EXPECT_EQ(trapKind("chain_trunc64", {f64b(kSNaN64), f64(1.0)}),
            ErrorKind::InvalidConversion);
  EXPECT_EQ(bits("chain_trunc64", {f64(2.5), f64(1.0)}), 3u);
  EXPECT_EQ(bits("chain_trunc_sat64", {f64b(kNegQNaN64), f64(1.0)}), 0u);
  EXPECT_EQ(bits("chain_trunc_sat64", {f64(2.0), f64(3.0)}), 15u);
}

INSTANTIATE_TEST_SUITE_P(OptLevels, Floats, testing::Values(0u, 2u),
                         [](const auto &info) {
                           return "O" + std::to_string(info.param);
                         });

// Determinism: the same calls give the same bits (or the same trap) whether
// the module was compiled at O0 or O2.
TEST(FloatDeterminism, SameBitsAtO0AndO2) {
  VM o0 = loadFloats(0);
  VM o2 = loadFloats(2);
  const std::vector<Value> f32s = {
      f32(0.0f),          f32(-0.0f),     f32(1.5f),
      f32(-2.5f),         f32(3.5f),      f32(1e30f),
      f32(INFINITY),      f32(-INFINITY), f32b(1),
      f32b(kNaN32),       f32b(kSNaN32),  f32b(kNegQNaN32),
      f32(2147483648.0f), f32(-1.0f)};
  const std::vector<Value> f64s = {
      f64(0.0),     f64(-0.0),     f64(0.1),         f64(-2.5),
      f64(1e300),   f64(INFINITY), f64(-INFINITY),   f64b(1),
      f64b(kNaN64), f64b(kSNaN64), f64b(kNegQNaN64), f64(9223372036854775808.0),
      f64(-1.0)};
  auto outcome =
      [](VM &vm, const std::string &name,
         std::vector<Value> args) -> std::variant<uint64_t, ErrorKind> {
    auto r = vm.call(name, args);
    if (!r)
      return r.error().kind;
    return r->results.at(0).bits;
  };
  size_t compared = 0;
  for (const ExportedFunction &fn : o0.exports()) {
    bool allF32 = !fn.params.empty() && fn.results.size() == 1;
    bool allF64 = allF32;
    for (ValueType type : fn.params) {
      allF32 = allF32 && type == ValueType::F32;
      allF64 = allF64 && type == ValueType::F64;
    }
    if (!allF32 && !allF64)
      continue;
    const std::vector<Value> &inputs = allF32 ? f32s : f64s;
    for (const Value &a : inputs)
      for (const Value &b : fn.params.size() == 2 ? inputs : std::vector{a}) {
        std::vector<Value> args = {a};
        if (fn.params.size() == 2)
          args.push_back(b);
        EXPECT_EQ(outcome(o0, fn.name, args), outcome(o2, fn.name, args))
            << fn.name << "(" << toString(a) << ", " << toString(b) << ")";
        ++compared;
      }
  }
  EXPECT_GT(compared, 1000u);
}

// The canonicalizations left in the lowered IR: one per observed arithmetic
// result, none for a result only arithmetic or comparisons consume.
TEST(FloatDeterminism, CanonicalizesOnlyObservedResults) {
  // Engine::inspect shows the wrapper and the body: the count covers both.
  Engine engine(EngineOptions{.metering = false});
  Bytes code = watModule("floats");
  for (auto [function, expected] : std::initializer_list<
           std::pair<const char *, size_t>>{{"chain32", 1},
                                            {"chain_store32", 1},
                                            {"chain_neg32", 1},
                                            {"chain_loop64", 1},
                                            {"chain_reused_local64", 1},
                                            {"chain_call32", 1},
                                            {"chain_select_global64", 2},
                                            {"chain_promote32", 1},
                                            {"chain_compare32", 0},
                                            {"chain_trunc_sat64", 0}}) {
    auto ir = engine.inspect(code, Stage::LLVM, function);
    ASSERT_TRUE(ir) << ir.error().toString();
    size_t count = 0;
    for (size_t at = ir->find("!nomos.canonical_nan "); at != std::string::npos;
         at = ir->find("!nomos.canonical_nan ", at + 1))
      ++count;
    EXPECT_EQ(count, expected) << function << "\n" << *ir;
  }
}

TEST(FloatValues, PrintAndParse) {
  EXPECT_EQ(toString(f32(0.1f)), "0.1");
  EXPECT_EQ(toString(f64(-2.5)), "-2.5");
  EXPECT_EQ(toString(f64(-0.0)), "-0");
  EXPECT_EQ(toString(f32(-INFINITY)), "-inf");
  EXPECT_EQ(toString(f32b(kNaN32)), "nan:0x400000");
  EXPECT_EQ(toString(f32b(0xff800001)), "-nan:0x1");
  EXPECT_EQ(toString(f64b(kNaN64)), "nan:0x8000000000000");

  // Not floats, but printed by the same function (found by the differential
  // fuzzer: a v128 printed as "0x" and the decimal of its low half).
  EXPECT_EQ(toString(Value::v128(0xffffffff00000001, 0x80000000000000ff)),
            "i32x4 0x00000001 0xffffffff 0x000000ff 0x80000000");
  EXPECT_EQ(toString(Value::nullRef(ValueType::FuncRef)), "ref.null func");
  EXPECT_EQ(toString(Value::nullRef(ValueType::ExternRef)), "ref.null extern");
  EXPECT_EQ(toString(Value::externRef(7)), "ref.extern 7");

  auto parse = [](ValueType type, std::string_view text) -> uint64_t {
    auto value = parseValue(type, text);
    if (!value) {
      ADD_FAILURE() << text << ": " << value.error().toString();
      return 0xdeadbeef;
    }
    EXPECT_EQ(value->type, type);
    return value->bits;
  };
  EXPECT_EQ(parse(ValueType::F32, "1.5"), bits32(1.5f));
  EXPECT_EQ(parse(ValueType::F32, "0.1"), bits32(0.1f)); // rounded once, as f32
  EXPECT_EQ(parse(ValueType::F64, "0.1"), bits64(0.1));
  EXPECT_EQ(parse(ValueType::F64, "-0"), kNegZero64);
  EXPECT_EQ(parse(ValueType::F64, "1e-320"), bits64(1e-320));
  EXPECT_EQ(parse(ValueType::F32, "inf"), 0x7f800000u);
  EXPECT_EQ(parse(ValueType::F64, "-inf"), 0xfff0000000000000ull);
  EXPECT_EQ(parse(ValueType::F32, "nan"), kNaN32);
  EXPECT_EQ(parse(ValueType::F64, "nan"), kNaN64);
  EXPECT_EQ(parse(ValueType::F32, "-nan:0x1"), 0xff800001u);
  EXPECT_EQ(parse(ValueType::F64, "nan:0x4000000000001"), kSNaN64);
  for (std::string_view bad : {"", "x", "1.5x", "--1", "nan:0x0",
                               "nan:0x800000", "nan:", "nanx", "1e50"})
    EXPECT_FALSE(parseValue(ValueType::F32, bad)) << bad;

  // Printing round-trips, bit for bit.
  for (uint32_t b :
       {0u, kNegZero32, kNaN32, kSNaN32, kNegQNaN32, 1u, 0x7f7fffffu,
        bits32(0.1f), bits32(-3.4028235e38f), bits32(1e-40f)})
    EXPECT_EQ(parse(ValueType::F32, toString(f32b(b))), b) << toString(f32b(b));
  for (uint64_t b : std::initializer_list<uint64_t>{
           kNaN64, kSNaN64, kNegQNaN64, 1ull, bits64(0.1),
           bits64(-1.7976931348623157e308), bits64(1.0 / 3)})
    EXPECT_EQ(parse(ValueType::F64, toString(f64b(b))), b) << toString(f64b(b));
}
