// nomos: the command-line tool.
//   nomos demo
//   nomos call MODULE.wasm EXPORT [ARGS...] [--set KEY=VALUE]... [--get KEY[=TYPE]]... [--json]
//              [--gas N] [--no-metering] [--gas-schedule FILE] [--opt 0|1|2|3]
//              [--cache DIR | --no-cache]
//   nomos call --store PATH EXPORT [ARGS...] [the same options]
//   nomos init --store PATH MODULE.wasm
//   nomos upgrade --store PATH NEW.wasm
//   nomos set --store PATH KEY VALUE
//   nomos get --store PATH KEY[=TYPE]
//   nomos list --store PATH
//   nomos inspect MODULE.wasm --stage wasm|metered|llvm|llvm-opt|asm [--function NAME]
//              [--no-metering] [--gas-schedule FILE] [--opt 0|1|2|3]
//   nomos precompile MODULE.wasm [--no-metering] [--gas-schedule FILE] [--opt 0|1|2|3]
//              [--cache DIR] [--cache-max-bytes N]
//   nomos cache list|stats|clear [--cache DIR] [--cache-max-bytes N]
// Exit codes: 0 success, 1 the call (or an upgrade's migrate) trapped, or
// get found no such key, 2 bad usage, a bad module or a bad store.
#include "demo.h"
#include "json.h"

