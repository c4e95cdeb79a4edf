// The VM API end to end, with the seed's programs built from the SDK.
#include "test_util.h"

#include <binaryen-c.h>

#include <cstdlib>
#include <cstring>

using namespace nomos;
using nomos::test::loadVM;
using nomos::test::readFile;

namespace {

uint64_t count(const VM &vm) {
  auto value = vm.get("count");
  EXPECT_TRUE(value.has_value());
  return decode<uint64_t>(value.value_or(Bytes{})).value_or(~0ull);
}

} // namespace

TEST(SeedExample, CounterIncrementsAndChildDoubles) {
  VM vm = loadVM(readFile(COUNTER_WASM));
  vm.set("count", encode<uint64_t>(10));
  ASSERT_TRUE(vm.call("increment"));
  ASSERT_TRUE(vm.call("increment"));
  EXPECT_EQ(count(vm), 12u);

  vm.set("doubler", readFile(DOUBLER_WASM));
  auto result = vm.call("exec_other");
  ASSERT_TRUE(result) << result.error().toString();
  EXPECT_EQ(count(vm), 24u);
}

TEST(SeedExample, CounterStartsFromZeroWithoutState) {
  VM vm = loadVM(readFile(COUNTER_WASM));
  ASSERT_TRUE(vm.call("increment"));
  EXPECT_EQ(count(vm), 1u);
}

TEST(SeedExample, ChildStoreLivesInsideTheParentsStore) {
  auto store = std::make_shared<MemoryStore>();
  VM vm = loadVM(readFile(COUNTER_WASM), {.store = store});
  vm.set("count", encode<uint64_t>(5));
  vm.set("doubler", readFile(DOUBLER_WASM));
  ASSERT_TRUE(vm.call("exec_other"));
  EXPECT_EQ(count(vm), 10u);
  // The host can inspect the child's store; a child opened again with the
  // same store key finds it.
  ByteView path[] = {"doubler"};
  EXPECT_EQ(vm.getChild(path, "count"), encode<uint64_t>(10));
  EXPECT_FALSE(vm.getChild(path, "doubler"));
  // The parent's "count" and "doubler", and the child's own "count", which
  // is namespaced under the child's store key: a different entry.
  EXPECT_EQ(store->size(), 3u);
}

TEST(SeedExample, MissingChildCodeIsAClearGuestAbort) {
  VM vm = loadVM(readFile(COUNTER_WASM));
  vm.set("count", encode<uint64_t>(1));
  auto result = vm.call("exec_other");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ErrorKind::GuestAbort);
  EXPECT_NE(result.error().message.find("not_found"), std::string::npos)
      << result.error().message;
  // The trapped call changed nothing.
  EXPECT_EQ(count(vm), 1u);
}

TEST(SeedExample, ChildWithInvalidCodeIsRefused) {
  VM vm = loadVM(readFile(COUNTER_WASM));
  vm.set("doubler", "not wasm at all");
  auto result = vm.call("exec_other");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ErrorKind::GuestAbort);
  EXPECT_NE(result.error().message.find("invalid_code"), std::string::npos)
      << result.error().message;
}

TEST(Children, ATrappingChildLosesOnlyItsOwnWrites) {
  VM vm = loadVM(nomos::test::watModule("child_parent"));
  vm.set("c", nomos::test::watModule("child_trap"));
  auto result = vm.call("go");
  ASSERT_TRUE(result) << result.error().toString();
  // The parent got the child's trap code (unreachable) and went on; the
  // child's write was rolled back.
  EXPECT_EQ(result->results.at(0).asI32(), NOMOS_TRAP_UNREACHABLE * 1000 - 1);
  EXPECT_EQ(vm.get("a"), Bytes{'a'});
  EXPECT_EQ(vm.get("b"), Bytes{'b'});
  EXPECT_FALSE(vm.get("k"));
}

TEST(VM, OutOfBoundsStoreTrapsAndTheVMGoesOn) {
  VM vm = loadVM(readFile(ROUNDTRIP_WASM));
  auto result = vm.call("oob_store");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ErrorKind::MemoryOutOfBounds);
  EXPECT_TRUE(result.error().isTrap());
  // Again, and then something that works.
  EXPECT_EQ(vm.call("oob_store").error().kind, ErrorKind::MemoryOutOfBounds);
  auto logged = vm.call("log_hello");
  ASSERT_TRUE(logged) << logged.error().toString();
  EXPECT_EQ(logged->logs, std::vector<std::string>{"hello"});
}

