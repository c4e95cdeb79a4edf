#include <nomos/value.h>

#include <charconv>

namespace nomos {

std::string_view valueTypeName(ValueType type) {
  switch (type) {
  case ValueType::I32: return "i32";
  case ValueType::I64: return "i64";
  case ValueType::F32: return "f32";
  case ValueType::F64: return "f64";
  }
  return "?";
}

std::string toString(const Value &value) {
  switch (value.type) {
  case ValueType::I32: return std::to_string(value.asI32());
  case ValueType::I64: return std::to_string(value.asI64());
  default: return "0x" + std::to_string(value.bits); // floats come later
  }
}

// Accepts signed decimal, unsigned decimal up to the type's width, and 0x hex.
Expected<Value> parseValue(ValueType type, std::string_view text) {
  if (type != ValueType::I32 && type != ValueType::I64)
    return makeError(ErrorKind::BadArguments,
                     "floating-point arguments are not supported yet");
  bool negative = !text.empty() && text[0] == '-';
  std::string_view digits = negative ? text.substr(1) : text;
  int base = 10;
  if (digits.starts_with("0x") || digits.starts_with("0X")) {
    base = 16;
    digits = digits.substr(2);
  }
  uint64_t magnitude = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(),
                                   magnitude, base);
  unsigned bits = type == ValueType::I32 ? 32 : 64;
  uint64_t limit = bits == 32 ? 0xffffffffull : ~0ull;
  uint64_t negativeLimit = uint64_t(1) << (bits - 1);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() ||
      magnitude > (negative ? negativeLimit : limit))
    return makeError(ErrorKind::BadArguments,
                     "\"" + std::string(text) + "\" is not a valid " +
                         std::string(valueTypeName(type)));
  uint64_t value = negative ? uint64_t(0) - magnitude : magnitude;
  if (type == ValueType::I32)
    return Value::i32(int32_t(uint32_t(value)));
  return Value::i64(int64_t(value));
}

} // namespace nomos
