// The gas pass (docs/metering.md).
//
// A function body is a tree of statement lists (block children, loop
// bodies, if arms). The pass walks each list and cuts it into runs: a run
// grows statement by statement and ends after the first statement that
// leaves straight-line code (one that contains a call, a branch, a return or
// a nested block/loop/if). A charge for the run's static cost -- every
// instruction of its statements that is not inside a nested construct -- is
// inserted before its first statement. Nested constructs' lists get their
// own charges, recursively; a loop body is charged on every iteration.
//
// The compiler accounts for the rest exactly (lower_function.cpp): when
// control leaves a run in the middle (a call, a nested construct, a branch)
// it gives back what the run has not executed yet and charges it again when
// control comes back; a trap gives back what follows the trapping
// instruction. So gas used is always the sum of the costs of the
// instructions that ran.
#include <nomos/metering/gas_injection.h>

#include <cstring>
#include <vector>

namespace nomos::metering {

namespace {

constexpr unsigned kMaxDepth = 4096;

bool isDivision(BinaryenOp op) {
  static const BinaryenOp ops[] = {
      BinaryenDivSInt32(), BinaryenDivUInt32(), BinaryenRemSInt32(),
      BinaryenRemUInt32(), BinaryenDivSInt64(), BinaryenDivUInt64(),
      BinaryenRemSInt64(), BinaryenRemUInt64(), BinaryenDivFloat32(),
      BinaryenDivFloat64(), BinaryenSqrtFloat32(), BinaryenSqrtFloat64()};
  for (BinaryenOp candidate : ops)
    if (candidate == op)
      return true;
  return false;
}

// The operands of `expr` in evaluation order (constructs excluded: their
// lists are walked separately).
void operandsOf(BinaryenExpressionRef e, std::vector<BinaryenExpressionRef> &out) {
  BinaryenExpressionId id = BinaryenExpressionGetId(e);
  auto add = [&](BinaryenExpressionRef child) {
    if (child)
      out.push_back(child);
  };
  if (id == BinaryenUnaryId()) add(BinaryenUnaryGetValue(e));
  else if (id == BinaryenBinaryId()) { add(BinaryenBinaryGetLeft(e)); add(BinaryenBinaryGetRight(e)); }
  else if (id == BinaryenLoadId()) add(BinaryenLoadGetPtr(e));
  else if (id == BinaryenStoreId()) { add(BinaryenStoreGetPtr(e)); add(BinaryenStoreGetValue(e)); }
  else if (id == BinaryenSelectId()) {
    add(BinaryenSelectGetIfTrue(e)); add(BinaryenSelectGetIfFalse(e)); add(BinaryenSelectGetCondition(e));
  } else if (id == BinaryenLocalSetId()) add(BinaryenLocalSetGetValue(e));
  else if (id == BinaryenGlobalSetId()) add(BinaryenGlobalSetGetValue(e));
  else if (id == BinaryenDropId()) add(BinaryenDropGetValue(e));
  else if (id == BinaryenBreakId()) { add(BinaryenBreakGetValue(e)); add(BinaryenBreakGetCondition(e)); }
  else if (id == BinaryenSwitchId()) { add(BinaryenSwitchGetValue(e)); add(BinaryenSwitchGetCondition(e)); }
  else if (id == BinaryenReturnId()) add(BinaryenReturnGetValue(e));
  else if (id == BinaryenCallId()) {
    for (BinaryenIndex i = 0; i < BinaryenCallGetNumOperands(e); ++i) add(BinaryenCallGetOperandAt(e, i));
  } else if (id == BinaryenCallIndirectId()) {
    for (BinaryenIndex i = 0; i < BinaryenCallIndirectGetNumOperands(e); ++i)
      add(BinaryenCallIndirectGetOperandAt(e, i));
    add(BinaryenCallIndirectGetTarget(e));
  } else if (id == BinaryenMemoryGrowId()) add(BinaryenMemoryGrowGetDelta(e));
  else if (id == BinaryenMemoryCopyId()) {
    add(BinaryenMemoryCopyGetDest(e)); add(BinaryenMemoryCopyGetSource(e)); add(BinaryenMemoryCopyGetSize(e));
  } else if (id == BinaryenMemoryFillId()) {
    add(BinaryenMemoryFillGetDest(e)); add(BinaryenMemoryFillGetValue(e)); add(BinaryenMemoryFillGetSize(e));
  } else if (id == BinaryenMemoryInitId()) {
    add(BinaryenMemoryInitGetDest(e)); add(BinaryenMemoryInitGetOffset(e)); add(BinaryenMemoryInitGetSize(e));
  } else if (id == BinaryenTableGetId()) add(BinaryenTableGetGetIndex(e));
  else if (id == BinaryenTableSetId()) { add(BinaryenTableSetGetIndex(e)); add(BinaryenTableSetGetValue(e)); }
  else if (id == BinaryenTableGrowId()) { add(BinaryenTableGrowGetValue(e)); add(BinaryenTableGrowGetDelta(e)); }
  else if (id == BinaryenRefIsId()) add(BinaryenRefIsGetValue(e));
  else if (id == BinaryenTupleMakeId()) {
    for (BinaryenIndex i = 0; i < BinaryenTupleMakeGetNumOperands(e); ++i) add(BinaryenTupleMakeGetOperandAt(e, i));
  } else if (id == BinaryenTupleExtractId()) add(BinaryenTupleExtractGetTuple(e));
  else if (id == BinaryenSIMDExtractId()) add(BinaryenSIMDExtractGetVec(e));
  else if (id == BinaryenSIMDReplaceId()) { add(BinaryenSIMDReplaceGetVec(e)); add(BinaryenSIMDReplaceGetValue(e)); }
  else if (id == BinaryenSIMDShuffleId()) { add(BinaryenSIMDShuffleGetLeft(e)); add(BinaryenSIMDShuffleGetRight(e)); }
  else if (id == BinaryenSIMDTernaryId()) {
    add(BinaryenSIMDTernaryGetA(e)); add(BinaryenSIMDTernaryGetB(e)); add(BinaryenSIMDTernaryGetC(e));
  } else if (id == BinaryenSIMDShiftId()) { add(BinaryenSIMDShiftGetVec(e)); add(BinaryenSIMDShiftGetShift(e)); }
  else if (id == BinaryenSIMDLoadId()) add(BinaryenSIMDLoadGetPtr(e));
  else if (id == BinaryenSIMDLoadStoreLaneId()) {
    add(BinaryenSIMDLoadStoreLaneGetPtr(e)); add(BinaryenSIMDLoadStoreLaneGetVec(e));
  }
  // Leaves: local.get, global.get, const, nop, unreachable, memory.size,
  // ref.null, ref.func, table.size, data.drop.
}

bool leavesStraightLine(BinaryenExpressionId id) {
  return id == BinaryenCallId() || id == BinaryenCallIndirectId() ||
         id == BinaryenBreakId() || id == BinaryenSwitchId() ||
         id == BinaryenReturnId();
}

class Injector {
public:
  Injector(BinaryenModuleRef module, const GasSchedule &schedule)
      : module_(module), schedule_(schedule) {}