#include <nomos/nomos.h>

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace nomos::cli {
namespace {

constexpr int kExitTrap = 1;
constexpr int kExitUsage = 2;

int usageError(const std::string &message) {
  std::fprintf(stderr, "nomos: %s\n", message.c_str());
  return kExitUsage;
}

Expected<Bytes> readFile(const std::string &path) {
  std::ifstream file(path, std::ios::binary);
  if (!file)
    return makeError(ErrorKind::IoError, "cannot read " + path);
  return Bytes(std::istreambuf_iterator<char>(file), {});
}

Expected<Bytes> parseHex(std::string_view hex) {
  if (hex.size() % 2 != 0)
    return makeError(ErrorKind::BadArguments,
                     "hex value has an odd number of digits");
  Bytes out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    auto digit = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    int hi = digit(hex[i]), lo = digit(hex[i + 1]);
    if (hi < 0 || lo < 0)
      return makeError(ErrorKind::BadArguments,
                       "\"" + std::string(hex) + "\" is not hex");
    out.push_back(static_cast<uint8_t>(hi * 16 + lo));
  }
  return out;
}

// VALUE in --set KEY=VALUE: i32:N, i64:N (bincode: little-endian), str:TEXT
// (the text's bytes), hex:BYTES or file:PATH.
Expected<Bytes> parseStoredValue(std::string_view text) {
  size_t colon = text.find(':');
  if (colon == std::string_view::npos)
    return makeError(ErrorKind::BadArguments,
                     "value \"" + std::string(text) +
                         "\" needs a type: i32:N, i64:N, str:TEXT, hex:BYTES "
                         "or file:PATH");
  std::string_view type = text.substr(0, colon), rest = text.substr(colon + 1);
  if (type == "i32" || type == "i64") {
    auto value = parseValue(type == "i32" ? ValueType::I32 : ValueType::I64, rest);
    if (!value)
      return tl::unexpected(value.error());
    return type == "i32" ? encode<int32_t>(value->asI32())
                         : encode<int64_t>(value->asI64());
  }
  if (type == "str")
    return ByteView(rest).bytes();
  if (type == "hex")
    return parseHex(rest);
  if (type == "file")
    return readFile(std::string(rest));
  return makeError(ErrorKind::BadArguments,
                   "unknown value type \"" + std::string(type) +
                       "\" (use i32, i64, str, hex or file)");
}

std::string hexOf(const Bytes &bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (uint8_t b : bytes) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

// A gotten value in the --set syntax: as TYPE when asked and it fits.
std::string formatStoredValue(const Bytes &bytes, std::string_view type) {
  if (type == "i32")
    if (auto v = decode<int32_t>(bytes))
      return "i32:" + std::to_string(*v);
  if (type == "i64")
    if (auto v = decode<int64_t>(bytes))
      return "i64:" + std::to_string(*v);
  if (type == "str")
    return "str:" + std::string(bytes.begin(), bytes.end());
  return "hex:" + hexOf(bytes);
}

// How code is compiled and cached: the flags of call, inspect, precompile.
struct CompileFlags {
  unsigned optLevel = 2;
  bool noMetering = false;
  std::string gasSchedule; // a key = value file (docs/metering.md)
  std::string cacheDir;    // --cache DIR (else the default directory)
  bool noCache = false;    // --no-cache
  uint64_t cacheMaxBytes = kDefaultCacheMaxBytes;
};

void addCodeFlags(CLI::App *command, CompileFlags &flags) {
  command->add_option("-O,--opt-level,--opt", flags.optLevel,
                      "LLVM optimization level (0..3)")
      ->check(CLI::Range(0, 3));
  command->add_flag("--no-metering", flags.noMetering,
                    "compile without gas metering (a call uses no gas)");
  command->add_option("--gas-schedule", flags.gasSchedule,
                      "gas schedule file (key = value lines, docs/metering.md)");
}

CLI::Option *addCacheDirFlags(CLI::App *command, CompileFlags &flags) {
  command->add_option("--cache-max-bytes", flags.cacheMaxBytes,
                      "size bound of the cache directory (default 1 GiB); "
                      "least recently used entries go beyond it");
  return command->add_option("--cache", flags.cacheDir,
                             "directory of the compiled-code cache (default "
                             "$XDG_CACHE_HOME/nomos or ~/.cache/nomos)");
}

Expected<EngineOptions> engineOptionsOf(const CompileFlags &flags) {
  EngineOptions options{flags.optLevel};
  options.metering = !flags.noMetering;
  if (!flags.gasSchedule.empty()) {
    auto schedule = GasSchedule::loadFile(flags.gasSchedule);
    if (!schedule)
      return tl::unexpected(schedule.error());
    options.schedule = *schedule;
  }
  options.cacheMaxBytes = flags.cacheMaxBytes;
  return options;
}

std::optional<std::string> cacheDirOf(const CompileFlags &flags) {
  if (flags.noCache)
    return std::nullopt;
  return flags.cacheDir.empty() ? defaultCacheDir() : flags.cacheDir;
}

double millis(std::chrono::nanoseconds time) {
  return std::chrono::duration<double, std::milli>(time).count();
}

struct CallOptions {
  std::string store; // --store PATH: call the VM kept there
  std::string module;
  std::string exportName;
  std::vector<std::string> args;
  std::vector<std::string> sets;
  std::vector<std::string> gets;
  bool json = false;
  uint64_t gas = Limits{}.gas;
  CompileFlags compile;
};

struct Gotten {
  std::string key;
  std::optional<std::string> value;
};

// Where a call's time went: loading (compiling or reading the cache), in
// all, and the call apart from loads made during it.
struct CallTimes {
  std::chrono::nanoseconds load{0}, run{0};
};

// A trap's wasm frames, innermost first: [{"index":N,"name":"..."}, ...].
std::string backtraceJson(const std::vector<Frame> &backtrace) {
  std::string out = "[";
  for (const Frame &frame : backtrace)
    out += std::string(out.size() > 1 ? "," : "") +
           "{\"index\":" + std::to_string(frame.functionIndex) +
           ",\"name\":" + jsonString(frame.functionName) + "}";
  return out + "]";
}

void printReport(const CallOptions &options, const Expected<CallResult> &result,
                 const std::vector<Gotten> &gotten, const GasReport &gas,
                 const EngineStats &cache, const CallTimes &times) {
  if (!options.json) {
    if (result) {
      for (const Value &value : result->results)
        std::printf("%s\n", toString(value).c_str());
      for (const std::string &line : result->logs)
        std::printf("log: %s\n", line.c_str());
    } else {
      std::fprintf(stderr, "nomos: trap: %s\n", result.error().toString().c_str());
    }
    for (const Gotten &g : gotten)
      std::printf("%s = %s\n", g.key.c_str(),
                  g.value ? g.value->c_str() : "(absent)");
    std::fprintf(stderr, "gas used: %llu\n",
                 static_cast<unsigned long long>(gas.used));
    return;
  }
  char timing[96];
  std::snprintf(timing, sizeof timing, ",\"compile_ms\":%.3f,\"run_ms\":%.3f",
                millis(times.load), millis(times.run));
  std::string out = "{\"export\":" + jsonString(options.exportName) + ",\"results\":[";
  if (result)
    for (size_t i = 0; i < result->results.size(); ++i)
      out += (i ? "," : "") + toString(result->results[i]);
  out += "],\"trap\":";
  if (result)
    out += "null";
  else
    out += "{\"kind\":" + jsonString(errorKindName(result.error().kind)) +
           ",\"message\":" + jsonString(result.error().message) +
           ",\"backtrace\":" + backtraceJson(result.error().backtrace) + "}";
  out += ",\"logs\":[";
  if (result)
    for (size_t i = 0; i < result->logs.size(); ++i)
      out += (i ? "," : "") + jsonString(result->logs[i]);
  out += "],\"get\":{";
  for (size_t i = 0; i < gotten.size(); ++i)
    out += (i ? "," : "") + jsonString(gotten[i].key) + ":" +
           (gotten[i].value ? jsonString(*gotten[i].value) : "null");
  out += "},\"gas_used\":" + std::to_string(gas.used) +
         ",\"gas_left\":" + std::to_string(gas.left) + timing +
         ",\"cache\":{\"compiles\":" + std::to_string(cache.compiles) +
         ",\"memory_hits\":" + std::to_string(cache.memoryHits) +
         ",\"disk_hits\":" + std::to_string(cache.diskHits) +
         ",\"disk_misses\":" + std::to_string(cache.diskMisses) +
         ",\"disk_rejected\":" + std::to_string(cache.diskRejected) +
         ",\"disk_writes\":" + std::to_string(cache.diskWrites) +
         ",\"disk_evicted\":" + std::to_string(cache.diskEvicted) + "}}";
  std::printf("%s\n", out.c_str());
}

// The LMDB store at `path`; it must exist unless `create`.
Expected<std::shared_ptr<Store>> openStore(const std::string &path,
                                           bool create) {
  if (!create && !std::filesystem::exists(path))
    return makeError(ErrorKind::IoError, "no store at " + path +
                                             " (nomos init --store " + path +
                                             " MODULE.wasm makes one)");
  auto store = LmdbStore::open(path);
  if (!store)
    return tl::unexpected(store.error());
  return std::shared_ptr<Store>(*store);
}

// A program key as stored in the VM's store (runtime/src/transaction.h):
// the root program's own keys are 0x00-prefixed.
Bytes programKey(std::string_view key) {
  Bytes out{0x00};
  out.insert(out.end(), key.begin(), key.end());
  return out;
}

// A key for printing: its text when printable, else hex:BYTES.
std::string formatKey(ByteView key) {
  bool printable = key.size() != 0;
  for (size_t i = 0; i < key.size(); ++i)
    printable = printable && key.data()[i] >= 0x20 && key.data()[i] < 0x7f;
  if (printable)
    return std::string(reinterpret_cast<const char *>(key.data()), key.size());
  return "hex:" + hexOf(key.bytes());
}

struct StoreOptions {
  std::string store;
  std::string module; // init, upgrade
  std::string key;    // set, get (KEY[=TYPE])
  std::string value;  // set
};

std::string hashHex(const std::vector<Bytes> &history) {
  return history.empty() ? "" : hexOf(history.back());
}

// The module file and the store of `nomos init` / `nomos upgrade`.
struct CodeAndStore {
  Bytes code;
  std::shared_ptr<Store> store;
};

Expected<CodeAndStore> readCodeAndOpenStore(const StoreOptions &options,
                                            bool create) {
  auto code = readFile(options.module);
  if (!code)
    return makeError(ErrorKind::IoError, code.error().message);
  auto store = openStore(options.store, create);
  if (!store)
    return makeError(store.error().kind, store.error().toString());
  return CodeAndStore{std::move(*code), std::move(*store)};
}

// nomos init: a durable VM with that code in a new store.
int runInit(const StoreOptions &options) {
  auto opened = readCodeAndOpenStore(options, true);
  if (!opened)
    return usageError(opened.error().message);
  auto &[code, store] = *opened;
  if (VM::open(store))
    return usageError(options.store + " already holds a VM (nomos upgrade "
                                      "changes its code)");
  auto vm = VM::create(code, {.store = store});
  if (!vm)
    return usageError(options.module + ": " + vm.error().toString());
  std::printf("initialized %s: code %s\n", options.store.c_str(),
              hashHex(vm->codeHistory()).c_str());
  return 0;
}

// nomos upgrade: VM::upgrade of the VM kept in the store (its migrate, if
// any, runs; a trap there exits 1 and changes nothing).
int runUpgrade(const StoreOptions &options) {
  auto opened = readCodeAndOpenStore(options, false);
  if (!opened)
    return usageError(opened.error().message);
  auto &[code, store] = *opened;
  auto vm = VM::open(store);
  if (!vm)
    return usageError(options.store + ": " + vm.error().toString());
  auto upgraded = vm->upgrade(code);
  if (!upgraded) {
    std::fprintf(stderr, "nomos: upgrade failed: %s\n",
                 upgraded.error().toString().c_str());
    return upgraded.error().isTrap() ? kExitTrap : kExitUsage;
  }
  std::printf("upgraded %s: code %s (%zu versions in its history)\n",
              options.store.c_str(), hashHex(vm->codeHistory()).c_str(),
              vm->codeHistory().size());
  return 0;
}

// nomos set / get / list: the VM's program keys, values as in --set.
int runSet(const StoreOptions &options) {
  auto store = openStore(options.store, false);
  if (!store)
    return usageError(store.error().toString());
  auto value = parseStoredValue(options.value);
  if (!value)
    return usageError(value.error().message);
  if (auto ok = (*store)->apply({{programKey(options.key), *value}}); !ok)
    return usageError(ok.error().toString());
  return 0;
}

int runGet(const StoreOptions &options) {
  auto store = openStore(options.store, false);
  if (!store)
    return usageError(store.error().toString());
  size_t eq = options.key.find('=');
  std::string key = options.key.substr(0, eq);
  std::string type = eq == std::string::npos ? "" : options.key.substr(eq + 1);
  auto value = (*store)->get(programKey(key));
  if (!value) {
    std::printf("%s = (absent)\n", key.c_str());
    return kExitTrap;
  }
  std::printf("%s = %s\n", key.c_str(), formatStoredValue(*value, type).c_str());
  return 0;
}

int runList(const StoreOptions &options) {
  auto store = openStore(options.store, false);
  if (!store)
    return usageError(store.error().toString());
  (*store)->forEach([](ByteView key, ByteView value) {
    if (key.size() == 0 || key.data()[0] != 0x00)
      return; // children's stores and the VM's records
    ByteView own(key.data() + 1, key.size() - 1);
    std::printf("%s = %s\n", formatKey(own).c_str(),
                formatStoredValue(value.bytes(), "").c_str());
  });
  return 0;
}

int runCall(CallOptions options) {
  std::optional<Bytes> code;
  if (options.store.empty()) {
    if (options.exportName.empty())
      return usageError("call needs MODULE.wasm EXPORT (or --store PATH EXPORT)");
    auto read = readFile(options.module);
    if (!read)
      return usageError(read.error().message);
    code = std::move(*read);
  } else {
    // With --store the first positional is the export.
    if (!options.exportName.empty())
      options.args.insert(options.args.begin(), options.exportName);
    options.exportName = options.module;
    options.module = options.store;
  }
  auto engineOptions = engineOptionsOf(options.compile);
  if (!engineOptions)
    return usageError(engineOptions.error().message);
  engineOptions->cacheDir = cacheDirOf(options.compile);
  auto engine = std::make_shared<Engine>(*engineOptions);
  Expected<VM> vm = makeError(ErrorKind::IoError, "no VM");
  if (code) {
    vm = VM::create(*code, {.engine = engine});
  } else {
    auto store = openStore(options.store, false);
    if (!store)
      return usageError(store.error().toString());
    vm = VM::open(*store, {.engine = engine});
  }
  if (!vm)
    return usageError(options.module + ": " + vm.error().toString());

  for (const std::string &set : options.sets) {
    size_t eq = set.find('=');
    if (eq == std::string::npos)
      return usageError("--set takes KEY=VALUE, got \"" + set + "\"");
    auto value = parseStoredValue(std::string_view(set).substr(eq + 1));
    if (!value)
      return usageError("--set " + set + ": " + value.error().message);
    vm->set(set.substr(0, eq), *value);
  }

  std::vector<Value> args;
  for (const ExportedFunction &fn : vm->exports()) {
    if (fn.name != options.exportName)
      continue;
    if (fn.params.size() != options.args.size())
      return usageError(fn.name + " takes " + std::to_string(fn.params.size()) +
                        " argument(s), " + std::to_string(options.args.size()) +
                        " given");
    for (size_t i = 0; i < fn.params.size(); ++i) {
      auto value = parseValue(fn.params[i], options.args[i]);
      if (!value)
        return usageError(value.error().message);
      args.push_back(*value);
    }
  }

  // The call's own time leaves out modules (children) loaded during it.
  auto loadBefore = engine->stats().loadTime;
  auto started = std::chrono::steady_clock::now();
  auto result = vm->call(options.exportName, args, options.gas);
  CallTimes times;
  times.load = engine->stats().loadTime;
  times.run = std::chrono::steady_clock::now() - started -
              (times.load - loadBefore);
  if (!result && !result.error().isTrap())
    return usageError(result.error().toString());

  std::vector<Gotten> gotten;
  for (const std::string &get : options.gets) {
    size_t eq = get.find('=');
    std::string key = get.substr(0, eq);
    std::string type = eq == std::string::npos ? "" : get.substr(eq + 1);
    auto value = vm->get(key);
    gotten.push_back(
        {key, value ? std::optional(formatStoredValue(*value, type)) : std::nullopt});
  }
  printReport(options, result, gotten, vm->lastCallGas(), engine->stats(),
              times);
  return result ? 0 : kExitTrap;
}

struct InspectOptions {
  std::string module;
  std::string stage = "wasm";
  std::string function;
  CompileFlags compile;
};

// nomos inspect: the module's text at one stage of the pipeline.
int runInspect(const InspectOptions &options) {
  auto code = readFile(options.module);
  if (!code)
    return usageError(code.error().message);
  auto stage = parseStage(options.stage);
  if (!stage)
    return usageError("unknown stage \"" + options.stage +
                      "\" (use wasm, metered, llvm, llvm-opt or asm)");
  auto engineOptions = engineOptionsOf(options.compile);
  if (!engineOptions)
    return usageError(engineOptions.error().message);
  Engine engine(*engineOptions);
  auto text = engine.inspect(*code, *stage, options.function);
  if (!text)
    return usageError(options.module + ": " + text.error().toString());
  std::fwrite(text->data(), 1, text->size(), stdout);
  return 0;
}

struct PrecompileOptions {
  std::string module;
  CompileFlags compile;
};

// nomos precompile: compile into the disk cache, so that later runs with
// the same options load without compiling.
int runPrecompile(const PrecompileOptions &options) {
  auto code = readFile(options.module);
  if (!code)
    return usageError(code.error().message);
  auto engineOptions = engineOptionsOf(options.compile);
  if (!engineOptions)
    return usageError(engineOptions.error().message);
  engineOptions->cacheDir = cacheDirOf(options.compile);
  if (!engineOptions->cacheDir)
    return usageError("no cache directory: give --cache DIR, or set "
                      "XDG_CACHE_HOME or HOME");
  Engine engine(*engineOptions);
  auto module = engine.load(*code);
  if (!module)
    return usageError(options.module + ": " + module.error().toString());
  EngineStats stats = engine.stats();
  const std::string &dir = *engineOptions->cacheDir;
  if (stats.diskHits != 0) {
    std::printf("%s: already in the cache %s\n", options.module.c_str(),
                dir.c_str());
    return 0;
  }
  if (stats.diskWrites == 0)
    return usageError("cannot write the cache entry of " + options.module +
                      " into " + dir);
  std::printf("%s: compiled in %.1f ms into the cache %s\n",
              options.module.c_str(), millis(stats.loadTime), dir.c_str());
  return 0;
}

std::string formatTime(std::chrono::system_clock::time_point time) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm utc;
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

// nomos cache list|stats|clear: the entries of a cache directory.
int runCache(const std::string &action, const CompileFlags &flags) {
  auto dir = cacheDirOf(flags);
  if (!dir)
    return usageError("no cache directory: give --cache DIR, or set "
                      "XDG_CACHE_HOME or HOME");
  if (action == "clear") {
    auto removed = clearCache(*dir);
    if (!removed)
      return usageError(removed.error().message);
    std::printf("removed %zu %s from %s\n", *removed,
                *removed == 1 ? "entry" : "entries", dir->c_str());
    return 0;
  }
  std::vector<CacheEntryInfo> entries = listCacheEntries(*dir);
  if (action == "list") {
    // Least recently used first: the next to be evicted.
    for (const CacheEntryInfo &entry : entries)
      std::printf("%s %10llu %s\n", entry.key.c_str(),
                  static_cast<unsigned long long>(entry.bytes),
                  formatTime(entry.lastUse).c_str());
    return 0;
  }
  uint64_t total = 0;
  for (const CacheEntryInfo &entry : entries)
    total += entry.bytes;
  std::printf("directory: %s\nentries: %zu\nbytes: %llu\nbound: %llu\n",
              dir->c_str(), entries.size(),
              static_cast<unsigned long long>(total),
              static_cast<unsigned long long>(flags.cacheMaxBytes));
  return 0;
}

} // namespace
} // namespace nomos::cli

