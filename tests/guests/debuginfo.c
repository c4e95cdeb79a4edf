// Built with -g so the module carries DWARF custom sections.
__attribute__((export_name("triangle"))) int triangle(int n) {
  int sum = 0;
  for (int i = 1; i <= n; ++i)
    sum += i;
  return sum;
}
