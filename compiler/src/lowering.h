// Internal interfaces of the lowering: one ModuleLowering per module, one
// FunctionLowering per wasm function, operators in operators.cpp.
#pragma once

#include <nomos/compiler/compiler.h>
#include <nomos/compiler/runtime_abi.h>

#include <binaryen-c.h>

#include <llvm/ADT/DenseMap.h>
#include <llvm/ADT/StringMap.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>

#include <map>
#include <memory>
#include <optional>

namespace llvm {
class DominatorTree;
class LoopInfo;
class ScalarEvolution;
} // namespace llvm

namespace nomos::compiler {

// Builds the LLVM module for a whole wasm module.
class ModuleLowering {
public:
  ModuleLowering(const metering::LoadedModule &input, llvm::LLVMContext &ctx);

  Expected<std::unique_ptr<llvm::Module>> run();

  // Used by FunctionLowering.
  const metering::LoadedModule &input;
  llvm::LLVMContext &ctx;
  std::unique_ptr<llvm::Module> module;
  llvm::StructType *vmContextType = nullptr;
  llvm::StructType *importSlotType = nullptr;
  llvm::StructType *memoryType = nullptr;
  llvm::StructType *tableType = nullptr;   // rt::Table
  llvm::StructType *funcRefType = nullptr; // rt::FuncRef
  llvm::Function *trapFunction = nullptr;
  llvm::Function *memoryGrowFunction = nullptr;
  llvm::Function *hostCallFunction = nullptr;
  llvm::Function *tableGetFunction = nullptr;
  llvm::Function *tableSetFunction = nullptr;
  llvm::Function *tableGrowFunction = nullptr;
  llvm::Function *memoryInitFunction = nullptr;
  llvm::Function *dataDropFunction = nullptr;
  llvm::Function *tableInitFunction = nullptr;
  llvm::Function *elemDropFunction = nullptr;
  llvm::Function *tableCopyFunction = nullptr;
  llvm::Function *tableFillFunction = nullptr;
  // By wasm function index; imported functions have none.
  std::vector<llvm::Function *> functions;
  // By wasm function index, the function's body, which takes its caller's
  // call depth after vmctx, and after it the gas counter when that is in
  // a register: (vmctx, depth, [gas,] params...); with the counter, it
  // returns it with its results (in and out in one register, rdx on x86-64:
  // no copies around a call). functions[i] is a wrapper that loads them
  // from vmctx (for thunks, tables and other instances); direct calls pass
  // them in registers.
  std::vector<llvm::Function *> bodies;
  static constexpr unsigned kBodyDepthArgument = 1;
  static constexpr unsigned kBodyGasArgument = 2; // when gasArgument()
  std::vector<llvm::FunctionType *> functionTypes; // all, imports included
  llvm::StringMap<uint32_t> functionIndex;          // Binaryen name -> index
  llvm::StringMap<uint32_t> globalIndex;            // Binaryen name -> index
  llvm::StringMap<uint32_t> tableIndex;             // Binaryen name -> index
  // Signature ("params:results" in value-type bytes) -> a type index.
  std::map<std::string, uint32_t> signatureIndex;
  // Gas metering: set when the module has the gas pass's global (its
  // schedule comes with the compile options).
  bool metered = false;
  const metering::GasSchedule *gasSchedule = nullptr;
  bool gasInRegister = true; // keep the counter in a local (the default)
  // Whether bodies take and return the gas counter.
  bool gasArgument() const { return metered && gasInRegister; }
  rt::MemoryStrategy memoryStrategy = rt::MemoryStrategy::GuardPages;
  // Type-based alias tags: guest linear memory never overlaps the runtime's
  // structures (context, memory descriptor, globals), so LLVM may keep
  // those in registers across guest stores.
  llvm::MDNode *guestMemoryTag = nullptr;
  llvm::MDNode *runtimeTag = nullptr;

  Expected<llvm::Type *> lowerType(BinaryenType type) const;
  Expected<llvm::FunctionType *> lowerSignature(BinaryenType params,
                                                BinaryenType results) const;

  llvm::Type *gasBodyReturnType(llvm::Type *results) const;
  // The call's gas counter cell, *vmctx->gas.
  llvm::Value *loadGasCell(llvm::IRBuilder<> &builder, llvm::Value *vmctx) const;
  // A gas body's returned value as (results or null, gas counter).
  std::pair<llvm::Value *, llvm::Value *>
  splitGasBodyResult(llvm::IRBuilder<> &builder, llvm::Value *returned) const;

