#include <nomos/metering/binaryen_module.h>

#include "binaryen_input.h"

#include <binaryen-c.h>

#include <vector>

namespace nomos::metering {

void BinaryenModuleDeleter::operator()(::wasm::Module *module) const {
  BinaryenModuleDispose(module);
}

// The WebAssembly 2.0 feature set. Threads and relaxed SIMD are not
// deterministic and are never enabled (decodeModule rejects them first).
static BinaryenFeatures webAssembly20Features() {
  return BinaryenFeatureMVP() | BinaryenFeatureSignExt() |
         BinaryenFeatureMutableGlobals() |
         BinaryenFeatureNontrappingFPToInt() | BinaryenFeatureMultivalue() |
         BinaryenFeatureBulkMemory() | BinaryenFeatureReferenceTypes() |
         BinaryenFeatureSIMD128();
}

Expected<LoadedModule> loadModule(std::span<const uint8_t> bytes) {
  auto info = wasm::decodeModule(bytes);
  if (!info)
    return tl::unexpected(info.error());

  // Binaryen reads a rewrite of the module holding only what the function
  // bodies need (binaryen_input.h): its reader ends the process on valid
  // names, segments and custom sections that Nomos takes from ModuleInfo,
  // and on blocks with parameters and table bulk operations, which the
  // rewrite expresses otherwise (code_rewrite.h).
  // BinaryenModuleRead takes a mutable buffer.
  std::vector<TableMarker> markers;
  std::vector<char> input = binaryenInput(bytes, *info, markers);
  LoadedModule loaded{std::move(*info), {}, std::move(markers)};
  loaded.binaryen.reset(BinaryenModuleRead(input.data(), input.size()));
  // Binaryen's validator is not run: Nomos's is the authority. Binaryen's is
  // stricter than the spec in places (it checks segments against the
  // initial memory and table sizes, where the spec traps at instantiation),
  // and the rewrite leaves out what it would check against (the element
  // segments that declare `ref.func` targets, the segments' contents).
  BinaryenModuleSetFeatures(loaded.binaryen.get(), webAssembly20Features());
  return loaded;
}

} // namespace nomos::metering
