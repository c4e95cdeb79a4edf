// Loads compiled objects into native memory with LLVM ORC (LLJIT/JITLink).
#pragma once

#include <nomos/error.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace llvm::orc {
class LLJIT;
class JITDylib;
} // namespace llvm::orc

namespace nomos {

// A symbol of linked code: its name and address range.
struct CodeSymbol {
  std::string name;
  uintptr_t start;
  uint64_t size;
};

// The code of one module, linked: its symbols stay valid while this lives.
class LinkedCode {
public:
  ~LinkedCode();
  LinkedCode(const LinkedCode &) = delete;
  LinkedCode &operator=(const LinkedCode &) = delete;
  // Addresses of the symbols asked for at link time, in that order.
  const std::vector<void *> &symbols() const { return symbols_; }
  // Its function symbols, named as in the object (for backtraces).
  const std::vector<CodeSymbol> &code() const { return code_; }

private:
  friend class Jit;
  LinkedCode() = default;
  std::shared_ptr<class Jit> jit_;
  llvm::orc::JITDylib *dylib_ = nullptr;
  std::vector<void *> symbols_;
  std::vector<CodeSymbol> code_;
};

class Jit : public std::enable_shared_from_this<Jit> {
public:
  static Expected<std::shared_ptr<Jit>> create();
  ~Jit();

  // Links a relocatable object in a JITDylib of its own, where it sees only
  // the runtime functions (bound by absolute address), never the process's
  // symbol table, and returns the addresses of `names`.
  Expected<std::unique_ptr<LinkedCode>>
  link(const std::vector<uint8_t> &object, const std::vector<std::string> &names);

private:
  friend class LinkedCode;
  Jit() = default;
  void remove(llvm::orc::JITDylib *dylib);

  std::unique_ptr<llvm::orc::LLJIT> jit_;
  // Code symbols of the objects being linked, by JITDylib (jit.cpp).
  std::shared_ptr<class CodeRecorder> recorder_;
  std::mutex mutex_;
  uint64_t nextId_ = 0;
};

} // namespace nomos
