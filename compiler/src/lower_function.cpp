// Lowers one Binaryen function (a structured expression tree) to LLVM IR.
//
// Locals, block results and the return value live in allocas that mem2reg
// turns into SSA values. Code after a branch, return or trap is still walked
// (Binaryen keeps it in the tree) but lands in blocks with no predecessors,
// which LLVM deletes.
#include "lowering.h"

#include <nomos/metering/gas_injection.h>

#include <llvm/IR/MDBuilder.h>

#include <cstring>

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

// The value of a block or loop of type `type` whose code ends with `value`.
// Binaryen keeps the declared type even when the code never falls through
// (`(loop (result i32) (br $out))`): then there is no value, the code after
// it is dead, and its users get a poison value.
OpResult fallThroughValue(const ModuleLowering &m, llvm::Value *value,
                          BinaryenType type) {
  if (!hasValue(type))
    return nullptr;
  if (value)
    return value;
  auto llvmType = m.lowerType(type);
  if (!llvmType)
    return tl::unexpected(llvmType.error());
  return llvm::PoisonValue::get(*llvmType);
}
} // namespace

FunctionLowering::FunctionLowering(ModuleLowering &module, uint32_t index)
    : m(module), b(module.ctx), index_(index),
      function_(BinaryenGetFunctionByIndex(module.input.binaryen.get(), index)),
      llvmFunction_(module.bodies[index]) {}

llvm::Value *FunctionLowering::contextFieldPointer(rt::VMContextField field) {
  return b.CreateStructGEP(m.vmContextType, vmctx, field);
}

llvm::Value *FunctionLowering::loadContextField(rt::VMContextField field,
                                                llvm::Type *type) {
  return runtimeLoad(type, contextFieldPointer(field));
}

llvm::LoadInst *FunctionLowering::runtimeLoad(llvm::Type *type,
                                              llvm::Value *pointer) {
  llvm::LoadInst *load = b.CreateLoad(type, pointer);
  load->setMetadata(llvm::LLVMContext::MD_tbaa, m.runtimeTag);
  return load;
}

void FunctionLowering::runtimeStore(llvm::Value *value, llvm::Value *pointer) {
  b.CreateStore(value, pointer)->setMetadata(llvm::LLVMContext::MD_tbaa,
                                             m.runtimeTag);
}

void FunctionLowering::startDeadBlock() {
  b.SetInsertPoint(llvm::BasicBlock::Create(m.ctx, "dead", llvmFunction_));
}

void FunctionLowering::trapAlways(nomos_trap code) {
  if (m.metered)
    writeBackGas(gasRefund(), b);
  b.CreateCall(m.trapFunction, {vmctx, b.getInt32(code)});
  b.CreateUnreachable();
  startDeadBlock();
}

// Allocas go to the entry block, where mem2reg promotes them (the entry
// block ends early, in the native stack check).
llvm::AllocaInst *FunctionLowering::entryAlloca(llvm::Type *type,
                                                const llvm::Twine &name) {
  llvm::IRBuilder<> entry(&llvmFunction_->getEntryBlock(),
                          llvmFunction_->getEntryBlock().begin());
  return entry.CreateAlloca(type, nullptr, name);
}

// What a frame of this function counts toward Limits::callDepth: one, plus
// one per 512 bytes of an estimate of its native frame made from the wasm
// alone (16 bytes a local, 8 a byte of code for spills), so that the same
// limit holds at every optimization level and a large frame counts as
// several small ones (docs/sandbox.md).
uint32_t FunctionLowering::frameUnits(size_t locals) const {
  uint32_t defined = index_ - m.input.info.importedFunctions;
  uint64_t bodyBytes = defined < m.input.info.bodySizes.size()
                           ? m.input.info.bodySizes[defined]
                           : 0;
  uint64_t estimate = 16 * uint64_t(locals) + 8 * bodyBytes;
  return uint32_t(std::min<uint64_t>(1 + estimate / 512, 1u << 20));
}

