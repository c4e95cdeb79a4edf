// The disk cache of compiled objects (docs/cache.md).
#pragma once

#include <nomos/cache.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace nomos {

using CacheKey = std::array<uint8_t, 32>;

// Everything that changes the generated code, besides the code itself.
struct CacheKeyParts {
  std::string nomosVersion;
  std::string build;       // build-id of the loaded libnomos (a rebuild misses)
  std::string llvmVersion;
  std::string triple, cpu, features;
  std::string gasSchedule; // hex BLAKE3 of the schedule, "none" unmetered
  bool metering = true;
  bool gasInRegister = true;
  unsigned optLevel = 2;
  std::string memory; // the memory strategy

  // A canonical text (key = value lines), stored in each entry's header.
  std::string text() const;
};

// BLAKE3 of the code's hash and the parts' text.
CacheKey cacheKey(const std::array<uint8_t, 32> &codeHash,
                  const std::string &partsText);
std::string hexOf(const CacheKey &key);

// One directory of entries named <hex key>.nomos.
// Bounded by size: after a write, the least recently used entries go.
class DiskCache {
public:
  DiskCache(std::string dir, uint64_t maxBytes)
      : dir_(std::move(dir)), maxBytes_(maxBytes) {}

  enum class Lookup { Hit, Miss, Rejected };
  // Reads the entry of `key`; its header must name exactly `partsText`, its
  // payload must match the checksum. `why` says why an entry was rejected.
  Lookup read(const CacheKey &key, const std::string &partsText,
              std::vector<uint8_t> &object, std::string &why) const;
  // Writes atomically (a temporary file in the directory, then rename).
  // Best effort: false if it could not.
  bool write(const CacheKey &key, const std::string &partsText,
             const std::vector<uint8_t> &object) const;
  // Records a use of the entry (its mtime), for least-recently-used
  // eviction across processes.
  void touch(const CacheKey &key) const;
  // Removes least recently used entries, never `keep` (the entry just
  // written), until the entries fit the bound; how many it removed. Other
  // processes may remove the same files at the same time.
  size_t evict(const CacheKey &keep) const;
  std::string pathOf(const CacheKey &key) const;
  const std::string &dir() const { return dir_; }
  uint64_t maxBytes() const { return maxBytes_; }

private:
  std::string dir_;
  uint64_t maxBytes_;
};

// Header layout, for docs and tests.
inline constexpr char kCacheMagic[8] = {'N', 'O', 'M', 'O', 'S', 'A', 'O', 'T'};
inline constexpr uint32_t kCacheFormatVersion = 1;

} // namespace nomos
