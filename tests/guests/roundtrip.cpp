// Test guest for the SDK's bincode encoding and a few runtime behaviours.
//
// roundtrip: for each key K in u8 u16 u32 u64 i32 i64 bool bytes, reads the
//   host-written bincode value, decodes it (aborting if absent or
//   malformed), and writes the re-encoded value to "out_K". Also writes
//   "sum" = u8 + u16 + u32 + u64 as a wrapping u64, so the host can tell the
//   guest really decoded the values.
// oob_store: stores an i32 at 0xFFFFFFF0 (must trap: memory out of bounds).
// log_hello: logs "hello".
#include <nomos/guest.h>

using namespace nomos;

// Largest "bytes" value this guest accepts (bincode: 8-byte length + data).
static constexpr uint32_t kMaxBytes = 4096;

[[noreturn]] static void fail(Bytes key, Bytes what) {
  Message<128> m;
  m.append("roundtrip: key \"").append(key).append("\" ").append(what);
  abort(m.bytes());
}

// Reads key's raw value into raw[cap]; aborts if absent or too long.
static Bytes read_raw(Bytes key, uint8_t* raw, uint32_t cap) {
  int32_t n = read(key, raw, cap);
  if (n == NOMOS_ERR_NOT_FOUND) fail(key, "is absent");
  if (n < 0) fail(key, "cannot be read");
  if (uint32_t(n) > cap) fail(key, "is too long");
  return Bytes(raw, uint32_t(n));
}

template <class T>
static T roundtrip_one(Bytes key, Bytes out_key) {
  uint8_t raw[16];
  Bytes in = read_raw(key, raw, sizeof raw);
  T v;
  if (!decode(in, v)) fail(key, "is malformed");
  Buffer<16> out;
  if (!encode(out, v)) fail(key, "does not re-encode");
  write(out_key, out.bytes());
  return v;
}

NOMOS_EXPORT(roundtrip) void roundtrip() {
  uint8_t a = roundtrip_one<uint8_t>("u8", "out_u8");
  uint16_t b = roundtrip_one<uint16_t>("u16", "out_u16");
  uint32_t c = roundtrip_one<uint32_t>("u32", "out_u32");
  uint64_t d = roundtrip_one<uint64_t>("u64", "out_u64");
  roundtrip_one<int32_t>("i32", "out_i32");
  roundtrip_one<int64_t>("i64", "out_i64");
  roundtrip_one<bool>("bool", "out_bool");

  // Byte string: decode a view into the raw buffer, re-encode it.
  uint8_t raw[8 + kMaxBytes];
  Buffer<8 + kMaxBytes> out;
  Bytes in = read_raw("bytes", raw, sizeof raw);
  Bytes s;
  if (!decode(in, s)) fail("bytes", "is malformed");
  if (!encode(out, s)) fail("bytes", "does not re-encode");
  write("out_bytes", out.bytes());

  uint64_t sum = uint64_t(a) + uint64_t(b) + uint64_t(c) + d; // wraps
  write_value("sum", sum);
}

NOMOS_EXPORT(oob_store) void oob_store() {
  *reinterpret_cast<volatile int32_t*>(uintptr_t(0xFFFFFFF0u)) = 42;
}

NOMOS_EXPORT(log_hello) void log_hello() { log("hello"); }
