// The key and configuration text fuzz_cache_entry reads entries for, and
// make_cache_seeds writes its seed entries with.
#pragma once

#include "../runtime/src/disk_cache.h"

namespace nomos::fuzz {

inline CacheKey fixtureKey() {
  CacheKey key{};
  for (size_t i = 0; i < key.size(); ++i)
    key[i] = uint8_t(i * 7 + 1);
  return key;
}

inline const std::string &fixtureParts() {
  static const std::string text = [] {
    CacheKeyParts parts;
    parts.nomosVersion = "0.1.0";
    parts.build = "fuzz";
    parts.llvmVersion = "19.1.7";
    parts.triple = "x86_64-pc-linux-gnu";
    parts.cpu = "x86-64";
    parts.gasSchedule = "none";
    return parts.text();
  }();
  return text;
}

} // namespace nomos::fuzz
