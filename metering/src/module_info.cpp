// Decoder and validator for WebAssembly 2.0 binaries (see module_info.h).
//
// Layout: a bounds-checked Reader; the opcode tables; the function body
// validator (the operand-stack/control-stack algorithm of the spec's
// appendix, with an explicit control stack, so no recursion); the module
// decoder for the sections. Every access is checked against the end of its
// window, and every vector count is checked against the bytes left before
// anything is reserved, so the memory used is proportional to the input.
#include <nomos/metering/module_info.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <string_view>
#include <unordered_set>
#include <utility>

namespace nomos::wasm {

const char *valTypeName(ValType type) {
  switch (type) {
  case ValType::I32: return "i32";
  case ValType::I64: return "i64";
  case ValType::F32: return "f32";
  case ValType::F64: return "f64";
  case ValType::V128: return "v128";
  case ValType::FuncRef: return "funcref";
  case ValType::ExternRef: return "externref";
  }
  return "unknown";
}

const Export *ModuleInfo::findExport(std::string_view name) const {
  for (const Export &e : exports)
    if (e.name == name)
      return &e;
  return nullptr;
}

namespace {

#define NOMOS_CAT2(a, b) a##b
#define NOMOS_CAT(a, b) NOMOS_CAT2(a, b)
// Evaluates an Expected; returns its error, or assigns its value to `lhs`.
#define TRY_ASSIGN(lhs, expr)                                                  \
  auto NOMOS_CAT(tryTmp_, __LINE__) = (expr);                                  \
  if (!NOMOS_CAT(tryTmp_, __LINE__))                                           \
    return tl::unexpected(std::move(NOMOS_CAT(tryTmp_, __LINE__).error()));    \
  lhs = std::move(*NOMOS_CAT(tryTmp_, __LINE__))
// Evaluates an Expected and returns its error, if any.
#define TRY(expr)                                                              \
  do {                                                                         \
    auto tryTmp_ = (expr);                                                     \
    if (!tryTmp_)                                                              \
      return tl::unexpected(std::move(tryTmp_.error()));                       \
  } while (0)

constexpr uint64_t kMaxPages = 65536;
// Nomos's own bound on locals (parameters included) per function: their
// native frame (16 bytes a local at most) stays well under the 1 MiB the
// runtime keeps below guest frames (docs/sandbox.md).
constexpr uint64_t kMaxLocals = 50000;
// Nomos's own bound on nested blocks, loops and ifs: Binaryen 108 and the
// compiler recurse over them (Binaryen's reader crashes near 14,000 nested
// ifs on an 8 MiB stack), so deeper code is refused, never a crash.
constexpr size_t kMaxNesting = 1024;

std::string hexOffset(size_t offset) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%zx", offset);
  return buf;
}

std::string hexByte(uint8_t b) {
  char buf[4];
  std::snprintf(buf, sizeof buf, "%02x", b);
  return buf;
}

bool isValType(uint8_t b) {
  switch (b) {
  case 0x7f: case 0x7e: case 0x7d: case 0x7c: case 0x7b: case 0x70: case 0x6f:
    return true;
  default:
    return false;
  }
}

bool isRefType(ValType t) {
  return t == ValType::FuncRef || t == ValType::ExternRef;
}

// A bounds-checked cursor over a window of the module. Offsets in errors are
// absolute (from the start of the binary); `context` names the section or
// function being read.
class Reader {
public:
  Reader(std::span<const uint8_t> data, size_t base, std::string context)
      : data_(data), base_(base), context_(std::move(context)) {}

  size_t offset() const { return base_ + pos_; }
  size_t remaining() const { return data_.size() - pos_; }
  bool atEnd() const { return pos_ == data_.size(); }
  void setContext(std::string context) { context_ = std::move(context); }
  // Moves back to an absolute offset already read past.
  void rewindTo(size_t offset) {
    if (offset >= base_ && offset - base_ <= pos_)
      pos_ = offset - base_;
  }

  tl::unexpected<Error> error(ErrorKind kind, size_t offset,
                              std::string_view msg) const;
  tl::unexpected<Error> malformed(std::string_view msg) const {
    return error(ErrorKind::MalformedModule, offset(), msg);
  }

  Expected<uint8_t> readByte();
  Expected<uint8_t> peekByte() const;
  Expected<uint32_t> readU32();
  Expected<int32_t> readS32();
  Expected<int64_t> readS33();
  Expected<int64_t> readS64();
  Expected<uint64_t> readFixed(unsigned n); // little-endian, n <= 8
  Expected<std::span<const uint8_t>> readBytes(size_t n);
  Expected<Reader> readSub(size_t n);
  // A vector length, checked against the bytes left (each item takes at
  // least minItemBytes) so callers may reserve() it.
  Expected<uint32_t> readCount(size_t minItemBytes);
  Expected<std::string> readName();
  Expected<ValType> readValType();
  Expected<ValType> readRefType();
  Expected<void> readZeroByte();

private:
  Expected<uint64_t> readLeb(unsigned bits, bool isSigned);

