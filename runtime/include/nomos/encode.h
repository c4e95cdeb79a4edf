// Host-side encoding compatible with Rust's bincode 1.x defaults (and with
// the guest SDK's nomos/guest.h): fixed-width little-endian integers, bool as
// one byte, byte strings as a u64 little-endian length and the bytes.
#pragma once

#include <nomos/bytes.h>
#include <nomos/error.h>

#include <concepts>
#include <cstring>
#include <type_traits>

namespace nomos {

template <class T>
concept BincodeInteger = std::integral<T>;

template <BincodeInteger T> Bytes encode(T value) {
  if constexpr (std::same_as<T, bool>) {
    return Bytes{static_cast<uint8_t>(value ? 1 : 0)};
  } else {
    Bytes out(sizeof(T));
    using U = std::make_unsigned_t<T>;
    U bits = static_cast<U>(value);
    for (size_t i = 0; i < sizeof(T); ++i)
      out[i] = static_cast<uint8_t>(bits >> (8 * i));
    return out;
  }
}

// Byte strings and text: u64 length prefix, then the bytes.
template <class T>
  requires std::same_as<T, Bytes> || std::same_as<T, std::string>
Bytes encode(const T &value) {
  Bytes out = encode<uint64_t>(value.size());
  out.insert(out.end(), value.begin(), value.end());
  return out;
}

template <BincodeInteger T> Expected<T> decode(ByteView bytes) {
  if (bytes.size() != sizeof(T))
    return makeError(ErrorKind::DecodeError,
                     "expected " + std::to_string(sizeof(T)) +
                         " bytes for a fixed-width integer, got " +
                         std::to_string(bytes.size()));
  if constexpr (std::same_as<T, bool>) {
    if (bytes.data()[0] > 1)
      return makeError(ErrorKind::DecodeError, "a bool must be 0 or 1");
    return bytes.data()[0] == 1;
  } else {
    using U = std::make_unsigned_t<T>;
    U bits = 0;
    for (size_t i = 0; i < sizeof(T); ++i)
      bits |= static_cast<U>(bytes.data()[i]) << (8 * i);
    return static_cast<T>(bits);
  }
}

template <class T>
  requires std::same_as<T, Bytes> || std::same_as<T, std::string>
Expected<T> decode(ByteView bytes) {
  if (bytes.size() < 8)
    return makeError(ErrorKind::DecodeError,
                     "a byte string needs an 8-byte length prefix, got " +
                         std::to_string(bytes.size()) + " bytes");
  uint64_t length = *decode<uint64_t>(ByteView(bytes.data(), 8));
  if (length != bytes.size() - 8)
    return makeError(ErrorKind::DecodeError,
                     "byte string length prefix says " + std::to_string(length) +
                         " bytes, but " + std::to_string(bytes.size() - 8) +
                         " follow");
  return T(bytes.begin() + 8, bytes.end());
}

} // namespace nomos
