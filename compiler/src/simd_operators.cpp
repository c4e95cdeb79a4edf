// SIMD operators (WebAssembly 2.0 fixed-width v128): lane-wise arithmetic,
// comparisons and conversions, lane access, shuffles, and the vector memory
// accesses (splat, extend, zero and lane loads, lane stores).
//
// A v128 is <2 x i64> everywhere (locals, globals, calls, value slots); each
// operator bitcasts it to the lane shape it works on and back.
//
// Determinism: as in float_operators.cpp, float lane arithmetic that may
// produce a NaN (add, sub, mul, div, sqrt, min, max, ceil, floor, trunc,
// nearest, promote, demote) canonicalizes each NaN lane; abs, neg, bitwise
// operations, shuffles, moves and pmin/pmax (which return one of their
// operands) keep NaN bits exactly.
// Where wasm's semantics differ from LLVM's, the emitter says so.
#include "lowering.h"

#include <llvm/IR/Intrinsics.h>

#include <array>

namespace nomos::compiler {

namespace {

enum class Shape : uint8_t { I8x16, I16x8, I32x4, I64x2, F32x4, F64x2 };

// clang-format off
enum class SOp : uint8_t {
  // Unary (BinaryenUnaryId)
  Splat, Not, AnyTrue, AllTrue, Bitmask, Abs, Neg, Popcnt, Sqrt, Ceil, Floor,
  Trunc, Nearest, ExtAddPairwiseS, ExtAddPairwiseU, TruncSatS, TruncSatU,
  TruncSatZeroS, TruncSatZeroU, ConvertS, ConvertU, ConvertLowS, ConvertLowU,
  DemoteZero, PromoteLow, ExtendLowS, ExtendHighS, ExtendLowU, ExtendHighU,
  // Binary (BinaryenBinaryId)
  Eq, Ne, LtS, LtU, GtS, GtU, LeS, LeU, GeS, GeU, Lt, Gt, Le, Ge,
  And, Or, Xor, AndNot, Add, AddSatS, AddSatU, Sub, SubSatS, SubSatU, Mul,
  MinS, MinU, MaxS, MaxU, AvgrU, Q15MulrSatS, ExtMulLowS, ExtMulHighS,
  ExtMulLowU, ExtMulHighU, Dot, Div, Min, Max, PMin, PMax, NarrowS, NarrowU,
  Swizzle,
  // Lane access, shifts, memory (their own expression ids)
  ExtractS, ExtractU, Replace, Shl, ShrS, ShrU, LoadSplat, LoadExtendS,
  LoadExtendU, LoadZero, LoadLane, StoreLane,
};
// clang-format on

// `shape` is the lane shape of the operands (of the result for splat; of
// the memory lanes for loads and stores).
struct SimdOpInfo {
  std::string name;
  SOp op;
  Shape shape;
};

using SimdOpTable = llvm::DenseMap<BinaryenOp, SimdOpInfo>;

const char *shapeName(Shape s) {
  static const char *names[] = {"i8x16", "i16x8", "i32x4",
                                "i64x2", "f32x4", "f64x2"};
  return names[static_cast<unsigned>(s)];
}

// Binaryen numbers the operators of each expression kind from zero, so each
// kind has its own table; all are built once, on first use.
const SimdOpTable &simdUnaryOps() {
  static const SimdOpTable table = [] {
    SimdOpTable t;
    auto add = [&](BinaryenOp op, Shape s, const char *name, SOp sop) {
      t[op] = {std::string(shapeName(s)) + "." + name, sop, s};
    };
    add(BinaryenSplatVecI8x16(), Shape::I8x16, "splat", SOp::Splat);
    add(BinaryenSplatVecI16x8(), Shape::I16x8, "splat", SOp::Splat);
    add(BinaryenSplatVecI32x4(), Shape::I32x4, "splat", SOp::Splat);
    add(BinaryenSplatVecI64x2(), Shape::I64x2, "splat", SOp::Splat);
    add(BinaryenSplatVecF32x4(), Shape::F32x4, "splat", SOp::Splat);
    add(BinaryenSplatVecF64x2(), Shape::F64x2, "splat", SOp::Splat);
    t[BinaryenNotVec128()] = {"v128.not", SOp::Not, Shape::I64x2};
    t[BinaryenAnyTrueVec128()] = {"v128.any_true", SOp::AnyTrue, Shape::I64x2};

    add(BinaryenAbsVecI8x16(), Shape::I8x16, "abs", SOp::Abs);
    add(BinaryenAbsVecI16x8(), Shape::I16x8, "abs", SOp::Abs);
    add(BinaryenAbsVecI32x4(), Shape::I32x4, "abs", SOp::Abs);
    add(BinaryenAbsVecI64x2(), Shape::I64x2, "abs", SOp::Abs);
    add(BinaryenAbsVecF32x4(), Shape::F32x4, "abs", SOp::Abs);
    add(BinaryenAbsVecF64x2(), Shape::F64x2, "abs", SOp::Abs);
    add(BinaryenNegVecI8x16(), Shape::I8x16, "neg", SOp::Neg);
    add(BinaryenNegVecI16x8(), Shape::I16x8, "neg", SOp::Neg);
    add(BinaryenNegVecI32x4(), Shape::I32x4, "neg", SOp::Neg);
    add(BinaryenNegVecI64x2(), Shape::I64x2, "neg", SOp::Neg);
    add(BinaryenNegVecF32x4(), Shape::F32x4, "neg", SOp::Neg);
    add(BinaryenNegVecF64x2(), Shape::F64x2, "neg", SOp::Neg);
    add(BinaryenAllTrueVecI8x16(), Shape::I8x16, "all_true", SOp::AllTrue);
    add(BinaryenAllTrueVecI16x8(), Shape::I16x8, "all_true", SOp::AllTrue);
    add(BinaryenAllTrueVecI32x4(), Shape::I32x4, "all_true", SOp::AllTrue);
    add(BinaryenAllTrueVecI64x2(), Shape::I64x2, "all_true", SOp::AllTrue);
    add(BinaryenBitmaskVecI8x16(), Shape::I8x16, "bitmask", SOp::Bitmask);
    add(BinaryenBitmaskVecI16x8(), Shape::I16x8, "bitmask", SOp::Bitmask);
    add(BinaryenBitmaskVecI32x4(), Shape::I32x4, "bitmask", SOp::Bitmask);
    add(BinaryenBitmaskVecI64x2(), Shape::I64x2, "bitmask", SOp::Bitmask);
    add(BinaryenPopcntVecI8x16(), Shape::I8x16, "popcnt", SOp::Popcnt);

    for (auto [s, ops] :
         {std::pair{Shape::F32x4,
                    std::array{BinaryenSqrtVecF32x4(), BinaryenCeilVecF32x4(),
                               BinaryenFloorVecF32x4(), BinaryenTruncVecF32x4(),
                               BinaryenNearestVecF32x4()}},
          std::pair{Shape::F64x2,
                    std::array{BinaryenSqrtVecF64x2(), BinaryenCeilVecF64x2(),
                               BinaryenFloorVecF64x2(), BinaryenTruncVecF64x2(),
                               BinaryenNearestVecF64x2()}}}) {
      add(ops[0], s, "sqrt", SOp::Sqrt);
      add(ops[1], s, "ceil", SOp::Ceil);
      add(ops[2], s, "floor", SOp::Floor);
      add(ops[3], s, "trunc", SOp::Trunc);
      add(ops[4], s, "nearest", SOp::Nearest);
    }

    auto named = [&](BinaryenOp op, const char *name, SOp sop, Shape s) {
      t[op] = {name, sop, s};
    };
    named(BinaryenExtAddPairwiseSVecI8x16ToI16x8(),
          "i16x8.extadd_pairwise_i8x16_s", SOp::ExtAddPairwiseS, Shape::I8x16);
    named(BinaryenExtAddPairwiseUVecI8x16ToI16x8(),
          "i16x8.extadd_pairwise_i8x16_u", SOp::ExtAddPairwiseU, Shape::I8x16);
    named(BinaryenExtAddPairwiseSVecI16x8ToI32x4(),
          "i32x4.extadd_pairwise_i16x8_s", SOp::ExtAddPairwiseS, Shape::I16x8);
    named(BinaryenExtAddPairwiseUVecI16x8ToI32x4(),
          "i32x4.extadd_pairwise_i16x8_u", SOp::ExtAddPairwiseU, Shape::I16x8);
    named(BinaryenTruncSatSVecF32x4ToVecI32x4(), "i32x4.trunc_sat_f32x4_s",
          SOp::TruncSatS, Shape::F32x4);
    named(BinaryenTruncSatUVecF32x4ToVecI32x4(), "i32x4.trunc_sat_f32x4_u",
          SOp::TruncSatU, Shape::F32x4);
    named(BinaryenTruncSatZeroSVecF64x2ToVecI32x4(),
          "i32x4.trunc_sat_f64x2_s_zero", SOp::TruncSatZeroS, Shape::F64x2);
    named(BinaryenTruncSatZeroUVecF64x2ToVecI32x4(),
          "i32x4.trunc_sat_f64x2_u_zero", SOp::TruncSatZeroU, Shape::F64x2);
    named(BinaryenConvertSVecI32x4ToVecF32x4(), "f32x4.convert_i32x4_s",
          SOp::ConvertS, Shape::I32x4);
    named(BinaryenConvertUVecI32x4ToVecF32x4(), "f32x4.convert_i32x4_u",
          SOp::ConvertU, Shape::I32x4);
    named(BinaryenConvertLowSVecI32x4ToVecF64x2(), "f64x2.convert_low_i32x4_s",
          SOp::ConvertLowS, Shape::I32x4);
    named(BinaryenConvertLowUVecI32x4ToVecF64x2(), "f64x2.convert_low_i32x4_u",
          SOp::ConvertLowU, Shape::I32x4);
    named(BinaryenDemoteZeroVecF64x2ToVecF32x4(), "f32x4.demote_f64x2_zero",
          SOp::DemoteZero, Shape::F64x2);
    named(BinaryenPromoteLowVecF32x4ToVecF64x2(), "f64x2.promote_low_f32x4",
          SOp::PromoteLow, Shape::F32x4);

    // "i16x8.extend_high_i8x16_u": result shape, half, input shape, sign.
    auto extends = [&](const char *to, Shape from, std::array<BinaryenOp, 4> ops) {
      unsigned k = 0;
      for (auto [sign, low, high] :
           {std::tuple{"_s", SOp::ExtendLowS, SOp::ExtendHighS},
            std::tuple{"_u", SOp::ExtendLowU, SOp::ExtendHighU}}) {
        for (auto [half, op] : {std::pair{"low", low}, std::pair{"high", high}})
          t[ops[k++]] = {std::string(to) + ".extend_" + half + "_" +
                             shapeName(from) + sign,
                         op, from};
      }
    };
    extends("i16x8", Shape::I8x16,
            {BinaryenExtendLowSVecI8x16ToVecI16x8(),
             BinaryenExtendHighSVecI8x16ToVecI16x8(),
             BinaryenExtendLowUVecI8x16ToVecI16x8(),
             BinaryenExtendHighUVecI8x16ToVecI16x8()});
    extends("i32x4", Shape::I16x8,
            {BinaryenExtendLowSVecI16x8ToVecI32x4(),
             BinaryenExtendHighSVecI16x8ToVecI32x4(),
             BinaryenExtendLowUVecI16x8ToVecI32x4(),
             BinaryenExtendHighUVecI16x8ToVecI32x4()});
    extends("i64x2", Shape::I32x4,
            {BinaryenExtendLowSVecI32x4ToVecI64x2(),
             BinaryenExtendHighSVecI32x4ToVecI64x2(),
             BinaryenExtendLowUVecI32x4ToVecI64x2(),
             BinaryenExtendHighUVecI32x4ToVecI64x2()});
    return t;
  }();
  return table;
}

const SimdOpTable &simdBinaryOps() {
  static const SimdOpTable table = [] {
    SimdOpTable t;
    auto add = [&](BinaryenOp op, Shape s, const char *name, SOp sop) {
      t[op] = {std::string(shapeName(s)) + "." + name, sop, s};
    };
    // Integer comparisons, Binaryen's order: eq ne lt_s lt_u gt_s gt_u le_s
    // le_u ge_s ge_u.
    auto comparisons = [&](Shape s, std::array<BinaryenOp, 10> ops) {
      static const std::pair<const char *, SOp> names[] = {
          {"eq", SOp::Eq},     {"ne", SOp::Ne},     {"lt_s", SOp::LtS},
          {"lt_u", SOp::LtU},  {"gt_s", SOp::GtS},  {"gt_u", SOp::GtU},
          {"le_s", SOp::LeS},  {"le_u", SOp::LeU},  {"ge_s", SOp::GeS},
          {"ge_u", SOp::GeU}};
      for (unsigned k = 0; k < 10; ++k)
        add(ops[k], s, names[k].first, names[k].second);
    };
    comparisons(Shape::I8x16,
                {BinaryenEqVecI8x16(), BinaryenNeVecI8x16(),
                 BinaryenLtSVecI8x16(), BinaryenLtUVecI8x16(),
                 BinaryenGtSVecI8x16(), BinaryenGtUVecI8x16(),
                 BinaryenLeSVecI8x16(), BinaryenLeUVecI8x16(),
                 BinaryenGeSVecI8x16(), BinaryenGeUVecI8x16()});
    comparisons(Shape::I16x8,
                {BinaryenEqVecI16x8(), BinaryenNeVecI16x8(),
                 BinaryenLtSVecI16x8(), BinaryenLtUVecI16x8(),
                 BinaryenGtSVecI16x8(), BinaryenGtUVecI16x8(),
                 BinaryenLeSVecI16x8(), BinaryenLeUVecI16x8(),
                 BinaryenGeSVecI16x8(), BinaryenGeUVecI16x8()});
    comparisons(Shape::I32x4,
                {BinaryenEqVecI32x4(), BinaryenNeVecI32x4(),
                 BinaryenLtSVecI32x4(), BinaryenLtUVecI32x4(),
                 BinaryenGtSVecI32x4(), BinaryenGtUVecI32x4(),
                 BinaryenLeSVecI32x4(), BinaryenLeUVecI32x4(),
                 BinaryenGeSVecI32x4(), BinaryenGeUVecI32x4()});
    // i64x2 has signed comparisons only.
    add(BinaryenEqVecI64x2(), Shape::I64x2, "eq", SOp::Eq);
    add(BinaryenNeVecI64x2(), Shape::I64x2, "ne", SOp::Ne);
    add(BinaryenLtSVecI64x2(), Shape::I64x2, "lt_s", SOp::LtS);
    add(BinaryenGtSVecI64x2(), Shape::I64x2, "gt_s", SOp::GtS);
    add(BinaryenLeSVecI64x2(), Shape::I64x2, "le_s", SOp::LeS);
    add(BinaryenGeSVecI64x2(), Shape::I64x2, "ge_s", SOp::GeS);

    t[BinaryenAndVec128()] = {"v128.and", SOp::And, Shape::I64x2};
    t[BinaryenOrVec128()] = {"v128.or", SOp::Or, Shape::I64x2};
    t[BinaryenXorVec128()] = {"v128.xor", SOp::Xor, Shape::I64x2};
    t[BinaryenAndNotVec128()] = {"v128.andnot", SOp::AndNot, Shape::I64x2};

    add(BinaryenAddVecI8x16(), Shape::I8x16, "add", SOp::Add);
    add(BinaryenAddSatSVecI8x16(), Shape::I8x16, "add_sat_s", SOp::AddSatS);
    add(BinaryenAddSatUVecI8x16(), Shape::I8x16, "add_sat_u", SOp::AddSatU);
    add(BinaryenSubVecI8x16(), Shape::I8x16, "sub", SOp::Sub);
    add(BinaryenSubSatSVecI8x16(), Shape::I8x16, "sub_sat_s", SOp::SubSatS);
    add(BinaryenSubSatUVecI8x16(), Shape::I8x16, "sub_sat_u", SOp::SubSatU);
    add(BinaryenMinSVecI8x16(), Shape::I8x16, "min_s", SOp::MinS);
    add(BinaryenMinUVecI8x16(), Shape::I8x16, "min_u", SOp::MinU);
    add(BinaryenMaxSVecI8x16(), Shape::I8x16, "max_s", SOp::MaxS);
    add(BinaryenMaxUVecI8x16(), Shape::I8x16, "max_u", SOp::MaxU);
    add(BinaryenAvgrUVecI8x16(), Shape::I8x16, "avgr_u", SOp::AvgrU);

    add(BinaryenAddVecI16x8(), Shape::I16x8, "add", SOp::Add);
    add(BinaryenAddSatSVecI16x8(), Shape::I16x8, "add_sat_s", SOp::AddSatS);
    add(BinaryenAddSatUVecI16x8(), Shape::I16x8, "add_sat_u", SOp::AddSatU);
    add(BinaryenSubVecI16x8(), Shape::I16x8, "sub", SOp::Sub);
    add(BinaryenSubSatSVecI16x8(), Shape::I16x8, "sub_sat_s", SOp::SubSatS);
    add(BinaryenSubSatUVecI16x8(), Shape::I16x8, "sub_sat_u", SOp::SubSatU);
    add(BinaryenMulVecI16x8(), Shape::I16x8, "mul", SOp::Mul);
    add(BinaryenMinSVecI16x8(), Shape::I16x8, "min_s", SOp::MinS);
    add(BinaryenMinUVecI16x8(), Shape::I16x8, "min_u", SOp::MinU);
    add(BinaryenMaxSVecI16x8(), Shape::I16x8, "max_s", SOp::MaxS);
    add(BinaryenMaxUVecI16x8(), Shape::I16x8, "max_u", SOp::MaxU);
    add(BinaryenAvgrUVecI16x8(), Shape::I16x8, "avgr_u", SOp::AvgrU);
    add(BinaryenQ15MulrSatSVecI16x8(), Shape::I16x8, "q15mulr_sat_s",
        SOp::Q15MulrSatS);

    add(BinaryenAddVecI32x4(), Shape::I32x4, "add", SOp::Add);
    add(BinaryenSubVecI32x4(), Shape::I32x4, "sub", SOp::Sub);
    add(BinaryenMulVecI32x4(), Shape::I32x4, "mul", SOp::Mul);
    add(BinaryenMinSVecI32x4(), Shape::I32x4, "min_s", SOp::MinS);
    add(BinaryenMinUVecI32x4(), Shape::I32x4, "min_u", SOp::MinU);
    add(BinaryenMaxSVecI32x4(), Shape::I32x4, "max_s", SOp::MaxS);
    add(BinaryenMaxUVecI32x4(), Shape::I32x4, "max_u", SOp::MaxU);
    t[BinaryenDotSVecI16x8ToVecI32x4()] = {"i32x4.dot_i16x8_s", SOp::Dot,
                                           Shape::I16x8};

    add(BinaryenAddVecI64x2(), Shape::I64x2, "add", SOp::Add);
    add(BinaryenSubVecI64x2(), Shape::I64x2, "sub", SOp::Sub);
    add(BinaryenMulVecI64x2(), Shape::I64x2, "mul", SOp::Mul);

    // "i32x4.extmul_high_i16x8_u": result shape, half, input shape, sign.
    auto extmuls = [&](const char *to, Shape from, std::array<BinaryenOp, 4> ops) {
      const std::pair<const char *, SOp> names[] = {
          {"low_", SOp::ExtMulLowS}, {"high_", SOp::ExtMulHighS},
          {"low_", SOp::ExtMulLowU}, {"high_", SOp::ExtMulHighU}};
      for (unsigned k = 0; k < 4; ++k)
        t[ops[k]] = {std::string(to) + ".extmul_" + names[k].first +
                         shapeName(from) + (k < 2 ? "_s" : "_u"),
                     names[k].second, from};
    };
    extmuls("i16x8", Shape::I8x16,
            {BinaryenExtMulLowSVecI16x8(), BinaryenExtMulHighSVecI16x8(),
             BinaryenExtMulLowUVecI16x8(), BinaryenExtMulHighUVecI16x8()});
    extmuls("i32x4", Shape::I16x8,
            {BinaryenExtMulLowSVecI32x4(), BinaryenExtMulHighSVecI32x4(),
             BinaryenExtMulLowUVecI32x4(), BinaryenExtMulHighUVecI32x4()});
    extmuls("i64x2", Shape::I32x4,
            {BinaryenExtMulLowSVecI64x2(), BinaryenExtMulHighSVecI64x2(),
             BinaryenExtMulLowUVecI64x2(), BinaryenExtMulHighUVecI64x2()});

    for (auto [s, ops] :
         {std::pair{Shape::F32x4,
                    std::array{BinaryenEqVecF32x4(), BinaryenNeVecF32x4(),
                               BinaryenLtVecF32x4(), BinaryenGtVecF32x4(),
                               BinaryenLeVecF32x4(), BinaryenGeVecF32x4(),
                               BinaryenAddVecF32x4(), BinaryenSubVecF32x4(),
                               BinaryenMulVecF32x4(), BinaryenDivVecF32x4(),
                               BinaryenMinVecF32x4(), BinaryenMaxVecF32x4(),
                               BinaryenPMinVecF32x4(), BinaryenPMaxVecF32x4()}},
          std::pair{Shape::F64x2,
                    std::array{BinaryenEqVecF64x2(), BinaryenNeVecF64x2(),
                               BinaryenLtVecF64x2(), BinaryenGtVecF64x2(),
                               BinaryenLeVecF64x2(), BinaryenGeVecF64x2(),
                               BinaryenAddVecF64x2(), BinaryenSubVecF64x2(),
                               BinaryenMulVecF64x2(), BinaryenDivVecF64x2(),
                               BinaryenMinVecF64x2(), BinaryenMaxVecF64x2(),
                               BinaryenPMinVecF64x2(), BinaryenPMaxVecF64x2()}}}) {
      static const std::pair<const char *, SOp> names[] = {
          {"eq", SOp::Eq},   {"ne", SOp::Ne},     {"lt", SOp::Lt},
          {"gt", SOp::Gt},   {"le", SOp::Le},     {"ge", SOp::Ge},
          {"add", SOp::Add}, {"sub", SOp::Sub},   {"mul", SOp::Mul},
          {"div", SOp::Div}, {"min", SOp::Min},   {"max", SOp::Max},
          {"pmin", SOp::PMin}, {"pmax", SOp::PMax}};
      for (unsigned k = 0; k < ops.size(); ++k)
        add(ops[k], s, names[k].first, names[k].second);
    }

    t[BinaryenNarrowSVecI16x8ToVecI8x16()] = {"i8x16.narrow_i16x8_s",
                                              SOp::NarrowS, Shape::I16x8};
    t[BinaryenNarrowUVecI16x8ToVecI8x16()] = {"i8x16.narrow_i16x8_u",
                                              SOp::NarrowU, Shape::I16x8};
    t[BinaryenNarrowSVecI32x4ToVecI16x8()] = {"i16x8.narrow_i32x4_s",
                                              SOp::NarrowS, Shape::I32x4};
    t[BinaryenNarrowUVecI32x4ToVecI16x8()] = {"i16x8.narrow_i32x4_u",
                                              SOp::NarrowU, Shape::I32x4};
    t[BinaryenSwizzleVecI8x16()] = {"i8x16.swizzle", SOp::Swizzle,
                                    Shape::I8x16};
    return t;
  }();
  return table;
}

const SimdOpTable &extractOps() {
  static const SimdOpTable table = [] {
    SimdOpTable t;
    t[BinaryenExtractLaneSVecI8x16()] = {"i8x16.extract_lane_s", SOp::ExtractS, Shape::I8x16};
    t[BinaryenExtractLaneUVecI8x16()] = {"i8x16.extract_lane_u", SOp::ExtractU, Shape::I8x16};
    t[BinaryenExtractLaneSVecI16x8()] = {"i16x8.extract_lane_s", SOp::ExtractS, Shape::I16x8};
    t[BinaryenExtractLaneUVecI16x8()] = {"i16x8.extract_lane_u", SOp::ExtractU, Shape::I16x8};
    t[BinaryenExtractLaneVecI32x4()] = {"i32x4.extract_lane", SOp::ExtractU, Shape::I32x4};
    t[BinaryenExtractLaneVecI64x2()] = {"i64x2.extract_lane", SOp::ExtractU, Shape::I64x2};
    t[BinaryenExtractLaneVecF32x4()] = {"f32x4.extract_lane", SOp::ExtractU, Shape::F32x4};
    t[BinaryenExtractLaneVecF64x2()] = {"f64x2.extract_lane", SOp::ExtractU, Shape::F64x2};
    return t;
  }();
  return table;
}

const SimdOpTable &replaceOps() {
  static const SimdOpTable table = [] {
    SimdOpTable t;
    t[BinaryenReplaceLaneVecI8x16()] = {"i8x16.replace_lane", SOp::Replace, Shape::I8x16};
    t[BinaryenReplaceLaneVecI16x8()] = {"i16x8.replace_lane", SOp::Replace, Shape::I16x8};
    t[BinaryenReplaceLaneVecI32x4()] = {"i32x4.replace_lane", SOp::Replace, Shape::I32x4};
    t[BinaryenReplaceLaneVecI64x2()] = {"i64x2.replace_lane", SOp::Replace, Shape::I64x2};
    t[BinaryenReplaceLaneVecF32x4()] = {"f32x4.replace_lane", SOp::Replace, Shape::F32x4};
    t[BinaryenReplaceLaneVecF64x2()] = {"f64x2.replace_lane", SOp::Replace, Shape::F64x2};
    return t;
  }();
  return table;
}

const SimdOpTable &shiftOps() {
  static const SimdOpTable table = [] {
    SimdOpTable t;
    for (auto [s, ops] :
         {std::pair{Shape::I8x16, std::array{BinaryenShlVecI8x16(), BinaryenShrSVecI8x16(), BinaryenShrUVecI8x16()}},
          std::pair{Shape::I16x8, std::array{BinaryenShlVecI16x8(), BinaryenShrSVecI16x8(), BinaryenShrUVecI16x8()}},
          std::pair{Shape::I32x4, std::array{BinaryenShlVecI32x4(), BinaryenShrSVecI32x4(), BinaryenShrUVecI32x4()}},
          std::pair{Shape::I64x2, std::array{BinaryenShlVecI64x2(), BinaryenShrSVecI64x2(), BinaryenShrUVecI64x2()}}}) {
      t[ops[0]] = {std::string(shapeName(s)) + ".shl", SOp::Shl, s};
      t[ops[1]] = {std::string(shapeName(s)) + ".shr_s", SOp::ShrS, s};
      t[ops[2]] = {std::string(shapeName(s)) + ".shr_u", SOp::ShrU, s};
    }
    return t;
  }();
  return table;
}

// Memory lanes: splats, extends and zero loads name the lanes read.
const SimdOpTable &loadOps() {
  static const SimdOpTable table = [] {
    SimdOpTable t;
    t[BinaryenLoad8SplatVec128()] = {"v128.load8_splat", SOp::LoadSplat, Shape::I8x16};
    t[BinaryenLoad16SplatVec128()] = {"v128.load16_splat", SOp::LoadSplat, Shape::I16x8};
    t[BinaryenLoad32SplatVec128()] = {"v128.load32_splat", SOp::LoadSplat, Shape::I32x4};
    t[BinaryenLoad64SplatVec128()] = {"v128.load64_splat", SOp::LoadSplat, Shape::I64x2};
    t[BinaryenLoad8x8SVec128()] = {"v128.load8x8_s", SOp::LoadExtendS, Shape::I8x16};
    t[BinaryenLoad8x8UVec128()] = {"v128.load8x8_u", SOp::LoadExtendU, Shape::I8x16};
    t[BinaryenLoad16x4SVec128()] = {"v128.load16x4_s", SOp::LoadExtendS, Shape::I16x8};
    t[BinaryenLoad16x4UVec128()] = {"v128.load16x4_u", SOp::LoadExtendU, Shape::I16x8};
    t[BinaryenLoad32x2SVec128()] = {"v128.load32x2_s", SOp::LoadExtendS, Shape::I32x4};
    t[BinaryenLoad32x2UVec128()] = {"v128.load32x2_u", SOp::LoadExtendU, Shape::I32x4};
    t[BinaryenLoad32ZeroVec128()] = {"v128.load32_zero", SOp::LoadZero, Shape::I32x4};
    t[BinaryenLoad64ZeroVec128()] = {"v128.load64_zero", SOp::LoadZero, Shape::I64x2};
    return t;
  }();
  return table;
}

const SimdOpTable &laneOps() {
  static const SimdOpTable table = [] {
    SimdOpTable t;
    t[BinaryenLoad8LaneVec128()] = {"v128.load8_lane", SOp::LoadLane, Shape::I8x16};
    t[BinaryenLoad16LaneVec128()] = {"v128.load16_lane", SOp::LoadLane, Shape::I16x8};
    t[BinaryenLoad32LaneVec128()] = {"v128.load32_lane", SOp::LoadLane, Shape::I32x4};
    t[BinaryenLoad64LaneVec128()] = {"v128.load64_lane", SOp::LoadLane, Shape::I64x2};
    t[BinaryenStore8LaneVec128()] = {"v128.store8_lane", SOp::StoreLane, Shape::I8x16};
    t[BinaryenStore16LaneVec128()] = {"v128.store16_lane", SOp::StoreLane, Shape::I16x8};
    t[BinaryenStore32LaneVec128()] = {"v128.store32_lane", SOp::StoreLane, Shape::I32x4};
    t[BinaryenStore64LaneVec128()] = {"v128.store64_lane", SOp::StoreLane, Shape::I64x2};
    return t;
  }();
  return table;
}

const SimdOpInfo *lookup(const SimdOpTable &table, BinaryenOp op) {
  auto found = table.find(op);
  return found == table.end() ? nullptr : &found->second;
}

OpResult unsupported(const std::string &name) {
  return makeError(ErrorKind::Unsupported,
                   "instruction " + name + " is not supported yet");
}

// Builds the LLVM IR of one SIMD operator in the current block.
class SimdEmitter {
public:
  explicit SimdEmitter(FunctionLowering &f) : f(f), b(f.b), ctx(f.m.ctx) {}

