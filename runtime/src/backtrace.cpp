#include "backtrace.h"

#include "module.h"

#include <nomos/compiler/runtime_abi.h>

#include <map>
#include <shared_mutex>
#include <unordered_map>
#include <unordered_set>

namespace nomos {

namespace {

struct Entry {
  uintptr_t end;
  CodeKind kind;
  uint32_t functionIndex;
  const Module *module;
};

// Every linked module's code, by start address. Read on the trap path (not
// in a signal handler: memory faults are redirected first), written when a
// module is linked or destroyed, never while its code is on a stack.
class CodeMap {
public:
  void add(const Module &module, const std::vector<CodeRange> &ranges) {
    std::unique_lock lock(mutex_);
    for (const CodeRange &range : ranges)
      entries_[range.start] = {range.end, range.kind, range.functionIndex,
                               &module};
  }

  void remove(const Module &module) {
    std::unique_lock lock(mutex_);
    std::erase_if(entries_,
                  [&](const auto &entry) { return entry.second.module == &module; });
  }

  // Caller holds the lock (shared).
  const Entry *find(uintptr_t pc) const {
    auto it = entries_.upper_bound(pc);
    if (it == entries_.begin())
      return nullptr;
    --it;
    return pc < it->second.end ? &it->second : nullptr;
  }

  std::shared_mutex &mutex() { return mutex_; }

private:
  std::shared_mutex mutex_;
  std::map<uintptr_t, Entry> entries_;
};

CodeMap &codeMap() {
  static CodeMap *map = new CodeMap(); // never destroyed: used at exit
  return *map;
}

bool startsWith(const std::string &text, std::string_view prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

// One frame record of the frame-pointer chain: the same layout on x86-64
// (push rbp; mov rbp, rsp) and AArch64 (stp x29, x30).
struct FrameRecord {
  uintptr_t next;
  uintptr_t returnAddress;
};

} // namespace

void registerCode(const Module &module, std::vector<CodeRange> ranges) {
  codeMap().add(module, ranges);
}

void unregisterCode(const Module &module) { codeMap().remove(module); }

std::vector<CodeRange> classifyCode(const std::vector<CodeSymbol> &symbols,
                                    void *const *functionTable,
                                    uint32_t functionCount) {
  // Wasm function i is "w.NAME" at functionTable[i], a wrapper of its body
  // "w.g.NAME". NAME is Binaryen's, so bodies are matched to functions
  // through their wrapper's symbol.
  std::unordered_map<uintptr_t, uint32_t> indexOfEntry;
  for (uint32_t i = 0; i < functionCount; ++i)
    if (functionTable[i])
      indexOfEntry[reinterpret_cast<uintptr_t>(functionTable[i])] = i;
  std::unordered_map<std::string, uint32_t> indexOfName;
  for (const CodeSymbol &symbol : symbols)
    if (auto it = indexOfEntry.find(symbol.start); it != indexOfEntry.end())
      indexOfName[symbol.name] = it->second;

  // A wrapper with a body only forwards to it: the body is the frame.
  std::unordered_set<std::string> forwarders;
  for (const CodeSymbol &symbol : symbols)
    if (startsWith(symbol.name, "w.g."))
      forwarders.insert("w." + symbol.name.substr(4));

  std::vector<CodeRange> ranges;
  for (const CodeSymbol &symbol : symbols) {
    CodeRange range{symbol.start, symbol.start + symbol.size,
                    CodeKind::Function, 0};
    if (auto it = indexOfName.find(symbol.name); it != indexOfName.end()) {
      range.functionIndex = it->second;
      if (forwarders.count(symbol.name))
        range.kind = CodeKind::Forwarder;
    } else if (startsWith(symbol.name, "w.g.")) {
      auto wrapper = indexOfName.find("w." + symbol.name.substr(4));
      if (wrapper == indexOfName.end())
        continue;
      range.functionIndex = wrapper->second;
    } else if (startsWith(symbol.name, rt::kInvokePrefix)) {
      range.kind = CodeKind::Thunk;
    } else if (startsWith(symbol.name, rt::kHostAdapterPrefix)) {
      range.kind = CodeKind::Forwarder;
    } else {
      continue; // code LLVM made of its own: not a frame of ours
    }
    ranges.push_back(range);
  }
  return ranges;
}

std::vector<Frame> walkBacktrace(const void *fp, const void *top) {
  std::vector<Frame> frames;
  auto limit = reinterpret_cast<uintptr_t>(top);
  auto at = reinterpret_cast<uintptr_t>(fp);
  bool inGuest = false;
  CodeMap &map = codeMap();
  std::shared_lock lock(map.mutex());
  // Each step moves strictly up the stack and stays below `top`, so every
  // read is of live stack memory, whatever a frame without a frame
  // pointer left in the register.
  while (frames.size() < kMaxBacktraceFrames && at % alignof(FrameRecord) == 0 &&
         at != 0 && at < limit && limit - at >= sizeof(FrameRecord)) {
    const auto &record = *reinterpret_cast<const FrameRecord *>(at);
      // A return address is just past its call: look up the call itself.
    const Entry *entry = map.find(record.returnAddress - 1);
    if (!entry) {
      if (inGuest)
        break; // back in the runtime below an invoke
    } else if (entry->kind == CodeKind::Thunk) {
      break;
    } else if (entry->kind == CodeKind::Function) {
      frames.push_back({entry->functionIndex,
                        entry->module->functionName(entry->functionIndex)});
      inGuest = true;
    }
    if (record.next <= at)
      break;
    at = record.next;
  }
  return frames;
}

} // namespace nomos
