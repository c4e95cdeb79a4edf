// Guests with the C/C++ standard library (wasi-libc, libc++) and the WASI
// subset the host answers for them (runtime/src/host_functions.cpp,
// sdk/README.md "The standard library"): exact answers from hand-written
// modules, then real programs built with nomos_add_guest(... STDLIB).
#include "test_util.h"

using namespace nomos;
using nomos::test::loadVM;
using nomos::test::readFile;
using nomos::test::watModule;

namespace {

using Logs = std::vector<std::string>;

// Calls an export that must return; its result (if any) and logs.
CallResult mustCall(VM &vm, std::string_view name,
                    std::vector<Value> args = {}) {
  auto result = vm.call(name, args);
  if (!result)
    throw std::runtime_error(std::string(name) + " trapped: " +
                             result.error().toString());
  return std::move(*result);
}

int32_t callI32(VM &vm, std::string_view name, std::vector<Value> args = {}) {
  CallResult result = mustCall(vm, name, std::move(args));
  EXPECT_EQ(result.results.size(), 1u) << name;
  return result.results.empty() ? -1 : result.results[0].asI32();
}

// A guest built with the standard library, compiled at -O0: behaviour and
// gas do not depend on the level (the last test checks), and the ~300 KB of
// a guest with <iostream> take tens of seconds to compile at -O2.
VM loadGuest(const char *path, Limits limits = {}) {
  EngineOptions options;
  options.optLevel = 0;
  return loadVM(readFile(path), {.engine = std::make_shared<Engine>(options),
                                 .limits = limits});
}

// WASI errno values (wasi_snapshot_preview1).
constexpr int32_t kBadF = 8, kNoSys = 52, kSPipe = 70;

} // namespace

// ---- The answers, exactly (tests/wat/wasi.wat) ------------------------------

TEST(Wasi, StdoutIsSplitIntoLogLinesAtNewlines) {
  VM vm = loadVM(watModule("wasi"));
  CallResult result = mustCall(vm, "lines");
  // "a\nb" + "c\n\nd" in one write, then "e\n": the open line goes on.
  EXPECT_EQ(result.logs, (Logs{"a", "bc", "", "de"}));
  ASSERT_EQ(result.results.size(), 1u);
  EXPECT_EQ(result.results[0].asI32(), 2); // nwritten of "e\n"
}

TEST(Wasi, AnUnfinishedLineEndsWhenAnythingElseIsLogged) {
  VM vm = loadVM(watModule("wasi"));
  // "a" to stdout, log("L"), "a" to stdout, "a" to stderr.
  EXPECT_EQ(mustCall(vm, "interleave").logs, (Logs{"a", "L", "a", "a"}));
}

TEST(Wasi, OnlyStdoutAndStderrAreWritable) {
  VM vm = loadVM(watModule("wasi"));
  EXPECT_EQ(callI32(vm, "write_fd", {Value::i32(1)}), 0);
  EXPECT_EQ(callI32(vm, "write_fd", {Value::i32(2)}), 0);
  for (int32_t fd : {0, 3, 100, -1})
    EXPECT_EQ(callI32(vm, "write_fd", {Value::i32(fd)}), kBadF) << fd;
  EXPECT_TRUE(mustCall(vm, "write_fd", {Value::i32(3)}).logs.empty());
}

TEST(Wasi, ClocksAndRandomnessAreRefused) {
  VM vm = loadVM(watModule("wasi"));
  EXPECT_EQ(callI32(vm, "clock"), kNoSys);
  EXPECT_EQ(callI32(vm, "random"), kNoSys);
}

