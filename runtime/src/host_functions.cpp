// The guest ABI's host side. Each import is a plain C function called by
// generated code as fn(ctx, args...); its body runs inside hostCall, which
// turns an Error into a trap only after every C++ object is destroyed.
#include "host_functions.h"

#include "module_instance.h"

#include <nomos/abi.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace nomos {
namespace {

using rt::VMContext;

constexpr size_t kMaxLogLine = 4096;
constexpr size_t kMaxLogLines = 1024;
constexpr size_t kMaxAbortMessage = 4096;

// Gas (docs/metering.md): each host call pays the schedule's hostCall when it
// starts, and hostCallPerByte for every byte it reads from or writes to
// guest memory or the store. Generated code stored its counter through
// vmctx->gas before the call and reloads it after. Unmetered modules pay
// nothing.
[[gnu::noinline]] Expected<void> outOfGas(int64_t &left) {
  left = 0;
  return tl::unexpected(trapError(NOMOS_TRAP_OUT_OF_GAS));
}

// Inlined into every host function: the trap is out of line.
inline Expected<void> chargeGas(ModuleInstance &instance, uint64_t amount) {
  if (!instance.module().gas() || amount == 0)
    return {};
  int64_t &left = *instance.context().gas;
  if (left < 0 || uint64_t(left) < amount)
    return outOfGas(left);
  left -= static_cast<int64_t>(amount);
  return {};
}

const metering::GasSchedule &scheduleOf(ModuleInstance &instance) {
  static const metering::GasSchedule none{};
  return instance.module().gas() ? *instance.module().gas() : none;
}

Expected<void> chargeBase(ModuleInstance &instance) {
  return chargeGas(instance, scheduleOf(instance).hostCall);
}

Expected<void> chargeBytes(ModuleInstance &instance, uint64_t bytes) {
  return chargeGas(instance, bytes * scheduleOf(instance).hostCallPerByte);
}

#define NOMOS_TRY(expr)                                                        \
  if (auto ok_ = (expr); !ok_)                                                 \
    return tl::unexpected(ok_.error());


template <class Body> int64_t hostCall(VMContext *ctx, Body &&body) {
  ModuleInstance &instance = instanceOf(ctx);
  int64_t value = 0;
  bool trapped = false;
  try {
    Expected<int64_t> result =
        chargeBase(instance).and_then([&] { return body(instance); });
    if (result) {
      value = *result;
    } else {
      setTrap(std::move(result.error()));
      trapped = true;
    }
  } catch (const std::exception &e) {
    setTrap(Error{ErrorKind::HostError,
                           std::string("host function failed: ") + e.what(), {}});
    trapped = true;
  }
  if (trapped)
    unwindTrap();
  return value;
}

// The guest memory range [offset, offset + length) as bytes, or a trap.
// Reading it is charged per byte.
Expected<ByteView> guestBytes(ModuleInstance &instance, uint32_t offset,
                              uint32_t length, const char *what) {
  uint8_t *data = instance.memoryRange(offset, length);
  if (!data)
    return makeError(ErrorKind::MemoryOutOfBounds,
                     std::string("out of bounds memory access: ") + what +
                         " at " + std::to_string(offset) + " (+" +
                         std::to_string(length) + " bytes)");
  NOMOS_TRY(chargeBytes(instance, length));
  return ByteView(data, length);
}

// Copies min(value size, capacity) bytes to guest memory; returns the size.
Expected<int64_t> copyOut(ModuleInstance &instance, const Bytes &value, uint32_t out,
                          uint32_t capacity) {
  uint32_t count = static_cast<uint32_t>(
      std::min<size_t>(value.size(), capacity));
  auto target = guestBytes(instance, out, count, "output buffer"); // charged
  if (!target)
    return tl::unexpected(target.error());
  if (count)
    std::memcpy(const_cast<uint8_t *>(target->data()), value.data(), count);
  return static_cast<int64_t>(value.size());
}

ChildHandle *findChild(CallContext &call, int32_t handle) {
  if (handle < 0 || size_t(handle) >= call.children.size())
    return nullptr;
  return call.children[handle].get();
}

// A write (value) or removal (nullopt) of a stored key by the running
// program, into the call's transaction. Storage limits (docs/architecture.md
// "State"): the entry's sizes are checked, then its net effect in bytes
// (new key + value, minus the old entry's) is taken from what the program
// has left; past it the write traps with StorageLimit. Removing an absent
// key writes nothing.
Expected<bool> storeWrite(CallContext &call, const Bytes &key,
                          std::optional<ByteView> value) {
  if (value)
    NOMOS_TRY(checkEntry(key, value->size()));
  std::optional<Bytes> old = call.transaction.get(key);
  if (!value && !old)
    return false;
  int64_t delta = value ? int64_t(entryBytes(key.size(), value->size())) : 0;
  if (old)
    delta -= int64_t(entryBytes(key.size(), old->size()));
  if (delta > 0 && delta > call.storageLeft)
    return makeError(ErrorKind::StorageLimit,
                     "storage limit: the write needs " + std::to_string(delta) +
                         " more bytes, " +
                         std::to_string(std::max<int64_t>(call.storageLeft, 0)) +
                         " left");
  call.storageLeft -= delta;
  if (value)
    call.transaction.set(key, *value);
  else
    call.transaction.remove(key);
  return old.has_value();
}

// ---- own store -------------------------------------------------------------

int32_t host_read(VMContext *ctx, int32_t key, int32_t keyLen, int32_t out,
                  int32_t capacity) {
  return static_cast<int32_t>(hostCall(ctx, [&](ModuleInstance &in) -> Expected<int64_t> {
    auto k = guestBytes(in, key, keyLen, "key");
    if (!k)
      return tl::unexpected(k.error());
    auto value = in.call().transaction.get(ownKey(in.call().prefix, *k));
    if (!value)
      return NOMOS_ERR_NOT_FOUND;
    return copyOut(in, *value, out, capacity);
  }));
}

void host_write(VMContext *ctx, int32_t key, int32_t keyLen, int32_t value,
                int32_t valueLen) {
  hostCall(ctx, [&](ModuleInstance &in) -> Expected<int64_t> {
    auto k = guestBytes(in, key, keyLen, "key");
    if (!k)
      return tl::unexpected(k.error());
    auto v = guestBytes(in, value, valueLen, "value");
    if (!v)
      return tl::unexpected(v.error());
    NOMOS_TRY(storeWrite(in.call(), ownKey(in.call().prefix, *k), *v));
    return 0;
  });
}

int32_t host_remove(VMContext *ctx, int32_t key, int32_t keyLen) {
  return static_cast<int32_t>(hostCall(ctx, [&](ModuleInstance &in) -> Expected<int64_t> {
    auto k = guestBytes(in, key, keyLen, "key");
    if (!k)
      return tl::unexpected(k.error());
    auto existed = storeWrite(in.call(), ownKey(in.call().prefix, *k), std::nullopt);
    if (!existed)
      return tl::unexpected(existed.error());
    return *existed ? 1 : 0;
  }));
}

// ---- children --------------------------------------------------------------

int32_t host_child_new(VMContext *ctx, int32_t codeKey, int32_t codeKeyLen,
                       int32_t storeKey, int32_t storeKeyLen, int64_t gas,
                       int64_t storage) {
  return static_cast<int32_t>(hostCall(ctx, [&](ModuleInstance &in) -> Expected<int64_t> {
    CallContext &call = in.call();
    auto codeKeyBytes = guestBytes(in, codeKey, codeKeyLen, "code key");
    if (!codeKeyBytes)
      return tl::unexpected(codeKeyBytes.error());
    auto storeKeyBytes = guestBytes(in, storeKey, storeKeyLen, "store key");
    if (!storeKeyBytes)
      return tl::unexpected(storeKeyBytes.error());
    if (call.childDepth + 1 > call.limits.childDepth)
      return NOMOS_ERR_DEPTH;
    if (gas < 0 || storage < 0)
      return NOMOS_ERR_LIMIT;
    auto code = call.transaction.get(ownKey(call.prefix, *codeKeyBytes));
    if (!code)
      return NOMOS_ERR_NOT_FOUND;
    // Creating a child pays for compiling its code, cached or not (gas must
    // not depend on what an engine happens to have compiled before).
    NOMOS_TRY(chargeGas(in, scheduleOf(in).childNew +
                                scheduleOf(in).compilePerByte * code->size()));
    auto module = call.engine.load(*code);
    if (!module) {
      if (call.logs.size() < kMaxLogLines)
        call.logs.push_back("child_new: invalid code: " +
                            module.error().toString());
      return NOMOS_ERR_INVALID_CODE;
    }
    auto child = std::make_unique<ChildHandle>(
        ChildHandle{*module, childPrefix(call.prefix, *storeKeyBytes), gas,
                    storage});
    size_t open = 0;
    std::optional<size_t> freeSlot;
    for (size_t i = 0; i < call.children.size(); ++i) {
      if (call.children[i])
        ++open;
      else if (!freeSlot)
        freeSlot = i;
    }
    if (open >= call.limits.openChildren)
      return NOMOS_ERR_TOO_MANY;
    if (!freeSlot) {
      freeSlot = call.children.size();
      call.children.emplace_back();
    }
    call.children[*freeSlot] = std::move(child);
    return static_cast<int64_t>(*freeSlot);
  }));
}

int32_t host_child_set(VMContext *ctx, int32_t handle, int32_t key,
                       int32_t keyLen, int32_t value, int32_t valueLen) {
  return static_cast<int32_t>(hostCall(ctx, [&](ModuleInstance &in) -> Expected<int64_t> {
    auto k = guestBytes(in, key, keyLen, "key");
    if (!k)
      return tl::unexpected(k.error());
    auto v = guestBytes(in, value, valueLen, "value");
    if (!v)
      return tl::unexpected(v.error());
    ChildHandle *child = findChild(in.call(), handle);
    if (!child)
      return NOMOS_ERR_BAD_HANDLE;
    // The child's store is part of this program's: its storage counts.
    NOMOS_TRY(storeWrite(in.call(), ownKey(child->prefix, *k), *v));
    return NOMOS_OK;
  }));
}

int32_t host_child_get(VMContext *ctx, int32_t handle, int32_t key,
                       int32_t keyLen, int32_t out, int32_t capacity) {
  return static_cast<int32_t>(hostCall(ctx, [&](ModuleInstance &in) -> Expected<int64_t> {
    auto k = guestBytes(in, key, keyLen, "key");
    if (!k)
      return tl::unexpected(k.error());
    ChildHandle *child = findChild(in.call(), handle);
    if (!child)
      return NOMOS_ERR_BAD_HANDLE;
    auto value = in.call().transaction.get(ownKey(child->prefix, *k));
    if (!value)
      return NOMOS_ERR_NOT_FOUND;
    return copyOut(in, *value, out, capacity);
  }));
}

int32_t host_child_remove(VMContext *ctx, int32_t handle, int32_t key,
                          int32_t keyLen) {
  return static_cast<int32_t>(hostCall(ctx, [&](ModuleInstance &in) -> Expected<int64_t> {
    auto k = guestBytes(in, key, keyLen, "key");
    if (!k)
      return tl::unexpected(k.error());
    ChildHandle *child = findChild(in.call(), handle);
    if (!child)
      return NOMOS_ERR_BAD_HANDLE;
    auto existed = storeWrite(in.call(), ownKey(child->prefix, *k), std::nullopt);
    if (!existed)
      return tl::unexpected(existed.error());
    return *existed ? 1 : 0;
  }));
}

// A nested transaction: a child that traps loses this call's writes, and
// its parent gets the trap code and goes on.
int32_t host_child_call(VMContext *ctx, int32_t handle, int32_t name,
                        int32_t nameLen) {
  return static_cast<int32_t>(hostCall(ctx, [&](ModuleInstance &in) -> Expected<int64_t> {
    auto exportName = guestBytes(in, name, nameLen, "export name");
    if (!exportName)
      return tl::unexpected(exportName.error());
    CallContext &call = in.call();
    ChildHandle *child = findChild(call, handle);
    if (!child)
      return NOMOS_ERR_BAD_HANDLE;
    Transaction nested(call.transaction);
    CallContext childCall{call.engine, nested, child->prefix, call.limits,
                          call.childDepth + 1, in.context().callDepth,
                          call.logs, {}};
    // The child's limit is what its handle has left, capped by what this
    // program has left; what it burns is charged here (and to the handle).
    int64_t &parentGas = *in.context().gas;
    int64_t childLimit =
        in.module().gas() ? std::max<int64_t>(0, std::min(child->gas, parentGas))
                          : gasCounter(call.limits.gas);
    childCall.gasLeft = childLimit;
    // Storage likewise: what the handle may still add, capped by what this
    // program has left; the child's net effect counts here when it commits.
    int64_t storageLimit =
        std::max<int64_t>(0, std::min(child->storage, call.storageLeft));
    childCall.storageLeft = storageLimit;
    std::string_view nameText(reinterpret_cast<const char *>(exportName->data()),
                              exportName->size());
    auto result = runProgram(child->module, childCall, nameText, {});
    // A child that upgraded itself runs its new code's migrate, if any, in
    // this nested transaction; a trap there is the call's trap.
    if (result && childCall.upgrade)
      if (auto migrated = runMigrate(childCall); !migrated)
        result = tl::unexpected(migrated.error());
    if (in.module().gas()) {
      int64_t burnt = childLimit - std::clamp<int64_t>(childCall.gasLeft, 0, childLimit);
      parentGas -= burnt;
      child->gas -= burnt;
    }
    if (result) {
      NOMOS_TRY(nested.commit());
      int64_t added = storageLimit - childCall.storageLeft;
      call.storageLeft -= added;
      child->storage -= added;
      // A child that upgraded itself runs its new code from its next call
      // on this handle (its code at code_key is unchanged).
      if (childCall.upgrade)
        child->module = std::move(childCall.upgrade);
      return NOMOS_TRAP_NONE;
    }
    const Error &error = result.error();
    if (error.isTrap())
      return static_cast<int64_t>(error.kind);
    if (error.kind == ErrorKind::UnknownExport ||
        error.kind == ErrorKind::BadArguments)
      return NOMOS_TRAP_UNKNOWN_EXPORT;
    return NOMOS_TRAP_HOST_ERROR;
  }));
}

void host_child_drop(VMContext *ctx, int32_t handle) {
  hostCall(ctx, [&](ModuleInstance &in) -> Expected<int64_t> {
    if (findChild(in.call(), handle))
      in.call().children[handle].reset();
    return 0;
  });
}

// ---- self-upgrade ----------------------------------------------------------

// Loads the code at code_key now (paying like child_new for compiling it),
// and records it as the program's code from the commit of this call on.
int32_t host_upgrade(VMContext *ctx, int32_t codeKey, int32_t codeKeyLen) {
  return static_cast<int32_t>(hostCall(ctx, [&](ModuleInstance &in) -> Expected<int64_t> {
    CallContext &call = in.call();
    if (call.migrating)
      return makeError(ErrorKind::HostError,
                       "upgrade: not allowed in migrate");
    auto keyBytes = guestBytes(in, codeKey, codeKeyLen, "code key");
    if (!keyBytes)
      return tl::unexpected(keyBytes.error());
    auto code = call.transaction.get(ownKey(call.prefix, *keyBytes));
    if (!code)
      return NOMOS_ERR_NOT_FOUND;
    NOMOS_TRY(chargeGas(in, scheduleOf(in).childNew +
                                scheduleOf(in).compilePerByte * code->size()));
    auto module = call.engine.load(*code);
    if (module) {
      if (auto imports = resolveImports(**module, findAbiFunction); !imports)
        module = tl::unexpected(imports.error());
      else if (auto migrate = hasMigrate(**module); !migrate)
        module = tl::unexpected(migrate.error());
    }
    if (!module)
      return makeError(ErrorKind::HostError,
                       "upgrade: invalid code: " + module.error().toString());
    call.upgrade = std::move(*module);
    call.upgradeHash = codeHash(*code);
    call.upgradeCode = std::move(*code);
    return NOMOS_OK;
  }));
}

// ---- log and abort ---------------------------------------------------------

void host_log(VMContext *ctx, int32_t message, int32_t length) {
  hostCall(ctx, [&](ModuleInstance &in) -> Expected<int64_t> {
    auto text = guestBytes(in, message, length, "log message");
    if (!text)
      return tl::unexpected(text.error());
    auto &logs = in.call().logs;
    if (logs.size() < kMaxLogLines)
      logs.emplace_back(reinterpret_cast<const char *>(text->data()),
                        std::min(text->size(), kMaxLogLine));
    return 0;
  });
}

int64_t host_gas_left(VMContext *ctx) {
  return hostCall(ctx, [&](ModuleInstance &in) -> Expected<int64_t> {
    return in.module().gas() ? *in.context().gas : 0;
  });
}

void host_abort(VMContext *ctx, int32_t message, int32_t length) {
  hostCall(ctx, [&](ModuleInstance &in) -> Expected<int64_t> {
    auto text = guestBytes(in, message, length, "abort message");
    if (!text)
      return tl::unexpected(text.error());
    return makeError(ErrorKind::GuestAbort,
                     std::string(reinterpret_cast<const char *>(text->data()),
                                 std::min(text->size(), kMaxAbortMessage)));
  });
}

// ---- WASI (wasi_snapshot_preview1) -----------------------------------------
//
// What wasi-libc and libc++ import, answered from nothing but the call
// itself, so a guest built with the standard library stays deterministic:
// fds 0-2 are character devices (stdin always at end of file; stdout and
// stderr go to the call's log), no other fd exists, there are no arguments,
// environment or preopened directories, clocks and randomness are refused,
// and proc_exit traps. Every function is a host call (gas, docs/metering.md).

// WASI errno values (wasi_snapshot_preview1's `errno` enum).
constexpr int64_t kWasiSuccess = 0;
constexpr int64_t kWasiBadF = 8;
constexpr int64_t kWasiNoSys = 52;
constexpr int64_t kWasiNotSup = 58;
constexpr int64_t kWasiSPipe = 70;

constexpr uint8_t kWasiCharacterDevice = 2; // `filetype`
constexpr uint64_t kWasiRightFdRead = 1 << 1;
constexpr uint64_t kWasiRightFdWrite = 1 << 6;

bool isStdio(int32_t fd) { return fd >= 0 && fd <= 2; }

// Writes `size` bytes to guest memory at `offset` (charged per byte).
Expected<void> storeOut(ModuleInstance &instance, uint32_t offset,
                        const void *data, uint32_t size) {
  auto target = guestBytes(instance, offset, size, "output");
  if (!target)
    return tl::unexpected(target.error());
  std::memcpy(const_cast<uint8_t *>(target->data()), data, size);
  return {};
}

Expected<void> storeU32(ModuleInstance &instance, uint32_t offset,
                        uint32_t value) {
  uint8_t bytes[4];
  for (int i = 0; i < 4; ++i)
    bytes[i] = uint8_t(value >> (8 * i));
  return storeOut(instance, offset, bytes, 4);
}

uint32_t loadU32(const uint8_t *bytes) {
  return uint32_t(bytes[0]) | uint32_t(bytes[1]) << 8 |
         uint32_t(bytes[2]) << 16 | uint32_t(bytes[3]) << 24;
}

// The guest's iovec array (`count` pairs of u32 pointer and length), read
// and charged as it is.
Expected<ByteView> iovecArray(ModuleInstance &instance, uint32_t iovs,
                              uint32_t count) {
  uint64_t bytes = uint64_t(count) * 8;
  if (bytes > UINT32_MAX)
    return makeError(ErrorKind::MemoryOutOfBounds,
                     "out of bounds memory access: iovec array of " +
                         std::to_string(count) + " entries");
  return guestBytes(instance, iovs, uint32_t(bytes), "iovec array");
}

// Adds what a write to stdout or stderr says to the call's log, in lines
// split at '\n'. Text after the last '\n' starts a line that the next write
// to the same fd continues, as long as nothing else was logged since (a
// line the call leaves unfinished is logged as it is). So output reaches the
// log in the same lines whatever libc's buffering did with it. Lines are cut
// at kMaxLogLine bytes and the log at kMaxLogLines, as for `log`, while the
// text streams through (the host never holds more).
class StdioLog {
public:
  StdioLog(CallContext &call, int32_t fd)
      : logs_(call.logs), open_(call.openLogLine), fd_(fd) {}

