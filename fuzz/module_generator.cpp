#include "module_generator.h"

#include <binaryen-c.h>

#include <cstdlib>
#include <cstring>
#include <string>

namespace nomos::fuzz {
namespace {

// The value types the generator uses, by index.
enum Ty { I32, I64, F32, F64, NumTypes };

BinaryenType binaryenType(int type) {
  switch (type) {
  case I32: return BinaryenTypeInt32();
  case I64: return BinaryenTypeInt64();
  case F32: return BinaryenTypeFloat32();
  default: return BinaryenTypeFloat64();
  }
}

struct Op {
  BinaryenOp (*op)();
  int operand; // the operands' type
};

// Unary and binary operators by result type.
const std::vector<Op> kUnary[NumTypes] = {
    {{BinaryenClzInt32, I32}, {BinaryenCtzInt32, I32}, {BinaryenPopcntInt32, I32},
     {BinaryenEqZInt32, I32}, {BinaryenEqZInt64, I64}, {BinaryenWrapInt64, I64},
     {BinaryenExtendS8Int32, I32}, {BinaryenExtendS16Int32, I32},
     {BinaryenTruncSFloat32ToInt32, F32}, {BinaryenTruncUFloat32ToInt32, F32},
     {BinaryenTruncSFloat64ToInt32, F64}, {BinaryenTruncUFloat64ToInt32, F64},
     {BinaryenTruncSatSFloat32ToInt32, F32}, {BinaryenTruncSatUFloat64ToInt32, F64},
     {BinaryenReinterpretFloat32, F32}},
    {{BinaryenClzInt64, I64}, {BinaryenCtzInt64, I64}, {BinaryenPopcntInt64, I64},
     {BinaryenExtendSInt32, I32}, {BinaryenExtendUInt32, I32},
     {BinaryenExtendS8Int64, I64}, {BinaryenExtendS32Int64, I64},
     {BinaryenTruncSFloat32ToInt64, F32}, {BinaryenTruncUFloat64ToInt64, F64},
     {BinaryenTruncSatUFloat32ToInt64, F32}, {BinaryenTruncSatSFloat64ToInt64, F64},
     {BinaryenReinterpretFloat64, F64}},
    {{BinaryenNegFloat32, F32}, {BinaryenAbsFloat32, F32}, {BinaryenCeilFloat32, F32},
     {BinaryenFloorFloat32, F32}, {BinaryenTruncFloat32, F32},
     {BinaryenNearestFloat32, F32}, {BinaryenSqrtFloat32, F32},
     {BinaryenConvertSInt32ToFloat32, I32}, {BinaryenConvertUInt64ToFloat32, I64},
     {BinaryenDemoteFloat64, F64}, {BinaryenReinterpretInt32, I32}},
    {{BinaryenNegFloat64, F64}, {BinaryenAbsFloat64, F64}, {BinaryenCeilFloat64, F64},
     {BinaryenFloorFloat64, F64}, {BinaryenTruncFloat64, F64},
     {BinaryenNearestFloat64, F64}, {BinaryenSqrtFloat64, F64},
     {BinaryenConvertUInt32ToFloat64, I32}, {BinaryenConvertSInt64ToFloat64, I64},
     {BinaryenPromoteFloat32, F32}, {BinaryenReinterpretInt64, I64}},
};
const std::vector<Op> kBinary[NumTypes] = {
    {{BinaryenAddInt32, I32}, {BinaryenSubInt32, I32}, {BinaryenMulInt32, I32},
     {BinaryenDivSInt32, I32}, {BinaryenDivUInt32, I32}, {BinaryenRemSInt32, I32},
     {BinaryenRemUInt32, I32}, {BinaryenAndInt32, I32}, {BinaryenOrInt32, I32},
     {BinaryenXorInt32, I32}, {BinaryenShlInt32, I32}, {BinaryenShrUInt32, I32},
     {BinaryenShrSInt32, I32}, {BinaryenRotLInt32, I32}, {BinaryenRotRInt32, I32},
     {BinaryenLtSInt32, I32}, {BinaryenGeUInt32, I32}, {BinaryenEqInt64, I64},
     {BinaryenLtUInt64, I64}, {BinaryenGtSInt64, I64}, {BinaryenEqFloat32, F32},
     {BinaryenLtFloat32, F32}, {BinaryenNeFloat64, F64}, {BinaryenGeFloat64, F64}},
    {{BinaryenAddInt64, I64}, {BinaryenSubInt64, I64}, {BinaryenMulInt64, I64},
     {BinaryenDivSInt64, I64}, {BinaryenDivUInt64, I64}, {BinaryenRemSInt64, I64},
     {BinaryenRemUInt64, I64}, {BinaryenAndInt64, I64}, {BinaryenOrInt64, I64},
     {BinaryenXorInt64, I64}, {BinaryenShlInt64, I64}, {BinaryenShrUInt64, I64},
     {BinaryenShrSInt64, I64}, {BinaryenRotLInt64, I64}, {BinaryenRotRInt64, I64}},
    {{BinaryenAddFloat32, F32}, {BinaryenSubFloat32, F32}, {BinaryenMulFloat32, F32},
     {BinaryenDivFloat32, F32}, {BinaryenCopySignFloat32, F32},
     {BinaryenMinFloat32, F32}, {BinaryenMaxFloat32, F32}},
    {{BinaryenAddFloat64, F64}, {BinaryenSubFloat64, F64}, {BinaryenMulFloat64, F64},
     {BinaryenDivFloat64, F64}, {BinaryenCopySignFloat64, F64},
     {BinaryenMinFloat64, F64}, {BinaryenMaxFloat64, F64}},
};

// Values where operators have edge cases.
const uint64_t kSpecial[] = {0, 1, 2, 0x7f, 0x80, 0xffff, 0x7fffffff, 0x80000000,
                             0xffffffff, 0x7fffffffffffffff, 0x8000000000000000,
                             ~uint64_t(0), 0x7fc00000, 0x7ff8000000000000,
                             0x7f800001, 0x4f000000, 0x43e0000000000000, 65536};

constexpr int kMaxDepth = 6;
constexpr int kFunctions = 4;

struct Signature {
  std::vector<int> params;
  int result;
};

class Generator {
public:
  Generator(std::span<const uint8_t> bytes, BinaryenModuleRef module)
      : in_(bytes), m_(module) {}

