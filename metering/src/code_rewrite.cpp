// Function-body rewrites for Binaryen 108 (see code_rewrite.h).
//
// The input was decoded and validated by decodeModule, so the walk below
// trusts it: it reads immediates to find instruction boundaries and follows
// the control stack to resolve labels, but checks nothing.
#include "code_rewrite.h"

#include "binary_writer.h"

#include <algorithm>
#include <map>
#include <optional>
#include <utility>

namespace nomos::metering {

namespace {

using wasm::FuncType;
using wasm::ValType;

enum : uint8_t {
  kUnreachable = 0x00,
  kBlock = 0x02,
  kLoop = 0x03,
  kIf = 0x04,
  kElse = 0x05,
  kEnd = 0x0b,
  kBr = 0x0c,
  kBrIf = 0x0d,
  kBrTable = 0x0e,
  kReturn = 0x0f,
  kCall = 0x10,
  kLocalGet = 0x20,
  kLocalSet = 0x21,
  kI32Const = 0x41,
  kMiscPrefix = 0xfc,
  kSimdPrefix = 0xfd,
  kEmptyBlockType = 0x40,
};




// A cursor over valid bytes.
struct Cursor {
  std::span<const uint8_t> bytes;
  size_t pos = 0;

  uint8_t byte() { return bytes[pos++]; }
  uint64_t leb() {
    uint64_t value = 0;
    for (unsigned shift = 0;; shift += 7) {
      uint8_t b = bytes[pos++];
      if (shift < 64)
        value |= uint64_t(b & 0x7f) << shift;
      if (!(b & 0x80))
        return value;
    }
  }
  int64_t sleb() {
    int64_t value = 0;
    unsigned shift = 0;
    uint8_t b;
    do {
      b = bytes[pos++];
      if (shift < 64)
        value |= int64_t(b & 0x7f) << shift;
      shift += 7;
    } while (b & 0x80);
    if (shift < 64 && (b & 0x40))
      value |= -(int64_t(1) << shift);
    return value;
  }
  void skip(size_t n) { pos += n; }
};

// Immediates of a SIMD instruction (0xfd sub).
void skipSimdImmediates(Cursor &c, uint32_t sub) {
  if (sub <= 11 || sub == 92 || sub == 93) { // loads, stores, load_zero
    c.leb();
    c.leb();
  } else if (sub == 12 || sub == 13) { // v128.const, i8x16.shuffle
    c.skip(16);
  } else if (sub >= 21 && sub <= 34) { // extract/replace lane
    c.skip(1);
  } else if (sub >= 84 && sub <= 91) { // load/store lane
    c.leb();
    c.leb();
    c.skip(1);
  }
}

struct Frame {
  uint8_t op = kBlock; // kBlock for the function's own frame
  std::vector<ValType> params; // non-empty when rewritten
  bool sawElse = false;
  bool unreachable = false; // the rest of this frame's code is dead
};

class Rewriter {
public:
  Rewriter(const wasm::ModuleInfo &info, CodeRewrite &result)
      : info_(info), result_(result) {}

  // Rewrites one body (locals and code) into `out`; false if unchanged.
  bool rewriteBody(uint32_t funcIndex, std::span<const uint8_t> body,
                   std::vector<char> &out);
  uint32_t markerFunction(TableMarker marker);
  uint32_t typeIndex(const FuncType &type);

private:
  void emitBlockType(const std::vector<ValType> &results);
  uint32_t scratch(ValType type, uint32_t ordinal);
  uint32_t conditionLocal() {
    if (!condition_)
      condition_ = newLocal(ValType::I32);
    return *condition_;
  }
  uint32_t newLocal(ValType type) {
    added_.push_back(type);
    return firstAdded_ + uint32_t(added_.size() - 1);
  }
  void localOp(uint8_t op, uint32_t index) {
    code_.push_back(static_cast<char>(op));
    appendLeb(code_, index);
  }
  // local.set t_k .. t_1 (the values on the stack into the scratch locals).
  void storeValues(const std::vector<ValType> &types);
  // local.get t_1 .. t_k.
  void loadValues(const std::vector<ValType> &types);
  void emitBrTable(const std::vector<uint32_t> &labels);
  void emitMarkerCall(TableMarker marker,
                      std::initializer_list<uint32_t> immediates);
  Frame &target(uint32_t label) {
    return frames_[frames_.size() - 1 - label];
  }

  const wasm::ModuleInfo &info_;
  CodeRewrite &result_;
  std::map<TableMarker, uint32_t> markerIndex_;

