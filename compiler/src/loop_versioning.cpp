// Counted loops that cannot trap run in a copy the vectorizer can work on.
//
// With guard pages a guest load is volatile (operators.cpp: it is its own
// bounds check and must stay), with explicit checks every access branches
// to a trap first, and a metered loop checks its gas on every iteration;
// each keeps the loop vectorizer out. For an innermost loop
// without calls whose guest addresses SCEV can bound (affine in the
// iteration, or the same on every iteration) and whose counter falls by the
// same amount on every iteration, a test before the loop decides whether
// any access could fault, or any gas check fail, within the most iterations
// the loop can run. When none can, a copy runs with plain loads and without
// bounds or gas checks; otherwise the loop as it was. The copy cannot trap, so what
// the optimizer does with its loads changes no result, trap, gas or memory:
// the test only chooses which of two equal computations runs.
//
// In the copy, a wasm address (the zero extension of a 32-bit sum, which
// the test shows does not wrap) becomes the 64-bit induction it is there,
// so that the vectorizer sees consecutive accesses instead of gathers; and
// a loop the guest's compiler unrolled is rolled up again (Reroll).
// Loops that gain nothing but plain loads (a store to one address; state
// carried from one iteration to the next, with no narrow address to widen)
// are left alone: the test would only cost. docs/architecture.md has the
// measurements.
#include "lowering.h"

#include <llvm/ADT/MapVector.h>
#include <llvm/Analysis/LoopInfo.h>
#include <llvm/Analysis/ScalarEvolution.h>
#include <llvm/Analysis/ScalarEvolutionExpressions.h>
#include <llvm/Analysis/ValueTracking.h>
#include <llvm/IR/Dominators.h>
#include <llvm/IR/IntrinsicInst.h>
#include <llvm/IR/PatternMatch.h>
#include <llvm/Transforms/Utils/BasicBlockUtils.h>
#include <llvm/Transforms/Utils/Cloning.h>
#include <llvm/Transforms/Utils/Local.h>
#include <llvm/Transforms/Utils/LoopUtils.h>
#include <llvm/Transforms/Utils/ScalarEvolutionExpander.h>