  void run() {
    int count = 1 + byte() % kFunctions;
    for (int i = 0; i < count; ++i) {
      Signature sig{{}, byte() % NumTypes};
      for (int p = byte() % 3; p > 0; --p)
        sig.params.push_back(byte() % NumTypes);
      signatures_.push_back(sig);
    }
    for (int i = 0; i < count; ++i)
      function(i);
  }

private:
  uint8_t byte() { return at_ < in_.size() ? in_[at_++] : 0; }
  uint64_t u64() {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i)
      v = v << 8 | byte();
    return v;
  }
  bool exhausted() const { return at_ >= in_.size(); }

  void function(int index) {
    const Signature &sig = signatures_[index];
    locals_ = sig.params;
    paramCount_ = BinaryenIndex(sig.params.size());
    std::vector<BinaryenType> params;
    vars_.clear();
    for (int type : sig.params)
      params.push_back(binaryenType(type));
    // One scratch local of each type after the parameters.
    for (int type = 0; type < NumTypes; ++type) {
      locals_.push_back(type);
      vars_.push_back(binaryenType(type));
    }
    budget_ = 200;
    BinaryenExpressionRef body = expression(sig.result, 0);
    std::string name = "f" + std::to_string(index);
    BinaryenAddFunction(m_, name.c_str(),
                        BinaryenTypeCreate(params.data(), params.size()),
                        binaryenType(sig.result), vars_.data(), vars_.size(), body);
    BinaryenAddFunctionExport(m_, name.c_str(), name.c_str());
  }

  BinaryenExpressionRef constant(int type) {
    uint8_t pick = byte();
    uint64_t bits = pick < 128 ? kSpecial[pick % std::size(kSpecial)] : u64();
    switch (type) {
    case I32: return BinaryenConst(m_, BinaryenLiteralInt32(int32_t(bits)));
    case I64: return BinaryenConst(m_, BinaryenLiteralInt64(int64_t(bits)));
    case F32:
      return BinaryenConst(m_, BinaryenLiteralFloat32Bits(int32_t(bits)));
    default: return BinaryenConst(m_, BinaryenLiteralFloat64Bits(int64_t(bits)));
    }
  }

  BinaryenExpressionRef leaf(int type) {
    if (byte() % 2 == 0)
      return constant(type);
    for (size_t i = 0; i < locals_.size(); ++i)
      if (locals_[(i + at_) % locals_.size()] == type)
        return BinaryenLocalGet(m_, (i + at_) % locals_.size(),
                                binaryenType(type));
    return constant(type);
  }

  // An address: mostly small, so that accesses often land in the page.
  BinaryenExpressionRef address(int depth) {
    if (byte() % 4)
      return BinaryenConst(m_, BinaryenLiteralInt32(byte() * 257 % 65600));
    return expression(I32, depth + 1);
  }