  // A callee in another context (another instance, a host function) goes on
  // with its caller's frame count, stack limit and gas counter.
  void passCallState(llvm::IRBuilder<> &builder, llvm::Value *vmctx,
                     llvm::Value *calleeCtx);
  // Emits a call of wasm function `index` (defined or imported).
  llvm::Value *emitCall(llvm::IRBuilder<> &builder, llvm::Value *vmctx,
                        uint32_t index, llvm::ArrayRef<llvm::Value *> args);

private:
  Expected<void> declareFunctions();
  llvm::Function *declareBody(uint32_t index, llvm::FunctionType *signature,
                              const char *name);
  void declareRuntimeFunctions();
  void emitInvokeThunk(uint32_t index);
  llvm::Function *emitHostAdapter(uint32_t index);
  void storeResults(llvm::IRBuilder<> &builder, llvm::Value *result,
                    llvm::Value *slots);
  llvm::Value *loadResults(llvm::IRBuilder<> &builder, llvm::Type *type,
                           llvm::Value *slots);
  void emitPointerTable(const char *name,
                        llvm::ArrayRef<llvm::Constant *> entries);
  void emitFunctionTables();
  void keepFrames();
};

// The result of lowering one operator, or the reason it can't be.
using OpResult = Expected<llvm::Value *>;

class FunctionLowering {
public:
  FunctionLowering(ModuleLowering &module, uint32_t index);
  Expected<void> run();

  // Shared with operators.cpp.
  ModuleLowering &m;
  llvm::IRBuilder<> b;
  llvm::Value *vmctx = nullptr;

  // Puts this frame's call depth in vmctx, for a callee that reads it there.
  void storeCallDepth();
  // Emits a conditional trap: when `failed` is true, trap with `code`.
  void trapIf(llvm::Value *failed, nomos_trap code);
  void trapAlways(nomos_trap code);
  void emitNativeStackCheck();
  uint32_t frameUnits(size_t locals) const;
  llvm::AllocaInst *entryAlloca(llvm::Type *type, const llvm::Twine &name);
  // Loads a field of the instance context.
  llvm::Value *loadContextField(rt::VMContextField field, llvm::Type *type);
  llvm::Value *contextFieldPointer(rt::VMContextField field);
  // The current size of memory 0 in bytes (it changes as memory grows).
  llvm::Value *memorySize();
  // The base of memory 0: loaded once per function with guard pages (it
  // never moves), from the memory descriptor with explicit checks.
  llvm::Value *memoryBase();
  // The pointer to [address + offset, + bytes) of memory 0 (address an i32
  // wasm value), checked against the size unless guard pages cover it.
  llvm::Value *memoryAddress(llvm::Value *address, uint64_t offset,
                             unsigned bytes);
  // Loads and stores of guest memory: unaligned (alignment in wasm is a
  // hint only) and tagged as guest memory.
  llvm::Value *guestLoad(llvm::Type *type, llvm::Value *pointer);
  void guestStore(llvm::Value *value, llvm::Value *pointer);
  // A load of a runtime structure (tagged: never guest memory).
  llvm::LoadInst *runtimeLoad(llvm::Type *type, llvm::Value *pointer);
  void runtimeStore(llvm::Value *value, llvm::Value *pointer);

  // Operator families (operators.cpp).
  OpResult emitUnary(BinaryenOp op, llvm::Value *value);
  OpResult emitBinary(BinaryenOp op, llvm::Value *lhs, llvm::Value *rhs);
  OpResult emitLoad(BinaryenExpressionRef expr, llvm::Value *address);
  OpResult emitStore(BinaryenExpressionRef expr, llvm::Value *address,
                     llvm::Value *value);
  OpResult emitMemorySize();
  OpResult emitMemoryGrow(llvm::Value *delta);
  OpResult emitMemoryCopy(llvm::Value *dest, llvm::Value *source,
                          llvm::Value *size);
  OpResult emitMemoryFill(llvm::Value *dest, llvm::Value *value,
                          llvm::Value *size);
  // Effective address of [address, address + size) in memory 0, after a
  // bounds check (both i32 wasm values, or i64 already extended).
  llvm::Value *checkedRange(llvm::Value *address, llvm::Value *size);

