// The gas counter after optimization, before code generation.
//
// The lowering charges a chain: each block's counter is the one before it
// minus the block's cost. InstCombine folds the chain back to the value it
// started from (g - 9, g - 11, g - 19 for a body's counter argument g;
// g - 47, g - 94 for a loop's counter phi), and code generation then paid
// for that on every call and iteration (docs/metering.md, "What is left"):
// - g stays live beside the charges taken from it: register copies;
// - LoopStrengthReduce takes a loop's counter for an induction variable and
//   rewrites it into several registers, each updated every iteration.
// So, after the optimizer (which would fold them again):
// - each charge is taken from the charge before it again, so that the
//   counter is updated in place;
// - a loop's counter passes its back edge through an empty inline asm,
//   which SCEV cannot see through, so LSR leaves it alone (the asm emits
//   no instruction);
// - a charge moves up beside its check, where CodeGenPrepare fuses the two
//   into one `sub` whose borrow the branch tests.
// No value changes: only which value each charge is computed from.
#include "lowering.h"

#include <nomos/abi.h>
#include <nomos/compiler/runtime_abi.h>

#include <llvm/ADT/SetVector.h>
#include <llvm/Analysis/CFG.h>
#include <llvm/Analysis/LoopInfo.h>
#include <llvm/IR/Dominators.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/InlineAsm.h>
#include <llvm/IR/Instructions.h>

