// State: the LMDB store, storage limits (children's included) and
// self-upgrade, with tests/guests/stateful.cpp and tests/wat/stateful_v2.wat.
#include <nomos/nomos.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include <csignal>
#include <sys/wait.h>
#include <unistd.h>

using namespace nomos;

namespace {

Bytes readFile(const std::string &path) {
  std::ifstream file(path, std::ios::binary);
  EXPECT_TRUE(file.good()) << "cannot open " << path;
  return Bytes(std::istreambuf_iterator<char>(file), {});
}

VM loadVM(const Bytes &code, VMOptions options = {}) {
  auto vm = VM::create(code, std::move(options));
  if (!vm)
    throw std::runtime_error("module failed to load: " + vm.error().toString());
  return std::move(*vm);
}

// A fresh directory for LMDB files, removed at the end of the test.
class TempDir {
public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "nomos-state-XXXXXX").string();
    if (!mkdtemp(pattern.data()))
      throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string file(const std::string &name) const { return path_ / name; }

private:
  std::filesystem::path path_;
};

std::shared_ptr<LmdbStore> openLmdb(const std::string &path,
                                    LmdbOptions options = {}) {
  auto store = LmdbStore::open(path, options);
  if (!store)
    throw std::runtime_error(store.error().toString());
  return *store;
}

template <class T> T valueOf(const VM &vm, const char *key) {
  auto value = vm.get(key);
  EXPECT_TRUE(value.has_value()) << key;
  return decode<T>(value.value_or(Bytes{})).value_or(T(-1));
}

int32_t version(VM &vm) {
  auto result = vm.call("version");
  EXPECT_TRUE(result) << result.error().toString();
  return result ? result->results.at(0).asI32() : -1;
}

// The stored key of `key` in the store of the root's child `storeKey`
// (transaction.h's layout): 0x01 u32le(len) storeKey 0x00 key.
Bytes childKey(std::string_view storeKey, std::string_view key) {
  Bytes out{0x01};
  uint32_t size = uint32_t(storeKey.size());
  for (int i = 0; i < 4; ++i)
    out.push_back(uint8_t(size >> (8 * i)));
  out.insert(out.end(), storeKey.begin(), storeKey.end());
  out.push_back(0x00);
  out.insert(out.end(), key.begin(), key.end());
  return out;
}

Bytes ownKey(std::string_view key) {
  Bytes out{0x00};
  out.insert(out.end(), key.begin(), key.end());
  return out;
}

const Value i32(int32_t v) { return Value::i32(v); }

} // namespace

// ---- the LMDB store --------------------------------------------------------

TEST(LmdbStore, StateSurvivesReopeningWithAFreshVM) {
  TempDir dir;
  Bytes counter = readFile(COUNTER_WASM);
  {
    auto store = openLmdb(dir.file("state.mdb"));
    VM vm = loadVM(counter, {.store = store});
    for (int i = 0; i < 3; ++i)
      ASSERT_TRUE(vm.call("increment"));
  }
  auto store = openLmdb(dir.file("state.mdb"));
  VM vm = loadVM(counter, {.store = store});
  EXPECT_EQ(valueOf<uint64_t>(vm, "count"), 3u);
  ASSERT_TRUE(vm.call("increment"));
  EXPECT_EQ(valueOf<uint64_t>(vm, "count"), 4u);
  // "\0count", and the VM's records (its code and code history), which
  // bytesUsed does not count.
  EXPECT_EQ(store->size(), 3u);
  EXPECT_EQ(store->bytesUsed(), entryBytes(6, 8)); // "\0count", u64
}

TEST(LmdbStore, TrappedCallWritesNothing) {
  TempDir dir;
  {
    auto store = openLmdb(dir.file("state.mdb"));
    VM vm = loadVM(readFile(STATEFUL_WASM), {.store = store});
    auto result = vm.call("write_then_trap");
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().kind, ErrorKind::GuestAbort);
    EXPECT_FALSE(vm.get("a"));
  }
  auto store = openLmdb(dir.file("state.mdb"));
  EXPECT_EQ(store->size(), 2u); // the VM's records only
  EXPECT_EQ(store->bytesUsed(), 0u);
}

