#include "lowering.h"

#include <llvm/ADT/SmallPtrSet.h>
#include <llvm/IR/MDBuilder.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Support/raw_ostream.h>

namespace nomos::compiler {

// Metadata nodes are uniqued, so the same name gives the same tag in
// every pass that asks.
llvm::MDNode *accessTag(llvm::LLVMContext &ctx, llvm::StringRef name) {
  llvm::MDBuilder tbaa(ctx);
  llvm::MDNode *type = tbaa.createTBAAScalarTypeNode(name, tbaa.createTBAARoot("nomos"));
  return tbaa.createTBAAStructTagNode(type, type, 0);
}

ModuleLowering::ModuleLowering(const metering::LoadedModule &input,
                               llvm::LLVMContext &ctx)
    : input(input), ctx(ctx),
      module(std::make_unique<llvm::Module>("wasm", ctx)) {
  auto *ptr = llvm::PointerType::getUnqual(ctx);
  auto *i32 = llvm::Type::getInt32Ty(ctx);
  auto *i64 = llvm::Type::getInt64Ty(ctx);
  // Mirror rt::VMContext field by field (runtime_abi.h).
  vmContextType = llvm::StructType::create(
      ctx, {ptr, ptr, ptr, ptr, ptr, ptr, ptr, i32, i32, ptr, i64, i64},
      "VMContext");
  memoryType = llvm::StructType::create(ctx, {ptr, i64}, "Memory");
  tableType = llvm::StructType::create(ctx, {ptr, i32, i32}, "Table");
  funcRefType = llvm::StructType::create(ctx, {ptr, ptr, i32}, "FuncRef");
  importSlotType = llvm::StructType::create(ctx, {ptr, ptr}, "ImportSlot");
  guestMemoryTag = accessTag(ctx, "wasm memory");
  runtimeTag = accessTag(ctx, "nomos runtime");
}

Expected<llvm::Type *> ModuleLowering::lowerType(BinaryenType type) const {
  if (type == BinaryenTypeInt32())
    return llvm::Type::getInt32Ty(ctx);
  if (type == BinaryenTypeInt64())
    return llvm::Type::getInt64Ty(ctx);
  if (type == BinaryenTypeNone())
    return llvm::Type::getVoidTy(ctx);
  if (type == BinaryenTypeFloat32())
    return llvm::Type::getFloatTy(ctx);
  if (type == BinaryenTypeFloat64())
    return llvm::Type::getDoubleTy(ctx);
  // v128 is <2 x i64> everywhere; SIMD operators bitcast it to their lane
  // shape. It crosses thunks, globals and host adapters in a 16-byte,
  // 16-aligned rt::ValueSlot.
  if (type == BinaryenTypeVec128())
    return llvm::FixedVectorType::get(llvm::Type::getInt64Ty(ctx), 2);
  // References are 64-bit: a FuncRef* (funcref) or the host's value
  // (externref); 0 is null.
  if (type == BinaryenTypeFuncref() || type == BinaryenTypeExternref())
    return llvm::Type::getInt64Ty(ctx);
  // Multiple values (results, block types, Binaryen's tuple locals) are a
  // literal struct of their types.
  if (BinaryenTypeArity(type) > 1) {
    std::vector<BinaryenType> types(BinaryenTypeArity(type));
    BinaryenTypeExpand(type, types.data());
    std::vector<llvm::Type *> fields;
    for (BinaryenType element : types) {
      auto field = lowerType(element);
      if (!field)
        return field;
      fields.push_back(*field);
    }
    return llvm::StructType::get(ctx, fields);
  }
  return makeError(ErrorKind::Unsupported,
                   "this reference type is not supported");
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
  auto *i64 = llvm::Type::getInt64Ty(ctx);
  auto *voidType = llvm::Type::getVoidTy(ctx);
  auto declare = [&](const char *name, llvm::Type *result,
                     llvm::ArrayRef<llvm::Type *> params) {
    auto *fn = llvm::Function::Create(
        llvm::FunctionType::get(result, params, false),
        llvm::Function::ExternalLinkage, name, *module);
    fn->addFnAttr(llvm::Attribute::NoUnwind);
    return fn;
  };
  tableGetFunction = declare(rt::kTableGetFunction, i64, {ptr, i32, i32});
  tableSetFunction = declare(rt::kTableSetFunction, voidType, {ptr, i32, i32, i64});
  tableGrowFunction = declare(rt::kTableGrowFunction, i32, {ptr, i32, i64, i32});
  memoryInitFunction =
      declare(rt::kMemoryInitFunction, voidType, {ptr, i32, i32, i32, i32});
  dataDropFunction = declare(rt::kDataDropFunction, voidType, {ptr, i32});
  tableInitFunction = declare(rt::kTableInitFunction, voidType,
                              {ptr, i32, i32, i32, i32, i32});
  elemDropFunction = declare(rt::kElemDropFunction, voidType, {ptr, i32});
  tableCopyFunction = declare(rt::kTableCopyFunction, voidType,
                              {ptr, i32, i32, i32, i32, i32});
  tableFillFunction =
      declare(rt::kTableFillFunction, voidType, {ptr, i32, i32, i64, i32});
  auto *hostCallType = llvm::FunctionType::get(
      llvm::Type::getVoidTy(ctx), {ptr, i32, ptr}, false);
  hostCallFunction =
      llvm::Function::Create(hostCallType, llvm::Function::ExternalLinkage,
                             rt::kHostCallFunction, *module);
}

Expected<void> ModuleLowering::declareFunctions() {
  BinaryenModuleRef wasm = input.binaryen.get();
  // Binaryen's functions continue past the module's with the table-op
  // markers (LoadedModule::markers): calls of them become runtime calls
  // (FunctionLowering::emitTableMarker); they are never compiled, and the
  // function table, thunks and adapters know only the module's functions.
  uint32_t count = uint32_t(input.info.functions.size());
  for (uint32_t i = count; i < BinaryenGetNumFunctions(wasm); ++i)
    functionIndex[BinaryenFunctionGetName(BinaryenGetFunctionByIndex(wasm, i))] =
        i;
  functions.assign(count, nullptr);
  bodies.assign(count, nullptr);
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
    bodies[i] = declareBody(i, *signature, name);
  }
  for (uint32_t i = 0; i < BinaryenGetNumTables(wasm); ++i)
    tableIndex[BinaryenTableGetName(BinaryenGetTableByIndex(wasm, i))] = i;
  // call_indirect names a signature: any type index of that structure has
  // the same canonical id at run time.
  for (uint32_t i = 0; i < input.info.types.size(); ++i)
    signatureIndex.try_emplace(signatureKey(input.info.types[i]), i);
  uint32_t globals = BinaryenGetNumGlobals(wasm);
  for (uint32_t i = 0; i < globals; ++i)
    globalIndex[BinaryenGlobalGetName(BinaryenGetGlobalByIndex(wasm, i))] = i;
  return {};
}

