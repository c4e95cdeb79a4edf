// nomos_spec_runner: runs the official WebAssembly 2.0 core test suite
// (.wast scripts) against Nomos's Instance API.
//
//   nomos_spec_runner [options] WAST2JSON SUITE_DIR WORK_DIR [FILTER...]
//
// For each SUITE_DIR/*.wast (SUITE_DIR may also be the folder holding
// core/), it runs `WAST2JSON FILE.wast -o WORK_DIR/FILE/FILE.json` (wabt
// 1.0.32 needs no flags for the 2.0 suite; the conversion is skipped when
// the .json is newer than the .wast), then runs every command of the JSON.
// FILTERs are file names with or without .wast, or shell globs ('simd_*').
//
// Options:
//   --details N   failure lines printed per file (default 5; 0 for none)
//   --timeout S   seconds per file before it is killed (default 300)
//   --no-fork     run the files in this process (for a debugger); by default
//                 each file runs in a child process, so that a crash or a hang
//                 in the runtime is reported as failures of that file
//   -O N          the Engine's LLVM optimization level (default 2)
//
// Output: one line per file, `FILE: P passed, F failed, S skipped`, followed
// by up to --details lines `  line L: COMMAND: what went wrong`, and last
// `spec: N passed, M failed, K skipped`. The exit code is 1 when anything
// failed, 2 on bad usage.
//
// Run one file from a build directory (the suite is next to the project):
//
//   tests/nomos_spec_runner wast2json ../../shared/spec-testsuite/core /tmp/specjson i32
//
// or through ctest from the build directory, where NOMOS_SPEC_FILTER (FILTERs
// separated by spaces or commas, used when the command line gives none)
// narrows the run:
//
//   NOMOS_SPEC_FILTER='i32 simd_*' ctest -R '^spec$' -V
//
// What counts: `module`, `action` and every `assert_*` command is one test;
// `register` is bookkeeping (it only counts when it names no module). Text
// modules (`assert_malformed` with "module_type": "text") are skipped: Nomos
// takes binaries only. Traps are matched by kind (nomos::ErrorKind), never by
// message; the spec's expected message is mapped to a kind (trapKindFor).
// A spec `ref.extern N` is the host value Value::externRef(N + 1), so that 0
// stays null.

#include "json.h"

#include <nomos/nomos.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <fnmatch.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace fs = std::filesystem;
using nomos::spec::Json;

