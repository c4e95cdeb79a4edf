// Values passed to and returned from wasm functions, and held by globals.
#pragma once

#include <nomos/error.h>

#include <cstdint>
#include <string>
#include <vector>

namespace nomos {

enum class ValueType : uint8_t { I32, I64, F32, F64, V128, FuncRef, ExternRef };

NOMOS_API std::string_view valueTypeName(ValueType type);

// A wasm value. Numbers keep their exact bits (f32 and i32 in the low 32
// bits of `bits`; v128 in bits and hi). References are opaque: 0 is null;
// an externref is whatever 64-bit value the host chose (non-zero), a funcref
// is a handle the runtime made.
struct Value {
  ValueType type = ValueType::I32;
  uint64_t bits = 0;
  uint64_t hi = 0; // v128 only

  static Value i32(int32_t v) { return {ValueType::I32, uint32_t(v), 0}; }
  static Value i64(int64_t v) { return {ValueType::I64, uint64_t(v), 0}; }
  static Value f32Bits(uint32_t v) { return {ValueType::F32, v, 0}; }
  static Value f64Bits(uint64_t v) { return {ValueType::F64, v, 0}; }
  static Value v128(uint64_t lo, uint64_t hi) { return {ValueType::V128, lo, hi}; }
  static Value nullRef(ValueType type) { return {type, 0, 0}; }
  static Value externRef(uint64_t v) { return {ValueType::ExternRef, v, 0}; }
  int32_t asI32() const { return int32_t(uint32_t(bits)); }
  int64_t asI64() const { return int64_t(bits); }
  bool isNullRef() const { return bits == 0; }
  bool operator==(const Value &) const = default;
};

struct FunctionType {
  std::vector<ValueType> params;
  std::vector<ValueType> results;
  bool operator==(const FunctionType &) const = default;
};

// "42", "-7", "0.1", "-inf", "nan:0x400000": the value as the CLI prints it.
// Floats print as the shortest decimal that reads back to the same bits; a
// NaN as the wasm text format writes it, sign and payload included. A v128
// prints as "i32x4 0x00000001 0x00000000 0x00000000 0x00000000" (lowest lane
// first); references as "ref.null func", "ref.func", "ref.null extern" or
// "ref.extern 7".
NOMOS_API std::string toString(const Value &value);

// Parses text as a value of `type` ("42", "-1", "0x2a"; for floats "1.5",
// "-0", "inf", "nan" (canonical) and "nan:0x<payload>").
NOMOS_API Expected<Value> parseValue(ValueType type, std::string_view text);

} // namespace nomos
