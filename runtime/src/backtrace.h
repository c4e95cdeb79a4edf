// Wasm backtraces of traps (docs/sandbox.md "Traps and backtraces").
// Generated code keeps frame pointers, and so does the runtime, so the
// native frame chain from the trap point through the guest's frames is
// walkable; a process-wide map from code addresses to the wasm functions
// of every linked module turns return addresses into frames.
#pragma once

#include "jit.h"

#include <nomos/error.h>

#include <cstdint>
#include <vector>

namespace nomos {

class Module;

// What a range of generated code is.
enum class CodeKind : uint8_t {
  Function,  // a wasm function (or its metered body): a frame
  Forwarder, // a host adapter, or the wrapper of a metered body: not a frame
  Thunk,     // an invoke thunk: the outermost guest frame is below it
};

struct CodeRange {
  uintptr_t start;
  uintptr_t end;
  CodeKind kind;
  uint32_t functionIndex; // for CodeKind::Function
};

// Registers the code of `module` (which must stay alive until
// unregisterCode) for backtraces.
void registerCode(const Module &module, std::vector<CodeRange> ranges);
void unregisterCode(const Module &module);

// The code ranges of a module's linked symbols, by their names
// (compiler/src/lower_module.cpp): wasm functions, their metered bodies,
// invoke thunks and host adapters. `functionTable` maps function index to
// entry address (null for imports).
std::vector<CodeRange> classifyCode(const std::vector<CodeSymbol> &symbols,
                                    void *const *functionTable,
                                    uint32_t functionCount);

// The wasm frames (innermost first, at most kMaxBacktraceFrames) of the
// frame chain that starts at frame pointer `fp`, no frame at or above
// `top` (a frame of the invoke that catches the trap). Frames of the
// runtime before the first guest frame are skipped; the walk stops at the
// invoke thunk. Reads only stack memory in [fp, top).
inline constexpr size_t kMaxBacktraceFrames = 64;
std::vector<Frame> walkBacktrace(const void *fp, const void *top);

} // namespace nomos
