// Optimization with the new pass manager and native code generation.
#include "lowering.h"

#include <nomos/metering/gas_injection.h>

#include <llvm/Analysis/LoopInfo.h>
#include <llvm/Analysis/ScalarEvolution.h>
#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/IR/Dominators.h>
#include <llvm/IR/IntrinsicInst.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/Transforms/Utils/LoopUtils.h>
#include <llvm/Transforms/Utils/PromoteMemToReg.h>

#include <array>
#include <mutex>
#include <vector>

namespace nomos::compiler {

void initializeNativeTarget() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
}

namespace {

Expected<std::unique_ptr<llvm::TargetMachine>>
createTargetMachine(const CompileOptions &options) {
  initializeNativeTarget();
  auto builder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!builder)
    return makeError(ErrorKind::CompileError,
                     "cannot detect the host target: " +
                         llvm::toString(builder.takeError()));
  builder->setCodeGenOptLevel(options.optLevel == 0
                                  ? llvm::CodeGenOptLevel::None
                                  : llvm::CodeGenOptLevel::Default);
  builder->setRelocationModel(llvm::Reloc::PIC_);
  // Small code model: a module's code and data are linked together by
  // JITLink, so calls between its functions are direct and PC-relative
  // (the large model calls through a register); runtime functions are
  // reached through the GOT JITLink builds.
  builder->setCodeModel(llvm::CodeModel::Small);
  auto machine = builder->createTargetMachine();
  if (!machine)
    return makeError(ErrorKind::CompileError,
                     "cannot create a target machine: " +
                         llvm::toString(machine.takeError()));
  return std::move(*machine);
}

// Making a TargetMachine (host detection, subtarget and lowering tables)
// costs about as much as compiling a small module, so idle machines are kept
// for the next compile. A TargetMachine is not thread-safe: each is lent to
// one compile at a time. Machines are bucketed by what configures them (the
// code generation level), so a reused one is exactly a new one.
class MachinePool {
public:
  static MachinePool &instance() {
    static MachinePool *pool = new MachinePool(); // outlives every compile
    return *pool;
  }

  Expected<std::unique_ptr<llvm::TargetMachine>>
  take(const CompileOptions &options) {
    {
      std::lock_guard lock(mutex_);
      auto &idle = idle_[bucket(options)];
      if (!idle.empty()) {
        auto machine = std::move(idle.back());
        idle.pop_back();
        return machine;
      }
    }
    return createTargetMachine(options);
  }

  void give(const CompileOptions &options,
            std::unique_ptr<llvm::TargetMachine> machine) {
    std::lock_guard lock(mutex_);
    auto &idle = idle_[bucket(options)];
    if (idle.size() < kMaxIdle)
      idle.push_back(std::move(machine));
  }

private:
  static constexpr size_t kMaxIdle = 4;
  static size_t bucket(const CompileOptions &options) {
    return options.optLevel == 0 ? 0 : 1;
  }

  std::mutex mutex_;
  std::array<std::vector<std::unique_ptr<llvm::TargetMachine>>, 2> idle_;
};

// A machine from the pool, given back when the compile ends.
class LentMachine {
public:
  static Expected<LentMachine> take(const CompileOptions &options) {
    auto machine = MachinePool::instance().take(options);
    if (!machine)
      return tl::unexpected(machine.error());
    return LentMachine(options, std::move(*machine));
  }
  LentMachine(LentMachine &&) = default;
  ~LentMachine() {
    if (machine_)
      MachinePool::instance().give(options_, std::move(machine_));
  }
  llvm::TargetMachine &operator*() const { return *machine_; }
  llvm::TargetMachine *operator->() const { return machine_.get(); }

private:
  LentMachine(const CompileOptions &options,
              std::unique_ptr<llvm::TargetMachine> machine)
      : options_(options), machine_(std::move(machine)) {}
  CompileOptions options_;
  std::unique_ptr<llvm::TargetMachine> machine_;
};

llvm::OptimizationLevel optimizationLevel(unsigned level) {
  switch (level) {
  case 0: return llvm::OptimizationLevel::O0;
  case 1: return llvm::OptimizationLevel::O1;
  case 3: return llvm::OptimizationLevel::O3;
  default: return llvm::OptimizationLevel::O2;
  }
}

// Calls other than intrinsics (a trap's call is outside the loop).
bool makesCalls(const llvm::Loop &loop) {
  for (const llvm::BasicBlock *block : loop.blocks())
    for (const llvm::Instruction &inst : *block)
      if (auto *call = llvm::dyn_cast<llvm::CallBase>(&inst);
          call && !llvm::isa<llvm::IntrinsicInst>(call) && !call->isInlineAsm())
        return true;
  return false;
}

