// The Nomos guest SDK: C++ for wasm32, compiled freestanding
//   clang-19 --target=wasm32 -std=c++20 -nostdlib -ffreestanding
//            -fno-exceptions -fno-rtti -O2
// (no libc, no libc++; only clang's own <stdint.h>/<stddef.h>). Link every
// guest with sdk/src/guest_runtime.cpp, which defines memcpy/memmove/memset/
// memcmp for the calls clang may emit. nomos_add_guest() in
// sdk/cmake/NomosGuest.cmake does both.
//
// The imports themselves come from <nomos/abi.h> (module "nomos"); this header
// only wraps them. Nothing here allocates: buffers are fixed-capacity and
// live on the caller's stack.
//
// Encoding is Rust bincode 1.x with the default configuration, byte for byte:
//   integers   fixed-width little endian (u8..u64, i8..i64; two's complement)
//   bool       one byte, 0 or 1 (anything else fails to decode)
//   byte string  u64 little-endian length, then the bytes
// so that values written by the host's encode<T> and by guests agree.
//
// Freestanding guests must not rely on global constructors or destructors
// (no libc runs them); keep globals constant-initialized. This header also
// works in guests built with the standard library (nomos_add_guest(...
// STDLIB), sdk/README.md), where they run in every call.
#ifndef NOMOS_GUEST_H
#define NOMOS_GUEST_H

#if !defined(__wasm__)
#error "nomos/guest.h is for wasm32 guests (clang-19 --target=wasm32)"
#endif

#include <stddef.h>
#include <stdint.h>

#include <nomos/abi.h>

// Marks an entry point: the function is exported under `name`. Entry points
// take no arguments and return nothing (child_call and the host call them
// that way); they talk to the world through the store.
//   NOMOS_EXPORT(increment) void increment() { ... }
#define NOMOS_EXPORT(name) __attribute__((export_name(#name)))

namespace nomos {

namespace detail {
// Plain loops: -ffreestanding keeps clang from turning them into libc calls.
inline void copy(void* dst, const void* src, uint32_t n) {
  auto* d = static_cast<uint8_t*>(dst);
  auto* s = static_cast<const uint8_t*>(src);
  for (uint32_t i = 0; i < n; ++i) d[i] = s[i];
}
inline bool equal(const void* a, const void* b, uint32_t n) {
  auto* x = static_cast<const uint8_t*>(a);
  auto* y = static_cast<const uint8_t*>(b);
  for (uint32_t i = 0; i < n; ++i)
    if (x[i] != y[i]) return false;
  return true;
}
template <class T>
constexpr bool is_int = __is_integral(T) && !__is_same(T, bool) &&
                        (sizeof(T) == 1 || sizeof(T) == 2 || sizeof(T) == 4 ||
                         sizeof(T) == 8);
template <class T>
using unsigned_of = __make_unsigned(T);
} // namespace detail

// ---------------------------------------------------------------------------
// Bytes: a non-owning view of a byte range (keys, values, messages).

struct Bytes {
  const uint8_t* data = nullptr;
  uint32_t size = 0;

  constexpr Bytes() = default;
  Bytes(const void* p, uint32_t n)
      : data(static_cast<const uint8_t*>(p)), size(n) {}
  // From a string literal (or char array): the terminating NUL is left out.
  template <size_t N>
  Bytes(const char (&s)[N])
      : data(reinterpret_cast<const uint8_t*>(s)), size(N ? N - 1 : 0) {}

  bool empty() const { return size == 0; }
  uint8_t operator[](uint32_t i) const { return data[i]; }
  friend bool operator==(Bytes a, Bytes b) {
    return a.size == b.size && detail::equal(a.data, b.data, a.size);
  }
};

// A byte string that owns up to N bytes (decodes bincode byte strings into
// storage that outlives the read buffer).
template <uint32_t N>
struct FixedBytes {
  uint8_t data[N];
  uint32_t size = 0;

