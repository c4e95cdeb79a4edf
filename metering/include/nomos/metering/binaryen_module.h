// A validated module as Binaryen IR, next to Nomos's own module-level view.
#pragma once

#include <nomos/metering/module_info.h>

#include <memory>
#include <span>
#include <vector>

// What binaryen-c.h's BinaryenModuleRef points to in C++, without including
// the C API here.
namespace wasm {
class Module;
} // namespace wasm

namespace nomos::metering {

struct BinaryenModuleDeleter {
  void operator()(::wasm::Module *module) const;
};

// Table bulk operations Binaryen 108 cannot read reach it as calls of
// "marker" functions appended after the module's own functions (see
// metering/src/code_rewrite.h). A call of a marker passes the instruction's
// operands, then its immediates as i32 constants:
//   TableInit (i32 dest, i32 src, i32 n, i32 elem, i32 table)
//   ElemDrop  (i32 elem)
//   TableCopy (i32 dest, i32 src, i32 n, i32 dstTable, i32 srcTable)
//   TableFill (i32 index, ref value, i32 n, i32 table), one per ref type.
// A marker's body is `unreachable`; it is never compiled.
enum class TableMarker : uint8_t {
  TableInit,
  ElemDrop,
  TableCopy,
  TableFillFuncRef,
  TableFillExternRef,
};

// What the front end hands to the compiler: Binaryen IR plus the module info
// decoded by Nomos (the two agree on every index space; Binaryen's functions
// continue past info.functions with the markers).
struct LoadedModule {
  wasm::ModuleInfo info;
  std::unique_ptr<::wasm::Module, BinaryenModuleDeleter> binaryen;
  // Binaryen function info.functions.size() + i is markers[i].
  std::vector<TableMarker> markers;
};

// Decodes and validates with Nomos's own validator first, and only then lets
// Binaryen read the function bodies (Binaryen's reader exits the process on
// bad input, and on some valid input outside the bodies, so it reads a
// rewrite of the module: metering/src/binaryen_input.h).
Expected<LoadedModule> loadModule(std::span<const uint8_t> bytes);

} // namespace nomos::metering