TEST(Wasi, NoArgumentsAndStdioAreCharacterDevices) {
  VM vm = loadVM(watModule("wasi"));
  EXPECT_EQ(callI32(vm, "args"), 0); // errno 0, argc 0, buffer size 0
  for (int32_t fd : {0, 1, 2})
    EXPECT_EQ(callI32(vm, "fdstat", {Value::i32(fd)}), 2) << fd;
  EXPECT_EQ(callI32(vm, "fdstat", {Value::i32(3)}), kBadF * 256 + 255);
  auto rights = [&](int32_t fd) {
    return mustCall(vm, "rights", {Value::i32(fd)}).results.at(0).asI64();
  };
  EXPECT_EQ(rights(0), 1 << 1); // fd_read only
  EXPECT_EQ(rights(1), 1 << 6); // fd_write only: no seek or tell, a terminal
  EXPECT_EQ(callI32(vm, "read_stdin"), 0); // success, 0 bytes: end of file
  EXPECT_EQ(callI32(vm, "seek", {Value::i32(1)}), kSPipe);
  EXPECT_EQ(callI32(vm, "seek", {Value::i32(4)}), kBadF);
  EXPECT_EQ(callI32(vm, "open"), kBadF); // no directory to open a file in
}

TEST(Wasi, ProcExitTrapsWithTheCode) {
  VM vm = loadVM(watModule("wasi"));
  auto result = vm.call("exit", std::vector<Value>{Value::i32(7)});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ErrorKind::GuestAbort);
  EXPECT_EQ(result.error().message, "proc_exit(7)");
}

TEST(Wasi, AWriteBufferOutOfBoundsTraps) {
  VM vm = loadVM(watModule("wasi"));
  auto result = vm.call("write_oob");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ErrorKind::MemoryOutOfBounds);
  EXPECT_NE(result.error().message.find("write buffer"), std::string::npos)
      << result.error().message;
}

TEST(Wasi, WritesAreHostCallsPaidPerByte) {
  VM vm = loadVM(watModule("wasi"));
  uint64_t none = mustCall(vm, "write_len", {Value::i32(0)}).gasUsed;
  uint64_t some = mustCall(vm, "write_len", {Value::i32(40)}).gasUsed;
  GasSchedule schedule;
  EXPECT_EQ(some - none, 40 * schedule.hostCallPerByte);
  // The base: host_call, the 8-byte iovec and the 4-byte count written.
  EXPECT_GE(none, schedule.hostCall + 12 * schedule.hostCallPerByte);
}

TEST(Wasi, AnUnansweredWasiImportFailsToLink) {
  auto vm = VM::create(watModule("wasi_unknown"));
  ASSERT_FALSE(vm);
  EXPECT_EQ(vm.error().kind, ErrorKind::LinkError);
  EXPECT_NE(vm.error().message.find("wasi_snapshot_preview1"), std::string::npos);
  EXPECT_NE(vm.error().message.find("sock_accept"), std::string::npos)
      << vm.error().message;

  auto badType = VM::create(watModule("wasi_bad_type"));
  ASSERT_FALSE(badType);
  EXPECT_EQ(badType.error().kind, ErrorKind::LinkError);
}

// ---- Programs built with the standard library -------------------------------

TEST(StdlibGuest, HelloWorldLogsOneLineInEveryMode) {
  for (const char *path : {HELLO_FREESTANDING_WASM, HELLO_PRINTF_WASM,
                           HELLO_IOSTREAM_WASM}) {
    VM vm = loadGuest(path);
    EXPECT_EQ(mustCall(vm, "hello").logs, (Logs{"hello, world"})) << path;
  }
}

TEST(StdlibGuest, WordCountUsesMapStringVectorAndStdout) {
  VM vm = loadGuest(WORDCOUNT_WASM);
  std::string text = "The cat and the dog, and THE bird.";
  vm.set("text", Bytes(text.begin(), text.end()));
  CallResult result = mustCall(vm, "count");
  EXPECT_EQ(result.logs, (Logs{"the 3", "and 2", "bird 1",
                               "words: 8, distinct: 5"}));
  EXPECT_EQ(decode<uint64_t>(*vm.get("words")), 8u);
  EXPECT_EQ(decode<uint64_t>(*vm.get("distinct")), 5u);
  EXPECT_EQ(vm.get("top"), (Bytes{'t', 'h', 'e'}));
}

TEST(StdlibGuest, AbortTrapsWithAMessageAndDropsTheWrites) {
  VM vm = loadGuest(WORDCOUNT_WASM);
  auto result = vm.call("count"); // no "text": abort()
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ErrorKind::GuestAbort);
  EXPECT_EQ(result.error().message, "abort() called");
  EXPECT_FALSE(vm.get("words"));
}

