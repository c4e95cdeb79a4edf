// Floating-point operators: f32/f64 arithmetic, comparisons and conversions.
//
// Determinism: every arithmetic result that may be NaN is canonicalized (a NaN
// result becomes the positive canonical NaN), so results are bit-identical on
// every machine and at every optimization level. Bit operations (abs, neg,
// copysign, reinterpret) and moves (loads, stores, locals, globals, select)
// are never canonicalized: they keep NaN payloads, as wasm requires.
// Where wasm's semantics differ from LLVM's, the emitter says so.
#include "lowering.h"

#include <llvm/IR/Intrinsics.h>

#include <array>
#include <bit>

namespace nomos::compiler {

namespace {

// clang-format off
enum class FOp : uint8_t {
  // Unary
  Neg, Abs, Ceil, Floor, Trunc, Nearest, Sqrt, TruncS, TruncU, TruncSatS,
  TruncSatU, ConvertS, ConvertU, Promote, Demote, Reinterpret,
  // Binary
  Add, Sub, Mul, Div, Min, Max, CopySign, Eq, Ne, Lt, Le, Gt, Ge,
};
// clang-format on

enum class Ty : uint8_t { I32, I64, F32, F64 };

struct FloatOpInfo {
  std::string name;
  FOp op;
  Ty result;
};

using FloatOpTable = llvm::DenseMap<BinaryenOp, FloatOpInfo>;

const FloatOpTable &floatUnaryOps() {
  static const FloatOpTable table = [] {
    FloatOpTable t;
    auto both = [&](BinaryenOp op32, BinaryenOp op64, const char *name,
                    FOp op) {
      t[op32] = {std::string("f32.") + name, op, Ty::F32};
      t[op64] = {std::string("f64.") + name, op, Ty::F64};
    };
    both(BinaryenNegFloat32(), BinaryenNegFloat64(), "neg", FOp::Neg);
    both(BinaryenAbsFloat32(), BinaryenAbsFloat64(), "abs", FOp::Abs);
    both(BinaryenCeilFloat32(), BinaryenCeilFloat64(), "ceil", FOp::Ceil);
    both(BinaryenFloorFloat32(), BinaryenFloorFloat64(), "floor", FOp::Floor);
    both(BinaryenTruncFloat32(), BinaryenTruncFloat64(), "trunc", FOp::Trunc);
    both(BinaryenNearestFloat32(), BinaryenNearestFloat64(), "nearest",
         FOp::Nearest);
    both(BinaryenSqrtFloat32(), BinaryenSqrtFloat64(), "sqrt", FOp::Sqrt);

    // Conversions, four at a time in Binaryen's order. A truncation's name
    // is "i32.trunc_f64_s": integer, operation, float, signedness.
    auto truncations = [&](const char *name, const char *sign, FOp op,
                           std::array<BinaryenOp, 4> ops) {
      unsigned k = 0;
      for (const char *from : {"f32", "f64"})
        for (auto [to, result] : {std::pair{"i32", Ty::I32}, {"i64", Ty::I64}})
          t[ops[k++]] = {std::string(to) + "." + name + "_" + from + sign, op,
                         result};
    };
    truncations("trunc", "_s", FOp::TruncS,
                {BinaryenTruncSFloat32ToInt32(), BinaryenTruncSFloat32ToInt64(),
                 BinaryenTruncSFloat64ToInt32(),
                 BinaryenTruncSFloat64ToInt64()});
    truncations("trunc", "_u", FOp::TruncU,
                {BinaryenTruncUFloat32ToInt32(), BinaryenTruncUFloat32ToInt64(),
                 BinaryenTruncUFloat64ToInt32(),
                 BinaryenTruncUFloat64ToInt64()});
    truncations(
        "trunc_sat", "_s", FOp::TruncSatS,
        {BinaryenTruncSatSFloat32ToInt32(), BinaryenTruncSatSFloat32ToInt64(),
         BinaryenTruncSatSFloat64ToInt32(), BinaryenTruncSatSFloat64ToInt64()});
    truncations(
        "trunc_sat", "_u", FOp::TruncSatU,
        {BinaryenTruncSatUFloat32ToInt32(), BinaryenTruncSatUFloat32ToInt64(),
         BinaryenTruncSatUFloat64ToInt32(), BinaryenTruncSatUFloat64ToInt64()});
    // "f32.convert_i64_u": float, integer, signedness.
    auto converts = [&](const char *sign, FOp op,
                        std::array<BinaryenOp, 4> ops) {
      unsigned k = 0;
      for (const char *from : {"i32", "i64"})
        for (auto [to, result] : {std::pair{"f32", Ty::F32}, {"f64", Ty::F64}})
          t[ops[k++]] = {std::string(to) + ".convert_" + from + sign, op,
                         result};
    };
    converts(
        "_s", FOp::ConvertS,
        {BinaryenConvertSInt32ToFloat32(), BinaryenConvertSInt32ToFloat64(),
         BinaryenConvertSInt64ToFloat32(), BinaryenConvertSInt64ToFloat64()});
    converts(
        "_u", FOp::ConvertU,
        {BinaryenConvertUInt32ToFloat32(), BinaryenConvertUInt32ToFloat64(),
         BinaryenConvertUInt64ToFloat32(), BinaryenConvertUInt64ToFloat64()});

    t[BinaryenPromoteFloat32()] = {"f64.promote_f32", FOp::Promote, Ty::F64};
    t[BinaryenDemoteFloat64()] = {"f32.demote_f64", FOp::Demote, Ty::F32};
    auto reinterpret = [&](BinaryenOp op, const char *name, Ty result) {
      t[op] = {name, FOp::Reinterpret, result};
    };
    reinterpret(BinaryenReinterpretFloat32(), "i32.reinterpret_f32", Ty::I32);
    reinterpret(BinaryenReinterpretFloat64(), "i64.reinterpret_f64", Ty::I64);
    reinterpret(BinaryenReinterpretInt32(), "f32.reinterpret_i32", Ty::F32);
    reinterpret(BinaryenReinterpretInt64(), "f64.reinterpret_i64", Ty::F64);
    return t;
  }();
  return table;
}

const FloatOpTable &floatBinaryOps() {
  static const FloatOpTable table = [] {
    FloatOpTable t;
    auto both = [&](BinaryenOp op32, BinaryenOp op64, const char *name, FOp op,
                    bool comparison = false) {
      t[op32] = {std::string("f32.") + name, op,
                 comparison ? Ty::I32 : Ty::F32};
      t[op64] = {std::string("f64.") + name, op,
                 comparison ? Ty::I32 : Ty::F64};
    };
    both(BinaryenAddFloat32(), BinaryenAddFloat64(), "add", FOp::Add);
    both(BinaryenSubFloat32(), BinaryenSubFloat64(), "sub", FOp::Sub);
    both(BinaryenMulFloat32(), BinaryenMulFloat64(), "mul", FOp::Mul);
    both(BinaryenDivFloat32(), BinaryenDivFloat64(), "div", FOp::Div);
    both(BinaryenMinFloat32(), BinaryenMinFloat64(), "min", FOp::Min);
    both(BinaryenMaxFloat32(), BinaryenMaxFloat64(), "max", FOp::Max);
    both(BinaryenCopySignFloat32(), BinaryenCopySignFloat64(), "copysign",
         FOp::CopySign);
    both(BinaryenEqFloat32(), BinaryenEqFloat64(), "eq", FOp::Eq, true);
    both(BinaryenNeFloat32(), BinaryenNeFloat64(), "ne", FOp::Ne, true);
    both(BinaryenLtFloat32(), BinaryenLtFloat64(), "lt", FOp::Lt, true);
    both(BinaryenLeFloat32(), BinaryenLeFloat64(), "le", FOp::Le, true);
    both(BinaryenGtFloat32(), BinaryenGtFloat64(), "gt", FOp::Gt, true);
    both(BinaryenGeFloat32(), BinaryenGeFloat64(), "ge", FOp::Ge, true);
    return t;
  }();
  return table;
}

llvm::Type *llvmType(llvm::LLVMContext &ctx, Ty type) {
  switch (type) {
  case Ty::I32: return llvm::Type::getInt32Ty(ctx);
  case Ty::I64: return llvm::Type::getInt64Ty(ctx);
  case Ty::F32: return llvm::Type::getFloatTy(ctx);
  case Ty::F64: return llvm::Type::getDoubleTy(ctx);
  }
  return nullptr;
}

// A float constant with exactly these bits (never through a C++ double,
// which would quiet a signaling NaN).
llvm::Constant *floatBits(llvm::Type *type, uint64_t bits) {
  const llvm::fltSemantics &semantics = type->getFltSemantics();
  unsigned width = type->getPrimitiveSizeInBits();
  return llvm::ConstantFP::get(
      type->getContext(), llvm::APFloat(semantics, llvm::APInt(width, bits)));
}

llvm::Constant *canonicalNaN(llvm::Type *type) {
  return type->isFloatTy() ? floatBits(type, 0x7fc00000)
                           : floatBits(type, 0x7ff8000000000000ull);
}

// The exclusive bounds of the values a trapping truncation accepts:
// lower < x < upper. `upper` is 2^(N-1) or 2^N, exact in both formats.
// `lower` is -2^(N-1)-1 or -1, rounded toward -inf when it is not exact:
// no float lies strictly between it and -2^(N-1) then, so x > lower still
// means trunc(x) >= -2^(N-1) (e.g. f32: -2^31-1 becomes -2^31-256).
std::pair<llvm::Constant *, llvm::Constant *>
truncBounds(llvm::Type *floatType, unsigned bits, bool isSigned) {
  const llvm::fltSemantics &semantics = floatType->getFltSemantics();
  llvm::APInt upper = isSigned ? llvm::APInt::getOneBitSet(bits + 1, bits - 1)
                               : llvm::APInt::getOneBitSet(bits + 1, bits);
  llvm::APInt lower = isSigned
                          ? -llvm::APInt::getOneBitSet(bits + 1, bits - 1) - 1
                          : llvm::APInt::getAllOnes(bits + 1);
  llvm::APFloat upperFloat(semantics), lowerFloat(semantics);
  upperFloat.convertFromAPInt(upper, false, llvm::APFloat::rmNearestTiesToEven);
  lowerFloat.convertFromAPInt(lower, true, llvm::APFloat::rmTowardNegative);
  auto &ctx = floatType->getContext();
  return {llvm::ConstantFP::get(ctx, lowerFloat),
          llvm::ConstantFP::get(ctx, upperFloat)};
}

OpResult unsupported(const std::string &name) {
  return makeError(ErrorKind::Unsupported,
                   "instruction " + name + " is not supported yet");
}

} // namespace

const char *floatOpName(BinaryenOp op, bool binary) {
  const FloatOpTable &table = binary ? floatBinaryOps() : floatUnaryOps();
  auto found = table.find(op);
  return found == table.end() ? nullptr : found->second.name.c_str();
}

llvm::Constant *floatConstant(llvm::LLVMContext &ctx,
                              BinaryenExpressionRef expr) {
  // BinaryenConstGetValueI32/I64 assert that the constant is an integer, so
  // the bits come from the float getters: they return the stored bits with a
  // plain SSE move, and std::bit_cast keeps them (no float conversion).
  if (BinaryenExpressionGetType(expr) == BinaryenTypeFloat32())
    return floatBits(llvm::Type::getFloatTy(ctx),
                     std::bit_cast<uint32_t>(BinaryenConstGetValueF32(expr)));
  return floatBits(llvm::Type::getDoubleTy(ctx),
                   std::bit_cast<uint64_t>(BinaryenConstGetValueF64(expr)));
}

// select(r is NaN, canonical NaN, r). LLVM leaves NaN payloads of arithmetic
// unspecified (and folds constants its own way); wasm leaves them
// nondeterministic: Nomos makes them canonical (where the bits can be seen:
// nan_canonicalization.cpp drops the rest).
llvm::Value *FunctionLowering::canonicalizeNaN(llvm::Value *value) {
  return markNaNCanonicalization(b.CreateSelect(
      b.CreateFCmpUNO(value, value), canonicalNaN(value->getType()), value));
}

// i32/i64.trunc_f32/f64_s/u: NaN traps with InvalidConversion, a value whose
// truncation is out of range with IntegerOverflow (LLVM gives poison).
llvm::Value *FunctionLowering::emitTrappingTrunc(llvm::Value *value,
                                                 llvm::Type *resultType,
                                                 bool isSigned) {
  trapIf(b.CreateFCmpUNO(value, value), NOMOS_TRAP_INVALID_CONVERSION);
  auto [lower, upper] =
      truncBounds(value->getType(), resultType->getIntegerBitWidth(), isSigned);
  trapIf(
      b.CreateOr(b.CreateFCmpOLE(value, lower), b.CreateFCmpOGE(value, upper)),
      NOMOS_TRAP_INTEGER_OVERFLOW);
  return isSigned ? b.CreateFPToSI(value, resultType)
                  : b.CreateFPToUI(value, resultType);
}

OpResult FunctionLowering::emitFloatUnary(BinaryenOp op, llvm::Value *value) {
  auto found = floatUnaryOps().find(op);
  if (found == floatUnaryOps().end())
    return unsupported(unaryOpName(op));
  llvm::Type *result = llvmType(m.ctx, found->second.result);
  auto rounding = [&](llvm::Intrinsic::ID id) {
    return canonicalizeNaN(b.CreateUnaryIntrinsic(id, value));
  };
  switch (found->second.op) {
  // fneg and fabs are sign-bit operations in LLVM, as in wasm.
  case FOp::Neg: return b.CreateFNeg(value);
  case FOp::Abs: return b.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, value);
  case FOp::Ceil: return rounding(llvm::Intrinsic::ceil);
  case FOp::Floor: return rounding(llvm::Intrinsic::floor);
  case FOp::Trunc: return rounding(llvm::Intrinsic::trunc);
  // nearest rounds ties to even: roundeven, not round (ties away from zero).
  case FOp::Nearest: return rounding(llvm::Intrinsic::roundeven);
  case FOp::Sqrt: return rounding(llvm::Intrinsic::sqrt);
  case FOp::TruncS: return emitTrappingTrunc(value, result, true);
  case FOp::TruncU: return emitTrappingTrunc(value, result, false);
  // The saturating intrinsics match wasm exactly, NaN -> 0 included.
  case FOp::TruncSatS:
    return b.CreateIntrinsic(llvm::Intrinsic::fptosi_sat,
                             {result, value->getType()}, {value});
  case FOp::TruncSatU:
    return b.CreateIntrinsic(llvm::Intrinsic::fptoui_sat,
                             {result, value->getType()}, {value});
  // Round to nearest, ties to even (LLVM's default environment); never NaN.
  case FOp::ConvertS: return b.CreateSIToFP(value, result);
  case FOp::ConvertU: return b.CreateUIToFP(value, result);
  case FOp::Promote: return canonicalizeNaN(b.CreateFPExt(value, result));
  case FOp::Demote: return canonicalizeNaN(b.CreateFPTrunc(value, result));
  case FOp::Reinterpret: return b.CreateBitCast(value, result);
  default: return unsupported(unaryOpName(op));
  }
}