namespace nomos::compiler {

namespace {

// Constants of addresses and steps beyond this are left alone, so that the
// test's arithmetic (in 128 bits) has room.
constexpr int64_t kLargestConstant = int64_t(1) << 40;

bool small(int64_t value) { return value > -kLargestConstant && value < kLargestConstant; }

int64_t constantValue(const llvm::SCEV *value) {
  return llvm::cast<llvm::SCEVConstant>(value)->getAPInt().getSExtValue();
}

// `value` as base + constant.
std::pair<const llvm::SCEV *, int64_t> splitConstant(const llvm::SCEV *value,
                                                     llvm::ScalarEvolution &evolution) {
  if (auto *constant = llvm::dyn_cast<llvm::SCEVConstant>(value))
    return {evolution.getZero(value->getType()), constant->getAPInt().getSExtValue()};
  if (auto *sum = llvm::dyn_cast<llvm::SCEVAddExpr>(value))
    if (auto *constant = llvm::dyn_cast<llvm::SCEVConstant>(sum->getOperand(0)))
      return {evolution.getMinusSCEV(value, constant), constant->getAPInt().getSExtValue()};
  return {value, 0};
}

// a - b, when SCEV knows it to be a small constant.
std::optional<int64_t> constantDifference(const llvm::SCEV *a, const llvm::SCEV *b,
                                          llvm::ScalarEvolution &evolution) {
  auto *difference = llvm::dyn_cast<llvm::SCEVConstant>(evolution.getMinusSCEV(a, b));
  if (!difference || !small(difference->getAPInt().getSExtValue()))
    return std::nullopt;
  return difference->getAPInt().getSExtValue();
}

// A 64-bit value the loop computes as base + constant + step * iteration.
// Either a recurrence of 64 bits (exact modulo 2^64), or, `narrow`,
// C + zext(R) for a 32-bit recurrence R = S + c + step * iteration (a wasm
// address and its static offset C), with base = zext(S) and constant =
// C + c: that holds only while S + c + step * iteration does not wrap in
// 32 bits, which the test checks.
struct Affine {
  const llvm::SCEV *base;
  int64_t constant;
  int64_t step;
  bool narrow = false;
  int64_t narrowConstant = 0; // c
};

std::optional<Affine> affineIn(const llvm::SCEV *value, const llvm::Loop &loop,
                               llvm::ScalarEvolution &evolution) {
  auto recurrence = [&](const llvm::SCEV *of) -> const llvm::SCEVAddRecExpr * {
    auto *r = llvm::dyn_cast<llvm::SCEVAddRecExpr>(of);
    if (!r || r->getLoop() != &loop || !r->isAffine() ||
        !llvm::isa<llvm::SCEVConstant>(r->getOperand(1)) ||
        !small(constantValue(r->getOperand(1))))
      return nullptr;
    return r;
  };
  if (llvm::isa<llvm::SCEVCouldNotCompute>(value) || !value->getType()->isIntegerTy(64))
    return std::nullopt;
  const llvm::SCEV *start = value;
  int64_t step = 0;
  if (auto *r = recurrence(value)) {
    start = r->getStart();
    step = constantValue(r->getOperand(1));
  } else if (!evolution.isLoopInvariant(value, &loop)) {
    auto [rest, outer] = splitConstant(value, evolution);
    auto *extended = llvm::dyn_cast<llvm::SCEVZeroExtendExpr>(rest);
    auto *narrow = extended && extended->getOperand()->getType()->isIntegerTy(32)
                       ? recurrence(extended->getOperand())
                       : nullptr;
    if (!narrow || !small(outer))
      return std::nullopt;
    auto [narrowBase, inner] = splitConstant(narrow->getStart(), evolution);
    if (!small(inner))
      return std::nullopt;
    return Affine{evolution.getZeroExtendExpr(narrowBase, value->getType()), outer + inner,
                  constantValue(narrow->getOperand(1)), true, inner};
  }
  auto [base, constant] = splitConstant(start, evolution);
  if (!small(constant))
    return std::nullopt;
  return Affine{base, constant, step};
}

// Guest accesses at offsets `base + c + step * i` from the memory base, for
// c in [lowest, end - bytes]; narrow ones (Affine) with their 32-bit
// constants in [narrowLowest, narrowHighest].
struct AccessRange {
  const llvm::SCEV *base;
  int64_t step;
  bool narrow;
  int64_t lowest;
  int64_t end;
  int64_t narrowLowest = 0;
  int64_t narrowHighest = 0;
};

// A narrow access: in the unchecked copy its address becomes a 64-bit
// induction (which the vectorizer sees as consecutive).
struct NarrowAccess {
  llvm::Instruction *inst;
  Affine offset;
};

// What the test before a loop checks.
struct Plan {
  llvm::Loop *loop;
  const llvm::SCEV *maxBackedges;         // iterations - 1, at most
  llvm::Value *memoryBase = nullptr;
  llvm::SmallVector<AccessRange, 4> ranges;
  llvm::SmallVector<NarrowAccess, 8> narrowAccesses;
  llvm::SmallVector<llvm::LoadInst *, 8> volatileLoads;
  llvm::SmallVector<GasCheck, 4> gasChecks;
  // Explicit checks: `end > memory size` branching to a MemoryOutOfBounds
  // trap, each end in `ranges` too (as a byte that ends there).
  llvm::SmallVector<llvm::BranchInst *, 8> boundsChecks;
  bool explicitChecks = false;            // the base is memory->base, reloaded
  llvm::Value *gasOnEntry = nullptr;      // the counter the loop starts with
  int64_t gasPerIteration = 0;
  int64_t gasNeededInLastIteration = 0;   // at its most demanding check
};

// A block that traps with `kind`, or (metered) writes the counter back and
// goes to one that does.
bool isTrap(const llvm::BasicBlock &block, nomos_trap kind) {
  const llvm::BasicBlock *at = &block;
  for (int jumps = 0; jumps < 2; ++jumps) {
    if (std::optional<uint64_t> code = trapKind(*at))
      return *code == kind;
    auto *jump = llvm::dyn_cast<llvm::BranchInst>(at->getTerminator());
    if (!jump || !jump->isUnconditional())
      return false;
    at = jump->getSuccessor(0);
  }
  return false;
}

// `value` with the phis that only copy one value (LCSSA's) looked through.
llvm::Value *throughCopies(llvm::Value *value) {
  while (auto *phi = llvm::dyn_cast<llvm::PHINode>(value)) {
    llvm::Value *only = phi->hasConstantValue();
    if (!only)
      break;
    value = only;
  }
  return value;
}

// Whether `address` is `from` plus `bytes` (`from` itself, or a GEP).
bool isFieldOf(llvm::Value *address, llvm::Value *from, uint64_t bytes,
               const llvm::DataLayout &layout) {
  if (address == from)
    return bytes == 0;
  auto *field = llvm::dyn_cast<llvm::GEPOperator>(address);
  llvm::APInt at(64, 0);
  return field && field->getPointerOperand() == from &&
         field->accumulateConstantOffset(layout, at) && at == bytes;
}

// Whether `pointer` is the address of field `offset` of `context->memory`
// (rt::Memory: the base at 0, the size at 8).
bool isMemoryField(llvm::Value *pointer, llvm::Argument &context, uint64_t offset) {
  const llvm::DataLayout &layout = context.getParent()->getDataLayout();
  auto *field = llvm::dyn_cast<llvm::GEPOperator>(pointer);
  auto *memory = llvm::dyn_cast<llvm::LoadInst>(
      offset == 0 ? pointer : (field ? field->getPointerOperand() : nullptr));
  return memory && isFieldOf(pointer, memory, offset, layout) &&
         isFieldOf(memory->getPointerOperand(), &context, offsetof(rt::VMContext, memory),
                   layout);
}

// Whether `value` is field `offset` of `context->memory` as the lowering
// loads it (the base, 0, with explicit checks; the size, 8), possibly
// through phis of such loads (a loop versioned before this one loaded it
// in both copies).
bool isMemoryValue(llvm::Value *value, llvm::Argument &context, uint64_t offset,
                   unsigned depth = 0) {
  if (auto *load = llvm::dyn_cast<llvm::LoadInst>(value))
    return isMemoryField(load->getPointerOperand(), context, offset);
  auto *phi = llvm::dyn_cast<llvm::PHINode>(value);
  return phi && depth < 4 && llvm::all_of(phi->incoming_values(), [&](llvm::Value *in) {
           return in == phi || isMemoryValue(in, context, offset, depth + 1);
         });
}

// The ends a bounds check's condition compares with the memory's size:
// `end > size` as the lowering emits it (or `size < end`), or several of
// them or'ed, as SimplifyCFG merges adjacent checks. False for anything
// else.
bool collectCheckedEnds(llvm::Value *condition, llvm::Argument &context,
                        llvm::ScalarEvolution &evolution,
                        llvm::SmallVectorImpl<const llvm::SCEV *> &ends) {
  using namespace llvm::PatternMatch;
  llvm::Value *left, *right;
  if (match(condition, m_LogicalOr(m_Value(left), m_Value(right))))
    return collectCheckedEnds(left, context, evolution, ends) &&
           collectCheckedEnds(right, context, evolution, ends);
  auto *compare = llvm::dyn_cast<llvm::ICmpInst>(condition);
  if (!compare)
    return false;
  llvm::Value *end = nullptr, *size = nullptr;
  if (compare->getPredicate() == llvm::ICmpInst::ICMP_UGT) {
    end = compare->getOperand(0);
    size = compare->getOperand(1);
  } else if (compare->getPredicate() == llvm::ICmpInst::ICMP_ULT) {
    size = compare->getOperand(0);
    end = compare->getOperand(1);
  } else {
    return false;
  }
  if (!end->getType()->isIntegerTy(64) ||
      !isMemoryValue(size, context, offsetof(rt::Memory, size)))
    return false;
  ends.push_back(evolution.getSCEV(end));
  return true;
}

bool isGuestAccess(const llvm::Instruction &inst, const llvm::MDNode *guestTag) {
  return inst.getMetadata(llvm::LLVMContext::MD_tbaa) == guestTag;
}

// Adds `bytes` at `offset` (from the memory base) to the plan's ranges; the
// access `inst`, if any, gets a 64-bit address in the copy. False if SCEV
// cannot bound it.
bool addRange(Plan &plan, const llvm::SCEV *offset, uint64_t bytes, llvm::Instruction *inst,
              llvm::ScalarEvolution &evolution) {
  std::optional<Affine> affine = affineIn(offset, *plan.loop, evolution);
  if (!affine || bytes > 16)
    return false;
  // A store to the same address on every iteration: the vectorizer cannot
  // widen the loop (nbody's bodies[i] += ...), and the test would only
  // cost, on every entry of what is usually a short loop.
  if (affine->step == 0 && inst && llvm::isa<llvm::StoreInst>(inst))
    return false;
  if (affine->narrow && inst)
    plan.narrowAccesses.push_back({inst, *affine});
  for (AccessRange &range : plan.ranges) {
    if (range.step != affine->step || range.narrow != affine->narrow)
      continue;
    // The same base, or (64-bit recurrences) one a constant away.
    std::optional<int64_t> shift =
        range.base == affine->base ? 0 : constantDifference(affine->base, range.base, evolution);
    if (shift && (*shift == 0 || !range.narrow)) {
      int64_t constant = affine->constant + *shift;
      range.lowest = std::min(range.lowest, constant);
      range.end = std::max(range.end, constant + static_cast<int64_t>(bytes));
      range.narrowLowest = std::min(range.narrowLowest, affine->narrowConstant);
      range.narrowHighest = std::max(range.narrowHighest, affine->narrowConstant);
      return true;
    }
  }
  plan.ranges.push_back({affine->base, affine->step, affine->narrow, affine->constant,
                         affine->constant + static_cast<int64_t>(bytes),
                         affine->narrowConstant, affine->narrowConstant});
  return true;
}

// The counter's phi in the loop's header whose value falls by the same
// amount on every iteration, and the checks' needs measured from it.
bool planGas(Plan &plan, llvm::ScalarEvolution &evolution) {
  if (plan.gasChecks.empty())
    return true;
  llvm::Loop &loop = *plan.loop;
  for (llvm::PHINode &phi : loop.getHeader()->phis()) {
    auto *recurrence = llvm::dyn_cast<llvm::SCEVAddRecExpr>(evolution.getSCEV(&phi));
    if (!phi.getType()->isIntegerTy(64) || !recurrence || recurrence->getLoop() != &loop ||
        !recurrence->isAffine())
      continue;
    auto *step = llvm::dyn_cast<llvm::SCEVConstant>(recurrence->getOperand(1));
    if (!step || step->getAPInt().getSExtValue() > 0 ||
        !small(step->getAPInt().getSExtValue()))
      continue;
    int64_t needed = 0;
    bool fromThisPhi = true;
    for (const GasCheck &check : plan.gasChecks) {
      // counter = phi - spent, spent already paid in this iteration
      auto *spent = llvm::dyn_cast<llvm::SCEVConstant>(
          evolution.getMinusSCEV(recurrence, evolution.getSCEV(check.counter)));
      if (!spent || spent->getAPInt().getSExtValue() < 0 ||
          !small(spent->getAPInt().getSExtValue()) || !small(check.cost)) {
        fromThisPhi = false;
        break;
      }
      needed = std::max(needed, spent->getAPInt().getSExtValue() +
                                    static_cast<int64_t>(check.cost));
    }
    if (!fromThisPhi)
      continue;
    plan.gasOnEntry = phi.getIncomingValueForBlock(loop.getLoopPreheader());
    plan.gasPerIteration = -step->getAPInt().getSExtValue();
    plan.gasNeededInLastIteration = needed;
    return true;
  }
  return false;
}

bool carriesOnlyInductionsAndReductions(llvm::Loop &loop, llvm::ScalarEvolution &evolution) {
  llvm::BasicBlock *latch = loop.getLoopLatch();
  for (llvm::PHINode &phi : loop.getHeader()->phis()) {
    if (llvm::isa<llvm::SCEVAddRecExpr>(evolution.getSCEV(&phi)))
      continue;
    auto *next = llvm::dyn_cast<llvm::BinaryOperator>(phi.getIncomingValueForBlock(latch));
    bool reduction = phi.getType()->isIntegerTy() && next &&
                     (next->getOperand(0) == &phi || next->getOperand(1) == &phi);
    if (!reduction)
      return false;
    switch (next->getOpcode()) {
    case llvm::Instruction::Add:
    case llvm::Instruction::Mul:
    case llvm::Instruction::And:
    case llvm::Instruction::Or:
    case llvm::Instruction::Xor:
      continue;
    default:
      return false;
    }
  }
  return true;
}

// Whether `loop` can be versioned, and on what.
std::optional<Plan> planLoop(llvm::Loop &loop, llvm::ScalarEvolution &evolution,
                             const llvm::MDNode *guestTag) {
  if (!loop.isInnermost() || !loop.getLoopPreheader() || !loop.getLoopLatch())
    return std::nullopt;
  Plan plan{&loop, nullptr};
  llvm::BasicBlock *exit = nullptr, *exiting = nullptr; // the one way out but traps
  llvm::SmallVector<std::pair<llvm::BasicBlock *, llvm::BasicBlock *>, 8> exits;
  loop.getExitEdges(exits);
  for (auto [from, to] : exits) {
    if (isOutOfGasTrap(*to)) {
      std::optional<GasCheck> check = gasCheckAt(*from);
      if (!check || check->branch->getSuccessor(1) == to)
        return std::nullopt;
      plan.gasChecks.push_back(*check);
      continue;
    }
    if (isTrap(*to, NOMOS_TRAP_MEMORY_OUT_OF_BOUNDS)) {
      auto *branch = llvm::dyn_cast<llvm::BranchInst>(from->getTerminator());
      if (!branch || !branch->isConditional() || branch->getSuccessor(0) != to ||
          branch->getSuccessor(1) == to)
        return std::nullopt;
      plan.boundsChecks.push_back(branch);
      continue;
    }
    if (exit && (exit != to || exiting != from))
      return std::nullopt; // other traps, or more than one way out
    exit = to;
    exiting = from;
  }
  if (!exiting)
    return std::nullopt;
  plan.maxBackedges = evolution.getExitCount(&loop, exiting);
  if (llvm::isa<llvm::SCEVCouldNotCompute>(plan.maxBackedges))
    return std::nullopt;

  for (llvm::BasicBlock *block : loop.blocks())
    for (llvm::Instruction &inst : *block) {
      if (auto *call = llvm::dyn_cast<llvm::CallBase>(&inst)) {
        if (!llvm::isa<llvm::IntrinsicInst>(call) || call->mayReadOrWriteMemory())
          return std::nullopt;
        continue;
      }
      auto *load = llvm::dyn_cast<llvm::LoadInst>(&inst);
      auto *store = llvm::dyn_cast<llvm::StoreInst>(&inst);
      if (!load && !store) {
        if (inst.mayReadOrWriteMemory())
          return std::nullopt; // atomics, fences
        continue;
      }
      if (load ? load->isAtomic() : !store->isSimple())
        return std::nullopt;
      if (!isGuestAccess(inst, guestTag)) {
        if (load && load->isVolatile())
          return std::nullopt;
        continue; // the runtime's fields and globals: they do not fault
      }
      // All guest accesses go through memory 0's base: with guard pages
      // loaded from the context once, before the loop; with explicit checks
      // from the memory (where a loop without calls cannot move it).
      llvm::Value *pointer = llvm::getLoadStorePointerOperand(&inst);
      llvm::Value *base = throughCopies(llvm::getUnderlyingObject(pointer));
      auto *baseLoad = llvm::dyn_cast<llvm::LoadInst>(base);
      llvm::Argument *context = loop.getHeader()->getParent()->getArg(0);
      bool guardBase = baseLoad && !loop.contains(baseLoad) &&
                       baseLoad->getPointerOperand() == context &&
                       (!plan.memoryBase || plan.memoryBase == baseLoad);
      if (guardBase)
        plan.memoryBase = baseLoad;
      else if (!isMemoryValue(base, *context, offsetof(rt::Memory, base)))
        return std::nullopt;
      plan.explicitChecks |= !guardBase;
      llvm::Type *type = load ? load->getType() : store->getValueOperand()->getType();
      const llvm::SCEV *offset = evolution.getMinusSCEV(evolution.getSCEV(pointer),
                                                        evolution.getSCEV(base));
      if (!addRange(plan, offset, type->getPrimitiveSizeInBits() / 8, &inst, evolution))
        return std::nullopt;
      if (load && load->isVolatile())
        plan.volatileLoads.push_back(load);
    }
  if (plan.explicitChecks && plan.memoryBase)
    return std::nullopt; // both kinds of base: not code Nomos makes
  // Each bounds check's end: the test shows it is never past the size.
  for (llvm::BranchInst *check : plan.boundsChecks) {
    llvm::SmallVector<const llvm::SCEV *, 2> ends;
    if (!collectCheckedEnds(check->getCondition(), *loop.getHeader()->getParent()->getArg(0),
                            evolution, ends))
      return std::nullopt;
    for (const llvm::SCEV *end : ends)
      if (!addRange(plan, evolution.getMinusSCEV(end, evolution.getOne(end->getType())), 1,
                    nullptr, evolution))
        return std::nullopt;
  }
  if (plan.volatileLoads.empty() && plan.gasChecks.empty() && plan.boundsChecks.empty())
    return std::nullopt; // nothing to gain
  // Without checks to lose, the copy gains vectorization, which needs every
  // value carried around the loop to be an induction or a reduction, or
  // 64-bit addresses for its narrow accesses: one register per step where
  // LSR kept one per 32-bit offset (sha256's message schedule).
  if (plan.gasChecks.empty() && plan.boundsChecks.empty() && plan.narrowAccesses.empty() &&
      !carriesOnlyInductionsAndReductions(loop, evolution))
    return std::nullopt;
  if (!planGas(plan, evolution))
    return std::nullopt;
  llvm::SCEVExpander expander(evolution, loop.getHeader()->getDataLayout(), "version");
  llvm::Instruction *at = loop.getLoopPreheader()->getTerminator();
  if (!expander.isSafeToExpandAt(plan.maxBackedges, at))
    return std::nullopt;
  for (const AccessRange &range : plan.ranges)
    if (!expander.isSafeToExpandAt(range.base, at))
      return std::nullopt;
  return plan;
}

// The test, in `block` before the loop: true when no access can fault and
// no gas check fail. In 128 bits, where nothing here overflows: each range
// is the exact set of offsets the code computes when it lies in
// [0, memory size) (offsets are 64-bit, memory is smaller than 2^63).
llvm::Value *emitTest(const Plan &plan, llvm::BasicBlock &block,
                      llvm::ScalarEvolution &evolution) {
  llvm::Instruction *at = block.getTerminator();
  llvm::IRBuilder<> b(at);
  llvm::SCEVExpander expander(evolution, block.getDataLayout(), "version");
  llvm::Type *wide = b.getInt128Ty();
  llvm::Value *iterations = b.CreateZExt(
      expander.expandCodeFor(plan.maxBackedges, nullptr, at), wide);
  llvm::Value *ok = b.getTrue();
  if (!plan.ranges.empty()) {
    llvm::Function &function = *block.getParent();
    auto *ptr = b.getPtrTy();
    llvm::Value *memory = b.CreateLoad(
        ptr, b.CreateConstInBoundsGEP1_64(b.getInt8Ty(), function.getArg(0),
                                          offsetof(rt::VMContext, memory)));
    llvm::Value *size = b.CreateZExt(
        b.CreateLoad(b.getInt64Ty(), b.CreateConstInBoundsGEP1_64(
                                         b.getInt8Ty(), memory, offsetof(rt::Memory, size))),
        wide);
    for (const AccessRange &range : plan.ranges) {
      llvm::Value *base =
          b.CreateSExt(expander.expandCodeFor(range.base, nullptr, at), wide);
      llvm::Value *travel = b.CreateMul(iterations, llvm::ConstantInt::get(wide, range.step, true));
      // base + [from, to] + step * i, over every i, inside [0, limit]
      auto within = [&](int64_t from, int64_t to, llvm::Value *limit) {
        llvm::Value *low = b.CreateAdd(base, llvm::ConstantInt::get(wide, from, true));
        llvm::Value *high = b.CreateAdd(base, llvm::ConstantInt::get(wide, to, true));
        if (range.step < 0)
          low = b.CreateAdd(low, travel);
        else
          high = b.CreateAdd(high, travel);
        return b.CreateAnd(b.CreateICmpSGE(low, llvm::ConstantInt::get(wide, 0)),
                           b.CreateICmpSLE(high, limit));
      };
      ok = b.CreateAnd(ok, within(range.lowest, range.end, size));
      // narrow: S + c + step * i in [0, 2^32), no 32-bit wrap
      if (range.narrow)
        ok = b.CreateAnd(ok, within(range.narrowLowest, range.narrowHighest,
                                    llvm::ConstantInt::get(wide, (uint64_t(1) << 32) - 1)));
    }
  }
  if (plan.gasOnEntry) {
    llvm::Value *needed = b.CreateAdd(
        b.CreateMul(iterations, llvm::ConstantInt::get(wide, plan.gasPerIteration)),
        llvm::ConstantInt::get(wide, plan.gasNeededInLastIteration));
    ok = b.CreateAnd(ok, b.CreateICmpUGE(b.CreateZExt(plan.gasOnEntry, wide), needed));
  }
  return ok;
}

// The loop's copy, run when the test fails: the loop as it was. Control
// comes back together in the exits, whose phis take the copy's values.
void cloneAsFallback(const Plan &plan, llvm::BasicBlock &testBlock, llvm::Value *test,
                     llvm::DominatorTree &dominators, llvm::LoopInfo &loops) {
  llvm::Loop &loop = *plan.loop;
  llvm::BasicBlock *preheader =
      llvm::SplitBlock(&testBlock, testBlock.getTerminator(), &dominators, &loops, nullptr,
                       loop.getHeader()->getName() + ".fast");
  llvm::ValueToValueMapTy map;
  llvm::SmallVector<llvm::BasicBlock *, 8> blocks;
  llvm::cloneLoopWithPreheader(preheader, &testBlock, &loop, map, ".checked", &loops,
                               &dominators, blocks);
  llvm::remapInstructionsInBlocks(blocks, map);
  llvm::SmallVector<llvm::BasicBlock *, 4> exits;
  loop.getUniqueExitBlocks(exits);
  for (llvm::BasicBlock *exit : exits)
    for (llvm::PHINode &phi : exit->phis())
      for (unsigned i = 0, n = phi.getNumIncomingValues(); i < n; ++i) {
        llvm::BasicBlock *from = phi.getIncomingBlock(i);
        if (!loop.contains(from))
          continue;
        llvm::Value *value = phi.getIncomingValue(i);
        llvm::Value *copy = map.lookup(value);
        phi.addIncoming(copy ? copy : value, llvm::cast<llvm::BasicBlock>(map[from]));
      }
  llvm::Instruction *jump = testBlock.getTerminator();
  llvm::BranchInst::Create(preheader, llvm::cast<llvm::BasicBlock>(map[preheader]), test,
                           jump->getIterator());
  jump->eraseFromParent();
}

// In the loop the test lets run: loads are plain, gas checks gone, and the
// blocks the checks separated are one again.
void makeUnchecked(const Plan &plan, llvm::LoopInfo &loops,
                   llvm::ScalarEvolution &evolution) {
  for (llvm::LoadInst *load : plan.volatileLoads)
    load->setVolatile(false);
  // A narrow address as the 64-bit value it is here: zext(S) + C + step * i,
  // from one induction `step * i` per step and, per (S, C), the invariant
  // zext(S) + C computed before the loop. One pointer per address, for
  // the load and the store of `a[i] += x` (the vectorizer's alias checks
  // tell pointers apart by value).
  llvm::Loop &loop = *plan.loop;
  llvm::BasicBlock *header = loop.getHeader();
  llvm::BasicBlock *latch = loop.getLoopLatch();
  llvm::Instruction *preheaderEnd = loop.getLoopPreheader()->getTerminator();
  llvm::SCEVExpander expander(evolution, header->getDataLayout(), "address");
  llvm::Value *memoryBase = plan.memoryBase;
  if (!memoryBase && !plan.narrowAccesses.empty()) {
    // Explicit checks: the base, loaded once (nothing here can move it).
    llvm::IRBuilder<> b(preheaderEnd);
    llvm::Value *memory = b.CreateLoad(
        b.getPtrTy(), b.CreateConstInBoundsGEP1_64(b.getInt8Ty(), header->getParent()->getArg(0),
                                                   offsetof(rt::VMContext, memory)));
    memoryBase = b.CreateLoad(b.getPtrTy(), memory, "memory.base");
  }
  llvm::DenseMap<int64_t, llvm::PHINode *> travels;
  llvm::SmallDenseMap<std::tuple<const llvm::SCEV *, int64_t, int64_t>, llvm::Value *> pointers;
  for (const NarrowAccess &access : plan.narrowAccesses) {
    const Affine &offset = access.offset;
    llvm::Type *i64 = offset.base->getType();
    llvm::PHINode *&travel = travels[offset.step];
    if (!travel) {
      travel = llvm::PHINode::Create(i64, 2, "travel", header->getFirstNonPHIIt());
      travel->addIncoming(llvm::ConstantInt::get(i64, 0), loop.getLoopPreheader());
      travel->addIncoming(
          llvm::BinaryOperator::CreateAdd(travel, llvm::ConstantInt::get(i64, offset.step, true),
                                          "travel.next", latch->getTerminator()->getIterator()),
          latch);
    }
    llvm::Value *&pointer = pointers[{offset.base, offset.constant, offset.step}];
    if (!pointer) {
      llvm::Value *origin = expander.expandCodeFor(
          evolution.getAddExpr(offset.base, evolution.getConstant(i64, offset.constant, true)),
          i64, preheaderEnd);
      llvm::IRBuilder<> b(&*header->getFirstInsertionPt());
      pointer = b.CreateGEP(b.getInt8Ty(), memoryBase, b.CreateAdd(origin, travel));
    }
    access.inst->setOperand(llvm::isa<llvm::LoadInst>(access.inst)
                                ? llvm::LoadInst::getPointerOperandIndex()
                                : llvm::StoreInst::getPointerOperandIndex(),
                            pointer);
  }
  // Checks that cannot fail here: each branch goes on, its compare dies.
  llvm::SmallVector<llvm::BranchInst *, 16> checks(plan.boundsChecks.begin(),
                                                   plan.boundsChecks.end());
  for (const GasCheck &check : plan.gasChecks)
    checks.push_back(check.branch);
  for (llvm::BranchInst *check : checks) {
    llvm::BasicBlock *block = check->getParent();
    auto *compare = llvm::dyn_cast<llvm::Instruction>(check->getCondition());
    check->getSuccessor(0)->removePredecessor(block);
    llvm::BranchInst::Create(check->getSuccessor(1), check->getIterator());
    check->eraseFromParent();
    if (compare && compare->use_empty())
      compare->eraseFromParent();
  }
  llvm::SmallVector<llvm::BasicBlock *, 8> blocks(plan.loop->blocks());
  for (llvm::BasicBlock *block : blocks)
    if (block != plan.loop->getHeader())
      llvm::MergeBlockIntoPredecessor(block, nullptr, &loops);
}

// Rerolling: the guest's compiler often unrolled a loop already (clang
// interleaves by two for wasm32), and the vectorizer then sees each array
// accessed with a stride of two elements and shuffles every vector in and
// out. A loop whose body is k copies of one computation, where copy j
// computes what copy 0 computes j/k of an iteration later, becomes copy 0
// alone with every induction's step k times smaller. Its memory accesses
// come in the same order (copy j's all after copy j - 1's, checked), so it
// computes exactly the same. Only in the copy the test admits: its gas
// checks are gone (the counter still falls by the same total), and its
// 32-bit addresses do not wrap.
class Reroll {
public:
  Reroll(llvm::Loop &loop, llvm::ScalarEvolution &evolution)
      : loop_(loop), block_(*loop.getHeader()), evolution_(evolution) {}

