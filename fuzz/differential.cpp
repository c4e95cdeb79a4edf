// Differential fuzzing driver (docs/fuzzing.md). For each seed: random
// bytes -> `wasm-opt -ttf --denan` -> a valid module, run by Binaryen's
// interpreter (`wasm-opt --fuzz-exec-before`) and by Nomos; every export's
// logged values, results and traps must agree. Nomos also runs each module
// at -O0 and -O2 and through the disk cache (cold, then warm): those runs
// must agree exactly, gas included. A mismatch is saved as a reproducer.
//
//   nomos_differential [--count N] [--start SEED] [--out DIR] [--work DIR]
//   nomos_differential --seeds DIR N   (only write N modules, for corpora)
//   nomos_differential --show FILE     (what Nomos does with a reproducer)
#include "run_exports.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace nomos;
using nomos::fuzz::CallOutcome;
using nomos::fuzz::RunOutcome;

namespace {

// The WebAssembly 2.0 features Nomos runs, but reference types: Binaryen
// 108 implements an older proposal (externref a supertype of funcref, anyref)
// that wasm 2.0 does not have.
const char *kFeatures =
    "--enable-sign-ext --enable-nontrapping-float-to-int --enable-bulk-memory "
    "--enable-multivalue --enable-simd";

std::string readText(const fs::path &path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

Bytes readBytes(const fs::path &path) {
  std::string text = readText(path);
  return Bytes(text.begin(), text.end());
}

// Runs a shell command; its standard output, or nullopt if it failed.
std::optional<std::string> run(const std::string &command) {
  FILE *pipe = popen(command.c_str(), "r");
  if (!pipe)
    return std::nullopt;
  std::string out;
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof buffer, pipe))
    out.append(buffer, n);
  return pclose(pipe) == 0 ? std::optional(out) : std::nullopt;
}

// Writes the module of `seed` to `wasm`: wasm-opt turns random bytes into a
// valid module, with NaNs replaced by 0 at run time (--denan) so that NaN
// payloads, which the spec leaves open, cannot reach memory or integers.
bool makeModule(uint64_t seed, const fs::path &work, const fs::path &wasm) {
  std::mt19937_64 random(seed);
  size_t size = 1024 + random() % 15360;
  Bytes input(size);
  for (uint8_t &byte : input)
    byte = uint8_t(random());
  fs::path bin = work / "input.bin";
  std::ofstream(bin, std::ios::binary)
      .write(reinterpret_cast<const char *>(input.data()), std::streamsize(size));
  return run(std::string(WASM_OPT) + " '" + bin.string() + "' -ttf --denan " + kFeatures +
             " -o '" + wasm.string() + "' 2>/dev/null")
      .has_value();
}

// ---- Binaryen's side -------------------------------------------------------

struct ExpectedCall {
  std::string name;
  std::vector<std::string> logs;
  std::optional<std::string> results; // text after "=>", when printed
  std::optional<std::string> trap;
};

struct BinaryenRun {
  std::vector<ExpectedCall> calls;
  bool hostLimit = false; // the interpreter gave up: nothing to compare
};

bool startsWith(const std::string &line, std::string_view prefix) {
  return line.compare(0, prefix.size(), prefix) == 0;
}

BinaryenRun parseFuzzExec(const std::string &output) {
  BinaryenRun parsed;
  std::istringstream lines(output);
  std::string line;
  while (std::getline(lines, line)) {
    if (startsWith(line, "[fuzz-exec] calling ")) {
      parsed.calls.push_back({line.substr(20), {}, {}, {}});
      continue;
    }
    if (startsWith(line, "[host limit")) {
      parsed.hostLimit = true;
      continue;
    }
    if (parsed.calls.empty())
      continue;
    ExpectedCall &call = parsed.calls.back();
    if (startsWith(line, "[LoggingExternalInterface logging "))
      call.logs.push_back(line.substr(34, line.size() - 35));
    else if (startsWith(line, "[trap "))
      call.trap = line.substr(6, line.size() - 7);
    else if (startsWith(line, "[fuzz-exec] note result: ")) {
      size_t arrow = line.find(" => ");
      if (arrow != std::string::npos)
        call.results = line.substr(arrow + 4);
    }
  }
  return parsed;
}

// Binaryen prints a result list as "(a, b)", a single result bare.
std::vector<std::string> splitResults(const std::string &text, size_t count) {
  if (count < 2)
    return {text};
  std::vector<std::string> parts;
  std::string inner = text.substr(1, text.size() - 2);
  size_t at = 0;
  while (true) {
    size_t comma = inner.find(", ", at);
    parts.push_back(inner.substr(at, comma - at));
    if (comma == std::string::npos)
      return parts;
    at = comma + 2;
  }
}

