#include <nomos/metering/binaryen_module.h>

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

  if (info->usesBlockParams)
    return makeError(ErrorKind::Unsupported,
                     "blocks with parameters (multi-value) are not supported "
                     "yet: Binaryen 108 cannot read them");
  if (info->usesTableBulkOps)
    return makeError(ErrorKind::Unsupported,
                     "table.init, elem.drop, table.copy and table.fill are "
                     "not supported yet: Binaryen 108 cannot read them");
  if (info->hasNameWithNul)
    return makeError(ErrorKind::Unsupported,
                     "a NUL byte in an import, export, custom section or "
                     "name-section name is not supported yet: Binaryen 108 "
                     "cannot read it");
  if (info->usesDeclarativeElemExprs)
    return makeError(ErrorKind::Unsupported,
                     "a declarative element segment of expressions is not "
                     "supported yet: Binaryen 108 cannot read it");
  if (info->usesExternRefElemSegment)
    return makeError(ErrorKind::Unsupported,
                     "an externref element segment is not supported yet: "
                     "Binaryen 108 cannot read it");
  if (info->hasCustomSectionBinaryenRejects)
    return makeError(ErrorKind::Unsupported,
                     "a \"name\", \"target_features\", \"dylink\" or "
                     "\"dylink.0\" custom section that Binaryen 108 cannot "
                     "parse is not supported yet: Binaryen 108 cannot read it");
  // BinaryenModuleRead takes a mutable buffer.
  std::vector<char> copy(bytes.begin(), bytes.end());
  LoadedModule loaded{std::move(*info), {}};
  loaded.binaryen.reset(BinaryenModuleRead(copy.data(), copy.size()));
  // Nomos's validator is the authority: Binaryen's is stricter than the spec
  // in places (it checks data and element segments against the initial
  // memory and table sizes, where the spec traps at instantiation), and
  // Nomos takes segments from its own ModuleInfo, never from Binaryen.
  BinaryenModuleSetFeatures(loaded.binaryen.get(), webAssembly20Features());
  return loaded;
}

} // namespace nomos::metering
