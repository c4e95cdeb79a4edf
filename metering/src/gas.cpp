#include <nomos/metering/gas.h>

#include <llvm/Support/BLAKE3.h>

#include <charconv>
#include <fstream>
#include <iterator>

namespace nomos::metering {

namespace {
// The fields in kFieldNames order.
constexpr std::array<uint64_t GasSchedule::*, 17> kFields = {
    &GasSchedule::simple,          &GasSchedule::memoryAccess,
    &GasSchedule::branch,          &GasSchedule::division,
    &GasSchedule::call,            &GasSchedule::callIndirect,
    &GasSchedule::tableAccess,     &GasSchedule::memoryGrow,
    &GasSchedule::memoryGrowPerPage, &GasSchedule::bulkMemory,
    &GasSchedule::bulkMemoryPerByte, &GasSchedule::tableGrow,
    &GasSchedule::tableGrowPerElement, &GasSchedule::hostCall,
    &GasSchedule::hostCallPerByte, &GasSchedule::childNew,
    &GasSchedule::compilePerByte};
static_assert(kFields.size() == GasSchedule::kFieldNames.size());

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}
} // namespace

std::array<uint8_t, 32> GasSchedule::hash() const {
  // Format tag, then each field as u64 little-endian.
  std::string bytes = "nomos-gas-schedule-v1";
  for (auto field : kFields) {
    uint64_t v = this->*field;
    for (int i = 0; i < 8; ++i)
      bytes.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  return llvm::BLAKE3::hash<32>(llvm::ArrayRef<uint8_t>(
      reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size()));
}

std::string GasSchedule::hashHex() const {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (uint8_t b : hash()) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

Expected<GasSchedule> GasSchedule::parse(std::string_view text) {
  GasSchedule schedule;
  unsigned lineNumber = 0;
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    ++lineNumber;
    if (size_t hash = line.find('#'); hash != std::string_view::npos)
      line = line.substr(0, hash);
    line = trim(line);
    if (line.empty())
      continue;
    auto fail = [&](const std::string &why) {
      return makeError(ErrorKind::BadArguments,
                       "gas schedule line " + std::to_string(lineNumber) + ": " + why);
    };
    size_t eq = line.find('=');
    if (eq == std::string_view::npos)
      return fail("expected key = value");
    std::string_view key = trim(line.substr(0, eq));
    std::string_view value = trim(line.substr(eq + 1));
    size_t index = 0;
    while (index < kFieldNames.size() && kFieldNames[index] != key)
      ++index;
    if (index == kFieldNames.size())
      return fail("unknown key \"" + std::string(key) + "\"");
    uint64_t number = 0;
    auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
    if (ec != std::errc() || ptr != value.data() + value.size())
      return fail("\"" + std::string(value) + "\" is not a decimal number");
    if (number > kMaxCost)
      return fail("cost " + std::to_string(number) + " is above the maximum " +
                  std::to_string(kMaxCost));
    schedule.*kFields[index] = number;
  }
  return schedule;
}

Expected<GasSchedule> GasSchedule::loadFile(const std::string &path) {
  std::ifstream file(path, std::ios::binary);
  if (!file)
    return makeError(ErrorKind::IoError, "cannot read " + path);
  std::string text(std::istreambuf_iterator<char>(file), {});
  auto parsed = parse(text);
  if (!parsed)
    return makeError(parsed.error().kind, path + ": " + parsed.error().message);
  return parsed;
}

std::string GasSchedule::toText() const {
  std::string out;
  for (size_t i = 0; i < kFields.size(); ++i)
    out += std::string(kFieldNames[i]) + " = " + std::to_string(this->*kFields[i]) + "\n";
  return out;
}

} // namespace nomos::metering
