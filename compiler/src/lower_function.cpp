// Lowers one Binaryen function (a structured expression tree) to LLVM IR.
//
// Locals, block results and the return value live in allocas that mem2reg
// turns into SSA values. Code after a branch, return or trap is still walked
// (Binaryen keeps it in the tree) but lands in blocks with no predecessors,
// which LLVM deletes.
#include "lowering.h"

#include <llvm/IR/MDBuilder.h>

namespace nomos::compiler {

namespace {
// Bounds the recursion over the expression tree, so that a deeply nested
// module is an error, never a native stack overflow in the compiler.
constexpr unsigned kMaxExpressionDepth = 4096;

std::vector<BinaryenType> expandType(BinaryenType type) {
  std::vector<BinaryenType> types(BinaryenTypeArity(type));
  if (!types.empty())
    BinaryenTypeExpand(type, types.data());
  return types;
}

bool isUnreachable(BinaryenExpressionRef expr) {
  return BinaryenExpressionGetType(expr) == BinaryenTypeUnreachable();
}

bool hasValue(BinaryenType type) {
  return type != BinaryenTypeNone() && type != BinaryenTypeUnreachable();
}
} // namespace

FunctionLowering::FunctionLowering(ModuleLowering &module, uint32_t index)
    : m(module), b(module.ctx), index_(index),
      function_(BinaryenGetFunctionByIndex(module.input.binaryen.get(), index)),
      llvmFunction_(module.functions[index]) {}

llvm::Value *FunctionLowering::contextFieldPointer(rt::VMContextField field) {
  return b.CreateStructGEP(m.vmContextType, vmctx, field);
}

llvm::Value *FunctionLowering::loadContextField(rt::VMContextField field,
                                                llvm::Type *type) {
  return b.CreateLoad(type, contextFieldPointer(field));
}

void FunctionLowering::startDeadBlock() {
  b.SetInsertPoint(llvm::BasicBlock::Create(m.ctx, "dead", llvmFunction_));
}

void FunctionLowering::trapAlways(nomos_trap code) {
  b.CreateCall(m.trapFunction, {vmctx, b.getInt32(code)});
  b.CreateUnreachable();
  startDeadBlock();
}

void FunctionLowering::trapIf(llvm::Value *failed, nomos_trap code) {
  // One trap block per trap kind and function keeps code small.
  llvm::BasicBlock *&trap = trapBlocks_[code];
  if (!trap) {
    trap = llvm::BasicBlock::Create(m.ctx, "trap", llvmFunction_);
    llvm::IRBuilder<> trapBuilder(trap);
    trapBuilder.CreateCall(m.trapFunction, {vmctx, trapBuilder.getInt32(code)});
    trapBuilder.CreateUnreachable();
  }
  auto *cont = llvm::BasicBlock::Create(m.ctx, "ok", llvmFunction_);
  llvm::MDBuilder weights(m.ctx);
  b.CreateCondBr(failed, trap, cont, weights.createUnlikelyBranchWeights());
  b.SetInsertPoint(cont);
}

Expected<llvm::AllocaInst *> FunctionLowering::resultSlot(BinaryenType type,
                                                          const char *name) {
  if (!hasValue(type))
    return nullptr;
  auto llvmType = m.lowerType(type);
  if (!llvmType)
    return tl::unexpected(llvmType.error());
  llvm::IRBuilder<> entry(&llvmFunction_->getEntryBlock(),
                          llvmFunction_->getEntryBlock().begin());
  return entry.CreateAlloca(*llvmType, nullptr, name);
}

Expected<void> FunctionLowering::run() {
  auto *entry = llvm::BasicBlock::Create(m.ctx, "entry", llvmFunction_);
  b.SetInsertPoint(entry);
  vmctx = llvmFunction_->getArg(0);

  // Locals: parameters first, then the declared variables, zeroed.
  std::vector<BinaryenType> types =
      expandType(BinaryenFunctionGetParams(function_));
  size_t params = types.size();
  for (uint32_t i = 0; i < BinaryenFunctionGetNumVars(function_); ++i)
    types.push_back(BinaryenFunctionGetVar(function_, i));
  for (size_t i = 0; i < types.size(); ++i) {
    auto type = m.lowerType(types[i]);
    if (!type)
      return tl::unexpected(type.error());
    auto *slot = b.CreateAlloca(*type, nullptr, "local" + std::to_string(i));
    llvm::Value *initial = i < params
                               ? static_cast<llvm::Value *>(llvmFunction_->getArg(i + 1))
                               : llvm::Constant::getNullValue(*type);
    b.CreateStore(initial, slot);
    locals_.push_back(slot);
    localTypes_.push_back(*type);
  }

  // Deterministic call-depth limit, counted in wasm frames.
  auto *i32 = b.getInt32Ty();
  llvm::Value *depth = loadContextField(rt::kCallDepth, i32);
  llvm::Value *deeper = b.CreateAdd(depth, b.getInt32(1));
  trapIf(b.CreateICmpUGT(deeper, loadContextField(rt::kMaxCallDepth, i32)),
         NOMOS_TRAP_STACK_EXHAUSTED);
  b.CreateStore(deeper, contextFieldPointer(rt::kCallDepth));

  BinaryenType resultType = BinaryenFunctionGetResults(function_);
  auto slot = resultSlot(resultType, "result");
  if (!slot)
    return tl::unexpected(slot.error());
  returnSlot_ = *slot;
  returnBlock_ = llvm::BasicBlock::Create(m.ctx, "return", llvmFunction_);

  auto body = emit(BinaryenFunctionGetBody(function_));
  if (!body) {
    Error error = body.error();
    error.message = "function " +
                    std::string(BinaryenFunctionGetName(function_)) + ": " +
                    error.message;
    return tl::unexpected(error);
  }
  if (*body && returnSlot_)
    b.CreateStore(*body, returnSlot_);
  b.CreateBr(returnBlock_);

  b.SetInsertPoint(returnBlock_);
  b.CreateStore(depth, contextFieldPointer(rt::kCallDepth));
  if (returnSlot_)
    b.CreateRet(b.CreateLoad(returnSlot_->getAllocatedType(), returnSlot_));
  else
    b.CreateRetVoid();
  return {};
}

OpResult FunctionLowering::emit(BinaryenExpressionRef expr) {
  if (++depth_ > kMaxExpressionDepth) {
    --depth_;
    return makeError(ErrorKind::Unsupported,
                     "expressions nested more than " +
                         std::to_string(kMaxExpressionDepth) + " deep");
  }
  OpResult result = emitExpression(expr);
  --depth_;
  return result;
}

OpResult FunctionLowering::withOperands(
    llvm::ArrayRef<BinaryenExpressionRef> exprs,
    llvm::function_ref<OpResult(Values)> op) {
  llvm::SmallVector<llvm::Value *, 8> values;
  for (BinaryenExpressionRef expr : exprs) {
    auto value = emit(expr);
    if (!value)
      return value;
    // An operand that never returns makes the operator itself dead code.
    if (isUnreachable(expr))
      return nullptr;
    values.push_back(*value);
  }
  return op(values);
}

OpResult FunctionLowering::emitExpression(BinaryenExpressionRef expr) {
  BinaryenExpressionId id = BinaryenExpressionGetId(expr);
  if (id == BinaryenBlockId())
    return emitBlock(expr);
  if (id == BinaryenLoopId())
    return emitLoop(expr);
  if (id == BinaryenIfId())
    return emitIf(expr);
  if (id == BinaryenBreakId())
    return emitBreak(expr);
  if (id == BinaryenSwitchId())
    return emitSwitch(expr);
  if (id == BinaryenReturnId())
    return emitReturn(expr);
  if (id == BinaryenCallId())
    return emitCall(expr);
  if (id == BinaryenLocalGetId()) {
    uint32_t local = BinaryenLocalGetGetIndex(expr);
    return b.CreateLoad(localTypes_[local], locals_[local]);
  }
  if (id == BinaryenLocalSetId())
    return emitLocalSet(expr);
  if (id == BinaryenGlobalGetId())
    return emitGlobalGet(expr);
  if (id == BinaryenGlobalSetId())
    return emitGlobalSet(expr);
  if (id == BinaryenConstId())
    return emitConst(expr);
  if (id == BinaryenSelectId())
    return emitSelect(expr);
  if (id == BinaryenNopId())
    return nullptr;
  if (id == BinaryenUnreachableId()) {
    trapAlways(NOMOS_TRAP_UNREACHABLE);
    return nullptr;
  }
  if (id == BinaryenDropId())
    return withOperands({BinaryenDropGetValue(expr)},
                        [](Values) -> OpResult { return nullptr; });
  if (id == BinaryenUnaryId())
    return withOperands({BinaryenUnaryGetValue(expr)}, [&](Values v) {
      return emitUnary(BinaryenUnaryGetOp(expr), v[0]);
    });
  if (id == BinaryenBinaryId())
    return withOperands(
        {BinaryenBinaryGetLeft(expr), BinaryenBinaryGetRight(expr)},
        [&](Values v) {
          return emitBinary(BinaryenBinaryGetOp(expr), v[0], v[1]);
        });
  if (id == BinaryenLoadId())
    return withOperands({BinaryenLoadGetPtr(expr)},
                        [&](Values v) { return emitLoad(expr, v[0]); });
  if (id == BinaryenStoreId())
    return withOperands(
        {BinaryenStoreGetPtr(expr), BinaryenStoreGetValue(expr)},
        [&](Values v) { return emitStore(expr, v[0], v[1]); });
  if (id == BinaryenCallIndirectId())
    return emitCallIndirect(expr);
  if (id == BinaryenTupleMakeId()) {
    llvm::SmallVector<BinaryenExpressionRef, 4> children;
    for (BinaryenIndex i = 0; i < BinaryenTupleMakeGetNumOperands(expr); ++i)
      children.push_back(BinaryenTupleMakeGetOperandAt(expr, i));
    return withOperands(children, [&](Values v) -> OpResult {
      auto type = m.lowerType(BinaryenExpressionGetType(expr));
      if (!type)
        return tl::unexpected(type.error());
      llvm::Value *tuple = llvm::UndefValue::get(*type);
      for (unsigned i = 0; i < v.size(); ++i)
        tuple = b.CreateInsertValue(tuple, v[i], i);
      return tuple;
    });
  }
  if (id == BinaryenTupleExtractId())
    return withOperands({BinaryenTupleExtractGetTuple(expr)},
                        [&](Values v) -> OpResult {
                          return b.CreateExtractValue(
                              v[0], BinaryenTupleExtractGetIndex(expr));
                        });
  if (id == BinaryenRefNullId() || id == BinaryenRefIsId() ||
      id == BinaryenRefFuncId() || id == BinaryenTableGetId() ||
      id == BinaryenTableSetId() || id == BinaryenTableSizeId() ||
      id == BinaryenTableGrowId() || id == BinaryenMemoryInitId() ||
      id == BinaryenDataDropId())
    return emitReferenceOp(expr);
  if (id == BinaryenMemoryCopyId())
    return withOperands({BinaryenMemoryCopyGetDest(expr),
                         BinaryenMemoryCopyGetSource(expr),
                         BinaryenMemoryCopyGetSize(expr)},
                        [&](Values v) { return emitMemoryCopy(v[0], v[1], v[2]); });
  if (id == BinaryenMemoryFillId())
    return withOperands({BinaryenMemoryFillGetDest(expr),
                         BinaryenMemoryFillGetValue(expr),
                         BinaryenMemoryFillGetSize(expr)},
                        [&](Values v) { return emitMemoryFill(v[0], v[1], v[2]); });
  if (isSimdExpression(id))
    return emitSimdExpression(expr);
  if (id == BinaryenMemorySizeId())
    return emitMemorySize();
  if (id == BinaryenMemoryGrowId())
    return withOperands({BinaryenMemoryGrowGetDelta(expr)},
                        [&](Values v) { return emitMemoryGrow(v[0]); });
  return makeError(ErrorKind::Unsupported, std::string("instruction ") +
                                               expressionName(id) +
                                               " is not supported yet");
}

OpResult FunctionLowering::emitBlock(BinaryenExpressionRef expr) {
  const char *name = BinaryenBlockGetName(expr);
  BinaryenType type = BinaryenExpressionGetType(expr);
  llvm::BasicBlock *exit = nullptr;
  llvm::AllocaInst *result = nullptr;
  if (name) {
    auto slot = resultSlot(type, "block.result");
    if (!slot)
      return tl::unexpected(slot.error());
    result = *slot;
    exit = llvm::BasicBlock::Create(m.ctx, "block.exit", llvmFunction_);
    labels_[name] = Label{exit, result};
  }
  llvm::Value *last = nullptr;
  BinaryenIndex count = BinaryenBlockGetNumChildren(expr);
  for (BinaryenIndex i = 0; i < count; ++i) {
    auto value = emit(BinaryenBlockGetChildAt(expr, i));
    if (!value)
      return value;
    last = *value;
  }
  if (!exit)
    return hasValue(type) ? last : nullptr;
  if (result && last)
    b.CreateStore(last, result);
  b.CreateBr(exit);
  b.SetInsertPoint(exit);
  labels_.erase(name);
  if (!result)
    return nullptr;
  return b.CreateLoad(result->getAllocatedType(), result);
}

OpResult FunctionLowering::emitLoop(BinaryenExpressionRef expr) {
  const char *name = BinaryenLoopGetName(expr);
  auto *header = llvm::BasicBlock::Create(m.ctx, "loop", llvmFunction_);
  b.CreateBr(header);
  b.SetInsertPoint(header);
  if (name)
    labels_[name] = Label{header, nullptr}; // branches to a loop carry no value
  OpResult body = emit(BinaryenLoopGetBody(expr));
  if (name)
    labels_.erase(name);
  return body;
}

OpResult FunctionLowering::emitIf(BinaryenExpressionRef expr) {
  return withOperands({BinaryenIfGetCondition(expr)}, [&](Values v) {
    return emitIfArms(expr, v[0]);
  });
}

OpResult FunctionLowering::emitIfArms(BinaryenExpressionRef expr,
                                      llvm::Value *condition) {
  auto slot = resultSlot(BinaryenExpressionGetType(expr), "if.result");
  if (!slot)
    return tl::unexpected(slot.error());
  llvm::AllocaInst *result = *slot;
  auto *thenBlock = llvm::BasicBlock::Create(m.ctx, "then", llvmFunction_);
  auto *elseBlock = llvm::BasicBlock::Create(m.ctx, "else", llvmFunction_);
  auto *merge = llvm::BasicBlock::Create(m.ctx, "endif", llvmFunction_);
  b.CreateCondBr(b.CreateICmpNE(condition, b.getInt32(0)), thenBlock,
                 elseBlock);
  for (auto [block, arm] : {std::pair{thenBlock, BinaryenIfGetIfTrue(expr)},
                            std::pair{elseBlock, BinaryenIfGetIfFalse(expr)}}) {
    b.SetInsertPoint(block);
    if (arm) {
      auto value = emit(arm);
      if (!value)
        return value;
      if (result && *value)
        b.CreateStore(*value, result);
    }
    b.CreateBr(merge);
  }
  b.SetInsertPoint(merge);
  if (!result)
    return nullptr;
  return b.CreateLoad(result->getAllocatedType(), result);
}

// Stores the branch value (if any) where the target expects it. Every edge
// into a block's exit stores its result slot first, so storing before a
// conditional branch is harmless when the branch is not taken.
Expected<llvm::BasicBlock *>
FunctionLowering::branchTo(const char *label, llvm::Value *value) {
  auto found = labels_.find(label);
  if (found == labels_.end())
    return makeError(ErrorKind::CompileError,
                     std::string("internal error: unknown label ") + label);
  if (found->second.result && value)
    b.CreateStore(value, found->second.result);
  return found->second.target;
}

OpResult FunctionLowering::emitBreak(BinaryenExpressionRef expr) {
  BinaryenExpressionRef valueExpr = BinaryenBreakGetValue(expr);
  BinaryenExpressionRef conditionExpr = BinaryenBreakGetCondition(expr);
  llvm::SmallVector<BinaryenExpressionRef, 2> children;
  if (valueExpr)
    children.push_back(valueExpr);
  if (conditionExpr)
    children.push_back(conditionExpr);
  return withOperands(children, [&](Values v) -> OpResult {
    const char *name = BinaryenBreakGetName(expr);
    llvm::Value *value = valueExpr ? v[0] : nullptr;
    auto target = branchTo(name, value);
    if (!target)
      return tl::unexpected(target.error());
    if (!conditionExpr) {
      b.CreateBr(*target);
      startDeadBlock();
      return nullptr;
    }
    auto *cont = llvm::BasicBlock::Create(m.ctx, "br_if.cont", llvmFunction_);
    b.CreateCondBr(b.CreateICmpNE(v.back(), b.getInt32(0)), *target, cont);
    b.SetInsertPoint(cont);
    return value; // br_if passes its value on when not taken
  });
}

OpResult FunctionLowering::emitSwitch(BinaryenExpressionRef expr) {
  BinaryenExpressionRef valueExpr = BinaryenSwitchGetValue(expr);
  llvm::SmallVector<BinaryenExpressionRef, 2> children;
  if (valueExpr)
    children.push_back(valueExpr);
  children.push_back(BinaryenSwitchGetCondition(expr));
  return withOperands(children, [&](Values v) -> OpResult {
    llvm::Value *value = valueExpr ? v[0] : nullptr;
    // Pass the value to every target before the switch ends the block.
    auto defaultTarget = branchTo(BinaryenSwitchGetDefaultName(expr), value);
    if (!defaultTarget)
      return tl::unexpected(defaultTarget.error());
    BinaryenIndex count = BinaryenSwitchGetNumNames(expr);
    llvm::SmallVector<llvm::BasicBlock *, 16> targets;
    for (BinaryenIndex i = 0; i < count; ++i) {
      auto target = branchTo(BinaryenSwitchGetNameAt(expr, i), value);
      if (!target)
        return tl::unexpected(target.error());
      targets.push_back(*target);
    }
    auto *sw = b.CreateSwitch(v.back(), *defaultTarget, count);
    for (BinaryenIndex i = 0; i < count; ++i)
      sw->addCase(b.getInt32(i), targets[i]);
    startDeadBlock();
    return nullptr;
  });
}

OpResult FunctionLowering::emitReturn(BinaryenExpressionRef expr) {
  llvm::SmallVector<BinaryenExpressionRef, 1> children;
  if (BinaryenExpressionRef valueExpr = BinaryenReturnGetValue(expr))
    children.push_back(valueExpr);
  return withOperands(children, [&](Values v) -> OpResult {
    if (!v.empty())
      b.CreateStore(v[0], returnSlot_);
    b.CreateBr(returnBlock_);
    startDeadBlock();
    return nullptr;
  });
}

OpResult FunctionLowering::emitCall(BinaryenExpressionRef expr) {
  if (BinaryenCallIsReturn(expr))
    return makeError(ErrorKind::Unsupported,
                     "return_call (tail calls) is not supported");
  auto callee = m.functionIndex.find(BinaryenCallGetTarget(expr));
  if (callee == m.functionIndex.end())
    return makeError(ErrorKind::CompileError,
                     std::string("internal error: unknown function ") +
                         BinaryenCallGetTarget(expr));
  llvm::SmallVector<BinaryenExpressionRef, 8> children;
  for (BinaryenIndex i = 0; i < BinaryenCallGetNumOperands(expr); ++i)
    children.push_back(BinaryenCallGetOperandAt(expr, i));
  return withOperands(children, [&](Values v) -> OpResult {
    llvm::Value *result = m.emitCall(b, vmctx, callee->second, v);
    return result->getType()->isVoidTy() ? nullptr : result;
  });
}

OpResult FunctionLowering::emitSelect(BinaryenExpressionRef expr) {
  return withOperands({BinaryenSelectGetIfTrue(expr),
                       BinaryenSelectGetIfFalse(expr),
                       BinaryenSelectGetCondition(expr)},
                      [&](Values v) -> OpResult {
                        return b.CreateSelect(
                            b.CreateICmpNE(v[2], b.getInt32(0)), v[0], v[1]);
                      });
}

OpResult FunctionLowering::emitLocalSet(BinaryenExpressionRef expr) {
  return withOperands({BinaryenLocalSetGetValue(expr)},
                      [&](Values v) -> OpResult {
                        b.CreateStore(v[0],
                                      locals_[BinaryenLocalSetGetIndex(expr)]);
                        return BinaryenLocalSetIsTee(expr) ? v[0] : nullptr;
                      });
}

// Globals are reached through a pointer each: an imported global is the
// exporter's storage.
llvm::Value *FunctionLowering::globalPointer(uint32_t index) {
  auto *ptr = llvm::PointerType::getUnqual(m.ctx);
  llvm::Value *globals = loadContextField(rt::kGlobals, ptr);
  return b.CreateLoad(ptr, b.CreateConstGEP1_64(ptr, globals, index));
}

llvm::Value *FunctionLowering::memorySize() {
  llvm::Value *memory =
      loadContextField(rt::kMemory, llvm::PointerType::getUnqual(m.ctx));
  return b.CreateLoad(b.getInt64Ty(), b.CreateStructGEP(m.memoryType, memory, 1));
}

OpResult FunctionLowering::emitGlobalGet(BinaryenExpressionRef expr) {
  auto type = m.lowerType(BinaryenExpressionGetType(expr));
  if (!type)
    return tl::unexpected(type.error());
  uint32_t index = m.globalIndex.lookup(BinaryenGlobalGetGetName(expr));
  return b.CreateLoad(*type, globalPointer(index));
}

OpResult FunctionLowering::emitGlobalSet(BinaryenExpressionRef expr) {
  return withOperands({BinaryenGlobalSetGetValue(expr)},
                      [&](Values v) -> OpResult {
                        uint32_t index = m.globalIndex.lookup(
                            BinaryenGlobalSetGetName(expr));
                        b.CreateStore(v[0], globalPointer(index));
                        return nullptr;
                      });
}

OpResult FunctionLowering::emitConst(BinaryenExpressionRef expr) {
  BinaryenType type = BinaryenExpressionGetType(expr);
  if (type == BinaryenTypeInt32())
    return b.getInt32(uint32_t(BinaryenConstGetValueI32(expr)));
  if (type == BinaryenTypeInt64())
    return b.getInt64(uint64_t(BinaryenConstGetValueI64(expr)));
  if (type == BinaryenTypeFloat32() || type == BinaryenTypeFloat64())
    return floatConstant(m.ctx, expr);
  if (type == BinaryenTypeVec128())
    return v128Constant(m.ctx, expr);
  return makeError(ErrorKind::Unsupported,
                   "instruction a reference constant is not supported yet");
}

} // namespace nomos::compiler