  bool run() {
    if (loop_.getNumBlocks() != 1 || !findInductions())
      return false;
    llvm::SmallVector<llvm::Instruction *, 8> roots;
    for (llvm::Instruction &inst : block_)
      if (inst.mayWriteToMemory())
        roots.push_back(&inst);
    for (unsigned copies = roots.size(); copies >= 2; --copies)
      if (roots.size() % copies == 0 && matchCopies(roots, copies)) {
        rewrite(copies);
        return true;
      }
    return false;
  }

private:
  // Every phi is an induction `phi + step`. The exit, whatever its test,
  // becomes `counter's next value == its last one`, which the smaller steps
  // reach exactly where the large ones did and never before, since the
  // counter does not wrap (nuw or nsw).
  bool findInductions() {
    auto *branch = llvm::dyn_cast<llvm::BranchInst>(block_.getTerminator());
    if (!branch || !branch->isConditional())
      return false;
    for (llvm::PHINode &phi : block_.phis()) {
      auto *next = llvm::dyn_cast<llvm::BinaryOperator>(phi.getIncomingValueForBlock(&block_));
      if (!next || next->getOpcode() != llvm::Instruction::Add || next->getOperand(0) != &phi ||
          !llvm::isa<llvm::ConstantInt>(next->getOperand(1)))
        return false;
      inductions_.push_back(next);
      if (!counterNext_ && (next->hasNoUnsignedWrap() || next->hasNoSignedWrap()))
        counterNext_ = next;
    }
    const llvm::SCEV *backedges = evolution_.getExitCount(&loop_, &block_);
    auto *counter = counterNext_ ? llvm::dyn_cast<llvm::SCEVAddRecExpr>(
                                       evolution_.getSCEV(counterNext_))
                                 : nullptr;
    if (!counter || llvm::isa<llvm::SCEVCouldNotCompute>(backedges))
      return false;
    counterLast_ = counter->evaluateAtIteration(backedges, evolution_);
    llvm::SCEVExpander expander(evolution_, block_.getDataLayout(), "reroll");
    llvm::Instruction *preheaderEnd = loop_.getLoopPreheader()->getTerminator();
    if (!expander.isSafeToExpandAt(counterLast_, preheaderEnd))
      return false;
    // Each induction's values after the loop, for its uses there.
    for (llvm::BinaryOperator *next : inductions_)
      for (llvm::Value *value : {next->getOperand(0), static_cast<llvm::Value *>(next)}) {
        auto *recurrence = llvm::dyn_cast<llvm::SCEVAddRecExpr>(evolution_.getSCEV(value));
        if (!recurrence || recurrence->getLoop() != &loop_)
          return false;
        const llvm::SCEV *last = recurrence->evaluateAtIteration(backedges, evolution_);
        if (!expander.isSafeToExpandAt(last, preheaderEnd))
          return false;
        lastValues_.push_back({value, last});
      }
    // What only the exit's test uses goes with it.
    auto *test = llvm::dyn_cast<llvm::Instruction>(branch->getCondition());
    if (!test || !loop_.contains(test))
      return false;
    exitTest_.insert(test);
    for (llvm::Instruction &inst : llvm::reverse(block_))
      if (!inst.isTerminator() && !llvm::isa<llvm::PHINode>(inst) && !inst.use_empty() &&
          !inst.mayReadOrWriteMemory() && llvm::all_of(inst.users(), [&](llvm::User *user) {
            return exitTest_.count(llvm::cast<llvm::Instruction>(user));
          }))
        exitTest_.insert(&inst);
    return true;
  }