  Expected<void> instrumentFunction(BinaryenFunctionRef fn) {
    BinaryenExpressionRef body = BinaryenFunctionGetBody(fn);
    if (!body)
      return {};
    auto wrapped = wrapSingle(body);
    if (!wrapped)
      return tl::unexpected(wrapped.error());
    if (*wrapped != body)
      BinaryenFunctionSetBody(fn, *wrapped);
    return {};
  }

private:
  struct Straight {
    uint64_t cost = 0;
    bool leaves = false;
  };

  BinaryenExpressionRef charge(uint64_t cost) {
    BinaryenType i64 = BinaryenTypeInt64();
    BinaryenExpressionRef set = BinaryenGlobalSet(
        module_, kGasGlobalName,
        BinaryenBinary(module_, BinaryenSubInt64(),
                       BinaryenGlobalGet(module_, kGasGlobalName, i64),
                       BinaryenConst(module_, BinaryenLiteralInt64(int64_t(cost)))));
    BinaryenExpressionRef check = BinaryenIf(
        module_,
        BinaryenBinary(module_, BinaryenLtSInt64(),
                       BinaryenGlobalGet(module_, kGasGlobalName, i64),
                       BinaryenConst(module_, BinaryenLiteralInt64(0))),
        BinaryenUnreachable(module_), nullptr);
    BinaryenExpressionRef children[] = {set, check};
    return BinaryenBlock(module_, nullptr, children, 2, BinaryenTypeNone());
  }