  // Per function.
  std::vector<char> code_;
  std::vector<Frame> frames_;
  uint32_t firstAdded_ = 0;
  std::vector<ValType> added_;
  std::map<std::pair<ValType, uint32_t>, uint32_t> scratch_;
  std::optional<uint32_t> condition_;
};

uint32_t Rewriter::typeIndex(const FuncType &type) {
  auto found = std::find(result_.types.begin(), result_.types.end(), type);
  if (found != result_.types.end())
    return uint32_t(found - result_.types.begin());
  result_.types.push_back(type);
  return uint32_t(result_.types.size() - 1);
}

uint32_t Rewriter::markerFunction(TableMarker marker) {
  auto [it, inserted] = markerIndex_.try_emplace(
      marker, uint32_t(info_.functions.size() + result_.markers.size()));
  if (inserted)
    result_.markers.push_back(marker);
  return it->second;
}

uint32_t Rewriter::scratch(ValType type, uint32_t ordinal) {
  auto [it, inserted] = scratch_.try_emplace({type, ordinal}, 0);
  if (inserted)
    it->second = newLocal(type);
  return it->second;
}

void Rewriter::storeValues(const std::vector<ValType> &types) {
  std::map<ValType, uint32_t> seen;
  std::vector<uint32_t> locals;
  for (ValType type : types)
    locals.push_back(scratch(type, seen[type]++));
  for (size_t i = locals.size(); i-- > 0;)
    localOp(kLocalSet, locals[i]);
}

void Rewriter::loadValues(const std::vector<ValType> &types) {
  std::map<ValType, uint32_t> seen;
  for (ValType type : types)
    localOp(kLocalGet, scratch(type, seen[type]++));
}

void Rewriter::emitBlockType(const std::vector<ValType> &results) {
  if (results.empty())
    code_.push_back(static_cast<char>(kEmptyBlockType));
  else if (results.size() == 1)
    code_.push_back(static_cast<char>(results[0]));
  else
    appendSleb(code_, typeIndex(FuncType{{}, results}));
}

// A br_table with a loop-with-parameters target (labels: targets, then the
// default). All targets take the same values (the operands' types), so the
// values are stored once into the scratch locals that the loop reads.
void Rewriter::emitBrTable(const std::vector<uint32_t> &labels) {
  std::vector<ValType> types;
  for (uint32_t label : labels)
    if (target(label).op == kLoop && !target(label).params.empty()) {
      types = target(label).params;
      break;
    }
  uint32_t index = conditionLocal();
  localOp(kLocalSet, index);
  storeValues(types);
  std::vector<uint32_t> distinct;
  for (uint32_t label : labels)
    if (std::find(distinct.begin(), distinct.end(), label) == distinct.end())
      distinct.push_back(label);
  const uint32_t n = uint32_t(distinct.size());
  for (uint32_t i = 0; i < n; ++i) {
    code_.push_back(static_cast<char>(kBlock));
    code_.push_back(static_cast<char>(kEmptyBlockType));
  }
  localOp(kLocalGet, index);
  code_.push_back(static_cast<char>(kBrTable));
  appendLeb(code_, labels.size() - 1);
  for (uint32_t label : labels) // case j leaves block j (depth j)
    appendLeb(code_, uint32_t(std::find(distinct.begin(), distinct.end(),
                                        label) -
                              distinct.begin()));
  for (uint32_t j = 0; j < n; ++j) {
    code_.push_back(static_cast<char>(kEnd));
    const Frame &frame = target(distinct[j]);
    if (!(frame.op == kLoop && !frame.params.empty()))
      loadValues(types);
    code_.push_back(static_cast<char>(kBr));
    appendLeb(code_, distinct[j] + (n - 1 - j));
  }
}

void Rewriter::emitMarkerCall(TableMarker marker,
                              std::initializer_list<uint32_t> immediates) {
  for (uint32_t value : immediates) {
    code_.push_back(static_cast<char>(kI32Const));
    appendSleb(code_, int32_t(value));
  }
  code_.push_back(static_cast<char>(kCall));
  appendLeb(code_, markerFunction(marker));
}

bool Rewriter::rewriteBody(uint32_t funcIndex, std::span<const uint8_t> body,
                           std::vector<char> &out) {
  Cursor c{body};
  code_.clear();
  frames_.assign(1, Frame{});
  added_.clear();
  scratch_.clear();
  condition_.reset();
  bool changed = false;

  uint64_t locals = info_.funcType(funcIndex).params.size();
  const uint64_t groups = c.leb();
  const size_t groupsEnd = c.pos;
  for (uint64_t i = 0; i < groups; ++i) {
    locals += c.leb();
    c.byte();
  }
  firstAdded_ = uint32_t(locals);
  const size_t codeStart = c.pos;

  while (!frames_.empty()) {
    const size_t start = c.pos;
    const uint8_t op = c.byte();
    auto copy = [&] {
      code_.insert(code_.end(), body.begin() + start, body.begin() + c.pos);
    };
    switch (op) {
    case kBlock:
    case kLoop:
    case kIf: {
      const uint8_t first = body[c.pos];
      Frame frame;
      frame.op = op;
      if (first == kEmptyBlockType || wasm::isValTypeByte(first)) {
        c.byte();
      } else {
        const FuncType &type = info_.types[uint32_t(c.sleb())];
        if (!type.params.empty()) {
          frame.params = type.params;
          changed = true;
          uint32_t cond = 0;
          if (op == kIf) {
            cond = conditionLocal();
            localOp(kLocalSet, cond);
          }
          storeValues(frame.params);
          if (op == kIf)
            localOp(kLocalGet, cond);
          code_.push_back(static_cast<char>(op));
          emitBlockType(type.results);
          loadValues(frame.params);
          frames_.push_back(std::move(frame));
          break;
        }
      }
      copy();
      frames_.push_back(std::move(frame));
      break;
    }
    case kElse:
      copy();
      frames_.back().sawElse = true;
      frames_.back().unreachable = false;
      if (!frames_.back().params.empty())
        loadValues(frames_.back().params);
      break;
    case kEnd: {
      Frame &frame = frames_.back();
      // An if without else takes its inputs as its results.
      if (frame.op == kIf && !frame.params.empty() && !frame.sawElse) {
        code_.push_back(static_cast<char>(kElse));
        loadValues(frame.params);
      }
      copy();
      frames_.pop_back();
      break;
    }
    case kBr:
    case kBrIf: {
      const uint32_t label = uint32_t(c.leb());
      const Frame &frame = target(label);
      if (frame.op == kLoop && !frame.params.empty()) {
        changed = true;
        if (op == kBr) {
          storeValues(frame.params);
        } else {
          uint32_t cond = conditionLocal();
          localOp(kLocalSet, cond);
          storeValues(frame.params);
          loadValues(frame.params);
          localOp(kLocalGet, cond);
        }
      }
      copy();
      if (op == kBr)
        frames_.back().unreachable = true;
      break;
    }
    case kBrTable: {
      const uint64_t count = c.leb();
      std::vector<uint32_t> labels;
      bool toParamLoop = false;
      for (uint64_t i = 0; i <= count; ++i) {
        labels.push_back(uint32_t(c.leb()));
        const Frame &frame = target(labels.back());
        toParamLoop |= frame.op == kLoop && !frame.params.empty();
      }
      if (!toParamLoop) {
        copy();
      } else if (frames_.back().unreachable) {
        // Dead code, where the targets' types may even differ (the stack
        // is polymorphic): never runs, so it becomes `unreachable`.
        changed = true;
        code_.push_back(static_cast<char>(kUnreachable));
      } else {
        changed = true;
        emitBrTable(labels);
      }
      frames_.back().unreachable = true;
      break;
    }
    case kUnreachable:
    case kReturn:
      copy();
      frames_.back().unreachable = true;
      break;
    case kCall:
    case kLocalGet:
    case kLocalSet:
    case 0x22: // local.tee
    case 0x23: // global.get
    case 0x24: // global.set
    case 0x25: // table.get
    case 0x26: // table.set
    case 0xd2: // ref.func
      c.leb();
      copy();
      break;
    case 0x11: // call_indirect type table
      c.leb();
      c.leb();
      copy();
      break;
    case 0x1c: { // select t*
      const uint64_t n = c.leb();
      c.skip(n);
      copy();
      break;
    }
    case 0x3f: // memory.size 0
    case 0x40: // memory.grow 0
    case 0xd0: // ref.null t
      c.byte();
      copy();
      break;
    case kI32Const:
    case 0x42: // i64.const
      c.sleb();
      copy();
      break;
    case 0x43: // f32.const
      c.skip(4);
      copy();
      break;
    case 0x44: // f64.const
      c.skip(8);
      copy();
      break;
    case kMiscPrefix: {
      const uint32_t sub = uint32_t(c.leb());
      switch (sub) {
      case 8: // memory.init data 0
        c.leb();
        c.byte();
        break;
      case 9: // data.drop
      case 15: // table.grow
      case 16: // table.size
        c.leb();
        break;
      case 10: // memory.copy 0 0
        c.byte();
        c.byte();
        break;
      case 11: // memory.fill 0
        c.byte();
        break;
      case 12: { // table.init elem table: (d, s, n) -> marker(d, s, n, elem, table)
        const uint32_t elem = uint32_t(c.leb());
        const uint32_t table = uint32_t(c.leb());
        emitMarkerCall(TableMarker::TableInit, {elem, table});
        changed = true;
        continue;
      }
      case 13: // elem.drop elem
        emitMarkerCall(TableMarker::ElemDrop, {uint32_t(c.leb())});
        changed = true;
        continue;
      case 14: { // table.copy dst src
        const uint32_t dst = uint32_t(c.leb());
        const uint32_t src = uint32_t(c.leb());
        emitMarkerCall(TableMarker::TableCopy, {dst, src});
        changed = true;
        continue;
      }
      case 17: { // table.fill table: (i, v, n) -> marker(i, v, n, table)
        const uint32_t table = uint32_t(c.leb());
        emitMarkerCall(info_.tables[table].elemType == ValType::ExternRef
                           ? TableMarker::TableFillExternRef
                           : TableMarker::TableFillFuncRef,
                       {table});
        changed = true;
        continue;
      }
      default: // 0-7: saturating truncations
        break;
      }
      copy();
      break;
    }
    case kSimdPrefix:
      skipSimdImmediates(c, uint32_t(c.leb()));
      copy();
      break;
    default:
      if (op >= 0x28 && op <= 0x3e) { // loads and stores: memarg
        c.leb();
        c.leb();
      }
      copy();
      break;
    }
  }
  if (!changed)
    return false;

  // Locals: the original declarations, then one group per added local.
  std::vector<char> header;
  appendLeb(header, groups + added_.size());
  header.insert(header.end(), body.begin() + groupsEnd,
                body.begin() + codeStart);
  for (ValType type : added_) {
    appendLeb(header, 1);
    header.push_back(static_cast<char>(type));
  }
  appendLeb(out, header.size() + code_.size());
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), code_.begin(), code_.end());
  return true;
}

} // namespace