TEST(LmdbStore, MapFullIsAStorageLimitErrorAndWritesNothing) {
  TempDir dir;
  auto store = openLmdb(dir.file("small.mdb"), {.mapSize = 64 * 1024});
  VM vm = loadVM(readFile(STATEFUL_WASM), {.store = store});
  vm.set("x", "kept");
  // 64 KiB of value does not fit a 64 KiB map: the commit fails as a whole.
  auto result = vm.call("fill", std::vector<Value>{i32(65536)});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ErrorKind::StorageLimit)
      << result.error().toString();
  EXPECT_FALSE(vm.get("blob"));
  EXPECT_EQ(vm.get("x"), Bytes({'k', 'e', 'p', 't'}));
  // The store goes on.
  ASSERT_TRUE(vm.call("fill", std::vector<Value>{i32(100)}));
  EXPECT_EQ(vm.get("blob")->size(), 100u);
}

TEST(Store, EntrySizeLimitsAreTheSameOnEveryBackend) {
  TempDir dir;
  std::vector<std::shared_ptr<Store>> stores = {
      std::make_shared<MemoryStore>(), openLmdb(dir.file("limits.mdb"))};
  for (auto &store : stores) {
    std::string longest(kMaxKeySize, 'k');
    store->set(longest, "v");
    EXPECT_EQ(store->get(longest), Bytes{'v'});
    std::string tooLong(kMaxKeySize + 1, 'k');
    EXPECT_THROW(store->set(tooLong, "v"), std::length_error);
    EXPECT_THROW(store->set("", "v"), std::length_error);
    EXPECT_FALSE(store->get(tooLong));
    std::vector<StoreWrite> batch;
    batch.emplace_back(Bytes{'a'}, Bytes{'1'});
    batch.emplace_back(Bytes(tooLong.begin(), tooLong.end()), Bytes{'2'});
    auto applied = store->apply(batch);
    ASSERT_FALSE(applied);
    EXPECT_EQ(applied.error().kind, ErrorKind::StorageLimit);
    EXPECT_FALSE(store->get("a")); // nothing of the batch
    batch.clear();
    batch.emplace_back(Bytes{'a'}, Bytes(kMaxValueSize + 1, 0));
    EXPECT_FALSE(store->apply(batch));
    EXPECT_EQ(store->bytesUsed(), entryBytes(kMaxKeySize, 1));
  }
}

TEST(Store, GuestKeyPastTheLimitTrapsWithStorageLimit) {
  auto store = std::make_shared<MemoryStore>();
  VM vm = loadVM(readFile(STATEFUL_WASM), {.store = store});
  // Its stored key is 0x00 + the guest's key: 510 guest bytes fit.
  ASSERT_TRUE(vm.call("write_key", std::vector<Value>{i32(kMaxKeySize - 1)}));
  auto result = vm.call("write_key", std::vector<Value>{i32(kMaxKeySize)});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ErrorKind::StorageLimit);
  EXPECT_EQ(store->size(), 1u);
  ASSERT_TRUE(vm.call("write_key", std::vector<Value>{i32(1)})); // goes on
}

// Committed calls survive SIGKILL at any moment, and no call is half there:
// a child process runs pair_increment ("a" and "b" both + 1) in a loop and
// reports each committed count on a pipe; it is killed at a random moment.
TEST(LmdbStore, CommittedCallsSurviveSigkillAndNoCallIsHalfThere) {
  TempDir dir;
  std::string path = dir.file("durable.mdb");
  Bytes code = readFile(STATEFUL_WASM);
  std::srand(unsigned(::getpid()));
  uint64_t acknowledged = 0;
  for (int round = 0; round < 3; ++round) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      auto store = LmdbStore::open(path);
      if (!store)
        ::_exit(2);
      auto vm = VM::create(code, {.store = *store});
      if (!vm)
        ::_exit(3);
      for (;;) {
        if (!vm->call("pair_increment"))
          ::_exit(4);
        auto a = decode<uint64_t>(*vm->get("a"));
        if (::write(fds[1], &*a, sizeof *a) != sizeof *a)
          ::_exit(5);
      }
    }
    ::close(fds[1]);
    // Wait for a first commit, then kill at a random moment.
    uint64_t count = 0;
    ASSERT_EQ(::read(fds[0], &count, sizeof count), ssize_t(sizeof count));
    ::usleep(useconds_t(std::rand() % 50'000));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the writer exited with "
                                     << WEXITSTATUS(status);
    uint64_t last = count;
    while (::read(fds[0], &count, sizeof count) == ssize_t(sizeof count))
      last = count;
    ::close(fds[0]);
    acknowledged = last;

    auto store = openLmdb(path);
    VM vm = loadVM(code, {.store = store});
    uint64_t a = valueOf<uint64_t>(vm, "a"), b = valueOf<uint64_t>(vm, "b");
    EXPECT_EQ(a, b) << "a call is half there";
    EXPECT_GE(a, acknowledged) << "a committed call is lost";
    EXPECT_LE(a, acknowledged + 1); // at most the call being reported
  }
}

