// Operator families: numeric unary and binary operators, memory accesses.
// Where wasm's semantics differ from LLVM's, the emitter says so.
#include "lowering.h"

#include <llvm/IR/Intrinsics.h>


namespace nomos::compiler {

namespace {

enum class Op : uint8_t {
  // Unary integer
  Clz, Ctz, Popcnt, Eqz, ExtendS32, ExtendU32, Wrap, ExtendS8, ExtendS16,
  ExtendS32To64,
  // Binary integer
  Add, Sub, Mul, DivS, DivU, RemS, RemU, And, Or, Xor, Shl, ShrS, ShrU, RotL,
  RotR, Eq, Ne, LtS, LtU, LeS, LeU, GtS, GtU, GeS, GeU,
};

struct OpInfo {
  std::string name;
  Op op;
};

using OpTable = llvm::DenseMap<BinaryenOp, OpInfo>;

// Binaryen's operator ids are only reachable through functions, so the
// tables are built once, on first use.
const OpTable &unaryOps() {
  static const OpTable table = [] {
    OpTable t;
    t[BinaryenClzInt32()] = {"i32.clz", Op::Clz};
    t[BinaryenCtzInt32()] = {"i32.ctz", Op::Ctz};
    t[BinaryenPopcntInt32()] = {"i32.popcnt", Op::Popcnt};
    t[BinaryenEqZInt32()] = {"i32.eqz", Op::Eqz};
    t[BinaryenClzInt64()] = {"i64.clz", Op::Clz};
    t[BinaryenCtzInt64()] = {"i64.ctz", Op::Ctz};
    t[BinaryenPopcntInt64()] = {"i64.popcnt", Op::Popcnt};
    t[BinaryenEqZInt64()] = {"i64.eqz", Op::Eqz};
    t[BinaryenExtendSInt32()] = {"i64.extend_i32_s", Op::ExtendS32};
    t[BinaryenExtendUInt32()] = {"i64.extend_i32_u", Op::ExtendU32};
    t[BinaryenWrapInt64()] = {"i32.wrap_i64", Op::Wrap};
    t[BinaryenExtendS8Int32()] = {"i32.extend8_s", Op::ExtendS8};
    t[BinaryenExtendS16Int32()] = {"i32.extend16_s", Op::ExtendS16};
    t[BinaryenExtendS8Int64()] = {"i64.extend8_s", Op::ExtendS8};
    t[BinaryenExtendS16Int64()] = {"i64.extend16_s", Op::ExtendS16};
    t[BinaryenExtendS32Int64()] = {"i64.extend32_s", Op::ExtendS32To64};
    return t;
  }();
  return table;
}

const OpTable &binaryOps() {
  static const OpTable table = [] {
    OpTable t;
    auto both = [&](BinaryenOp op32, BinaryenOp op64, const char *name, Op op) {
      t[op32] = {std::string("i32.") + name, op};
      t[op64] = {std::string("i64.") + name, op};
    };
    both(BinaryenAddInt32(), BinaryenAddInt64(), "add", Op::Add);
    both(BinaryenSubInt32(), BinaryenSubInt64(), "sub", Op::Sub);
    both(BinaryenMulInt32(), BinaryenMulInt64(), "mul", Op::Mul);
    both(BinaryenDivSInt32(), BinaryenDivSInt64(), "div_s", Op::DivS);
    both(BinaryenDivUInt32(), BinaryenDivUInt64(), "div_u", Op::DivU);
    both(BinaryenRemSInt32(), BinaryenRemSInt64(), "rem_s", Op::RemS);
    both(BinaryenRemUInt32(), BinaryenRemUInt64(), "rem_u", Op::RemU);
    both(BinaryenAndInt32(), BinaryenAndInt64(), "and", Op::And);
    both(BinaryenOrInt32(), BinaryenOrInt64(), "or", Op::Or);
    both(BinaryenXorInt32(), BinaryenXorInt64(), "xor", Op::Xor);
    both(BinaryenShlInt32(), BinaryenShlInt64(), "shl", Op::Shl);
    both(BinaryenShrSInt32(), BinaryenShrSInt64(), "shr_s", Op::ShrS);
    both(BinaryenShrUInt32(), BinaryenShrUInt64(), "shr_u", Op::ShrU);
    both(BinaryenRotLInt32(), BinaryenRotLInt64(), "rotl", Op::RotL);
    both(BinaryenRotRInt32(), BinaryenRotRInt64(), "rotr", Op::RotR);
    both(BinaryenEqInt32(), BinaryenEqInt64(), "eq", Op::Eq);
    both(BinaryenNeInt32(), BinaryenNeInt64(), "ne", Op::Ne);
    both(BinaryenLtSInt32(), BinaryenLtSInt64(), "lt_s", Op::LtS);
    both(BinaryenLtUInt32(), BinaryenLtUInt64(), "lt_u", Op::LtU);
    both(BinaryenLeSInt32(), BinaryenLeSInt64(), "le_s", Op::LeS);
    both(BinaryenLeUInt32(), BinaryenLeUInt64(), "le_u", Op::LeU);
    both(BinaryenGtSInt32(), BinaryenGtSInt64(), "gt_s", Op::GtS);
    both(BinaryenGtUInt32(), BinaryenGtUInt64(), "gt_u", Op::GtU);
    both(BinaryenGeSInt32(), BinaryenGeSInt64(), "ge_s", Op::GeS);
    both(BinaryenGeUInt32(), BinaryenGeUInt64(), "ge_u", Op::GeU);
    return t;
  }();
  return table;
}

std::string opName(const OpTable &table, BinaryenOp op, const char *family,
                   bool binary) {
  if (auto found = table.find(op); found != table.end())
    return found->second.name;
  if (const char *name = floatOpName(op, binary))
    return name;
  if (const char *name = simdOpName(op, binary))
    return name;
  return std::string(family) + " operator #" + std::to_string(op);
}

OpResult unsupportedOp(std::string name) {
  return makeError(ErrorKind::Unsupported,
                   "instruction " + name + " is not supported yet");
}

} // namespace

std::string unaryOpName(BinaryenOp op) {
  return opName(unaryOps(), op, "unary", false);
}
std::string binaryOpName(BinaryenOp op) {
  return opName(binaryOps(), op, "binary", true);
}

const char *expressionName(BinaryenExpressionId id) {
  static const std::pair<BinaryenExpressionId (*)(), const char *> names[] = {
      {BinaryenCallIndirectId, "call_indirect"},
      {BinaryenMemoryInitId, "memory.init"},
      {BinaryenDataDropId, "data.drop"},
      {BinaryenMemoryCopyId, "memory.copy"},
      {BinaryenMemoryFillId, "memory.fill"},
      {BinaryenRefNullId, "ref.null"},
      {BinaryenRefIsId, "ref.is_null"},
      {BinaryenRefFuncId, "ref.func"},
      {BinaryenTableGetId, "table.get"},
      {BinaryenTableSetId, "table.set"},
      {BinaryenTableSizeId, "table.size"},
      {BinaryenTableGrowId, "table.grow"},
      {BinaryenSIMDExtractId, "a SIMD lane extract"},
      {BinaryenSIMDReplaceId, "a SIMD lane replace"},
      {BinaryenSIMDShuffleId, "i8x16.shuffle"},
      {BinaryenSIMDTernaryId, "a SIMD ternary operator"},
      {BinaryenSIMDShiftId, "a SIMD shift"},
      {BinaryenSIMDLoadId, "a SIMD load"},
      {BinaryenSIMDLoadStoreLaneId, "a SIMD lane load/store"},
      {BinaryenTupleMakeId, "a multi-value tuple"},
      {BinaryenTupleExtractId, "a multi-value tuple"},
  };
  for (auto [idFn, name] : names)
    if (idFn() == id)
      return name;
  return "(unknown)";
}

OpResult FunctionLowering::emitUnary(BinaryenOp op, llvm::Value *value) {
  if (isSimdOp(op, false))
    return emitSimdUnary(op, value);
  auto found = unaryOps().find(op);
  if (found == unaryOps().end())
    return emitFloatUnary(op, value);
  llvm::Type *type = value->getType();
  auto *i32 = b.getInt32Ty();
  auto *i64 = b.getInt64Ty();
  switch (found->second.op) {
  // ctlz/cttz with "is zero poison" false: wasm defines clz(0) = bit width.
  case Op::Clz:
    return b.CreateBinaryIntrinsic(llvm::Intrinsic::ctlz, value, b.getFalse());
  case Op::Ctz:
    return b.CreateBinaryIntrinsic(llvm::Intrinsic::cttz, value, b.getFalse());
  case Op::Popcnt:
    return b.CreateUnaryIntrinsic(llvm::Intrinsic::ctpop, value);
  case Op::Eqz:
    return b.CreateZExt(
        b.CreateICmpEQ(value, llvm::ConstantInt::get(type, 0)), i32);
  case Op::ExtendS32:
    return b.CreateSExt(value, i64);
  case Op::ExtendU32:
    return b.CreateZExt(value, i64);
  case Op::Wrap:
    return b.CreateTrunc(value, i32);
  case Op::ExtendS8:
    return b.CreateSExt(b.CreateTrunc(value, b.getInt8Ty()), type);
  case Op::ExtendS16:
    return b.CreateSExt(b.CreateTrunc(value, b.getInt16Ty()), type);
  case Op::ExtendS32To64:
    return b.CreateSExt(b.CreateTrunc(value, i32), type);
  default:
    return unsupportedOp(unaryOpName(op));
  }
}

OpResult FunctionLowering::emitBinary(BinaryenOp op, llvm::Value *lhs,
                                      llvm::Value *rhs) {
  if (isSimdOp(op, true))
    return emitSimdBinary(op, lhs, rhs);
  auto found = binaryOps().find(op);
  if (found == binaryOps().end())
    return emitFloatBinary(op, lhs, rhs);
  llvm::Type *type = lhs->getType();
  unsigned bits = type->getIntegerBitWidth();
  auto constant = [&](uint64_t v) { return llvm::ConstantInt::get(type, v); };
  auto minSigned = llvm::ConstantInt::get(
      type, llvm::APInt::getSignedMinValue(bits));
  auto allOnes = llvm::ConstantInt::getAllOnesValue(type);
  auto compare = [&](llvm::CmpInst::Predicate p) {
    return b.CreateZExt(b.CreateICmp(p, lhs, rhs), b.getInt32Ty());
  };
  // Shift counts are taken modulo the bit width in wasm; LLVM gives poison
  // for counts >= the width.
  auto shiftCount = [&] { return b.CreateAnd(rhs, constant(bits - 1)); };
  auto trapIfZero = [&] {
    trapIf(b.CreateICmpEQ(rhs, constant(0)), NOMOS_TRAP_INTEGER_DIVIDE_BY_ZERO);
  };
  switch (found->second.op) {
  case Op::Add: return b.CreateAdd(lhs, rhs);
  case Op::Sub: return b.CreateSub(lhs, rhs);
  case Op::Mul: return b.CreateMul(lhs, rhs);
  case Op::And: return b.CreateAnd(lhs, rhs);
  case Op::Or: return b.CreateOr(lhs, rhs);
  case Op::Xor: return b.CreateXor(lhs, rhs);
  case Op::Shl: return b.CreateShl(lhs, shiftCount());
  case Op::ShrS: return b.CreateAShr(lhs, shiftCount());
  case Op::ShrU: return b.CreateLShr(lhs, shiftCount());
  // Funnel shifts of a value with itself are rotates, count modulo width.
  case Op::RotL:
    return b.CreateIntrinsic(llvm::Intrinsic::fshl, {type}, {lhs, lhs, rhs});
  case Op::RotR:
    return b.CreateIntrinsic(llvm::Intrinsic::fshr, {type}, {lhs, lhs, rhs});
  case Op::DivU:
    trapIfZero();
    return b.CreateUDiv(lhs, rhs);
  case Op::RemU:
    trapIfZero();
    return b.CreateURem(lhs, rhs);
  case Op::DivS:
    // INT_MIN / -1 overflows: a trap in wasm, undefined in LLVM.
    trapIfZero();
    trapIf(b.CreateAnd(b.CreateICmpEQ(lhs, minSigned),
                       b.CreateICmpEQ(rhs, allOnes)),
           NOMOS_TRAP_INTEGER_OVERFLOW);
    return b.CreateSDiv(lhs, rhs);
  case Op::RemS: {
    // INT_MIN % -1 is 0 in wasm, undefined in LLVM (and faults on x86):
    // divide by 1 instead whenever the divisor is -1, and the result is 0.
    trapIfZero();
    llvm::Value *isMinusOne = b.CreateICmpEQ(rhs, allOnes);
    llvm::Value *divisor = b.CreateSelect(isMinusOne, constant(1), rhs);
    return b.CreateSelect(isMinusOne, constant(0), b.CreateSRem(lhs, divisor));
  }
  case Op::Eq: return compare(llvm::CmpInst::ICMP_EQ);
  case Op::Ne: return compare(llvm::CmpInst::ICMP_NE);
  case Op::LtS: return compare(llvm::CmpInst::ICMP_SLT);
  case Op::LtU: return compare(llvm::CmpInst::ICMP_ULT);
  case Op::LeS: return compare(llvm::CmpInst::ICMP_SLE);
  case Op::LeU: return compare(llvm::CmpInst::ICMP_ULE);
  case Op::GtS: return compare(llvm::CmpInst::ICMP_SGT);
  case Op::GtU: return compare(llvm::CmpInst::ICMP_UGT);
  case Op::GeS: return compare(llvm::CmpInst::ICMP_SGE);
  case Op::GeU: return compare(llvm::CmpInst::ICMP_UGE);
  default:
    return unsupportedOp(binaryOpName(op));
  }
}

// Linear memory access: the effective address is the zero-extended i32
// address plus the static offset, computed in 64 bits so it cannot wrap.
// With guard pages it is not checked: it falls inside the memory's slot,
// whose inaccessible pages fault (the runtime turns that into the trap).
llvm::Value *FunctionLowering::memoryAddress(llvm::Value *address,
                                             uint64_t offset, unsigned bytes) {
  llvm::Value *effective =
      b.CreateAdd(b.CreateZExt(address, b.getInt64Ty()), b.getInt64(offset));
  bool guarded = m.memoryStrategy == rt::MemoryStrategy::GuardPages &&
                 offset + bytes <= rt::kGuardBytes;
  if (!guarded) {
    llvm::Value *end = b.CreateAdd(effective, b.getInt64(bytes));
    trapIf(b.CreateICmpUGT(end, memorySize()), NOMOS_TRAP_MEMORY_OUT_OF_BOUNDS);
  }
  return b.CreateGEP(b.getInt8Ty(), memoryBase(), effective);
}

// With guard pages a load is its own bounds check, so it must stay even
// when its value is unused: volatile keeps LLVM from deleting it (which
// would make a trap depend on the optimization level). LLVM 19 has no
// lighter way to say "may trap" (llvm.fake.use comes in LLVM 20).
llvm::Value *FunctionLowering::guestLoad(llvm::Type *type, llvm::Value *pointer) {
  llvm::LoadInst *load = b.CreateAlignedLoad(type, pointer, llvm::MaybeAlign(1));
  load->setVolatile(m.memoryStrategy == rt::MemoryStrategy::GuardPages);
  load->setMetadata(llvm::LLVMContext::MD_tbaa, m.guestMemoryTag);
  return load;
}

void FunctionLowering::guestStore(llvm::Value *value, llvm::Value *pointer) {
  llvm::StoreInst *store =
      b.CreateAlignedStore(value, pointer, llvm::MaybeAlign(1));
  store->setMetadata(llvm::LLVMContext::MD_tbaa, m.guestMemoryTag);
}

OpResult FunctionLowering::emitLoad(BinaryenExpressionRef expr,
                                    llvm::Value *address) {
  auto resultType = m.lowerType(BinaryenExpressionGetType(expr));
  if (!resultType)
    return tl::unexpected(resultType.error());
  unsigned bytes = BinaryenLoadGetBytes(expr);
  llvm::Value *pointer =
      memoryAddress(address, BinaryenLoadGetOffset(expr), bytes);
  llvm::Type *memoryType = b.getIntNTy(bytes * 8);
  llvm::Value *value = guestLoad(memoryType, pointer);
  if (memoryType == *resultType)
    return value;
  // Floats (and v128) move as integers of their width: the bits, NaN
  // payloads included.
  if ((*resultType)->isFloatingPointTy() || (*resultType)->isVectorTy())
    return b.CreateBitCast(value, *resultType);
  return BinaryenLoadIsSigned(expr) ? b.CreateSExt(value, *resultType)
                                    : b.CreateZExt(value, *resultType);
}

OpResult FunctionLowering::emitStore(BinaryenExpressionRef expr,
                                     llvm::Value *address, llvm::Value *value) {
  unsigned bytes = BinaryenStoreGetBytes(expr);
  llvm::Value *pointer =
      memoryAddress(address, BinaryenStoreGetOffset(expr), bytes);
  llvm::Type *memoryType = b.getIntNTy(bytes * 8);
  if (value->getType()->isFloatingPointTy() || value->getType()->isVectorTy())
    value = b.CreateBitCast(value, memoryType);
  if (value->getType() != memoryType)
    value = b.CreateTrunc(value, memoryType);
  guestStore(value, pointer);
  return nullptr;
}

OpResult FunctionLowering::emitMemorySize() {
  llvm::Value *size = memorySize();
  return b.CreateTrunc(b.CreateLShr(size, b.getInt64(16)), b.getInt32Ty());
}

OpResult FunctionLowering::emitMemoryGrow(llvm::Value *delta) {
  return b.CreateCall(m.memoryGrowFunction, {vmctx, delta});
}

} // namespace nomos::compiler

