// The disk cache's directory, as the CLI manages it (docs/cache.md).
#pragma once

#include <nomos/error.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace nomos {

// One entry of a cache directory.
struct CacheEntryInfo {
  std::string key;  // hex BLAKE3 key (the file is <key>.nomos)
  uint64_t bytes = 0;
  // The last write or disk hit of the entry, in any process (its mtime).
  std::chrono::system_clock::time_point lastUse;
};

// The entries of `dir`, least recently used first (none if `dir` does not
// exist). Temporary files of writers are not entries.
NOMOS_API std::vector<CacheEntryInfo> listCacheEntries(const std::string &dir);

// Removes every entry (and leftover temporary file) of `dir`; the number of
// entries removed. Other files are left alone.
NOMOS_API Expected<size_t> clearCache(const std::string &dir);

} // namespace nomos
