// Drops the NaN canonicalizations whose result nobody can observe.
//
// The lowering wraps every scalar float arithmetic result r in
// select(r is NaN, canonical NaN, r), tagged kCanonicalNaNTag. The payload of
// a NaN is only visible through its bits: a store, a reinterpret, a sign-bit
// operation (neg, abs, copysign keep the payload), a call argument, a return
// value. Arithmetic and comparisons do not see it (any NaN in gives some NaN
// out, which its own canonicalization handles; a comparison is false). So a
// canonicalization whose value reaches, through phis and selects, only such
// operations is dropped. Locals are SSA values by then (promoteLocals in
// codegen.cpp), so a value reaches exactly the reads of the local it was
// written to, however many values the guest's compiler kept in that local.
//
// The pass runs on the lowered IR before any optimization, at every
// optimization level, so the same canonicalizations stay at -O0 and -O3; and
// it keeps one wherever a use is not known to be blind to the payload.
// After optimization, branchAroundNaNCanonicalization turns the scalar ones
// left into branches (the same values, off the data path).
#include "lowering.h"

#include <llvm/ADT/SmallPtrSet.h>
#include <llvm/IR/InstIterator.h>
#include <llvm/IR/Instructions.h>
#include <llvm/IR/IntrinsicInst.h>
#include <llvm/IR/MDBuilder.h>
#include <llvm/Transforms/Utils/BasicBlockUtils.h>