  // The straight-line cost of `e`'s subtree; instruments nested constructs.
  Expected<Straight> scan(BinaryenExpressionRef e) {
    if (++depth_ > kMaxDepth) {
      --depth_;
      return makeError(ErrorKind::Unsupported,
                       "expressions nested more than " + std::to_string(kMaxDepth) + " deep");
    }
    auto result = scanNode(e);
    --depth_;
    return result;
  }

  Expected<Straight> scanNode(BinaryenExpressionRef e) {
    BinaryenExpressionId id = BinaryenExpressionGetId(e);
    if (id == BinaryenBlockId()) {
      if (auto ok = instrumentList(e); !ok)
        return tl::unexpected(ok.error());
      return Straight{0, true};
    }
    if (id == BinaryenLoopId()) {
      auto body = wrapSingle(BinaryenLoopGetBody(e));
      if (!body)
        return tl::unexpected(body.error());
      BinaryenLoopSetBody(e, *body);
      return Straight{0, true};
    }
    if (id == BinaryenIfId()) {
      auto condition = scan(BinaryenIfGetCondition(e));
      if (!condition)
        return condition;
      auto ifTrue = wrapSingle(BinaryenIfGetIfTrue(e));
      if (!ifTrue)
        return tl::unexpected(ifTrue.error());
      BinaryenIfSetIfTrue(e, *ifTrue);
      if (BinaryenExpressionRef arm = BinaryenIfGetIfFalse(e)) {
        auto ifFalse = wrapSingle(arm);
        if (!ifFalse)
          return tl::unexpected(ifFalse.error());
        BinaryenIfSetIfFalse(e, *ifFalse);
      }
      return Straight{condition->cost + instructionCost(e, schedule_), true};
    }
    Straight result{instructionCost(e, schedule_), leavesStraightLine(id)};
    std::vector<BinaryenExpressionRef> operands;
    operandsOf(e, operands);
    for (BinaryenExpressionRef operand : operands) {
      auto part = scan(operand);
      if (!part)
        return part;
      result.cost += part->cost;
      result.leaves |= part->leaves;
    }
    return result;
  }

  // A block's children: runs, each with a charge before it.
  Expected<void> instrumentList(BinaryenExpressionRef block) {
    BinaryenIndex count = BinaryenBlockGetNumChildren(block);
    std::vector<std::pair<BinaryenIndex, uint64_t>> charges;
    BinaryenIndex i = 0;
    while (i < count) {
      BinaryenIndex start = i;
      uint64_t cost = 0;
      for (;;) {
        auto part = scan(BinaryenBlockGetChildAt(block, i));
        if (!part)
          return tl::unexpected(part.error());
        cost += part->cost;
        ++i;
        if (part->leaves || i == count)
          break;
      }
      if (cost > 0)
        charges.emplace_back(start, cost);
    }
    for (auto it = charges.rbegin(); it != charges.rend(); ++it)
      BinaryenBlockInsertChildAt(block, it->first, charge(it->second));
    return {};
  }

  // A single expression in statement position (function body, loop body,
  // if arm): a block is instrumented in place, anything else is wrapped as
  // (block (charge) X) when it costs anything.
  Expected<BinaryenExpressionRef> wrapSingle(BinaryenExpressionRef e) {
    if (BinaryenExpressionGetId(e) == BinaryenBlockId()) {
      if (auto ok = instrumentList(e); !ok)
        return tl::unexpected(ok.error());
      return e;
    }
    auto part = scan(e);
    if (!part)
      return tl::unexpected(part.error());
    if (part->cost == 0)
      return e;
    BinaryenExpressionRef children[] = {charge(part->cost), e};
    return BinaryenBlock(module_, nullptr, children, 2, BinaryenTypeAuto());
  }

