// The binary Binaryen reads (see binaryen_input.h).
//
// Function names. Binaryen 108 names a function without an entry in the
// name section by default ("fimport$K" for the K-th imported function, the
// defined-function index "0", "1", ... otherwise) and ends the process
// ("Module::addFunction: 0 already exists") when an explicit name equals a
// default one still in use. Explicit names it escapes and deduplicates
// itself ("x", "x.1"). So every function gets an entry here, and a name
// Binaryen could confuse with a default is replaced by the function index:
// then no default name is ever used by a defined function. An imported
// function's default name stays in Binaryen's lookup table until the end of
// the read even when the name section renames it, so no name may start with
// "fimport$" either. Names with a NUL byte (valid wasm, refused by
// Binaryen's reader) are replaced the same way.
#include "binaryen_input.h"

#include "binary_writer.h"

#include "code_rewrite.h"

#include <optional>
#include <string>
#include <string_view>

namespace nomos::metering {

namespace {

enum : uint8_t {
  kCustom = 0,
  kType = 1,
  kImport = 2,
  kFunction = 3,
  kExport = 7,
  kStart = 8,
  kElement = 9,
  kCode = 10,
  kData = 11,
};



void appendSection(std::vector<char> &out, uint8_t id,
                   const std::vector<char> &payload) {
  out.push_back(static_cast<char>(id));
  appendLeb(out, payload.size());
  out.insert(out.end(), payload.begin(), payload.end());
}

void appendLimits(std::vector<char> &out, const wasm::Limits &limits) {
  out.push_back(limits.max ? 0x01 : 0x00);
  appendLeb(out, limits.min);
  if (limits.max)
    appendLeb(out, *limits.max);
}

std::vector<char> importSection(const wasm::ModuleInfo &info) {
  std::vector<char> out;
  appendLeb(out, info.imports.size());
  for (size_t i = 0; i < info.imports.size(); ++i) {
    const wasm::Import &imp = info.imports[i];
    appendName(out, "m");
    std::string field = "i"; // (not "i" + to_string: GCC 12 -Wrestrict)
    field += std::to_string(i);
    appendName(out, field);
    out.push_back(static_cast<char>(imp.kind));
    switch (imp.kind) {
    case wasm::ExternKind::Func:
      appendLeb(out, imp.typeIndex);
      break;
    case wasm::ExternKind::Table:
      out.push_back(static_cast<char>(imp.table.elemType));
      appendLimits(out, imp.table.limits);
      break;
    case wasm::ExternKind::Memory:
      appendLimits(out, imp.memory);
      break;
    case wasm::ExternKind::Global:
      out.push_back(static_cast<char>(imp.global.type));
      out.push_back(imp.global.isMutable ? 0x01 : 0x00);
      break;
    }
  }
  return out;
}

// As many segments as the module has, each passive (flags 1) and empty.
std::vector<char> dataSection(const wasm::ModuleInfo &info) {
  std::vector<char> out;
  appendLeb(out, info.datas.size());
  for (size_t i = 0; i < info.datas.size(); ++i) {
    out.push_back(0x01);
    out.push_back(0x00);
  }
  return out;
}

bool binaryenTakesName(std::string_view name) {
  return !name.empty() && name.find('\0') == name.npos &&
         !name.starts_with("fimport$");
}

std::vector<char> typeSection(const std::vector<wasm::FuncType> &types) {
  std::vector<char> out;
  appendLeb(out, types.size());
  for (const wasm::FuncType &type : types) {
    out.push_back(0x60);
    for (const auto *list : {&type.params, &type.results}) {
      appendLeb(out, list->size());
      for (wasm::ValType value : *list)
        out.push_back(static_cast<char>(value));
    }
  }
  return out;
}

// A "name" custom section with one subsection: function names (id 1).
std::vector<char> nameSection(const wasm::ModuleInfo &info,
                              const std::vector<TableMarker> &markers) {
  std::vector<char> names;
  appendLeb(names, info.functions.size() + markers.size());
  for (uint32_t i = 0; i < info.functions.size(); ++i) {
    appendLeb(names, i);
    std::string_view name;
    if (i < info.functionNames.size())
      name = info.functionNames[i];
    appendName(names, binaryenTakesName(name) ? std::string(name)
                                              : std::to_string(i));
  }
  for (size_t i = 0; i < markers.size(); ++i) {
    appendLeb(names, info.functions.size() + i);
    appendName(names, markerName(markers[i]));
  }
  std::vector<char> out;
  appendName(out, "name");
  out.push_back(0x01);
  appendLeb(out, names.size());
  out.insert(out.end(), names.begin(), names.end());
  return out;
}

// The input is a module decodeModule accepted, so every section header is
// well-formed; reads still stop at the end of the bytes.
bool readLeb(std::span<const uint8_t> bytes, size_t &pos, uint32_t &value) {
  value = 0;
  for (int shift = 0; shift < 35 && pos < bytes.size(); shift += 7) {
    uint8_t byte = bytes[pos++];
    value |= uint32_t(byte & 0x7f) << shift;
    if (!(byte & 0x80))
      return true;
  }
  return false;
}

} // namespace

std::vector<char> binaryenInput(std::span<const uint8_t> bytes,
                                const wasm::ModuleInfo &info,
                                std::vector<TableMarker> &markers) {
  static constexpr uint8_t kHeader[] = {0x00, 0x61, 0x73, 0x6d,
                                        0x01, 0x00, 0x00, 0x00};
  // Bodies Binaryen cannot read are rewritten (code_rewrite.h); then the
  // type, function and code sections are the rewrite's.
  std::optional<CodeRewrite> rewrite;
  if (info.usesBlockParams || info.usesTableBulkOps) {
    for (size_t pos = sizeof kHeader; pos < bytes.size();) {
      const uint8_t id = bytes[pos++];
      uint32_t size = 0;
      if (!readLeb(bytes, pos, size) || size > bytes.size() - pos)
        break;
      if (id == kCode)
        rewrite = rewriteCode(bytes.subspan(pos, size), info);
      pos += size;
    }
  }
  markers = rewrite ? rewrite->markers : std::vector<TableMarker>{};
  std::vector<char> out(std::begin(kHeader), std::end(kHeader));
  size_t pos = sizeof kHeader;
  while (pos < bytes.size()) {
    const size_t start = pos;
    const uint8_t id = bytes[pos++];
    uint32_t size = 0;
    if (!readLeb(bytes, pos, size) || size > bytes.size() - pos)
      break;
    pos += size;
    switch (id) {
    case kCustom:
    case kExport:
    case kStart:
    case kElement:
      break;
    case kImport:
      appendSection(out, kImport, importSection(info));
      break;
    case kData:
      appendSection(out, kData, dataSection(info));
      break;
    case kType:
    case kFunction:
    case kCode:
      if (rewrite) {
        appendSection(out, id,
                      id == kType       ? typeSection(rewrite->types)
                      : id == kFunction ? rewrite->functionSection
                                        : rewrite->codeSection);
        break;
      }
      out.insert(out.end(), bytes.begin() + start, bytes.begin() + pos);
      break;
    default: // type, function, table, memory, global, data count, code
      out.insert(out.end(), bytes.begin() + start, bytes.begin() + pos);
      break;
    }
  }
  if (!info.functions.empty())
    appendSection(out, kCustom, nameSection(info, markers));
  return out;
}

} // namespace nomos::metering