  static constexpr uint32_t capacity = N;
  Bytes bytes() const { return Bytes(data, size); }
  bool assign(Bytes b) {
    if (b.size > N) return false;
    detail::copy(data, b.data, b.size);
    size = b.size;
    return true;
  }
};

// ---------------------------------------------------------------------------
// Writer / Buffer<N>: where encode() puts bytes. A Writer is a view of
// caller memory; Buffer<N> is a Writer that carries N bytes of storage.
// Writing past the capacity sets ok() to false and drops the bytes.

class Writer {
public:
  Writer(void* out, uint32_t cap)
      : data_(static_cast<uint8_t*>(out)), cap_(cap) {}
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  bool put(const void* p, uint32_t n) {
    if (!ok_ || n > cap_ - size_) return ok_ = false;
    detail::copy(data_ + size_, p, n);
    size_ += n;
    return true;
  }
  bool put_byte(uint8_t b) { return put(&b, 1); }
  void clear() { size_ = 0, ok_ = true; }

  bool ok() const { return ok_; }
  uint32_t size() const { return size_; }
  uint32_t capacity() const { return cap_; }
  const uint8_t* data() const { return data_; }
  Bytes bytes() const { return Bytes(data_, size_); }

private:
  uint8_t* data_;
  uint32_t cap_;
  uint32_t size_ = 0;
  bool ok_ = true;
};

template <uint32_t N>
class Buffer : public Writer {
public:
  Buffer() : Writer(storage_, N) {}

private:
  uint8_t storage_[N];
};

// Reader: decode() consumes bytes from the front. A failed read sets ok()
// to false; it stays false.
class Reader {
public:
  explicit Reader(Bytes in) : in_(in) {}

  bool take(void* out, uint32_t n) {
    if (!ok_ || n > in_.size - pos_) return ok_ = false;
    detail::copy(out, in_.data + pos_, n);
    pos_ += n;
    return true;
  }
  // A view of the next n bytes, without copying.
  bool view(uint32_t n, Bytes& out) {
    if (!ok_ || n > in_.size - pos_) return ok_ = false;
    out = Bytes(in_.data + pos_, n);
    pos_ += n;
    return true;
  }

