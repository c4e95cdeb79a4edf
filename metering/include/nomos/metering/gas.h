// The gas schedule: what each instruction class, host call and child
// operation costs. It is data: a struct with documented defaults, loadable
// from a `key = value` text file, with a stable hash that belongs in every
// cache key (compiled code depends on it). docs/metering.md explains how gas
// is counted.
#pragma once

#include <nomos/error.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace nomos::metering {

struct NOMOS_API GasSchedule {
  // ---- wasm instructions (charged statically, per metered block) ----
  // Everything not named below: local/global access, constants, select,
  // drop, integer/float/SIMD arithmetic, comparisons, conversions,
  // memory.size, ref.*, table.size, unreachable.
  uint64_t simple = 1;
  // Loads and stores (scalar and SIMD).
  uint64_t memoryAccess = 1;
  // if, br, br_if, br_table, return.
  uint64_t branch = 1;
  // Integer div/rem, float div and sqrt.
  uint64_t division = 4;
  // call (the callee's own code is charged in the callee).
  uint64_t call = 5;
  // call_indirect (table lookup and signature check included).
  uint64_t callIndirect = 10;
  // table.get, table.set.
  uint64_t tableAccess = 2;
  // ---- wasm instructions with a size (static part + dynamic part) ----
  uint64_t memoryGrow = 100;          // + per page requested:
  uint64_t memoryGrowPerPage = 1000;  // (charged even if the grow fails)
  uint64_t bulkMemory = 5;            // memory.copy/fill/init, data.drop
  uint64_t bulkMemoryPerByte = 1;     // n of memory.copy/fill/init
  uint64_t tableGrow = 100;           // + per element requested:
  uint64_t tableGrowPerElement = 10;
  // ---- host side ----
  uint64_t hostCall = 100;            // every "nomos" import
  uint64_t hostCallPerByte = 1;       // bytes the host reads or writes
  uint64_t childNew = 10000;          // child_new, + per byte of its code:
  uint64_t compilePerByte = 10;

  // Field names in file order (also the key names of the text format).
  static constexpr std::array<std::string_view, 17> kFieldNames = {
      "simple",          "memory_access",     "branch",
      "division",        "call",              "call_indirect",
      "table_access",    "memory_grow",       "memory_grow_per_page",
      "bulk_memory",     "bulk_memory_per_byte", "table_grow",
      "table_grow_per_element", "host_call",  "host_call_per_byte",
      "child_new",       "compile_per_byte"};
  // Costs are at most this (so that count x cost fits in the i64 counter).
  static constexpr uint64_t kMaxCost = uint64_t(1) << 24;

  // BLAKE3 of a canonical encoding (a format tag, then every field as a
  // little-endian u64 in declaration order): equal schedules hash equally on
  // every machine.
  std::array<uint8_t, 32> hash() const;
  std::string hashHex() const;

  // `key = value` lines (keys as in kFieldNames, values decimal), `#`
  // comments and blank lines; keys not given keep their defaults. Unknown
  // keys and values above 2^24 (which could overflow the counter) are
  // errors (BadArguments, naming the line).
  static Expected<GasSchedule> parse(std::string_view text);
  static Expected<GasSchedule> loadFile(const std::string &path);
  std::string toText() const;

  bool operator==(const GasSchedule &) const = default;
};

// The name of the internal global the gas pass adds (appended after the
// module's own globals, so no global index moves).
inline constexpr const char *kGasGlobalName = "nomos$gas";

} // namespace nomos::metering
