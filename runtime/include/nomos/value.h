// Values passed to and returned from exported functions.
#pragma once

#include <nomos/error.h>

#include <cstdint>
#include <string>

namespace nomos {

enum class ValueType : uint8_t { I32, I64, F32, F64 };

NOMOS_API std::string_view valueTypeName(ValueType type);

struct Value {
  ValueType type = ValueType::I32;
  uint64_t bits = 0; // i32 and f32 in the low 32 bits

  static Value i32(int32_t v) { return {ValueType::I32, uint32_t(v)}; }
  static Value i64(int64_t v) { return {ValueType::I64, uint64_t(v)}; }
  int32_t asI32() const { return int32_t(uint32_t(bits)); }
  int64_t asI64() const { return int64_t(bits); }
  bool operator==(const Value &) const = default;
};

// "42", "-7": the value as the CLI prints it.
NOMOS_API std::string toString(const Value &value);

// Parses text as a value of `type` ("42", "-1", "0x2a").
NOMOS_API Expected<Value> parseValue(ValueType type, std::string_view text);

} // namespace nomos