  std::span<const uint8_t> data_;
  size_t pos_ = 0;
  size_t base_ = 0;
  std::string context_;
};



tl::unexpected<Error> Reader::error(ErrorKind kind, size_t offset,
                                    std::string_view msg) const {
  std::string text = context_.empty()
                         ? "offset " + hexOffset(offset) + ": "
                         : context_ + " (offset " + hexOffset(offset) + "): ";
  text += msg;
  return makeError(kind, std::move(text));
}

Expected<uint8_t> Reader::readByte() {
  if (pos_ >= data_.size())
    return malformed("unexpected end");
  return data_[pos_++];
}

// LEB128 of at most ceil(bits / 7) bytes whose unused high bits in the last
// byte are zero (unsigned) or copies of the sign bit (signed). The result is
// sign-extended to 64 bits for signed reads.
Expected<uint64_t> Reader::readLeb(unsigned bits, bool isSigned) {
  const size_t start = offset();
  const unsigned maxBytes = (bits + 6) / 7;
  uint64_t result = 0;
  unsigned shift = 0;
  for (unsigned i = 0;; ++i) {
    if (pos_ >= data_.size())
      return error(ErrorKind::MalformedModule, start, "unexpected end");
    const uint8_t byte = data_[pos_++];
    const uint64_t payload = byte & 0x7f;
    const bool last = (byte & 0x80) == 0;
    if (i == maxBytes - 1) {
      if (!last)
        return error(ErrorKind::MalformedModule, start,
                     "integer representation too long");
      const unsigned used = bits - shift; // significant bits here, 1..7
      if (!isSigned && (payload >> used) != 0)
        return error(ErrorKind::MalformedModule, start, "integer too large");
      if (isSigned) {
        const uint64_t mask = (0x7fu >> (used - 1)) << (used - 1);
        const uint64_t top = payload & mask;
        if (top != 0 && top != mask)
          return error(ErrorKind::MalformedModule, start, "integer too large");
      }
    }
    result |= payload << shift;
    shift += 7;
    if (last) {
      if (isSigned && shift < 64 && (byte & 0x40))
        result |= ~uint64_t(0) << shift;
      return result;
    }
  }
}

Expected<uint32_t> Reader::readU32() {
  auto v = readLeb(32, false);
  if (!v)
    return tl::unexpected(std::move(v.error()));
  return static_cast<uint32_t>(*v);
}

Expected<int32_t> Reader::readS32() {
  auto v = readLeb(32, true);
  if (!v)
    return tl::unexpected(std::move(v.error()));
  return static_cast<int32_t>(static_cast<uint32_t>(*v));
}

Expected<int64_t> Reader::readS33() {
  auto v = readLeb(33, true);
  if (!v)
    return tl::unexpected(std::move(v.error()));
  return static_cast<int64_t>(*v);
}

Expected<int64_t> Reader::readS64() {
  auto v = readLeb(64, true);
  if (!v)
    return tl::unexpected(std::move(v.error()));
  return static_cast<int64_t>(*v);
}

Expected<uint64_t> Reader::readFixed(unsigned n) {
  if (remaining() < n)
    return malformed("unexpected end");
  uint64_t v = 0;
  for (unsigned i = 0; i < n; ++i)
    v |= uint64_t(data_[pos_ + i]) << (8 * i);
  pos_ += n;
  return v;
}

Expected<std::span<const uint8_t>> Reader::readBytes(size_t n) {
  if (remaining() < n)
    return malformed("unexpected end");
  auto out = data_.subspan(pos_, n);
  pos_ += n;
  return out;
}

Expected<Reader> Reader::readSub(size_t n) {
  const size_t start = offset();
  auto bytes = readBytes(n);
  if (!bytes)
    return tl::unexpected(std::move(bytes.error()));
  return Reader(*bytes, start, context_);
}

Expected<uint32_t> Reader::readCount(size_t minItemBytes) {
  const size_t start = offset();
  auto n = readU32();
  if (!n)
    return n;
  if (minItemBytes != 0 && *n > remaining() / minItemBytes)
    return error(ErrorKind::MalformedModule, start,
                 "length out of bounds: " + std::to_string(*n) +
                     " items do not fit in the remaining " +
                     std::to_string(remaining()) + " bytes");
  return n;
}

bool isValidUtf8(std::span<const uint8_t> s) {
  size_t i = 0;
  while (i < s.size()) {
    const uint8_t c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t n;
    uint32_t cp, min;
    if ((c & 0xe0) == 0xc0) {
      n = 1, cp = c & 0x1f, min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
      n = 2, cp = c & 0x0f, min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
      n = 3, cp = c & 0x07, min = 0x10000;
    } else {
      return false;
    }
    if (s.size() - i - 1 < n)
      return false;
    for (size_t k = 1; k <= n; ++k) {
      const uint8_t cc = s[i + k];
      if ((cc & 0xc0) != 0x80)
        return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    i += n + 1;
  }
  return true;
}

Expected<std::string> Reader::readName() {
  const size_t start = offset();
  auto len = readU32();
  if (!len)
    return tl::unexpected(std::move(len.error()));
  if (*len > remaining())
    return error(ErrorKind::MalformedModule, start,
                 "length out of bounds: name of " + std::to_string(*len) +
                     " bytes, " + std::to_string(remaining()) + " left");
  auto bytes = readBytes(*len);
  if (!bytes)
    return tl::unexpected(std::move(bytes.error()));
  if (!isValidUtf8(*bytes))
    return error(ErrorKind::MalformedModule, start,
                 "malformed UTF-8 encoding");
  return std::string(bytes->begin(), bytes->end());
}


Expected<ValType> Reader::readValType() {
  const size_t start = offset();
  auto b = readByte();
  if (!b)
    return tl::unexpected(std::move(b.error()));
  if (!isValType(*b))
    return error(ErrorKind::MalformedModule, start,
                 "malformed value type 0x" + hexByte(*b));
  return static_cast<ValType>(*b);
}

Expected<ValType> Reader::readRefType() {
  const size_t start = offset();
  auto b = readByte();
  if (!b)
    return tl::unexpected(std::move(b.error()));
  if (*b != 0x70 && *b != 0x6f)
    return error(ErrorKind::MalformedModule, start,
                 "malformed reference type 0x" + hexByte(*b));
  return static_cast<ValType>(*b);
}



Expected<uint8_t> Reader::peekByte() const {
  if (pos_ >= data_.size())
    return malformed("unexpected end");
  return data_[pos_];
}

// The reserved memory index byte of memory.size/grow/init/copy/fill, which
// WebAssembly 2.0 reads as a plain byte (a long LEB128 zero is malformed).
Expected<void> Reader::readZeroByte() {
  const size_t at = offset();
  auto b = readByte();
  if (!b)
    return tl::unexpected(std::move(b.error()));
  if (*b != 0)
    return error(ErrorKind::MalformedModule, at,
                 "zero byte expected (memory index; multi-memory is not "
                 "WebAssembly 2.0)");
  return {};
}
// ---------------------------------------------------------------------------
// Opcode tables
// ---------------------------------------------------------------------------

enum class Imm : uint8_t { None, MemArg, Lane, MemArgLane, V128Const, Shuffle };

// An instruction. Those with a `sig` ("params:results", one letter per value:
// i=i32 l=i64 f=f32 d=f64 v=v128) are validated from the table alone, after
// their immediates; the rest have code of their own.
struct OpInfo {
  const char *name = nullptr;
  const char *sig = nullptr;
  Imm imm = Imm::None;
  uint8_t align = 0; // log2 of the natural alignment of a memory access
  uint8_t lanes = 0; // number of lanes, for lane immediates
};

struct OpDef {
  uint16_t code;
  OpInfo info;
};

constexpr OpDef kSingleByteOps[] = {
    {0x00, {"unreachable"}}, {0x01, {"nop"}}, {0x02, {"block"}},
    {0x03, {"loop"}}, {0x04, {"if"}}, {0x05, {"else"}}, {0x0b, {"end"}},
    {0x0c, {"br"}}, {0x0d, {"br_if"}}, {0x0e, {"br_table"}},
    {0x0f, {"return"}}, {0x10, {"call"}}, {0x11, {"call_indirect"}},
    {0x1a, {"drop"}}, {0x1b, {"select"}}, {0x1c, {"select"}},
    {0x20, {"local.get"}}, {0x21, {"local.set"}}, {0x22, {"local.tee"}},
    {0x23, {"global.get"}}, {0x24, {"global.set"}}, {0x25, {"table.get"}},
    {0x26, {"table.set"}},
    {0x28, {"i32.load", "i:i", Imm::MemArg, 2}},
    {0x29, {"i64.load", "i:l", Imm::MemArg, 3}},
    {0x2a, {"f32.load", "i:f", Imm::MemArg, 2}},
    {0x2b, {"f64.load", "i:d", Imm::MemArg, 3}},
    {0x2c, {"i32.load8_s", "i:i", Imm::MemArg, 0}},
    {0x2d, {"i32.load8_u", "i:i", Imm::MemArg, 0}},
    {0x2e, {"i32.load16_s", "i:i", Imm::MemArg, 1}},
    {0x2f, {"i32.load16_u", "i:i", Imm::MemArg, 1}},
    {0x30, {"i64.load8_s", "i:l", Imm::MemArg, 0}},
    {0x31, {"i64.load8_u", "i:l", Imm::MemArg, 0}},
    {0x32, {"i64.load16_s", "i:l", Imm::MemArg, 1}},
    {0x33, {"i64.load16_u", "i:l", Imm::MemArg, 1}},
    {0x34, {"i64.load32_s", "i:l", Imm::MemArg, 2}},
    {0x35, {"i64.load32_u", "i:l", Imm::MemArg, 2}},
    {0x36, {"i32.store", "ii:", Imm::MemArg, 2}},
    {0x37, {"i64.store", "il:", Imm::MemArg, 3}},
    {0x38, {"f32.store", "if:", Imm::MemArg, 2}},
    {0x39, {"f64.store", "id:", Imm::MemArg, 3}},
    {0x3a, {"i32.store8", "ii:", Imm::MemArg, 0}},
    {0x3b, {"i32.store16", "ii:", Imm::MemArg, 1}},
    {0x3c, {"i64.store8", "il:", Imm::MemArg, 0}},
    {0x3d, {"i64.store16", "il:", Imm::MemArg, 1}},
    {0x3e, {"i64.store32", "il:", Imm::MemArg, 2}},
    {0x3f, {"memory.size"}}, {0x40, {"memory.grow"}},
    {0x41, {"i32.const"}}, {0x42, {"i64.const"}}, {0x43, {"f32.const"}},
    {0x44, {"f64.const"}},
    {0x45, {"i32.eqz", "i:i"}}, {0x46, {"i32.eq", "ii:i"}},
    {0x47, {"i32.ne", "ii:i"}}, {0x48, {"i32.lt_s", "ii:i"}},
    {0x49, {"i32.lt_u", "ii:i"}}, {0x4a, {"i32.gt_s", "ii:i"}},
    {0x4b, {"i32.gt_u", "ii:i"}}, {0x4c, {"i32.le_s", "ii:i"}},
    {0x4d, {"i32.le_u", "ii:i"}}, {0x4e, {"i32.ge_s", "ii:i"}},
    {0x4f, {"i32.ge_u", "ii:i"}},
    {0x50, {"i64.eqz", "l:i"}}, {0x51, {"i64.eq", "ll:i"}},
    {0x52, {"i64.ne", "ll:i"}}, {0x53, {"i64.lt_s", "ll:i"}},
    {0x54, {"i64.lt_u", "ll:i"}}, {0x55, {"i64.gt_s", "ll:i"}},
    {0x56, {"i64.gt_u", "ll:i"}}, {0x57, {"i64.le_s", "ll:i"}},
    {0x58, {"i64.le_u", "ll:i"}}, {0x59, {"i64.ge_s", "ll:i"}},
    {0x5a, {"i64.ge_u", "ll:i"}},
    {0x5b, {"f32.eq", "ff:i"}}, {0x5c, {"f32.ne", "ff:i"}},
    {0x5d, {"f32.lt", "ff:i"}}, {0x5e, {"f32.gt", "ff:i"}},
    {0x5f, {"f32.le", "ff:i"}}, {0x60, {"f32.ge", "ff:i"}},
    {0x61, {"f64.eq", "dd:i"}}, {0x62, {"f64.ne", "dd:i"}},
    {0x63, {"f64.lt", "dd:i"}}, {0x64, {"f64.gt", "dd:i"}},
    {0x65, {"f64.le", "dd:i"}}, {0x66, {"f64.ge", "dd:i"}},
    {0x67, {"i32.clz", "i:i"}}, {0x68, {"i32.ctz", "i:i"}},
    {0x69, {"i32.popcnt", "i:i"}}, {0x6a, {"i32.add", "ii:i"}},
    {0x6b, {"i32.sub", "ii:i"}}, {0x6c, {"i32.mul", "ii:i"}},
    {0x6d, {"i32.div_s", "ii:i"}}, {0x6e, {"i32.div_u", "ii:i"}},
    {0x6f, {"i32.rem_s", "ii:i"}}, {0x70, {"i32.rem_u", "ii:i"}},
    {0x71, {"i32.and", "ii:i"}}, {0x72, {"i32.or", "ii:i"}},
    {0x73, {"i32.xor", "ii:i"}}, {0x74, {"i32.shl", "ii:i"}},
    {0x75, {"i32.shr_s", "ii:i"}}, {0x76, {"i32.shr_u", "ii:i"}},
    {0x77, {"i32.rotl", "ii:i"}}, {0x78, {"i32.rotr", "ii:i"}},
    {0x79, {"i64.clz", "l:l"}}, {0x7a, {"i64.ctz", "l:l"}},
    {0x7b, {"i64.popcnt", "l:l"}}, {0x7c, {"i64.add", "ll:l"}},
    {0x7d, {"i64.sub", "ll:l"}}, {0x7e, {"i64.mul", "ll:l"}},
    {0x7f, {"i64.div_s", "ll:l"}}, {0x80, {"i64.div_u", "ll:l"}},
    {0x81, {"i64.rem_s", "ll:l"}}, {0x82, {"i64.rem_u", "ll:l"}},
    {0x83, {"i64.and", "ll:l"}}, {0x84, {"i64.or", "ll:l"}},
    {0x85, {"i64.xor", "ll:l"}}, {0x86, {"i64.shl", "ll:l"}},
    {0x87, {"i64.shr_s", "ll:l"}}, {0x88, {"i64.shr_u", "ll:l"}},
    {0x89, {"i64.rotl", "ll:l"}}, {0x8a, {"i64.rotr", "ll:l"}},
    {0x8b, {"f32.abs", "f:f"}}, {0x8c, {"f32.neg", "f:f"}},
    {0x8d, {"f32.ceil", "f:f"}}, {0x8e, {"f32.floor", "f:f"}},
    {0x8f, {"f32.trunc", "f:f"}}, {0x90, {"f32.nearest", "f:f"}},
    {0x91, {"f32.sqrt", "f:f"}}, {0x92, {"f32.add", "ff:f"}},
    {0x93, {"f32.sub", "ff:f"}}, {0x94, {"f32.mul", "ff:f"}},
    {0x95, {"f32.div", "ff:f"}}, {0x96, {"f32.min", "ff:f"}},
    {0x97, {"f32.max", "ff:f"}}, {0x98, {"f32.copysign", "ff:f"}},
    {0x99, {"f64.abs", "d:d"}}, {0x9a, {"f64.neg", "d:d"}},
    {0x9b, {"f64.ceil", "d:d"}}, {0x9c, {"f64.floor", "d:d"}},
    {0x9d, {"f64.trunc", "d:d"}}, {0x9e, {"f64.nearest", "d:d"}},
    {0x9f, {"f64.sqrt", "d:d"}}, {0xa0, {"f64.add", "dd:d"}},
    {0xa1, {"f64.sub", "dd:d"}}, {0xa2, {"f64.mul", "dd:d"}},
    {0xa3, {"f64.div", "dd:d"}}, {0xa4, {"f64.min", "dd:d"}},
    {0xa5, {"f64.max", "dd:d"}}, {0xa6, {"f64.copysign", "dd:d"}},
    {0xa7, {"i32.wrap_i64", "l:i"}}, {0xa8, {"i32.trunc_f32_s", "f:i"}},
    {0xa9, {"i32.trunc_f32_u", "f:i"}}, {0xaa, {"i32.trunc_f64_s", "d:i"}},
    {0xab, {"i32.trunc_f64_u", "d:i"}}, {0xac, {"i64.extend_i32_s", "i:l"}},
    {0xad, {"i64.extend_i32_u", "i:l"}}, {0xae, {"i64.trunc_f32_s", "f:l"}},
    {0xaf, {"i64.trunc_f32_u", "f:l"}}, {0xb0, {"i64.trunc_f64_s", "d:l"}},
    {0xb1, {"i64.trunc_f64_u", "d:l"}}, {0xb2, {"f32.convert_i32_s", "i:f"}},
    {0xb3, {"f32.convert_i32_u", "i:f"}}, {0xb4, {"f32.convert_i64_s", "l:f"}},
    {0xb5, {"f32.convert_i64_u", "l:f"}}, {0xb6, {"f32.demote_f64", "d:f"}},
    {0xb7, {"f64.convert_i32_s", "i:d"}}, {0xb8, {"f64.convert_i32_u", "i:d"}},
    {0xb9, {"f64.convert_i64_s", "l:d"}}, {0xba, {"f64.convert_i64_u", "l:d"}},
    {0xbb, {"f64.promote_f32", "f:d"}}, {0xbc, {"i32.reinterpret_f32", "f:i"}},
    {0xbd, {"i64.reinterpret_f64", "d:l"}},
    {0xbe, {"f32.reinterpret_i32", "i:f"}},
    {0xbf, {"f64.reinterpret_i64", "l:d"}},
    {0xc0, {"i32.extend8_s", "i:i"}}, {0xc1, {"i32.extend16_s", "i:i"}},
    {0xc2, {"i64.extend8_s", "l:l"}}, {0xc3, {"i64.extend16_s", "l:l"}},
    {0xc4, {"i64.extend32_s", "l:l"}},
    {0xd0, {"ref.null"}}, {0xd1, {"ref.is_null"}}, {0xd2, {"ref.func"}},
    {0xfc, {"0xfc prefix"}}, {0xfd, {"0xfd prefix"}},
};

// 0xfc 0..7; 8..17 (bulk memory, tables) have code of their own.
constexpr OpDef kFcOps[] = {
    {0, {"i32.trunc_sat_f32_s", "f:i"}}, {1, {"i32.trunc_sat_f32_u", "f:i"}},
    {2, {"i32.trunc_sat_f64_s", "d:i"}}, {3, {"i32.trunc_sat_f64_u", "d:i"}},
    {4, {"i64.trunc_sat_f32_s", "f:l"}}, {5, {"i64.trunc_sat_f32_u", "f:l"}},
    {6, {"i64.trunc_sat_f64_s", "d:l"}}, {7, {"i64.trunc_sat_f64_u", "d:l"}},
    {8, {"memory.init"}}, {9, {"data.drop"}}, {10, {"memory.copy"}},
    {11, {"memory.fill"}}, {12, {"table.init"}}, {13, {"elem.drop"}},
    {14, {"table.copy"}}, {15, {"table.grow"}}, {16, {"table.size"}},
    {17, {"table.fill"}},
};

constexpr OpDef kSimdOps[] = {
    {0x00, {"v128.load", "i:v", Imm::MemArg, 4}},
    {0x01, {"v128.load8x8_s", "i:v", Imm::MemArg, 3}},
    {0x02, {"v128.load8x8_u", "i:v", Imm::MemArg, 3}},
    {0x03, {"v128.load16x4_s", "i:v", Imm::MemArg, 3}},
    {0x04, {"v128.load16x4_u", "i:v", Imm::MemArg, 3}},
    {0x05, {"v128.load32x2_s", "i:v", Imm::MemArg, 3}},
    {0x06, {"v128.load32x2_u", "i:v", Imm::MemArg, 3}},
    {0x07, {"v128.load8_splat", "i:v", Imm::MemArg, 0}},
    {0x08, {"v128.load16_splat", "i:v", Imm::MemArg, 1}},
    {0x09, {"v128.load32_splat", "i:v", Imm::MemArg, 2}},
    {0x0a, {"v128.load64_splat", "i:v", Imm::MemArg, 3}},
    {0x0b, {"v128.store", "iv:", Imm::MemArg, 4}},
    {0x0c, {"v128.const", ":v", Imm::V128Const}},
    {0x0d, {"i8x16.shuffle", "vv:v", Imm::Shuffle}},
    {0x0e, {"i8x16.swizzle", "vv:v"}},
    {0x0f, {"i8x16.splat", "i:v"}}, {0x10, {"i16x8.splat", "i:v"}},
    {0x11, {"i32x4.splat", "i:v"}}, {0x12, {"i64x2.splat", "l:v"}},
    {0x13, {"f32x4.splat", "f:v"}}, {0x14, {"f64x2.splat", "d:v"}},
    {0x15, {"i8x16.extract_lane_s", "v:i", Imm::Lane, 0, 16}},
    {0x16, {"i8x16.extract_lane_u", "v:i", Imm::Lane, 0, 16}},
    {0x17, {"i8x16.replace_lane", "vi:v", Imm::Lane, 0, 16}},
    {0x18, {"i16x8.extract_lane_s", "v:i", Imm::Lane, 0, 8}},
    {0x19, {"i16x8.extract_lane_u", "v:i", Imm::Lane, 0, 8}},
    {0x1a, {"i16x8.replace_lane", "vi:v", Imm::Lane, 0, 8}},
    {0x1b, {"i32x4.extract_lane", "v:i", Imm::Lane, 0, 4}},
    {0x1c, {"i32x4.replace_lane", "vi:v", Imm::Lane, 0, 4}},
    {0x1d, {"i64x2.extract_lane", "v:l", Imm::Lane, 0, 2}},
    {0x1e, {"i64x2.replace_lane", "vl:v", Imm::Lane, 0, 2}},
    {0x1f, {"f32x4.extract_lane", "v:f", Imm::Lane, 0, 4}},
    {0x20, {"f32x4.replace_lane", "vf:v", Imm::Lane, 0, 4}},
    {0x21, {"f64x2.extract_lane", "v:d", Imm::Lane, 0, 2}},
    {0x22, {"f64x2.replace_lane", "vd:v", Imm::Lane, 0, 2}},
    {0x23, {"i8x16.eq", "vv:v"}}, {0x24, {"i8x16.ne", "vv:v"}},
    {0x25, {"i8x16.lt_s", "vv:v"}}, {0x26, {"i8x16.lt_u", "vv:v"}},
    {0x27, {"i8x16.gt_s", "vv:v"}}, {0x28, {"i8x16.gt_u", "vv:v"}},
    {0x29, {"i8x16.le_s", "vv:v"}}, {0x2a, {"i8x16.le_u", "vv:v"}},
    {0x2b, {"i8x16.ge_s", "vv:v"}}, {0x2c, {"i8x16.ge_u", "vv:v"}},
    {0x2d, {"i16x8.eq", "vv:v"}}, {0x2e, {"i16x8.ne", "vv:v"}},
    {0x2f, {"i16x8.lt_s", "vv:v"}}, {0x30, {"i16x8.lt_u", "vv:v"}},
    {0x31, {"i16x8.gt_s", "vv:v"}}, {0x32, {"i16x8.gt_u", "vv:v"}},
    {0x33, {"i16x8.le_s", "vv:v"}}, {0x34, {"i16x8.le_u", "vv:v"}},
    {0x35, {"i16x8.ge_s", "vv:v"}}, {0x36, {"i16x8.ge_u", "vv:v"}},
    {0x37, {"i32x4.eq", "vv:v"}}, {0x38, {"i32x4.ne", "vv:v"}},
    {0x39, {"i32x4.lt_s", "vv:v"}}, {0x3a, {"i32x4.lt_u", "vv:v"}},
    {0x3b, {"i32x4.gt_s", "vv:v"}}, {0x3c, {"i32x4.gt_u", "vv:v"}},
    {0x3d, {"i32x4.le_s", "vv:v"}}, {0x3e, {"i32x4.le_u", "vv:v"}},
    {0x3f, {"i32x4.ge_s", "vv:v"}}, {0x40, {"i32x4.ge_u", "vv:v"}},
    {0x41, {"f32x4.eq", "vv:v"}}, {0x42, {"f32x4.ne", "vv:v"}},
    {0x43, {"f32x4.lt", "vv:v"}}, {0x44, {"f32x4.gt", "vv:v"}},
    {0x45, {"f32x4.le", "vv:v"}}, {0x46, {"f32x4.ge", "vv:v"}},
    {0x47, {"f64x2.eq", "vv:v"}}, {0x48, {"f64x2.ne", "vv:v"}},
    {0x49, {"f64x2.lt", "vv:v"}}, {0x4a, {"f64x2.gt", "vv:v"}},
    {0x4b, {"f64x2.le", "vv:v"}}, {0x4c, {"f64x2.ge", "vv:v"}},
    {0x4d, {"v128.not", "v:v"}}, {0x4e, {"v128.and", "vv:v"}},
    {0x4f, {"v128.andnot", "vv:v"}}, {0x50, {"v128.or", "vv:v"}},
    {0x51, {"v128.xor", "vv:v"}}, {0x52, {"v128.bitselect", "vvv:v"}},
    {0x53, {"v128.any_true", "v:i"}},
    {0x54, {"v128.load8_lane", "iv:v", Imm::MemArgLane, 0, 16}},
    {0x55, {"v128.load16_lane", "iv:v", Imm::MemArgLane, 1, 8}},
    {0x56, {"v128.load32_lane", "iv:v", Imm::MemArgLane, 2, 4}},
    {0x57, {"v128.load64_lane", "iv:v", Imm::MemArgLane, 3, 2}},
    {0x58, {"v128.store8_lane", "iv:", Imm::MemArgLane, 0, 16}},
    {0x59, {"v128.store16_lane", "iv:", Imm::MemArgLane, 1, 8}},
    {0x5a, {"v128.store32_lane", "iv:", Imm::MemArgLane, 2, 4}},
    {0x5b, {"v128.store64_lane", "iv:", Imm::MemArgLane, 3, 2}},
    {0x5c, {"v128.load32_zero", "i:v", Imm::MemArg, 2}},
    {0x5d, {"v128.load64_zero", "i:v", Imm::MemArg, 3}},
    {0x5e, {"f32x4.demote_f64x2_zero", "v:v"}},
    {0x5f, {"f64x2.promote_low_f32x4", "v:v"}},
    {0x60, {"i8x16.abs", "v:v"}}, {0x61, {"i8x16.neg", "v:v"}},
    {0x62, {"i8x16.popcnt", "v:v"}}, {0x63, {"i8x16.all_true", "v:i"}},
    {0x64, {"i8x16.bitmask", "v:i"}},
    {0x65, {"i8x16.narrow_i16x8_s", "vv:v"}},
    {0x66, {"i8x16.narrow_i16x8_u", "vv:v"}},
    {0x67, {"f32x4.ceil", "v:v"}}, {0x68, {"f32x4.floor", "v:v"}},
    {0x69, {"f32x4.trunc", "v:v"}}, {0x6a, {"f32x4.nearest", "v:v"}},
    {0x6b, {"i8x16.shl", "vi:v"}}, {0x6c, {"i8x16.shr_s", "vi:v"}},
    {0x6d, {"i8x16.shr_u", "vi:v"}}, {0x6e, {"i8x16.add", "vv:v"}},
    {0x6f, {"i8x16.add_sat_s", "vv:v"}}, {0x70, {"i8x16.add_sat_u", "vv:v"}},
    {0x71, {"i8x16.sub", "vv:v"}}, {0x72, {"i8x16.sub_sat_s", "vv:v"}},
    {0x73, {"i8x16.sub_sat_u", "vv:v"}}, {0x74, {"f64x2.ceil", "v:v"}},
    {0x75, {"f64x2.floor", "v:v"}}, {0x76, {"i8x16.min_s", "vv:v"}},
    {0x77, {"i8x16.min_u", "vv:v"}}, {0x78, {"i8x16.max_s", "vv:v"}},
    {0x79, {"i8x16.max_u", "vv:v"}}, {0x7a, {"f64x2.trunc", "v:v"}},
    {0x7b, {"i8x16.avgr_u", "vv:v"}},
    {0x7c, {"i16x8.extadd_pairwise_i8x16_s", "v:v"}},
    {0x7d, {"i16x8.extadd_pairwise_i8x16_u", "v:v"}},
    {0x7e, {"i32x4.extadd_pairwise_i16x8_s", "v:v"}},
    {0x7f, {"i32x4.extadd_pairwise_i16x8_u", "v:v"}},
    {0x80, {"i16x8.abs", "v:v"}}, {0x81, {"i16x8.neg", "v:v"}},
    {0x82, {"i16x8.q15mulr_sat_s", "vv:v"}},
    {0x83, {"i16x8.all_true", "v:i"}}, {0x84, {"i16x8.bitmask", "v:i"}},
    {0x85, {"i16x8.narrow_i32x4_s", "vv:v"}},
    {0x86, {"i16x8.narrow_i32x4_u", "vv:v"}},
    {0x87, {"i16x8.extend_low_i8x16_s", "v:v"}},
    {0x88, {"i16x8.extend_high_i8x16_s", "v:v"}},
    {0x89, {"i16x8.extend_low_i8x16_u", "v:v"}},
    {0x8a, {"i16x8.extend_high_i8x16_u", "v:v"}},
    {0x8b, {"i16x8.shl", "vi:v"}}, {0x8c, {"i16x8.shr_s", "vi:v"}},
    {0x8d, {"i16x8.shr_u", "vi:v"}}, {0x8e, {"i16x8.add", "vv:v"}},
    {0x8f, {"i16x8.add_sat_s", "vv:v"}}, {0x90, {"i16x8.add_sat_u", "vv:v"}},
    {0x91, {"i16x8.sub", "vv:v"}}, {0x92, {"i16x8.sub_sat_s", "vv:v"}},
    {0x93, {"i16x8.sub_sat_u", "vv:v"}}, {0x94, {"f64x2.nearest", "v:v"}},
    {0x95, {"i16x8.mul", "vv:v"}}, {0x96, {"i16x8.min_s", "vv:v"}},
    {0x97, {"i16x8.min_u", "vv:v"}}, {0x98, {"i16x8.max_s", "vv:v"}},
    {0x99, {"i16x8.max_u", "vv:v"}}, {0x9b, {"i16x8.avgr_u", "vv:v"}},
    {0x9c, {"i16x8.extmul_low_i8x16_s", "vv:v"}},
    {0x9d, {"i16x8.extmul_high_i8x16_s", "vv:v"}},
    {0x9e, {"i16x8.extmul_low_i8x16_u", "vv:v"}},
    {0x9f, {"i16x8.extmul_high_i8x16_u", "vv:v"}},
    {0xa0, {"i32x4.abs", "v:v"}}, {0xa1, {"i32x4.neg", "v:v"}},
    {0xa3, {"i32x4.all_true", "v:i"}}, {0xa4, {"i32x4.bitmask", "v:i"}},
    {0xa7, {"i32x4.extend_low_i16x8_s", "v:v"}},
    {0xa8, {"i32x4.extend_high_i16x8_s", "v:v"}},
    {0xa9, {"i32x4.extend_low_i16x8_u", "v:v"}},
    {0xaa, {"i32x4.extend_high_i16x8_u", "v:v"}},
    {0xab, {"i32x4.shl", "vi:v"}}, {0xac, {"i32x4.shr_s", "vi:v"}},
    {0xad, {"i32x4.shr_u", "vi:v"}}, {0xae, {"i32x4.add", "vv:v"}},
    {0xb1, {"i32x4.sub", "vv:v"}}, {0xb5, {"i32x4.mul", "vv:v"}},
    {0xb6, {"i32x4.min_s", "vv:v"}}, {0xb7, {"i32x4.min_u", "vv:v"}},
    {0xb8, {"i32x4.max_s", "vv:v"}}, {0xb9, {"i32x4.max_u", "vv:v"}},
    {0xba, {"i32x4.dot_i16x8_s", "vv:v"}},
    {0xbc, {"i32x4.extmul_low_i16x8_s", "vv:v"}},
    {0xbd, {"i32x4.extmul_high_i16x8_s", "vv:v"}},
    {0xbe, {"i32x4.extmul_low_i16x8_u", "vv:v"}},
    {0xbf, {"i32x4.extmul_high_i16x8_u", "vv:v"}},
    {0xc0, {"i64x2.abs", "v:v"}}, {0xc1, {"i64x2.neg", "v:v"}},
    {0xc3, {"i64x2.all_true", "v:i"}}, {0xc4, {"i64x2.bitmask", "v:i"}},
    {0xc7, {"i64x2.extend_low_i32x4_s", "v:v"}},
    {0xc8, {"i64x2.extend_high_i32x4_s", "v:v"}},
    {0xc9, {"i64x2.extend_low_i32x4_u", "v:v"}},
    {0xca, {"i64x2.extend_high_i32x4_u", "v:v"}},
    {0xcb, {"i64x2.shl", "vi:v"}}, {0xcc, {"i64x2.shr_s", "vi:v"}},
    {0xcd, {"i64x2.shr_u", "vi:v"}}, {0xce, {"i64x2.add", "vv:v"}},
    {0xd1, {"i64x2.sub", "vv:v"}}, {0xd5, {"i64x2.mul", "vv:v"}},
    {0xd6, {"i64x2.eq", "vv:v"}}, {0xd7, {"i64x2.ne", "vv:v"}},
    {0xd8, {"i64x2.lt_s", "vv:v"}}, {0xd9, {"i64x2.gt_s", "vv:v"}},
    {0xda, {"i64x2.le_s", "vv:v"}}, {0xdb, {"i64x2.ge_s", "vv:v"}},
    {0xdc, {"i64x2.extmul_low_i32x4_s", "vv:v"}},
    {0xdd, {"i64x2.extmul_high_i32x4_s", "vv:v"}},
    {0xde, {"i64x2.extmul_low_i32x4_u", "vv:v"}},
    {0xdf, {"i64x2.extmul_high_i32x4_u", "vv:v"}},
    {0xe0, {"f32x4.abs", "v:v"}}, {0xe1, {"f32x4.neg", "v:v"}},
    {0xe3, {"f32x4.sqrt", "v:v"}}, {0xe4, {"f32x4.add", "vv:v"}},
    {0xe5, {"f32x4.sub", "vv:v"}}, {0xe6, {"f32x4.mul", "vv:v"}},
    {0xe7, {"f32x4.div", "vv:v"}}, {0xe8, {"f32x4.min", "vv:v"}},
    {0xe9, {"f32x4.max", "vv:v"}}, {0xea, {"f32x4.pmin", "vv:v"}},
    {0xeb, {"f32x4.pmax", "vv:v"}},
    {0xec, {"f64x2.abs", "v:v"}}, {0xed, {"f64x2.neg", "v:v"}},
    {0xef, {"f64x2.sqrt", "v:v"}}, {0xf0, {"f64x2.add", "vv:v"}},
    {0xf1, {"f64x2.sub", "vv:v"}}, {0xf2, {"f64x2.mul", "vv:v"}},
    {0xf3, {"f64x2.div", "vv:v"}}, {0xf4, {"f64x2.min", "vv:v"}},
    {0xf5, {"f64x2.max", "vv:v"}}, {0xf6, {"f64x2.pmin", "vv:v"}},
    {0xf7, {"f64x2.pmax", "vv:v"}},
    {0xf8, {"i32x4.trunc_sat_f32x4_s", "v:v"}},
    {0xf9, {"i32x4.trunc_sat_f32x4_u", "v:v"}},
    {0xfa, {"f32x4.convert_i32x4_s", "v:v"}},
    {0xfb, {"f32x4.convert_i32x4_u", "v:v"}},
    {0xfc, {"i32x4.trunc_sat_f64x2_s_zero", "v:v"}},
    {0xfd, {"i32x4.trunc_sat_f64x2_u_zero", "v:v"}},
    {0xfe, {"f64x2.convert_low_i32x4_s", "v:v"}},
    {0xff, {"f64x2.convert_low_i32x4_u", "v:v"}},
};

struct OpTables {
  std::array<OpInfo, 256> single{};
  std::array<OpInfo, 18> fc{};
  std::array<OpInfo, 256> simd{};
};

const OpTables &opTables() {
  static const OpTables tables = [] {
    OpTables t;
    for (const OpDef &d : kSingleByteOps)
      t.single[d.code] = d.info;
    for (const OpDef &d : kFcOps)
      t.fc[d.code] = d.info;
    for (const OpDef &d : kSimdOps)
      t.simd[d.code] = d.info;
    return t;
  }();
  return tables;
}

bool isKnownOpcode(uint8_t op) { return opTables().single[op].name != nullptr; }

bool isKnownSimdOpcode(uint32_t op) {
  return op < 256 && opTables().simd[op].name != nullptr;
}

const char *opcodeName(uint8_t op) {
  const char *name = opTables().single[op].name;
  return name ? name : "unknown";
}

// Why a single-byte opcode outside WebAssembly 2.0 is not accepted.
const char *proposalOf(uint8_t op) {
  switch (op) {
  case 0x06: case 0x07: case 0x08: case 0x09: case 0x0a: case 0x18:
  case 0x19: case 0x1f:
    return "exception handling";
  case 0x12: case 0x13:
    return "tail calls";
  case 0x14: case 0x15: case 0xd3: case 0xd4: case 0xd5: case 0xd6:
    return "typed function references";
  case 0xfb:
    return "GC";
  case 0xfe:
    return "threads (atomics)";
  default:
    return nullptr;
  }
}

std::string illegalOpcodeMessage(uint8_t op) {
  std::string msg = "illegal opcode 0x" + hexByte(op);
  if (const char *proposal = proposalOf(op))
    msg += std::string(" (") + proposal +
           " proposal, not part of WebAssembly 2.0)";
  return msg;
}

ValType letterType(char c) {
  switch (c) {
  case 'i': return ValType::I32;
  case 'l': return ValType::I64;
  case 'f': return ValType::F32;
  case 'd': return ValType::F64;
  default: return ValType::V128;
  }
}

std::span<const ValType> singleType(ValType t) {
  static constexpr ValType kAll[] = {ValType::I32,     ValType::I64,
                                     ValType::F32,     ValType::F64,
                                     ValType::V128,    ValType::FuncRef,
                                     ValType::ExternRef};
  for (const ValType &v : kAll)
    if (v == t)
      return {&v, 1};
  return {};
}

std::string typeListName(std::span<const ValType> types) {
  std::string out = "[";
  for (size_t i = 0; i < types.size(); ++i)
    out += std::string(i ? " " : "") + valTypeName(types[i]);
  return out + "]";
}

// ---------------------------------------------------------------------------
// Function bodies: the validation algorithm of the spec's appendix.
// ---------------------------------------------------------------------------

// An operand type, or kUnknown for the bottom type of unreachable code.
using Val = uint8_t;
constexpr Val kUnknown = 0;

struct Ctrl {
  uint8_t opcode; // 0x02 block, 0x03 loop, 0x04 if, 0x05 else, 0 function
  std::span<const ValType> params;
  std::span<const ValType> results;
  size_t height;
  bool unreachable;

  std::span<const ValType> labelTypes() const {
    return opcode == 0x03 ? params : results;
  }
};

struct BlockType {
  std::span<const ValType> params;
  std::span<const ValType> results;
};

class FunctionValidator {
public:
  FunctionValidator(ModuleInfo &m, const std::vector<uint8_t> &refs,
                    uint32_t funcIndex, Reader &r)
      : m_(m), refs_(refs), funcIndex_(funcIndex), r_(r),
        type_(m.funcType(funcIndex)) {}

  Expected<void> run();
  // Where the last instruction run() looked at starts, and how many blocks
  // (the function's own included) were open before it.
  size_t lastOpOffset() const { return opStart_; }
  size_t depthAtLastOp() const { return depthAtOp_; }

private:
  Expected<void> readLocals();
  Expected<void> step();
  Expected<void> stepFc();
  Expected<void> stepSimd();
  Expected<void> stepMemoryFc(uint32_t sub);
  Expected<void> stepTableFc(uint32_t sub);

  Expected<BlockType> readBlockType();
  Expected<uint32_t> readLabel();
  Expected<void> readMemArg(uint8_t naturalAlign);
  Expected<void> readLane(uint8_t lanes);
  Expected<void> requireMemory();
  Expected<void> requireDataCount(uint32_t index);
  Expected<uint32_t> readTableIndex();
  Expected<uint32_t> readElemIndex();

  Expected<void> doBlock(uint8_t op);
  Expected<void> doElse();
  Expected<void> doEnd();
  Expected<void> doBr();
  Expected<void> doBrIf();
  Expected<void> doBrTable();
  Expected<void> doCall();
  Expected<void> doCallIndirect();
  Expected<void> doSelect();
  Expected<void> doSelectTyped();
  Expected<void> doLocal(uint8_t op);
  Expected<void> doGlobal(uint8_t op);
  Expected<void> doTableGetSet(uint8_t op);
  Expected<void> doMemorySizeGrow(uint8_t op);
  Expected<void> doRefIsNull();
  Expected<void> doRefFunc();

  void push(Val v);
  void pushVals(std::span<const ValType> types);
  Expected<Val> popAny();
  Expected<Val> pop(ValType expected);
  Expected<void> popVals(std::span<const ValType> types);
  Expected<void> applySig(const char *sig);
  void pushCtrl(uint8_t op, BlockType type);
  Expected<Ctrl> popCtrl();
  void setUnreachable();

  tl::unexpected<Error> invalid(const std::string &msg) const {
    return r_.error(ErrorKind::InvalidModule, opStart_, msg);
  }
  tl::unexpected<Error> malformed(const std::string &msg) const {
    return r_.error(ErrorKind::MalformedModule, opStart_, msg);
  }
  std::string typeMismatch(const char *expected, const char *got) const {
    return std::string("type mismatch in ") + opName_ + ": expected " +
           expected + ", got " + got;
  }

  ModuleInfo &m_;
  const std::vector<uint8_t> &refs_;
  uint32_t funcIndex_;
  Reader &r_;
  const FuncType &type_;
  std::vector<ValType> locals_;
  std::vector<Val> vals_;
  std::vector<Ctrl> ctrls_;
  std::vector<Val> scratch_;
  std::vector<uint32_t> labels_;
  size_t opStart_ = 0;
  size_t depthAtOp_ = 0;
  const char *opName_ = "";
  bool usesSimd_ = false;
};

Expected<void> FunctionValidator::run() {
  opStart_ = r_.offset();
  TRY(readLocals());
  pushCtrl(0, BlockType{{}, type_.results});
  while (!ctrls_.empty())
    TRY(step());
  if (!r_.atEnd())
    return r_.malformed("section size mismatch: " +
                        std::to_string(r_.remaining()) +
                        " bytes after the function's final end");
  if (usesSimd_)
    m_.usesSimd = true;
  return {};
}

Expected<void> FunctionValidator::readLocals() {
  TRY_ASSIGN(uint32_t groups, r_.readCount(2));
  std::vector<std::pair<uint32_t, ValType>> decls;
  decls.reserve(groups);
  uint64_t total = type_.params.size();
  for (uint32_t i = 0; i < groups; ++i) {
    TRY_ASSIGN(uint32_t n, r_.readU32());
    TRY_ASSIGN(ValType t, r_.readValType());
    total += n;
    if (total - type_.params.size() > UINT32_MAX)
      return r_.malformed("too many locals (more than 2^32 - 1)");
    decls.emplace_back(n, t);
  }
  if (total > kMaxLocals)
    return r_.error(ErrorKind::Unsupported, opStart_,
                    "too many locals: " + std::to_string(total) +
                        " (Nomos allows at most " +
                        std::to_string(kMaxLocals) + " per function)");
  locals_.reserve(total);
  locals_.assign(type_.params.begin(), type_.params.end());
  for (auto [n, t] : decls)
    locals_.insert(locals_.end(), n, t);
  for (ValType t : locals_)
    usesSimd_ |= t == ValType::V128;
  for (ValType t : type_.results)
    usesSimd_ |= t == ValType::V128;
  return {};
}

// --- operand and control stacks ---

void FunctionValidator::push(Val v) {
  usesSimd_ |= v == static_cast<Val>(ValType::V128);
  vals_.push_back(v);
}

void FunctionValidator::pushVals(std::span<const ValType> types) {
  for (ValType t : types)
    push(static_cast<Val>(t));
}

Expected<Val> FunctionValidator::popAny() {
  const Ctrl &c = ctrls_.back();
  if (vals_.size() > c.height) {
    const Val v = vals_.back();
    vals_.pop_back();
    return v;
  }
  if (c.unreachable)
    return kUnknown;
  return invalid(typeMismatch("a value", "an empty stack"));
}

Expected<Val> FunctionValidator::pop(ValType expected) {
  const Ctrl &c = ctrls_.back();
  if (vals_.size() == c.height && !c.unreachable)
    return invalid(typeMismatch(valTypeName(expected), "an empty stack"));
  TRY_ASSIGN(Val actual, popAny());
  if (actual != kUnknown && actual != static_cast<Val>(expected))
    return invalid(typeMismatch(valTypeName(expected),
                                valTypeName(static_cast<ValType>(actual))));
  return actual;
}

Expected<void> FunctionValidator::popVals(std::span<const ValType> types) {
  for (size_t i = types.size(); i-- > 0;)
    TRY(pop(types[i]));
  return {};
}

Expected<void> FunctionValidator::applySig(const char *sig) {
  const char *colon = sig;
  while (*colon != ':')
    ++colon;
  for (const char *p = colon; p != sig;)
    TRY(pop(letterType(*--p)));
  for (const char *p = colon + 1; *p; ++p)
    push(static_cast<Val>(letterType(*p)));
  return {};
}

void FunctionValidator::pushCtrl(uint8_t op, BlockType type) {
  ctrls_.push_back(Ctrl{op, type.params, type.results, vals_.size(), false});
  pushVals(type.params);
}

Expected<Ctrl> FunctionValidator::popCtrl() {
  const Ctrl c = ctrls_.back();
  TRY(popVals(c.results));
  if (vals_.size() != c.height)
    return invalid("type mismatch in " + std::string(opName_) + ": " +
                   std::to_string(vals_.size() - c.height) +
                   " value(s) left on the stack at the end of a block of "
                   "result type " +
                   typeListName(c.results));
  ctrls_.pop_back();
  return c;
}

void FunctionValidator::setUnreachable() {
  vals_.resize(ctrls_.back().height);
  ctrls_.back().unreachable = true;
}

// --- immediates ---

Expected<BlockType> FunctionValidator::readBlockType() {
  TRY_ASSIGN(uint8_t first, r_.peekByte());
  if (first == 0x40) {
    TRY(r_.readByte());
    return BlockType{};
  }
  if (isValType(first)) {
    TRY(r_.readByte());
    return BlockType{{}, singleType(static_cast<ValType>(first))};
  }
  const size_t at = r_.offset();
  TRY_ASSIGN(int64_t index, r_.readS33());
  if (index < 0)
    return r_.error(ErrorKind::MalformedModule, at,
                    "malformed block type " + std::to_string(index));
  if (static_cast<uint64_t>(index) >= m_.types.size())
    return r_.error(ErrorKind::InvalidModule, at,
                    "unknown type " + std::to_string(index) +
                        " in block type");
  const FuncType &type = m_.types[index];
  if (!type.params.empty())
    m_.usesBlockParams = true;
  return BlockType{type.params, type.results};
}

Expected<uint32_t> FunctionValidator::readLabel() {
  TRY_ASSIGN(uint32_t label, r_.readU32());
  if (label >= ctrls_.size())
    return invalid("unknown label " + std::to_string(label) + " in " +
                   opName_ + " (" + std::to_string(ctrls_.size()) +
                   " enclosing blocks)");
  return label;
}

Expected<void> FunctionValidator::requireMemory() {
  if (m_.memories.empty())
    return invalid(std::string("unknown memory 0 in ") + opName_ +
                   " (the module has no memory)");
  return {};
}

Expected<void> FunctionValidator::readMemArg(uint8_t naturalAlign) {
  TRY_ASSIGN(uint32_t align, r_.readU32());
  TRY(r_.readU32()); // offset
  TRY(requireMemory());
  if (align > naturalAlign)
    return invalid(std::string("alignment must not be larger than natural "
                               "in ") +
                   opName_ + " (2^" + std::to_string(align) + " > " +
                   std::to_string(1u << naturalAlign) + " bytes)");
  return {};
}

Expected<void> FunctionValidator::readLane(uint8_t lanes) {
  TRY_ASSIGN(uint8_t lane, r_.readByte());
  if (lane >= lanes)
    return invalid("invalid lane index " + std::to_string(lane) + " in " +
                   opName_ + " (" + std::to_string(lanes) + " lanes)");
  return {};
}

Expected<uint32_t> FunctionValidator::readTableIndex() {
  TRY_ASSIGN(uint32_t index, r_.readU32());
  if (index >= m_.tables.size())
    return invalid("unknown table " + std::to_string(index) + " in " +
                   opName_);
  return index;
}

Expected<uint32_t> FunctionValidator::readElemIndex() {
  TRY_ASSIGN(uint32_t index, r_.readU32());
  if (index >= m_.elems.size())
    return invalid("unknown elem segment " + std::to_string(index) + " in " +
                   opName_);
  return index;
}

Expected<void> FunctionValidator::requireDataCount(uint32_t index) {
  m_.usesDataSegmentIndices = true;
  // Without a data count section no data segment is known yet: invalid here,
  // and malformed if a data section follows after all (readDataSection).
  if (!m_.dataCount)
    return invalid("unknown data segment " + std::to_string(index) + " in " +
                   opName_ + " (the module has no data count section)");
  if (index >= *m_.dataCount)
    return invalid("unknown data segment " + std::to_string(index) + " in " +
                   opName_);
  return {};
}

// --- instructions ---

Expected<void> FunctionValidator::step() {
  opStart_ = r_.offset();
  depthAtOp_ = ctrls_.size();
  TRY_ASSIGN(uint8_t op, r_.readByte());
  const OpInfo &info = opTables().single[op];
  opName_ = info.name ? info.name : "unknown";
  if (info.sig) {
    if (info.imm == Imm::MemArg)
      TRY(readMemArg(info.align));
    return applySig(info.sig);
  }
  switch (op) {
  case 0x00: setUnreachable(); return {};
  case 0x01: return {};
  case 0x02: case 0x03: case 0x04: return doBlock(op);
  case 0x05: return doElse();
  case 0x0b: return doEnd();
  case 0x0c: return doBr();
  case 0x0d: return doBrIf();
  case 0x0e: return doBrTable();
  case 0x0f:
    TRY(popVals(type_.results));
    setUnreachable();
    return {};
  case 0x10: return doCall();
  case 0x11: return doCallIndirect();
  case 0x1a: TRY(popAny()); return {};
  case 0x1b: return doSelect();
  case 0x1c: return doSelectTyped();
  case 0x20: case 0x21: case 0x22: return doLocal(op);
  case 0x23: case 0x24: return doGlobal(op);
  case 0x25: case 0x26: return doTableGetSet(op);
  case 0x3f: case 0x40: return doMemorySizeGrow(op);
  case 0x41: TRY(r_.readS32()); push(static_cast<Val>(ValType::I32)); return {};
  case 0x42: TRY(r_.readS64()); push(static_cast<Val>(ValType::I64)); return {};
  case 0x43: TRY(r_.readFixed(4)); push(static_cast<Val>(ValType::F32)); return {};
  case 0x44: TRY(r_.readFixed(8)); push(static_cast<Val>(ValType::F64)); return {};
  case 0xd0: {
    TRY_ASSIGN(ValType t, r_.readRefType());
    push(static_cast<Val>(t));
    return {};
  }
  case 0xd1: return doRefIsNull();
  case 0xd2: return doRefFunc();
  case 0xfc: return stepFc();
  case 0xfd: return stepSimd();
  default: return malformed(illegalOpcodeMessage(op));
  }
}

Expected<void> FunctionValidator::doBlock(uint8_t op) {
  if (ctrls_.size() > kMaxNesting)
    return r_.error(ErrorKind::Unsupported, opStart_,
                    "blocks, loops and ifs nested more than " +
                        std::to_string(kMaxNesting) + " deep");
  TRY_ASSIGN(BlockType type, readBlockType());
  if (op == 0x04)
    TRY(pop(ValType::I32));
  TRY(popVals(type.params));
  pushCtrl(op, type);
  return {};
}

Expected<void> FunctionValidator::doElse() {
  if (ctrls_.back().opcode != 0x04)
    return malformed("else without a matching if");
  TRY_ASSIGN(Ctrl c, popCtrl());
  pushCtrl(0x05, BlockType{c.params, c.results});
  return {};
}

Expected<void> FunctionValidator::doEnd() {
  TRY_ASSIGN(Ctrl c, popCtrl());
  if (c.opcode == 0x04 && !std::equal(c.params.begin(), c.params.end(),
                                      c.results.begin(), c.results.end()))
    return invalid("type mismatch: if without else must have the same "
                   "parameter and result types, but has " +
                   typeListName(c.params) + " -> " + typeListName(c.results));
  pushVals(c.results);
  return {};
}

Expected<void> FunctionValidator::doBr() {
  TRY_ASSIGN(uint32_t label, readLabel());
  TRY(popVals(ctrls_[ctrls_.size() - 1 - label].labelTypes()));
  setUnreachable();
  return {};
}

Expected<void> FunctionValidator::doBrIf() {
  TRY_ASSIGN(uint32_t label, readLabel());
  TRY(pop(ValType::I32));
  const auto types = ctrls_[ctrls_.size() - 1 - label].labelTypes();
  TRY(popVals(types));
  pushVals(types);
  return {};
}

Expected<void> FunctionValidator::doBrTable() {
  TRY_ASSIGN(uint32_t count, r_.readCount(1));
  labels_.clear();
  labels_.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    TRY_ASSIGN(uint32_t label, readLabel());
    labels_.push_back(label);
  }
  TRY_ASSIGN(uint32_t defaultLabel, readLabel());
  TRY(pop(ValType::I32));
  const auto defaultTypes =
      ctrls_[ctrls_.size() - 1 - defaultLabel].labelTypes();
  for (uint32_t label : labels_) {
    const auto types = ctrls_[ctrls_.size() - 1 - label].labelTypes();
    if (types.size() != defaultTypes.size())
      return invalid("type mismatch in br_table: label " +
                     std::to_string(label) + " takes " +
                     typeListName(types) + " but the default label takes " +
                     typeListName(defaultTypes));
    // Pop and push back what was popped (unknown stays unknown).
    scratch_.clear();
    for (size_t i = types.size(); i-- > 0;) {
      TRY_ASSIGN(Val v, pop(types[i]));
      scratch_.push_back(v);
    }
    for (size_t i = scratch_.size(); i-- > 0;)
      vals_.push_back(scratch_[i]);
  }
  TRY(popVals(defaultTypes));
  setUnreachable();
  return {};
}

Expected<void> FunctionValidator::doCall() {
  TRY_ASSIGN(uint32_t index, r_.readU32());
  if (index >= m_.functions.size())
    return invalid("unknown function " + std::to_string(index) + " in call");
  const FuncType &type = m_.funcType(index);
  TRY(popVals(type.params));
  pushVals(type.results);
  return {};
}

Expected<void> FunctionValidator::doCallIndirect() {
  TRY_ASSIGN(uint32_t typeIndex, r_.readU32());
  TRY_ASSIGN(uint32_t table, r_.readU32());
  if (table >= m_.tables.size())
    return invalid("unknown table " + std::to_string(table) +
                   " in call_indirect");
  if (typeIndex >= m_.types.size())
    return invalid("unknown type " + std::to_string(typeIndex) +
                   " in call_indirect");
  if (m_.tables[table].elemType != ValType::FuncRef)
    return invalid("type mismatch in call_indirect: table " +
                   std::to_string(table) + " holds " +
                   valTypeName(m_.tables[table].elemType) +
                   ", not funcref");
  const FuncType &type = m_.types[typeIndex];
  TRY(pop(ValType::I32));
  TRY(popVals(type.params));
  pushVals(type.results);
  return {};
}

Expected<void> FunctionValidator::doSelect() {
  TRY(pop(ValType::I32));
  TRY_ASSIGN(Val t1, popAny());
  TRY_ASSIGN(Val t2, popAny());
  auto isRef = [](Val v) {
    return v != kUnknown && isRefType(static_cast<ValType>(v));
  };
  if (isRef(t1) || isRef(t2))
    return invalid("type mismatch in select: operands of reference type "
                   "need a typed select (select (result t))");
  if (t1 != t2 && t1 != kUnknown && t2 != kUnknown)
    return invalid(std::string("type mismatch in select: operands are ") +
                   valTypeName(static_cast<ValType>(t2)) + " and " +
                   valTypeName(static_cast<ValType>(t1)));
  push(t1 == kUnknown ? t2 : t1);
  return {};
}

Expected<void> FunctionValidator::doSelectTyped() {
  TRY_ASSIGN(uint32_t count, r_.readU32());
  if (count != 1)
    return invalid("invalid result arity " + std::to_string(count) +
                   " in typed select (must be 1)");
  TRY_ASSIGN(ValType t, r_.readValType());
  TRY(pop(ValType::I32));
  TRY(pop(t));
  TRY(pop(t));
  push(static_cast<Val>(t));
  return {};
}

Expected<void> FunctionValidator::doLocal(uint8_t op) {
  TRY_ASSIGN(uint32_t index, r_.readU32());
  if (index >= locals_.size())
    return invalid("unknown local " + std::to_string(index) + " in " +
                   opName_ + " (" + std::to_string(locals_.size()) +
                   " locals)");
  const ValType t = locals_[index];
  if (op != 0x20)
    TRY(pop(t));
  if (op != 0x21)
    push(static_cast<Val>(t));
  return {};
}

Expected<void> FunctionValidator::doGlobal(uint8_t op) {
  TRY_ASSIGN(uint32_t index, r_.readU32());
  if (index >= m_.globals.size())
    return invalid("unknown global " + std::to_string(index) + " in " +
                   opName_);
  const GlobalType &g = m_.globals[index];
  if (op == 0x23) {
    push(static_cast<Val>(g.type));
    return {};
  }
  if (!g.isMutable)
    return invalid("global.set of immutable global " + std::to_string(index) +
                   " (global is immutable)");
  TRY(pop(g.type));
  return {};
}

Expected<void> FunctionValidator::doTableGetSet(uint8_t op) {
  TRY_ASSIGN(uint32_t table, readTableIndex());
  const ValType t = m_.tables[table].elemType;
  if (op == 0x25) {
    TRY(pop(ValType::I32));
    push(static_cast<Val>(t));
    return {};
  }
  TRY(pop(t));
  TRY(pop(ValType::I32));
  return {};
}

Expected<void> FunctionValidator::doMemorySizeGrow(uint8_t op) {
  TRY(r_.readZeroByte());
  TRY(requireMemory());
  if (op == 0x40)
    TRY(pop(ValType::I32));
  push(static_cast<Val>(ValType::I32));
  return {};
}

Expected<void> FunctionValidator::doRefIsNull() {
  TRY_ASSIGN(Val v, popAny());
  if (v != kUnknown && !isRefType(static_cast<ValType>(v)))
    return invalid(typeMismatch("a reference",
                                valTypeName(static_cast<ValType>(v))));
  push(static_cast<Val>(ValType::I32));
  return {};
}

Expected<void> FunctionValidator::doRefFunc() {
  TRY_ASSIGN(uint32_t index, r_.readU32());
  if (index >= m_.functions.size())
    return invalid("unknown function " + std::to_string(index) +
                   " in ref.func");
  if (index >= refs_.size() || !refs_[index])
    return invalid("undeclared function reference " + std::to_string(index) +
                   " in ref.func (it must appear in an element segment, "
                   "export or global outside function bodies)");
  push(static_cast<Val>(ValType::FuncRef));
  return {};
}

Expected<void> FunctionValidator::stepFc() {
  TRY_ASSIGN(uint32_t sub, r_.readU32());
  if (sub >= opTables().fc.size())
    return malformed("illegal opcode 0xfc " + std::to_string(sub));
  const OpInfo &info = opTables().fc[sub];
  opName_ = info.name;
  if (info.sig)
    return applySig(info.sig);
  if (sub <= 11)
    return stepMemoryFc(sub);
  return stepTableFc(sub);
}

Expected<void> FunctionValidator::stepMemoryFc(uint32_t sub) {
  switch (sub) {
  case 8: { // memory.init
    TRY_ASSIGN(uint32_t data, r_.readU32());
    TRY(r_.readZeroByte());
    TRY(requireDataCount(data));
    TRY(requireMemory());
    return applySig("iii:");
  }
  case 9: { // data.drop
    TRY_ASSIGN(uint32_t data, r_.readU32());
    return requireDataCount(data);
  }
  case 10: // memory.copy
    TRY(r_.readZeroByte());
    TRY(r_.readZeroByte());
    TRY(requireMemory());
    return applySig("iii:");
  default: // memory.fill
    TRY(r_.readZeroByte());
    TRY(requireMemory());
    return applySig("iii:");
  }
}

Expected<void> FunctionValidator::stepTableFc(uint32_t sub) {
  // table.init, elem.drop, table.copy, table.fill: Binaryen 108 cannot read
  // them (see ModuleInfo::usesTableBulkOps).
  if (sub == 12 || sub == 13 || sub == 14 || sub == 17)
    m_.usesTableBulkOps = true;
  switch (sub) {
  case 12: { // table.init elem table
    TRY_ASSIGN(uint32_t elem, readElemIndex());
    TRY_ASSIGN(uint32_t table, readTableIndex());
    if (m_.elems[elem].refType != m_.tables[table].elemType)
      return invalid("type mismatch in table.init: segment of " +
                     std::string(valTypeName(m_.elems[elem].refType)) +
                     " into a table of " +
                     valTypeName(m_.tables[table].elemType));
    return applySig("iii:");
  }
  case 13: // elem.drop
    TRY(readElemIndex());
    return {};
  case 14: { // table.copy dst src
    TRY_ASSIGN(uint32_t dst, readTableIndex());
    TRY_ASSIGN(uint32_t src, readTableIndex());
    if (m_.tables[dst].elemType != m_.tables[src].elemType)
      return invalid("type mismatch in table.copy: tables of " +
                     std::string(valTypeName(m_.tables[src].elemType)) +
                     " and " + valTypeName(m_.tables[dst].elemType));
    return applySig("iii:");
  }
  case 15: { // table.grow
    TRY_ASSIGN(uint32_t table, readTableIndex());
    TRY(pop(ValType::I32));
    TRY(pop(m_.tables[table].elemType));
    push(static_cast<Val>(ValType::I32));
    return {};
  }
  case 16: // table.size
    TRY(readTableIndex());
    push(static_cast<Val>(ValType::I32));
    return {};
  default: { // table.fill
    TRY_ASSIGN(uint32_t table, readTableIndex());
    TRY(pop(ValType::I32));
    TRY(pop(m_.tables[table].elemType));
    TRY(pop(ValType::I32));
    return {};
  }
  }
}

Expected<void> FunctionValidator::stepSimd() {
  usesSimd_ = true;
  TRY_ASSIGN(uint32_t sub, r_.readU32());
  if (!isKnownSimdOpcode(sub))
    return malformed("illegal opcode 0xfd " + std::to_string(sub) +
                     (sub >= 0x100 && sub <= 0x113
                          ? " (relaxed SIMD is not part of WebAssembly 2.0)"
                          : ""));
  const OpInfo &info = opTables().simd[sub];
  opName_ = info.name;
  switch (info.imm) {
  case Imm::None:
    break;
  case Imm::MemArg:
    TRY(readMemArg(info.align));
    break;
  case Imm::Lane:
    TRY(readLane(info.lanes));
    break;
  case Imm::MemArgLane:
    TRY(readMemArg(info.align));
    TRY(readLane(info.lanes));
    break;
  case Imm::V128Const:
    TRY(r_.readBytes(16));
    break;
  case Imm::Shuffle:
    for (int i = 0; i < 16; ++i)
      TRY(readLane(32));
    break;
  }
  return applySig(info.sig);
}

// --- decode-only scan ---
//
// The spec decodes a whole body before validating it, so a body that is
// ill-typed early but malformed later is malformed. After a validation error
// the rest of the body is scanned with this decoder, which reads immediates
// and tracks block nesting but checks no types.

Expected<void> skipBlockType(Reader &r) {
  TRY_ASSIGN(uint8_t first, r.peekByte());
  if (first == 0x40 || isValType(first))
    return r.readByte().map([](uint8_t) {});
  TRY_ASSIGN(int64_t index, r.readS33());
  if (index < 0)
    return r.malformed("malformed block type");
  return {};
}

Expected<void> skipMemArg(Reader &r) {
  TRY(r.readU32());
  TRY(r.readU32());
  return {};
}

Expected<void> skipFc(Reader &r) {
  TRY_ASSIGN(uint32_t sub, r.readU32());
  switch (sub) {
  case 0: case 1: case 2: case 3: case 4: case 5: case 6: case 7:
    return {};
  case 8: TRY(r.readU32()); return r.readZeroByte();
  case 9: case 13: case 15: case 16: case 17:
    TRY(r.readU32());
    return {};
  case 10: TRY(r.readZeroByte()); return r.readZeroByte();
  case 11: return r.readZeroByte();
  case 12: case 14:
    TRY(r.readU32());
    TRY(r.readU32());
    return {};
  default:
    return r.malformed("illegal opcode 0xfc " + std::to_string(sub));
  }
}

Expected<void> skipSimd(Reader &r) {
  TRY_ASSIGN(uint32_t sub, r.readU32());
  if (!isKnownSimdOpcode(sub))
    return r.malformed("illegal opcode 0xfd " + std::to_string(sub));
  switch (opTables().simd[sub].imm) {
  case Imm::None: return {};
  case Imm::MemArg: return skipMemArg(r);
  case Imm::Lane: TRY(r.readByte()); return {};
  case Imm::MemArgLane: TRY(skipMemArg(r)); TRY(r.readByte()); return {};
  case Imm::V128Const: TRY(r.readBytes(16)); return {};
  case Imm::Shuffle: TRY(r.readBytes(16)); return {};
  }
  return {};
}

// Reads one instruction's immediates; `depth` follows block nesting.
Expected<void> skipInstruction(Reader &r, uint8_t op, size_t &depth) {
  const OpInfo &info = opTables().single[op];
  if (info.imm == Imm::MemArg)
    return skipMemArg(r);
  switch (op) {
  case 0x02: case 0x03: case 0x04: ++depth; return skipBlockType(r);
  case 0x0b: --depth; return {};
  case 0x0c: case 0x0d: case 0x10: case 0x20: case 0x21: case 0x22:
  case 0x23: case 0x24: case 0x25: case 0x26: case 0xd2:
    TRY(r.readU32());
    return {};
  case 0x0e: {
    TRY_ASSIGN(uint32_t n, r.readCount(1));
    for (uint64_t i = 0; i <= n; ++i)
      TRY(r.readU32());
    return {};
  }
  case 0x11: TRY(r.readU32()); TRY(r.readU32()); return {};
  case 0x1c: {
    TRY_ASSIGN(uint32_t n, r.readCount(1));
    for (uint32_t i = 0; i < n; ++i)
      TRY(r.readValType());
    return {};
  }
  case 0x3f: case 0x40: return r.readZeroByte();
  case 0x41: TRY(r.readS32()); return {};
  case 0x42: TRY(r.readS64()); return {};
  case 0x43: TRY(r.readFixed(4)); return {};
  case 0x44: TRY(r.readFixed(8)); return {};
  case 0xd0: TRY(r.readRefType()); return {};
  case 0xfc: return skipFc(r);
  case 0xfd: return skipSimd(r);
  default:
    if (!info.name)
      return r.malformed(illegalOpcodeMessage(op));
    return {};
  }
}

// Scans the rest of a body that is `depth` blocks deep; an error if it is
// malformed.
Expected<void> scanRest(Reader &r, size_t depth) {
  while (depth > 0) {
    TRY_ASSIGN(uint8_t op, r.readByte());
    TRY(skipInstruction(r, op, depth));
  }
  if (!r.atEnd())
    return r.malformed("section size mismatch: " +
                       std::to_string(r.remaining()) +
                       " bytes after the function's final end");
  return {};
}

// Decodes a whole body (locals and code) without validating it.
Expected<void> scanFunction(Reader &r) {
  TRY_ASSIGN(uint32_t groups, r.readCount(2));
  for (uint32_t i = 0; i < groups; ++i) {
    TRY(r.readU32());
    TRY(r.readValType());
  }
  return scanRest(r, 1);
}

Expected<void> validateFunction(ModuleInfo &m,
                                const std::vector<uint8_t> &refs,
                                uint32_t funcIndex, Reader &body) {
  FunctionValidator validator(m, refs, funcIndex, body);
  auto result = validator.run();
  if (result || result.error().kind != ErrorKind::InvalidModule)
    return result;
  body.rewindTo(validator.lastOpOffset());
  TRY(scanRest(body, validator.depthAtLastOp()));
  return result;
}


enum SectionId : uint8_t {
  kCustom = 0,
  kType = 1,
  kImport = 2,
  kFunction = 3,
  kTable = 4,
  kMemory = 5,
  kGlobal = 6,
  kExport = 7,
  kStart = 8,
  kElement = 9,
  kCode = 10,
  kData = 11,
  kDataCount = 12,
};

const char *sectionName(uint8_t id) {
  static const char *const names[] = {
      "custom section", "type section",   "import section",
      "function section", "table section", "memory section",
      "global section", "export section", "start section",
      "element section", "code section",  "data section",
      "data count section"};
  return id <= kDataCount ? names[id] : "unknown section";
}

// Position of a non-custom section in the required order (data count sits
// between element and code).
int sectionRank(uint8_t id) {
  if (id == kDataCount)
    return 10;
  if (id == kCode || id == kData)
    return id + 1;
  return id;
}

const char *externKindName(ExternKind kind) {
  switch (kind) {
  case ExternKind::Func: return "function";
  case ExternKind::Table: return "table";
  case ExternKind::Memory: return "memory";
  case ExternKind::Global: return "global";
  }
  return "unknown";
}

class ModuleDecoder {
public:
  ModuleDecoder(std::span<const uint8_t> bytes, DecodeOptions options)
      : reader_(bytes, 0, ""), options_(options) {}

