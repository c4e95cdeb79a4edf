// Reference types, tables and call_indirect. Table accesses other than
// call_indirect's go through the runtime (they are rare, and table.set must
// keep the referenced instance alive); call_indirect is inline.
#include "lowering.h"

namespace nomos::compiler {

namespace {

char valTypeCode(BinaryenType type) {
  if (type == BinaryenTypeInt32()) return char(wasm::ValType::I32);
  if (type == BinaryenTypeInt64()) return char(wasm::ValType::I64);
  if (type == BinaryenTypeFloat32()) return char(wasm::ValType::F32);
  if (type == BinaryenTypeFloat64()) return char(wasm::ValType::F64);
  if (type == BinaryenTypeVec128()) return char(wasm::ValType::V128);
  if (type == BinaryenTypeFuncref()) return char(wasm::ValType::FuncRef);
  return char(wasm::ValType::ExternRef);
}

std::string typeCodes(BinaryenType tuple) {
  std::vector<BinaryenType> types(BinaryenTypeArity(tuple));
  if (!types.empty())
    BinaryenTypeExpand(tuple, types.data());
  std::string codes;
  for (BinaryenType type : types)
    codes += valTypeCode(type);
  return codes;
}

} // namespace

std::string signatureKey(const wasm::FuncType &type) {
  std::string key;
  for (wasm::ValType t : type.params)
    key += char(t);
  key += ':';
  for (wasm::ValType t : type.results)
    key += char(t);
  return key;
}

std::string signatureKey(BinaryenType params, BinaryenType results) {
  return typeCodes(params) + ":" + typeCodes(results);
}

OpResult FunctionLowering::emitReferenceOp(BinaryenExpressionRef expr) {
  BinaryenExpressionId id = BinaryenExpressionGetId(expr);
  auto *i32 = b.getInt32Ty();
  auto *ptr = llvm::PointerType::getUnqual(m.ctx);
  auto tableOf = [&](const char *name) {
    return b.getInt32(m.tableIndex.lookup(name));
  };
  if (id == BinaryenRefNullId())
    return b.getInt64(0);
  if (id == BinaryenRefIsId())
    return withOperands({BinaryenRefIsGetValue(expr)}, [&](Values v) -> OpResult {
      return b.CreateZExt(b.CreateICmpEQ(v[0], b.getInt64(0)), i32);
    });
  if (id == BinaryenRefFuncId()) {
    uint32_t index = m.functionIndex.lookup(BinaryenRefFuncGetFunc(expr));
    llvm::Value *functions = loadContextField(rt::kFunctions, ptr);
    llvm::Value *ref =
        b.CreateLoad(ptr, b.CreateConstGEP1_64(ptr, functions, index));
    return b.CreatePtrToInt(ref, b.getInt64Ty());
  }
  if (id == BinaryenTableGetId())
    return withOperands({BinaryenTableGetGetIndex(expr)}, [&](Values v) -> OpResult {
      syncGas(); // the runtime may trap
      return b.CreateCall(m.tableGetFunction,
                          {vmctx, tableOf(BinaryenTableGetGetTable(expr)), v[0]});
    });
  if (id == BinaryenTableSetId())
    return withOperands(
        {BinaryenTableSetGetIndex(expr), BinaryenTableSetGetValue(expr)},
        [&](Values v) -> OpResult {
          syncGas(); // the runtime may trap
          b.CreateCall(m.tableSetFunction,
                       {vmctx, tableOf(BinaryenTableSetGetTable(expr)), v[0], v[1]});
          return nullptr;
        });
  if (id == BinaryenTableSizeId()) {
    llvm::Value *table = tablePointer(m.tableIndex.lookup(BinaryenTableSizeGetTable(expr)));
    return b.CreateLoad(i32, b.CreateStructGEP(m.tableType, table, 1));
  }
  if (id == BinaryenTableGrowId())
    return withOperands(
        {BinaryenTableGrowGetValue(expr), BinaryenTableGrowGetDelta(expr)},
        [&](Values v) -> OpResult {
          llvm::Value *old = b.CreateCall(m.tableGrowFunction,
                              {vmctx, tableOf(BinaryenTableGrowGetTable(expr)),
                               v[0], v[1]});
          chargeGrown(old, v[1], m.metered ? m.gasSchedule->tableGrowPerElement : 0);
          return old;
        });
  if (id == BinaryenMemoryInitId())
    return withOperands({BinaryenMemoryInitGetDest(expr),
                         BinaryenMemoryInitGetOffset(expr),
                         BinaryenMemoryInitGetSize(expr)},
                        [&](Values v) -> OpResult {
                          chargeBulk({v[0]}, v[2]);
                          syncGas(); // the runtime may trap
                          b.CreateCall(m.memoryInitFunction,
                                       {vmctx,
                                        b.getInt32(BinaryenMemoryInitGetSegment(expr)),
                                        v[0], v[1], v[2]});
                          return nullptr;
                        });
  if (id == BinaryenDataDropId()) {
    b.CreateCall(m.dataDropFunction,
                 {vmctx, b.getInt32(BinaryenDataDropGetSegment(expr))});
    return nullptr;
  }
  return makeError(ErrorKind::CompileError,
                   "internal error: not a reference operator");
}

llvm::Value *FunctionLowering::tablePointer(uint32_t index) {
  auto *ptr = llvm::PointerType::getUnqual(m.ctx);
  llvm::Value *tables = loadContextField(rt::kTables, ptr);
  return b.CreateLoad(ptr, b.CreateConstGEP1_64(ptr, tables, index));
}

// call_indirect: the index must be inside the table ("undefined element"),
// the element non-null ("uninitialized element"), and its signature's
// canonical id equal to the expected one; then call fn(ctx, args...).
OpResult FunctionLowering::emitCallIndirect(BinaryenExpressionRef expr) {
  if (BinaryenCallIndirectIsReturn(expr))
    return makeError(ErrorKind::Unsupported,
                     "return_call_indirect (tail calls) is not supported");
  BinaryenType params = BinaryenCallIndirectGetParams(expr);
  BinaryenType results = BinaryenCallIndirectGetResults(expr);
  auto signature = m.lowerSignature(params, results);
  if (!signature)
    return tl::unexpected(signature.error());
  auto typeIndex = m.signatureIndex.find(signatureKey(params, results));
  if (typeIndex == m.signatureIndex.end())
    return makeError(ErrorKind::CompileError,
                     "internal error: call_indirect signature has no type");
  uint32_t table = m.tableIndex.lookup(BinaryenCallIndirectGetTable(expr));

  llvm::SmallVector<BinaryenExpressionRef, 8> children;
  for (BinaryenIndex i = 0; i < BinaryenCallIndirectGetNumOperands(expr); ++i)
    children.push_back(BinaryenCallIndirectGetOperandAt(expr, i));
  children.push_back(BinaryenCallIndirectGetTarget(expr));
  return withOperands(children, [&](Values v) -> OpResult {
    auto *ptr = llvm::PointerType::getUnqual(m.ctx);
    auto *i32 = b.getInt32Ty();
    llvm::Value *index = v.back();
    llvm::Value *tablePtr = tablePointer(table);
    llvm::Value *size = b.CreateLoad(i32, b.CreateStructGEP(m.tableType, tablePtr, 1));
    trapIf(b.CreateICmpUGE(index, size), NOMOS_TRAP_TABLE_OUT_OF_BOUNDS);
    llvm::Value *elements =
        b.CreateLoad(ptr, b.CreateStructGEP(m.tableType, tablePtr, 0));
    llvm::Value *element = b.CreateLoad(
        b.getInt64Ty(), b.CreateGEP(b.getInt64Ty(), elements,
                                    b.CreateZExt(index, b.getInt64Ty())));
    trapIf(b.CreateICmpEQ(element, b.getInt64(0)), NOMOS_TRAP_INDIRECT_CALL_NULL);
    llvm::Value *ref = b.CreateIntToPtr(element, ptr);
    llvm::Value *actualType =
        b.CreateLoad(i32, b.CreateStructGEP(m.funcRefType, ref, 2));
    llvm::Value *typeIds = loadContextField(rt::kTypeIds, ptr);
    llvm::Value *expectedType = b.CreateLoad(
        i32, b.CreateConstGEP1_32(i32, typeIds, typeIndex->second));
    trapIf(b.CreateICmpNE(actualType, expectedType),
           NOMOS_TRAP_INDIRECT_CALL_TYPE);
    llvm::Value *fn = b.CreateLoad(ptr, b.CreateStructGEP(m.funcRefType, ref, 0));
    llvm::Value *calleeCtx =
        b.CreateLoad(ptr, b.CreateStructGEP(m.funcRefType, ref, 1));
    // The callee may belong to another instance: it goes on with our
    // frame count, stack limit and gas.
    storeCallDepth();
    m.passCallState(b, vmctx, calleeCtx);
    llvm::SmallVector<llvm::Value *, 8> args{calleeCtx};
    args.append(v.begin(), v.end() - 1);
    uint64_t gasRest = gasBeforeCall();
    llvm::Value *result = b.CreateCall(*signature, fn, args);
    gasAfterCall(gasRest);
    return result->getType()->isVoidTy() ? nullptr : result;
  });
}

// table.init, elem.drop, table.copy and table.fill reach the compiler as
// calls of marker functions (metering/src/code_rewrite.h), whose arguments
// are the instruction's operands and then its immediates.
OpResult FunctionLowering::emitTableMarker(metering::TableMarker marker,
                                           llvm::ArrayRef<llvm::Value *> v) {
  // Gas: the gas pass sees a call here (a marker is a function), so the
  // metered block is settled as around any call (the runtime may trap).
  uint64_t gasRest = gasBeforeCall();
  switch (marker) {
  case metering::TableMarker::TableInit: // (d, s, n, elem, table)
    b.CreateCall(m.tableInitFunction, {vmctx, v[4], v[3], v[0], v[1], v[2]});
    break;
  case metering::TableMarker::ElemDrop: // (elem)
    b.CreateCall(m.elemDropFunction, {vmctx, v[0]});
    break;
  case metering::TableMarker::TableCopy: // (d, s, n, dstTable, srcTable)
    b.CreateCall(m.tableCopyFunction, {vmctx, v[3], v[4], v[0], v[1], v[2]});
    break;
  case metering::TableMarker::TableFillFuncRef: // (i, value, n, table)
  case metering::TableMarker::TableFillExternRef:
    b.CreateCall(m.tableFillFunction, {vmctx, v[3], v[0], v[1], v[2]});
    break;
  }
  gasAfterCall(gasRest);
  return nullptr;
}

} // namespace nomos::compiler
