#include <nomos/value.h>

#include <bit>
#include <charconv>
#include <cstdio>

namespace nomos {

namespace {

// The fields of an f32 or f64 bit pattern.
struct FloatLayout {
  unsigned mantissaBits;
  uint64_t signBit;
  uint64_t exponentMask;
  uint64_t mantissaMask() const { return (uint64_t(1) << mantissaBits) - 1; }
};

FloatLayout floatLayout(ValueType type) {
  if (type == ValueType::F32)
    return {23, uint64_t(1) << 31, uint64_t(0xff) << 23};
  return {52, uint64_t(1) << 63, uint64_t(0x7ff) << 52};
}

// Shortest decimal that reads back to the same bits; a NaN as the wasm text
// format writes it, payload included ("nan:0x400000", "-nan:0x1").
std::string floatToString(ValueType type, uint64_t bits) {
  FloatLayout layout = floatLayout(type);
  uint64_t payload = bits & layout.mantissaMask();
  char buffer[64];
  if ((bits & layout.exponentMask) == layout.exponentMask && payload != 0) {
    auto end = std::to_chars(buffer, buffer + sizeof buffer, payload, 16).ptr;
    return std::string(bits & layout.signBit ? "-" : "") + "nan:0x" +
           std::string(buffer, end);
  }
  auto end = type == ValueType::F32
                 ? std::to_chars(buffer, buffer + sizeof buffer,
                                 std::bit_cast<float>(uint32_t(bits)))
                       .ptr
                 : std::to_chars(buffer, buffer + sizeof buffer,
                                 std::bit_cast<double>(bits))
                       .ptr;
  return std::string(buffer, end);
}

// Decimal floats (correctly rounded), "inf", "-inf", "nan" (the canonical
// NaN) and "nan:0x<payload>", each with an optional '-'.
Expected<Value> parseFloat(ValueType type, std::string_view text) {
  FloatLayout layout = floatLayout(type);
  auto invalid = [&] {
    return makeError(ErrorKind::BadArguments,
                     "\"" + std::string(text) + "\" is not a valid " +
                         std::string(valueTypeName(type)));
  };
  bool negative = text.starts_with('-');
  std::string_view rest = negative ? text.substr(1) : text;
  if (rest.starts_with("nan")) {
    uint64_t payload = uint64_t(1) << (layout.mantissaBits - 1);
    if (rest != "nan") {
      if (!rest.starts_with("nan:0x"))
        return invalid();
      std::string_view hex = rest.substr(6);
      auto [end, ec] =
          std::from_chars(hex.data(), hex.data() + hex.size(), payload, 16);
      if (hex.empty() || ec != std::errc() || end != hex.data() + hex.size() ||
          payload == 0 || payload > layout.mantissaMask())
        return invalid();
    }
    return Value{type, (negative ? layout.signBit : 0) | layout.exponentMask |
                           payload};
  }
  const char *first = text.data(), *last = text.data() + text.size();
  std::from_chars_result parsed;
  uint64_t bits = 0;
  if (type == ValueType::F32) {
    float value = 0;
    parsed = std::from_chars(first, last, value);
    bits = std::bit_cast<uint32_t>(value);
  } else {
    double value = 0;
    parsed = std::from_chars(first, last, value);
    bits = std::bit_cast<uint64_t>(value);
  }
  if (text.empty() || parsed.ec != std::errc() || parsed.ptr != last)
    return invalid();
  return Value{type, bits};
}

} // namespace

std::string_view valueTypeName(ValueType type) {
  switch (type) {
  case ValueType::I32: return "i32";
  case ValueType::I64: return "i64";
  case ValueType::F32: return "f32";
  case ValueType::F64: return "f64";
  case ValueType::V128: return "v128";
  case ValueType::FuncRef: return "funcref";
  case ValueType::ExternRef: return "externref";
  }
  return "?";
}

// As the text format writes a v128 constant: i32x4 lanes, lowest first.
static std::string v128ToString(const Value &value) {
  uint32_t lanes[4] = {uint32_t(value.bits), uint32_t(value.bits >> 32),
                       uint32_t(value.hi), uint32_t(value.hi >> 32)};
  std::string text = "i32x4";
  char lane[12];
  for (uint32_t bits : lanes) {
    snprintf(lane, sizeof lane, " 0x%08x", bits);
    text += lane;
  }
  return text;
}

std::string toString(const Value &value) {
  switch (value.type) {
  case ValueType::I32: return std::to_string(value.asI32());
  case ValueType::I64: return std::to_string(value.asI64());
  case ValueType::F32:
  case ValueType::F64: return floatToString(value.type, value.bits);
  case ValueType::V128: return v128ToString(value);
  case ValueType::FuncRef:
    return value.isNullRef() ? "ref.null func" : "ref.func";
  case ValueType::ExternRef:
    return value.isNullRef() ? "ref.null extern"
                             : "ref.extern " + std::to_string(value.bits);
  }
  return "?";
}

// Accepts signed decimal, unsigned decimal up to the type's width, and 0x hex.
Expected<Value> parseValue(ValueType type, std::string_view text) {
  if (type == ValueType::F32 || type == ValueType::F64)
    return parseFloat(type, text);
  if (type != ValueType::I32 && type != ValueType::I64)
    return makeError(ErrorKind::BadArguments,
                     std::string(valueTypeName(type)) +
                         " arguments are not supported");
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