// Before anything uses this frame: trap if the native stack is below the
// limit the runtime set (frames too large for the deterministic depth limit
// to protect). Nothing ran yet: the frame pays nothing, and the counter it
// was called with is the call's (a body's caller passed it in a register,
// so it goes to the call's cell here).
void FunctionLowering::emitNativeStackCheck() {
  llvm::Value *sp = b.CreatePtrToInt(b.CreateStackSave(), b.getInt64Ty());
  llvm::Value *limit = loadContextField(rt::kStackLimit, b.getInt64Ty());
  auto *trap = llvm::BasicBlock::Create(m.ctx, "stack.exhausted", llvmFunction_);
  llvm::IRBuilder<> trapBuilder(trap);
  if (m.gasArgument())
    trapBuilder.CreateStore(llvmFunction_->getArg(ModuleLowering::kBodyGasArgument),
                            m.loadGasCell(trapBuilder, vmctx));
  trapBuilder.CreateCall(m.trapFunction,
                         {vmctx, trapBuilder.getInt32(NOMOS_TRAP_STACK_EXHAUSTED)});
  trapBuilder.CreateUnreachable();
  auto *cont = llvm::BasicBlock::Create(m.ctx, "stack.ok", llvmFunction_);
  llvm::MDBuilder weights(m.ctx);
  b.CreateCondBr(b.CreateICmpULT(sp, limit), trap, cont,
                 weights.createUnlikelyBranchWeights());
  b.SetInsertPoint(cont);
}

// Before a call that does not take the depth in a register (an import, a
// call_indirect): the callee, or a host function calling back in, reads it
// from vmctx. Stale afterwards, as it is after a direct call: only the
// next such call reads it, and stores first.
void FunctionLowering::storeCallDepth() {
  runtimeStore(callDepth_, contextFieldPointer(rt::kCallDepth));
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
  llvm::BasicBlock *target = trap;
  // Metered: the trapping instruction ran, what follows it in its metered
  // block did not; store the counter with that rest given back.
  uint64_t refund = m.metered ? gasRefund() : 0;
  if (m.metered && (m.gasInRegister || refund)) {
    target = llvm::BasicBlock::Create(m.ctx, "trap.gas", llvmFunction_);
    llvm::IRBuilder<> gasBuilder(target);
    writeBackGas(refund, gasBuilder);
    gasBuilder.CreateBr(trap);
  }
  b.CreateCondBr(failed, target, cont, weights.createUnlikelyBranchWeights());
  b.SetInsertPoint(cont);
}

// ---- gas (docs/metering.md) --------------------------------------------------

bool FunctionLowering::isCharge(BinaryenExpressionRef expr, uint64_t &cost) const {
  return m.metered && metering::isGasCharge(expr, cost);
}

static bool isConstruct(BinaryenExpressionRef expr) {
  BinaryenExpressionId id = BinaryenExpressionGetId(expr);
  return id == BinaryenBlockId() || id == BinaryenLoopId() || id == BinaryenIfId();
}

// What the current metered block charged and has not run once the current
// instruction has (the instruction itself counts as run when it traps).
uint64_t FunctionLowering::gasRefund() const {
  uint64_t own = current_ && !isConstruct(current_)
                     ? metering::instructionCost(current_, *m.gasSchedule)
                     : 0;
  return gasRemaining_ > own ? gasRemaining_ - own : 0;
}

void FunctionLowering::writeBackGas(uint64_t refund, llvm::IRBuilder<> &builder) {
  if (!m.gasInRegister && refund == 0)
    return; // the counter already lives in the call's cell
  auto *i64 = builder.getInt64Ty();
  llvm::Value *gas = builder.CreateLoad(i64, gasSlot_);
  if (refund)
    gas = builder.CreateAdd(gas, builder.getInt64(refund));
  builder.CreateStore(gas, gasCell_);
}