// `magnitude` with the sign bit of `sign`, through the integers of their width.
static llvm::Value *copySignBits(llvm::IRBuilder<> &b, llvm::Value *magnitude,
                                 llvm::Value *sign) {
  llvm::Type *type = magnitude->getType();
  unsigned bits = type->getPrimitiveSizeInBits();
  llvm::Type *intType = b.getIntNTy(bits);
  llvm::APInt signBit = llvm::APInt::getSignMask(bits);
  llvm::Value *kept = b.CreateAnd(b.CreateBitCast(magnitude, intType),
                                  llvm::ConstantInt::get(intType, ~signBit));
  llvm::Value *taken = b.CreateAnd(b.CreateBitCast(sign, intType),
                                   llvm::ConstantInt::get(intType, signBit));
  return b.CreateBitCast(b.CreateOr(kept, taken), type);
}

OpResult FunctionLowering::emitFloatBinary(BinaryenOp op, llvm::Value *lhs,
                                           llvm::Value *rhs) {
  auto found = floatBinaryOps().find(op);
  if (found == floatBinaryOps().end())
    return unsupported(binaryOpName(op));
  auto compare = [&](llvm::CmpInst::Predicate p) {
    return b.CreateZExt(b.CreateFCmp(p, lhs, rhs), b.getInt32Ty());
  };
  switch (found->second.op) {
  case FOp::Add: return canonicalizeNaN(b.CreateFAdd(lhs, rhs));
  case FOp::Sub: return canonicalizeNaN(b.CreateFSub(lhs, rhs));
  case FOp::Mul: return canonicalizeNaN(b.CreateFMul(lhs, rhs));
  case FOp::Div: return canonicalizeNaN(b.CreateFDiv(lhs, rhs));
  // wasm min/max: NaN if either is NaN, -0 < +0. That is llvm.minimum and
  // llvm.maximum, not minnum/maxnum (which return the non-NaN operand).
  case FOp::Min:
    return canonicalizeNaN(
        b.CreateBinaryIntrinsic(llvm::Intrinsic::minimum, lhs, rhs));
  case FOp::Max:
    return canonicalizeNaN(
        b.CreateBinaryIntrinsic(llvm::Intrinsic::maximum, lhs, rhs));
  // A sign-bit operation: keeps the payload of a NaN. Written as bit
  // operations (the same and/or the backend makes of llvm.copysign): LLVM
  // 19's simplifier crashes on min/max(min/max(x, y), copysign(x, y))
  // (llvm-project#173705, fixed after 19), and a guest can write that.
  case FOp::CopySign:
    return copySignBits(b, lhs, rhs);
  // Ordered comparisons are false on NaN; ne is true on NaN (unordered).
  case FOp::Eq: return compare(llvm::CmpInst::FCMP_OEQ);
  case FOp::Ne: return compare(llvm::CmpInst::FCMP_UNE);
  case FOp::Lt: return compare(llvm::CmpInst::FCMP_OLT);
  case FOp::Le: return compare(llvm::CmpInst::FCMP_OLE);
  case FOp::Gt: return compare(llvm::CmpInst::FCMP_OGT);
  case FOp::Ge: return compare(llvm::CmpInst::FCMP_OGE);
  default: return unsupported(binaryOpName(op));
  }
}

} // namespace nomos::compiler