// ---- storage limits --------------------------------------------------------

TEST(StorageLimit, WritePastTheLimitTrapsAndTheVMGoesOn) {
  auto store = std::make_shared<MemoryStore>();
  VM vm = loadVM(readFile(STATEFUL_WASM),
                 {.store = store, .limits = {.storageBytes = 1000}});
  auto result = vm.call("fill", std::vector<Value>{i32(2000)});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ErrorKind::StorageLimit);
  EXPECT_EQ(store->bytesUsed(), 0u);
  ASSERT_TRUE(vm.call("fill", std::vector<Value>{i32(100)}));
  EXPECT_EQ(store->bytesUsed(), entryBytes(5, 100)); // "\0blob"
  // Overwriting counts the net effect: exactly up to the limit is fine.
  ASSERT_TRUE(vm.call("fill", std::vector<Value>{i32(995)}));
  EXPECT_EQ(store->bytesUsed(), 1000u);
  result = vm.call("fill", std::vector<Value>{i32(996)});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ErrorKind::StorageLimit);
  ASSERT_TRUE(vm.call("fill", std::vector<Value>{i32(10)})); // gives back
  EXPECT_EQ(store->bytesUsed(), entryBytes(5, 10));
}

TEST(StorageLimit, ChildStorageIsCappedAndCountsTowardTheParent) {
  auto store = std::make_shared<MemoryStore>();
  Bytes code = readFile(STATEFUL_WASM);
  store->set(ownKey("child_code"), code);
  uint64_t base = store->bytesUsed();
  VM vm = loadVM(code, {.store = store, .limits = {.storageBytes = base + 1000}});

  // The child asks for 100 bytes and needs more: it traps, the parent goes on.
  ASSERT_TRUE(vm.call("child_fill", std::vector<Value>{i32(500), i32(100)}));
  EXPECT_EQ(valueOf<int32_t>(vm, "rc"), NOMOS_TRAP_STORAGE_LIMIT);
  EXPECT_FALSE(store->get(childKey("c", "blob")));
  // It asks for far more than the parent has left: capped, traps again.
  ASSERT_TRUE(vm.call("child_fill", std::vector<Value>{i32(2000), i32(1 << 30)}));
  EXPECT_EQ(valueOf<int32_t>(vm, "rc"), NOMOS_TRAP_STORAGE_LIMIT);

  // Within both: the child's bytes are the parent's.
  uint64_t before = store->bytesUsed();
  ASSERT_TRUE(vm.call("child_fill", std::vector<Value>{i32(500), i32(1 << 30)}));
  EXPECT_EQ(valueOf<int32_t>(vm, "rc"), 0);
  EXPECT_EQ(store->get(childKey("c", "blob"))->size(), 500u);
  EXPECT_EQ(store->bytesUsed() - before,
            entryBytes(childKey("c", "blob").size(), 500));
  // So the parent has less left: 600 bytes of its own no longer fit.
  auto result = vm.call("fill", std::vector<Value>{i32(600)});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ErrorKind::StorageLimit);
  ASSERT_TRUE(vm.call("fill", std::vector<Value>{i32(300)}));
}

TEST(StorageLimit, GrandchildWritesCountTowardTheGrandparent) {
  auto store = std::make_shared<MemoryStore>();
  Bytes code = readFile(STATEFUL_WASM);
  store->set(ownKey("child_code"), code);
  uint64_t base = store->bytesUsed();
  // Room for the child's copy of the code and about 1,500 bytes more.
  uint64_t limit = base + entryBytes(childKey("g", "child_code").size(),
                                     code.size()) + 1500;
  VM vm = loadVM(code, {.store = store, .limits = {.storageBytes = limit}});
  // The child and the grandchild each ask for 1 MiB; the root has ~1,400
  // bytes left, so the grandchild's 2,000 bytes trap inside the child.
  ASSERT_TRUE(vm.call("grandchild_fill", std::vector<Value>{i32(2000), i32(1 << 20)}));
  EXPECT_EQ(valueOf<int32_t>(vm, "rc"), 0);
  auto childRc = store->get(childKey("g", "rc"));
  ASSERT_TRUE(childRc);
  EXPECT_EQ(decode<int32_t>(*childRc).value_or(-1), NOMOS_TRAP_STORAGE_LIMIT);
  // 1,000 bytes fit, and count at the root.
  uint64_t before = store->bytesUsed();
  ASSERT_TRUE(vm.call("grandchild_fill", std::vector<Value>{i32(1000), i32(1 << 20)}));
  EXPECT_EQ(decode<int32_t>(*store->get(childKey("g", "rc"))).value_or(-1), 0);
  EXPECT_GT(store->bytesUsed() - before, 1000u);
  EXPECT_LE(store->bytesUsed(), limit);
}