  Expected<ModuleInfo> run();

private:
  Expected<void> readHeader();
  Expected<void> readSection();
  Expected<void> dispatch(uint8_t id, Reader &r);
  Expected<void> readCustomSection(Reader &r);
  Expected<void> readTypeSection(Reader &r);
  Expected<void> readImportSection(Reader &r);
  Expected<void> readImport(Reader &r);
  Expected<void> readFunctionSection(Reader &r);
  Expected<void> readTableSection(Reader &r);
  Expected<void> readMemorySection(Reader &r);
  Expected<void> readGlobalSection(Reader &r);
  Expected<void> readExportSection(Reader &r);
  Expected<void> readStartSection(Reader &r);
  Expected<void> readElementSection(Reader &r);
  Expected<ElemSegment> readElemSegment(Reader &r);
  Expected<void> readElemItems(Reader &r, uint32_t flags, ElemSegment &seg);
  Expected<void> readDataCountSection(Reader &r);
  Expected<void> readCodeSection(Reader &r);
  Expected<void> readDataSection(Reader &r);
  Expected<DataSegment> readDataSegment(Reader &r);
  Expected<void> finish();
  void readNames();

  Expected<uint32_t> readTypeIndex(Reader &r);
  Expected<Limits> readLimits(Reader &r, bool isMemory);
  Expected<TableType> readTableType(Reader &r);
  Expected<Limits> readMemoryType(Reader &r);
  Expected<GlobalType> readGlobalType(Reader &r);
  Expected<ConstExpr> readConstExpr(Reader &r, ValType expected);
  Expected<ValType> readConstInstr(Reader &r, uint8_t op, size_t at,
                                   ConstExpr &expr);
  Expected<ValType> readConstRefFunc(Reader &r, size_t at, ConstExpr &expr);
  Expected<ValType> readConstGlobalGet(Reader &r, size_t at, ConstExpr &expr);
  Expected<ValType> readConstV128(Reader &r, size_t at, ConstExpr &expr);
  Expected<void> addMemory(Reader &r, size_t at, const Limits &limits);
  void declareRef(uint32_t funcIndex);
  Expected<void> checkExportIndex(Reader &r, size_t at, const Export &e);

