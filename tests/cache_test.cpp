// The disk cache of compiled code (docs/cache.md).
#include "test_util.h"

#include <filesystem>
#include <algorithm>
#include <chrono>
#include <fstream>
#include <regex>
#include <thread>
#include <dlfcn.h>
#include <elf.h>
#include <unistd.h>

namespace nomos::test {
namespace {

namespace fs = std::filesystem;

// A fresh cache directory per test, removed afterwards.
class DiskCache : public testing::Test {
protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("nomos-cache-test-" + std::to_string(::getpid()) + "-" +
            testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::shared_ptr<Engine> engine(EngineOptions options = {}) {
    options.cacheDir = dir_.string();
    return std::make_shared<Engine>(options);
  }
  std::vector<fs::path> entries() const {
    std::vector<fs::path> out;
    if (fs::exists(dir_))
      for (const auto &e : fs::directory_iterator(dir_))
        out.push_back(e.path());
    return out;
  }
  // Runs gas.wasm's loop(10) on `engine`: results and gas.
  static std::pair<int32_t, uint64_t> runLoop(std::shared_ptr<Engine> engine) {
    VM vm = loadVM(watModule("gas"), {.engine = engine});
    auto result = vm.call("loop", std::vector{Value::i32(10)}, 1'000'000);
    EXPECT_TRUE(result) << result.error().toString();
    if (!result)
      return {0, 0};
    return {result->results[0].asI32(), result->gasUsed};
  }

  fs::path dir_;
};

TEST_F(DiskCache, SecondEngineCompilesNothing) {
  auto first = engine();
  auto expected = runLoop(first);
  EngineStats s1 = first->stats();
  EXPECT_EQ(s1.compiles, 1u);
  EXPECT_EQ(s1.diskMisses, 1u);
  EXPECT_EQ(s1.diskHits, 0u);
  ASSERT_EQ(entries().size(), 1u); // no temporary file left behind

  auto second = engine();
  EXPECT_EQ(runLoop(second), expected);
  EngineStats s2 = second->stats();
  EXPECT_EQ(s2.compiles, 0u);
  EXPECT_EQ(s2.diskHits, 1u);
  EXPECT_EQ(s2.diskRejected, 0u);
  // The same engine again: the memory cache.
  EXPECT_EQ(runLoop(second), expected);
  EXPECT_EQ(second->stats().memoryHits, 1u);
  EXPECT_EQ(second->stats().compiles, 0u);
}

// The GNU build-id note of the ELF file at `path`, in hex, read from the
// file's program headers (the runtime reads the loaded copy's).
std::string buildIdOfFile(const char *path) {
  std::ifstream in(path, std::ios::binary);
  std::string file((std::istreambuf_iterator<char>(in)), {});
  if (file.size() < sizeof(Elf64_Ehdr))
    return {};
  auto *header = reinterpret_cast<const Elf64_Ehdr *>(file.data());
  for (unsigned i = 0; i < header->e_phnum; ++i) {
    size_t at = header->e_phoff + size_t(i) * header->e_phentsize;
    if (at + sizeof(Elf64_Phdr) > file.size())
      return {};
    auto *segment = reinterpret_cast<const Elf64_Phdr *>(file.data() + at);
    if (segment->p_type != PT_NOTE || segment->p_offset + segment->p_filesz > file.size())
      continue;
    for (size_t note = segment->p_offset, end = note + segment->p_filesz;
         note + sizeof(Elf64_Nhdr) <= end;) {
      auto *nhdr = reinterpret_cast<const Elf64_Nhdr *>(file.data() + note);
      size_t desc = note + sizeof(Elf64_Nhdr) + ((nhdr->n_namesz + 3) & ~3u);
      note = desc + ((nhdr->n_descsz + 3) & ~3u);
      if (nhdr->n_type != NT_GNU_BUILD_ID || note > end)
        continue;
      std::string hex;
      for (unsigned j = 0; j < nhdr->n_descsz; ++j) {
        char byte[3];
        std::snprintf(byte, sizeof byte, "%02x", static_cast<unsigned char>(file[desc + j]));
        hex += byte;
      }
      return hex;
    }
  }
  return {};
}

// Entries are keyed by the build-id of the libnomos in memory, not by its
// file, which an upgrade may replace while a process runs (docs/cache.md).
TEST_F(DiskCache, EntriesNameTheLoadedBuild) {
  runLoop(engine());
  ASSERT_EQ(entries().size(), 1u);
  std::ifstream in(entries()[0], std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  std::smatch match;
  ASSERT_TRUE(std::regex_search(text, match, std::regex("build = build-id ([0-9a-f]{16,})\n")))
      << text.substr(0, 400);
  // The library this test runs with (not replaced while it runs) names the same build.
  Dl_info library;
  ASSERT_TRUE(dladdr(reinterpret_cast<void *>(&parseValue), &library));
  EXPECT_EQ(match[1].str(), buildIdOfFile(library.dli_fname)) << library.dli_fname;
}

TEST_F(DiskCache, ResultsAndGasIdenticalWithoutCache) {
  for (unsigned opt : {0u, 2u}) {
    EngineOptions options{.optLevel = opt};
    auto uncached = std::make_shared<Engine>(options);
    auto expected = runLoop(uncached);
    EXPECT_EQ(expected.first, 55);
    EXPECT_EQ(expected.second, 124u);
    EXPECT_EQ(runLoop(engine(options)), expected); // cold: fills the cache
    auto warm = engine(options);
    EXPECT_EQ(runLoop(warm), expected);
    EXPECT_EQ(warm->stats().diskHits, 1u);
  }
}

TEST_F(DiskCache, OptLevelMeteringScheduleAndMemoryStrategyMiss) {
  runLoop(engine());
  EngineOptions o0{.optLevel = 0};
  EngineOptions unmetered;
  unmetered.metering = false;
  EngineOptions otherSchedule;
  otherSchedule.schedule.branch = 2;
  EngineOptions otherMemory; // the strategy the default is not
  otherMemory.memory = otherMemory.memory == MemoryStrategy::GuardPages
                           ? MemoryStrategy::ExplicitChecks
                           : MemoryStrategy::GuardPages;
  for (EngineOptions options : {o0, unmetered, otherSchedule, otherMemory}) {
    auto e = engine(options);
    VM vm = loadVM(watModule("gas"), {.engine = e});
    EXPECT_EQ(e->stats().compiles, 1u);
    EXPECT_EQ(e->stats().diskMisses, 1u);
    EXPECT_EQ(e->stats().diskHits, 0u);
  }
  EXPECT_EQ(entries().size(), 5u);
}

TEST_F(DiskCache, NoCacheDirWritesNothing) {
  auto e = std::make_shared<Engine>();
  runLoop(e);
  EXPECT_EQ(e->stats().compiles, 1u);
  EXPECT_EQ(e->stats().diskMisses, 0u);
  EXPECT_FALSE(fs::exists(dir_));
  EXPECT_FALSE(Engine().options().cacheDir.has_value());
}

// Corrupt, truncated, foreign or empty entries are ignored, rebuilt and
// rewritten; the call still succeeds.
TEST_F(DiskCache, BadEntriesAreRebuilt) {
  auto expected = runLoop(engine());
  ASSERT_EQ(entries().size(), 1u);
  fs::path entry = entries()[0];
  std::ifstream in(entry, std::ios::binary);
  std::string good((std::istreambuf_iterator<char>(in)), {});
  in.close();
  ASSERT_GT(good.size(), 200u);

  std::string flipped = good;
  flipped[flipped.size() - 100] ^= 0x40;     // payload byte
  std::string header = good;
  header[20] ^= 0x01;                        // a byte of the key's parts
  std::vector<std::string> bad = {
      flipped, header,
      good.substr(0, good.size() / 2),       // truncated
      good.substr(0, 10),                    // truncated in the header
      std::string(good.size(), 'x'),         // foreign
      ""};                                   // empty
  for (size_t i = 0; i < bad.size(); ++i) {
    SCOPED_TRACE(i);
    std::ofstream(entry, std::ios::binary | std::ios::trunc) << bad[i];
    auto e = engine();
    EXPECT_EQ(runLoop(e), expected);
    EXPECT_EQ(e->stats().diskRejected, 1u);
    EXPECT_EQ(e->stats().compiles, 1u);
    // Rewritten: the next engine hits.
    auto again = engine();
    EXPECT_EQ(runLoop(again), expected);
    EXPECT_EQ(again->stats().diskHits, 1u);
    EXPECT_EQ(again->stats().compiles, 0u);
  }
}

TEST_F(DiskCache, UnwritableDirectoryStillRuns) {
  fs::create_directories(dir_.parent_path());
  std::ofstream(dir_.string()) << "a file, not a directory";
  auto e = engine();
  EXPECT_EQ(runLoop(e).first, 55);
  EXPECT_EQ(e->stats().compiles, 1u);
  fs::remove(dir_);
}

// Engines filling one directory at once (as processes would: each writes
// a temporary file of its own, then renames) all succeed.
TEST_F(DiskCache, ConcurrentFillersAllSucceed) {
  std::vector<std::pair<int32_t, uint64_t>> results(4);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < results.size(); ++i)
    threads.emplace_back([&, i] { results[i] = runLoop(engine()); });
  for (std::thread &t : threads)
    t.join();
  for (const auto &r : results)
    EXPECT_EQ(r, std::make_pair(55, uint64_t(124)));
  ASSERT_EQ(entries().size(), 1u);
  auto after = engine();
  runLoop(after);
  EXPECT_EQ(after->stats().diskHits, 1u);
}

// The entry's size of each module, compiled in a directory of its own.
std::vector<uint64_t> entrySizes(const std::vector<Bytes> &modules,
                                 const fs::path &dir) {
  EngineOptions options;
  options.cacheDir = dir.string();
  std::vector<uint64_t> sizes;
  for (const Bytes &code : modules) {
    fs::remove_all(dir);
    Engine engine(options);
    EXPECT_TRUE(engine.load(code));
    auto entries = listCacheEntries(dir.string());
    EXPECT_EQ(entries.size(), 1u);
    sizes.push_back(entries.empty() ? 0 : entries[0].bytes);
  }
  fs::remove_all(dir);
  return sizes;
}

// mtime has nanoseconds here, but a coarse file system would order uses
// made within one tick arbitrarily.
void nextTick() { std::this_thread::sleep_for(std::chrono::milliseconds(20)); }

TEST_F(DiskCache, DiskHitRecordsUse) {
  runLoop(engine());
  auto before = listCacheEntries(dir_.string());
  ASSERT_EQ(before.size(), 1u);
  nextTick();
  auto e = engine();
  runLoop(e);
  ASSERT_EQ(e->stats().diskHits, 1u);
  auto after = listCacheEntries(dir_.string());
  ASSERT_EQ(after.size(), 1u);
  EXPECT_GT(after[0].lastUse, before[0].lastUse);
}

// Three modules A, B, C under a bound that holds A and B, or A and C, but
// not all three: A was written first but used (a disk hit) after B, so
// writing C evicts B only.
TEST_F(DiskCache, LeastRecentlyUsedIsEvicted) {
  std::vector<Bytes> modules = {watModule("gas"), watModule("arith"),
                                watModule("control")};
  auto sizes = entrySizes(modules, dir_.string() + "-sizes");
  EngineOptions options;
  options.cacheMaxBytes = sizes[0] + std::max(sizes[1], sizes[2]);
  ASSERT_LT(options.cacheMaxBytes, sizes[0] + sizes[1] + sizes[2]);

  auto writer = engine(options);
  ASSERT_TRUE(writer->load(modules[0]));
  nextTick();
  ASSERT_TRUE(writer->load(modules[1]));
  EXPECT_EQ(writer->stats().diskEvicted, 0u); // A and B fit
  nextTick();
  auto user = engine(options);
  ASSERT_TRUE(user->load(modules[0]));
  ASSERT_EQ(user->stats().diskHits, 1u);
  nextTick();
  ASSERT_TRUE(user->load(modules[2]));
  EXPECT_EQ(user->stats().diskWrites, 1u);
  EXPECT_EQ(user->stats().diskEvicted, 1u);

  auto entries = listCacheEntries(dir_.string());
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].bytes + entries[1].bytes, sizes[0] + sizes[2]);
  // A and C hit, B compiles again.
  auto reader = engine(); // the default bound: nothing more is evicted
  std::vector<uint64_t> compiles;
  for (const Bytes &code : modules) {
    ASSERT_TRUE(reader->load(code));
    compiles.push_back(reader->stats().compiles);
  }
  EXPECT_EQ(compiles, (std::vector<uint64_t>{0, 1, 1}));
  EXPECT_EQ(reader->stats().diskHits, 2u);
  EXPECT_EQ(reader->stats().diskEvicted, 0u);
}

// An entry larger than the bound stays until the next write: the entry
// just written is never evicted.
TEST_F(DiskCache, BoundSmallerThanOneEntryKeepsTheNewest) {
  EngineOptions options;
  options.cacheMaxBytes = 1;
  auto e = engine(options);
  ASSERT_TRUE(e->load(watModule("gas")));
  ASSERT_TRUE(e->load(watModule("arith")));
  EXPECT_EQ(e->stats().diskWrites, 2u);
  EXPECT_EQ(e->stats().diskEvicted, 1u);
  ASSERT_EQ(entries().size(), 1u);
  auto again = engine(options);
  ASSERT_TRUE(again->load(watModule("arith")));
  EXPECT_EQ(again->stats().diskHits, 1u);
}

// Writers' temporary files older than an hour were left by dead processes:
// the next eviction pass removes them; a fresh one (a live writer's) stays.
TEST_F(DiskCache, StaleTemporaryFilesAreRemoved) {
  fs::create_directories(dir_);
  fs::path stale = dir_ / ".abc.tmp.1.2", fresh = dir_ / ".abc.tmp.3.4";
  std::ofstream(stale) << "half an entry";
  std::ofstream(fresh) << "half an entry";
  fs::last_write_time(stale,
                      fs::file_time_type::clock::now() - std::chrono::hours(2));
  runLoop(engine());
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::exists(fresh));
}