// Whether every way out of `loop` other than a trap is counted: SCEV knows
// after how many iterations it is taken (a search that stops at a value it
// loads is not).
bool exitsAreCounted(llvm::Loop &loop, llvm::ScalarEvolution &evolution) {
  llvm::SmallVector<llvm::BasicBlock *, 4> exiting;
  loop.getExitingBlocks(exiting);
  for (llvm::BasicBlock *block : exiting) {
    bool toTrapOnly = llvm::all_of(llvm::successors(block), [&](llvm::BasicBlock *next) {
      return loop.contains(next) || llvm::isa<llvm::UnreachableInst>(next->getTerminator());
    });
    if (!toTrapOnly &&
        llvm::isa<llvm::SCEVCouldNotCompute>(evolution.getExitCount(&loop, block)))
      return false;
  }
  return true;
}

// Innermost counted loops without calls start on a 32-byte boundary (x86
// aligns loops to 16): a small hot loop that straddles a 32- or 64-byte line
// ran a third slower here, so a kernel's speed depended on where the code
// before it happened to end (sieve; BENCHMARKS.md). The padding runs each
// time the loop is entered, so loops that call keep the default (it cost fib
// more than it gained), and so do loops that stop at a value they load
// (quicksort's partition scans: a few iterations per entry).
// Last in the pipeline, so no later pass drops it.
struct AlignInnerLoopsPass : llvm::PassInfoMixin<AlignInnerLoopsPass> {
  llvm::PreservedAnalyses run(llvm::Function &function,
                              llvm::FunctionAnalysisManager &analyses) {
    llvm::LLVMContext &ctx = function.getContext();
    llvm::Metadata *align[] = {
        llvm::MDString::get(ctx, "llvm.loop.align"),
        llvm::ConstantAsMetadata::get(
            llvm::ConstantInt::get(llvm::Type::getInt32Ty(ctx), 32))};
    llvm::MDNode *alignment = llvm::MDNode::get(ctx, align);
    auto &evolution = analyses.getResult<llvm::ScalarEvolutionAnalysis>(function);
    for (llvm::Loop *loop :
         analyses.getResult<llvm::LoopAnalysis>(function).getLoopsInPreorder()) {
      if (!loop->isInnermost() || makesCalls(*loop) || !exitsAreCounted(*loop, evolution))
        continue;
      loop->setLoopID(llvm::makePostTransformationMetadata(
          ctx, loop->getLoopID(), {"llvm.loop.align"}, {alignment}));
    }
    return llvm::PreservedAnalyses::all(); // loop metadata only
  }
};

// NaN canonicalizations as branches (nan_canonicalization.cpp).
struct BranchAroundNaNsPass : llvm::PassInfoMixin<BranchAroundNaNsPass> {
  llvm::PreservedAnalyses run(llvm::Function &function,
                              llvm::FunctionAnalysisManager &) {
    return branchAroundNaNCanonicalization(function) ? llvm::PreservedAnalyses::none()
                                                     : llvm::PreservedAnalyses::all();
  }
};

// The gas counter in one register (gas_counter.cpp).
struct GasCounterPass : llvm::PassInfoMixin<GasCounterPass> {
  llvm::PreservedAnalyses run(llvm::Function &function,
                              llvm::FunctionAnalysisManager &analyses) {
    if (!tidyGasCounter(function,
                        analyses.getResult<llvm::DominatorTreeAnalysis>(function),
                        analyses.getResult<llvm::LoopAnalysis>(function)))
      return llvm::PreservedAnalyses::all();
    llvm::PreservedAnalyses kept; // operands and instructions: blocks stay
    kept.preserveSet<llvm::CFGAnalyses>();
    return kept;
  }
};

// Loops that cannot trap in a copy the vectorizer can work on
// (loop_versioning.cpp).
struct VersionLoopsPass : llvm::PassInfoMixin<VersionLoopsPass> {
  llvm::PreservedAnalyses run(llvm::Function &function,
                              llvm::FunctionAnalysisManager &analyses) {
    bool changed = versionLoopsForVectorization(
        function, analyses.getResult<llvm::DominatorTreeAnalysis>(function),
        analyses.getResult<llvm::LoopAnalysis>(function),
        analyses.getResult<llvm::ScalarEvolutionAnalysis>(function),
        accessTag(function.getContext(), "wasm memory"));
    return changed ? llvm::PreservedAnalyses::none() : llvm::PreservedAnalyses::all();
  }
};