  Reader reader_;
  DecodeOptions options_;
  ModuleInfo m_;
  int lastRank_ = 0;
  uint32_t definedFunctions_ = 0;
  bool sawCode_ = false;
  bool sawData_ = false;
  std::vector<uint8_t> declaredRefs_; // C.refs, by function index
  std::optional<std::span<const uint8_t>> nameSection_;
  // An invalid function body. The spec decodes the whole module before it
  // validates, so the rest is still decoded: a malformed byte later wins.
  std::optional<Error> deferred_;
};

Expected<ModuleInfo> ModuleDecoder::run() {
  TRY(readHeader());
  while (!reader_.atEnd()) {
    auto result = readSection();
    if (!result && deferred_ &&
        result.error().kind != ErrorKind::MalformedModule)
      return tl::unexpected(std::move(*deferred_));
    if (!result)
      return tl::unexpected(std::move(result.error()));
  }
  TRY(finish());
  if (deferred_)
    return tl::unexpected(std::move(*deferred_));
  readNames();
  return std::move(m_);
}

Expected<void> ModuleDecoder::readHeader() {
  if (reader_.remaining() < 4)
    return reader_.malformed("unexpected end: magic header not detected");
  TRY_ASSIGN(uint64_t magic, reader_.readFixed(4));
  if (magic != 0x6d736100)
    return reader_.error(ErrorKind::MalformedModule, 0,
                         "magic header not detected (not a wasm binary)");
  if (reader_.remaining() < 4)
    return reader_.malformed("unexpected end: unknown binary version");
  TRY_ASSIGN(uint64_t version, reader_.readFixed(4));
  if (version != 1)
    return reader_.error(ErrorKind::MalformedModule, 4,
                         "unknown binary version " + std::to_string(version));
  return {};
}

Expected<void> ModuleDecoder::readSection() {
  const size_t start = reader_.offset();
  TRY_ASSIGN(uint8_t id, reader_.readByte());
  if (id > kDataCount)
    return reader_.error(ErrorKind::MalformedModule, start,
                         "malformed section id " + std::to_string(id));
  const size_t sizeAt = reader_.offset();
  TRY_ASSIGN(uint32_t size, reader_.readU32());
  if (size > reader_.remaining())
    return reader_.error(ErrorKind::MalformedModule, sizeAt,
                         std::string("unexpected end: ") + sectionName(id) +
                             " of " + std::to_string(size) +
                             " bytes runs past the end of the module");
  TRY_ASSIGN(Reader r, reader_.readSub(size));
  r.setContext(sectionName(id));
  if (id != kCustom) {
    const int rank = sectionRank(id);
    if (rank <= lastRank_)
      return reader_.error(ErrorKind::MalformedModule, start,
                           std::string("unexpected ") + sectionName(id) +
                               ": duplicate or out of order (junk after "
                               "last section)");
    lastRank_ = rank;
  }
  TRY(dispatch(id, r));
  if (!r.atEnd())
    return r.malformed("section size mismatch: " +
                       std::to_string(r.remaining()) +
                       " bytes left over at the end of the section");
  return {};
}

Expected<void> ModuleDecoder::dispatch(uint8_t id, Reader &r) {
  switch (id) {
  case kCustom: return readCustomSection(r);
  case kType: return readTypeSection(r);
  case kImport: return readImportSection(r);
  case kFunction: return readFunctionSection(r);
  case kTable: return readTableSection(r);
  case kMemory: return readMemorySection(r);
  case kGlobal: return readGlobalSection(r);
  case kExport: return readExportSection(r);
  case kStart: return readStartSection(r);
  case kElement: return readElementSection(r);
  case kDataCount: return readDataCountSection(r);
  case kCode: return readCodeSection(r);
  case kData: return readDataSection(r);
  }
  return r.malformed("malformed section id");
}

Expected<void> ModuleDecoder::readCustomSection(Reader &r) {
  TRY_ASSIGN(std::string name, r.readName());
  TRY_ASSIGN(auto rest, r.readBytes(r.remaining()));
  if (name == "name" && !nameSection_)
    nameSection_ = rest;
  return {};
}

Expected<void> ModuleDecoder::readTypeSection(Reader &r) {
  TRY_ASSIGN(uint32_t count, r.readCount(3));
  m_.types.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    const size_t at = r.offset();
    TRY_ASSIGN(uint8_t form, r.readByte());
    if (form != 0x60)
      return r.error(ErrorKind::MalformedModule, at,
                     "malformed function type: expected 0x60, got 0x" +
                         hexByte(form));
    FuncType type;
    for (auto *list : {&type.params, &type.results}) {
      TRY_ASSIGN(uint32_t n, r.readCount(1));
      list->reserve(n);
      for (uint32_t k = 0; k < n; ++k) {
        TRY_ASSIGN(ValType t, r.readValType());
        list->push_back(t);
      }
    }
    m_.types.push_back(std::move(type));
  }
  return {};
}