// The body of defined function `index` and its wrapper (functions[index]):
// the wrapper passes on the call depth in vmctx, and the gas counter in its
// cell when the body takes it.
llvm::Function *ModuleLowering::declareBody(uint32_t index,
                                            llvm::FunctionType *signature,
                                            const char *name) {
  auto *i64 = llvm::Type::getInt64Ty(ctx);
  auto *i32 = llvm::Type::getInt32Ty(ctx);
  llvm::SmallVector<llvm::Type *, 8> params{signature->getParamType(0), i32};
  if (gasArgument())
    params.push_back(i64);
  for (unsigned p = 1; p < signature->getNumParams(); ++p)
    params.push_back(signature->getParamType(p));
  llvm::Type *results = signature->getReturnType();
  auto *bodyType = llvm::FunctionType::get(
      gasArgument() ? gasBodyReturnType(results) : results, params, false);
  auto *body = llvm::Function::Create(bodyType, llvm::Function::InternalLinkage,
                                      "w.g." + std::string(name), *module);
  body->addFnAttr(llvm::Attribute::NoUnwind);

  llvm::Function *wrapper = functions[index];
  llvm::IRBuilder<> builder(llvm::BasicBlock::Create(ctx, "entry", wrapper));
  llvm::Value *vmctx = wrapper->getArg(0);
  llvm::SmallVector<llvm::Value *, 8> args{vmctx, builder.CreateLoad(
      i32, builder.CreateStructGEP(vmContextType, vmctx, rt::kCallDepth))};
  llvm::Value *gasCell = nullptr;
  if (gasArgument()) {
    gasCell = loadGasCell(builder, vmctx);
    args.push_back(builder.CreateLoad(i64, gasCell));
  }
  for (unsigned p = 1; p < wrapper->arg_size(); ++p)
    args.push_back(wrapper->getArg(p));
  llvm::CallInst *returned = builder.CreateCall(body, args);
  llvm::Value *result = returned;
  if (gasArgument()) {
    llvm::Value *gas;
    std::tie(result, gas) = splitGasBodyResult(builder, returned);
    builder.CreateStore(gas, gasCell);
  } else {
    // Nothing left to do after the body: a jump to it (keepFrames lets
    // wrappers make tail calls; a backtrace skips them anyway).
    returned->setTailCall();
  }
  if (result && !result->getType()->isVoidTy())
    builder.CreateRet(result);
  else
    builder.CreateRetVoid();
  return body;
}

