// libFuzzer target: arbitrary bytes as a disk-cache entry file
// (runtime/src/disk_cache.cpp, docs/cache.md). Reading must reject
// everything but a well-formed entry of the expected key and configuration
// with a matching checksum, and say why; a hit must give back exactly the
// payload that writing it would store.
#include "cache_entry_fixture.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace {

// A directory of its own, removed at exit; in memory when there is
// /dev/shm, since the target writes a file per input.
struct ScratchCache {
  std::filesystem::path dir;
  nomos::DiskCache disk;
  ScratchCache() : dir(makeDir()), disk(dir.string(), UINT64_MAX) {}
  ~ScratchCache() { std::filesystem::remove_all(dir); }

  static std::filesystem::path makeDir() {
    std::filesystem::path base = std::filesystem::exists("/dev/shm")
                                     ? "/dev/shm"
                                     : std::filesystem::temp_directory_path();
    auto dir = base / ("nomos-fuzz-cache-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    return dir;
  }
};

const nomos::DiskCache &cache() {
  static ScratchCache scratch;
  return scratch.disk;
}

std::vector<uint8_t> readFile(const std::string &path) {
  std::ifstream file(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(file), {}};
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  using nomos::DiskCache;
  const DiskCache &disk = cache();
  std::string path = disk.pathOf(nomos::fuzz::fixtureKey());
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char *>(data), std::streamsize(size));
  std::vector<uint8_t> object;
  std::string why;
  DiskCache::Lookup lookup =
      disk.read(nomos::fuzz::fixtureKey(), nomos::fuzz::fixtureParts(), object, why);
  if (lookup == DiskCache::Lookup::Miss)
    abort(); // the file is there
  if (lookup == DiskCache::Lookup::Rejected) {
    if (why.empty())
      abort();
    return 0;
  }
  // A hit: writing the object back must give the same file.
  if (!disk.write(nomos::fuzz::fixtureKey(), nomos::fuzz::fixtureParts(), object))
    abort();
  if (readFile(path) != std::vector<uint8_t>(data, data + size)) {
    fprintf(stderr, "an accepted entry is not what writing its payload gives\n");
    abort();
  }
  return 0;
}