  bool isInduction(const llvm::Value *value) const {
    return llvm::isa<llvm::PHINode>(value) || llvm::is_contained(inductions_, value);
  }

  // `value` as base + constant + step * iteration, modulo 2^64.
  std::optional<Affine> affine(llvm::Value *value) {
    if (!value->getType()->isIntegerTy(64))
      return std::nullopt;
    std::optional<Affine> view = affineIn(evolution_.getSCEV(value), loop_, evolution_);
    return view && !view->narrow ? view : std::nullopt;
  }

  // Whether copy `copy`'s `value` computes what copy 0's `zero` computes
  // `copy` small steps later.
  bool match(llvm::Value *value, llvm::Value *zero, unsigned copy, unsigned copies) {
    auto *inst = llvm::dyn_cast<llvm::Instruction>(value);
    auto *zeroInst = llvm::dyn_cast<llvm::Instruction>(zero);
    bool inLoop = inst && loop_.contains(inst);
    if (value == zero)
      return !inLoop; // a loop value both copies use is not shifted
    if (!inLoop || !zeroInst || !loop_.contains(zeroInst) || isInduction(inst))
      return false;
    if (auto known = copyOf_.find(inst); known != copyOf_.end())
      return known->second.first == zeroInst && known->second.second == copy;
    // A value that follows the iteration: copy 0's becomes an induction of
    // its own with the smaller step.
    if (std::optional<Affine> zeroView = affine(zeroInst);
        zeroView && zeroView->step != 0 && zeroView->step % copies == 0)
      if (std::optional<Affine> view = affine(inst)) {
        std::optional<int64_t> shift = constantDifference(view->base, zeroView->base, evolution_);
        if (shift && view->step == zeroView->step &&
            *shift + view->constant - zeroView->constant == zeroView->step / copies * copy) {
          copyOf_[inst] = {zeroInst, copy};
          leaves_.insert({zeroInst, *zeroView});
          return true;
        }
      }
    if (isInduction(zeroInst) || !inst->isSameOperationAs(zeroInst) ||
        llvm::isa<llvm::PHINode>(inst))
      return false;
    if (auto *load = llvm::dyn_cast<llvm::LoadInst>(inst); load && !load->isSimple())
      return false;
    copyOf_[inst] = {zeroInst, copy};
    for (unsigned i = 0; i < inst->getNumOperands(); ++i)
      if (!match(inst->getOperand(i), zeroInst->getOperand(i), copy, copies))
        return false;
    return true;
  }