namespace nomos::compiler {

// [address, address + size) of memory 0, both zero-extended i32s, checked
// in 64 bits (no wrap) against the current size.
llvm::Value *FunctionLowering::checkedRange(llvm::Value *address,
                                            llvm::Value *size) {
  llvm::Value *start = b.CreateZExt(address, b.getInt64Ty());
  llvm::Value *end = b.CreateAdd(start, b.CreateZExt(size, b.getInt64Ty()));
  trapIf(b.CreateICmpUGT(end, memorySize()), NOMOS_TRAP_MEMORY_OUT_OF_BOUNDS);
  return b.CreateGEP(b.getInt8Ty(), memoryBase(), start);
}

// Both ranges are checked before any byte moves (WebAssembly 2.0 bulk
// memory traps without a partial write); overlapping ranges copy as memmove.
OpResult FunctionLowering::emitMemoryCopy(llvm::Value *dest, llvm::Value *source,
                                          llvm::Value *size) {
  llvm::Value *to = checkedRange(dest, size);
  llvm::Value *from = checkedRange(source, size);
  b.CreateMemMove(to, llvm::MaybeAlign(1), from, llvm::MaybeAlign(1),
                  b.CreateZExt(size, b.getInt64Ty()));
  return nullptr;
}

OpResult FunctionLowering::emitMemoryFill(llvm::Value *dest, llvm::Value *value,
                                          llvm::Value *size) {
  llvm::Value *to = checkedRange(dest, size);
  b.CreateMemSet(to, b.CreateTrunc(value, b.getInt8Ty()),
                 b.CreateZExt(size, b.getInt64Ty()), llvm::MaybeAlign(1));
  return nullptr;
}

} // namespace nomos::compiler
