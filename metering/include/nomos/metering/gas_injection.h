// The gas pass: makes a module pay for what it runs, with ordinary wasm
// instructions on an internal i64 global (docs/metering.md has the rules).
#pragma once

#include <nomos/metering/binaryen_module.h>
#include <nomos/metering/gas.h>

#include <binaryen-c.h>

namespace nomos::metering {

// Appends the gas global (kGasGlobalName, mutable i64, after every existing
// global) and inserts a charge at the start of every metered block:
//   (block (global.set $gas (i64.sub (global.get $gas) (i64.const N)))
//          (if (i64.lt_s (global.get $gas) (i64.const 0)) (unreachable)))
// Errors: Unsupported for expressions nested deeper than 4096.
Expected<void> injectGas(LoadedModule &module, const GasSchedule &schedule);

// The static cost of one expression node by itself (its operands not
// included): the instruction-class cost of the wasm instruction it stands
// for, 0 for block, loop, nop and Binaryen's tuple nodes. The compiler uses
// the same function to account for the inside of a metered block.
uint64_t instructionCost(BinaryenExpressionRef expr, const GasSchedule &schedule);

// Whether `expr` is a charge inserted by injectGas; sets `cost`.
bool isGasCharge(BinaryenExpressionRef expr, uint64_t &cost);

// Whether the module was instrumented (it has the gas global).
bool isMetered(BinaryenModuleRef module);

} // namespace nomos::metering