  OpResult unary(const SimdOpInfo &info, llvm::Value *value);
  OpResult binary(const SimdOpInfo &info, llvm::Value *lhs, llvm::Value *rhs);
  llvm::Value *extract(const SimdOpInfo &info, llvm::Value *vec, unsigned lane);
  llvm::Value *replace(const SimdOpInfo &info, llvm::Value *vec, unsigned lane,
                       llvm::Value *value);
  llvm::Value *shift(const SimdOpInfo &info, llvm::Value *vec,
                     llvm::Value *count);
  llvm::Value *shuffle(llvm::Value *lhs, llvm::Value *rhs,
                       const uint8_t (&mask)[16]);
  llvm::Value *bitselect(llvm::Value *a, llvm::Value *b, llvm::Value *mask);
  llvm::Value *load(const SimdOpInfo &info, llvm::Value *address,
                    uint64_t offset);
  OpResult laneAccess(const SimdOpInfo &info, llvm::Value *address,
                      uint64_t offset, unsigned lane, llvm::Value *vec);

private:
  FunctionLowering &f;
  llvm::IRBuilder<> &b;
  llvm::LLVMContext &ctx;

  llvm::Type *laneType(Shape s) {
    switch (s) {
    case Shape::I8x16: return b.getInt8Ty();
    case Shape::I16x8: return b.getInt16Ty();
    case Shape::I32x4: return b.getInt32Ty();
    case Shape::I64x2: return b.getInt64Ty();
    case Shape::F32x4: return b.getFloatTy();
    case Shape::F64x2: return b.getDoubleTy();
    }
    return nullptr;
  }
  static unsigned laneCount(Shape s) {
    switch (s) {
    case Shape::I8x16: return 16;
    case Shape::I16x8: return 8;
    case Shape::I32x4: case Shape::F32x4: return 4;
    case Shape::I64x2: case Shape::F64x2: return 2;
    }
    return 0;
  }
  static bool isFloat(Shape s) { return s == Shape::F32x4 || s == Shape::F64x2; }
  llvm::FixedVectorType *type(Shape s) {
    return llvm::FixedVectorType::get(laneType(s), laneCount(s));
  }
  // The same lanes as integers (the result of a comparison).
  llvm::FixedVectorType *intType(Shape s) {
    return llvm::FixedVectorType::get(
        b.getIntNTy(128 / laneCount(s)), laneCount(s));
  }
  llvm::Value *as(llvm::Value *v, Shape s) { return b.CreateBitCast(v, type(s)); }
  // Back to the canonical v128 type.
  llvm::Value *v128(llvm::Value *v) {
    return b.CreateBitCast(v, llvm::FixedVectorType::get(b.getInt64Ty(), 2));
  }
  llvm::Value *splat(llvm::Type *vectorType, uint64_t value) {
    return llvm::ConstantInt::get(vectorType, value);
  }
  // Lanes [first, first + count) of v.
  llvm::Value *lanes(llvm::Value *v, unsigned first, unsigned count) {
    llvm::SmallVector<int, 16> mask;
    for (unsigned i = 0; i < count; ++i)
      mask.push_back(int(first + i));
    return b.CreateShuffleVector(v, mask);
  }
  // Lanes of even (odd) index.
  llvm::Value *stride2(llvm::Value *v, unsigned first) {
    unsigned n = llvm::cast<llvm::FixedVectorType>(v->getType())->getNumElements();
    llvm::SmallVector<int, 16> mask;
    for (unsigned i = first; i < n; i += 2)
      mask.push_back(int(i));
    return b.CreateShuffleVector(v, mask);
  }
  // a ++ b (twice as many lanes).
  llvm::Value *concat(llvm::Value *lo, llvm::Value *hi) {
    unsigned n = llvm::cast<llvm::FixedVectorType>(lo->getType())->getNumElements();
    llvm::SmallVector<int, 32> mask;
    for (unsigned i = 0; i < 2 * n; ++i)
      mask.push_back(int(i));
    return b.CreateShuffleVector(lo, hi, mask);
  }
  // Every lane extended to twice its width (same lane count).
  llvm::Value *widen(llvm::Value *v, bool isSigned) {
    auto *t = llvm::cast<llvm::FixedVectorType>(v->getType());
    auto *wide = llvm::FixedVectorType::get(
        b.getIntNTy(2 * t->getScalarSizeInBits()), t->getNumElements());
    return isSigned ? b.CreateSExt(v, wide) : b.CreateZExt(v, wide);
  }
  // The low or high half of the lanes of `s`, extended to twice the width.
  llvm::Value *extendHalf(llvm::Value *v, Shape s, bool high, bool isSigned) {
    unsigned n = laneCount(s);
    return widen(lanes(as(v, s), high ? n / 2 : 0, n / 2), isSigned);
  }
  // A lane that is NaN becomes the canonical NaN (determinism).
  llvm::Value *canonicalize(llvm::Value *v) {
    auto *t = llvm::cast<llvm::FixedVectorType>(v->getType());
    bool isF32 = t->getElementType()->isFloatTy();
    llvm::APFloat nan(isF32 ? llvm::APFloat::IEEEsingle()
                            : llvm::APFloat::IEEEdouble(),
                      isF32 ? llvm::APInt(32, 0x7fc00000)
                            : llvm::APInt(64, 0x7ff8000000000000ull));
    return b.CreateSelect(b.CreateFCmpUNO(v, v), llvm::ConstantFP::get(t, nan),
                          v);
  }
  llvm::Value *compare(llvm::CmpInst::Predicate p, llvm::Value *lhs,
                       llvm::Value *rhs, Shape s) {
    // All ones in a lane where the comparison holds, zero elsewhere.
    llvm::Value *a = as(lhs, s), *c = as(rhs, s);
    llvm::Value *cmp = isFloat(s) ? b.CreateFCmp(p, a, c) : b.CreateICmp(p, a, c);
    return v128(b.CreateSExt(cmp, intType(s)));
  }
  llvm::Value *swizzle(llvm::Value *vec, llvm::Value *indices);
};

OpResult SimdEmitter::unary(const SimdOpInfo &info, llvm::Value *value) {
  Shape s = info.shape;
  auto *i32 = b.getInt32Ty();
  auto intrinsic = [&](llvm::Intrinsic::ID id) {
    return b.CreateUnaryIntrinsic(id, as(value, s));
  };
  switch (info.op) {
  case SOp::Splat: {
    // i8x16/i16x8.splat take the low bits of an i32.
    llvm::Value *scalar = value;
    if (scalar->getType() != laneType(s))
      scalar = b.CreateTrunc(scalar, laneType(s));
    return v128(b.CreateVectorSplat(laneCount(s), scalar));
  }
  case SOp::Not: return b.CreateNot(value);
  case SOp::AnyTrue:
    return b.CreateZExt(
        b.CreateICmpNE(b.CreateBitCast(value, b.getInt128Ty()),
                       b.getIntN(128, 0)),
        i32);
  case SOp::AllTrue:
    return b.CreateZExt(
        b.CreateAndReduce(b.CreateICmpNE(
            as(value, s), llvm::Constant::getNullValue(type(s)))),
        i32);
  case SOp::Bitmask: {
    // Bit i of the result is the sign bit of lane i.
    llvm::Value *negative = b.CreateICmpSLT(
        as(value, s), llvm::Constant::getNullValue(type(s)));
    return b.CreateZExt(
        b.CreateBitCast(negative, b.getIntNTy(laneCount(s))), i32);
  }
  case SOp::Abs:
    if (isFloat(s))
      return v128(intrinsic(llvm::Intrinsic::fabs)); // sign bit only
    // wasm's abs(INT_MIN) is INT_MIN: "is_int_min_poison" false.
    return v128(b.CreateBinaryIntrinsic(llvm::Intrinsic::abs, as(value, s),
                                        b.getFalse()));
  case SOp::Neg:
    return v128(isFloat(s) ? b.CreateFNeg(as(value, s))
                           : b.CreateNeg(as(value, s)));
  case SOp::Popcnt: return v128(intrinsic(llvm::Intrinsic::ctpop));
  case SOp::Sqrt: return v128(canonicalize(intrinsic(llvm::Intrinsic::sqrt)));
  case SOp::Ceil: return v128(canonicalize(intrinsic(llvm::Intrinsic::ceil)));
  case SOp::Floor: return v128(canonicalize(intrinsic(llvm::Intrinsic::floor)));
  case SOp::Trunc: return v128(canonicalize(intrinsic(llvm::Intrinsic::trunc)));
  // nearest rounds ties to even: roundeven, not round.
  case SOp::Nearest:
    return v128(canonicalize(intrinsic(llvm::Intrinsic::roundeven)));
  case SOp::ExtAddPairwiseS:
  case SOp::ExtAddPairwiseU: {
    llvm::Value *wide = widen(as(value, s), info.op == SOp::ExtAddPairwiseS);
    return v128(b.CreateAdd(stride2(wide, 0), stride2(wide, 1)));
  }
  // The saturating intrinsics match wasm exactly, NaN -> 0 included.
  case SOp::TruncSatS:
  case SOp::TruncSatU: {
    auto id = info.op == SOp::TruncSatS ? llvm::Intrinsic::fptosi_sat
                                        : llvm::Intrinsic::fptoui_sat;
    return v128(b.CreateIntrinsic(id, {type(Shape::I32x4), type(s)},
                                  {as(value, s)}));
  }
  case SOp::TruncSatZeroS:
  case SOp::TruncSatZeroU: {
    auto id = info.op == SOp::TruncSatZeroS ? llvm::Intrinsic::fptosi_sat
                                            : llvm::Intrinsic::fptoui_sat;
    auto *pair = llvm::FixedVectorType::get(i32, 2);
    llvm::Value *low = b.CreateIntrinsic(id, {pair, type(s)}, {as(value, s)});
    return v128(concat(low, llvm::Constant::getNullValue(pair)));
  }
  // Round to nearest, ties to even; never NaN.
  case SOp::ConvertS: return v128(b.CreateSIToFP(as(value, s), type(Shape::F32x4)));
  case SOp::ConvertU: return v128(b.CreateUIToFP(as(value, s), type(Shape::F32x4)));
  case SOp::ConvertLowS:
  case SOp::ConvertLowU: {
    llvm::Value *low = lanes(as(value, s), 0, 2);
    return v128(info.op == SOp::ConvertLowS
                    ? b.CreateSIToFP(low, type(Shape::F64x2))
                    : b.CreateUIToFP(low, type(Shape::F64x2)));
  }
  case SOp::DemoteZero: {
    auto *pair = llvm::FixedVectorType::get(b.getFloatTy(), 2);
    llvm::Value *low = canonicalize(b.CreateFPTrunc(as(value, s), pair));
    return v128(concat(low, llvm::Constant::getNullValue(pair)));
  }
  case SOp::PromoteLow:
    return v128(canonicalize(
        b.CreateFPExt(lanes(as(value, s), 0, 2), type(Shape::F64x2))));
  case SOp::ExtendLowS: return v128(extendHalf(value, s, false, true));
  case SOp::ExtendHighS: return v128(extendHalf(value, s, true, true));
  case SOp::ExtendLowU: return v128(extendHalf(value, s, false, false));
  case SOp::ExtendHighU: return v128(extendHalf(value, s, true, false));
  default: return unsupported(info.name);
  }
}

OpResult SimdEmitter::binary(const SimdOpInfo &info, llvm::Value *lhs,
                             llvm::Value *rhs) {
  using P = llvm::CmpInst::Predicate;
  Shape s = info.shape;
  llvm::Value *a = as(lhs, s), *c = as(rhs, s);
  auto intrinsic = [&](llvm::Intrinsic::ID id) {
    return v128(b.CreateBinaryIntrinsic(id, a, c));
  };
  auto arithmetic = [&](llvm::Value *result) {
    return v128(isFloat(s) ? canonicalize(result) : result);
  };
  switch (info.op) {
  case SOp::Eq: return compare(isFloat(s) ? P::FCMP_OEQ : P::ICMP_EQ, lhs, rhs, s);
  // ne is true on NaN (unordered).
  case SOp::Ne: return compare(isFloat(s) ? P::FCMP_UNE : P::ICMP_NE, lhs, rhs, s);
  case SOp::LtS: return compare(P::ICMP_SLT, lhs, rhs, s);
  case SOp::LtU: return compare(P::ICMP_ULT, lhs, rhs, s);
  case SOp::GtS: return compare(P::ICMP_SGT, lhs, rhs, s);
  case SOp::GtU: return compare(P::ICMP_UGT, lhs, rhs, s);
  case SOp::LeS: return compare(P::ICMP_SLE, lhs, rhs, s);
  case SOp::LeU: return compare(P::ICMP_ULE, lhs, rhs, s);
  case SOp::GeS: return compare(P::ICMP_SGE, lhs, rhs, s);
  case SOp::GeU: return compare(P::ICMP_UGE, lhs, rhs, s);
  case SOp::Lt: return compare(P::FCMP_OLT, lhs, rhs, s);
  case SOp::Gt: return compare(P::FCMP_OGT, lhs, rhs, s);
  case SOp::Le: return compare(P::FCMP_OLE, lhs, rhs, s);
  case SOp::Ge: return compare(P::FCMP_OGE, lhs, rhs, s);
  case SOp::And: return b.CreateAnd(lhs, rhs);
  case SOp::Or: return b.CreateOr(lhs, rhs);
  case SOp::Xor: return b.CreateXor(lhs, rhs);
  case SOp::AndNot: return b.CreateAnd(lhs, b.CreateNot(rhs));
  case SOp::Add: return arithmetic(isFloat(s) ? b.CreateFAdd(a, c) : b.CreateAdd(a, c));
  case SOp::Sub: return arithmetic(isFloat(s) ? b.CreateFSub(a, c) : b.CreateSub(a, c));
  case SOp::Mul: return arithmetic(isFloat(s) ? b.CreateFMul(a, c) : b.CreateMul(a, c));
  case SOp::Div: return arithmetic(b.CreateFDiv(a, c));
  case SOp::AddSatS: return intrinsic(llvm::Intrinsic::sadd_sat);
  case SOp::AddSatU: return intrinsic(llvm::Intrinsic::uadd_sat);
  case SOp::SubSatS: return intrinsic(llvm::Intrinsic::ssub_sat);
  case SOp::SubSatU: return intrinsic(llvm::Intrinsic::usub_sat);
  case SOp::MinS: return intrinsic(llvm::Intrinsic::smin);
  case SOp::MinU: return intrinsic(llvm::Intrinsic::umin);
  case SOp::MaxS: return intrinsic(llvm::Intrinsic::smax);
  case SOp::MaxU: return intrinsic(llvm::Intrinsic::umax);
  // wasm min/max: NaN if either is NaN, -0 < +0: llvm.minimum/maximum.
  case SOp::Min:
    return arithmetic(b.CreateBinaryIntrinsic(llvm::Intrinsic::minimum, a, c));
  case SOp::Max:
    return arithmetic(b.CreateBinaryIntrinsic(llvm::Intrinsic::maximum, a, c));
  // Pseudo-min/max are plain selects, not IEEE min/max: pmin is b < a ? b : a,
  // pmax is a < b ? b : a (an operand's bits exactly, NaN included).
  case SOp::PMin: return v128(b.CreateSelect(b.CreateFCmpOLT(c, a), c, a));
  case SOp::PMax: return v128(b.CreateSelect(b.CreateFCmpOLT(a, c), c, a));
  // (a + b + 1) >> 1 without overflow: computed in lanes twice as wide.
  case SOp::AvgrU: {
    llvm::Value *sum = b.CreateAdd(widen(a, false), widen(c, false));
    sum = b.CreateAdd(sum, splat(sum->getType(), 1));
    return v128(b.CreateTrunc(b.CreateLShr(sum, splat(sum->getType(), 1)),
                              type(s)));
  }
  // (a * b + 0x4000) >> 15, saturated: only -0x8000 * -0x8000 overflows.
  case SOp::Q15MulrSatS: {
    llvm::Value *product = b.CreateMul(widen(a, true), widen(c, true));
    llvm::Type *wide = product->getType();
    llvm::Value *rounded = b.CreateAShr(
        b.CreateAdd(product, splat(wide, 0x4000)), splat(wide, 15));
    return v128(b.CreateTrunc(
        b.CreateBinaryIntrinsic(llvm::Intrinsic::smin, rounded,
                                splat(wide, 0x7fff)),
        type(s)));
  }
  case SOp::ExtMulLowS:
  case SOp::ExtMulHighS:
  case SOp::ExtMulLowU:
  case SOp::ExtMulHighU: {
    bool high = info.op == SOp::ExtMulHighS || info.op == SOp::ExtMulHighU;
    bool isSigned = info.op == SOp::ExtMulLowS || info.op == SOp::ExtMulHighS;
    return v128(b.CreateMul(extendHalf(lhs, s, high, isSigned),
                            extendHalf(rhs, s, high, isSigned)));
  }
  // Products of adjacent lanes, added; the one overflowing sum
  // (2 * 0x8000 * 0x8000) wraps, as in wasm.
  case SOp::Dot: {
    llvm::Value *product = b.CreateMul(widen(a, true), widen(c, true));
    return v128(b.CreateAdd(stride2(product, 0), stride2(product, 1)));
  }
  // Narrowing saturates each signed lane to the narrower signed (_s) or
  // unsigned (_u) range; LLVM's trunc would wrap.
  case SOp::NarrowS:
  case SOp::NarrowU: {
    llvm::Value *both = concat(a, c);
    llvm::Type *wideType = both->getType();
    unsigned narrow = laneType(s)->getIntegerBitWidth() / 2;
    bool isSigned = info.op == SOp::NarrowS;
    llvm::APInt low = isSigned ? llvm::APInt::getSignedMinValue(narrow)
                                     .sext(2 * narrow)
                               : llvm::APInt(2 * narrow, 0);
    llvm::APInt high = isSigned ? llvm::APInt::getSignedMaxValue(narrow)
                                      .sext(2 * narrow)
                                : llvm::APInt::getMaxValue(narrow).zext(2 * narrow);
    llvm::Value *clamped = b.CreateBinaryIntrinsic(
        llvm::Intrinsic::smin,
        b.CreateBinaryIntrinsic(llvm::Intrinsic::smax, both,
                                llvm::ConstantInt::get(wideType, low)),
        llvm::ConstantInt::get(wideType, high));
    return v128(b.CreateTrunc(
        clamped, llvm::FixedVectorType::get(b.getIntNTy(narrow),
                                            2 * laneCount(s))));
  }
  case SOp::Swizzle: return swizzle(a, c);
  default: return unsupported(info.name);
  }
}

// i8x16.swizzle: lane i is vec[indices[i]], or 0 when the index is 16 or
// more (LLVM's shufflevector needs a constant mask, and x86's pshufb only
// zeroes for indices with the top bit set): one select per lane.
llvm::Value *SimdEmitter::swizzle(llvm::Value *vec, llvm::Value *indices) {
  llvm::Value *result = llvm::Constant::getNullValue(vec->getType());
  llvm::Value *fifteen = b.getInt8(15);
  for (unsigned i = 0; i < 16; ++i) {
    llvm::Value *index = b.CreateExtractElement(indices, b.getInt32(i));
    llvm::Value *lane = b.CreateExtractElement(
        vec, b.CreateZExt(b.CreateAnd(index, fifteen), b.getInt32Ty()));
    lane = b.CreateSelect(b.CreateICmpULT(index, b.getInt8(16)), lane,
                          b.getInt8(0));
    result = b.CreateInsertElement(result, lane, b.getInt32(i));
  }
  return v128(result);
}

llvm::Value *SimdEmitter::extract(const SimdOpInfo &info, llvm::Value *vec,
                                  unsigned lane) {
  llvm::Value *value = b.CreateExtractElement(as(vec, info.shape), lane);
  // i8 and i16 lanes extend to i32, by sign (_s) or zero (_u).
  if (info.shape == Shape::I8x16 || info.shape == Shape::I16x8)
    return info.op == SOp::ExtractS ? b.CreateSExt(value, b.getInt32Ty())
                                    : b.CreateZExt(value, b.getInt32Ty());
  return value;
}

llvm::Value *SimdEmitter::replace(const SimdOpInfo &info, llvm::Value *vec,
                                  unsigned lane, llvm::Value *value) {
  // i8 and i16 lanes take the low bits of an i32.
  if (value->getType() != laneType(info.shape))
    value = b.CreateTrunc(value, laneType(info.shape));
  return v128(b.CreateInsertElement(as(vec, info.shape), value, lane));
}

// Shift counts are taken modulo the lane width in wasm; LLVM gives poison
// for counts >= the width.
llvm::Value *SimdEmitter::shift(const SimdOpInfo &info, llvm::Value *vec,
                                llvm::Value *count) {
  Shape s = info.shape;
  llvm::Type *lane = laneType(s);
  unsigned bits = lane->getIntegerBitWidth();
  count = b.CreateAnd(count, b.getInt32(bits - 1));
  count = b.CreateZExtOrTrunc(count, lane);
  llvm::Value *counts = b.CreateVectorSplat(laneCount(s), count);
  llvm::Value *v = as(vec, s);
  switch (info.op) {
  case SOp::Shl: return v128(b.CreateShl(v, counts));
  case SOp::ShrS: return v128(b.CreateAShr(v, counts));
  default: return v128(b.CreateLShr(v, counts));
  }
}

// i8x16.shuffle: a constant mask of lanes 0..31 of lhs ++ rhs, exactly
// shufflevector's semantics.
llvm::Value *SimdEmitter::shuffle(llvm::Value *lhs, llvm::Value *rhs,
                                  const uint8_t (&mask)[16]) {
  llvm::SmallVector<int, 16> lanes(mask, mask + 16);
  return v128(b.CreateShuffleVector(as(lhs, Shape::I8x16),
                                    as(rhs, Shape::I8x16), lanes));
}

// v128.bitselect: bits of `a` where `mask` is 1, of `other` where it is 0.
llvm::Value *SimdEmitter::bitselect(llvm::Value *a, llvm::Value *other,
                                    llvm::Value *mask) {
  return b.CreateOr(b.CreateAnd(a, mask),
                    b.CreateAnd(other, b.CreateNot(mask)));
}

llvm::Value *SimdEmitter::load(const SimdOpInfo &info, llvm::Value *address,
                               uint64_t offset) {
  Shape s = info.shape;
  llvm::Type *lane = laneType(s);
  // Splats and zero loads read one lane; extending loads read 8 bytes.
  bool extending = info.op == SOp::LoadExtendS || info.op == SOp::LoadExtendU;
  unsigned bytes = extending ? 8 : lane->getIntegerBitWidth() / 8;
  llvm::Value *pointer = f.memoryAddress(address, offset, bytes);
  switch (info.op) {
  case SOp::LoadSplat: {
    llvm::Value *value = f.guestLoad(lane, pointer);
    return v128(b.CreateVectorSplat(laneCount(s), value));
  }
  case SOp::LoadZero: {
    llvm::Value *value = f.guestLoad(lane, pointer);
    return v128(b.CreateInsertElement(llvm::Constant::getNullValue(type(s)),
                                      value, uint64_t(0)));
  }
  default: {
    auto *half = llvm::FixedVectorType::get(lane, laneCount(s) / 2);
    llvm::Value *value = f.guestLoad(half, pointer);
    return v128(widen(value, info.op == SOp::LoadExtendS));
  }
  }
}

OpResult SimdEmitter::laneAccess(const SimdOpInfo &info, llvm::Value *address,
                                 uint64_t offset, unsigned lane,
                                 llvm::Value *vec) {
  llvm::Type *laneTy = laneType(info.shape);
  llvm::Value *pointer =
      f.memoryAddress(address, offset, laneTy->getIntegerBitWidth() / 8);
  llvm::Value *lanes = as(vec, info.shape);
  if (info.op == SOp::StoreLane) {
    f.guestStore(b.CreateExtractElement(lanes, lane), pointer);
    return nullptr;
  }
  llvm::Value *value = f.guestLoad(laneTy, pointer);
  return v128(b.CreateInsertElement(lanes, value, lane));
}

} // namespace

bool isSimdOp(BinaryenOp op, bool binary) {
  return (binary ? simdBinaryOps() : simdUnaryOps()).count(op) != 0;
}

const char *simdOpName(BinaryenOp op, bool binary) {
  const SimdOpInfo *info = lookup(binary ? simdBinaryOps() : simdUnaryOps(), op);
  return info ? info->name.c_str() : nullptr;
}

bool isSimdExpression(BinaryenExpressionId id) {
  return id == BinaryenSIMDExtractId() || id == BinaryenSIMDReplaceId() ||
         id == BinaryenSIMDShuffleId() || id == BinaryenSIMDTernaryId() ||
         id == BinaryenSIMDShiftId() || id == BinaryenSIMDLoadId() ||
         id == BinaryenSIMDLoadStoreLaneId();
}

// v128.const: the 16 bytes, little-endian, as <2 x i64>.
llvm::Constant *v128Constant(llvm::LLVMContext &ctx, BinaryenExpressionRef expr) {
  uint8_t bytes[16];
  BinaryenConstGetValueV128(expr, bytes);
  uint64_t halves[2] = {0, 0};
  for (unsigned i = 0; i < 16; ++i)
    halves[i / 8] |= uint64_t(bytes[i]) << (8 * (i % 8));
  return llvm::ConstantDataVector::get(ctx, llvm::ArrayRef<uint64_t>(halves));
}

OpResult FunctionLowering::emitSimdUnary(BinaryenOp op, llvm::Value *value) {
  const SimdOpInfo *info = lookup(simdUnaryOps(), op);
  if (!info)
    return unsupported(unaryOpName(op));
  return SimdEmitter(*this).unary(*info, value);
}

OpResult FunctionLowering::emitSimdBinary(BinaryenOp op, llvm::Value *lhs,
                                          llvm::Value *rhs) {
  const SimdOpInfo *info = lookup(simdBinaryOps(), op);
  if (!info)
    return unsupported(binaryOpName(op));
  return SimdEmitter(*this).binary(*info, lhs, rhs);
}

OpResult FunctionLowering::emitSimdExpression(BinaryenExpressionRef expr) {
  BinaryenExpressionId id = BinaryenExpressionGetId(expr);
  auto unknown = [&](const char *family, BinaryenOp op) {
    return unsupported(std::string(family) + " operator #" + std::to_string(op));
  };
  if (id == BinaryenSIMDExtractId()) {
    const SimdOpInfo *info = lookup(extractOps(), BinaryenSIMDExtractGetOp(expr));
    if (!info)
      return unknown("extract_lane", BinaryenSIMDExtractGetOp(expr));
    return withOperands({BinaryenSIMDExtractGetVec(expr)}, [&](Values v) -> OpResult {
      return SimdEmitter(*this).extract(*info, v[0],
                                        BinaryenSIMDExtractGetIndex(expr));
    });
  }
  if (id == BinaryenSIMDReplaceId()) {
    const SimdOpInfo *info = lookup(replaceOps(), BinaryenSIMDReplaceGetOp(expr));
    if (!info)
      return unknown("replace_lane", BinaryenSIMDReplaceGetOp(expr));
    return withOperands(
        {BinaryenSIMDReplaceGetVec(expr), BinaryenSIMDReplaceGetValue(expr)},
        [&](Values v) -> OpResult {
          return SimdEmitter(*this).replace(
              *info, v[0], BinaryenSIMDReplaceGetIndex(expr), v[1]);
        });
  }
  if (id == BinaryenSIMDShuffleId())
    return withOperands(
        {BinaryenSIMDShuffleGetLeft(expr), BinaryenSIMDShuffleGetRight(expr)},
        [&](Values v) -> OpResult {
          uint8_t mask[16];
          BinaryenSIMDShuffleGetMask(expr, mask);
          return SimdEmitter(*this).shuffle(v[0], v[1], mask);
        });
  if (id == BinaryenSIMDTernaryId()) {
    // Only v128.bitselect: the decoder rejects relaxed SIMD.
    BinaryenOp op = BinaryenSIMDTernaryGetOp(expr);
    if (op != BinaryenBitselectVec128())
      return unknown("SIMD ternary", op);
    return withOperands({BinaryenSIMDTernaryGetA(expr),
                         BinaryenSIMDTernaryGetB(expr),
                         BinaryenSIMDTernaryGetC(expr)},
                        [&](Values v) -> OpResult {
                          return SimdEmitter(*this).bitselect(v[0], v[1], v[2]);
                        });
  }
  if (id == BinaryenSIMDShiftId()) {
    const SimdOpInfo *info = lookup(shiftOps(), BinaryenSIMDShiftGetOp(expr));
    if (!info)
      return unknown("SIMD shift", BinaryenSIMDShiftGetOp(expr));
    return withOperands(
        {BinaryenSIMDShiftGetVec(expr), BinaryenSIMDShiftGetShift(expr)},
        [&](Values v) -> OpResult {
          return SimdEmitter(*this).shift(*info, v[0], v[1]);
        });
  }
  if (id == BinaryenSIMDLoadId()) {
    const SimdOpInfo *info = lookup(loadOps(), BinaryenSIMDLoadGetOp(expr));
    if (!info)
      return unknown("SIMD load", BinaryenSIMDLoadGetOp(expr));
    return withOperands({BinaryenSIMDLoadGetPtr(expr)}, [&](Values v) -> OpResult {
      return SimdEmitter(*this).load(*info, v[0], BinaryenSIMDLoadGetOffset(expr));
    });
  }
  if (id == BinaryenSIMDLoadStoreLaneId()) {
    const SimdOpInfo *info =
        lookup(laneOps(), BinaryenSIMDLoadStoreLaneGetOp(expr));
    if (!info)
      return unknown("SIMD lane load/store", BinaryenSIMDLoadStoreLaneGetOp(expr));
    return withOperands({BinaryenSIMDLoadStoreLaneGetPtr(expr),
                         BinaryenSIMDLoadStoreLaneGetVec(expr)},
                        [&](Values v) -> OpResult {
                          return SimdEmitter(*this).laneAccess(
                              *info, v[0],
                              BinaryenSIMDLoadStoreLaneGetOffset(expr),
                              BinaryenSIMDLoadStoreLaneGetIndex(expr), v[1]);
                        });
  }
  return unsupported(expressionName(id));
}

} // namespace nomos::compiler
