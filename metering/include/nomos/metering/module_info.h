// The module-level view of a wasm binary, decoded and validated by Nomos
// itself before Binaryen ever sees the bytes.
//
// Why our own decoder: Binaryen 108's reader ends the process (_Exit) on a
// malformed or ill-typed binary, and its C API has no getters for memory
// limits, memory imports, the start function or element expressions. So the
// front end decodes and validates every section (function bodies included,
// with the spec's operand-stack algorithm) and keeps this view; Binaryen then
// reads only binaries known to be valid, and only their function bodies and
// the declarations those need (a rewrite, metering/src/binaryen_input.h).
// Indices here are the wasm index spaces (imports first), which is also the
// order Binaryen numbers them in.
#pragma once

#include <nomos/error.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace nomos::wasm {

enum class ValType : uint8_t {
  I32 = 0x7f,
  I64 = 0x7e,
  F32 = 0x7d,
  F64 = 0x7c,
  V128 = 0x7b,
  FuncRef = 0x70,
  ExternRef = 0x6f,
};

const char *valTypeName(ValType type);
// Whether a byte encodes a value type (i32 ... externref).
bool isValTypeByte(uint8_t byte);

struct FuncType {
  std::vector<ValType> params;
  std::vector<ValType> results;
  bool operator==(const FuncType &) const = default;
};

struct Limits {
  uint64_t min = 0;
  std::optional<uint64_t> max;
};

struct TableType {
  ValType elemType = ValType::FuncRef;
  Limits limits;
};

struct GlobalType {
  ValType type = ValType::I32;
  bool isMutable = false;
};

enum class ExternKind : uint8_t { Func = 0, Table = 1, Memory = 2, Global = 3 };

// A validated constant expression (one instruction, then `end`).
struct ConstExpr {
  enum class Op : uint8_t {
    I32Const,
    I64Const,
    F32Const,
    F64Const,
    V128Const,
    GlobalGet, // index = global index (an imported global)
    RefNull,   // refType says which
    RefFunc,   // index = function index
  };
  Op op = Op::I32Const;
  uint64_t bits[2] = {0, 0}; // the constant's bit pattern (v128: lo, hi)
  uint32_t index = 0;
  ValType refType = ValType::FuncRef;
};

struct Import {
  std::string module;
  std::string name;
  ExternKind kind = ExternKind::Func;
  uint32_t typeIndex = 0; // Func
  TableType table;        // Table
  Limits memory;          // Memory
  GlobalType global;      // Global
};

struct Export {
  std::string name;
  ExternKind kind = ExternKind::Func;
  uint32_t index = 0;
};

struct Global {
  GlobalType type;
  ConstExpr init;
};

struct ElemSegment {
  enum class Mode : uint8_t { Active, Passive, Declarative };
  Mode mode = Mode::Active;
  uint32_t table = 0;
  ConstExpr offset; // Active only
  ValType refType = ValType::FuncRef;
  std::vector<ConstExpr> items; // RefFunc, RefNull or GlobalGet
};

struct DataSegment {
  enum class Mode : uint8_t { Active, Passive };
  Mode mode = Mode::Active;
  uint32_t memory = 0;
  ConstExpr offset;          // Active only
  std::vector<uint8_t> bytes;
};

struct ModuleInfo {
  std::vector<FuncType> types;
  std::vector<Import> imports;

  // Index spaces, imports first. For functions: the type index of each.
  std::vector<uint32_t> functions;
  uint32_t importedFunctions = 0;
  std::vector<TableType> tables;
  uint32_t importedTables = 0;
  std::vector<Limits> memories; // at most one in WebAssembly 2.0
  uint32_t importedMemories = 0;
  std::vector<GlobalType> globals;
  uint32_t importedGlobals = 0;
  std::vector<Global> definedGlobals; // globals[importedGlobals + i]

  std::vector<Export> exports;
  std::optional<uint32_t> start;
  std::vector<ElemSegment> elems;
  std::vector<DataSegment> datas;
  std::optional<uint32_t> dataCount;
  // Whether code uses memory.init or data.drop (which need the data count).
  bool usesDataSegmentIndices = false;

  // From the "name" custom section when present and well-formed; empty
  // strings where a function has no name. Size == functions.size(). The
  // only names Binaryen gets (it never sees the module's name section).
  std::vector<std::string> functionNames;
  // The size in bytes of each defined function's body (code section order).
  std::vector<uint32_t> bodySizes;

  // Whether any function body uses a v128 value or SIMD instruction.
  bool usesSimd = false;
  // Whether a block, loop or if takes parameters (multi-value). Binaryen 108's
  // reader cannot read those: it ends the process instead, so the bodies it
  // reads are rewritten (metering/src/code_rewrite.h).
  bool usesBlockParams = false;
  // Whether a function uses table.init, elem.drop, table.copy or table.fill
  // (0xfc 12, 13, 14, 17). Binaryen 108's reader does not know these opcodes
  // ("invalid code after misc prefix") and ends the process, so they become
  // calls of marker functions (code_rewrite.h). table.get/set/size/grow are
  // fine.
  bool usesTableBulkOps = false;
  // (Names with NUL bytes, element segments of any kind and custom sections,
  // which Binaryen 108's reader also refuses by ending the process, need no
  // flag: Binaryen never sees them, see metering/src/binaryen_input.h.)

  const FuncType &funcType(uint32_t funcIndex) const {
    return types[functions[funcIndex]];
  }
  const Export *findExport(std::string_view name) const;
};

// Decodes and validates a wasm binary (WebAssembly 2.0: MVP, sign-extension,
// non-trapping float-to-int, multi-value, bulk memory, reference types, fixed
// SIMD). Proposals outside 2.0 (threads, relaxed SIMD, tail calls, exceptions,
// memory64, multi-memory, GC) are rejected. Errors: MalformedModule for bytes
// that are not a wasm binary, InvalidModule for a well-formed module that
// fails validation; the message names the section, the function and byte
// offset where that helps.
struct DecodeOptions {
  // Off: function bodies are only delimited (sizes checked), not decoded or
  // validated, and the usesSimd/usesBlockParams/usesTableBulkOps/
  // usesDataSegmentIndices flags stay false. Only for code validated before
  // (the disk cache's hit: docs/cache.md).
  bool validateFunctionBodies = true;
};
Expected<ModuleInfo> decodeModule(std::span<const uint8_t> bytes,
                                  DecodeOptions options = {});

} // namespace nomos::wasm
