// The gas schedule, for embedders (EngineOptions::schedule). The struct
// lives with the gas pass in metering/; docs/metering.md explains the rules.
#pragma once

#include <nomos/metering/gas.h>

namespace nomos {
using GasSchedule = metering::GasSchedule;
} // namespace nomos

#include <nomos/bytes.h>

namespace nomos {

// What the gas pass adds to a module: sizes of Binaryen's binary for the
// module before and after instrumentation (for docs and benchmarks).
struct MeteringSize {
  size_t before = 0;
  size_t after = 0;
  size_t functions = 0;
};
NOMOS_API Expected<MeteringSize> meteringSize(ByteView code,
                                              const GasSchedule &schedule = {});

} // namespace nomos