  bool matchCopies(llvm::ArrayRef<llvm::Instruction *> roots, unsigned copies) {
    copyOf_.clear();
    leaves_.clear();
    unsigned perCopy = roots.size() / copies;
    for (unsigned copy = 1; copy < copies; ++copy)
      for (unsigned i = 0; i < perCopy; ++i)
        if (!match(roots[copy * perCopy + i], roots[i], copy, copies))
          return false;
    // Memory is touched copy after copy; a later copy's values are its own;
    // nothing but the inductions is used after the loop (its last value
    // would be another copy's).
    unsigned lastCopy = 0;
    for (llvm::Instruction &inst : block_) {
      if (exitTest_.count(&inst) || inst.isTerminator() || isInduction(&inst))
        continue;
      if (llvm::any_of(inst.users(), [&](llvm::User *user) {
            return !loop_.contains(llvm::cast<llvm::Instruction>(user));
          }))
        return false;
      auto known = copyOf_.find(&inst);
      unsigned copy = known == copyOf_.end() ? 0 : known->second.second;
      if (copy != 0 && leaves_.count(&inst))
        return false; // both a later copy's and copy 0's
      if (inst.mayReadOrWriteMemory()) {
        if (copy < lastCopy)
          return false;
        lastCopy = copy;
      }
      if (copy == 0)
        continue;
      for (llvm::User *user : inst.users()) {
        auto found = copyOf_.find(llvm::cast<llvm::Instruction>(user));
        if (found == copyOf_.end() || found->second.second != copy)
          return false;
      }
    }
    // In the loop an induction's next value feeds its phi, the exit or a
    // later copy (which goes). One that copy 0 uses, and the counter, stay
    // with a step k times smaller; the others (the gas counter, with its
    // checks gone) only matter after the loop, and go.
    for (llvm::BinaryOperator *next : inductions_) {
      bool used = next == counterNext_;
      for (llvm::Value *value : {next->getOperand(0), static_cast<llvm::Value *>(next)})
        for (llvm::User *user : value->users()) {
          auto *inst = llvm::cast<llvm::Instruction>(user);
          if (!loop_.contains(inst) || inst == next || inst == next->getOperand(0) ||
              copyOf_.count(inst) || exitTest_.count(inst))
            continue;
          if (value == next)
            return false;
          used = true;
        }
      int64_t step = llvm::cast<llvm::ConstantInt>(next->getOperand(1))->getSExtValue();
      if (used && step % copies != 0)
        return false;
    }
    return true;
  }