namespace nomos::compiler {

namespace {

using Check = GasCheck;

llvm::SmallVector<Check, 32> gasChecks(llvm::Function &function) {
  llvm::SmallVector<Check, 32> checks;
  for (llvm::BasicBlock &block : function)
    if (std::optional<Check> check = gasCheckAt(block))
      checks.push_back(*check);
  return checks;
}

// `value` as `counter - spent`, with spent > 0.
std::optional<uint64_t> spentFrom(const llvm::Value *value, const llvm::Value *counter) {
  auto *add = llvm::dyn_cast<llvm::BinaryOperator>(value);
  if (!add || add->getOpcode() != llvm::Instruction::Add || add->getOperand(0) != counter)
    return std::nullopt;
  auto *delta = llvm::dyn_cast<llvm::ConstantInt>(add->getOperand(1));
  if (!delta || delta->getSExtValue() >= 0)
    return std::nullopt;
  return static_cast<uint64_t>(-delta->getSExtValue());
}

// Each charge `g - spent` is taken from the charge before it that dominates
// it (the largest spent not above its own), so that g dies at its first
// charge instead of living on beside the ones after it.
void rechain(llvm::Value *counter, llvm::DominatorTree &dominators) {
  llvm::SmallVector<std::pair<llvm::Instruction *, uint64_t>, 8> charges;
  for (llvm::User *user : counter->users())
    if (std::optional<uint64_t> spent = spentFrom(user, counter))
      charges.push_back({llvm::cast<llvm::Instruction>(user), *spent});
  llvm::SmallVector<std::tuple<llvm::Instruction *, llvm::Instruction *, uint64_t>, 8>
      rewrites;
  for (auto [charge, spent] : charges) {
    llvm::Instruction *from = nullptr;
    uint64_t fromSpent = 0;
    for (auto [before, beforeSpent] : charges)
      if (before != charge && beforeSpent <= spent && beforeSpent > fromSpent &&
          dominators.dominates(before, charge)) {
        from = before;
        fromSpent = beforeSpent;
      }
    if (from)
      rewrites.push_back({charge, from, spent - fromSpent});
  }
  // Each rewrite keeps its value, so the choices above stay valid.
  for (auto [charge, from, rest] : rewrites) {
    charge->setOperand(0, from);
    charge->setOperand(1, llvm::ConstantInt::get(charge->getType(),
                                                 -static_cast<int64_t>(rest), true));
    charge->dropPoisonGeneratingFlags();
  }
}

// The value of `counter` coming around each back edge of `loop` goes
// through an empty asm (same register in and out), and the uses after it
// (after the loop) take the asm's result, so that the two never live side
// by side (a register copy on every iteration).
void hideBackEdges(llvm::PHINode &counter, const llvm::Loop &loop,
                   llvm::DominatorTree &dominators) {
  auto *type = llvm::FunctionType::get(counter.getType(), {counter.getType()}, false);
  auto *identity = llvm::InlineAsm::get(type, "", "=r,0", /*hasSideEffects=*/false);
  for (unsigned i = 0; i < counter.getNumIncomingValues(); ++i) {
    llvm::BasicBlock *from = counter.getIncomingBlock(i);
    if (!loop.contains(from))
      continue;
    llvm::Value *next = counter.getIncomingValue(i);
    llvm::IRBuilder<> builder(from->getTerminator());
    llvm::CallInst *hidden = builder.CreateCall(identity, {next}, "gas.next");
    next->replaceUsesWithIf(hidden, [&](llvm::Use &use) {
      return use.getUser() != hidden && dominators.dominates(hidden, use);
    });
    counter.setIncomingValue(i, hidden);
  }
}

// A charge `counter - cost` in the block a check `counter < cost` continues
// to moves up beside the check: CodeGenPrepare fuses the two into one `sub`
// whose borrow the branch tests, but only within one block. Only where the
// counter dies at the charge (no other use after the check), or the fused
// `sub` would need a copy of it first.
void moveChargesToTheirChecks(llvm::ArrayRef<Check> checks,
                              llvm::DominatorTree &dominators, llvm::LoopInfo &loops) {
  for (const Check &check : checks) {
    llvm::BasicBlock *from = check.branch->getParent();
    llvm::BasicBlock *cont = check.branch->getSuccessor(1);
    if (cont->getSinglePredecessor() != from || !check.compare->hasOneUse())
      continue;
    llvm::Instruction *charge = nullptr;
    bool usedLater = false;
    for (llvm::Use &use : check.counter->uses()) {
      auto *inst = llvm::cast<llvm::Instruction>(use.getUser());
      if (inst == check.compare)
        continue;
      if (!charge && inst->getParent() == cont &&
          spentFrom(inst, check.counter) == check.cost) {
        charge = inst;
        continue;
      }
      // A phi uses its value at the end of the block it comes from.
      auto *phi = llvm::dyn_cast<llvm::PHINode>(inst);
      llvm::BasicBlock *where = phi ? phi->getIncomingBlock(use) : inst->getParent();
      usedLater |= llvm::isPotentiallyReachable(from, where, nullptr, &dominators, &loops);
    }
    if (charge && !usedLater)
      charge->moveBefore(check.branch);
  }
}

// What a check's counter is taken from: the counter itself, or the value
// it charges (`g` of `g - spent`).
llvm::Value *counterRoot(llvm::Value *counter) {
  auto *charge = llvm::dyn_cast<llvm::BinaryOperator>(counter);
  return charge && spentFrom(charge, charge->getOperand(0)) ? charge->getOperand(0)
                                                            : counter;
}

} // namespace

std::optional<uint64_t> trapKind(const llvm::BasicBlock &block) {
  for (const llvm::Instruction &inst : block) {
    auto *call = llvm::dyn_cast<llvm::CallInst>(&inst);
    if (!call || !call->getCalledFunction() ||
        call->getCalledFunction()->getName() != rt::kTrapFunction ||
        call->arg_size() != 2)
      continue;
    auto *kind = llvm::dyn_cast<llvm::ConstantInt>(call->getArgOperand(1));
    return kind ? std::optional(kind->getZExtValue()) : std::nullopt;
  }
  return std::nullopt;
}

bool isOutOfGasTrap(const llvm::BasicBlock &block) {
  return trapKind(block) == NOMOS_TRAP_OUT_OF_GAS;
}

std::optional<GasCheck> gasCheckAt(llvm::BasicBlock &block) {
  auto *branch = llvm::dyn_cast<llvm::BranchInst>(block.getTerminator());
  if (!branch || !branch->isConditional() || !isOutOfGasTrap(*branch->getSuccessor(0)))
    return std::nullopt;
  auto *compare = llvm::dyn_cast<llvm::ICmpInst>(branch->getCondition());
  auto *cost = compare && compare->getPredicate() == llvm::ICmpInst::ICMP_ULT
                   ? llvm::dyn_cast<llvm::ConstantInt>(compare->getOperand(1))
                   : nullptr;
  if (!cost || !compare->getOperand(0)->getType()->isIntegerTy(64))
    return std::nullopt;
  return GasCheck{compare, branch, compare->getOperand(0), cost->getZExtValue()};
}

bool tidyGasCounter(llvm::Function &function, llvm::DominatorTree &dominators,
                    llvm::LoopInfo &loops) {
  auto checks = gasChecks(function);
  if (checks.empty())
    return false;
  llvm::SmallSetVector<llvm::Value *, 8> roots;
  for (const Check &check : checks)
    roots.insert(counterRoot(check.counter));
  for (llvm::Value *root : roots) {
    auto *phi = llvm::dyn_cast<llvm::PHINode>(root);
    llvm::Loop *loop = phi ? loops.getLoopFor(phi->getParent()) : nullptr;
    bool loopCounter = loop && loop->getHeader() == phi->getParent();
    if (!loopCounter && !llvm::isa<llvm::Argument>(root) &&
        !llvm::isa<llvm::ExtractValueInst>(root))
      continue; // only a loop's counter, a body's, or one a call gave back
    rechain(root, dominators);
    if (loopCounter)
      hideBackEdges(*phi, *loop, dominators);
  }
  // The checks again: some now test a loop's counter or a hidden one.
  moveChargesToTheirChecks(gasChecks(function), dominators, loops);
  return true;
}

} // namespace nomos::compiler
