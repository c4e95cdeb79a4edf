// Writing the wasm binary format: LEB128 integers and names, for the binary
// Nomos hands to Binaryen (binaryen_input.cpp, code_rewrite.cpp).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace nomos::metering {

inline void appendLeb(std::vector<char> &out, uint64_t value) {
  do {
    uint8_t byte = value & 0x7f;
    value >>= 7;
    if (value)
      byte |= 0x80;
    out.push_back(static_cast<char>(byte));
  } while (value);
}

inline void appendSleb(std::vector<char> &out, int64_t value) {
  for (;;) {
    uint8_t byte = value & 0x7f;
    value >>= 7; // arithmetic shift
    bool done = (value == 0 && !(byte & 0x40)) || (value == -1 && (byte & 0x40));
    if (!done)
      byte |= 0x80;
    out.push_back(static_cast<char>(byte));
    if (done)
      return;
  }
}

inline void appendName(std::vector<char> &out, std::string_view name) {
  appendLeb(out, name.size());
  out.insert(out.end(), name.begin(), name.end());
}

} // namespace nomos::metering