namespace {

struct Options {
  std::string wast2json;
  fs::path suiteDir;
  fs::path workDir;
  std::vector<std::string> filters;
  size_t details = 5;
  unsigned timeout = 300;
  bool fork = true;
  unsigned optLevel = 2;
  nomos::MemoryStrategy memory = nomos::MemoryStrategy::GuardPages;
};

enum class Status { Pass, Fail, Skip };

struct Outcome {
  Status status;
  std::string detail; // failures only: what went wrong
};

Outcome pass() { return {Status::Pass, {}}; }
Outcome skip() { return {Status::Skip, {}}; }
Outcome failure(std::string detail) { return {Status::Fail, std::move(detail)}; }

// One printable line, at most about `limit` characters: line breaks and tabs
// become spaces, other control characters \xNN.
std::string oneLine(std::string_view text, size_t limit = 240) {
  std::string out;
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (out.size() >= limit && (u & 0xC0) != 0x80) { // not inside a UTF-8 char
      out += "...";
      break;
    }
    if (c == '\n' || c == '\r' || c == '\t') {
      out += ' ';
    } else if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

// An export name as a quoted string, control characters escaped (names.wast
// has names made of them).
std::string quoteName(std::string_view name, size_t limit = 60) {
  std::string out = "\"";
  for (char c : name) {
    auto u = static_cast<unsigned char>(c);
    if (out.size() > limit && (u & 0xC0) != 0x80) { // not inside a UTF-8 char
      out += "...";
      break;
    }
    if (u < 0x20 || u == 0x7f || c == '"' || c == '\\') {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// ---------------------------------------------------------------------------
// Values: JSON <-> nomos::Value

std::optional<nomos::ValueType> valueTypeOf(std::string_view name) {
  using nomos::ValueType;
  if (name == "i32") return ValueType::I32;
  if (name == "i64") return ValueType::I64;
  if (name == "f32") return ValueType::F32;
  if (name == "f64") return ValueType::F64;
  if (name == "v128") return ValueType::V128;
  if (name == "funcref") return ValueType::FuncRef;
  if (name == "externref") return ValueType::ExternRef;
  return std::nullopt;
}

// The decimal text of wast2json ("4294967295"; a leading '-' is accepted).
std::optional<uint64_t> parseInteger(const std::string &text) {
  if (text.empty())
    return std::nullopt;
  errno = 0;
  char *end = nullptr;
  uint64_t v;
  if (text[0] == '-')
    v = uint64_t(std::strtoll(text.c_str(), &end, 10));
  else
    v = std::strtoull(text.c_str(), &end, 10);
  if (errno != 0 || end == text.c_str() || *end != '\0')
    return std::nullopt;
  return v;
}

unsigned laneBits(std::string_view laneType) {
  if (laneType == "i8") return 8;
  if (laneType == "i16") return 16;
  if (laneType == "i32" || laneType == "f32") return 32;
  if (laneType == "i64" || laneType == "f64") return 64;
  return 0;
}

struct V128Bytes {
  uint8_t b[16] = {};
  uint64_t lane(unsigned bits, unsigned index) const {
    uint64_t v = 0;
    unsigned bytes = bits / 8;
    for (unsigned i = 0; i < bytes; ++i)
      v |= uint64_t(b[index * bytes + i]) << (8 * i);
    return v;
  }
  void setLane(unsigned bits, unsigned index, uint64_t v) {
    unsigned bytes = bits / 8;
    for (unsigned i = 0; i < bytes; ++i)
      b[index * bytes + i] = uint8_t(v >> (8 * i));
  }
  static V128Bytes of(const nomos::Value &value) {
    V128Bytes out;
    for (unsigned i = 0; i < 8; ++i) {
      out.b[i] = uint8_t(value.bits >> (8 * i));
      out.b[8 + i] = uint8_t(value.hi >> (8 * i));
    }
    return out;
  }
  nomos::Value value() const {
    uint64_t lo = 0, hi = 0;
    for (unsigned i = 0; i < 8; ++i) {
      lo |= uint64_t(b[i]) << (8 * i);
      hi |= uint64_t(b[8 + i]) << (8 * i);
    }
    return nomos::Value::v128(lo, hi);
  }
};

// An argument: {"type": "i32", "value": "1"}, v128 with lane_type and a
// value array, references with "null" or a number.
std::optional<nomos::Value> parseArgument(const Json &arg, std::string &why) {
  using nomos::Value;
  using nomos::ValueType;
  std::string typeName = arg.str("type");
  std::optional<ValueType> type = valueTypeOf(typeName);
  if (!type) {
    why = "unknown argument type '" + typeName + "'";
    return std::nullopt;
  }
  const Json *value = arg.find("value");
  if (*type == ValueType::V128) {
    unsigned bits = laneBits(arg.str("lane_type"));
    if (!value || !value->isArray() || bits == 0 ||
        value->items().size() != 128 / bits) {
      why = "bad v128 argument";
      return std::nullopt;
    }
    V128Bytes bytes;
    for (unsigned i = 0; i < 128 / bits; ++i) {
      std::optional<uint64_t> lane = parseInteger(value->items()[i].text());
      if (!lane) {
        why = "bad v128 lane '" + value->items()[i].text() + "'";
        return std::nullopt;
      }
      bytes.setLane(bits, i, *lane);
    }
    return bytes.value();
  }
  std::string text = value ? value->text() : std::string();
  if (*type == ValueType::FuncRef || *type == ValueType::ExternRef) {
    if (text == "null")
      return Value::nullRef(*type);
    std::optional<uint64_t> n = parseInteger(text);
    if (*type == ValueType::ExternRef && n)
      return Value::externRef(*n + 1);
    why = "cannot pass " + typeName + " '" + text + "' from the host";
    return std::nullopt;
  }
  std::optional<uint64_t> n = parseInteger(text);
  if (!n) {
    why = "bad " + typeName + " argument '" + text + "'";
    return std::nullopt;
  }
  switch (*type) {
  case ValueType::I32: return Value::i32(int32_t(uint32_t(*n)));
  case ValueType::I64: return Value::i64(int64_t(*n));
  case ValueType::F32: return Value::f32Bits(uint32_t(*n));
  case ValueType::F64: return Value::f64Bits(*n);
  default: break;
  }
  why = "unhandled argument type";
  return std::nullopt;
}

std::string floatText(uint64_t bits, bool is32) {
  char buf[64];
  if (is32)
    std::snprintf(buf, sizeof buf, "%.9g (0x%08" PRIx32 ")",
                  double(std::bit_cast<float>(uint32_t(bits))), uint32_t(bits));
  else
    std::snprintf(buf, sizeof buf, "%.17g (0x%016" PRIx64 ")",
                  std::bit_cast<double>(bits), bits);
  return buf;
}

std::string laneText(uint64_t bits, std::string_view laneType) {
  if (laneType == "f32" || laneType == "f64")
    return floatText(bits, laneType == "f32");
  return std::to_string(bits);
}

// A value the runtime returned, in the notation of the expectations.
// `laneHint` picks the lane shape of a v128 ("i32" when empty).
std::string describeValue(const nomos::Value &v, std::string_view laneHint = {}) {
  using nomos::ValueType;
  switch (v.type) {
  case ValueType::I32: return "i32:" + std::to_string(uint32_t(v.bits));
  case ValueType::I64: return "i64:" + std::to_string(v.bits);
  case ValueType::F32: return "f32:" + floatText(uint32_t(v.bits), true);
  case ValueType::F64: return "f64:" + floatText(v.bits, false);
  case ValueType::V128: {
    std::string lane = laneBits(laneHint) ? std::string(laneHint) : "i32";
    unsigned bits = laneBits(lane);
    V128Bytes bytes = V128Bytes::of(v);
    std::string out = "v128:" + lane + "[";
    for (unsigned i = 0; i < 128 / bits; ++i) {
      if (i)
        out += ' ';
      out += laneText(bytes.lane(bits, i), lane);
    }
    return out + "]";
  }
  case ValueType::FuncRef:
    return v.isNullRef() ? "funcref:null" : "funcref:<non-null>";
  case ValueType::ExternRef:
    return v.isNullRef() ? "externref:null"
                         : "externref:" + std::to_string(v.bits - 1);
  }
  return "<value of unknown type " + std::to_string(int(v.type)) + ">";
}

std::string describeExpected(const Json &e) {
  std::string type = e.str("type");
  const Json *value = e.find("value");
  if (!value)
    return type;
  if (type == "v128" && value->isArray()) {
    std::string lane = e.str("lane_type");
    std::string out = "v128:" + lane + "[";
    for (size_t i = 0; i < value->items().size(); ++i) {
      const std::string &t = value->items()[i].text();
      if (i)
        out += ' ';
      std::optional<uint64_t> n = parseInteger(t);
      out += (n && t.rfind("nan:", 0) != 0) ? laneText(*n, lane) : t;
    }
    return out + "]";
  }
  if ((type == "f32" || type == "f64") && value->text().rfind("nan:", 0) != 0) {
    if (std::optional<uint64_t> n = parseInteger(value->text()))
      return type + ":" + floatText(*n, type == "f32");
  }
  return type + ":" + value->text();
}

bool isCanonicalNan32(uint32_t b) { return (b & 0x7fffffffu) == 0x7fc00000u; }
bool isArithmeticNan32(uint32_t b) { return (b & 0x7fc00000u) == 0x7fc00000u; }
bool isCanonicalNan64(uint64_t b) {
  return (b & 0x7fffffffffffffffull) == 0x7ff8000000000000ull;
}
bool isArithmeticNan64(uint64_t b) {
  return (b & 0x7ff8000000000000ull) == 0x7ff8000000000000ull;
}

// A float (or float lane) against "nan:canonical", "nan:arithmetic" or bits.
bool floatMatches(const std::string &pattern, uint64_t bits, bool is32) {
  if (pattern == "nan:canonical")
    return is32 ? isCanonicalNan32(uint32_t(bits)) : isCanonicalNan64(bits);
  if (pattern == "nan:arithmetic")
    return is32 ? isArithmeticNan32(uint32_t(bits)) : isArithmeticNan64(bits);
  std::optional<uint64_t> n = parseInteger(pattern);
  if (!n)
    return false;
  return is32 ? uint32_t(*n) == uint32_t(bits) : *n == bits;
}

bool valueMatches(const Json &expected, const nomos::Value &got) {
  using nomos::ValueType;
  std::optional<ValueType> type = valueTypeOf(expected.str("type"));
  if (!type || got.type != *type)
    return false;
  const Json *value = expected.find("value");
  switch (*type) {
  case ValueType::I32:
  case ValueType::I64: {
    if (!value)
      return true;
    std::optional<uint64_t> n = parseInteger(value->text());
    if (!n)
      return false;
    return *type == ValueType::I32 ? uint32_t(*n) == uint32_t(got.bits)
                                   : *n == got.bits;
  }
  case ValueType::F32:
  case ValueType::F64:
    return !value || floatMatches(value->text(), got.bits, *type == ValueType::F32);
  case ValueType::V128: {
    if (!value)
      return true;
    std::string lane = expected.str("lane_type");
    unsigned bits = laneBits(lane);
    if (!value->isArray() || bits == 0 || value->items().size() != 128 / bits)
      return false;
    V128Bytes bytes = V128Bytes::of(got);
    for (unsigned i = 0; i < 128 / bits; ++i) {
      const std::string &t = value->items()[i].text();
      uint64_t g = bytes.lane(bits, i);
      if (lane == "f32" || lane == "f64") {
        if (!floatMatches(t, g, lane == "f32"))
          return false;
      } else {
        std::optional<uint64_t> n = parseInteger(t);
        uint64_t mask = bits == 64 ? ~0ull : ((1ull << bits) - 1);
        if (!n || (*n & mask) != g)
          return false;
      }
    }
    return true;
  }
  case ValueType::FuncRef:
  case ValueType::ExternRef: {
    if (!value)
      return !got.isNullRef(); // (ref.func) / (ref.extern): any non-null
    if (value->text() == "null")
      return got.isNullRef();
    if (*type == ValueType::FuncRef)
      return !got.isNullRef();
    std::optional<uint64_t> n = parseInteger(value->text());
    return n && got.bits == *n + 1;
  }
  }
  return false;
}

// ---------------------------------------------------------------------------
// Traps: the spec's expected message -> ErrorKind

std::optional<nomos::ErrorKind> trapKindFor(std::string_view text) {
  using nomos::ErrorKind;
  struct Entry {
    std::string_view prefix;
    ErrorKind kind;
  };
  static constexpr Entry table[] = {
      {"integer divide by zero", ErrorKind::IntegerDivideByZero},
      {"integer overflow", ErrorKind::IntegerOverflow},
      {"invalid conversion to integer", ErrorKind::InvalidConversion},
      {"out of bounds memory access", ErrorKind::MemoryOutOfBounds},
      {"out of bounds table access", ErrorKind::TableOutOfBounds},
      {"undefined element", ErrorKind::TableOutOfBounds},
      {"uninitialized element", ErrorKind::IndirectCallNull},
      {"indirect call type mismatch", ErrorKind::IndirectCallTypeMismatch},
      {"unreachable", ErrorKind::Unreachable},
      {"call stack exhausted", ErrorKind::StackExhausted},
  };
  for (const Entry &e : table)
    if (text.substr(0, e.prefix.size()) == e.prefix)
      return e.kind;
  return std::nullopt;
}

std::string kindName(nomos::ErrorKind kind) {
  return std::string(nomos::errorKindName(kind));
}

std::string describeError(const nomos::Error &error) {
  return kindName(error.kind) + ": " + oneLine(error.message, 200);
}

// ---------------------------------------------------------------------------
// One .wast file's commands, run against one Engine.

std::optional<nomos::Bytes> readFile(const fs::path &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return std::nullopt;
  return nomos::Bytes(std::istreambuf_iterator<char>(in),
                      std::istreambuf_iterator<char>());
}

class ScriptRunner {
public:
  ScriptRunner(fs::path dir, const Options &opt)
      : dir_(std::move(dir)), memory_(opt.memory),
        engine_(nomos::EngineOptions{.optLevel = opt.optLevel, .memory = opt.memory}) {
    makeSpectest();
  }

  Outcome run(const Json &cmd) {
    try {
      return dispatch(cmd);
    } catch (const std::exception &e) {
      return failure(std::string("C++ exception: ") + e.what());
    } catch (...) {
      return failure("unknown C++ exception");
    }
  }

private:
  struct ActionOutcome {
    std::vector<nomos::Value> values;
    std::optional<nomos::Error> error; // the runtime's error
    std::string problem;               // the runner could not run it
  };

  fs::path dir_;
  nomos::MemoryStrategy memory_;
  nomos::Engine engine_;
  std::map<std::string, nomos::Extern, std::less<>> spectest_;
  std::string spectestProblem_;
  // Every module command's instance, in order; null when it failed to load.
  std::vector<std::unique_ptr<nomos::Instance>> instances_;
  std::vector<std::string> loadErrors_;
  std::map<std::string, size_t, std::less<>> named_;      // $name -> index
  std::map<std::string, size_t, std::less<>> registered_; // "as" -> index
  std::optional<size_t> current_;

  void makeSpectest() {
    using nomos::Extern;
    using nomos::FunctionType;
    using nomos::Value;
    using nomos::ValueType;
    auto print = [](std::vector<ValueType> params) {
      return Extern::function(
          FunctionType{std::move(params), {}},
          [](std::span<const Value>) -> nomos::Expected<std::vector<Value>> {
            return std::vector<Value>{};
          });
    };
    try {
      spectest_.emplace("print", print({}));
      spectest_.emplace("print_i32", print({ValueType::I32}));
      spectest_.emplace("print_i64", print({ValueType::I64}));
      spectest_.emplace("print_f32", print({ValueType::F32}));
      spectest_.emplace("print_f64", print({ValueType::F64}));
      spectest_.emplace("print_i32_f32", print({ValueType::I32, ValueType::F32}));
      spectest_.emplace("print_f64_f64", print({ValueType::F64, ValueType::F64}));
      spectest_.emplace("global_i32", Extern::global(Value::i32(666), false));
      spectest_.emplace("global_i64", Extern::global(Value::i64(666), false));
      spectest_.emplace("global_f32", Extern::global(
          Value::f32Bits(std::bit_cast<uint32_t>(666.6f)), false));
      spectest_.emplace("global_f64", Extern::global(
          Value::f64Bits(std::bit_cast<uint64_t>(666.6)), false));
      auto table = Extern::table(ValueType::FuncRef, 10, 20);
      if (table)
        spectest_.emplace("table", *table);
      else
        spectestProblem_ += "spectest table: " + describeError(table.error()) + "; ";
      auto memory = Extern::memory(1, 2, memory_);
      if (memory)
        spectest_.emplace("memory", *memory);
      else
        spectestProblem_ += "spectest memory: " + describeError(memory.error()) + "; ";
    } catch (const std::exception &e) {
      spectestProblem_ += std::string("spectest: C++ exception: ") + e.what();
    } catch (...) {
      spectestProblem_ += "spectest: unknown C++ exception";
    }
  }

  std::optional<nomos::Extern> resolve(std::string_view module,
                                       std::string_view name) {
    if (module == "spectest") {
      auto it = spectest_.find(name);
      if (it == spectest_.end())
        return std::nullopt;
      return it->second;
    }
    auto it = registered_.find(module);
    if (it == registered_.end() || !instances_[it->second])
      return std::nullopt;
    return instances_[it->second]->exported(name);
  }

  nomos::Expected<nomos::Instance> instantiate(const std::string &filename,
                                               std::string &problem) {
    std::optional<nomos::Bytes> code = readFile(dir_ / filename);
    if (!code) {
      problem = "cannot read " + (dir_ / filename).string();
      return nomos::makeError(nomos::ErrorKind::IoError, problem);
    }
    nomos::ImportResolver resolver =
        [this](std::string_view module,
               std::string_view name) -> std::optional<nomos::Extern> {
      try {
        return resolve(module, name);
      } catch (...) {
        return std::nullopt;
      }
    };
    return nomos::Instance::create(engine_, *code, resolver);
  }

  // The instance an action names (or the current one).
  nomos::Instance *target(const Json &action, std::string &problem) {
    std::string name = action.str("module");
    std::optional<size_t> index;
    if (!name.empty()) {
      auto it = named_.find(name);
      if (it == named_.end()) {
        problem = "no module named " + name;
        return nullptr;
      }
      index = it->second;
    } else {
      index = current_;
    }
    if (!index) {
      problem = "no module loaded yet";
      return nullptr;
    }
    if (!instances_[*index]) {
      problem = "module " + (name.empty() ? std::string() : name + " ") +
                "did not load (" + loadErrors_[*index] + ")";
      return nullptr;
    }
    return instances_[*index].get();
  }

  static std::string describeAction(const Json &action) {
    std::string out = action.str("type") + " ";
    std::string module = action.str("module");
    if (!module.empty())
      out += module + ".";
    out += quoteName(action.str("field"));
    if (action.str("type") == "invoke") {
      out += "(";
      if (const Json *args = action.find("args"); args && args->isArray()) {
        for (size_t i = 0; i < args->items().size(); ++i) {
          if (i)
            out += ", ";
          out += describeExpected(args->items()[i]);
        }
      }
      out += ")";
    }
    return oneLine(out, 300);
  }

  ActionOutcome perform(const Json &action) {
    ActionOutcome out;
    nomos::Instance *instance = target(action, out.problem);
    if (!instance)
      return out;
    std::string type = action.str("type");
    std::string field = action.str("field");
    if (type == "get") {
      std::optional<nomos::Extern> global = instance->exported(field);
      if (!global)
        out.problem = "no export " + quoteName(field);
      else if (global->kind() != nomos::ExternKind::Global)
        out.problem = "export " + quoteName(field) + " is not a global";
      else
        out.values.push_back(global->globalValue());
      return out;
    }
    if (type != "invoke") {
      out.problem = "unknown action type '" + type + "'";
      return out;
    }
    std::vector<nomos::Value> args;
    if (const Json *list = action.find("args"); list && list->isArray()) {
      for (const Json &arg : list->items()) {
        std::optional<nomos::Value> v = parseArgument(arg, out.problem);
        if (!v)
          return out;
        args.push_back(*v);
      }
    }
    auto result = instance->call(field, args);
    if (result)
      out.values = std::move(*result);
    else
      out.error = result.error();
    return out;
  }

  Outcome dispatch(const Json &cmd) {
    std::string type = cmd.str("type");
    if (type == "module")
      return moduleCommand(cmd);
    if (type == "register")
      return registerCommand(cmd);
    if (type == "action")
      return actionCommand(cmd);
    if (type == "assert_return")
      return assertReturn(cmd);
    if (type == "assert_trap" || type == "assert_exhaustion")
      return assertTrap(cmd, type);
    if (type == "assert_invalid" || type == "assert_malformed" ||
        type == "assert_unlinkable" || type == "assert_uninstantiable")
      return assertModule(cmd, type);
    return failure("unknown command type '" + type + "'");
  }

  Outcome moduleCommand(const Json &cmd) {
    std::string name = cmd.str("name");
    std::string filename = cmd.str("filename");
    size_t index = instances_.size();
    instances_.push_back(nullptr);
    loadErrors_.emplace_back();
    current_ = index;
    if (!name.empty())
      named_[name] = index;
    if (cmd.str("module_type", "binary") != "binary" ||
        filename.size() < 5 || filename.substr(filename.size() - 5) != ".wasm") {
      loadErrors_[index] = "a text module (skipped)";
      return skip();
    }
    std::string problem;
    auto instance = instantiate(filename, problem);
    if (!instance) {
      loadErrors_[index] = problem.empty() ? describeError(instance.error()) : problem;
      std::string detail = "module " + (name.empty() ? filename : name) +
                           ": " + loadErrors_[index];
      if (!spectestProblem_.empty())
        detail += " [" + spectestProblem_ + "]";
      return failure(detail);
    }
    instances_[index] = std::make_unique<nomos::Instance>(std::move(*instance));
    return pass();
  }

  Outcome registerCommand(const Json &cmd) {
    std::string name = cmd.str("name");
    std::string as = cmd.str("as");
    std::optional<size_t> index = current_;
    if (!name.empty()) {
      auto it = named_.find(name);
      index = it == named_.end() ? std::nullopt : std::optional(it->second);
    }
    if (!index)
      return failure("register \"" + as + "\": no module " + name);
    registered_[as] = *index;
    // A module that did not load fails the commands that import from it.
    return pass();
  }

  Outcome actionCommand(const Json &cmd) {
    const Json *action = cmd.find("action");
    if (!action)
      return failure("action without an action");
    ActionOutcome r = perform(*action);
    std::string what = describeAction(*action);
    if (!r.problem.empty())
      return failure(what + ": " + r.problem);
    if (r.error)
      return failure(what + ": " + describeError(*r.error));
    return pass();
  }

  Outcome assertReturn(const Json &cmd) {
    const Json *action = cmd.find("action");
    if (!action)
      return failure("assert_return without an action");
    std::string what = "assert_return " + describeAction(*action);
    const Json *expected = cmd.find("expected");
    std::vector<Json> want = expected && expected->isArray() ? expected->items()
                                                             : std::vector<Json>{};
    std::string wantText;
    for (size_t i = 0; i < want.size(); ++i)
      wantText += (i ? ", " : "") + describeExpected(want[i]);
    if (want.empty())
      wantText = "no results";
    ActionOutcome r = perform(*action);
    if (!r.problem.empty())
      return failure(what + ": " + r.problem);
    if (r.error)
      return failure(what + ": expected " + wantText + ", got " +
                     describeError(*r.error));
    bool ok = r.values.size() == want.size();
    for (size_t i = 0; ok && i < want.size(); ++i)
      ok = valueMatches(want[i], r.values[i]);
    if (ok)
      return pass();
    std::string gotText;
    for (size_t i = 0; i < r.values.size(); ++i)
      gotText += (i ? ", " : "") +
                 describeValue(r.values[i], i < want.size()
                                                ? want[i].str("lane_type")
                                                : std::string());
    if (r.values.empty())
      gotText = "no results";
    return failure(what + ": expected " + wantText + ", got " + gotText);
  }

  Outcome assertTrap(const Json &cmd, const std::string &type) {
    std::string text = cmd.str("text");
    std::optional<nomos::ErrorKind> kind =
        type == "assert_exhaustion" ? std::optional(nomos::ErrorKind::StackExhausted)
                                    : trapKindFor(text);
    const Json *action = cmd.find("action");
    if (!action) {
      // A module whose instantiation traps.
      if (cmd.has("filename"))
        return expectModuleError(cmd, type, kind, text);
      return failure(type + " without an action");
    }
    std::string what = type + " " + describeAction(*action);
    if (!kind)
      return failure(what + ": no ErrorKind for the expected trap \"" + text + "\"");
    ActionOutcome r = perform(*action);
    if (!r.problem.empty())
      return failure(what + ": " + r.problem);
    if (!r.error) {
      std::string gotText;
      for (size_t i = 0; i < r.values.size(); ++i)
        gotText += (i ? ", " : "") + describeValue(r.values[i]);
      return failure(what + ": expected trap " + kindName(*kind) + " (\"" +
                     text + "\"), returned " +
                     (r.values.empty() ? "normally" : gotText));
    }
    if (r.error->kind != *kind)
      return failure(what + ": expected trap " + kindName(*kind) + " (\"" +
                     text + "\"), got " + describeError(*r.error));
    return pass();
  }

  Outcome assertModule(const Json &cmd, const std::string &type) {
    std::string text = cmd.str("text");
    if (cmd.str("module_type", "binary") != "binary")
      return skip(); // a text module: Nomos reads binaries only
    std::optional<nomos::ErrorKind> kind;
    if (type == "assert_invalid")
      kind = nomos::ErrorKind::InvalidModule;
    else if (type == "assert_malformed")
      kind = nomos::ErrorKind::MalformedModule;
    else if (type == "assert_unlinkable")
      kind = nomos::ErrorKind::LinkError;
    else
      kind = trapKindFor(text);
    return expectModuleError(cmd, type, kind, text);
  }

  Outcome expectModuleError(const Json &cmd, const std::string &type,
                            std::optional<nomos::ErrorKind> kind,
                            const std::string &text) {
    std::string filename = cmd.str("filename");
    std::string what = type + " " + filename + " (\"" + oneLine(text, 80) + "\")";
    if (!kind)
      return failure(what + ": no ErrorKind for the expected trap");
    std::string problem;
    auto instance = instantiate(filename, problem);
    if (!problem.empty())
      return failure(what + ": " + problem);
    if (instance)
      return failure(what + ": expected " + kindName(*kind) + ", but it " +
                     (type == "assert_invalid" || type == "assert_malformed"
                          ? "loaded"
                          : "instantiated"));
    if (instance.error().kind != *kind)
      return failure(what + ": expected " + kindName(*kind) + ", got " +
                     describeError(instance.error()));
    return pass();
  }
};

// ---------------------------------------------------------------------------
// Files: conversion, child processes, reporting

struct FileResult {
  size_t passed = 0, failed = 0, skipped = 0;
  std::vector<std::string> details; // every failure line, in order
};

// Runs argv, waits; returns the exit status text ("" on success).
std::string runProcess(const std::vector<std::string> &argv) {
  std::vector<char *> args;
  for (const std::string &a : argv)
    args.push_back(const_cast<char *>(a.c_str()));
  args.push_back(nullptr);
  std::fflush(stdout);
  std::fflush(stderr);
  pid_t pid = fork();
  if (pid < 0)
    return std::string("fork failed: ") + std::strerror(errno);
  if (pid == 0) {
    execvp(args[0], args.data());
    std::fprintf(stderr, "cannot run %s: %s\n", args[0], std::strerror(errno));
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
    return {};
  if (WIFEXITED(status))
    return "exit code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status))
    return "killed by signal " + std::to_string(WTERMSIG(status));
  return "failed";
}

// wast2json FILE.wast -o WORK/FILE/FILE.json, unless that is up to date.
std::optional<fs::path> convert(const Options &opt, const fs::path &wast,
                                std::string &problem) {
  std::string name = wast.stem().string();
  fs::path dir = opt.workDir / name;
  fs::path json = dir / (name + ".json");
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    problem = "cannot create " + dir.string() + ": " + ec.message();
    return std::nullopt;
  }
  if (fs::exists(json, ec) &&
      fs::last_write_time(json, ec) > fs::last_write_time(wast, ec) && !ec)
    return json;
  fs::remove(json, ec);
  std::string status =
      runProcess({opt.wast2json, wast.string(), "-o", json.string()});
  if (!status.empty()) {
    fs::remove(json, ec);
    problem = opt.wast2json + " failed on " + wast.filename().string() + " (" +
              status + ")";
    return std::nullopt;
  }
  return json;
}

std::optional<std::vector<Json>> loadCommands(const fs::path &jsonPath,
                                              std::string &problem) {
  std::ifstream in(jsonPath, std::ios::binary);
  if (!in) {
    problem = "cannot read " + jsonPath.string();
    return std::nullopt;
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string error;
  std::optional<Json> doc = nomos::spec::parseJson(buffer.str(), error);
  if (!doc) {
    problem = jsonPath.string() + ": bad JSON: " + error;
    return std::nullopt;
  }
  const Json *commands = doc->find("commands");
  if (!commands || !commands->isArray()) {
    problem = jsonPath.string() + ": no \"commands\" array";
    return std::nullopt;
  }
  return commands->items();
}

std::string commandLabel(const Json &cmd) {
  return "line " + cmd.str("line", "?");
}

// Writes the child's progress records: "B i" when command i starts, then
// "P i", "S i" or "F i detail" when it ends.
void writeRecord(FILE *out, char tag, size_t index, const std::string &detail = {}) {
  if (detail.empty())
    std::fprintf(out, "%c %zu\n", tag, index);
  else
    std::fprintf(out, "%c %zu %s\n", tag, index, oneLine(detail, 1000).c_str());
  std::fflush(out);
}

void runCommands(const std::vector<Json> &commands, const fs::path &dir,
                 const Options &opt, FILE *out) {
  ScriptRunner runner(dir, opt);
  for (size_t i = 0; i < commands.size(); ++i) {
    writeRecord(out, 'B', i);
    Outcome o = runner.run(commands[i]);
    char tag = o.status == Status::Pass ? 'P' : o.status == Status::Skip ? 'S' : 'F';
    writeRecord(out, tag, i, o.detail);
  }
}

// Commands that count as tests: everything but `register` (which counts only
// when it fails).
bool counted(const Json &cmd) { return cmd.str("type") != "register"; }

FileResult runFile(const Options &opt, const fs::path &wast) {
  FileResult result;
  std::string problem;
  std::optional<fs::path> json = convert(opt, wast, problem);
  std::optional<std::vector<Json>> commands;
  if (json)
    commands = loadCommands(*json, problem);
  if (!commands) {
    result.failed = 1;
    result.details.push_back(problem);
    return result;
  }

  // Parse the child's records (or, with --no-fork, our own).
  std::vector<char> state(commands->size(), 0); // 0 not run, else P/S/F
  std::vector<std::string> detail(commands->size());
  constexpr size_t none = SIZE_MAX;
  size_t started = none; // the command running when the records stop
  auto absorb = [&](const std::string &line) {
    if (line.size() < 3)
      return;
    char tag = line[0];
    size_t space = line.find(' ', 2);
    size_t index = std::strtoull(line.c_str() + 2, nullptr, 10);
    if (index >= commands->size())
      return;
    if (tag == 'B') {
      started = index;
      return;
    }
    state[index] = tag;
    if (space != std::string::npos)
      detail[index] = line.substr(space + 1);
    started = none;
  };

  std::string crash;
  fs::path dir = json->parent_path();
  if (!opt.fork) {
    char *buf = nullptr;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    runCommands(*commands, dir, opt, mem);
    std::fclose(mem);
    std::istringstream lines(std::string(buf, len));
    std::free(buf);
    for (std::string line; std::getline(lines, line);)
      absorb(line);
  } else {
    int fds[2];
    if (pipe(fds) != 0) {
      result.failed = 1;
      result.details.push_back(std::string("pipe failed: ") + std::strerror(errno));
      return result;
    }
    std::fflush(stdout);
    std::fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
      result.failed = 1;
      result.details.push_back(std::string("fork failed: ") + std::strerror(errno));
      close(fds[0]);
      close(fds[1]);
      return result;
    }
    if (pid == 0) {
      close(fds[0]);
      alarm(opt.timeout);
      FILE *out = fdopen(fds[1], "w");
      if (!out)
        _exit(3);
      try {
        runCommands(*commands, dir, opt, out);
      } catch (...) {
        _exit(4);
      }
      std::fflush(out);
      _exit(0);
    }
    close(fds[1]);
    FILE *in = fdopen(fds[0], "r");
    char *line = nullptr;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, in)) > 0) {
      std::string text(line, size_t(n));
      if (!text.empty() && text.back() == '\n')
        text.pop_back();
      absorb(text);
    }
    std::free(line);
    std::fclose(in);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFSIGNALED(status)) {
      int sig = WTERMSIG(status);
      crash = sig == SIGALRM ? "timed out after " + std::to_string(opt.timeout) + " s"
                             : "crashed with signal " + std::to_string(sig) + " (" +
                                   strsignal(sig) + ")";
    } else if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
      crash = "child exited with code " + std::to_string(WEXITSTATUS(status));
    }
  }