void FunctionLowering::branchToOutOfGas(llvm::Value *exhausted) {
  // All gas counts as used after OutOfGas: nothing to store.
  llvm::BasicBlock *&trap = trapBlocks_[NOMOS_TRAP_OUT_OF_GAS];
  if (!trap) {
    trap = llvm::BasicBlock::Create(m.ctx, "out_of_gas", llvmFunction_);
    llvm::IRBuilder<> trapBuilder(trap);
    trapBuilder.CreateCall(m.trapFunction,
                           {vmctx, trapBuilder.getInt32(NOMOS_TRAP_OUT_OF_GAS)});
    trapBuilder.CreateUnreachable();
  }
  auto *cont = llvm::BasicBlock::Create(m.ctx, "gas.ok", llvmFunction_);
  llvm::MDBuilder weights(m.ctx);
  lastGasCheck_ =
      b.CreateCondBr(exhausted, trap, cont, weights.createUnlikelyBranchWeights());
  b.SetInsertPoint(cont);
}

// What `value` charges if it is chargeGas's new counter with a constant
// cost: the counter in `slot` minus that constant.
static std::optional<uint64_t> constantCharge(llvm::Value *value, llvm::Value *slot) {
  auto *sub = llvm::dyn_cast<llvm::BinaryOperator>(value);
  auto *from = sub ? llvm::dyn_cast<llvm::LoadInst>(sub->getOperand(0)) : nullptr;
  auto *cost = sub ? llvm::dyn_cast<llvm::ConstantInt>(sub->getOperand(1)) : nullptr;
  if (!sub || sub->getOpcode() != llvm::Instruction::Sub || !from ||
      from->getPointerOperand() != slot || !cost)
    return std::nullopt;
  return cost->getZExtValue();
}

// The check about to be emitted, made to cover the previous one too, when
// that one can go: control went straight from it to here (same block), and
// in between there were only instructions without effects, stores to
// locals, and charges of constants. Nothing observable happens between the
// two, and OutOfGas uses all the gas either way, so one test of the counter
// the earlier check saw against everything charged since is enough. (The
// counter is unsigned: the later check alone would miss an earlier borrow.)
std::optional<llvm::Value *> FunctionLowering::mergedGasCheck() {
  llvm::BranchInst *check = lastGasCheck_;
  if (!check || !m.gasInRegister || !check->getParent() ||
      check->getSuccessor(1) != b.GetInsertBlock())
    return std::nullopt;
  auto *earlier = llvm::dyn_cast<llvm::ICmpInst>(check->getCondition());
  auto *earlierCost = earlier ? llvm::dyn_cast<llvm::ConstantInt>(earlier->getOperand(1))
                              : nullptr;
  if (!earlierCost || earlier->getPredicate() != llvm::CmpInst::ICMP_ULT)
    return std::nullopt;
  uint64_t charged = earlierCost->getZExtValue();
  for (llvm::Instruction &inst : *b.GetInsertBlock()) {
    if (auto *store = llvm::dyn_cast<llvm::StoreInst>(&inst)) {
      llvm::Value *target = store->getPointerOperand();
      if (target == gasSlot_) {
        std::optional<uint64_t> cost = constantCharge(store->getValueOperand(), gasSlot_);
        if (!cost || __builtin_add_overflow(charged, *cost, &charged))
          return std::nullopt;
        continue;
      }
      if (llvm::isa<llvm::AllocaInst>(target) && !store->isVolatile())
        continue; // a local
      return std::nullopt;
    }
    if (inst.mayHaveSideEffects() || inst.isTerminator())
      return std::nullopt;
  }
  return b.CreateICmpULT(earlier->getOperand(0), b.getInt64(charged));
}

// counter = gas - cost; out of gas when that borrows. The counter is never
// negative, so this is the same test as "gas - cost < 0", but in the
// unsigned form CodeGenPrepare fuses the compare with the subtract
// (usub.with.overflow: one `sub` whose carry the branch tests) after the
// loop passes have run; the signed form left a compare of the old value and
// a separate subtract in every loop. (Emitting the intrinsic here instead
// makes SCEV rebuild the counter as an add beside it: two subtracts.) When
// the previous check can go, this one takes it over (mergedGasCheck).
void FunctionLowering::chargeGas(llvm::Value *gas, llvm::Value *cost) {
  b.CreateStore(b.CreateSub(gas, cost, "gas"), gasSlot_);
  if (std::optional<llvm::Value *> merged = mergedGasCheck()) {
    llvm::BasicBlock *next = lastGasCheck_->getSuccessor(1);
    llvm::BranchInst::Create(next, lastGasCheck_);
    lastGasCheck_->eraseFromParent();
    branchToOutOfGas(*merged);
    return;
  }
  branchToOutOfGas(b.CreateICmpULT(gas, cost));
}

