// The runtime functions generated code calls (runtime_abi.h). Each one that
// can trap builds its Error inside an inner scope and unwinds only after it
// closed, so no destructor is skipped.
#include "runtime_functions.h"

#include "module_instance.h"

#include <algorithm>
#include <cstring>

using nomos::instanceOf;
using nomos::ModuleInstance;
using nomos::rt::VMContext;

namespace {
// Traps with `result`'s error when it has one.
void trapOnError(nomos::Expected<void> &&result) {
  bool failed = false;
  {
    nomos::Expected<void> owned = std::move(result);
    if (!owned) {
      nomos::setTrap(std::move(owned.error()));
      failed = true;
    }
  }
  if (failed)
    nomos::unwindTrap();
}

nomos::TableData &tableOf(VMContext *ctx, int32_t table) {
  return instanceOf(ctx).table(static_cast<uint32_t>(table));
}
} // namespace

void nomos_rt_trap(VMContext *, int32_t code) {
  nomos::trap(static_cast<nomos_trap>(code));
}

int32_t nomos_rt_memory_grow(VMContext *ctx, int32_t delta) {
  return instanceOf(ctx).growMemory(static_cast<uint32_t>(delta));
}

void nomos_rt_host_call(VMContext *ctx, int32_t importIndex,
                        nomos::rt::ValueSlot *slots) {
  instanceOf(ctx).callHost(static_cast<uint32_t>(importIndex), slots);
}

uint64_t nomos_rt_table_get(VMContext *ctx, int32_t table, int32_t index) {
  nomos::TableData &t = tableOf(ctx, table);
  if (static_cast<uint32_t>(index) >= t.elements.size())
    nomos::trap(NOMOS_TRAP_TABLE_OUT_OF_BOUNDS);
  return t.elements[static_cast<uint32_t>(index)];
}

void nomos_rt_table_set(VMContext *ctx, int32_t table, int32_t index,
                        uint64_t value) {
  nomos::TableData &t = tableOf(ctx, table);
  if (static_cast<uint32_t>(index) >= t.elements.size())
    nomos::trap(NOMOS_TRAP_TABLE_OUT_OF_BOUNDS);
  t.elements[static_cast<uint32_t>(index)] = value;
  nomos::keepReferenced(t, value);
}

int32_t nomos_rt_table_grow(VMContext *ctx, int32_t table, uint64_t init,
                            int32_t delta) {
  nomos::TableData &t = tableOf(ctx, table);
  int32_t old = t.grow(static_cast<uint32_t>(delta), init);
  if (old >= 0)
    nomos::keepReferenced(t, init);
  return old;
}

void nomos_rt_table_fill(VMContext *ctx, int32_t table, int32_t dest,
                         uint64_t value, int32_t count) {
  nomos::TableData &t = tableOf(ctx, table);
  if (uint64_t(uint32_t(dest)) + uint32_t(count) > t.elements.size())
    nomos::trap(NOMOS_TRAP_TABLE_OUT_OF_BOUNDS);
  std::fill_n(t.elements.begin() + uint32_t(dest), uint32_t(count), value);
  nomos::keepReferenced(t, value);
}

void nomos_rt_table_copy(VMContext *ctx, int32_t destTable, int32_t srcTable,
                         int32_t dest, int32_t src, int32_t count) {
  nomos::TableData &to = tableOf(ctx, destTable);
  nomos::TableData &from = tableOf(ctx, srcTable);
  uint32_t n = uint32_t(count);
  if (uint64_t(uint32_t(dest)) + n > to.elements.size() ||
      uint64_t(uint32_t(src)) + n > from.elements.size())
    nomos::trap(NOMOS_TRAP_TABLE_OUT_OF_BOUNDS);
  // Overlapping ranges copy as memmove does.
  std::memmove(to.elements.data() + uint32_t(dest),
               from.elements.data() + uint32_t(src), n * sizeof(uint64_t));
  if (&to != &from)
    for (uint32_t i = 0; i < n; ++i)
      nomos::keepReferenced(to, to.elements[uint32_t(dest) + i]);
}

void nomos_rt_table_init(VMContext *ctx, int32_t table, int32_t segment,
                         int32_t dest, int32_t offset, int32_t count) {
  trapOnError(instanceOf(ctx).initTable(uint32_t(table), uint32_t(segment),
                                        uint32_t(dest), uint32_t(offset),
                                        uint32_t(count)));
}

void nomos_rt_elem_drop(VMContext *ctx, int32_t segment) {
  instanceOf(ctx).dropElements(uint32_t(segment));
}

void nomos_rt_memory_init(VMContext *ctx, int32_t segment, int32_t dest,
                          int32_t offset, int32_t count) {
  trapOnError(instanceOf(ctx).initMemory(uint32_t(segment), uint32_t(dest),
                                         uint32_t(offset), uint32_t(count)));
}

void nomos_rt_data_drop(VMContext *ctx, int32_t segment) {
  instanceOf(ctx).dropData(uint32_t(segment));
}