// ---- self-upgrade ----------------------------------------------------------

TEST(Upgrade, TakesEffectWhenTheCallCommitsAndKeepsTheState) {
  VM vm = loadVM(readFile(STATEFUL_WASM));
  vm.set("next", readFile(STATEFUL_V2_WASM));
  vm.set("x", "kept");
  EXPECT_EQ(version(vm), 1);
  auto result = vm.call("do_upgrade");
  ASSERT_TRUE(result) << result.error().toString();
  // The call went on after upgrade() on the old code (it wrote the status).
  EXPECT_EQ(valueOf<int32_t>(vm, "upgrade_rc"), NOMOS_OK);
  EXPECT_EQ(version(vm), 2);
  EXPECT_EQ(vm.get("x"), Bytes({'k', 'e', 'p', 't'}));
  auto history = vm.codeHistory();
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0].size(), 32u);
  EXPECT_NE(history[0], history[1]);
}

TEST(Upgrade, RolledBackWhenTheCallTraps) {
  VM vm = loadVM(readFile(STATEFUL_WASM));
  vm.set("next", readFile(STATEFUL_V2_WASM));
  auto result = vm.call("do_upgrade_then_trap");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ErrorKind::GuestAbort);
  EXPECT_EQ(version(vm), 1);
  EXPECT_EQ(vm.codeHistory().size(), 1u);
}

TEST(Upgrade, InvalidCodeTrapsAndChangesNothing) {
  VM vm = loadVM(readFile(STATEFUL_WASM));
  vm.set("next", "not wasm at all");
  auto result = vm.call("do_upgrade");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ErrorKind::HostError);
  EXPECT_NE(result.error().message.find("upgrade: invalid code"),
            std::string::npos) << result.error().message;
  EXPECT_FALSE(vm.get("upgrade_rc"));
  EXPECT_EQ(version(vm), 1);
  // A module importing what the ABI does not provide is refused too.
  vm.set("next", readFile(std::string(WAT_DIR) + "/link_error.wasm"));
  result = vm.call("do_upgrade");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ErrorKind::HostError);
  // A missing key is a status, not a trap.
  vm.remove("next");
  ASSERT_TRUE(vm.call("do_upgrade"));
  EXPECT_EQ(valueOf<int32_t>(vm, "upgrade_rc"), NOMOS_ERR_NOT_FOUND);
  EXPECT_EQ(version(vm), 1);
  // The host's upgrade fails the same way, at once.
  auto upgraded = vm.upgrade(Bytes{'b', 'a', 'd'});
  ASSERT_FALSE(upgraded);
  EXPECT_EQ(upgraded.error().kind, ErrorKind::MalformedModule);
  EXPECT_EQ(version(vm), 1);
  EXPECT_EQ(vm.codeHistory().size(), 1u);
}

TEST(Upgrade, GoingBackToAnOldVersionCompilesNothing) {
  auto engine = std::make_shared<Engine>();
  Bytes v1 = readFile(STATEFUL_WASM), v2 = readFile(STATEFUL_V2_WASM);
  VM vm = loadVM(v1, {.engine = engine});
  ASSERT_TRUE(vm.upgrade(v2));
  EXPECT_EQ(version(vm), 2);
  size_t compiled = engine->compiledModules();
  ASSERT_TRUE(vm.upgrade(v1));
  EXPECT_EQ(version(vm), 1);
  // The guest's own upgrade back to v2 finds it compiled too.
  vm.set("next", v2);
  ASSERT_TRUE(vm.call("do_upgrade"));
  EXPECT_EQ(version(vm), 2);
  EXPECT_EQ(engine->compiledModules(), compiled);
  auto history = vm.codeHistory();
  ASSERT_EQ(history.size(), 4u);
  EXPECT_EQ(history[0], history[2]);
  EXPECT_EQ(history[1], history[3]);
}