TEST(StdlibGuest, AssertAndExitTrapWithTheirMessages) {
  VM vm = loadGuest(STDLIB_PROBE_WASM);
  auto asserted = vm.call("assert_fails");
  ASSERT_FALSE(asserted);
  EXPECT_EQ(asserted.error().kind, ErrorKind::GuestAbort);
  EXPECT_EQ(asserted.error().message.rfind("Assertion failed: two == 3 (", 0), 0u)
      << asserted.error().message;

  auto exited = vm.call("exit_3");
  ASSERT_FALSE(exited);
  EXPECT_EQ(exited.error().kind, ErrorKind::GuestAbort);
  EXPECT_EQ(exited.error().message, "proc_exit(3)");

  auto aborted = vm.call("abort_now");
  ASSERT_FALSE(aborted);
  EXPECT_EQ(aborted.error().message, "abort() called");
}

TEST(StdlibGuest, LibcSeesNoClockNoEntropyNoFilesAndAnEmptyStdin) {
  VM vm = loadGuest(STDLIB_PROBE_WASM);
  EXPECT_EQ(mustCall(vm, "clock").logs,
            (Logs{"clock_gettime: -1 errno 52", "time: 0"}));
  EXPECT_EQ(mustCall(vm, "random").logs, (Logs{"getentropy: -1 errno 52"}));
  EXPECT_EQ(mustCall(vm, "stdin_eof").logs, (Logs{"getchar: -1"}));
  // No preopened directory: libc fails before asking (ENOTCAPABLE, 76).
  EXPECT_EQ(mustCall(vm, "open_file").logs, (Logs{"fopen: null errno 76"}));
  auto device = vm.call("random_device");
  ASSERT_FALSE(device);
  EXPECT_EQ(device.error().kind, ErrorKind::GuestAbort);
}

TEST(StdlibGuest, GlobalConstructorsRunInEveryCall) {
  VM vm = loadGuest(STDLIB_PROBE_WASM);
  // Each call is a fresh instance: the globals start over every time.
  EXPECT_EQ(mustCall(vm, "globals").logs, (Logs{"calls 1, numbers 3"}));
  EXPECT_EQ(mustCall(vm, "globals").logs, (Logs{"calls 1, numbers 3"}));
}

TEST(StdlibGuest, StderrPiecesMakeOneLineAndUnfinishedOutputIsFlushed) {
  VM vm = loadGuest(STDLIB_PROBE_WASM);
  EXPECT_EQ(mustCall(vm, "streams").logs, (Logs{"x = 42", "no newline"}));
}

TEST(StdlibGuest, MallocGrowsMemoryUpToTheLimit) {
  VM vm = loadGuest(STDLIB_PROBE_WASM);
  EXPECT_EQ(mustCall(vm, "allocate").logs, (Logs{"sum 549755289600"}));

  // 4 MiB do not fit in 2 MiB: operator new fails, and without exceptions
  // it aborts.
  VM small = loadGuest(STDLIB_PROBE_WASM, {.memoryPages = 32});
  auto result = small.call("allocate");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ErrorKind::GuestAbort);
}

TEST(StdlibGuest, GasAndOutputAreTheSameAtEveryOptimizationLevel) {
  std::string text = "one two two three three three";
  std::vector<std::tuple<uint64_t, Logs, std::optional<Bytes>>> runs;
  for (unsigned level : {0u, 2u}) {
    EngineOptions options;
    options.optLevel = level;
    VM vm = loadVM(readFile(WORDCOUNT_WASM),
                   {.engine = std::make_shared<Engine>(options)});
    vm.set("text", Bytes(text.begin(), text.end()));
    CallResult result = mustCall(vm, "count");
    runs.emplace_back(result.gasUsed, result.logs, vm.get("top"));
  }
  EXPECT_EQ(runs[0], runs[1]);
  EXPECT_GT(std::get<0>(runs[0]), 0u);
}
