// The C API (<nomos.h>) over the C++ API. Every entry point catches every
// C++ exception (an LMDB error thrown by Store::set, an oversized entry,
// bad_alloc) and returns it as an error value: nothing C++ crosses into C.
#include <nomos.h>

#include <nomos/nomos.h>
#include <nomos/version.h>

#include "small_buffer.h"

#include <algorithm>

#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>

using namespace nomos;

// ---- handles ----------------------------------------------------------------

struct nomos_error {
  Error error;
};

struct nomos_engine {
  std::shared_ptr<Engine> engine;
};

struct nomos_store {
  std::shared_ptr<Store> store;
};

struct nomos_vm {
  VM vm;
  // The VM's store, for nomos_vm_store (VM::store is a reference only).
  std::shared_ptr<Store> store;
};

struct nomos_call_result {
  CallResult result;
};

struct nomos_extern {
  Extern ext;
};

struct nomos_instance {
  Instance instance;
  std::vector<std::string> exportNames; // for nomos_instance_export_name
};

struct nomos_function {
  Function function;
};

struct nomos_exports {
  std::vector<ExportedFunction> functions;
  // The types as the C enum, per function: params, then results.
  std::vector<std::vector<nomos_value_type_t>> params, results;
};

// The C enums are nomos's, value for value: both sides list the kinds in
// the same order without gaps (traps 1..14, other errors from 64), so the
// ends of each range pin every value.
static_assert(NOMOS_ERROR_UNREACHABLE == int(ErrorKind::Unreachable));
static_assert(NOMOS_ERROR_GUEST_ABORT == int(ErrorKind::GuestAbort));
static_assert(NOMOS_ERROR_MALFORMED_MODULE == int(ErrorKind::MalformedModule));
static_assert(NOMOS_ERROR_IO_ERROR == int(ErrorKind::IoError));
static_assert(NOMOS_EXTERNREF == int(ValueType::ExternRef));
static_assert(NOMOS_STAGE_ASM == int(Stage::Asm));
static_assert(NOMOS_EXTERN_GLOBAL == int(ExternKind::Global));

