#pragma once

namespace nomos::cli {
// The seed example: the counter program counts, then has a child running the
// doubler program double its count. Prints "count is 12" and "count is 24".
int runDemo();
} // namespace nomos::cli