  BinaryenModuleRef module_;
  const GasSchedule &schedule_;
  unsigned depth_ = 0;
};

} // namespace

uint64_t instructionCost(BinaryenExpressionRef e, const GasSchedule &s) {
  BinaryenExpressionId id = BinaryenExpressionGetId(e);
  if (id == BinaryenBlockId() || id == BinaryenLoopId() || id == BinaryenNopId() ||
      id == BinaryenTupleMakeId() || id == BinaryenTupleExtractId())
    return 0;
  if (id == BinaryenIfId() || id == BinaryenBreakId() || id == BinaryenSwitchId() ||
      id == BinaryenReturnId())
    return s.branch;
  if (id == BinaryenCallId())
    return s.call;
  if (id == BinaryenCallIndirectId())
    return s.callIndirect;
  if (id == BinaryenLoadId() || id == BinaryenStoreId() || id == BinaryenSIMDLoadId() ||
      id == BinaryenSIMDLoadStoreLaneId())
    return s.memoryAccess;
  if (id == BinaryenUnaryId())
    return isDivision(BinaryenUnaryGetOp(e)) ? s.division : s.simple;
  if (id == BinaryenBinaryId())
    return isDivision(BinaryenBinaryGetOp(e)) ? s.division : s.simple;
  if (id == BinaryenMemoryGrowId())
    return s.memoryGrow;
  if (id == BinaryenMemoryCopyId() || id == BinaryenMemoryFillId() ||
      id == BinaryenMemoryInitId() || id == BinaryenDataDropId())
    return s.bulkMemory;
  if (id == BinaryenTableGetId() || id == BinaryenTableSetId())
    return s.tableAccess;
  if (id == BinaryenTableGrowId())
    return s.tableGrow;
  return s.simple;
}

bool isGasCharge(BinaryenExpressionRef e, uint64_t &cost) {
  if (BinaryenExpressionGetId(e) != BinaryenBlockId() || BinaryenBlockGetName(e) ||
      BinaryenBlockGetNumChildren(e) != 2)
    return false;
  BinaryenExpressionRef set = BinaryenBlockGetChildAt(e, 0);
  if (BinaryenExpressionGetId(set) != BinaryenGlobalSetId() ||
      std::strcmp(BinaryenGlobalSetGetName(set), kGasGlobalName) != 0)
    return false;
  BinaryenExpressionRef sub = BinaryenGlobalSetGetValue(set);
  if (BinaryenExpressionGetId(sub) != BinaryenBinaryId() ||
      BinaryenBinaryGetOp(sub) != BinaryenSubInt64())
    return false;
  BinaryenExpressionRef amount = BinaryenBinaryGetRight(sub);
  if (BinaryenExpressionGetId(amount) != BinaryenConstId())
    return false;
  cost = uint64_t(BinaryenConstGetValueI64(amount));
  return true;
}

bool isMetered(BinaryenModuleRef module) {
  return BinaryenGetGlobal(module, kGasGlobalName) != nullptr;
}

Expected<void> injectGas(LoadedModule &loaded, const GasSchedule &schedule) {
  BinaryenModuleRef module = loaded.binaryen.get();
  if (isMetered(module))
    return makeError(ErrorKind::CompileError,
                     "internal error: the module is already instrumented");
  // Appended: the module's own global indices do not move.
  BinaryenAddGlobal(module, kGasGlobalName, BinaryenTypeInt64(), true,
                    BinaryenConst(module, BinaryenLiteralInt64(0)));
  Injector injector(module, schedule);
  for (BinaryenIndex i = loaded.info.importedFunctions;
       i < BinaryenGetNumFunctions(module); ++i) {
    BinaryenFunctionRef fn = BinaryenGetFunctionByIndex(module, i);
    if (auto ok = injector.instrumentFunction(fn); !ok) {
      Error error = ok.error();
      error.message = "function " + std::string(BinaryenFunctionGetName(fn)) + ": " +
                      error.message;
      return tl::unexpected(error);
    }
  }
  return {};
}

} // namespace nomos::metering