TEST_F(DiskCache, ListAndClear) {
  EXPECT_TRUE(listCacheEntries(dir_.string()).empty()); // no directory
  auto e = engine();
  ASSERT_TRUE(e->load(watModule("gas")));
  nextTick();
  ASSERT_TRUE(e->load(watModule("arith")));
  std::ofstream(dir_ / "notes.txt") << "not an entry";
  std::ofstream(dir_ / ".x.tmp.1.2") << "a writer's temporary file";

  auto listed = listCacheEntries(dir_.string());
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_LE(listed[0].lastUse, listed[1].lastUse); // least recent first
  for (const CacheEntryInfo &entry : listed) {
    EXPECT_EQ(entry.key.size(), 64u);
    EXPECT_EQ(fs::file_size(dir_ / (entry.key + ".nomos")), entry.bytes);
  }
  auto removed = clearCache(dir_.string());
  ASSERT_TRUE(removed) << removed.error().toString();
  EXPECT_EQ(*removed, 2u);
  EXPECT_TRUE(listCacheEntries(dir_.string()).empty());
  EXPECT_TRUE(fs::exists(dir_ / "notes.txt"));
  EXPECT_FALSE(fs::exists(dir_ / ".x.tmp.1.2"));
  EXPECT_EQ(*clearCache(dir_.string() + "-absent"), 0u);
}

TEST(CacheDir, DefaultFollowsXdg) {
  const char *old = std::getenv("XDG_CACHE_HOME");
  std::string saved = old ? old : "";
  setenv("XDG_CACHE_HOME", "/some/where", 1);
  EXPECT_EQ(defaultCacheDir(), "/some/where/nomos");
  if (old)
    setenv("XDG_CACHE_HOME", saved.c_str(), 1);
  else
    unsetenv("XDG_CACHE_HOME");
}

} // namespace
} // namespace nomos::test
