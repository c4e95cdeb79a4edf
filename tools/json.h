// A JSON string literal for the CLI's --json output. (LLVM's JSON library is
// linked into libnomos but hidden there, so the CLI writes its one object by
// hand.)
#pragma once

#include <string>
#include <string_view>

namespace nomos::cli {
std::string jsonString(std::string_view text);
} // namespace nomos::cli