bool isNaN32(uint32_t bits) { return (bits & 0x7fffffff) > 0x7f800000; }
bool isNaN64(uint64_t bits) {
  return (bits & 0x7fffffffffffffff) > 0x7ff0000000000000;
}

// Whether Binaryen's text of a float names the same value; any NaN matches
// any NaN (the spec allows any payload for a computed NaN).
bool sameFloat(const std::string &text, double value, bool isNaN) {
  if (text.find("nan") != std::string::npos)
    return isNaN;
  if (isNaN)
    return false;
  if (text == "inf" || text == "-inf")
    return std::isinf(value) && (text[0] == '-') == std::signbit(value);
  char *end = nullptr;
  double parsed = strtod(text.c_str(), &end);
  return *end == 0 && parsed == value &&
         std::signbit(parsed) == std::signbit(value);
}

// "i32x4 0x.. 0x.. 0x.. 0x..": lanes that differ must be NaNs in both, as
// f32 lanes or as the f64 lanes holding them.
bool sameV128(const std::string &text, const Value &value) {
  uint32_t lanes[4];
  if (sscanf(text.c_str(), "i32x4 0x%x 0x%x 0x%x 0x%x", &lanes[0], &lanes[1],
             &lanes[2], &lanes[3]) != 4)
    return false;
  uint32_t ours[4] = {uint32_t(value.bits), uint32_t(value.bits >> 32),
                      uint32_t(value.hi), uint32_t(value.hi >> 32)};
  for (int i = 0; i < 4; ++i) {
    if (lanes[i] == ours[i] || (isNaN32(lanes[i]) && isNaN32(ours[i])))
      continue;
    int low = i & ~1;
    uint64_t theirs64 = uint64_t(lanes[low + 1]) << 32 | lanes[low];
    uint64_t ours64 = uint64_t(ours[low + 1]) << 32 | ours[low];
    if (!(isNaN64(theirs64) && isNaN64(ours64)))
      return false;
  }
  return true;
}

bool sameValue(const std::string &text, const Value &value) {
  switch (value.type) {
  case ValueType::I32:
  case ValueType::I64: {
    char *end = nullptr;
    long long parsed = strtoll(text.c_str(), &end, 10);
    return *end == 0 && (value.type == ValueType::I32
                             ? parsed == value.asI32()
                             : parsed == value.asI64());
  }
  case ValueType::F32: {
    float f;
    uint32_t bits = uint32_t(value.bits);
    std::memcpy(&f, &bits, 4);
    return sameFloat(text, f, isNaN32(bits));
  }
  case ValueType::F64: {
    double d;
    std::memcpy(&d, &value.bits, 8);
    return sameFloat(text, d, isNaN64(value.bits));
  }
  case ValueType::V128: return sameV128(text, value);
  default:
    // References: Binaryen prints a function's name, Nomos has a handle;
    // only nullness is comparable.
    return (text.find("null") != std::string::npos) == value.isNullRef();
  }
}

// Binaryen logs an i64 as its two i32 halves, "low high".
bool sameLog(const std::string &text, const Value &value) {
  int32_t low = 0, high = 0;
  if (value.type == ValueType::I64 &&
      sscanf(text.c_str(), "%d %d", &low, &high) == 2)
    return (uint64_t(uint32_t(high)) << 32 | uint32_t(low)) == value.bits;
  return sameValue(text, value);
}

std::string valuesText(const std::vector<Value> &values) {
  std::string text;
  for (const Value &value : values)
    text += (text.empty() ? "" : ", ") + toString(value);
  return text;
}

enum class Verdict { Same, Explained, Mismatch };