  void rewrite(unsigned copies) {
    llvm::SCEVExpander expander(evolution_, block_.getDataLayout(), "reroll");
    llvm::BasicBlock *preheader = loop_.getLoopPreheader();
    // Copy 0's values that follow the iteration become inductions of their
    // own, right at the steps in between too (the instructions that
    // computed them need not be: `or disjoint` of an aligned counter).
    for (auto [leaf, view] : leaves_) {
      const llvm::SCEV *first = evolution_.getAddExpr(
          view.base, evolution_.getConstant(leaf->getType(), view.constant, true));
      llvm::Value *start = expander.expandCodeFor(first, leaf->getType(),
                                                  preheader->getTerminator());
      llvm::PHINode *phi = llvm::PHINode::Create(leaf->getType(), 2, leaf->getName() + ".reroll",
                                                 block_.getFirstNonPHIIt());
      auto *next = llvm::BinaryOperator::CreateAdd(
          phi, llvm::ConstantInt::get(leaf->getType(), view.step / copies, true),
          leaf->getName() + ".reroll.next", block_.getTerminator()->getIterator());
      phi->addIncoming(start, preheader);
      phi->addIncoming(next, &block_);
      leaf->replaceUsesWithIf(phi, [&](llvm::Use &use) {
        auto *user = llvm::cast<llvm::Instruction>(use.getUser());
        return !isInduction(user) && !exitTest_.count(user) && !copyOf_.count(user);
      });
    }
    llvm::SmallVector<llvm::Instruction *, 32> later;
    for (llvm::Instruction &inst : block_)
      if (copyOf_.count(&inst))
        later.push_back(&inst);
    for (llvm::Instruction *inst : llvm::reverse(later)) {
      inst->replaceAllUsesWith(llvm::PoisonValue::get(inst->getType()));
      inst->eraseFromParent();
    }
    for (llvm::Instruction &inst : block_)
      if (!isInduction(&inst))
        inst.dropPoisonGeneratingFlags(); // copy 0 now sees the steps in between
    // After the loop, the inductions' values as they were.
    for (auto [value, last] : lastValues_) {
      llvm::Value *expanded = nullptr;
      for (llvm::Use &use : llvm::make_early_inc_range(value->uses())) {
        if (loop_.contains(llvm::cast<llvm::Instruction>(use.getUser())))
          continue;
        if (!expanded)
          expanded = expander.expandCodeFor(last, value->getType(), preheader->getTerminator());
        use.set(expanded);
      }
    }
    for (llvm::BinaryOperator *next : inductions_) {
      auto *step = llvm::cast<llvm::ConstantInt>(next->getOperand(1));
      if (step->getSExtValue() % int64_t(copies) != 0)
        continue; // unused now: deleteDeadCode
      next->setOperand(1, llvm::ConstantInt::get(step->getType(),
                                                 step->getSExtValue() / int64_t(copies), true));
    }
    auto *branch = llvm::cast<llvm::BranchInst>(block_.getTerminator());
    llvm::Value *last = expander.expandCodeFor(counterLast_, counterNext_->getType(),
                                               preheader->getTerminator());
    branch->setCondition(new llvm::ICmpInst(
        branch->getIterator(),
        loop_.contains(branch->getSuccessor(0)) ? llvm::ICmpInst::ICMP_NE
                                                : llvm::ICmpInst::ICMP_EQ,
        counterNext_, last, "reroll.exit"));
    for (llvm::Instruction &inst : llvm::make_early_inc_range(llvm::reverse(block_)))
      if (exitTest_.count(&inst) && inst.use_empty())
        inst.eraseFromParent();
    evolution_.forgetLoop(&loop_);
  }