llvm::Value *ModuleLowering::loadGasCell(llvm::IRBuilder<> &builder,
                                         llvm::Value *vmctx) const {
  return builder.CreateLoad(llvm::PointerType::getUnqual(ctx),
                            builder.CreateStructGEP(vmContextType, vmctx, rt::kGas));
}

// A gas body returns the counter with its results, in registers: i64 alone,
// or {results, i64}.
llvm::Type *ModuleLowering::gasBodyReturnType(llvm::Type *results) const {
  auto *i64 = llvm::Type::getInt64Ty(ctx);
  if (results->isVoidTy())
    return i64;
  return llvm::StructType::get(ctx, {results, i64});
}

std::pair<llvm::Value *, llvm::Value *>
ModuleLowering::splitGasBodyResult(llvm::IRBuilder<> &builder,
                                   llvm::Value *returned) const {
  if (!returned->getType()->isStructTy())
    return {nullptr, returned};
  return {builder.CreateExtractValue(returned, 0),
          builder.CreateExtractValue(returned, 1)};
}

void ModuleLowering::passCallState(llvm::IRBuilder<> &builder,
                                   llvm::Value *vmctx, llvm::Value *calleeCtx) {
  auto pass = [&](llvm::Type *type, rt::VMContextField field) {
    llvm::Value *value = builder.CreateLoad(
        type, builder.CreateStructGEP(vmContextType, vmctx, field));
    builder.CreateStore(value,
                        builder.CreateStructGEP(vmContextType, calleeCtx, field));
  };
  // The call-depth and gas limits hold across instances, and the callee runs
  // on this thread's stack (its context may last have run on another). The
  // gas pointer passes even when unmetered: a metered callee (from another
  // engine) would find a stale one.
  pass(builder.getInt32Ty(), rt::kCallDepth);
  pass(builder.getInt64Ty(), rt::kStackLimit);
  pass(llvm::PointerType::getUnqual(ctx), rt::kGas);
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
  llvm::Value *calleeCtx =
      builder.CreateLoad(ptr, builder.CreateStructGEP(importSlotType, slot, 1));
  passCallState(builder, vmctx, calleeCtx);
  callArgs[0] = calleeCtx;
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
  storeResults(builder, result, slots);
  builder.CreateRetVoid();
}

// Results cross thunks and adapters in value slots, one per value (several
// when the function returns multiple values, as a struct).
void ModuleLowering::storeResults(llvm::IRBuilder<> &builder,
                                  llvm::Value *result, llvm::Value *slots) {
  llvm::Type *type = result->getType();
  if (type->isVoidTy())
    return;
  auto *slotType =
      llvm::ArrayType::get(builder.getInt8Ty(), sizeof(rt::ValueSlot));
  auto *structType = llvm::dyn_cast<llvm::StructType>(type);
  if (!structType) {
    builder.CreateStore(result, slots);
    return;
  }
  for (unsigned i = 0; i < structType->getNumElements(); ++i)
    builder.CreateStore(builder.CreateExtractValue(result, i),
                        builder.CreateConstGEP1_32(slotType, slots, i));
}

llvm::Value *ModuleLowering::loadResults(llvm::IRBuilder<> &builder,
                                         llvm::Type *type, llvm::Value *slots) {
  auto *structType = llvm::dyn_cast<llvm::StructType>(type);
  if (!structType)
    return builder.CreateLoad(type, slots);
  auto *slotType =
      llvm::ArrayType::get(builder.getInt8Ty(), sizeof(rt::ValueSlot));
  llvm::Value *result = llvm::UndefValue::get(structType);
  for (unsigned i = 0; i < structType->getNumElements(); ++i)
    result = builder.CreateInsertValue(
        result,
        builder.CreateLoad(structType->getElementType(i),
                           builder.CreateConstGEP1_32(slotType, slots, i)),
        i);
  return result;
}