// The longest chain of header phis that copy one another around `loop`
// (b = a, c = b, d = c: 3), as in a hash's round loop, whose state rotates
// one variable further on each iteration; at most `limit` (each chain is
// followed that far only, so a module with thousands of phis costs
// thousands of steps, not millions).
unsigned longestRotation(const llvm::Loop &loop, unsigned limit) {
  llvm::BasicBlock *latch = loop.getLoopLatch();
  llvm::DenseMap<const llvm::PHINode *, const llvm::PHINode *> copies; // phi -> its source
  for (const llvm::PHINode &phi : loop.getHeader()->phis())
    if (auto *source = llvm::dyn_cast<llvm::PHINode>(phi.getIncomingValueForBlock(latch));
        source && source->getParent() == loop.getHeader() && source != &phi)
      copies[&phi] = source;
  unsigned longest = 0;
  for (auto [phi, source] : copies) {
    unsigned length = 1;
    for (const llvm::PHINode *at = source; copies.count(at) && length < limit;
         at = copies.lookup(at))
      ++length;
    longest = std::max(longest, length);
  }
  return longest;
}

// A counted loop whose state rotates through its variables (sha256's rounds:
// h = g, g = f, f = e, ...) moves each of them to another register on every
// iteration: 11 of the round's 45 instructions were such moves. Unrolled as
// many times as a value takes to go round, each copy of the body reads the
// registers where the previous one left its values, and the moves are gone
// (sha256 5% faster unmetered). Only where the trip count is a known multiple
// of that, and the unrolled body stays small; LLVM's unroller does the work
// (it honours llvm.loop.unroll.count).
struct UnrollRotationsPass : llvm::PassInfoMixin<UnrollRotationsPass> {
  static constexpr unsigned kMaxUnrolledSize = 512; // instructions
  static constexpr unsigned kMaxFactor = 8;

  llvm::PreservedAnalyses run(llvm::Function &function,
                              llvm::FunctionAnalysisManager &analyses) {
    auto &evolution = analyses.getResult<llvm::ScalarEvolutionAnalysis>(function);
    for (llvm::Loop *loop :
         analyses.getResult<llvm::LoopAnalysis>(function).getLoopsInPreorder()) {
      if (!loop->isInnermost() || !loop->getLoopLatch())
        continue;
      unsigned rotation = longestRotation(*loop, kMaxFactor);
      if (rotation < 2 || rotation >= kMaxFactor)
        continue;
      unsigned factor = rotation + 1;
      unsigned trips = evolution.getSmallConstantTripCount(loop);
      if (trips == 0 || trips % factor != 0)
        continue;
      size_t size = 0;
      for (llvm::BasicBlock *block : loop->blocks())
        size += block->size();
      if (size * factor > kMaxUnrolledSize)
        continue;
      llvm::addStringMetadataToLoop(loop, "llvm.loop.unroll.count", factor);
    }
    return llvm::PreservedAnalyses::all(); // loop metadata only
  }
};

void optimize(llvm::Module &module, llvm::TargetMachine &machine,
              unsigned level) {
  llvm::LoopAnalysisManager loops;
  llvm::FunctionAnalysisManager functions;
  llvm::CGSCCAnalysisManager cgscc;
  llvm::ModuleAnalysisManager modules;
  llvm::PassBuilder builder(&machine);
  builder.registerModuleAnalyses(modules);
  builder.registerCGSCCAnalyses(cgscc);
  builder.registerFunctionAnalyses(functions);
  builder.registerLoopAnalyses(loops);
  builder.crossRegisterProxies(loops, functions, cgscc, modules);
  builder.registerVectorizerStartEPCallback(
      [](llvm::FunctionPassManager &passes, llvm::OptimizationLevel) {
        passes.addPass(VersionLoopsPass());
        passes.addPass(UnrollRotationsPass());
      });
  builder.registerOptimizerLastEPCallback(
      [](llvm::ModulePassManager &passes, llvm::OptimizationLevel) {
        llvm::FunctionPassManager last;
        last.addPass(BranchAroundNaNsPass());
        last.addPass(GasCounterPass());
        last.addPass(AlignInnerLoopsPass());
        passes.addPass(llvm::createModuleToFunctionPassAdaptor(std::move(last)));
      });
  llvm::OptimizationLevel opt = optimizationLevel(level);
  llvm::ModulePassManager passes =
      opt == llvm::OptimizationLevel::O0
          ? builder.buildO0DefaultPipeline(opt)
          : builder.buildPerModuleDefaultPipeline(opt);
  passes.run(module, modules);
}