void FunctionLowering::emitCharge(uint64_t cost) {
  gasRemaining_ = cost;
  chargeGas(b.CreateLoad(b.getInt64Ty(), gasSlot_), b.getInt64(cost));
}

void FunctionLowering::chargeDynamic(llvm::Value *count, uint64_t perUnit) {
  if (!m.metered || perUnit == 0)
    return;
  auto *i64 = b.getInt64Ty();
  llvm::Value *cost = b.CreateMul(b.CreateZExt(count, i64), b.getInt64(perUnit));
  chargeGas(b.CreateLoad(i64, gasSlot_), cost);
}

// A grow pays per page (element) it added: nothing when it failed (-1).
void FunctionLowering::chargeGrown(llvm::Value *old, llvm::Value *delta,
                                   uint64_t perUnit) {
  if (!m.metered || perUnit == 0)
    return;
  llvm::Value *failed = b.CreateICmpEQ(old, llvm::ConstantInt::get(old->getType(), -1, true));
  chargeDynamic(b.CreateSelect(failed, llvm::ConstantInt::get(delta->getType(), 0), delta),
                perUnit);
}

// memory.copy/fill/init pay per byte once their ranges are in bounds (one
// that traps out of bounds pays only its static cost).
void FunctionLowering::chargeBulk(std::initializer_list<llvm::Value *> starts,
                                  llvm::Value *count) {
  if (!m.metered || m.gasSchedule->bulkMemoryPerByte == 0)
    return;
  auto *i64 = b.getInt64Ty();
  llvm::Value *n = b.CreateZExt(count, i64);
  llvm::Value *size = memorySize();
  llvm::Value *inBounds = b.getTrue();
  for (llvm::Value *start : starts)
    inBounds = b.CreateAnd(
        inBounds, b.CreateICmpULE(b.CreateAdd(b.CreateZExt(start, i64), n), size));
  chargeDynamic(b.CreateSelect(inBounds, n, b.getInt64(0)),
                m.gasSchedule->bulkMemoryPerByte);
}

uint64_t FunctionLowering::gasBeforeCall() {
  if (!m.metered)
    return 0;
  uint64_t refund = gasRefund();
  writeBackGas(refund, b);
  return refund;
}

void FunctionLowering::gasAfterCall(uint64_t refund) {
  if (!m.metered || (!m.gasInRegister && refund == 0))
    return;
  chargeAfterCall(runtimeLoad(b.getInt64Ty(), gasCell_), refund);
}

void FunctionLowering::chargeAfterCall(llvm::Value *gasLeft, uint64_t refund) {
  if (refund)
    chargeGas(gasLeft, b.getInt64(refund));
  else
    b.CreateStore(gasLeft, gasSlot_);
}

// A block, loop or if inside a metered block: what follows it in that
// block is given back on entry and charged again where it ends.
uint64_t FunctionLowering::enterConstruct() {
  if (!m.metered)
    return 0;
  uint64_t refund = gasRemaining_;
  refundOnEdge(refund);
  gasRemaining_ = 0;
  return refund;
}

void FunctionLowering::leaveConstruct(uint64_t refund) {
  if (!m.metered)
    return;
  gasRemaining_ = refund;
  if (!refund)
    return;
  chargeGas(b.CreateLoad(b.getInt64Ty(), gasSlot_), b.getInt64(refund));
}