// T nomos_host_adapter_N(VMContext *ctx, args...): spills the arguments to
// value slots and lets the runtime call import N's host callback.
llvm::Function *ModuleLowering::emitHostAdapter(uint32_t index) {
  llvm::FunctionType *type = functionTypes[index];
  auto *adapter = llvm::Function::Create(
      type, llvm::Function::InternalLinkage,
      rt::kHostAdapterPrefix + std::to_string(index), *module);
  llvm::IRBuilder<> builder(llvm::BasicBlock::Create(ctx, "entry", adapter));
  unsigned params = type->getNumParams() - 1;
  unsigned results = 1;
  if (auto *structType = llvm::dyn_cast<llvm::StructType>(type->getReturnType()))
    results = structType->getNumElements();
  unsigned slots = std::max(params, results);
  auto *slotType = llvm::ArrayType::get(builder.getInt8Ty(), sizeof(rt::ValueSlot));
  llvm::AllocaInst *buffer =
      builder.CreateAlloca(slotType, builder.getInt32(slots), "slots");
  buffer->setAlignment(llvm::Align(16));
  for (unsigned i = 0; i < params; ++i)
    builder.CreateStore(adapter->getArg(i + 1),
                        builder.CreateConstGEP1_32(slotType, buffer, i));
  builder.CreateCall(hostCallFunction,
                     {adapter->getArg(0), builder.getInt32(index), buffer});
  if (type->getReturnType()->isVoidTy())
    builder.CreateRetVoid();
  else
    builder.CreateRet(loadResults(builder, type->getReturnType(), buffer));
  return adapter;
}

// A constant array of function pointers, exported under `name`.
void ModuleLowering::emitPointerTable(const char *name,
                                      llvm::ArrayRef<llvm::Constant *> entries) {
  auto *ptr = llvm::PointerType::getUnqual(ctx);
  auto *type = llvm::ArrayType::get(ptr, entries.size());
  new llvm::GlobalVariable(*module, type, true,
                           llvm::GlobalValue::ExternalLinkage,
                           llvm::ConstantArray::get(type, entries), name);
}

void ModuleLowering::emitFunctionTables() {
  auto *null = llvm::ConstantPointerNull::get(llvm::PointerType::getUnqual(ctx));
  std::vector<llvm::Constant *> entries, adapters;
  for (uint32_t i = 0; i < functions.size(); ++i) {
    if (functions[i]) {
      entries.push_back(functions[i]);
      continue;
    }
    entries.push_back(null);
    adapters.push_back(emitHostAdapter(i));
  }
  emitPointerTable(rt::kFunctionTable, entries);
  emitPointerTable(rt::kHostAdapterTable, adapters);
}

// Trap backtraces (docs/sandbox.md) walk the frame-pointer chain through
// generated code, one frame per wasm function call: every function keeps
// its frame pointer, and wasm functions are neither inlined nor turned
// into tail jumps, so a backtrace does not depend on the optimization level.
// A wrapper only forwards to its body (a backtrace skips it), so it may
// vanish: the invoke thunks inline theirs, which saves host->guest calls a
// frame, and an unmetered one jumps to its body (declareBody).
void ModuleLowering::keepFrames() {
  llvm::SmallPtrSet<llvm::Function *, 16> wrappers(functions.begin(),
                                                   functions.end());
  for (llvm::Function &fn : *module) {
    if (fn.isDeclaration())
      continue;
    fn.addFnAttr("frame-pointer", "all");
    if (wrappers.contains(&fn)) {
      fn.addFnAttr(llvm::Attribute::AlwaysInline);
      continue;
    }
    fn.addFnAttr("disable-tail-calls", "true");
    fn.addFnAttr(llvm::Attribute::NoInline);
  }
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
  emitFunctionTables();
  keepFrames();

  std::string problems;
  llvm::raw_string_ostream stream(problems);
  if (llvm::verifyModule(*module, &stream))
    return makeError(ErrorKind::CompileError,
                     "internal error: generated LLVM IR is invalid: " + problems);
  return std::move(module);
}

} // namespace nomos::compiler