// Compares one call; `why` says what differs.
Verdict compareCall(const ExpectedCall &theirs, const CallOutcome &ours,
                    std::string &why) {
  why = "export " + ours.name + ": ";
  // Binaryen's interpreter has a call depth limit of its own, lower than
  // Nomos's stack: past it the two legitimately differ.
  bool theirDepth = theirs.trap && theirs.trap->find("stack limit") != std::string::npos;
  bool ourDepth = ours.trap && ours.trap->kind == ErrorKind::StackExhausted;
  if (theirDepth || ourDepth) {
    why += "call depth limit";
    return Verdict::Explained;
  }
  size_t logs = std::min(theirs.logs.size(), ours.logs.size());
  for (size_t i = 0; i < logs; ++i)
    if (!sameLog(theirs.logs[i], ours.logs[i])) {
      why += "log " + std::to_string(i) + ": " + theirs.logs[i] + " vs " +
             toString(ours.logs[i]);
      return Verdict::Mismatch;
    }
  if (theirs.logs.size() != ours.logs.size()) {
    why += std::to_string(theirs.logs.size()) + " logs vs " +
           std::to_string(ours.logs.size());
    return Verdict::Mismatch;
  }
  if (theirs.trap.has_value() != ours.trap.has_value()) {
    why += (theirs.trap ? "trap " + *theirs.trap : "returned") + " vs " +
           (ours.trap ? ours.trap->toString() : "returned");
    return Verdict::Mismatch;
  }
  if (ours.trap || ours.results.empty())
    return Verdict::Same;
  std::vector<std::string> texts =
      splitResults(theirs.results.value_or(""), ours.results.size());
  for (size_t i = 0; i < ours.results.size(); ++i)
    if (i >= texts.size() || !sameValue(texts[i], ours.results[i])) {
      why += "results " + theirs.results.value_or("(none)") + " vs " +
             valuesText(ours.results);
      return Verdict::Mismatch;
    }
  return Verdict::Same;
}

Verdict compareWithBinaryen(const BinaryenRun &theirs, const RunOutcome &ours,
                            std::string &why) {
  if (ours.error) {
    why = "Nomos refused the module: " + ours.error->toString();
    return Verdict::Mismatch;
  }
  if (theirs.calls.size() != ours.calls.size()) {
    why = std::to_string(theirs.calls.size()) + " calls vs " +
          std::to_string(ours.calls.size());
    return Verdict::Mismatch;
  }
  for (size_t i = 0; i < ours.calls.size(); ++i) {
    Verdict verdict = compareCall(theirs.calls[i], ours.calls[i], why);
    // After an explained difference the instances' states may differ.
    if (verdict != Verdict::Same)
      return verdict;
  }
  return Verdict::Same;
}

// ---- Nomos's side ----------------------------------------------------------

// Runs the module four ways; the first difference between them, if any.
std::string compareNomosRuns(const Bytes &code, const fs::path &cacheDir,
                             RunOutcome &reference) {
  Limits limits;
  fs::remove_all(cacheDir);
  EngineOptions cached{.optLevel = 2, .cacheDir = cacheDir.string()};
  Engine cold(cached);
  reference = fuzz::runExports(cold, code, limits);
  Engine warm(cached);
  RunOutcome fromDisk = fuzz::runExports(warm, code, limits);
  Engine o0({.optLevel = 0});
  RunOutcome unoptimized = fuzz::runExports(o0, code, limits);
  if (!reference.error && warm.stats().diskHits != 1)
    return "the warm engine did not read the disk cache";
  if (std::string d = fuzz::compareOutcomes(reference, fromDisk); !d.empty())
    return "-O2 vs -O2 from the disk cache: " + d;
  if (std::string d = fuzz::compareOutcomes(reference, unoptimized); !d.empty())
    return "-O2 vs -O0: " + d;
  return {};
}

struct Counts {
  uint64_t modules = 0, calls = 0, same = 0, explained = 0, mismatches = 0,
           skipped = 0;
  uint64_t simdNaN = 0; // of the explained: a SIMD NaN payload
};

void saveReproducer(const fs::path &out, uint64_t seed, const fs::path &wasm,
                    const std::string &why, const std::string &binaryen) {
  fs::path dir = out / ("seed-" + std::to_string(seed));
  fs::create_directories(dir);
  fs::copy_file(wasm, dir / "module.wasm", fs::copy_options::overwrite_existing);
  std::ofstream(dir / "mismatch.txt") << why << "\n";
  std::ofstream(dir / "binaryen.txt") << binaryen;
}

// --denan covers f32 and f64 values only (Binaryen 108): a NaN that a
// SIMD float operation makes keeps its payload in Binaryen and is canonical
// in Nomos, and integer lanes may then see different bits. Both are
// allowed by the spec (an arithmetic NaN from a non-canonical input), so a
// difference in a module with such an operation is explained.
bool hasSimdFloatArithmetic(const fs::path &wasm) {
  std::optional<std::string> text =
      run(std::string(WASM_OPT) + " '" + wasm.string() + "' --print " +
          kFeatures + " 2>/dev/null");
  static const char *kOps[] = {"add", "sub", "mul", "div", "sqrt", "min",
                               "max", "ceil", "floor", "trunc", "nearest",
                               "demote", "promote"};
  for (const char *shape : {"(f32x4.", "(f64x2."})
    for (const char *op : kOps)
      if (text && text->find(std::string(shape) + op) != std::string::npos)
        return true;
  return false;
}