  // Gas (lower_function.cpp; docs/metering.md). Before a call of generated
  // code or of a runtime function that may trap: store the counter (plus
  // what the current metered block has not run yet) in vmctx. After a call:
  // reload it and charge that rest again.
  uint64_t gasBeforeCall();
  void gasAfterCall(uint64_t refund);
  // After a call that returned the counter: keep it, charge the rest.
  void chargeAfterCall(llvm::Value *gasLeft, uint64_t refund);
  void syncGas() { gasBeforeCall(); }
  // Charges count * perUnit (a dynamic cost: memory.grow pages, bulk
  // memory bytes, table.grow elements); out of gas traps.
  void chargeDynamic(llvm::Value *count, uint64_t perUnit);
  void chargeGrown(llvm::Value *old, llvm::Value *delta, uint64_t perUnit);
  void chargeBulk(std::initializer_list<llvm::Value *> starts, llvm::Value *count);

  // Reference types and tables (reference_operators.cpp).
  OpResult emitReferenceOp(BinaryenExpressionRef expr);
  OpResult emitCallIndirect(BinaryenExpressionRef expr);
  // A call of a table-op marker (metering::TableMarker): its arguments.
  OpResult emitTableMarker(metering::TableMarker marker,
                           llvm::ArrayRef<llvm::Value *> args);
  llvm::Value *tablePointer(uint32_t index);
  // Floating-point operators (float_operators.cpp).
  OpResult emitFloatUnary(BinaryenOp op, llvm::Value *value);
  OpResult emitFloatBinary(BinaryenOp op, llvm::Value *lhs, llvm::Value *rhs);
  // A NaN result becomes the canonical NaN (determinism).
  llvm::Value *canonicalizeNaN(llvm::Value *value);
  llvm::Value *emitTrappingTrunc(llvm::Value *value, llvm::Type *resultType,
                                 bool isSigned);
  // SIMD (simd_operators.cpp): v128 unary/binary operators and the SIMD
  // expression kinds (lanes, shuffle, bitselect, shifts, vector memory).
  OpResult emitSimdUnary(BinaryenOp op, llvm::Value *value);
  OpResult emitSimdBinary(BinaryenOp op, llvm::Value *lhs, llvm::Value *rhs);
  OpResult emitSimdExpression(BinaryenExpressionRef expr);

private:
  struct Label {
    llvm::BasicBlock *target;
    llvm::AllocaInst *result; // null when the branch carries no value
  };

  OpResult emit(BinaryenExpressionRef expr);
  OpResult emitExpression(BinaryenExpressionRef expr);
  OpResult emitBlock(BinaryenExpressionRef expr);
  OpResult emitLoop(BinaryenExpressionRef expr);
  OpResult emitIf(BinaryenExpressionRef expr);
  OpResult emitBreak(BinaryenExpressionRef expr);
  OpResult emitSwitch(BinaryenExpressionRef expr);
  OpResult emitReturn(BinaryenExpressionRef expr);
  OpResult emitCall(BinaryenExpressionRef expr);
  OpResult emitSelect(BinaryenExpressionRef expr);
  OpResult emitLocalSet(BinaryenExpressionRef expr);
  OpResult emitGlobalGet(BinaryenExpressionRef expr);
  OpResult emitGlobalSet(BinaryenExpressionRef expr);
  OpResult emitConst(BinaryenExpressionRef expr);

  using Values = llvm::ArrayRef<llvm::Value *>;
  // Emits the operands in order, then op(values), unless an operand never
  // returns (its type is unreachable): then the operator is dead code.
  OpResult withOperands(llvm::ArrayRef<BinaryenExpressionRef> exprs,
                        llvm::function_ref<OpResult(Values)> op);
  OpResult emitIfArms(BinaryenExpressionRef expr, llvm::Value *condition);
  // Continues in a fresh block with no predecessors after a terminator.
  void startDeadBlock();
  llvm::Value *globalPointer(uint32_t index);
  Expected<llvm::AllocaInst *> resultSlot(BinaryenType type,
                                          const char *name);
  // Passes `value` to the label's result slot; returns the branch target.
  Expected<llvm::BasicBlock *> branchTo(const char *label, llvm::Value *value);

