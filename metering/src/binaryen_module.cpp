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

  // BinaryenModuleRead takes a mutable buffer.
  std::vector<char> copy(bytes.begin(), bytes.end());
  LoadedModule loaded{std::move(*info), {}};
  loaded.binaryen.reset(BinaryenModuleRead(copy.data(), copy.size()));
  BinaryenModuleSetFeatures(loaded.binaryen.get(), webAssembly20Features());
  if (!BinaryenModuleValidate(loaded.binaryen.get()))
    return makeError(ErrorKind::InvalidModule,
                     "Binaryen's validator rejected a module that Nomos's "
                     "validator accepted (details on stderr)");
  return loaded;
}

} // namespace nomos::metering