const char *markerName(TableMarker marker) {
  switch (marker) {
  case TableMarker::TableInit:
    return "nomos$table.init";
  case TableMarker::ElemDrop:
    return "nomos$elem.drop";
  case TableMarker::TableCopy:
    return "nomos$table.copy";
  case TableMarker::TableFillFuncRef:
    return "nomos$table.fill.funcref";
  case TableMarker::TableFillExternRef:
    return "nomos$table.fill.externref";
  }
  return "nomos$marker";
}

CodeRewrite rewriteCode(std::span<const uint8_t> code,
                        const wasm::ModuleInfo &info) {
  CodeRewrite result;
  result.types = info.types;
  Rewriter rewriter(info, result);

  Cursor c{code};
  const uint64_t count = c.leb();
  std::vector<char> bodies;
  for (uint64_t i = 0; i < count; ++i) {
    const size_t sizeStart = c.pos;
    const uint64_t size = c.leb();
    std::span<const uint8_t> body = code.subspan(c.pos, size);
    if (!rewriter.rewriteBody(uint32_t(info.importedFunctions + i), body,
                              bodies))
      bodies.insert(bodies.end(), code.begin() + sizeStart,
                    code.begin() + c.pos + size);
    c.skip(size);
  }

  // Markers: (no locals) unreachable end.
  std::vector<uint32_t> markerTypes;
  for (TableMarker marker : result.markers) {
    using enum ValType;
    FuncType type;
    switch (marker) {
    case TableMarker::TableInit:
    case TableMarker::TableCopy:
      type.params = {I32, I32, I32, I32, I32};
      break;
    case TableMarker::ElemDrop:
      type.params = {I32};
      break;
    case TableMarker::TableFillFuncRef:
      type.params = {I32, FuncRef, I32, I32};
      break;
    case TableMarker::TableFillExternRef:
      type.params = {I32, ExternRef, I32, I32};
      break;
    }
    markerTypes.push_back(rewriter.typeIndex(type));
    bodies.insert(bodies.end(), {3, 0x00, char(kUnreachable), char(kEnd)});
  }

  appendLeb(result.codeSection, count + result.markers.size());
  result.codeSection.insert(result.codeSection.end(), bodies.begin(),
                            bodies.end());

  const size_t defined = info.functions.size() - info.importedFunctions;
  appendLeb(result.functionSection, defined + result.markers.size());
  for (size_t i = info.importedFunctions; i < info.functions.size(); ++i)
    appendLeb(result.functionSection, info.functions[i]);
  for (uint32_t type : markerTypes)
    appendLeb(result.functionSection, type);
  return result;
}

} // namespace nomos::metering