  bool ok() const { return ok_; }
  bool done() const { return ok_ && pos_ == in_.size; }
  uint32_t remaining() const { return in_.size - pos_; }

private:
  Bytes in_;
  uint32_t pos_ = 0;
  bool ok_ = true;
};

// ---------------------------------------------------------------------------
// bincode encode / decode.
//
//   encode(Writer&, const T&)  -> false if it did not fit
//   decode(Reader&, T&)        -> false if the input is short or malformed
//   decode(Bytes, T&)          -> the whole input must be exactly one T
//   encoded_size(const T&)     -> bytes encode() writes
//   max_encoded_size<T>        -> bound for read_value / get_value buffers
//
// T is any 1/2/4/8-byte integer type, bool, Bytes (a byte string; decoding
// gives a view into the input) or FixedBytes<N> (a byte string of <= N bytes,
// copied out).

template <class T>
  requires detail::is_int<T>
bool encode(Writer& w, T v) {
  using U = detail::unsigned_of<T>;
  U u = static_cast<U>(v);
  uint8_t b[sizeof(T)];
  for (uint32_t i = 0; i < sizeof(T); ++i) b[i] = uint8_t(u >> (8 * i));
  return w.put(b, sizeof(T));
}
template <class T>
  requires detail::is_int<T>
bool decode(Reader& r, T& v) {
  using U = detail::unsigned_of<T>;
  uint8_t b[sizeof(T)];
  if (!r.take(b, sizeof(T))) return false;
  U u = 0;
  for (uint32_t i = 0; i < sizeof(T); ++i) u |= U(U(b[i]) << (8 * i));
  v = static_cast<T>(u);
  return true;
}

inline bool encode(Writer& w, bool v) { return w.put_byte(v ? 1 : 0); }
inline bool decode(Reader& r, bool& v) {
  uint8_t b;
  if (!r.take(&b, 1)) return false;
  if (b > 1) return false; // bincode rejects other bool bytes
  v = b == 1;
  return true;
}

inline bool encode(Writer& w, Bytes v) {
  return encode(w, uint64_t(v.size)) && w.put(v.data, v.size);
}
inline bool decode(Reader& r, Bytes& v) {
  uint64_t n;
  if (!decode(r, n)) return false;
  if (n > r.remaining()) return false;
  return r.view(uint32_t(n), v);
}

template <uint32_t N>
bool encode(Writer& w, const FixedBytes<N>& v) {
  return encode(w, v.bytes());
}
template <uint32_t N>
bool decode(Reader& r, FixedBytes<N>& v) {
  Bytes b;
  return decode(r, b) && v.assign(b);
}

template <class T>
bool decode(Bytes in, T& v) {
  Reader r(in);
  return decode(r, v) && r.done();
}

template <class T>
  requires detail::is_int<T>
constexpr uint32_t encoded_size(T) {
  return sizeof(T);
}
constexpr uint32_t encoded_size(bool) { return 1; }
inline uint32_t encoded_size(Bytes v) { return 8 + v.size; }
template <uint32_t N>
uint32_t encoded_size(const FixedBytes<N>& v) {
  return 8 + v.size;
}

namespace detail {
template <class T>
struct MaxSize; // Bytes has none: decode a view with read() + decode(Bytes, T&)
template <class T>
  requires is_int<T>
struct MaxSize<T> {
  static constexpr uint32_t value = sizeof(T);
};
template <>
struct MaxSize<bool> {
  static constexpr uint32_t value = 1;
};
template <uint32_t N>
struct MaxSize<FixedBytes<N>> {
  static constexpr uint32_t value = 8 + N;
};
} // namespace detail

template <class T>
constexpr uint32_t max_encoded_size = detail::MaxSize<T>::value;

// ---------------------------------------------------------------------------
// This program's store.

// Copies min(length, cap) bytes of the value at key into out; returns the
// value's full length, or NOMOS_ERR_NOT_FOUND.
inline int32_t read(Bytes key, void* out, uint32_t cap) {
  return nomos_read(key.data, key.size, out, cap);
}
inline void write(Bytes key, Bytes value) {
  nomos_write(key.data, key.size, value.data, value.size);
}
// True if the key existed.
inline bool remove(Bytes key) { return nomos_remove(key.data, key.size) == 1; }
// Appends a line to the call's log.
inline void log(Bytes msg) { nomos_log(msg.data, msg.size); }
// Gas left to this call (after paying for the gas_left host call itself).
inline int64_t gas_left() { return nomos_gas_left(); }
// Replaces this program's code with the code stored at code_key when this
// call commits (the call itself finishes on the current code; a trap rolls
// it back). NOMOS_OK, or NOMOS_ERR_NOT_FOUND; invalid code traps.
inline int32_t upgrade(Bytes code_key) {
  return nomos_upgrade(code_key.data, code_key.size);
}
// Traps with NOMOS_TRAP_GUEST_ABORT carrying msg; the call's writes are lost.
[[noreturn]] inline void abort(Bytes msg) {
  nomos_abort(msg.data, msg.size);
  __builtin_unreachable();
}

// Reads and decodes the value at key. False if absent, of the wrong size or
// malformed (out is then unspecified).
template <class T>
  requires requires { detail::MaxSize<T>::value; }
bool read_value(Bytes key, T& out) {
  uint8_t buf[max_encoded_size<T>];
  int32_t n = read(key, buf, sizeof buf);
  if (n < 0 || uint32_t(n) > sizeof buf) return false;
  return decode(Bytes(buf, uint32_t(n)), out);
}
// Encodes v and writes it at key. Aborts if v does not fit the encoding
// buffer (only possible for FixedBytes, whose bound is known).
template <class T>
  requires requires { detail::MaxSize<T>::value; }
void write_value(Bytes key, const T& v) {
  Buffer<max_encoded_size<T>> buf;
  if (!encode(buf, v)) abort("nomos: write_value: encoding overflow");
  write(key, buf.bytes());
}
inline void write_value(Bytes key, Bytes v) {
  // A byte-string view has no static bound: write the prefix and the bytes
  // with one host call from a small stack buffer when it fits, else abort.
  Buffer<1024> buf;
  if (!encode(buf, v)) abort("nomos: write_value: byte string over 1016 bytes");
  write(key, buf.bytes());
}

// ---------------------------------------------------------------------------
// Child programs.
//
//   Child c = Child::create("code", "store", gas, storage);
//   if (!c.ok()) abort(...c.status()...);
//   c.set_value("count", uint64_t(1));
//   int32_t rc = c.call("run");   // 0, a nomos_trap code, or a nomos_status
//
// The handle is dropped when the Child goes out of scope.
class Child {
public:
  // Opens a child running the code stored at code_key (in this program's
  // store), with its own store under store_key. Check ok()/status().
  static Child create(Bytes code_key, Bytes store_key, int64_t gas,
                      int64_t storage) {
    return Child(nomos_child_new(code_key.data, code_key.size, store_key.data,
                                 store_key.size, gas, storage));
  }

