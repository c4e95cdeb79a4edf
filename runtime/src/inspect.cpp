// Engine::inspect: the text of a module at every stage of the pipeline.
#include "engine_impl.h"

#include <nomos/compiler/compiler.h>
#include <nomos/metering/binaryen_module.h>
#include <nomos/metering/gas_injection.h>

#include <binaryen-c.h>

#include <cstdlib>

namespace nomos {

std::optional<Stage> parseStage(std::string_view name) {
  if (name == "wasm") return Stage::Wasm;
  if (name == "metered") return Stage::Metered;
  if (name == "llvm") return Stage::LLVM;
  if (name == "llvm-opt") return Stage::LLVMOpt;
  if (name == "asm") return Stage::Asm;
  return std::nullopt;
}

namespace {

std::string wasmText(BinaryenModuleRef module) {
  char *text = BinaryenModuleAllocateAndWriteText(module);
  std::string result = text ? text : "";
  free(text);
  return result;
}

bool isNameChar(char c) {
  return !(c == ' ' || c == '\t' || c == '\n' || c == '(' || c == ')');
}

// The `(func $NAME ...)` form of Binaryen's text, parentheses matched
// (strings and `;;` comments skipped).
std::optional<std::string> cutWasmFunction(const std::string &text,
                                           std::string_view name) {
  std::string needle = "(func $" + std::string(name);
  for (size_t at = text.find(needle); at != std::string::npos;
       at = text.find(needle, at + 1)) {
    size_t after = at + needle.size();
    if (after < text.size() && isNameChar(text[after]))
      continue; // a longer name
    int depth = 0;
    for (size_t i = at; i < text.size(); ++i) {
      char c = text[i];
      if (c == '"') {
        for (++i; i < text.size() && text[i] != '"'; ++i)
          if (text[i] == '\\')
            ++i;
      } else if (c == ';' && i + 1 < text.size() && text[i + 1] == ';') {
        while (i < text.size() && text[i] != '\n')
          ++i;
      } else if (c == '(') {
        ++depth;
      } else if (c == ')' && --depth == 0) {
        // Include the line's indentation for readability.
        size_t lineStart = text.rfind('\n', at);
        lineStart = lineStart == std::string::npos ? 0 : lineStart + 1;
        return text.substr(lineStart, i + 1 - lineStart) + "\n";
      }
    }
    return std::nullopt;
  }
  return std::nullopt;
}

// Spellings of a symbol in LLVM's text: plain or quoted.
std::vector<std::string> llvmSymbols(std::string_view symbol) {
  return {std::string(symbol), "\"" + std::string(symbol) + "\""};
}

// `define ... @SYMBOL(...) ... { ... }` of LLVM IR text.
std::optional<std::string> cutLLVMSymbol(const std::string &text,
                                         std::string_view name) {
  for (const std::string &symbol : llvmSymbols(name)) {
    std::string needle = "@" + symbol + "(";
    for (size_t at = text.find(needle); at != std::string::npos;
         at = text.find(needle, at + 1)) {
      size_t lineStart = text.rfind('\n', at);
      lineStart = lineStart == std::string::npos ? 0 : lineStart + 1;
      if (text.compare(lineStart, 7, "define ") != 0)
        continue; // a call or a declaration
      size_t end = text.find("\n}\n", at);
      if (end == std::string::npos)
        return std::nullopt;
      return text.substr(lineStart, end + 3 - lineStart);
    }
  }
  return std::nullopt;
}

// From the label `SYMBOL:` to the function's `.size` directive.
std::optional<std::string> cutAsmSymbol(const std::string &text,
                                        std::string_view name) {
  for (const std::string &symbol : llvmSymbols(name)) {
    std::string label = "\n" + symbol + ":";
    size_t at = text.find(label);
    if (at == std::string::npos)
      continue;
    size_t start = at + 1;
    // Take the `.type` line before the label too, when there is one.
    std::string type = "\t.type\t" + symbol + ",@function\n";
    if (size_t t = text.rfind(type, at); t != std::string::npos &&
                                         text.find('\n', t + 1) + 1 >= at)
      start = t;
    std::string size = "\t.size\t" + symbol + ",";
    size_t end = text.find(size, at);
    if (end == std::string::npos)
      return text.substr(start);
    end = text.find('\n', end);
    return text.substr(start, end == std::string::npos ? std::string::npos
                                                       : end + 1 - start);
  }
  return std::nullopt;
}

// Wasm function NAME is its wrapper "w.NAME" (the entry for thunks and
// tables) and its body "w.g.NAME" (ModuleLowering::bodies).
template <auto cutSymbol>
std::optional<std::string> cutFunction(const std::string &text,
                                       std::string_view name) {
  auto wrapper = cutSymbol(text, "w." + std::string(name));
  if (!wrapper)
    return std::nullopt;
  auto body = cutSymbol(text, "w.g." + std::string(name));
  return body ? *wrapper + "\n" + *body : *wrapper;
}

} // namespace

Expected<std::string> Engine::inspect(ByteView code, Stage stage,
                                      std::string_view function) const {
  auto loaded = metering::loadModule(code.span());
  if (!loaded)
    return tl::unexpected(loaded.error());
  auto select = [&](std::string text, auto cut) -> Expected<std::string> {
    if (function.empty())
      return text;
    if (auto part = cut(text, function))
      return *part;
    return makeError(ErrorKind::BadArguments,
                     "no function named \"" + std::string(function) +
                         "\" at this stage");
  };
  if (stage == Stage::Wasm)
    return select(wasmText(loaded->binaryen.get()), cutWasmFunction);
  const EngineOptions &options = impl_->options;
  bool metered = stage == Stage::Metered || options.metering;
  if (metered) {
    if (auto injected = metering::injectGas(*loaded, options.schedule); !injected)
      return tl::unexpected(injected.error());
  }
  compiler::CompileOptions compileOptions = compileOptionsFor(options, metered);
  std::string text;
  std::optional<std::string> (*cut)(const std::string &, std::string_view) =
      cutWasmFunction;
  switch (stage) {
  case Stage::Wasm:
  case Stage::Metered:
    text = wasmText(loaded->binaryen.get());
    break;
  case Stage::LLVM:
  case Stage::LLVMOpt: {
    auto ir = compiler::emitLLVMIR(*loaded, compileOptions,
                                   stage == Stage::LLVMOpt);
    if (!ir)
      return tl::unexpected(ir.error());
    text = std::move(*ir);
    cut = cutFunction<cutLLVMSymbol>;
    break;
  }
  case Stage::Asm: {
    auto assembly = compiler::emitAssembly(*loaded, compileOptions);
    if (!assembly)
      return tl::unexpected(assembly.error());
    text = std::move(*assembly);
    cut = cutFunction<cutAsmSymbol>;
    break;
  }
  }
  return select(std::move(text), cut);
}

} // namespace nomos