TEST(VM, GuestDecodesWhatTheHostEncodes) {
  VM vm = loadVM(readFile(ROUNDTRIP_WASM));
  vm.set("u8", encode<uint8_t>(250));
  vm.set("u16", encode<uint16_t>(65000));
  vm.set("u32", encode<uint32_t>(4000000000u));
  vm.set("u64", encode<uint64_t>(0xfffffffffffffff0ull));
  vm.set("i32", encode<int32_t>(-123456));
  vm.set("i64", encode<int64_t>(INT64_MIN));
  vm.set("bool", encode<bool>(true));
  vm.set("bytes", encode(std::string("bytes\0with nul", 14)));
  auto result = vm.call("roundtrip");
  ASSERT_TRUE(result) << result.error().toString();
  for (const char *key : {"u8", "u16", "u32", "u64", "i32", "i64", "bool", "bytes"})
    EXPECT_EQ(vm.get(std::string("out_") + key), vm.get(key)) << key;
  // The guest really decoded: its wrapping sum of the unsigned values.
  uint64_t sum = 250ull + 65000ull + 4000000000ull + 0xfffffffffffffff0ull;
  EXPECT_EQ(decode<uint64_t>(*vm.get("sum")).value(), sum);
  EXPECT_EQ(*decode<int64_t>(*vm.get("out_i64")), INT64_MIN);
}

TEST(VM, MalformedHostValueIsAGuestAbortAndWritesNothing) {
  VM vm = loadVM(readFile(ROUNDTRIP_WASM));
  vm.set("u8", encode<uint8_t>(1));
  vm.set("u16", Bytes{1, 2, 3}); // three bytes is no u16
  auto result = vm.call("roundtrip");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ErrorKind::GuestAbort);
  EXPECT_NE(result.error().message.find("u16"), std::string::npos);
  // out_u8 was written before the abort, and rolled back with the call.
  EXPECT_FALSE(vm.get("out_u8"));
}

TEST(VM, MalformedModuleIsAClearError) {
  auto vm = VM::create(Bytes{0, 'a', 's', 'm', 2, 0, 0, 0});
  ASSERT_FALSE(vm);
  EXPECT_EQ(vm.error().kind, ErrorKind::MalformedModule);
  EXPECT_FALSE(vm.error().message.empty());
}

TEST(VM, ModuleThatFailsValidationIsAClearError) {
  // (func (result i32) (i32.add (i64.const 0) ...)): ill-typed body.
  Bytes code{0, 'a', 's', 'm', 1, 0, 0, 0,
             1, 5, 1, 0x60, 0, 1, 0x7f,          // type: [] -> [i32]
             3, 2, 1, 0,                         // one function of type 0
             10, 9, 1, 7, 0, 0x42, 0, 0x42, 0, 0x6a, 0x0b}; // i64 i64 i32.add
  auto vm = VM::create(code);
  ASSERT_FALSE(vm);
  EXPECT_EQ(vm.error().kind, ErrorKind::InvalidModule) << vm.error().toString();
}

namespace {
// A module whose one function nests `depth` ifs (Binaryen's reader crashes
// on about 14,000 of them with an 8 MiB stack).
Bytes nestedIfs(size_t depth) {
  Bytes body{0}; // no locals
  for (size_t i = 0; i < depth; ++i)
    body.insert(body.end(), {0x41, 0x01, 0x04, 0x40}); // i32.const 1; if
  body.insert(body.end(), depth, 0x0b);
  body.push_back(0x0b);
  auto leb = [](Bytes &out, size_t v) {
    do {
      uint8_t byte = v & 0x7f;
      v >>= 7;
      out.push_back(byte | (v ? 0x80 : 0));
    } while (v);
  };
  Bytes code{0x01}; // one body
  leb(code, body.size());
  code.insert(code.end(), body.begin(), body.end());
  Bytes module{0, 'a', 's', 'm', 1, 0, 0, 0, 1, 4, 1, 0x60, 0, 0, 3, 2, 1, 0,
               7, 5, 1, 1, 'f', 0, 0, 10};
  leb(module, code.size());
  module.insert(module.end(), code.begin(), code.end());
  return module;
}
} // namespace

