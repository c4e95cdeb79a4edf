// Makes a valid wasm module out of arbitrary bytes, for fuzz_run: the bytes
// choose functions, signatures and expression trees (integer and float
// arithmetic, conversions, memory, locals, calls, if/select/block/loop,
// counted loops over memory),
// which Binaryen's C API assembles and writes.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace nomos::fuzz {

// Always a valid module (MVP + sign-ext + non-trapping float-to-int): one
// memory of one page (maximum 2), and 1 to 4 functions, all exported as
// "f0".."f3". Loops and recursion are bounded only by gas.
std::vector<uint8_t> generateModule(std::span<const uint8_t> bytes);

} // namespace nomos::fuzz
