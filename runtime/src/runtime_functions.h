// The runtime functions generated code calls, by absolute address.
#pragma once

#include <nomos/compiler/runtime_abi.h>

#include <cstdint>

extern "C" {
using nomos::rt::ValueSlot;
using nomos::rt::VMContext;
[[noreturn]] void nomos_rt_trap(VMContext *ctx, int32_t code);
int32_t nomos_rt_memory_grow(VMContext *ctx, int32_t delta);
void nomos_rt_host_call(VMContext *ctx, int32_t importIndex, ValueSlot *slots);
uint64_t nomos_rt_table_get(VMContext *ctx, int32_t table, int32_t index);
void nomos_rt_table_set(VMContext *ctx, int32_t table, int32_t index,
                        uint64_t value);
int32_t nomos_rt_table_grow(VMContext *ctx, int32_t table, uint64_t init,
                            int32_t delta);
void nomos_rt_table_fill(VMContext *ctx, int32_t table, int32_t dest,
                         uint64_t value, int32_t count);
void nomos_rt_table_copy(VMContext *ctx, int32_t destTable, int32_t srcTable,
                         int32_t dest, int32_t src, int32_t count);
void nomos_rt_table_init(VMContext *ctx, int32_t table, int32_t segment,
                         int32_t dest, int32_t offset, int32_t count);
void nomos_rt_elem_drop(VMContext *ctx, int32_t segment);
void nomos_rt_memory_init(VMContext *ctx, int32_t segment, int32_t dest,
                          int32_t offset, int32_t count);
void nomos_rt_data_drop(VMContext *ctx, int32_t segment);
}
