// Writes the seed corpus of fuzz_cache_entry: valid entries (for the
// fixture's key and configuration) with payloads of a few sizes.
#include "cache_entry_fixture.h"

#include <cstdio>
#include <filesystem>

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s <corpus dir>\n", argv[0]);
    return 2;
  }
  std::filesystem::create_directories(argv[1]);
  for (size_t size : {0, 1, 64, 1000}) {
    std::string dir = std::string(argv[1]) + "/tmp" + std::to_string(size);
    std::filesystem::create_directories(dir);
    nomos::DiskCache disk(dir, UINT64_MAX); // no eviction
    std::vector<uint8_t> payload(size);
    for (size_t i = 0; i < size; ++i)
      payload[i] = uint8_t(i * 31);
    if (!disk.write(nomos::fuzz::fixtureKey(), nomos::fuzz::fixtureParts(), payload))
      return 1;
    std::filesystem::rename(disk.pathOf(nomos::fuzz::fixtureKey()),
                            std::string(argv[1]) + "/entry" + std::to_string(size));
    std::filesystem::remove_all(dir);
  }
  return 0;
}