  llvm::Loop &loop_;
  llvm::BasicBlock &block_;
  llvm::ScalarEvolution &evolution_;
  llvm::BinaryOperator *counterNext_ = nullptr;
  const llvm::SCEV *counterLast_ = nullptr; // counterNext_'s value at the exit
  llvm::SmallPtrSet<llvm::Instruction *, 4> exitTest_;
  // Each induction's phi and next value, and what they are after the loop.
  llvm::SmallVector<std::pair<llvm::Value *, const llvm::SCEV *>, 8> lastValues_;
  llvm::SmallVector<llvm::BinaryOperator *, 4> inductions_;
  // A later copy's instruction: copy 0's and the copy's number.
  llvm::DenseMap<llvm::Instruction *, std::pair<llvm::Instruction *, unsigned>> copyOf_;
  // Copy 0's values that follow the iteration.
  llvm::MapVector<llvm::Instruction *, Affine> leaves_;
};

// What the rewrites left unused (the old address computations, the
// inductions that fed them), which the vectorizer would otherwise see.
void deleteDeadCode(llvm::Loop &loop) {
  for (llvm::BasicBlock *block : loop.blocks()) {
    // Backwards, so that an instruction's operands come after it.
    for (llvm::Instruction &inst : llvm::make_early_inc_range(llvm::reverse(*block)))
      if (llvm::isInstructionTriviallyDead(&inst))
        inst.eraseFromParent();
    llvm::SmallVector<llvm::WeakTrackingVH, 8> phis;
    for (llvm::PHINode &phi : block->phis())
      phis.push_back(&phi);
    for (llvm::WeakTrackingVH &phi : phis)
      if (phi)
        llvm::RecursivelyDeleteDeadPHINode(llvm::cast<llvm::PHINode>(phi));
  }
}

} // namespace

bool versionLoopsForVectorization(llvm::Function &function, llvm::DominatorTree &dominators,
                                  llvm::LoopInfo &loops, llvm::ScalarEvolution &evolution,
                                  const llvm::MDNode *guestTag) {
  if (!guestTag || function.arg_empty())
    return false;
  bool changed = false;
  for (llvm::Loop *loop : loops.getLoopsInPreorder()) {
    if (!loop->isInnermost())
      continue;
    // A loop entered straight from a branch (a function's first loop, after
    // the stack check) has no preheader, where the test goes: it gets one.
    if (!loop->getLoopPreheader()) {
      if (!llvm::InsertPreheaderForLoop(loop, &dominators, &loops, nullptr, false))
        continue;
      changed = true;
    }
    std::optional<Plan> plan = planLoop(*loop, evolution, guestTag);
    if (!plan)
      continue;
    // The exits' phis carry the loop's values out: the copy adds its own.
    llvm::formLCSSA(*loop, dominators, &loops, &evolution);
    llvm::BasicBlock &testBlock = *loop->getLoopPreheader();
    llvm::Value *test = emitTest(*plan, testBlock, evolution);
    cloneAsFallback(*plan, testBlock, test, dominators, loops);
    makeUnchecked(*plan, loops, evolution);
    // The blocks changed: what SCEV and the dominator tree knew of them goes.
    dominators.recalculate(function);
    evolution.forgetAllLoops();
    Reroll(*loop, evolution).run();
    deleteDeadCode(*loop);
    evolution.forgetAllLoops();
    changed = true;
  }
  return changed;
}

} // namespace nomos::compiler
