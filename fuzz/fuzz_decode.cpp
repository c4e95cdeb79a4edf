// libFuzzer target: arbitrary bytes as a module. Engine::load decodes and
// validates them (our own decoder, metering/src/module_info.cpp); what
// passes is rewritten for Binaryen, metered and compiled. Any input must
// give a module or an error value, never a crash.
#include "run_exports.h"

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // -O0: the code generator's speed matters more here than its output.
  nomos::Engine &engine = nomos::fuzz::reusedEngine({.optLevel = 0});
  auto module = engine.load(nomos::ByteView(data, size));
  if (module)
    return 0;
  // Only input errors: anything else (a compile or link failure) means the
  // validator accepted what the back end cannot handle.
  switch (module.error().kind) {
  case nomos::ErrorKind::MalformedModule:
  case nomos::ErrorKind::InvalidModule:
  case nomos::ErrorKind::Unsupported:
    return 0;
  default:
    abort();
  }
}
