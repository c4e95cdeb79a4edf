// The binary Nomos hands to Binaryen's reader (internal to metering/).
#pragma once

#include <nomos/metering/binaryen_module.h>
#include <nomos/metering/module_info.h>

#include <cstdint>
#include <span>
#include <vector>

namespace nomos::metering {

// Rewrites a module that decodeModule accepted into the binary Binaryen 108
// reads: only what the function bodies need, in a form its reader cannot
// refuse. Binaryen's reader ends the process (_Exit) on several valid
// constructs outside function bodies (NUL bytes in names, declarative element
// segments of expressions, externref element segments, custom sections whose
// contents its parser rejects, clashing function names), and Nomos takes
// everything outside the bodies from its own ModuleInfo anyway.
//
// - Type, function, table, memory, global, data count and code sections are
//   copied verbatim (but see the rewrite below): every index space stays
//   the same.
// - The import section is re-encoded with the same kinds and descriptors in
//   the same order, under ASCII names (module "m", field "i<N>").
// - Export, start and element sections and every custom section are
//   dropped. Binaryen does not need an element segment to read a `ref.func`
//   (the declaration rule is validation, which ours has done).
// - The data section keeps its number of segments, each passive and empty,
//   so that `memory.init` and `data.drop` segment indices (and the data
//   count) stay valid.
// - A "name" section with one function-names subsection is appended, built
//   from ModuleInfo::functionNames, naming every function (unnamed ones by
//   their index), so that Binaryen's IR and the LLVM functions keep the
//   module's names (see binaryen_input.cpp for what Binaryen accepts).
//
// Function bodies Binaryen 108 cannot read (blocks with parameters, table
// bulk operations) are rewritten (code_rewrite.h): then the type, function
// and code sections are re-encoded, with new types and the marker
// functions appended, and `markers` lists those functions.
std::vector<char> binaryenInput(std::span<const uint8_t> bytes,
                                const wasm::ModuleInfo &info,
                                std::vector<TableMarker> &markers);

} // namespace nomos::metering