  BinaryenExpressionRef load(int type, int depth) {
    static const uint32_t kSizes[NumTypes] = {4, 8, 4, 8};
    uint32_t bytes = kSizes[type];
    if (type <= I64 && byte() % 2)
      bytes = 1u << (byte() % (type == I32 ? 2 : 3)); // 1, 2 (or 4)
    return BinaryenLoad(m_, bytes, byte() % 2, byte() % 16, 1,
                        binaryenType(type), address(depth));
  }

  BinaryenExpressionRef call(int type, int depth) {
    for (size_t i = 0; i < signatures_.size(); ++i) {
      size_t callee = (i + at_) % signatures_.size();
      if (signatures_[callee].result != type)
        continue;
      std::vector<BinaryenExpressionRef> args;
      for (int param : signatures_[callee].params)
        args.push_back(expression(param, depth + 1));
      std::string name = "f" + std::to_string(callee);
      return BinaryenCall(m_, name.c_str(), args.data(), args.size(),
                          binaryenType(type));
    }
    return leaf(type);
  }

  // A counted loop over memory, the shape the compiler versions
  // (compiler/src/loop_versioning.cpp): `copies` stores per iteration to
  // base + i (+ j * bytes, as offset= or as an i32.add) of a value computed
  // from a load at another base + i; i goes up by copies * bytes, n times.
  // Its counter is a local of its own, which no other expression touches.
  BinaryenExpressionRef countedLoop(int depth) {
    static const uint32_t kSizes[NumTypes] = {4, 8, 4, 8};
    int type = byte() % NumTypes;
    uint32_t bytes = kSizes[type];
    uint32_t copies = 1 + byte() % 3;
    int32_t step = int32_t(copies * bytes);
    int32_t count = byte() % 64 + (byte() % 8 == 0 ? 0 : 1); // 0: 2^32 / step
    BinaryenIndex counter = BinaryenIndex(paramCount_ + vars_.size());
    vars_.push_back(BinaryenTypeInt32());
    BinaryenExpressionRef dst = address(depth), src = address(depth);
    BinaryenIndex dstLocal = BinaryenIndex(paramCount_ + vars_.size());
    vars_.push_back(BinaryenTypeInt32());
    BinaryenIndex srcLocal = BinaryenIndex(paramCount_ + vars_.size());
    vars_.push_back(BinaryenTypeInt32());
    auto at = [&](BinaryenIndex base, uint32_t j, bool add) {
      BinaryenExpressionRef sum =
          BinaryenBinary(m_, BinaryenAddInt32(), BinaryenLocalGet(m_, base, BinaryenTypeInt32()),
                         BinaryenLocalGet(m_, counter, BinaryenTypeInt32()));
      return add ? BinaryenBinary(m_, BinaryenAddInt32(), sum,
                                  BinaryenConst(m_, BinaryenLiteralInt32(int32_t(j * bytes))))
                 : sum;
    };
    std::vector<BinaryenExpressionRef> body;
    const Op &op = kBinary[type][byte() % kBinary[type].size()];
    for (uint32_t j = 0; j < copies; ++j) {
      bool add = byte() % 2;
      uint32_t offset = add ? 0 : j * bytes;
      BinaryenExpressionRef loaded =
          BinaryenLoad(m_, bytes, false, offset, 1, binaryenType(type), at(srcLocal, j, add));
      // (an operator on another type, a comparison, would not give `type`)
      BinaryenExpressionRef value =
          op.operand == type ? BinaryenBinary(m_, op.op(), loaded, leaf(type)) : loaded;
      body.push_back(BinaryenStore(m_, bytes, offset, 1, at(dstLocal, j, add), value,
                                   binaryenType(type)));
    }
    std::string label = "c" + std::to_string(labels_++);
    BinaryenExpressionRef next = BinaryenLocalTee(
        m_, counter,
        BinaryenBinary(m_, BinaryenAddInt32(), BinaryenLocalGet(m_, counter, BinaryenTypeInt32()),
                       BinaryenConst(m_, BinaryenLiteralInt32(step))),
        BinaryenTypeInt32());
    body.push_back(BinaryenBreak(
        m_, label.c_str(),
        BinaryenBinary(m_, BinaryenNeInt32(), next,
                       BinaryenConst(m_, BinaryenLiteralInt32(int32_t(uint32_t(count) * step)))),
        nullptr));
    BinaryenExpressionRef all[] = {
        BinaryenLocalSet(m_, dstLocal, dst), BinaryenLocalSet(m_, srcLocal, src),
        BinaryenLocalSet(m_, counter, BinaryenConst(m_, BinaryenLiteralInt32(0))),
        BinaryenLoop(m_, label.c_str(),
                     BinaryenBlock(m_, nullptr, body.data(), body.size(), BinaryenTypeNone()))};
    return BinaryenBlock(m_, nullptr, all, 4, BinaryenTypeNone());
  }

