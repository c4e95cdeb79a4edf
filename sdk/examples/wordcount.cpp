// Counts the words of the text stored at key "text", with the C++ standard
// library: std::string, std::map, std::vector, std::stable_sort and printf
// (built with nomos_add_guest(... STDLIB)). Output to stdout becomes the
// call's log. (std::cout works too, but <iostream> adds about 290 KB of
// code to a guest and its compile time: printf is the cheap way.)
#include <nomos/guest.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace {

// The whole value stored at `key`, or nothing when it is absent.
std::optional<std::string> read_string(nomos::Bytes key) {
  int32_t size = nomos::read(key, nullptr, 0);
  if (size < 0) return std::nullopt;
  std::string value(size_t(size), '\0');
  nomos::read(key, value.data(), uint32_t(size));
  return value;
}

// Words are runs of letters and digits, lower-cased.
std::map<std::string, uint64_t> count_words(const std::string& text) {
  std::map<std::string, uint64_t> counts;
  std::string word;
  for (char c : text + " ") {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      word += char(std::tolower(static_cast<unsigned char>(c)));
    } else if (!word.empty()) {
      ++counts[word];
      word.clear();
    }
  }
  return counts;
}

}  // namespace

// Logs the three most frequent words ("word count", most frequent first;
// alphabetical on a tie), then a summary; stores "words" and "distinct"
// (u64) and "top" (the most frequent word, as text). Without "text" it
// aborts (a GuestAbort trap: nothing is stored).
NOMOS_EXPORT(count) void count() {
  std::optional<std::string> text = read_string("text");
  if (!text) {
    std::fprintf(stderr, "count: no \"text\" in the store\n");
    std::abort();
  }
  std::map<std::string, uint64_t> counts = count_words(*text);

  std::vector<std::pair<std::string, uint64_t>> ranked(counts.begin(),
                                                       counts.end());
  std::stable_sort(ranked.begin(), ranked.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  uint64_t words = 0;
  for (const auto& entry : ranked) words += entry.second;

  for (size_t i = 0; i < ranked.size() && i < 3; ++i)
    std::printf("%s %llu\n", ranked[i].first.c_str(),
                static_cast<unsigned long long>(ranked[i].second));
  std::printf("words: %llu, distinct: %zu\n",
              static_cast<unsigned long long>(words), counts.size());

  nomos::write_value("words", words);
  nomos::write_value("distinct", uint64_t(counts.size()));
  std::string top = ranked.empty() ? std::string() : ranked.front().first;
  nomos::write("top", nomos::Bytes(top.data(), uint32_t(top.size())));
}