TEST(Upgrade, ChildUpgradesItsHandleWhenItsCallCommits) {
  Bytes v1 = readFile(STATEFUL_WASM);
  VM vm = loadVM(v1);
  vm.set("child_code", v1);
  vm.set("next", readFile(STATEFUL_V2_WASM));
  auto result = vm.call("child_upgrade");
  ASSERT_TRUE(result) << result.error().toString();
  EXPECT_EQ(valueOf<uint32_t>(vm, "child_v"), 2u);
  // The parent's code, and the code at child_code, are unchanged.
  EXPECT_EQ(version(vm), 1);
  EXPECT_EQ(vm.get("child_code"), v1);
}

TEST(Upgrade, LmdbCommitCarriesTheUpgradeAndItsWritesTogether) {
  TempDir dir;
  auto store = openLmdb(dir.file("up.mdb"));
  VM vm = loadVM(readFile(STATEFUL_WASM), {.store = store});
  vm.set("next", readFile(STATEFUL_V2_WASM));
  ASSERT_TRUE(vm.call("do_upgrade"));
  EXPECT_EQ(version(vm), 2);
  EXPECT_EQ(valueOf<int32_t>(vm, "upgrade_rc"), NOMOS_OK);
}

// ---- migrate ---------------------------------------------------------------

Bytes watModule(const char *name) {
  return readFile(std::string(WAT_DIR) + "/" + name + ".wasm");
}

TEST(Migrate, GuestUpgradeRunsMigrateOnceInTheSameTransaction) {
  VM vm = loadVM(readFile(STATEFUL_WASM));
  vm.set("next", watModule("migrate_v3"));
  auto result = vm.call("do_upgrade");
  ASSERT_TRUE(result) << result.error().toString();
  EXPECT_EQ(valueOf<int32_t>(vm, "upgrade_rc"), NOMOS_OK);
  EXPECT_EQ(vm.get("migrated"), Bytes{'m'});
  EXPECT_EQ(version(vm), 3);
  EXPECT_EQ(vm.codeHistory().size(), 2u);
  // Once: later calls on the new code do not run it again.
  vm.remove("migrated");
  EXPECT_EQ(version(vm), 3);
  EXPECT_FALSE(vm.get("migrated"));
}

TEST(Migrate, ChildThatUpgradesItselfRunsMigrateInItsCall) {
  VM vm = loadVM(readFile(STATEFUL_WASM));
  vm.set("child_code", readFile(STATEFUL_WASM));
  vm.set("next", watModule("migrate_v3"));
  auto result = vm.call("child_upgrade");
  ASSERT_TRUE(result) << result.error().toString();
  EXPECT_EQ(valueOf<uint32_t>(vm, "child_v"), 3u);
  // The child's "migrated": 0x01 u32le(1) "k", then its own key 0x00 "migrated".
  Bytes key{0x01, 1, 0, 0, 0, 'k', 0x00};
  for (char c : std::string("migrated"))
    key.push_back(uint8_t(c));
  EXPECT_EQ(vm.store().get(key), Bytes{'m'});
  EXPECT_FALSE(vm.get("migrated")); // not the parent's
  EXPECT_EQ(version(vm), 1);
}

TEST(Migrate, TrapInMigrateRollsBackTheGuestUpgradeAndItsCall) {
  VM vm = loadVM(readFile(STATEFUL_WASM));
  vm.set("next", watModule("migrate_trap"));
  auto result = vm.call("do_upgrade");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ErrorKind::Unreachable);
  EXPECT_FALSE(vm.get("upgrade_rc")); // the call's own write
  EXPECT_FALSE(vm.get("migrated"));   // migrate's write
  EXPECT_EQ(version(vm), 1);
  EXPECT_EQ(vm.codeHistory().size(), 1u);
}

TEST(Migrate, UpgradeFromMigrateTrapsAndChangesNothing) {
  VM vm = loadVM(readFile(STATEFUL_WASM));
  vm.set("next", watModule("migrate_upgrade"));
  auto result = vm.call("do_upgrade");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ErrorKind::HostError);
  EXPECT_NE(result.error().message.find("not allowed in migrate"),
            std::string::npos) << result.error().message;
  EXPECT_EQ(version(vm), 1);
}