Expected<uint32_t> ModuleDecoder::readTypeIndex(Reader &r) {
  const size_t at = r.offset();
  TRY_ASSIGN(uint32_t index, r.readU32());
  if (index >= m_.types.size())
    return r.error(ErrorKind::InvalidModule, at,
                   "unknown type " + std::to_string(index) + " (" +
                       std::to_string(m_.types.size()) + " types)");
  return index;
}

Expected<Limits> ModuleDecoder::readLimits(Reader &r, bool isMemory) {
  const size_t at = r.offset();
  TRY_ASSIGN(uint8_t flags, r.readByte());
  if (flags > 1) {
    const char *why = (flags == 2 || flags == 3)
                          ? " (shared memories are the threads proposal, not "
                            "WebAssembly 2.0)"
                      : (flags >= 4 && flags <= 7)
                          ? " (64-bit limits are the memory64 proposal, not "
                            "WebAssembly 2.0)"
                          : "";
    return r.error(ErrorKind::MalformedModule, at,
                   std::string("malformed limits flags 0x") +
                       hexByte(flags) + why);
  }
  Limits limits;
  TRY_ASSIGN(limits.min, r.readU32());
  if (flags & 1) {
    TRY_ASSIGN(uint32_t max, r.readU32());
    limits.max = max;
  }
  if (isMemory && (limits.min > kMaxPages || limits.max.value_or(0) > kMaxPages))
    return r.error(ErrorKind::InvalidModule, at,
                   "memory size must be at most 65536 pages (4GiB)");
  if (limits.max && *limits.max < limits.min)
    return r.error(ErrorKind::InvalidModule, at,
                   "size minimum must not be greater than maximum (" +
                       std::to_string(limits.min) + " > " +
                       std::to_string(*limits.max) + ")");
  return limits;
}

