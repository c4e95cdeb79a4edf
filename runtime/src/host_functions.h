// The host functions of the guest ABI (nomos/abi.h).
#pragma once

#include <nomos/instance.h>

#include <optional>
#include <string_view>

namespace nomos {

// The host function module.name of the guest ABI ("nomos") or of the WASI
// subset it answers ("wasi_snapshot_preview1"), or nullopt.
std::optional<Extern> findAbiFunction(std::string_view module,
                                      std::string_view name);

} // namespace nomos
