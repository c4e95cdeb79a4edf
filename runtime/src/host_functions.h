// The host functions of the guest ABI (nomos/abi.h).
#pragma once

#include <nomos/instance.h>

#include <optional>
#include <string_view>

namespace nomos {

// The ABI's host function module.name ("nomos" only), or nullopt.
std::optional<Extern> findAbiFunction(std::string_view module,
                                      std::string_view name);

} // namespace nomos