TEST(VM, DeepNestingIsRefusedNotACrash) {
  VM shallow = loadVM(nestedIfs(500));
  EXPECT_TRUE(shallow.call("f"));
  for (size_t depth : {2000u, 50000u}) {
    auto vm = VM::create(nestedIfs(depth));
    ASSERT_FALSE(vm);
    EXPECT_EQ(vm.error().kind, ErrorKind::Unsupported) << vm.error().toString();
    EXPECT_NE(vm.error().message.find("nested"), std::string::npos);
  }
}

TEST(VM, UnknownExportIsAClearError) {
  VM vm = loadVM(readFile(COUNTER_WASM));
  auto result = vm.call("decrement");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ErrorKind::UnknownExport);
  EXPECT_FALSE(result.error().isTrap());
  EXPECT_NE(result.error().message.find("increment"), std::string::npos)
      << "the message lists what is exported: " << result.error().message;
}

TEST(VM, MissingStoreKeyIsAbsentAndDecodingItIsAnError) {
  VM vm = loadVM(readFile(COUNTER_WASM));
  EXPECT_FALSE(vm.get("count").has_value());
  auto decoded = decode<uint64_t>(vm.get("count").value_or(Bytes{}));
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().kind, ErrorKind::DecodeError);
}

TEST(VM, HostWritesCommitAtOnceAndRemoveWorks) {
  VM vm = loadVM(readFile(COUNTER_WASM));
  vm.set("k", "v");
  EXPECT_EQ(vm.get("k"), Bytes({'v'}));
  EXPECT_TRUE(vm.remove("k"));
  EXPECT_FALSE(vm.remove("k"));
  EXPECT_FALSE(vm.get("k"));
}

TEST(VM, ModuleWithDwarfSectionsLoadsAndRuns) {
  VM vm = loadVM(readFile(DEBUGINFO_WASM));
  Value n = Value::i32(100);
  auto result = vm.call("triangle", {&n, 1});
  ASSERT_TRUE(result) << result.error().toString();
  EXPECT_EQ(result->results.at(0).asI32(), 5050);
}

// libnomos carries LLVM 19 (static, hidden) and libbinaryen.so an old LLVM of
// its own: side by side in one process, neither may resolve into the other.
// This runs the JIT, then has Binaryen read and write a module with DWARF
// sections (its DWARF code is where an interposed LLVM crashes), then runs
// the JIT again.
TEST(TwoLLVMs, BinaryenRewritesDwarfNextToTheJit) {
  Bytes code = readFile(DEBUGINFO_WASM);
  VM vm = loadVM(code);
  Value n = Value::i32(10);
  ASSERT_EQ(vm.call("triangle", {&n, 1})->results.at(0).asI32(), 55);

  BinaryenSetDebugInfo(true);
  BinaryenModuleRef module =
      BinaryenModuleRead(reinterpret_cast<char *>(code.data()), code.size());
  BinaryenModuleAllocateAndWriteResult written =
      BinaryenModuleAllocateAndWrite(module, nullptr);
  BinaryenSetDebugInfo(false);
  std::string output(static_cast<const char *>(written.binary),
                     written.binaryBytes);
  std::free(written.binary);
  std::free(written.sourceMap);
  BinaryenModuleDispose(module);
  EXPECT_NE(output.find(".debug_info"), std::string::npos);

  auto again = VM::create(Bytes(output.begin(), output.end()));
  ASSERT_TRUE(again) << again.error().toString();
  EXPECT_EQ(again->call("triangle", {&n, 1})->results.at(0).asI32(), 55);
}

TEST(Engine, SameCodeCompilesOnce) {
  auto engine = std::make_shared<Engine>();
  Bytes counter = readFile(COUNTER_WASM);
  VM a = loadVM(counter, {.engine = engine});
  VM b = loadVM(counter, {.engine = engine});
  EXPECT_EQ(engine->compiledModules(), 1u);
  // A child from known code compiles nothing new either.
  a.set("doubler", readFile(DOUBLER_WASM));
  ASSERT_TRUE(a.call("exec_other"));
  ASSERT_TRUE(a.call("exec_other"));
  EXPECT_EQ(engine->compiledModules(), 2u);
}