void FunctionLowering::refundOnEdge(uint64_t refund) {
  if (!m.metered || !refund)
    return;
  b.CreateStore(b.CreateAdd(b.CreateLoad(b.getInt64Ty(), gasSlot_),
                            b.getInt64(refund)),
                gasSlot_);
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
  emitNativeStackCheck();

  // Locals: parameters first, then the declared variables, zeroed.
  std::vector<BinaryenType> types =
      expandType(BinaryenFunctionGetParams(function_));
  size_t params = types.size();
  // (vmctx, depth, [gas,] params...): ModuleLowering::bodies.
  bool gasArgument = m.gasArgument();
  unsigned firstParam = gasArgument ? ModuleLowering::kBodyGasArgument + 1
                                    : ModuleLowering::kBodyDepthArgument + 1;
  for (uint32_t i = 0; i < BinaryenFunctionGetNumVars(function_); ++i)
    types.push_back(BinaryenFunctionGetVar(function_, i));
  for (size_t i = 0; i < types.size(); ++i) {
    auto type = m.lowerType(types[i]);
    if (!type)
      return tl::unexpected(type.error());
    auto *slot = entryAlloca(*type, "local" + std::to_string(i));
    llvm::Value *initial = i < params
                               ? static_cast<llvm::Value *>(llvmFunction_->getArg(i + firstParam))
                               : llvm::Constant::getNullValue(*type);
    b.CreateStore(initial, slot);
    locals_.push_back(slot);
    localTypes_.push_back(*type);
  }

  // The gas counter: a local, loaded from the call's cell at entry (mem2reg
  // keeps it in a register), or the cell itself. The cell stays the same
  // while this function runs.
  if (m.metered) {
    gasCell_ = loadContextField(rt::kGas, llvm::PointerType::getUnqual(m.ctx));
    if (m.gasInRegister) {
      gasSlot_ = entryAlloca(b.getInt64Ty(), "gas.slot");
      b.CreateStore(gasArgument ? static_cast<llvm::Value *>(llvmFunction_->getArg(
                                      ModuleLowering::kBodyGasArgument))
                                : runtimeLoad(b.getInt64Ty(), gasCell_),
                    gasSlot_);
    } else {
      gasSlot_ = gasCell_;
    }
  }

  // Guard pages: the base never moves, so one load serves the function.
  if (m.memoryStrategy == rt::MemoryStrategy::GuardPages &&
      m.input.info.memories.size() > 0) {
    llvm::LoadInst *base =
        runtimeLoad(llvm::PointerType::getUnqual(m.ctx),
                    contextFieldPointer(rt::kMemoryBase));
    base->setMetadata(llvm::LLVMContext::MD_invariant_load,
                      llvm::MDNode::get(m.ctx, {}));
    memoryBase_ = base;
  }

  // Deterministic call-depth limit, counted in frame units from the wasm.
  // The depth comes in a register and goes on to direct callees in one;
  // vmctx gets it only before a call that reads it from there (storeCallDepth):
  // a store at entry and another at return, reloaded by the callee, put a
  // store-to-load forwarding on every call's critical path.
  auto *i32 = b.getInt32Ty();
  callDepth_ = b.CreateAdd(llvmFunction_->getArg(ModuleLowering::kBodyDepthArgument),
                           b.getInt32(frameUnits(types.size())), "depth");
  trapIf(b.CreateICmpUGT(callDepth_, loadContextField(rt::kMaxCallDepth, i32)),
         NOMOS_TRAP_STACK_EXHAUSTED);

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
  llvm::Value *result =
      returnSlot_ ? b.CreateLoad(returnSlot_->getAllocatedType(), returnSlot_)
                  : nullptr;
  if (gasArgument) { // a gas body returns the counter with its results
    llvm::Value *gas = b.CreateLoad(b.getInt64Ty(), gasSlot_);
    if (!result) {
      b.CreateRet(gas);
      return {};
    }
    llvm::Value *pair = llvm::PoisonValue::get(llvmFunction_->getReturnType());
    pair = b.CreateInsertValue(pair, result, 0);
    b.CreateRet(b.CreateInsertValue(pair, gas, 1));
    return {};
  }
  if (m.metered)
    writeBackGas(0, b);
  if (result)
    b.CreateRet(result);
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
  uint64_t cost = 0;
  if (isCharge(expr, cost)) {
    emitCharge(cost);
    --depth_;
    return nullptr;
  }
  BinaryenExpressionRef outer = current_;
  current_ = expr;
  OpResult result = emitExpression(expr);
  current_ = outer;
  // The instruction ran (constructs account for themselves).
  if (m.metered && !isConstruct(expr)) {
    uint64_t own = metering::instructionCost(expr, *m.gasSchedule);
    gasRemaining_ = gasRemaining_ > own ? gasRemaining_ - own : 0;
  }
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
                        [&](Values v) {
                          chargeBulk({v[0], v[1]}, v[2]);
                          return emitMemoryCopy(v[0], v[1], v[2]);
                        });
  if (id == BinaryenMemoryFillId())
    return withOperands({BinaryenMemoryFillGetDest(expr),
                         BinaryenMemoryFillGetValue(expr),
                         BinaryenMemoryFillGetSize(expr)},
                        [&](Values v) {
                          chargeBulk({v[0]}, v[2]);
                          return emitMemoryFill(v[0], v[1], v[2]);
                        });
  if (isSimdExpression(id))
    return emitSimdExpression(expr);
  if (id == BinaryenMemorySizeId())
    return emitMemorySize();
  if (id == BinaryenMemoryGrowId())
    return withOperands({BinaryenMemoryGrowGetDelta(expr)},
                        [&](Values v) -> OpResult {
                          OpResult old = emitMemoryGrow(v[0]);
                          if (old && *old)
                            chargeGrown(*old, v[0], m.metered ? m.gasSchedule->memoryGrowPerPage : 0);
                          return old;
                        });
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
  uint64_t gasRest = enterConstruct();
  llvm::Value *last = nullptr;
  BinaryenIndex count = BinaryenBlockGetNumChildren(expr);
  for (BinaryenIndex i = 0; i < count; ++i) {
    auto value = emit(BinaryenBlockGetChildAt(expr, i));
    if (!value)
      return value;
    last = *value;
  }
  if (!exit) {
    leaveConstruct(gasRest);
    return fallThroughValue(m, last, type);
  }
  if (result && last)
    b.CreateStore(last, result);
  b.CreateBr(exit);
  b.SetInsertPoint(exit);
  labels_.erase(name);
  leaveConstruct(gasRest);
  if (!result)
    return nullptr;
  return b.CreateLoad(result->getAllocatedType(), result);
}