Expected<TableType> ModuleDecoder::readTableType(Reader &r) {
  TableType type;
  TRY_ASSIGN(type.elemType, r.readRefType());
  TRY_ASSIGN(type.limits, readLimits(r, false));
  return type;
}

Expected<Limits> ModuleDecoder::readMemoryType(Reader &r) {
  return readLimits(r, true);
}

Expected<GlobalType> ModuleDecoder::readGlobalType(Reader &r) {
  GlobalType type;
  TRY_ASSIGN(type.type, r.readValType());
  const size_t at = r.offset();
  TRY_ASSIGN(uint8_t mut, r.readByte());
  if (mut > 1)
    return r.error(ErrorKind::MalformedModule, at,
                   "malformed mutability 0x" + hexByte(mut));
  type.isMutable = mut == 1;
  return type;
}

Expected<void> ModuleDecoder::addMemory(Reader &r, size_t at,
                                        const Limits &limits) {
  if (!m_.memories.empty())
    return r.error(ErrorKind::InvalidModule, at,
                   "multiple memories (at most one memory is allowed in "
                   "WebAssembly 2.0; multi-memory is not supported)");
  m_.memories.push_back(limits);
  return {};
}

Expected<void> ModuleDecoder::readImportSection(Reader &r) {
  TRY_ASSIGN(uint32_t count, r.readCount(4));
  m_.imports.reserve(count);
  for (uint32_t i = 0; i < count; ++i)
    TRY(readImport(r));
  return {};
}