  Child() = default;
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  Child(Child&& o) : handle_(o.handle_) { o.handle_ = NOMOS_ERR_BAD_HANDLE; }
  Child& operator=(Child&& o) {
    if (this != &o) {
      drop();
      handle_ = o.handle_;
      o.handle_ = NOMOS_ERR_BAD_HANDLE;
    }
    return *this;
  }
  ~Child() { drop(); }

  bool ok() const { return handle_ >= 0; }
  // NOMOS_OK, or the nomos_status that child_new returned.
  int32_t status() const { return handle_ >= 0 ? int32_t(NOMOS_OK) : handle_; }
  int32_t handle() const { return handle_; }

  // The child's store, as seen from this program. Status-returning calls
  // give NOMOS_OK or a negative nomos_status.
  int32_t set(Bytes key, Bytes value) {
    return nomos_child_set(handle_, key.data, key.size, value.data,
                           value.size);
  }
  // Like read(): the value's length, or a negative nomos_status.
  int32_t get(Bytes key, void* out, uint32_t cap) {
    return nomos_child_get(handle_, key.data, key.size, out, cap);
  }
  // 1 if the key existed, 0 if not, or a negative nomos_status.
  int32_t remove(Bytes key) {
    return nomos_child_remove(handle_, key.data, key.size);
  }
  template <class T>
    requires requires { detail::MaxSize<T>::value; }
  int32_t set_value(Bytes key, const T& v) {
    Buffer<max_encoded_size<T>> buf;
    if (!encode(buf, v)) abort("nomos: Child::set_value: encoding overflow");
    return set(key, buf.bytes());
  }
  int32_t set_value(Bytes key, Bytes v) {
    Buffer<1024> buf;
    if (!encode(buf, v))
      abort("nomos: Child::set_value: byte string over 1016 bytes");
    return set(key, buf.bytes());
  }
  // Reads and decodes the child's value at key; false if absent, of the
  // wrong size, malformed, or the handle is bad.
  template <class T>
    requires requires { detail::MaxSize<T>::value; }
  bool get_value(Bytes key, T& out) {
    uint8_t buf[max_encoded_size<T>];
    int32_t n = get(key, buf, sizeof buf);
    if (n < 0 || uint32_t(n) > sizeof buf) return false;
    return decode(Bytes(buf, uint32_t(n)), out);
  }
  // Calls an export that takes and returns nothing. Returns 0 when the child
  // returned normally (its writes are kept), a nomos_trap code when it
  // trapped (its writes from this call are dropped), or a negative
  // nomos_status.
  int32_t call(Bytes export_name) {
    return nomos_child_call(handle_, export_name.data, export_name.size);
  }
  void drop() {
    if (handle_ >= 0) nomos_child_drop(handle_);
    handle_ = NOMOS_ERR_BAD_HANDLE;
  }

private:
  explicit Child(int32_t h) : handle_(h) {}
  int32_t handle_ = NOMOS_ERR_BAD_HANDLE;
};

// ---------------------------------------------------------------------------
// Messages for log() and abort(), without libc.

// The name of a status or trap code: negative values are nomos_status,
// positive ones nomos_trap (as child_call returns them), 0 is "ok".
inline Bytes status_name(int32_t code) {
  switch (code) {
  case NOMOS_OK: return "ok";
  case NOMOS_ERR_NOT_FOUND: return "not_found";
  case NOMOS_ERR_BAD_HANDLE: return "bad_handle";
  case NOMOS_ERR_INVALID_CODE: return "invalid_code";
  case NOMOS_ERR_LIMIT: return "limit";
  case NOMOS_ERR_DEPTH: return "depth";
  case NOMOS_ERR_TOO_MANY: return "too_many";
  case NOMOS_TRAP_UNREACHABLE: return "unreachable";
  case NOMOS_TRAP_MEMORY_OUT_OF_BOUNDS: return "memory_out_of_bounds";
  case NOMOS_TRAP_TABLE_OUT_OF_BOUNDS: return "table_out_of_bounds";
  case NOMOS_TRAP_INDIRECT_CALL_NULL: return "indirect_call_null";
  case NOMOS_TRAP_INDIRECT_CALL_TYPE: return "indirect_call_type";
  case NOMOS_TRAP_INTEGER_DIVIDE_BY_ZERO: return "integer_divide_by_zero";
  case NOMOS_TRAP_INTEGER_OVERFLOW: return "integer_overflow";
  case NOMOS_TRAP_INVALID_CONVERSION: return "invalid_conversion";
  case NOMOS_TRAP_STACK_EXHAUSTED: return "stack_exhausted";
  case NOMOS_TRAP_OUT_OF_GAS: return "out_of_gas";
  case NOMOS_TRAP_MEMORY_LIMIT: return "memory_limit";
  case NOMOS_TRAP_STORAGE_LIMIT: return "storage_limit";
  case NOMOS_TRAP_HOST_ERROR: return "host_error";
  case NOMOS_TRAP_GUEST_ABORT: return "guest_abort";
  case NOMOS_TRAP_UNKNOWN_EXPORT: return "unknown_export";
  default: return "unknown";
  }
}

// A fixed-capacity text builder; output past N bytes is cut off.
//   Message<64> m; m.append("child failed: ").append_int(rc);
template <uint32_t N>
class Message {
public:
  Message& append(Bytes s) {
    uint32_t n = s.size < N - size_ ? s.size : N - size_;
    detail::copy(data_ + size_, s.data, n);
    size_ += n;
    return *this;
  }
  Message& append_uint(uint64_t v) {
    char tmp[20];
    uint32_t n = 0;
    do {
      tmp[n++] = char('0' + v % 10);
      v /= 10;
    } while (v);
    char out[20];
    for (uint32_t i = 0; i < n; ++i) out[i] = tmp[n - 1 - i];
    return append(Bytes(out, n));
  }
  Message& append_int(int64_t v) {
    if (v < 0) {
      append("-");
      return append_uint(~uint64_t(v) + 1);
    }
    return append_uint(uint64_t(v));
  }
  // "<code> (<name>)", e.g. "-1 (not_found)".
  Message& append_status(int32_t code) {
    return append_int(code).append(" (").append(status_name(code)).append(")");
  }
  Bytes bytes() const { return Bytes(data_, size_); }

private:
  uint8_t data_[N];
  uint32_t size_ = 0;
};

} // namespace nomos

#endif // NOMOS_GUEST_H