int main(int argc, char **argv) {
  using namespace nomos::cli;
  CLI::App app{"nomos: run sandboxed, self-upgrading WebAssembly programs"};
  app.set_version_flag("--version", "nomos " NOMOS_VERSION);
  app.require_subcommand(1);

  app.add_subcommand("demo", "run the seed example (counter and doubler)");

  CallOptions call;
  CLI::App *callCommand =
      app.add_subcommand("call", "call an exported function of a module");
  callCommand->add_option("module", call.module,
                          "the .wasm file (with --store: the export)")
      ->required();
  callCommand->add_option("export", call.exportName, "the exported function");
  callCommand->add_option("--store", call.store,
                          "call the VM kept in this LMDB store (nomos init)");
  callCommand->add_option("args", call.args, "arguments (integers or floats)");
  callCommand->add_option("--set", call.sets,
                          "KEY=VALUE written before the call; VALUE is i32:N, "
                          "i64:N, str:TEXT, hex:BYTES or file:PATH");
  callCommand->add_option("--get", call.gets,
                          "KEY[=i32|i64|str|hex] printed after the call");
  callCommand->add_flag("--json", call.json, "print one JSON object");
  callCommand->add_option("--gas", call.gas,
                          "gas limit of the call (default 1000000000)")
      ->check(CLI::Range(uint64_t(0), nomos::kMaxGas));
  addCodeFlags(callCommand, call.compile);
  CLI::Option *cacheOption = addCacheDirFlags(callCommand, call.compile);
  callCommand->add_flag("--no-cache", call.compile.noCache,
                        "neither read nor write the disk cache")
      ->excludes(cacheOption);

  StoreOptions storeOptions;
  auto storeCommand = [&](const char *name, const char *description) {
    CLI::App *command = app.add_subcommand(name, description);
    command->add_option("--store", storeOptions.store, "the LMDB store file")
        ->required();
    return command;
  };
  storeCommand("init", "create a durable VM with this code in a new store")
      ->add_option("module", storeOptions.module, "the .wasm file")
      ->required();
  storeCommand("upgrade", "replace the stored VM's code (runs its migrate)")
      ->add_option("module", storeOptions.module, "the new .wasm file")
      ->required();
  CLI::App *setCommand =
      storeCommand("set", "write a key of the stored VM's program");
  setCommand->add_option("key", storeOptions.key, "the key")->required();
  setCommand->add_option("value", storeOptions.value,
                         "i32:N, i64:N, str:TEXT, hex:BYTES or file:PATH")
      ->required();
  storeCommand("get", "print a key of the stored VM's program")
      ->add_option("key", storeOptions.key, "KEY[=i32|i64|str|hex]")
      ->required();
  storeCommand("list", "print every key of the stored VM's program");

  InspectOptions inspect;
  CLI::App *inspectCommand = app.add_subcommand(
      "inspect", "print a module at one stage of the pipeline");
  inspectCommand->add_option("module", inspect.module, "the .wasm file")
      ->required();
  inspectCommand->add_option("--stage", inspect.stage,
                             "wasm, metered, llvm, llvm-opt or asm (default wasm)")
      ->check(CLI::IsMember({"wasm", "metered", "llvm", "llvm-opt", "asm"}));
  inspectCommand->add_option("--function", inspect.function,
                             "only this function (its wasm name)");
  addCodeFlags(inspectCommand, inspect.compile);

  PrecompileOptions precompile;
  CLI::App *precompileCommand = app.add_subcommand(
      "precompile", "compile a module into the disk cache");
  precompileCommand->add_option("module", precompile.module, "the .wasm file")
      ->required();
  addCodeFlags(precompileCommand, precompile.compile);
  addCacheDirFlags(precompileCommand, precompile.compile);

  CompileFlags cacheFlags;
  CLI::App *cacheCommand =
      app.add_subcommand("cache", "list, count or clear the disk cache");
  cacheCommand->require_subcommand(1);
  cacheCommand->fallthrough(); // --cache DIR after the action too
  addCacheDirFlags(cacheCommand, cacheFlags);
  cacheCommand->add_subcommand(
      "list", "entries, least recently used first: key, bytes, last use (UTC)");
  cacheCommand->add_subcommand("stats", "entries, bytes and the size bound");
  cacheCommand->add_subcommand("clear", "remove every entry");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    int code = app.exit(e);
    return code == 0 ? 0 : kExitUsage;
  }
  if (app.got_subcommand("demo"))
    return runDemo();
  if (app.got_subcommand("inspect"))
    return runInspect(inspect);
  if (app.got_subcommand("precompile"))
    return runPrecompile(precompile);
  if (app.got_subcommand("cache"))
    return runCache(cacheCommand->get_subcommands().front()->get_name(),
                    cacheFlags);
  try {
    if (app.got_subcommand("init"))
      return runInit(storeOptions);
    if (app.got_subcommand("upgrade"))
      return runUpgrade(storeOptions);
    if (app.got_subcommand("set"))
      return runSet(storeOptions);
    if (app.got_subcommand("get"))
      return runGet(storeOptions);
    if (app.got_subcommand("list"))
      return runList(storeOptions);
  } catch (const std::exception &e) {
    return usageError(e.what());
  }
  return runCall(call);
}