  // Something done for its effect: a store, a local.set, a memory.grow, a
  // loop that runs while a condition holds, a counted loop over memory, or
  // a dropped value.
  BinaryenExpressionRef statement(int depth) {
    if (byte() % 8 == 0)
      return countedLoop(depth);
    switch (byte() % 5) {
    case 0: {
      int type = byte() % NumTypes;
      static const uint32_t kSizes[NumTypes] = {4, 8, 4, 8};
      return BinaryenStore(m_, kSizes[type], byte() % 16, 1, address(depth),
                           expression(type, depth + 1), binaryenType(type));
    }
    case 1: {
      size_t local = byte() % locals_.size();
      return BinaryenLocalSet(m_, local, expression(locals_[local], depth + 1));
    }
    case 2:
      return BinaryenDrop(
          m_, BinaryenMemoryGrow(m_, BinaryenConst(m_, BinaryenLiteralInt32(byte() % 2))));
    case 3: {
      std::string label = "l" + std::to_string(labels_++);
      BinaryenExpressionRef body[] = {
          statement(depth + 1),
          BinaryenBreak(m_, label.c_str(), expression(I32, depth + 1), nullptr)};
      return BinaryenLoop(m_, label.c_str(),
                          BinaryenBlock(m_, nullptr, body, 2, BinaryenTypeNone()));
    }
    default:
      return BinaryenDrop(m_, expression(byte() % NumTypes, depth + 1));
    }
  }

  BinaryenExpressionRef expression(int type, int depth) {
    if (depth > kMaxDepth || --budget_ < 0 || exhausted())
      return leaf(type);
    switch (byte() % 10) {
    case 0: return leaf(type);
    case 1: {
      const Op &op = kUnary[type][byte() % kUnary[type].size()];
      return BinaryenUnary(m_, op.op(), expression(op.operand, depth + 1));
    }
    case 2:
    case 3: {
      const Op &op = kBinary[type][byte() % kBinary[type].size()];
      BinaryenExpressionRef left = expression(op.operand, depth + 1);
      return BinaryenBinary(m_, op.op(), left, expression(op.operand, depth + 1));
    }
    case 4: return load(type, depth);
    case 5: {
      BinaryenExpressionRef cond = expression(I32, depth + 1);
      BinaryenExpressionRef yes = expression(type, depth + 1);
      return BinaryenIf(m_, cond, yes, expression(type, depth + 1));
    }
    case 6: {
      BinaryenExpressionRef yes = expression(type, depth + 1);
      BinaryenExpressionRef no = expression(type, depth + 1);
      return BinaryenSelect(m_, expression(I32, depth + 1), yes, no,
                            binaryenType(type));
    }
    case 7: return call(type, depth);
    case 8: {
      BinaryenExpressionRef body[] = {statement(depth + 1),
                                      expression(type, depth + 1)};
      return BinaryenBlock(m_, nullptr, body, 2, binaryenType(type));
    }
    default: {
      size_t local = locals_.size() - NumTypes + type; // the scratch local
      return BinaryenLocalTee(m_, local, expression(type, depth + 1),
                              binaryenType(type));
    }
    }
  }

  std::span<const uint8_t> in_;
  size_t at_ = 0;
  BinaryenModuleRef m_;
  std::vector<Signature> signatures_;
  std::vector<int> locals_;
  std::vector<BinaryenType> vars_; // the function's locals after its parameters
  BinaryenIndex paramCount_ = 0;
  int budget_ = 0;
  int labels_ = 0;
};

} // namespace

std::vector<uint8_t> generateModule(std::span<const uint8_t> bytes) {
  BinaryenModuleRef module = BinaryenModuleCreate();
  BinaryenModuleSetFeatures(module, BinaryenFeatureMVP() |
                                        BinaryenFeatureSignExt() |
                                        BinaryenFeatureNontrappingFPToInt());
  BinaryenSetMemory(module, 1, 2, nullptr, nullptr, nullptr, nullptr, nullptr,
                    0, false);
  Generator(bytes, module).run();
  // A module the generator made invalid is a bug of the generator.
  if (!BinaryenModuleValidate(module))
    abort();
  BinaryenModuleAllocateAndWriteResult written =
      BinaryenModuleAllocateAndWrite(module, nullptr);
  const auto *data = static_cast<const uint8_t *>(written.binary);
  std::vector<uint8_t> binary(data, data + written.binaryBytes);
  free(written.binary);
  free(written.sourceMap);
  BinaryenModuleDispose(module);
  return binary;
}

} // namespace nomos::fuzz
