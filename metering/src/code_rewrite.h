// Function-body rewrites for constructs Binaryen 108 cannot read (internal
// to metering/; used by binaryen_input.cpp).
//
// Binaryen 108's reader ends the process on two kinds of valid code:
//
// - Blocks, loops and ifs whose type index has parameters (multi-value block
//   inputs). Each such construct takes its inputs from locals instead: the
//   values are stored into scratch locals right before it, and read back as
//   the first thing inside it (in both arms of an if, which gets an `else`
//   if it had none). The construct's type loses its parameters (0x40, one
//   value type, or a type index of [] -> results, appended when the module
//   has none). A branch to a loop with parameters carries those values into
//   the loop again, so it stores them into the same scratch locals first:
//     br L        -> local.set t_k .. t_1; br L
//     br_if L     -> local.set c; local.set t_k .. t_1;
//                    local.get t_1 .. t_k; local.get c; br_if L
//     br_table    -> (when a target is such a loop) the index and the values
//                    go to locals, then a br_table over N new empty blocks
//                    (one per distinct target) dispatches to code that
//                    branches to the target: a loop's inputs are already in
//                    its scratch locals, a block's values are read back.
//   Scratch locals are appended to the function's locals, one pool per value
//   type: the i-th value of type T in a parameter list always uses the i-th
//   scratch local of type T, so a loop's inputs and the values a br_table
//   stored are in the same locals. Every scratch local is read right after
//   it is written (before any other instruction of the original code runs),
//   so one pool serves every nesting level. `c` is a separate i32.
//
// - table.init, elem.drop, table.copy and table.fill (0xfc 12, 13, 14, 17),
//   which its reader does not know. Each becomes a call of a "marker"
//   function appended at the end of the function index space (so no index
//   moves), one per kind used, whose body is `unreachable`; the immediates
//   become i32.const arguments after the instruction's own operands. The
//   compiler lowers a call of a marker to the runtime function (see
//   metering::TableMarker) and never compiles a marker's body.
#pragma once

#include <nomos/metering/binaryen_module.h>
#include <nomos/metering/module_info.h>

#include <cstdint>
#include <span>
#include <vector>

namespace nomos::metering {

struct CodeRewrite {
  // info.types, then the types the rewrite added (block types without
  // parameters, marker signatures). Existing indices do not change.
  std::vector<wasm::FuncType> types;
  // Payloads of the new function and code sections: the module's defined
  // functions (bodies rewritten where needed, copied otherwise), then the
  // markers.
  std::vector<char> functionSection;
  std::vector<char> codeSection;
  // markers[i] is function info.functions.size() + i.
  std::vector<TableMarker> markers;
};

// `code` is the payload of the code section of a module decodeModule
// accepted (so every body is well-formed and valid).
CodeRewrite rewriteCode(std::span<const uint8_t> code,
                        const wasm::ModuleInfo &info);

// The name given to a marker function in the name section.
const char *markerName(TableMarker marker);

} // namespace nomos::metering