  void write(std::string_view text) {
    while (!text.empty()) {
      size_t end = text.find('\n');
      append(text.substr(0, end));
      if (end == std::string_view::npos)
        return;
      open_.reset(); // the line is complete
      text.remove_prefix(end + 1);
    }
  }

private:
  void append(std::string_view piece) {
    bool continues = open_ && open_->fd == fd_ && open_->index + 1 == logs_.size();
    if (!continues) {
      open_.reset();
      if (logs_.size() >= kMaxLogLines)
        return;
      logs_.emplace_back();
      open_ = CallContext::OpenLogLine{logs_.size() - 1, fd_};
    }
    std::string &line = logs_.back();
    if (line.size() < kMaxLogLine)
      line.append(piece.substr(0, kMaxLogLine - line.size()));
  }

  std::vector<std::string> &logs_;
  std::optional<CallContext::OpenLogLine> &open_;
  int32_t fd_;
};

// Two u32 counts of zero: no arguments, no environment.
int32_t wasiNoStrings(VMContext *ctx, int32_t countOut, int32_t sizeOut) {
  return static_cast<int32_t>(hostCall(ctx, [&](ModuleInstance &in) -> Expected<int64_t> {
    NOMOS_TRY(storeU32(in, countOut, 0));
    NOMOS_TRY(storeU32(in, sizeOut, 0));
    return kWasiSuccess;
  }));
}

// Answers with `errno` and touches nothing (the call is still charged).
int32_t wasiAnswer(VMContext *ctx, int64_t errnoValue) {
  return static_cast<int32_t>(hostCall(
      ctx, [&](ModuleInstance &) -> Expected<int64_t> { return errnoValue; }));
}

int32_t wasi_args_sizes_get(VMContext *ctx, int32_t argc, int32_t bufSize) {
  return wasiNoStrings(ctx, argc, bufSize);
}

int32_t wasi_environ_sizes_get(VMContext *ctx, int32_t count, int32_t bufSize) {
  return wasiNoStrings(ctx, count, bufSize);
}

// With zero strings there is nothing to copy.
int32_t wasi_args_get(VMContext *ctx, int32_t, int32_t) {
  return wasiAnswer(ctx, kWasiSuccess);
}

int32_t wasi_environ_get(VMContext *ctx, int32_t, int32_t) {
  return wasiAnswer(ctx, kWasiSuccess);
}

// No clock: host time would make calls differ between runs and machines.
int32_t wasi_clock_res_get(VMContext *ctx, int32_t, int32_t) {
  return wasiAnswer(ctx, kWasiNoSys);
}

int32_t wasi_clock_time_get(VMContext *ctx, int32_t, int64_t, int32_t) {
  return wasiAnswer(ctx, kWasiNoSys);
}

// No entropy, for the same reason.
int32_t wasi_random_get(VMContext *ctx, int32_t, int32_t) {
  return wasiAnswer(ctx, kWasiNoSys);
}

// Waiting needs a clock (sleep, nanosleep).
int32_t wasi_poll_oneoff(VMContext *ctx, int32_t, int32_t, int32_t, int32_t) {
  return wasiAnswer(ctx, kWasiNoSys);
}

int32_t wasi_sched_yield(VMContext *ctx) { return wasiAnswer(ctx, kWasiSuccess); }

// Closing stdio succeeds and changes nothing (later writes still log).
int32_t wasi_fd_close(VMContext *ctx, int32_t fd) {
  return wasiAnswer(ctx, isStdio(fd) ? kWasiSuccess : kWasiBadF);
}

// fds 0-2 are character devices without seek/tell rights: wasi-libc then
// treats them as terminals and line-buffers stdout.
int32_t wasi_fd_fdstat_get(VMContext *ctx, int32_t fd, int32_t out) {
  return static_cast<int32_t>(hostCall(ctx, [&](ModuleInstance &in) -> Expected<int64_t> {
    if (!isStdio(fd))
      return kWasiBadF;
    // struct fdstat: u8 filetype, u16 flags at 2, u64 rights_base at 8,
    // u64 rights_inheriting at 16; 24 bytes, little endian.
    uint8_t stat[24] = {};
    stat[0] = kWasiCharacterDevice;
    uint64_t rights = fd == 0 ? kWasiRightFdRead : kWasiRightFdWrite;
    for (int i = 0; i < 8; ++i)
      stat[8 + i] = uint8_t(rights >> (8 * i));
    NOMOS_TRY(storeOut(in, out, stat, sizeof stat));
    return kWasiSuccess;
  }));
}

int32_t wasi_fd_fdstat_set_flags(VMContext *ctx, int32_t fd, int32_t) {
  return wasiAnswer(ctx, isStdio(fd) ? kWasiNotSup : kWasiBadF);
}

// No preopened directories: libc's scan of fds from 3 up stops at once.
int32_t wasi_fd_prestat_get(VMContext *ctx, int32_t, int32_t) {
  return wasiAnswer(ctx, kWasiBadF);
}

int32_t wasi_fd_prestat_dir_name(VMContext *ctx, int32_t, int32_t, int32_t) {
  return wasiAnswer(ctx, kWasiBadF);
}

// Files: no fd but stdio, and no directory to open anything in.
int32_t wasi_fd_readdir(VMContext *ctx, int32_t, int32_t, int32_t, int64_t,
                        int32_t) {
  return wasiAnswer(ctx, kWasiBadF);
}

int32_t wasi_path_open(VMContext *ctx, int32_t, int32_t, int32_t, int32_t,
                       int32_t, int64_t, int64_t, int32_t, int32_t) {
  return wasiAnswer(ctx, kWasiBadF);
}

int32_t wasi_path_filestat_get(VMContext *ctx, int32_t, int32_t, int32_t,
                               int32_t, int32_t) {
  return wasiAnswer(ctx, kWasiBadF);
}

int32_t wasi_path_create_directory(VMContext *ctx, int32_t, int32_t, int32_t) {
  return wasiAnswer(ctx, kWasiBadF);
}

int32_t wasi_path_remove_directory(VMContext *ctx, int32_t, int32_t, int32_t) {
  return wasiAnswer(ctx, kWasiBadF);
}

int32_t wasi_path_unlink_file(VMContext *ctx, int32_t, int32_t, int32_t) {
  return wasiAnswer(ctx, kWasiBadF);
}

// fstat of stdio: a character device, every other field 0 (no times: no
// clock). struct filestat is 64 bytes, filetype at 16.
int32_t wasi_fd_filestat_get(VMContext *ctx, int32_t fd, int32_t out) {
  return static_cast<int32_t>(hostCall(ctx, [&](ModuleInstance &in) -> Expected<int64_t> {
    if (!isStdio(fd))
      return kWasiBadF;
    uint8_t stat[64] = {};
    stat[16] = kWasiCharacterDevice;
    NOMOS_TRY(storeOut(in, out, stat, sizeof stat));
    return kWasiSuccess;
  }));
}

int32_t wasi_fd_seek(VMContext *ctx, int32_t fd, int64_t, int32_t, int32_t) {
  return wasiAnswer(ctx, isStdio(fd) ? kWasiSPipe : kWasiBadF);
}

// stdin is empty: every read is at end of file.
int32_t wasi_fd_read(VMContext *ctx, int32_t fd, int32_t iovs, int32_t count,
                     int32_t readOut) {
  return static_cast<int32_t>(hostCall(ctx, [&](ModuleInstance &in) -> Expected<int64_t> {
    if (fd != 0)
      return kWasiBadF;
    NOMOS_TRY(iovecArray(in, iovs, count));
    NOMOS_TRY(storeU32(in, readOut, 0));
    return kWasiSuccess;
  }));
}

int32_t wasi_fd_write(VMContext *ctx, int32_t fd, int32_t iovs, int32_t count,
                      int32_t writtenOut) {
  return static_cast<int32_t>(hostCall(ctx, [&](ModuleInstance &in) -> Expected<int64_t> {
    if (fd != 1 && fd != 2)
      return kWasiBadF;
    auto array = iovecArray(in, iovs, count);
    if (!array)
      return tl::unexpected(array.error());
    // Every buffer is checked (and charged) before the first line is
    // logged: a write that traps logs nothing.
    auto buffer = [&](uint32_t i) {
      const uint8_t *entry = array->data() + 8 * i;
      return std::pair<uint32_t, uint32_t>(loadU32(entry), loadU32(entry + 4));
    };
    uint64_t written = 0;
    for (uint32_t i = 0; i < uint32_t(count); ++i) {
      auto [offset, length] = buffer(i);
      NOMOS_TRY(guestBytes(in, offset, length, "write buffer"));
      written += length;
    }
    StdioLog log(in.call(), fd);
    for (uint32_t i = 0; i < uint32_t(count); ++i) {
      auto [offset, length] = buffer(i);
      log.write(std::string_view(
          reinterpret_cast<const char *>(in.memoryRange(offset, length)), length));
    }
    // WASI's `size` is u32; overlapping iovecs can add up to more.
    NOMOS_TRY(storeU32(in, writtenOut, uint32_t(std::min<uint64_t>(written, UINT32_MAX))));
    return kWasiSuccess;
  }));
}

// exit(), and returning from main in a command: the call ends with a trap,
// whatever the code (a call ends normally only by returning from its
// export), so its writes are dropped.
void wasi_proc_exit(VMContext *ctx, int32_t code) {
  hostCall(ctx, [&](ModuleInstance &) -> Expected<int64_t> {
    return makeError(ErrorKind::GuestAbort,
                     "proc_exit(" + std::to_string(code) + ")");
  });
}

// ---- the table -------------------------------------------------------------

// The wasm signature of a host function's C type, as in NOMOS_ABI_IMPORTS:
// checked at compile time against the ABI header.
template <class T> constexpr char typeCode() {
  return std::is_same_v<T, int64_t> ? 'I' : 'i';
}
template <class R, class... A>
constexpr bool signatureMatches(R (*)(VMContext *, A...), std::string_view sig) {
  std::array<char, sizeof...(A) + 2> text{typeCode<A>()..., ':', '\0'};
  std::string_view params(text.data(), sizeof...(A) + 1);
  if (sig.substr(0, params.size()) != params)
    return false;
  std::string_view results = sig.substr(params.size());
  if constexpr (std::is_void_v<R>)
    return results.empty();
  else
    return results.size() == 1 && results[0] == typeCode<R>();
}

wasm::FuncType parseSignature(std::string_view sig) {
  wasm::FuncType type;
  bool results = false;
  for (char c : sig) {
    if (c == ':') {
      results = true;
      continue;
    }
    (results ? type.results : type.params)
        .push_back(c == 'I' ? wasm::ValType::I64 : wasm::ValType::I32);
  }
  return type;
}

#define NOMOS_CHECK_SIGNATURE(name, sig)                                        \
  static_assert(signatureMatches(&host_##name, sig),                            \
                "host_" #name " does not match its signature in nomos/abi.h");
NOMOS_ABI_IMPORTS(NOMOS_CHECK_SIGNATURE)
#undef NOMOS_CHECK_SIGNATURE
#define NOMOS_CHECK_WASI_SIGNATURE(name, sig)                                   \
  static_assert(signatureMatches(&wasi_##name, sig),                            \
                "wasi_" #name " does not match its signature in nomos/abi.h");
NOMOS_WASI_IMPORTS(NOMOS_CHECK_WASI_SIGNATURE)
#undef NOMOS_CHECK_WASI_SIGNATURE

struct AbiFunction {
  std::string_view name;
  Extern function;
};

Extern nativeFunction(std::string_view signature, void *entry) {
  auto data = std::make_shared<FunctionData>();
  data->type = parseSignature(signature);
  data->native = entry;
  return Extern(std::move(data));
}

const std::vector<AbiFunction> &abiFunctions() {
  static const std::vector<AbiFunction> table = {
#define NOMOS_HOST_ENTRY(name, sig)                                             \
  {#name, nativeFunction(sig, reinterpret_cast<void *>(&host_##name))},
      NOMOS_ABI_IMPORTS(NOMOS_HOST_ENTRY)
#undef NOMOS_HOST_ENTRY
  };
  return table;
}

const std::vector<AbiFunction> &wasiFunctions() {
  static const std::vector<AbiFunction> table = {
#define NOMOS_WASI_ENTRY(name, sig)                                             \
  {#name, nativeFunction(sig, reinterpret_cast<void *>(&wasi_##name))},
      NOMOS_WASI_IMPORTS(NOMOS_WASI_ENTRY)
#undef NOMOS_WASI_ENTRY
  };
  return table;
}

} // namespace

std::optional<Extern> findAbiFunction(std::string_view module,
                                      std::string_view name) {
  const std::vector<AbiFunction> *table = nullptr;
  if (module == NOMOS_IMPORT_MODULE)
    table = &abiFunctions();
  else if (module == NOMOS_WASI_MODULE)
    table = &wasiFunctions();
  else
    return std::nullopt;
  for (const AbiFunction &fn : *table)
    if (fn.name == name)
      return fn.function;
  return std::nullopt;
}

} // namespace nomos