  if (started != none) {
    state[started] = 'F';
    detail[started] = (crash.empty() ? std::string("did not finish") : crash) +
                       " while running " + (*commands)[started].str("type");
  }
  size_t notRun = 0;
  for (size_t i = 0; i < commands->size(); ++i) {
    const Json &cmd = (*commands)[i];
    char s = state[i];
    if (s == 0) {
      if (counted(cmd)) {
        ++result.failed;
        ++notRun;
      }
      continue;
    }
    if (s == 'P') {
      if (counted(cmd))
        ++result.passed;
    } else if (s == 'S') {
      ++result.skipped;
    } else {
      ++result.failed;
      result.details.push_back(commandLabel(cmd) + ": " + detail[i]);
    }
  }
  // The crash (or the commands it left unrun) first: it explains the rest.
  if (notRun)
    result.details.insert(result.details.begin(),
                          std::to_string(notRun) + " commands not run (" +
                              (crash.empty() ? "the run stopped" : crash) + ")");
  else if (!crash.empty() && started == none) {
    ++result.failed; // every command ran, then the child died (teardown)
    result.details.insert(result.details.begin(), "after the last command: " + crash);
  }
  return result;
}

[[noreturn]] void usage(const char *message = nullptr) {
  if (message)
    std::fprintf(stderr, "nomos_spec_runner: %s\n", message);
  std::fprintf(stderr,
               "usage: nomos_spec_runner [--details N] [--timeout S] [--no-fork] "
               "[-O N] [--memory guard|explicit] WAST2JSON SUITE_DIR WORK_DIR [FILTER...]\n");
  std::exit(2);
}