OpResult FunctionLowering::emitLoop(BinaryenExpressionRef expr) {
  const char *name = BinaryenLoopGetName(expr);
  auto *header = llvm::BasicBlock::Create(m.ctx, "loop", llvmFunction_);
  uint64_t gasRest = enterConstruct();
  b.CreateBr(header);
  b.SetInsertPoint(header);
  if (name)
    labels_[name] = Label{header, nullptr}; // branches to a loop carry no value
  OpResult body = emit(BinaryenLoopGetBody(expr));
  if (name)
    labels_.erase(name);
  if (!body)
    return body;
  leaveConstruct(gasRest);
  return fallThroughValue(m, *body, BinaryenExpressionGetType(expr));
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
  if (m.metered) { // the if itself ran
    uint64_t own = metering::instructionCost(expr, *m.gasSchedule);
    gasRemaining_ = gasRemaining_ > own ? gasRemaining_ - own : 0;
  }
  uint64_t gasRest = enterConstruct();
  b.CreateCondBr(b.CreateICmpNE(condition, b.getInt32(0)), thenBlock,
                 elseBlock);
  for (auto [block, arm] : {std::pair{thenBlock, BinaryenIfGetIfTrue(expr)},
                            std::pair{elseBlock, BinaryenIfGetIfFalse(expr)}}) {
    b.SetInsertPoint(block);
    gasRemaining_ = 0;
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
  leaveConstruct(gasRest);
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
    uint64_t gasRest = m.metered ? gasRefund() : 0;
    if (!conditionExpr) {
      refundOnEdge(gasRest);
      b.CreateBr(*target);
      startDeadBlock();
      return nullptr;
    }
    auto *cont = llvm::BasicBlock::Create(m.ctx, "br_if.cont", llvmFunction_);
    llvm::BasicBlock *taken = *target;
    if (gasRest) { // the rest of the metered block does not run
      taken = llvm::BasicBlock::Create(m.ctx, "br_if.gas", llvmFunction_);
      llvm::IRBuilder<> edge(taken);
      edge.CreateStore(edge.CreateAdd(edge.CreateLoad(edge.getInt64Ty(), gasSlot_),
                                      edge.getInt64(gasRest)),
                       gasSlot_);
      edge.CreateBr(*target);
    }
    b.CreateCondBr(b.CreateICmpNE(v.back(), b.getInt32(0)), taken, cont);
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
    refundOnEdge(m.metered ? gasRefund() : 0);
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
    refundOnEdge(m.metered ? gasRefund() : 0);
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
    if (callee->second >= m.functions.size()) // a table-op marker
      return emitTableMarker(
          m.input.markers[callee->second - m.functions.size()], v);
    llvm::Function *body = m.bodies[callee->second];
    if (!body) { // imported: its context gets the depth from ours
      uint64_t gasRest = gasBeforeCall();
      storeCallDepth();
      llvm::Value *result = m.emitCall(b, vmctx, callee->second, v);
      gasAfterCall(gasRest);
      return result->getType()->isVoidTy() ? nullptr : result;
    }
    // The body takes the depth in a register, and the counter too when it
    // lives in one: it comes back with the results (with the rest of this
    // metered block given back before, then charged again).
    bool gasArgument = m.gasArgument();
    uint64_t gasRest = gasArgument ? gasRefund() : gasBeforeCall();
    llvm::SmallVector<llvm::Value *, 8> args{vmctx, callDepth_};
    if (gasArgument) {
      llvm::Value *gas = b.CreateLoad(b.getInt64Ty(), gasSlot_);
      args.push_back(gasRest ? b.CreateAdd(gas, b.getInt64(gasRest)) : gas);
    }
    args.append(v.begin(), v.end());
    llvm::Value *returned = b.CreateCall(body, args);
    if (!gasArgument) {
      gasAfterCall(gasRest);
      return returned->getType()->isVoidTy() ? nullptr : returned;
    }
    auto [result, gasLeft] = m.splitGasBodyResult(b, returned);
    chargeAfterCall(gasLeft, gasRest);
    return result;
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
  return runtimeLoad(ptr, b.CreateConstGEP1_64(ptr, globals, index));
}

llvm::Value *FunctionLowering::memorySize() {
  llvm::Value *memory =
      loadContextField(rt::kMemory, llvm::PointerType::getUnqual(m.ctx));
  return runtimeLoad(b.getInt64Ty(), b.CreateStructGEP(m.memoryType, memory, 1));
}

llvm::Value *FunctionLowering::memoryBase() {
  if (memoryBase_)
    return memoryBase_;
  auto *ptr = llvm::PointerType::getUnqual(m.ctx);
  llvm::Value *memory = loadContextField(rt::kMemory, ptr);
  return runtimeLoad(ptr, b.CreateStructGEP(m.memoryType, memory, 0));
}

OpResult FunctionLowering::emitGlobalGet(BinaryenExpressionRef expr) {
  auto type = m.lowerType(BinaryenExpressionGetType(expr));
  if (!type)
    return tl::unexpected(type.error());
  if (m.metered &&
      std::strcmp(BinaryenGlobalGetGetName(expr), metering::kGasGlobalName) == 0)
    return b.CreateLoad(b.getInt64Ty(), gasSlot_);
  uint32_t index = m.globalIndex.lookup(BinaryenGlobalGetGetName(expr));
  return runtimeLoad(*type, globalPointer(index));
}

OpResult FunctionLowering::emitGlobalSet(BinaryenExpressionRef expr) {
  return withOperands({BinaryenGlobalSetGetValue(expr)},
                      [&](Values v) -> OpResult {
                        if (m.metered &&
                            std::strcmp(BinaryenGlobalSetGetName(expr),
                                        metering::kGasGlobalName) == 0) {
                          b.CreateStore(v[0], gasSlot_);
                          return nullptr;
                        }
                        uint32_t index = m.globalIndex.lookup(
                            BinaryenGlobalSetGetName(expr));
                        runtimeStore(v[0], globalPointer(index));
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