TEST(Migrate, MigrateOfTheWrongTypeIsInvalidCode) {
  VM vm = loadVM(readFile(STATEFUL_WASM));
  vm.set("next", watModule("migrate_bad"));
  auto result = vm.call("do_upgrade");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ErrorKind::HostError);
  EXPECT_NE(result.error().message.find("upgrade: invalid code"),
            std::string::npos) << result.error().message;
  auto upgraded = vm.upgrade(watModule("migrate_bad"));
  ASSERT_FALSE(upgraded);
  EXPECT_EQ(upgraded.error().kind, ErrorKind::InvalidModule);
  EXPECT_EQ(version(vm), 1);
  EXPECT_EQ(vm.codeHistory().size(), 1u);
}

TEST(Migrate, HostUpgradeRunsMigrateInATransactionOfItsOwn) {
  VM vm = loadVM(readFile(STATEFUL_WASM));
  auto upgraded = vm.upgrade(watModule("migrate_trap"));
  ASSERT_FALSE(upgraded);
  EXPECT_EQ(upgraded.error().kind, ErrorKind::Unreachable);
  EXPECT_FALSE(vm.get("migrated"));
  EXPECT_EQ(version(vm), 1);
  EXPECT_EQ(vm.codeHistory().size(), 1u);
  upgraded = vm.upgrade(watModule("migrate_v3"));
  ASSERT_TRUE(upgraded) << upgraded.error().toString();
  EXPECT_EQ(vm.get("migrated"), Bytes{'m'});
  EXPECT_EQ(version(vm), 3);
  EXPECT_EQ(vm.codeHistory().size(), 2u);
}

// ---- a VM kept in its durable store ----------------------------------------

size_t codeRecords(Store &store) {
  size_t count = 0;
  store.forEach([&](ByteView key, ByteView) {
    if (key.size() > 1 && key.data()[0] == kVmRecordPrefix && key.data()[1] == 'c')
      ++count;
  });
  return count;
}

TEST(Persistence, ReopenedVMRunsItsUpgradedCodeWithItsState) {
  TempDir dir;
  std::string path = dir.file("vm.mdb");
  Bytes v1 = readFile(STATEFUL_WASM), v2 = readFile(STATEFUL_V2_WASM);
  std::vector<Bytes> history;
  {
    auto store = openLmdb(path);
    EXPECT_FALSE(VM::open(store)); // nothing there yet
    VM vm = loadVM(v1, {.store = store});
    vm.set("next", v2);
    vm.set("x", "kept");
    ASSERT_TRUE(vm.call("do_upgrade"));
    EXPECT_EQ(version(vm), 2);
    history = vm.codeHistory();
    // The VM's records do not count toward the program's storage.
    uint64_t program = 0;
    store->forEach([&](ByteView key, ByteView value) {
      if (key.data()[0] != kVmRecordPrefix)
        program += entryBytes(key.size(), value.size());
    });
    EXPECT_EQ(store->bytesUsed(), program);
  }
  {
    auto store = openLmdb(path);
    auto vm = VM::open(store);
    ASSERT_TRUE(vm) << vm.error().toString();
    EXPECT_EQ(version(*vm), 2);
    EXPECT_EQ(vm->get("x"), Bytes({'k', 'e', 'p', 't'}));
    EXPECT_EQ(vm->codeHistory(), history);
    // The host's upgrade is kept too, and code is stored once per version.
    ASSERT_TRUE(vm->upgrade(v1));
    ASSERT_TRUE(vm->upgrade(watModule("migrate_v3")));
    EXPECT_EQ(codeRecords(*store), 3u);
  }
  auto store = openLmdb(path);
  auto vm = VM::open(store);
  ASSERT_TRUE(vm) << vm.error().toString();
  EXPECT_EQ(version(*vm), 3);
  EXPECT_EQ(vm->get("migrated"), Bytes{'m'});
  EXPECT_EQ(vm->codeHistory().size(), 4u);
  EXPECT_EQ(vm->codeHistory()[0], vm->codeHistory()[2]);
}

TEST(Persistence, TrappedUpgradeLeavesTheStoredCode) {
  TempDir dir;
  std::string path = dir.file("vm.mdb");
  {
    auto store = openLmdb(path);
    VM vm = loadVM(readFile(STATEFUL_WASM), {.store = store});
    vm.set("next", watModule("migrate_trap"));
    ASSERT_FALSE(vm.call("do_upgrade"));
    ASSERT_FALSE(vm.upgrade(watModule("migrate_trap")));
  }
  auto store = openLmdb(path);
  auto vm = VM::open(store);
  ASSERT_TRUE(vm) << vm.error().toString();
  EXPECT_EQ(version(*vm), 1);
  EXPECT_EQ(vm->codeHistory().size(), 1u);
  EXPECT_EQ(codeRecords(*store), 1u);
}