unsigned numberArg(int &i, int argc, char **argv) {
  if (i + 1 >= argc)
    usage("missing number after an option");
  std::optional<uint64_t> n = parseInteger(argv[++i]);
  if (!n || *n > 1000000)
    usage("bad number");
  return unsigned(*n);
}

bool selected(const Options &opt, const std::string &name) {
  if (opt.filters.empty())
    return true;
  for (std::string f : opt.filters) {
    if (f.size() > 5 && f.substr(f.size() - 5) == ".wast")
      f.resize(f.size() - 5);
    if (fnmatch(f.c_str(), name.c_str(), 0) == 0)
      return true;
  }
  return false;
}

} // namespace

int main(int argc, char **argv) {
  Options opt;
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--details")
      opt.details = numberArg(i, argc, argv);
    else if (a == "--timeout")
      opt.timeout = numberArg(i, argc, argv);
    else if (a == "--no-fork")
      opt.fork = false;
    else if (a == "-O")
      opt.optLevel = numberArg(i, argc, argv);
    else if (a == "--memory" && i + 1 < argc) {
      std::string strategy = argv[++i];
      if (strategy != "guard" && strategy != "explicit")
        usage("--memory takes guard or explicit");
      opt.memory = strategy == "guard" ? nomos::MemoryStrategy::GuardPages
                                       : nomos::MemoryStrategy::ExplicitChecks;
    }
    else if (a == "--help" || a == "-h")
      usage();
    else if (a.size() > 1 && a[0] == '-' && a != "-")
      usage(("unknown option " + a).c_str());
    else
      positional.push_back(a);
  }
  if (positional.size() < 3)
    usage();
  opt.wast2json = positional[0];
  opt.suiteDir = positional[1];
  opt.workDir = positional[2];
  opt.filters.assign(positional.begin() + 3, positional.end());
  if (const char *env = std::getenv("NOMOS_SPEC_FILTER"); env && opt.filters.empty()) {
    std::string item;
    for (const char *p = env;; ++p) {
      if (*p == '\0' || *p == ' ' || *p == ',') {
        if (!item.empty())
          opt.filters.push_back(item);
        item.clear();
        if (*p == '\0')
          break;
      } else {
        item += *p;
      }
    }
  }
  if (opt.optLevel > 3)
    usage("-O takes 0..3");

  std::error_code ec;
  if (!fs::is_directory(opt.suiteDir, ec)) {
    std::fprintf(stderr, "nomos_spec_runner: the spec suite folder %s does not exist\n",
                 opt.suiteDir.c_str());
    return 2;
  }
  if (fs::is_directory(opt.suiteDir / "core", ec))
    opt.suiteDir /= "core";
  std::vector<fs::path> files;
  for (const auto &entry : fs::directory_iterator(opt.suiteDir, ec))
    if (entry.path().extension() == ".wast" &&
        selected(opt, entry.path().stem().string()))
      files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    std::fprintf(stderr, "nomos_spec_runner: no .wast file in %s%s\n",
                 opt.suiteDir.c_str(), opt.filters.empty() ? "" : " matches the filters");
    return 2;
  }

  size_t passed = 0, failed = 0, skipped = 0;
  for (const fs::path &file : files) {
    FileResult r = runFile(opt, file);
    passed += r.passed;
    failed += r.failed;
    skipped += r.skipped;
    std::printf("%s: %zu passed, %zu failed, %zu skipped\n",
                file.filename().c_str(), r.passed, r.failed, r.skipped);
    for (size_t i = 0; i < r.details.size() && i < opt.details; ++i)
      std::printf("  %s\n", r.details[i].c_str());
    if (r.details.size() > opt.details && opt.details > 0)
      std::printf("  ... and %zu more\n", r.details.size() - opt.details);
    std::fflush(stdout);
  }
  std::printf("spec: %zu passed, %zu failed, %zu skipped\n", passed, failed, skipped);
  return failed ? 1 : 0;
}
