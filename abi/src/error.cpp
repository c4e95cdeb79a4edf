#include <nomos/error.h>

namespace nomos {

std::string_view errorKindName(ErrorKind kind) {
  switch (kind) {
  case ErrorKind::Unreachable: return "unreachable";
  case ErrorKind::MemoryOutOfBounds: return "memory_out_of_bounds";
  case ErrorKind::TableOutOfBounds: return "table_out_of_bounds";
  case ErrorKind::IndirectCallNull: return "indirect_call_null";
  case ErrorKind::IndirectCallTypeMismatch: return "indirect_call_type_mismatch";
  case ErrorKind::IntegerDivideByZero: return "integer_divide_by_zero";
  case ErrorKind::IntegerOverflow: return "integer_overflow";
  case ErrorKind::InvalidConversion: return "invalid_conversion";
  case ErrorKind::StackExhausted: return "stack_exhausted";
  case ErrorKind::OutOfGas: return "out_of_gas";
  case ErrorKind::MemoryLimit: return "memory_limit";
  case ErrorKind::StorageLimit: return "storage_limit";
  case ErrorKind::HostError: return "host_error";
  case ErrorKind::GuestAbort: return "guest_abort";
  case ErrorKind::MalformedModule: return "malformed_module";
  case ErrorKind::InvalidModule: return "invalid_module";
  case ErrorKind::Unsupported: return "unsupported";
  case ErrorKind::LinkError: return "link_error";
  case ErrorKind::UnknownExport: return "unknown_export";
  case ErrorKind::BadArguments: return "bad_arguments";
  case ErrorKind::CompileError: return "compile_error";
  case ErrorKind::ResourceError: return "resource_error";
  case ErrorKind::DecodeError: return "decode_error";
  case ErrorKind::IoError: return "io_error";
  }
  return "unknown";
}

std::string Error::toString() const {
  std::string out(errorKindName(kind));
  if (!message.empty())
    out += ": " + message;
  // One line a wasm frame, innermost first: "  at NAME (func[N])", or
  // "  at func[N]" for a function the name section does not name.
  for (const Frame &frame : backtrace) {
    std::string index = "func[" + std::to_string(frame.functionIndex) + "]";
    out += "\n  at " + frame.functionName;
    if (frame.functionName != index)
      out += " (" + index + ")";
  }
  return out;
}

} // namespace nomos