  uint32_t index_;
  BinaryenFunctionRef function_;
  llvm::Function *llvmFunction_;
  std::vector<llvm::AllocaInst *> locals_;
  std::vector<llvm::Type *> localTypes_;
  llvm::StringMap<Label> labels_;
  llvm::BasicBlock *returnBlock_ = nullptr;
  llvm::AllocaInst *returnSlot_ = nullptr;
  llvm::DenseMap<unsigned, llvm::BasicBlock *> trapBlocks_;
  unsigned depth_ = 0;
  // Gas: the call's counter (vmctx->gas, loaded at entry), the counter's
  // slot (an alloca, or that cell when gasInRegister is off), what the
  // current metered block has charged but not yet run, and the expression
  // being lowered (its own cost is part of what ran when it traps).
  llvm::Value *gasCell_ = nullptr;
  llvm::Value *gasSlot_ = nullptr;
  llvm::Value *memoryBase_ = nullptr; // guard pages: loaded at entry
  llvm::Value *callDepth_ = nullptr;  // this frame's depth (its own included)
  uint64_t gasRemaining_ = 0;
  BinaryenExpressionRef current_ = nullptr;
  bool isCharge(BinaryenExpressionRef expr, uint64_t &cost) const;
  void emitCharge(uint64_t cost);
  void chargeGas(llvm::Value *gas, llvm::Value *cost);
  uint64_t gasRefund() const;
  void writeBackGas(uint64_t refund, llvm::IRBuilder<> &builder);
  void branchToOutOfGas(llvm::Value *exhausted);
  // The last out-of-gas check; a later one in the same block, with only
  // charges and instructions without effects in between, takes it over.
  llvm::BranchInst *lastGasCheck_ = nullptr;
  std::optional<llvm::Value *> mergedGasCheck();
  uint64_t enterConstruct();
  void leaveConstruct(uint64_t refund);
  void refundOnEdge(uint64_t refund);
};

// A signature as a string key, for ModuleLowering::signatureIndex.
std::string signatureKey(const wasm::FuncType &type);
std::string signatureKey(BinaryenType params, BinaryenType results);

// Wasm text names of operators, for error messages ("f32.add").
std::string unaryOpName(BinaryenOp op);
std::string binaryOpName(BinaryenOp op);
const char *expressionName(BinaryenExpressionId id);
// The name of a floating-point operator, or null if `op` is not one.
const char *floatOpName(BinaryenOp op, bool binary);
// An f32.const or f64.const with its exact bits (NaN payloads included).
llvm::Constant *floatConstant(llvm::LLVMContext &ctx, BinaryenExpressionRef expr);
// SIMD (simd_operators.cpp): whether `op` is a v128 unary (binary)
// operator, its name (null if not one), whether `id` is a SIMD expression
// kind, and a v128.const as <2 x i64>.
bool isSimdOp(BinaryenOp op, bool binary);
const char *simdOpName(BinaryenOp op, bool binary);
bool isSimdExpression(BinaryenExpressionId id);
llvm::Constant *v128Constant(llvm::LLVMContext &ctx, BinaryenExpressionRef expr);
// NaN canonicalization (nan_canonicalization.cpp): tags a scalar
// canonicalizing select (returns it), and drops, in a lowered function, the
// tagged ones whose value no payload-observing operation can reach.
llvm::Value *markNaNCanonicalization(llvm::Value *select);
void removeUnobservedNaNCanonicalization(llvm::Function &function);
// Turns each scalar canonicalization left after optimization into a branch
// around the rare NaN case; returns whether it changed anything.
bool branchAroundNaNCanonicalization(llvm::Function &function);
// The TBAA tag of memory accesses: "wasm memory" (guest memory) or
// "nomos runtime" (the context, globals, tables).
llvm::MDNode *accessTag(llvm::LLVMContext &ctx, llvm::StringRef name);
// loop_versioning.cpp: runs each innermost counted loop that cannot trap
// in a copy with plain loads and no gas checks (before the vectorizer).
bool versionLoopsForVectorization(llvm::Function &function, llvm::DominatorTree &dominators,
                                  llvm::LoopInfo &loops, llvm::ScalarEvolution &evolution,
                                  const llvm::MDNode *guestTag);
// A gas check: `counter < cost` branching to an OutOfGas trap, the
// terminator of its block (gas_counter.cpp).
struct GasCheck {
  llvm::ICmpInst *compare;
  llvm::BranchInst *branch;
  llvm::Value *counter;
  uint64_t cost;
};
// The code of the nomos_rt_trap call in `block`, if it has one.
std::optional<uint64_t> trapKind(const llvm::BasicBlock &block);
bool isOutOfGasTrap(const llvm::BasicBlock &block);
std::optional<GasCheck> gasCheckAt(llvm::BasicBlock &block);
// gas_counter.cpp: after optimization, computes the gas counter's charges
// so that code generation keeps it in one register (false: no gas checks).
bool tidyGasCounter(llvm::Function &function, llvm::DominatorTree &dominators,
                    llvm::LoopInfo &loops);

} // namespace nomos::compiler