namespace {

nomos_error_t *newError(Error error) {
  // Allocation failing here would leave no way to report anything.
  return new (std::nothrow) nomos_error{std::move(error)};
}

nomos_error_t *newError(ErrorKind kind, std::string message) {
  return newError(Error{kind, std::move(message), {}});
}

nomos_error_t *badArgument(const char *function, const char *what) {
  return newError(ErrorKind::BadArguments,
                   std::string(function) + ": " + what + " is NULL");
}

// The exception in flight, as an error value. Store::set throws
// length_error for an entry past the size limits and runtime_error for an
// LMDB failure (store.h).
nomos_error_t *currentException() {
  try {
    throw;
  } catch (const std::length_error &e) {
    return newError(ErrorKind::StorageLimit, e.what());
  } catch (const std::bad_alloc &) {
    return newError(ErrorKind::ResourceError, "out of memory");
  } catch (const std::exception &e) {
    return newError(ErrorKind::IoError, e.what());
  } catch (...) {
    return newError(ErrorKind::ResourceError, "unknown C++ exception");
  }
}

// Runs `body` (returning nomos_error_t*), turning exceptions into errors.
template <class F> nomos_error_t *guard(F &&body) {
  try {
    return body();
  } catch (...) {
    return currentException();
  }
}

// Runs `body`, for functions with no error to return: a failure gives
// `fallback`.
template <class T, class F> T guardOr(T fallback, F &&body) {
  try {
    return body();
  } catch (...) {
    return fallback;
  }
}

ByteView view(const void *data, size_t size) {
  return ByteView(static_cast<const uint8_t *>(data), size);
}

// Copies bytes into a malloc'd nomos_bytes_t (data NULL for none).
nomos_bytes_t giveBytes(const Bytes &bytes) {
  nomos_bytes_t out{nullptr, bytes.size()};
  if (bytes.empty())
    return out;
  out.data = static_cast<uint8_t *>(std::malloc(bytes.size()));
  if (!out.data)
    throw std::bad_alloc();
  std::memcpy(out.data, bytes.data(), bytes.size());
  return out;
}

char *giveString(std::string_view text) {
  char *out = static_cast<char *>(std::malloc(text.size() + 1));
  if (!out)
    throw std::bad_alloc();
  std::memcpy(out, text.data(), text.size());
  out[text.size()] = '\0';
  return out;
}

// A lookup's answer in the out-parameters: *found, and *out when found.
nomos_error_t *giveLookup(const std::optional<Bytes> &value,
                          nomos_bytes_t *out, bool *found) {
  if (value)
    *out = giveBytes(*value);
  *found = value.has_value();
  return nullptr;
}

Limits toLimits(const nomos_limits_t &limits) {
  Limits out;
  out.memoryPages = limits.memory_pages;
  out.callDepth = limits.call_depth;
  out.childDepth = limits.child_depth;
  out.openChildren = limits.open_children;
  out.gas = limits.gas;
  out.storageBytes = limits.storage_bytes;
  return out;
}

nomos_limits_t fromLimits(const Limits &limits) {
  return {limits.memoryPages, limits.callDepth,  limits.childDepth,
          limits.openChildren, limits.gas, limits.storageBytes};
}

VMOptions toVMOptions(const nomos_vm_options_t *options) {
  VMOptions out;
  if (!options)
    return out;
  if (options->engine)
    out.engine = options->engine->engine;
  if (options->store)
    out.store = options->store->store;
  out.limits = toLimits(options->limits);
  return out;
}

// A VM handle for a VM made on `store`.
nomos_error_t *giveVM(Expected<VM> vm, std::shared_ptr<Store> store,
                      nomos_vm_t **out) {
  if (!vm)
    return newError(std::move(vm.error()));
  *out = new nomos_vm{std::move(*vm), std::move(store)};
  return nullptr;
}

std::vector<Value> toValues(const nomos_value_t *args, size_t count) {
  std::vector<Value> values;
  values.reserve(count);
  for (size_t i = 0; i < count; ++i)
    values.push_back(Value{ValueType(args[i].type), args[i].bits, args[i].hi});
  return values;
}

nomos_error_t *giveCall(Expected<CallResult> result, nomos_call_result_t **out) {
  if (!result)
    return newError(std::move(result.error()));
  if (out)
    *out = new nomos_call_result{std::move(*result)};
  return nullptr;
}

std::vector<nomos_value_type_t> toCTypes(const std::vector<ValueType> &types) {
  std::vector<nomos_value_type_t> out;
  for (ValueType type : types)
    out.push_back(nomos_value_type_t(type));
  return out;
}

template <class T>
nomos_error_t *decodeInto(const void *data, size_t size, T *out) {
  if (!data && size)
    return badArgument("nomos_decode", "data");
  auto value = decode<T>(view(data, size));
  if (!value)
    return newError(std::move(value.error()));
  *out = *value;
  return nullptr;
}

template <class T> void encodeInto(T value, uint8_t *out) {
  Bytes bytes = encode<T>(value);
  std::memcpy(out, bytes.data(), bytes.size());
}

std::vector<ValueType> toTypes(const nomos_value_type_t *types, size_t count) {
  std::vector<ValueType> out;
  for (size_t i = 0; i < count; ++i)
    out.push_back(ValueType(types[i]));
  return out;
}

nomos_value_t fromValue(const Value &value) {
  return {nomos_value_type_t(value.type), value.bits, value.hi};
}

Value toValue(const nomos_value_t &value) {
  return {ValueType(value.type), value.bits, value.hi};
}

// A C host function as a HostResultsCallback (allocation-free for small
// signatures). The context's finalizer runs when the last copy of the
// callback (so of the function) is gone.
HostResultsCallback hostCallback(nomos_host_callback_t callback, void *context,
                                 void (*finalize)(void *)) {
  std::shared_ptr<void> owner(context, [finalize](void *c) {
    if (finalize)
      finalize(c);
  });
  return [=](std::span<const Value> args,
             std::span<Value> results) -> Expected<void> {
    SmallBuffer<nomos_value_t> cValues(args.size() + results.size());
    nomos_value_t *cArgs = cValues.data();
    nomos_value_t *cResults = cArgs + args.size();
    std::transform(args.begin(), args.end(), cArgs, fromValue);
    std::transform(results.begin(), results.end(), cResults, fromValue);
    if (nomos_error_t *error = callback(owner.get(), cArgs, args.size(),
                                        cResults, results.size())) {
      Error out = std::move(error->error);
      delete error;
      return tl::unexpected(std::move(out));
    }
    std::transform(cResults, cResults + results.size(), results.begin(),
                   toValue);
    return {};
  };
}

// An import resolver over a C one.
ImportResolver importResolver(nomos_import_resolver_t resolve, void *context) {
  return [=](std::string_view module,
             std::string_view name) -> std::optional<Extern> {
    if (!resolve)
      return std::nullopt;
    const nomos_extern_t *ext =
        resolve(context, module.data(), module.size(), name.data(), name.size());
    if (!ext)
      return std::nullopt;
    return ext->ext;
  };
}

nomos_error_t *giveExtern(Expected<Extern> ext, nomos_extern_t **out) {
  if (!ext)
    return newError(std::move(ext.error()));
  *out = new nomos_extern{std::move(*ext)};
  return nullptr;
}

} // namespace