namespace nomos::compiler {

namespace {

constexpr const char *kCanonicalNaNTag = "nomos.canonical_nan";

bool isCanonicalization(const llvm::Instruction *inst) {
  return llvm::isa<llvm::SelectInst>(inst) &&
         inst->getMetadata(kCanonicalNaNTag) != nullptr;
}

// `value` only feeds its own canonicalization: the select and the NaN test.
bool onlyFeedsItsCanonicalization(const llvm::Instruction *value) {
  for (const llvm::User *user : value->users()) {
    auto *inst = llvm::cast<llvm::Instruction>(user);
    if (isCanonicalization(inst) &&
        llvm::cast<llvm::SelectInst>(inst)->getFalseValue() == value)
      continue;
    auto *compare = llvm::dyn_cast<llvm::FCmpInst>(inst);
    if (compare && compare->getPredicate() == llvm::CmpInst::FCMP_UNO &&
        llvm::all_of(compare->users(), [](const llvm::User *u) {
          return isCanonicalization(llvm::cast<llvm::Instruction>(u));
        }))
      continue;
    return false;
  }
  return true;
}

// Operations whose float result is NaN exactly when an input is NaN, and
// whose payload the lowering canonicalizes itself.
bool isArithmetic(const llvm::Instruction *inst) {
  switch (inst->getOpcode()) {
  case llvm::Instruction::FAdd:
  case llvm::Instruction::FSub:
  case llvm::Instruction::FMul:
  case llvm::Instruction::FDiv:
  case llvm::Instruction::FPExt:
  case llvm::Instruction::FPTrunc:
    return true;
  default:
    break;
  }
  auto *call = llvm::dyn_cast<llvm::IntrinsicInst>(inst);
  if (!call)
    return false;
  switch (call->getIntrinsicID()) {
  case llvm::Intrinsic::sqrt:
  case llvm::Intrinsic::ceil:
  case llvm::Intrinsic::floor:
  case llvm::Intrinsic::trunc:
  case llvm::Intrinsic::roundeven:
  case llvm::Intrinsic::minimum:
  case llvm::Intrinsic::maximum:
    return true;
  default:
    return false;
  }
}

// Operations whose (non-float) result does not depend on a NaN's payload.
bool ignoresPayload(const llvm::Instruction *inst) {
  if (llvm::isa<llvm::FCmpInst>(inst) || llvm::isa<llvm::FPToSIInst>(inst) ||
      llvm::isa<llvm::FPToUIInst>(inst))
    return true;
  auto *call = llvm::dyn_cast<llvm::IntrinsicInst>(inst);
  return call && (call->getIntrinsicID() == llvm::Intrinsic::fptosi_sat ||
                  call->getIntrinsicID() == llvm::Intrinsic::fptoui_sat);
}

// Whether the bits of `canonical`'s value can reach something that sees a
// NaN payload. Phis and selects pass the value on unchanged, so their own
// uses are followed. A store, even to an alloca, counts as seen.
bool isObserved(llvm::Instruction *canonical) {
  llvm::SmallVector<llvm::Value *, 16> work{canonical};
  llvm::SmallPtrSet<llvm::Value *, 16> seen{canonical};
  auto follow = [&](llvm::Value *value) {
    if (seen.insert(value).second)
      work.push_back(value);
  };
  while (!work.empty()) {
    llvm::Value *value = work.pop_back_val();
    for (llvm::Use &use : value->uses()) {
      auto *user = llvm::cast<llvm::Instruction>(use.getUser());
      if (ignoresPayload(user))
        continue;
      if (isArithmetic(user) && onlyFeedsItsCanonicalization(user))
        continue;
      if (llvm::isa<llvm::PHINode>(user)) {
        follow(user);
        continue;
      }
      auto *select = llvm::dyn_cast<llvm::SelectInst>(user);
      if (select && use.getOperandNo() != 0) {
        follow(user);
        continue;
      }
      return true; // a store, reinterpret, sign-bit op, call, return...
    }
  }
  return false;
}

void removeCanonicalization(llvm::SelectInst *canonical) {
  llvm::Value *value = canonical->getFalseValue();
  auto *test = llvm::dyn_cast<llvm::Instruction>(canonical->getCondition());
  canonical->replaceAllUsesWith(value);
  canonical->eraseFromParent();
  if (test && test->use_empty())
    test->eraseFromParent();
}

} // namespace

llvm::Value *markNaNCanonicalization(llvm::Value *select) {
  if (auto *inst = llvm::dyn_cast<llvm::SelectInst>(select))
    inst->setMetadata(kCanonicalNaNTag,
                      llvm::MDNode::get(inst->getContext(), {}));
  return select;
}

void removeUnobservedNaNCanonicalization(llvm::Function &function) {
  // Decide for all first: each decision reads the IR as lowered.
  llvm::SmallVector<llvm::SelectInst *, 64> unobserved;
  for (llvm::Instruction &inst : llvm::instructions(function))
    if (isCanonicalization(&inst) && !isObserved(&inst))
      unobserved.push_back(llvm::cast<llvm::SelectInst>(&inst));
  for (llvm::SelectInst *canonical : unobserved)
    removeCanonicalization(canonical);
}

// select(r is NaN, canonical, r) puts the NaN test on r's data path: a
// value stored and loaded again in the next iteration (nbody's velocities)
// waits for the compare and the blend every time. A branch that is almost
// never taken is predicted instead, so r flows straight on. Runs after the
// optimizer (which would fold the branch back into a select).
bool branchAroundNaNCanonicalization(llvm::Function &function) {
  llvm::SmallVector<llvm::SelectInst *, 32> canonicalizations;
  for (llvm::Instruction &inst : llvm::instructions(function))
    if (isCanonicalization(&inst) && inst.getType()->isFloatingPointTy() &&
        llvm::isa<llvm::ConstantFP>(llvm::cast<llvm::SelectInst>(inst).getTrueValue()))
      canonicalizations.push_back(llvm::cast<llvm::SelectInst>(&inst));
  if (canonicalizations.empty())
    return false;
  llvm::MDNode *rare =
      llvm::MDBuilder(function.getContext()).createUnlikelyBranchWeights();
  for (llvm::SelectInst *select : canonicalizations) {
    llvm::BasicBlock *head = select->getParent();
    llvm::Instruction *toCanonical =
        llvm::SplitBlockAndInsertIfThen(select->getCondition(), select, false, rare);
    auto *phi = llvm::PHINode::Create(select->getType(), 2, "",
                                      select->getParent()->begin());
    phi->addIncoming(select->getFalseValue(), head);
    phi->addIncoming(select->getTrueValue(), toCanonical->getParent());
    phi->takeName(select);
    select->replaceAllUsesWith(phi);
    select->eraseFromParent();
  }
  return true;
}

} // namespace nomos::compiler
