// Hello world with the C++ library (STDLIB): std::cout. Its size is in the
// README ("Writing guests").
#include <iostream>

__attribute__((export_name("hello"))) void hello() {
  std::cout << "hello, world" << std::endl;
}