Expected<void> ModuleDecoder::readImport(Reader &r) {
  Import imp;
  TRY_ASSIGN(imp.module, r.readName());
  TRY_ASSIGN(imp.name, r.readName());
  const size_t at = r.offset();
  TRY_ASSIGN(uint8_t kind, r.readByte());
  switch (kind) {
  case 0: {
    TRY_ASSIGN(imp.typeIndex, readTypeIndex(r));
    m_.functions.push_back(imp.typeIndex);
    ++m_.importedFunctions;
    break;
  }
  case 1: {
    TRY_ASSIGN(imp.table, readTableType(r));
    m_.tables.push_back(imp.table);
    ++m_.importedTables;
    break;
  }
  case 2: {
    TRY_ASSIGN(imp.memory, readMemoryType(r));
    TRY(addMemory(r, at, imp.memory));
    ++m_.importedMemories;
    break;
  }
  case 3: {
    TRY_ASSIGN(imp.global, readGlobalType(r));
    m_.globals.push_back(imp.global);
    ++m_.importedGlobals;
    break;
  }
  default:
    return r.error(ErrorKind::MalformedModule, at,
                   "malformed import kind 0x" + hexByte(kind));
  }
  imp.kind = static_cast<ExternKind>(kind);
  m_.imports.push_back(std::move(imp));
  return {};
}

Expected<void> ModuleDecoder::readFunctionSection(Reader &r) {
  TRY_ASSIGN(uint32_t count, r.readCount(1));
  m_.functions.reserve(m_.functions.size() + count);
  for (uint32_t i = 0; i < count; ++i) {
    TRY_ASSIGN(uint32_t typeIndex, readTypeIndex(r));
    m_.functions.push_back(typeIndex);
  }
  definedFunctions_ = count;
  return {};
}

Expected<void> ModuleDecoder::readTableSection(Reader &r) {
  TRY_ASSIGN(uint32_t count, r.readCount(3));
  for (uint32_t i = 0; i < count; ++i) {
    TRY_ASSIGN(TableType type, readTableType(r));
    m_.tables.push_back(type);
  }
  return {};
}

Expected<void> ModuleDecoder::readMemorySection(Reader &r) {
  TRY_ASSIGN(uint32_t count, r.readCount(2));
  for (uint32_t i = 0; i < count; ++i) {
    const size_t at = r.offset();
    TRY_ASSIGN(Limits limits, readMemoryType(r));
    TRY(addMemory(r, at, limits));
  }
  return {};
}

void ModuleDecoder::declareRef(uint32_t funcIndex) {
  if (declaredRefs_.size() < m_.functions.size())
    declaredRefs_.resize(m_.functions.size(), 0);
  if (funcIndex < declaredRefs_.size())
    declaredRefs_[funcIndex] = 1;
}

// A constant expression: constant instructions, then `end`, leaving exactly
// one value of the expected type.
Expected<ConstExpr> ModuleDecoder::readConstExpr(Reader &r,
                                                 ValType expected) {
  const size_t start = r.offset();
  ConstExpr expr;
  std::vector<ValType> stack;
  for (;;) {
    const size_t at = r.offset();
    TRY_ASSIGN(uint8_t op, r.readByte());
    if (op == 0x0b)
      break;
    TRY_ASSIGN(ValType type, readConstInstr(r, op, at, expr));
    stack.push_back(type);
  }
  if (stack.size() == 1 && stack[0] == expected)
    return expr;
  std::string got = stack.empty() ? "nothing" : "";
  for (size_t i = 0; i < stack.size(); ++i)
    got += std::string(i ? " " : "") + valTypeName(stack[i]);
  return r.error(ErrorKind::InvalidModule, start,
                 std::string("type mismatch in constant expression: "
                             "expected ") +
                     valTypeName(expected) + ", got " + got);
}

// One instruction of a constant expression, recorded in `expr`; returns the
// type it pushes. global.get may only name an immutable imported global
// (WebAssembly 2.0).
Expected<ValType> ModuleDecoder::readConstInstr(Reader &r, uint8_t op,
                                                size_t at, ConstExpr &expr) {
  switch (op) {
  case 0x41: {
    TRY_ASSIGN(int32_t v, r.readS32());
    expr.op = ConstExpr::Op::I32Const;
    expr.bits[0] = static_cast<uint32_t>(v);
    return ValType::I32;
  }
  case 0x42: {
    TRY_ASSIGN(int64_t v, r.readS64());
    expr.op = ConstExpr::Op::I64Const;
    expr.bits[0] = static_cast<uint64_t>(v);
    return ValType::I64;
  }
  case 0x43: {
    TRY_ASSIGN(expr.bits[0], r.readFixed(4));
    expr.op = ConstExpr::Op::F32Const;
    return ValType::F32;
  }
  case 0x44: {
    TRY_ASSIGN(expr.bits[0], r.readFixed(8));
    expr.op = ConstExpr::Op::F64Const;
    return ValType::F64;
  }
  case 0xd0: {
    TRY_ASSIGN(expr.refType, r.readRefType());
    expr.op = ConstExpr::Op::RefNull;
    return expr.refType;
  }
  case 0xd2: return readConstRefFunc(r, at, expr);
  case 0x23: return readConstGlobalGet(r, at, expr);
  case 0xfd: return readConstV128(r, at, expr);
  default:
    if (!isKnownOpcode(op))
      return r.error(ErrorKind::MalformedModule, at,
                     "illegal opcode 0x" + hexByte(op));
    return r.error(ErrorKind::InvalidModule, at,
                   "constant expression required: " +
                       std::string(opcodeName(op)) +
                       " is not a constant instruction");
  }
}

Expected<ValType> ModuleDecoder::readConstRefFunc(Reader &r, size_t at,
                                                  ConstExpr &expr) {
  TRY_ASSIGN(uint32_t index, r.readU32());
  if (index >= m_.functions.size())
    return r.error(ErrorKind::InvalidModule, at,
                   "unknown function " + std::to_string(index) +
                       " in ref.func");
  declareRef(index);
  expr.op = ConstExpr::Op::RefFunc;
  expr.index = index;
  expr.refType = ValType::FuncRef;
  return ValType::FuncRef;
}