void checkSeed(uint64_t seed, const fs::path &work, const fs::path &out,
               Counts &counts) {
  fs::path wasm = work / "module.wasm";
  if (!makeModule(seed, work, wasm)) {
    ++counts.skipped;
    return;
  }
  std::optional<std::string> output = run(
      std::string(WASM_OPT) + " '" + wasm.string() + "' --fuzz-exec-before " + kFeatures +
      " 2>/dev/null");
  BinaryenRun theirs = parseFuzzExec(output.value_or(""));
  if (!output || theirs.hostLimit) {
    ++counts.skipped;
    return;
  }
  ++counts.modules;
  Bytes code = readBytes(wasm);
  RunOutcome ours;
  std::string why = compareNomosRuns(code, work / "cache", ours);
  // Nomos against itself (-O0, -O2, the cache) must agree exactly.
  bool againstBinaryen = why.empty();
  Verdict verdict = Verdict::Mismatch;
  if (againstBinaryen)
    verdict = compareWithBinaryen(theirs, ours, why);
  counts.calls += ours.calls.size();
  if (verdict == Verdict::Same)
    ++counts.same;
  if (verdict == Verdict::Mismatch && againstBinaryen &&
      hasSimdFloatArithmetic(wasm)) {
    verdict = Verdict::Explained;
    ++counts.simdNaN;
  }
  if (verdict == Verdict::Explained)
    ++counts.explained;
  if (verdict != Verdict::Mismatch)
    return;
  ++counts.mismatches;
  fprintf(stderr, "seed %llu: %s\n", (unsigned long long)seed, why.c_str());
  saveReproducer(out, seed, wasm, why, output.value_or(""));
}

// Prints what Nomos does with a module, in --fuzz-exec's format (for
// reading a reproducer next to binaryen.txt).
int show(const fs::path &wasm) {
  Engine engine;
  RunOutcome outcome = fuzz::runExports(engine, readBytes(wasm), Limits{});
  if (outcome.error) {
    printf("error: %s\n", outcome.error->toString().c_str());
    return 1;
  }
  for (const CallOutcome &call : outcome.calls) {
    printf("[fuzz-exec] calling %s\n", call.name.c_str());
    for (const Value &value : call.logs)
      printf("[LoggingExternalInterface logging %s]\n", toString(value).c_str());
    if (call.trap)
      printf("[trap %s]\n", call.trap->toString().c_str());
    else if (!call.results.empty())
      printf("[fuzz-exec] note result: %s => %s\n", call.name.c_str(),
             valuesText(call.results).c_str());
  }
  return 0;
}

int writeSeeds(const fs::path &dir, uint64_t count) {
  fs::create_directories(dir);
  for (uint64_t seed = 0; seed < count; ++seed)
    if (!makeModule(seed, dir, dir / ("ttf-" + std::to_string(seed) + ".wasm")))
      return 1;
  fs::remove(dir / "input.bin");
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  uint64_t count = 100, start = 0;
  fs::path out = "differential-mismatches", work;
  if (argc == 3 && std::string(argv[1]) == "--show")
    return show(argv[2]);
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--seeds" && i + 2 < argc)
      return writeSeeds(argv[i + 1], std::strtoull(argv[i + 2], nullptr, 10));
    if (flag == "--count")
      count = std::strtoull(argv[i + 1], nullptr, 10);
    else if (flag == "--start")
      start = std::strtoull(argv[i + 1], nullptr, 10);
    else if (flag == "--out")
      out = argv[i + 1];
    else if (flag == "--work")
      work = argv[i + 1];
    else {
      fprintf(stderr, "unknown option %s\n", argv[i]);
      return 2;
    }
  }
  if (work.empty())
    work = fs::temp_directory_path() / ("nomos-differential-" + std::to_string(getpid()));
  fs::create_directories(work);
  Counts counts;
  for (uint64_t seed = start; seed < start + count; ++seed) {
    checkSeed(seed, work, out, counts);
    if ((seed - start + 1) % 100 == 0 || seed + 1 == start + count)
      printf("seeds %llu: modules %llu (calls %llu): same %llu, explained "
             "%llu (SIMD NaN %llu), mismatches %llu; skipped %llu\n",
             (unsigned long long)(seed - start + 1),
             (unsigned long long)counts.modules, (unsigned long long)counts.calls,
             (unsigned long long)counts.same, (unsigned long long)counts.explained,
             (unsigned long long)counts.simdNaN,
             (unsigned long long)counts.mismatches,
             (unsigned long long)counts.skipped);
    fflush(stdout);
  }
  fs::remove_all(work);
  return counts.mismatches ? 1 : 0;
}
