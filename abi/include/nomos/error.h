// Errors are values: every fallible Nomos API returns tl::expected<T, Error>.
// An Error has a kind a program can match on and a message a person can act
// on. Traps are Errors whose kind is one of the trap kinds (isTrap()).
#pragma once

#include <nomos/abi.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#define NOMOS_API __attribute__((visibility("default")))

namespace nomos {

enum class ErrorKind : uint8_t {
  // Traps: a call that started and did not return normally. The values match
  // enum nomos_trap in abi.h, which guests see from child_call.
  Unreachable = NOMOS_TRAP_UNREACHABLE,
  MemoryOutOfBounds = NOMOS_TRAP_MEMORY_OUT_OF_BOUNDS,
  TableOutOfBounds = NOMOS_TRAP_TABLE_OUT_OF_BOUNDS,
  IndirectCallNull = NOMOS_TRAP_INDIRECT_CALL_NULL,
  IndirectCallTypeMismatch = NOMOS_TRAP_INDIRECT_CALL_TYPE,
  IntegerDivideByZero = NOMOS_TRAP_INTEGER_DIVIDE_BY_ZERO,
  IntegerOverflow = NOMOS_TRAP_INTEGER_OVERFLOW,
  InvalidConversion = NOMOS_TRAP_INVALID_CONVERSION,
  StackExhausted = NOMOS_TRAP_STACK_EXHAUSTED,
  OutOfGas = NOMOS_TRAP_OUT_OF_GAS,
  MemoryLimit = NOMOS_TRAP_MEMORY_LIMIT,
  StorageLimit = NOMOS_TRAP_STORAGE_LIMIT,
  HostError = NOMOS_TRAP_HOST_ERROR,
  GuestAbort = NOMOS_TRAP_GUEST_ABORT,
  // Errors before or around a call.
  MalformedModule = 64, // not a well-formed wasm binary
  InvalidModule,        // well-formed, but fails validation
  Unsupported,          // valid wasm that Nomos does not run (yet)
  LinkError,            // an import Nomos cannot provide
  UnknownExport,        // no export of that name, or not a function
  BadArguments,         // wrong number or type of call arguments
  CompileError,         // LLVM failed to compile or link the code
  ResourceError,        // the host ran out of something (address space)
  DecodeError,          // host-side decode<T> of bytes of the wrong shape
  IoError,              // reading or writing a file
};

// A wasm frame of a trap's backtrace (innermost first).
struct Frame {
  uint32_t functionIndex = 0;
  std::string functionName; // from the name section, or "func[N]"
};

struct NOMOS_API Error {
  ErrorKind kind;
  std::string message;
  std::vector<Frame> backtrace;

  bool isTrap() const { return static_cast<uint8_t>(kind) < 64; }
  // "out of bounds memory access: store of 4 bytes at 65536", etc.
  std::string toString() const;
};

// A trap is an Error of a trap kind.
using Trap = Error;

template <class T> using Expected = tl::expected<T, Error>;

inline tl::unexpected<Error> makeError(ErrorKind kind, std::string message) {
  return tl::unexpected<Error>(Error{kind, std::move(message), {}});
}

// Stable, lower-case name of a kind ("out_of_gas", "invalid_module", ...),
// used by the CLI's JSON and by messages.
NOMOS_API std::string_view errorKindName(ErrorKind kind);

} // namespace nomos