Expected<ValType> ModuleDecoder::readConstGlobalGet(Reader &r, size_t at,
                                                    ConstExpr &expr) {
  TRY_ASSIGN(uint32_t index, r.readU32());
  if (index >= m_.importedGlobals)
    return r.error(ErrorKind::InvalidModule, at,
                   "unknown global " + std::to_string(index) +
                       " (constant expressions may only read imported "
                       "globals)");
  if (m_.globals[index].isMutable)
    return r.error(ErrorKind::InvalidModule, at,
                   "constant expression required: global.get of mutable "
                   "global " +
                       std::to_string(index));
  expr.op = ConstExpr::Op::GlobalGet;
  expr.index = index;
  return m_.globals[index].type;
}

Expected<ValType> ModuleDecoder::readConstV128(Reader &r, size_t at,
                                               ConstExpr &expr) {
  TRY_ASSIGN(uint32_t sub, r.readU32());
  if (!isKnownSimdOpcode(sub))
    return r.error(ErrorKind::MalformedModule, at,
                   "illegal opcode 0xfd " + std::to_string(sub));
  if (sub != 12)
    return r.error(ErrorKind::InvalidModule, at,
                   std::string("constant expression required: ") +
                       opTables().simd[sub].name +
                       " is not a constant instruction");
  TRY_ASSIGN(expr.bits[0], r.readFixed(8));
  TRY_ASSIGN(expr.bits[1], r.readFixed(8));
  expr.op = ConstExpr::Op::V128Const;
  return ValType::V128;
}

Expected<void> ModuleDecoder::readGlobalSection(Reader &r) {
  TRY_ASSIGN(uint32_t count, r.readCount(3));
  m_.definedGlobals.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    Global g;
    TRY_ASSIGN(g.type, readGlobalType(r));
    TRY_ASSIGN(g.init, readConstExpr(r, g.type.type));
    m_.globals.push_back(g.type);
    m_.definedGlobals.push_back(g);
  }
  return {};
}

Expected<void> ModuleDecoder::checkExportIndex(Reader &r, size_t at,
                                               const Export &e) {
  size_t limit = 0;
  switch (e.kind) {
  case ExternKind::Func: limit = m_.functions.size(); break;
  case ExternKind::Table: limit = m_.tables.size(); break;
  case ExternKind::Memory: limit = m_.memories.size(); break;
  case ExternKind::Global: limit = m_.globals.size(); break;
  }
  if (e.index >= limit)
    return r.error(ErrorKind::InvalidModule, at,
                   std::string("unknown ") + externKindName(e.kind) + " " +
                       std::to_string(e.index) + " in export \"" + e.name +
                       "\"");
  return {};
}

Expected<void> ModuleDecoder::readExportSection(Reader &r) {
  TRY_ASSIGN(uint32_t count, r.readCount(3));
  m_.exports.reserve(count);
  std::unordered_set<std::string> names;
  for (uint32_t i = 0; i < count; ++i) {
    const size_t at = r.offset();
    Export e;
    TRY_ASSIGN(e.name, r.readName());
    const size_t kindAt = r.offset();
    TRY_ASSIGN(uint8_t kind, r.readByte());
    if (kind > 3)
      return r.error(ErrorKind::MalformedModule, kindAt,
                     "malformed export kind 0x" + hexByte(kind));
    e.kind = static_cast<ExternKind>(kind);
    TRY_ASSIGN(e.index, r.readU32());
    TRY(checkExportIndex(r, at, e));
    if (!names.insert(e.name).second)
      return r.error(ErrorKind::InvalidModule, at,
                     "duplicate export name \"" + e.name + "\"");
    if (e.kind == ExternKind::Func)
      declareRef(e.index);
    m_.exports.push_back(std::move(e));
  }
  return {};
}

Expected<void> ModuleDecoder::readStartSection(Reader &r) {
  const size_t at = r.offset();
  TRY_ASSIGN(uint32_t index, r.readU32());
  if (index >= m_.functions.size())
    return r.error(ErrorKind::InvalidModule, at,
                   "unknown function " + std::to_string(index) +
                       " as start function");
  const FuncType &type = m_.funcType(index);
  if (!type.params.empty() || !type.results.empty())
    return r.error(ErrorKind::InvalidModule, at,
                   "start function " + std::to_string(index) +
                       " must have type [] -> []");
  m_.start = index;
  return {};
}

Expected<void> ModuleDecoder::readElementSection(Reader &r) {
  TRY_ASSIGN(uint32_t count, r.readCount(2));
  m_.elems.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    TRY_ASSIGN(ElemSegment seg, readElemSegment(r));
    m_.elems.push_back(std::move(seg));
  }
  return {};
}

// Flags: bit 0 = passive or declarative, bit 1 = explicit table index (if
// active) or declarative (if not), bit 2 = items are expressions.
Expected<ElemSegment> ModuleDecoder::readElemSegment(Reader &r) {
  const size_t at = r.offset();
  TRY_ASSIGN(uint32_t flags, r.readU32());
  if (flags > 7)
    return r.error(ErrorKind::MalformedModule, at,
                   "malformed elements segment kind " + std::to_string(flags));
  ElemSegment seg;
  if (flags & 1)
    seg.mode = (flags & 2) ? ElemSegment::Mode::Declarative
                           : ElemSegment::Mode::Passive;
  if (seg.mode == ElemSegment::Mode::Active) {
    if (flags & 2) {
      TRY_ASSIGN(seg.table, r.readU32());
    }
    TRY_ASSIGN(seg.offset, readConstExpr(r, ValType::I32));
  }
  const bool usesExprs = flags & 4;
  if ((flags & 3) != 0 && usesExprs) {
    TRY_ASSIGN(seg.refType, r.readRefType());
  } else if ((flags & 3) != 0) {
    const size_t kindAt = r.offset();
    TRY_ASSIGN(uint8_t kind, r.readByte());
    if (kind != 0x00)
      return r.error(ErrorKind::MalformedModule, kindAt,
                     "malformed element kind 0x" + hexByte(kind));
  }
  TRY(readElemItems(r, flags, seg));
  if (seg.mode != ElemSegment::Mode::Active)
    return seg;
  if (seg.table >= m_.tables.size())
    return r.error(ErrorKind::InvalidModule, at,
                   "unknown table " + std::to_string(seg.table) +
                       " in element segment");
  if (m_.tables[seg.table].elemType != seg.refType)
    return r.error(ErrorKind::InvalidModule, at,
                   std::string("type mismatch: element segment of ") +
                       valTypeName(seg.refType) + " for a table of " +
                       valTypeName(m_.tables[seg.table].elemType));
  return seg;
}

Expected<void> ModuleDecoder::readElemItems(Reader &r, uint32_t flags,
                                            ElemSegment &seg) {
  TRY_ASSIGN(uint32_t count, r.readCount(1));
  seg.items.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    if (flags & 4) {
      TRY_ASSIGN(ConstExpr item, readConstExpr(r, seg.refType));
      seg.items.push_back(item);
      continue;
    }
    const size_t at = r.offset();
    TRY_ASSIGN(uint32_t index, r.readU32());
    if (index >= m_.functions.size())
      return r.error(ErrorKind::InvalidModule, at,
                     "unknown function " + std::to_string(index) +
                         " in element segment");
    declareRef(index);
    ConstExpr item;
    item.op = ConstExpr::Op::RefFunc;
    item.index = index;
    seg.items.push_back(item);
  }
  return {};
}

Expected<void> ModuleDecoder::readDataCountSection(Reader &r) {
  TRY_ASSIGN(uint32_t count, r.readU32());
  m_.dataCount = count;
  return {};
}

Expected<void> ModuleDecoder::readCodeSection(Reader &r) {
  sawCode_ = true;
  const size_t at = r.offset();
  TRY_ASSIGN(uint32_t count, r.readCount(2));
  if (count != definedFunctions_)
    return r.error(ErrorKind::MalformedModule, at,
                   "function and code section have inconsistent lengths (" +
                       std::to_string(definedFunctions_) + " functions, " +
                       std::to_string(count) + " bodies)");
  if (declaredRefs_.size() < m_.functions.size())
    declaredRefs_.resize(m_.functions.size(), 0);
  for (uint32_t i = 0; i < count; ++i) {
    const uint32_t funcIndex = m_.importedFunctions + i;
    const size_t sizeAt = r.offset();
    TRY_ASSIGN(uint32_t size, r.readU32());
    if (size > r.remaining())
      return r.error(ErrorKind::MalformedModule, sizeAt,
                     "unexpected end: body of function " +
                         std::to_string(funcIndex) + " runs past the section");
    TRY_ASSIGN(Reader body, r.readSub(size));
    m_.bodySizes.push_back(size);
    body.setContext("function " + std::to_string(funcIndex));
    if (!options_.validateFunctionBodies)
      continue;
    if (deferred_) {
      TRY(scanFunction(body));
      continue;
    }
    auto result = validateFunction(m_, declaredRefs_, funcIndex, body);
    if (result)
      continue;
    if (result.error().kind != ErrorKind::InvalidModule)
      return result;
    deferred_ = std::move(result.error());
  }
  return {};
}

Expected<void> ModuleDecoder::readDataSection(Reader &r) {
  sawData_ = true;
  const size_t at = r.offset();
  TRY_ASSIGN(uint32_t count, r.readCount(2));
  if (!m_.dataCount && m_.usesDataSegmentIndices)
    return r.error(ErrorKind::MalformedModule, at,
                   "data count section required: the code uses data "
                   "segment indices (memory.init or data.drop)");
  if (m_.dataCount && *m_.dataCount != count)
    return r.error(ErrorKind::MalformedModule, at,
                   "data count and data section have inconsistent lengths (" +
                       std::to_string(*m_.dataCount) + " vs " +
                       std::to_string(count) + ")");
  m_.datas.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    TRY_ASSIGN(DataSegment seg, readDataSegment(r));
    m_.datas.push_back(std::move(seg));
  }
  return {};
}

Expected<DataSegment> ModuleDecoder::readDataSegment(Reader &r) {
  const size_t at = r.offset();
  TRY_ASSIGN(uint32_t flags, r.readU32());
  if (flags > 2)
    return r.error(ErrorKind::MalformedModule, at,
                   "malformed data segment kind " + std::to_string(flags));
  DataSegment seg;
  if (flags == 1)
    seg.mode = DataSegment::Mode::Passive;
  if (flags == 2) {
    TRY_ASSIGN(seg.memory, r.readU32());
  }
  if (seg.mode == DataSegment::Mode::Active) {
    TRY_ASSIGN(seg.offset, readConstExpr(r, ValType::I32));
  }
  TRY_ASSIGN(uint32_t size, r.readCount(1));
  TRY_ASSIGN(auto bytes, r.readBytes(size));
  seg.bytes.assign(bytes.begin(), bytes.end());
  if (seg.mode == DataSegment::Mode::Active && seg.memory >= m_.memories.size())
    return r.error(ErrorKind::InvalidModule, at,
                   "unknown memory " + std::to_string(seg.memory) +
                       " in data segment");
  return seg;
}

Expected<void> ModuleDecoder::finish() {
  if (!sawCode_ && definedFunctions_ != 0)
    return reader_.malformed(
        "function and code section have inconsistent lengths (" +
        std::to_string(definedFunctions_) + " functions, no code section)");
  if (!sawData_ && m_.dataCount && *m_.dataCount != 0)
    return reader_.malformed(
        "data count and data section have inconsistent lengths (" +
        std::to_string(*m_.dataCount) + " vs no data section)");
  for (const Global &g : m_.definedGlobals)
    if (g.type.type == ValType::V128)
      m_.usesSimd = true;
  for (const Import &imp : m_.imports)
    if (imp.kind == ExternKind::Global && imp.global.type == ValType::V128)
      m_.usesSimd = true;
  return {};
}

// The "name" custom section's function names (subsection 1). A malformed
// name section is ignored, as the spec's appendix allows.
void ModuleDecoder::readNames() {
  m_.functionNames.assign(m_.functions.size(), std::string());
  if (!nameSection_)
    return;
  Reader r(*nameSection_, 0, "");
  std::vector<std::string> names(m_.functions.size());
  while (!r.atEnd()) {
    auto id = r.readByte();
    auto size = id ? r.readU32() : Expected<uint32_t>(0);
    if (!id || !size || *size > r.remaining())
      return;
    auto sub = r.readSub(*size);
    if (!sub)
      return;
    if (*id != 1)
      continue;
    auto count = sub->readCount(2);
    if (!count)
      return;
    for (uint32_t i = 0; i < *count; ++i) {
      auto index = sub->readU32();
      auto name = index ? sub->readName() : Expected<std::string>("");
      if (!index || !name)
        return;
      if (*index < names.size())
        names[*index] = std::move(*name);
    }
    if (!sub->atEnd())
      return;
  }
  m_.functionNames = std::move(names);
}

} // namespace

Expected<ModuleInfo> decodeModule(std::span<const uint8_t> bytes,
                                  DecodeOptions options) {
  return ModuleDecoder(bytes, options).run();
}

bool isValTypeByte(uint8_t byte) { return isValType(byte); }

} // namespace nomos::wasm