// Locals, block results and the gas counter (allocas in the entry block)
// into SSA values, at every optimization level.
void promoteLocals(llvm::Function &function) {
  if (function.isDeclaration())
    return;
  std::vector<llvm::AllocaInst *> slots;
  for (llvm::Instruction &inst : function.getEntryBlock())
    if (auto *slot = llvm::dyn_cast<llvm::AllocaInst>(&inst);
        slot && llvm::isAllocaPromotable(slot))
      slots.push_back(slot);
  if (slots.empty())
    return;
  llvm::DominatorTree dominators(function);
  llvm::PromoteMemToReg(slots, dominators);
}

// Lowers and (optionally) optimizes into `ctx`.
Expected<std::unique_ptr<llvm::Module>>
buildModule(const metering::LoadedModule &input, const CompileOptions &options,
            llvm::LLVMContext &ctx, llvm::TargetMachine &machine,
            bool optimized) {
  ModuleLowering lowering(input, ctx);
  lowering.memoryStrategy = options.memory;
  if (metering::isMetered(input.binaryen.get())) {
    if (!options.gas)
      return makeError(ErrorKind::CompileError,
                       "internal error: a metered module needs its gas schedule");
    lowering.metered = true;
    lowering.gasSchedule = &*options.gas;
    lowering.gasInRegister = options.gasInRegister;
  }
  auto module = lowering.run();
  if (!module)
    return module;
  for (llvm::Function &function : **module) {
    // Before any optimization, so that the same canonicalizations stay at
    // every level; on SSA values, so that a value reaches only the reads of
    // the local it was written to (clang's wasm reuses a local for many).
    promoteLocals(function);
    removeUnobservedNaNCanonicalization(function);
    // Each function starts a 64-byte line, so that where its loops fall
    // depends on its own code only, not on the size of the functions before
    // it (quicksort moved by 6% when another function's loop got aligned).
    if (!function.isDeclaration())
      function.setAlignment(llvm::Align(64));
  }
  (*module)->setDataLayout(machine.createDataLayout());
  (*module)->setTargetTriple(machine.getTargetTriple().str());
  if (optimized)
    optimize(**module, machine, options.optLevel);
  return module;
}

} // namespace

// Lowers, optimizes and runs code generation for `type` (object or asm).
static Expected<llvm::SmallVector<char, 0>>
emitFile(const metering::LoadedModule &input, const CompileOptions &options,
         llvm::CodeGenFileType type) {
  auto machine = LentMachine::take(options);
  if (!machine)
    return tl::unexpected(machine.error());
  llvm::LLVMContext ctx;
  auto module = buildModule(input, options, ctx, **machine, true);
  if (!module)
    return tl::unexpected(module.error());
  llvm::SmallVector<char, 0> buffer;
  llvm::raw_svector_ostream stream(buffer);
  llvm::legacy::PassManager codegen;
  if ((*machine)->addPassesToEmitFile(codegen, stream, nullptr, type))
    return makeError(ErrorKind::CompileError,
                     "the target cannot emit this kind of file");
  codegen.run(**module);
  return buffer;
}

Expected<CompiledCode> compile(const metering::LoadedModule &input,
                               const CompileOptions &options) {
  auto object = emitFile(input, options, llvm::CodeGenFileType::ObjectFile);
  if (!object)
    return tl::unexpected(object.error());
  return CompiledCode{std::vector<uint8_t>(object->begin(), object->end())};
}

Expected<std::string> emitLLVMIR(const metering::LoadedModule &input,
                                 const CompileOptions &options, bool optimized) {
  auto machine = LentMachine::take(options);
  if (!machine)
    return tl::unexpected(machine.error());
  llvm::LLVMContext ctx;
  auto module = buildModule(input, options, ctx, **machine, optimized);
  if (!module)
    return tl::unexpected(module.error());
  std::string text;
  llvm::raw_string_ostream stream(text);
  (*module)->print(stream, nullptr);
  return text;
}

Expected<std::string> emitAssembly(const metering::LoadedModule &input,
                                   const CompileOptions &options) {
  auto text = emitFile(input, options, llvm::CodeGenFileType::AssemblyFile);
  if (!text)
    return tl::unexpected(text.error());
  return std::string(text->begin(), text->end());
}

} // namespace nomos::compiler
