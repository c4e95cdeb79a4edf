// Hello world with the C library (STDLIB): printf to stdout, which the host
// turns into a log line. Its size is in the README ("Writing guests").
#include <cstdio>

__attribute__((export_name("hello"))) void hello() { std::printf("hello, world\n"); }
