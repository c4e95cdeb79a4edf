#include "lowering.h"

#include <llvm/IR/Verifier.h>
#include <llvm/Support/raw_ostream.h>

namespace nomos::compiler {

ModuleLowering::ModuleLowering(const metering::LoadedModule &input,
                               llvm::LLVMContext &ctx)
    : input(input), ctx(ctx),
      module(std::make_unique<llvm::Module>("wasm", ctx)) {
  auto *ptr = llvm::PointerType::getUnqual(ctx);
  auto *i32 = llvm::Type::getInt32Ty(ctx);
  auto *i64 = llvm::Type::getInt64Ty(ctx);
  // Mirrors rt::VMContext field by field (runtime_abi.h).
  vmContextType = llvm::StructType::create(
      ctx, {ptr, i64, ptr, ptr, i32, i32, ptr}, "VMContext");
  importSlotType = llvm::StructType::create(ctx, {ptr, ptr}, "ImportSlot");
}

Expected<llvm::Type *> ModuleLowering::lowerType(BinaryenType type) const {
  if (type == BinaryenTypeInt32())
    return llvm::Type::getInt32Ty(ctx);
  if (type == BinaryenTypeInt64())
    return llvm::Type::getInt64Ty(ctx);
  if (type == BinaryenTypeNone())
    return llvm::Type::getVoidTy(ctx);
  if (type == BinaryenTypeFloat32() || type == BinaryenTypeFloat64())
    return makeError(ErrorKind::Unsupported,
                     "floating-point values are not supported yet");
  if (type == BinaryenTypeVec128())
    return makeError(ErrorKind::Unsupported, "v128 values are not supported yet");
  if (BinaryenTypeArity(type) > 1)
    return makeError(ErrorKind::Unsupported,
                     "multiple values (multi-value) are not supported yet");
  return makeError(ErrorKind::Unsupported,
                   "reference values are not supported yet");
}

Expected<llvm::FunctionType *>
ModuleLowering::lowerSignature(BinaryenType params, BinaryenType results) const {
  std::vector<llvm::Type *> paramTypes{llvm::PointerType::getUnqual(ctx)};
  std::vector<BinaryenType> expanded(BinaryenTypeArity(params));
  if (!expanded.empty())
    BinaryenTypeExpand(params, expanded.data());
  for (BinaryenType param : expanded) {
    auto type = lowerType(param);
    if (!type)
      return tl::unexpected(type.error());
    paramTypes.push_back(*type);
  }
  auto result = lowerType(results);
  if (!result)
    return tl::unexpected(result.error());
  return llvm::FunctionType::get(*result, paramTypes, false);
}

void ModuleLowering::declareRuntimeFunctions() {
  auto *ptr = llvm::PointerType::getUnqual(ctx);
  auto *i32 = llvm::Type::getInt32Ty(ctx);
  auto *trapType =
      llvm::FunctionType::get(llvm::Type::getVoidTy(ctx), {ptr, i32}, false);
  trapFunction = llvm::Function::Create(trapType, llvm::Function::ExternalLinkage,
                                        rt::kTrapFunction, *module);
  trapFunction->setDoesNotReturn();
  trapFunction->addFnAttr(llvm::Attribute::Cold);
  trapFunction->addFnAttr(llvm::Attribute::NoUnwind);
  auto *growType = llvm::FunctionType::get(i32, {ptr, i32}, false);
  memoryGrowFunction =
      llvm::Function::Create(growType, llvm::Function::ExternalLinkage,
                             rt::kMemoryGrowFunction, *module);
  memoryGrowFunction->addFnAttr(llvm::Attribute::NoUnwind);
}

Expected<void> ModuleLowering::declareFunctions() {
  BinaryenModuleRef wasm = input.binaryen.get();
  uint32_t count = BinaryenGetNumFunctions(wasm);
  functions.assign(count, nullptr);
  functionTypes.assign(count, nullptr);
  for (uint32_t i = 0; i < count; ++i) {
    BinaryenFunctionRef fn = BinaryenGetFunctionByIndex(wasm, i);
    const char *name = BinaryenFunctionGetName(fn);
    functionIndex[name] = i;
    auto signature = lowerSignature(BinaryenFunctionGetParams(fn),
                                    BinaryenFunctionGetResults(fn));
    if (!signature) {
      Error error = signature.error();
      error.message = "function " + std::string(name) + ": " + error.message;
      return tl::unexpected(error);
    }
    functionTypes[i] = *signature;
    if (i < input.info.importedFunctions)
      continue;
    // Internal linkage: only the invoke thunks are visible to the runtime.
    auto *llvmFn = llvm::Function::Create(
        *signature, llvm::Function::InternalLinkage, "w." + std::string(name),
        *module);
    llvmFn->addFnAttr(llvm::Attribute::NoUnwind);
    functions[i] = llvmFn;
  }
  uint32_t globals = BinaryenGetNumGlobals(wasm);
  for (uint32_t i = 0; i < globals; ++i)
    globalIndex[BinaryenGlobalGetName(BinaryenGetGlobalByIndex(wasm, i))] = i;
  return {};
}

llvm::Value *ModuleLowering::emitCall(llvm::IRBuilder<> &builder,
                                      llvm::Value *vmctx, uint32_t index,
                                      llvm::ArrayRef<llvm::Value *> args) {
  llvm::SmallVector<llvm::Value *, 8> callArgs{vmctx};
  callArgs.append(args.begin(), args.end());
  if (functions[index])
    return builder.CreateCall(functions[index], callArgs);
  // Imported: call imports[index].fn with imports[index].ctx.
  auto *ptr = llvm::PointerType::getUnqual(ctx);
  llvm::Value *imports = builder.CreateLoad(
      ptr, builder.CreateStructGEP(vmContextType, vmctx, rt::kImports),
      "imports");
  llvm::Value *slot =
      builder.CreateGEP(importSlotType, imports, builder.getInt32(index));
  llvm::Value *fn =
      builder.CreateLoad(ptr, builder.CreateStructGEP(importSlotType, slot, 0));
  callArgs[0] =
      builder.CreateLoad(ptr, builder.CreateStructGEP(importSlotType, slot, 1));
  return builder.CreateCall(functionTypes[index], fn, callArgs);
}

// void nomos_invoke_N(VMContext *ctx, ValueSlot *slots): arguments are read
// from slots[0..], results written to slots[0..].
void ModuleLowering::emitInvokeThunk(uint32_t index) {
  auto *ptr = llvm::PointerType::getUnqual(ctx);
  auto *type =
      llvm::FunctionType::get(llvm::Type::getVoidTy(ctx), {ptr, ptr}, false);
  auto *thunk =
      llvm::Function::Create(type, llvm::Function::ExternalLinkage,
                             rt::kInvokePrefix + std::to_string(index), *module);
  thunk->addFnAttr(llvm::Attribute::NoUnwind);
  llvm::IRBuilder<> builder(llvm::BasicBlock::Create(ctx, "entry", thunk));
  llvm::Value *slots = thunk->getArg(1);
  llvm::FunctionType *callee = functionTypes[index];
  llvm::SmallVector<llvm::Value *, 8> args;
  for (unsigned i = 1; i < callee->getNumParams(); ++i) {
    llvm::Value *slot = builder.CreateConstGEP1_32(
        builder.getInt8Ty(), slots, (i - 1) * sizeof(rt::ValueSlot));
    args.push_back(builder.CreateLoad(callee->getParamType(i), slot));
  }
  llvm::Value *result = emitCall(builder, thunk->getArg(0), index, args);
  if (!callee->getReturnType()->isVoidTy())
    builder.CreateStore(result, slots);
  builder.CreateRetVoid();
}

Expected<std::unique_ptr<llvm::Module>> ModuleLowering::run() {
  declareRuntimeFunctions();
  if (auto declared = declareFunctions(); !declared)
    return tl::unexpected(declared.error());
  for (uint32_t i = input.info.importedFunctions; i < functions.size(); ++i) {
    FunctionLowering lowering(*this, i);
    if (auto lowered = lowering.run(); !lowered)
      return tl::unexpected(lowered.error());
  }
  std::vector<bool> needsThunk(functions.size(), false);
  for (const wasm::Export &exp : input.info.exports)
    if (exp.kind == wasm::ExternKind::Func)
      needsThunk[exp.index] = true;
  if (input.info.start)
    needsThunk[*input.info.start] = true;
  for (uint32_t i = 0; i < functions.size(); ++i)
    if (needsThunk[i])
      emitInvokeThunk(i);

  std::string problems;
  llvm::raw_string_ostream stream(problems);
  if (llvm::verifyModule(*module, &stream))
    return makeError(ErrorKind::CompileError,
                     "internal error: generated LLVM IR is invalid: " + problems);
  return std::move(module);
}

} // namespace nomos::compiler