extern "C" {

const char *nomos_version(void) { return NOMOS_VERSION; }

// ---- errors -----------------------------------------------------------------

nomos_error_kind_t nomos_error_kind(const nomos_error_t *error) {
  return nomos_error_kind_t(error->error.kind);
}

const char *nomos_error_message(const nomos_error_t *error) {
  return error->error.message.c_str();
}

bool nomos_error_is_trap(const nomos_error_t *error) {
  return error->error.isTrap();
}

size_t nomos_error_backtrace_size(const nomos_error_t *error) {
  return error->error.backtrace.size();
}

const char *nomos_error_backtrace_frame(const nomos_error_t *error,
                                        size_t index,
                                        uint32_t *function_index) {
  if (index >= error->error.backtrace.size())
    return nullptr;
  const Frame &frame = error->error.backtrace[index];
  if (function_index)
    *function_index = frame.functionIndex;
  return frame.functionName.c_str();
}

void nomos_error_free(nomos_error_t *error) { delete error; }

const char *nomos_error_kind_name(nomos_error_kind_t kind) {
  // errorKindName returns views of string literals: NUL-terminated.
  return errorKindName(ErrorKind(kind)).data();
}

// ---- bytes ------------------------------------------------------------------

void nomos_bytes_free(nomos_bytes_t *bytes) {
  if (!bytes)
    return;
  std::free(bytes->data);
  *bytes = {nullptr, 0};
}

void nomos_string_free(char *text) { std::free(text); }

void nomos_encode_u64(uint64_t value, uint8_t out[8]) { encodeInto(value, out); }
void nomos_encode_i64(int64_t value, uint8_t out[8]) { encodeInto(value, out); }
void nomos_encode_u32(uint32_t value, uint8_t out[4]) { encodeInto(value, out); }
void nomos_encode_i32(int32_t value, uint8_t out[4]) { encodeInto(value, out); }

nomos_error_t *nomos_decode_u64(const void *data, size_t size, uint64_t *out) {
  return decodeInto(data, size, out);
}
nomos_error_t *nomos_decode_i64(const void *data, size_t size, int64_t *out) {
  return decodeInto(data, size, out);
}
nomos_error_t *nomos_decode_u32(const void *data, size_t size, uint32_t *out) {
  return decodeInto(data, size, out);
}
nomos_error_t *nomos_decode_i32(const void *data, size_t size, int32_t *out) {
  return decodeInto(data, size, out);
}

char *nomos_value_to_string(nomos_value_t value) {
  return guardOr<char *>(nullptr, [&] {
    return giveString(toString(toValues(&value, 1)[0]));
  });
}

nomos_error_t *nomos_value_parse(nomos_value_type_t type, const char *text,
                                 nomos_value_t *out) {
  if (!text || !out)
    return badArgument(__func__, text ? "out" : "text");
  return guard([&]() -> nomos_error_t * {
    auto value = parseValue(ValueType(type), text);
    if (!value)
      return newError(std::move(value.error()));
    *out = fromValue(*value);
    return nullptr;
  });
}

// ---- engines ----------------------------------------------------------------

void nomos_engine_options_init(nomos_engine_options_t *options) {
  EngineOptions defaults;
  *options = {defaults.optLevel, defaults.metering, defaults.gasInRegister,
              nullptr, nullptr};
}

nomos_error_t *nomos_engine_new(const nomos_engine_options_t *options,
                                nomos_engine_t **out) {
  if (!out)
    return badArgument(__func__, "out");
  return guard([&]() -> nomos_error_t * {
    EngineOptions engineOptions;
    if (options) {
      if (options->opt_level > 3)
        return newError(ErrorKind::BadArguments,
                         "nomos_engine_new: opt_level must be 0 to 3, not " +
                             std::to_string(options->opt_level));
      engineOptions.optLevel = options->opt_level;
      engineOptions.metering = options->metering;
      engineOptions.gasInRegister = options->gas_in_register;
      if (options->cache_dir)
        engineOptions.cacheDir = options->cache_dir;
      if (options->gas_schedule) {
        auto schedule = GasSchedule::parse(options->gas_schedule);
        if (!schedule)
          return newError(std::move(schedule.error()));
        engineOptions.schedule = *schedule;
      }
    }
    *out = new nomos_engine{std::make_shared<Engine>(engineOptions)};
    return nullptr;
  });
}

void nomos_engine_free(nomos_engine_t *engine) { delete engine; }

nomos_error_t *nomos_engine_load(nomos_engine_t *engine, const void *code,
                                 size_t size) {
  if (!engine)
    return badArgument(__func__, "engine");
  return guard([&]() -> nomos_error_t * {
    auto module = engine->engine->load(view(code, size));
    return module ? nullptr : newError(std::move(module.error()));
  });
}

void nomos_engine_stats(const nomos_engine_t *engine,
                        nomos_engine_stats_t *out) {
  EngineStats stats = engine->engine->stats();
  *out = {stats.compiles, stats.memoryHits, stats.diskHits, stats.diskMisses,
          stats.diskRejected};
}

size_t nomos_engine_compiled_modules(const nomos_engine_t *engine) {
  return engine->engine->compiledModules();
}

nomos_error_t *nomos_engine_inspect(const nomos_engine_t *engine,
                                    const void *code, size_t size,
                                    nomos_stage_t stage, const char *function,
                                    char **out) {
  if (!engine || !out)
    return badArgument(__func__, engine ? "out" : "engine");
  if (unsigned(stage) > unsigned(NOMOS_STAGE_ASM))
    return newError(ErrorKind::BadArguments,
                     "nomos_engine_inspect: no stage " +
                         std::to_string(int(stage)));
  return guard([&]() -> nomos_error_t * {
    auto text = engine->engine->inspect(view(code, size), Stage(stage),
                                        function ? function : "");
    if (!text)
      return newError(std::move(text.error()));
    *out = giveString(*text);
    return nullptr;
  });
}

char *nomos_default_cache_dir(void) {
  return guardOr<char *>(nullptr, [] {
    auto dir = defaultCacheDir();
    return dir ? giveString(*dir) : nullptr;
  });
}

// ---- stores -----------------------------------------------------------------

nomos_store_t *nomos_memory_store_new(void) {
  return guardOr<nomos_store_t *>(nullptr, [] {
    return new nomos_store{std::make_shared<MemoryStore>()};
  });
}

void nomos_lmdb_options_init(nomos_lmdb_options_t *options) {
  LmdbOptions defaults;
  *options = {defaults.mapSize, defaults.sync};
}

nomos_error_t *nomos_lmdb_store_open(const char *path,
                                     const nomos_lmdb_options_t *options,
                                     nomos_store_t **out) {
  if (!path || !out)
    return badArgument(__func__, path ? "out" : "path");
  return guard([&]() -> nomos_error_t * {
    LmdbOptions lmdbOptions;
    if (options)
      lmdbOptions = {options->map_size, options->sync};
    auto store = LmdbStore::open(path, lmdbOptions);
    if (!store)
      return newError(std::move(store.error()));
    *out = new nomos_store{std::move(*store)};
    return nullptr;
  });
}

void nomos_store_free(nomos_store_t *store) { delete store; }

nomos_error_t *nomos_store_get(const nomos_store_t *store, const void *key,
                               size_t key_size, nomos_bytes_t *out,
                               bool *found) {
  if (!store || !out || !found)
    return badArgument(__func__, !store ? "store" : !out ? "out" : "found");
  return guard([&] {
    return giveLookup(store->store->get(view(key, key_size)), out, found);
  });
}

nomos_error_t *nomos_store_set(nomos_store_t *store, const void *key,
                               size_t key_size, const void *value,
                               size_t value_size) {
  if (!store)
    return badArgument(__func__, "store");
  return guard([&]() -> nomos_error_t * {
    store->store->set(view(key, key_size), view(value, value_size));
    return nullptr;
  });
}

nomos_error_t *nomos_store_apply(nomos_store_t *store,
                                 const nomos_store_write_t *writes,
                                 size_t count) {
  if (!store || (!writes && count))
    return badArgument(__func__, store ? "writes" : "store");
  return guard([&]() -> nomos_error_t * {
    std::vector<StoreWrite> batch;
    for (size_t i = 0; i < count; ++i) {
      ByteView key = view(writes[i].key, writes[i].key_size);
      std::optional<Bytes> value;
      if (!writes[i].remove) {
        ByteView bytes = view(writes[i].value, writes[i].value_size);
        value = Bytes(bytes.begin(), bytes.end());
      }
      batch.emplace_back(Bytes(key.begin(), key.end()), std::move(value));
    }
    auto applied = store->store->apply(batch);
    return applied ? nullptr : newError(std::move(applied.error()));
  });
}

nomos_error_t *nomos_store_remove(nomos_store_t *store, const void *key,
                                  size_t key_size, bool *existed) {
  if (!store)
    return badArgument(__func__, "store");
  return guard([&]() -> nomos_error_t * {
    bool removed = store->store->remove(view(key, key_size));
    if (existed)
      *existed = removed;
    return nullptr;
  });
}

uint64_t nomos_store_bytes_used(const nomos_store_t *store) {
  return store->store->bytesUsed();
}

bool nomos_store_durable(const nomos_store_t *store) {
  return store->store->durable();
}

nomos_error_t *nomos_store_for_each(const nomos_store_t *store,
                                    nomos_store_visit_t visit, void *context) {
  if (!store || !visit)
    return badArgument(__func__, store ? "visit" : "store");
  return guard([&]() -> nomos_error_t * {
    bool listed = store->store->forEach([&](ByteView key, ByteView value) {
      visit(context, key.data(), key.size(), value.data(), value.size());
    });
    if (!listed)
      return newError(ErrorKind::BadArguments,
                       "nomos_store_for_each: this store cannot list its "
                       "entries");
    return nullptr;
  });
}

// ---- VMs --------------------------------------------------------------------

void nomos_limits_init(nomos_limits_t *limits) { *limits = fromLimits({}); }

void nomos_vm_options_init(nomos_vm_options_t *options) {
  *options = {nullptr, nullptr, fromLimits({})};
}

nomos_error_t *nomos_vm_new(const void *code, size_t size,
                            const nomos_vm_options_t *options,
                            nomos_vm_t **out) {
  if (!out)
    return badArgument(__func__, "out");
  return guard([&] {
    VMOptions vmOptions = toVMOptions(options);
    // Made here rather than by VM::create so nomos_vm_store can share it.
    if (!vmOptions.store)
      vmOptions.store = std::make_shared<MemoryStore>();
    std::shared_ptr<Store> store = vmOptions.store;
    return giveVM(VM::create(view(code, size), std::move(vmOptions)),
                  std::move(store), out);
  });
}

nomos_error_t *nomos_vm_open(nomos_store_t *store,
                             const nomos_vm_options_t *options,
                             nomos_vm_t **out) {
  if (!store || !out)
    return badArgument(__func__, store ? "out" : "store");
  return guard([&] {
    VMOptions vmOptions = toVMOptions(options);
    vmOptions.store = store->store;
    return giveVM(VM::open(store->store, std::move(vmOptions)), store->store,
                  out);
  });
}

void nomos_vm_free(nomos_vm_t *vm) { delete vm; }

nomos_error_t *nomos_vm_call(nomos_vm_t *vm, const char *name,
                             const nomos_value_t *args, size_t arg_count,
                             nomos_call_result_t **out) {
  if (!vm || !name)
    return badArgument(__func__, vm ? "name" : "vm");
  if (!args && arg_count)
    return badArgument(__func__, "args");
  return guard([&] {
    return giveCall(vm->vm.call(name, toValues(args, arg_count)), out);
  });
}

nomos_error_t *nomos_vm_call_with_gas(nomos_vm_t *vm, const char *name,
                                      const nomos_value_t *args,
                                      size_t arg_count, uint64_t gas_limit,
                                      nomos_call_result_t **out) {
  if (!vm || !name)
    return badArgument(__func__, vm ? "name" : "vm");
  if (!args && arg_count)
    return badArgument(__func__, "args");
  return guard([&] {
    return giveCall(
        vm->vm.call(name, toValues(args, arg_count), gas_limit), out);
  });
}

void nomos_vm_last_call_gas(const nomos_vm_t *vm, nomos_gas_report_t *out) {
  GasReport gas = vm->vm.lastCallGas();
  *out = {gas.limit, gas.used, gas.left};
}

size_t nomos_call_result_count(const nomos_call_result_t *result) {
  return result->result.results.size();
}

nomos_value_t nomos_call_result_value(const nomos_call_result_t *result,
                                      size_t index) {
  if (index >= result->result.results.size())
    return nomos_value_i32(0);
  return fromValue(result->result.results[index]);
}

size_t nomos_call_result_log_count(const nomos_call_result_t *result) {
  return result->result.logs.size();
}

const char *nomos_call_result_log(const nomos_call_result_t *result,
                                  size_t index) {
  if (index >= result->result.logs.size())
    return nullptr;
  return result->result.logs[index].c_str();
}

uint64_t nomos_call_result_gas_used(const nomos_call_result_t *result) {
  return result->result.gasUsed;
}

uint64_t nomos_call_result_gas_left(const nomos_call_result_t *result) {
  return result->result.gasLeft;
}

void nomos_call_result_free(nomos_call_result_t *result) { delete result; }

nomos_error_t *nomos_vm_set(nomos_vm_t *vm, const void *key, size_t key_size,
                            const void *value, size_t value_size) {
  if (!vm)
    return badArgument(__func__, "vm");
  return guard([&]() -> nomos_error_t * {
    vm->vm.set(view(key, key_size), view(value, value_size));
    return nullptr;
  });
}

nomos_error_t *nomos_vm_get(const nomos_vm_t *vm, const void *key,
                            size_t key_size, nomos_bytes_t *out, bool *found) {
  if (!vm || !out || !found)
    return badArgument(__func__, !vm ? "vm" : !out ? "out" : "found");
  return guard(
      [&] { return giveLookup(vm->vm.get(view(key, key_size)), out, found); });
}

nomos_error_t *nomos_vm_remove(nomos_vm_t *vm, const void *key,
                               size_t key_size, bool *existed) {
  if (!vm)
    return badArgument(__func__, "vm");
  return guard([&]() -> nomos_error_t * {
    bool removed = vm->vm.remove(view(key, key_size));
    if (existed)
      *existed = removed;
    return nullptr;
  });
}

nomos_error_t *nomos_vm_get_child(const nomos_vm_t *vm,
                                  const nomos_byte_view_t *path, size_t depth,
                                  const void *key, size_t key_size,
                                  nomos_bytes_t *out, bool *found) {
  if (!vm || !out || !found)
    return badArgument(__func__, !vm ? "vm" : !out ? "out" : "found");
  if (!path && depth)
    return badArgument(__func__, "path");
  return guard([&] {
    std::vector<ByteView> keys;
    for (size_t i = 0; i < depth; ++i)
      keys.push_back(view(path[i].data, path[i].size));
    return giveLookup(vm->vm.getChild(keys, view(key, key_size)), out, found);
  });
}

nomos_error_t *nomos_vm_upgrade(nomos_vm_t *vm, const void *code,
                                size_t size) {
  if (!vm)
    return badArgument(__func__, "vm");
  return guard([&]() -> nomos_error_t * {
    auto upgraded = vm->vm.upgrade(view(code, size));
    return upgraded ? nullptr : newError(std::move(upgraded.error()));
  });
}

size_t nomos_vm_code_history_size(const nomos_vm_t *vm) {
  return guardOr<size_t>(0, [&] { return vm->vm.codeHistory().size(); });
}

bool nomos_vm_code_history_at(const nomos_vm_t *vm, size_t index,
                              uint8_t out[32]) {
  return guardOr(false, [&] {
    std::vector<Bytes> history = vm->vm.codeHistory();
    if (index >= history.size() || history[index].size() != 32)
      return false;
    std::memcpy(out, history[index].data(), 32);
    return true;
  });
}

nomos_store_t *nomos_vm_store(nomos_vm_t *vm) {
  return guardOr<nomos_store_t *>(nullptr,
                                  [&] { return new nomos_store{vm->store}; });
}

void nomos_vm_limits(const nomos_vm_t *vm, nomos_limits_t *out) {
  *out = fromLimits(vm->vm.limits());
}

nomos_exports_t *nomos_vm_exports(const nomos_vm_t *vm) {
  return guardOr<nomos_exports_t *>(nullptr, [&] {
    auto exports = std::make_unique<nomos_exports>();
    exports->functions = vm->vm.exports();
    for (const ExportedFunction &function : exports->functions) {
      exports->params.push_back(toCTypes(function.params));
      exports->results.push_back(toCTypes(function.results));
    }
    return exports.release();
  });
}

size_t nomos_exports_count(const nomos_exports_t *exports) {
  return exports->functions.size();
}

const char *nomos_exports_name(const nomos_exports_t *exports, size_t index) {
  if (index >= exports->functions.size())
    return nullptr;
  return exports->functions[index].name.c_str();
}

// The types of a function's params or results: their count and *types.
static size_t giveTypes(const std::vector<std::vector<nomos_value_type_t>> &all,
                        size_t index, const nomos_value_type_t **types) {
  const std::vector<nomos_value_type_t> *found =
      index < all.size() ? &all[index] : nullptr;
  if (types)
    *types = found ? found->data() : nullptr;
  return found ? found->size() : 0;
}

size_t nomos_exports_params(const nomos_exports_t *exports, size_t index,
                            const nomos_value_type_t **types) {
  return giveTypes(exports->params, index, types);
}

size_t nomos_exports_results(const nomos_exports_t *exports, size_t index,
                             const nomos_value_type_t **types) {
  return giveTypes(exports->results, index, types);
}

void nomos_exports_free(nomos_exports_t *exports) { delete exports; }

// ---- instances --------------------------------------------------------------

nomos_error_t *nomos_error_new(nomos_error_kind_t kind, const char *message) {
  return guardOr<nomos_error_t *>(nullptr, [&] {
    return newError(ErrorKind(kind), message ? message : "");
  });
}

nomos_extern_t *nomos_extern_function(const nomos_value_type_t *params,
                                      size_t param_count,
                                      const nomos_value_type_t *results,
                                      size_t result_count,
                                      nomos_host_callback_t callback,
                                      void *context,
                                      void (*finalize)(void *context)) {
  if (!callback || (!params && param_count) || (!results && result_count))
    return nullptr;
  return guardOr<nomos_extern_t *>(nullptr, [&] {
    FunctionType type{toTypes(params, param_count),
                      toTypes(results, result_count)};
    return new nomos_extern{Extern::function(
        std::move(type), hostCallback(callback, context, finalize))};
  });
}

nomos_extern_t *nomos_extern_global(nomos_value_t initial, bool is_mutable) {
  return guardOr<nomos_extern_t *>(nullptr, [&] {
    Value value{ValueType(initial.type), initial.bits, initial.hi};
    return new nomos_extern{Extern::global(value, is_mutable)};
  });
}

static std::optional<uint32_t> optionalLimit(const uint32_t *value) {
  return value ? std::optional<uint32_t>(*value) : std::nullopt;
}

nomos_error_t *nomos_extern_memory(uint32_t minimum_pages,
                                   const uint32_t *maximum_pages,
                                   nomos_extern_t **out) {
  if (!out)
    return badArgument(__func__, "out");
  return guard([&] {
    return giveExtern(Extern::memory(minimum_pages, optionalLimit(maximum_pages)),
                      out);
  });
}

nomos_error_t *nomos_extern_table(nomos_value_type_t element_type,
                                  uint32_t minimum, const uint32_t *maximum,
                                  nomos_extern_t **out) {
  if (!out)
    return badArgument(__func__, "out");
  return guard([&] {
    return giveExtern(
        Extern::table(ValueType(element_type), minimum, optionalLimit(maximum)),
        out);
  });
}

nomos_extern_kind_t nomos_extern_kind(const nomos_extern_t *ext) {
  return nomos_extern_kind_t(ext->ext.kind());
}

nomos_value_t nomos_extern_global_value(const nomos_extern_t *ext) {
  if (ext->ext.kind() != ExternKind::Global)
    return nomos_value_i32(0);
  return fromValue(ext->ext.globalValue());
}

void nomos_extern_free(nomos_extern_t *ext) { delete ext; }

nomos_error_t *nomos_instance_new(nomos_engine_t *engine, const void *code,
                                  size_t size, nomos_import_resolver_t resolve,
                                  void *context, const nomos_limits_t *limits,
                                  nomos_instance_t **out) {
  if (!engine || !out)
    return badArgument(__func__, engine ? "out" : "engine");
  return guard([&]() -> nomos_error_t * {
    auto instance = Instance::create(*engine->engine, view(code, size),
                                     importResolver(resolve, context),
                                     limits ? toLimits(*limits) : Limits{});
    if (!instance)
      return newError(std::move(instance.error()));
    std::vector<std::string> names = instance->exportNames();
    *out = new nomos_instance{std::move(*instance), std::move(names)};
    return nullptr;
  });
}

void nomos_instance_free(nomos_instance_t *instance) { delete instance; }

nomos_error_t *nomos_instance_call(nomos_instance_t *instance, const char *name,
                                   const nomos_value_t *args, size_t arg_count,
                                   nomos_call_result_t **out) {
  if (!instance || !name)
    return badArgument(__func__, instance ? "name" : "instance");
  if (!args && arg_count)
    return badArgument(__func__, "args");
  return guard([&]() -> nomos_error_t * {
    auto results = instance->instance.call(name, toValues(args, arg_count));
    if (!results)
      return newError(std::move(results.error()));
    if (out)
      *out = new nomos_call_result{CallResult{std::move(*results), {}, 0, 0}};
    return nullptr;
  });
}

nomos_error_t *nomos_instance_function(const nomos_instance_t *instance,
                                       const char *name,
                                       nomos_function_t **out) {
  if (!instance || !name || !out)
    return badArgument(__func__, !instance ? "instance" : !name ? "name" : "out");
  return guard([&]() -> nomos_error_t * {
    auto function = instance->instance.function(name);
    if (!function)
      return newError(std::move(function.error()));
    *out = new nomos_function{std::move(*function)};
    return nullptr;
  });
}

// Allocates nothing when the call returns (small signatures).
nomos_error_t *nomos_function_call(nomos_function_t *function,
                                   const nomos_value_t *args, size_t arg_count,
                                   nomos_value_t *results,
                                   size_t result_count) {
  if (!function)
    return badArgument(__func__, "function");
  if ((!args && arg_count) || (!results && result_count))
    return badArgument(__func__, !args && arg_count ? "args" : "results");
  return guard([&]() -> nomos_error_t * {
    SmallBuffer<Value> values(arg_count + result_count);
    std::span<Value> all = values.span();
    std::transform(args, args + arg_count, all.begin(), toValue);
    auto called = function->function.call(all.first(arg_count),
                                          all.subspan(arg_count));
    if (!called)
      return newError(std::move(called.error()));
    std::transform(all.begin() + arg_count, all.end(), results, fromValue);
    return nullptr;
  });
}

void nomos_function_free(nomos_function_t *function) { delete function; }

nomos_extern_t *nomos_instance_export(const nomos_instance_t *instance,
                                      const char *name) {
  if (!instance || !name)
    return nullptr;
  return guardOr<nomos_extern_t *>(nullptr, [&]() -> nomos_extern_t * {
    std::optional<Extern> ext = instance->instance.exported(name);
    return ext ? new nomos_extern{std::move(*ext)} : nullptr;
  });
}

size_t nomos_instance_export_count(const nomos_instance_t *instance) {
  return instance->exportNames.size();
}

const char *nomos_instance_export_name(const nomos_instance_t *instance,
                                       size_t index) {
  if (index >= instance->exportNames.size())
    return nullptr;
  return instance->exportNames[index].c_str();
}

} // extern "C"
