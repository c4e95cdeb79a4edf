#include "disk_cache.h"

#include <llvm/Support/BLAKE3.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace nomos {

std::string CacheKeyParts::text() const {
  std::string out;
  auto line = [&](const char *key, const std::string &value) {
    out += key;
    out += " = ";
    out += value;
    out += '\n';
  };
  line("nomos", nomosVersion);
  line("build", build);
  line("llvm", llvmVersion);
  line("triple", triple);
  line("cpu", cpu);
  line("features", features);
  line("gas_schedule", gasSchedule);
  line("metering", metering ? "on" : "off");
  line("gas_in_register", gasInRegister ? "on" : "off");
  line("opt_level", std::to_string(optLevel));
  line("memory", memory);
  return out;
}

CacheKey cacheKey(const std::array<uint8_t, 32> &codeHash,
                  const std::string &partsText) {
  llvm::BLAKE3 hasher;
  hasher.update(llvm::ArrayRef<uint8_t>(codeHash.data(), codeHash.size()));
  hasher.update(llvm::StringRef(partsText));
  return hasher.final<32>();
}

std::string hexOf(const CacheKey &key) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (uint8_t b : key) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

std::string DiskCache::pathOf(const CacheKey &key) const {
  return dir_ + "/" + hexOf(key) + ".nomos";
}

namespace {

void putU32(std::vector<uint8_t> &out, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    out.push_back(uint8_t(v >> (8 * i)));
}
void putU64(std::vector<uint8_t> &out, uint64_t v) {
  for (int i = 0; i < 8; ++i)
    out.push_back(uint8_t(v >> (8 * i)));
}

// A bounds-checked reader of an entry.
struct Reader {
  const std::vector<uint8_t> &bytes;
  size_t at = 0;
  bool take(void *out, size_t n) {
    if (bytes.size() - at < n)
      return false;
    std::memcpy(out, bytes.data() + at, n);
    at += n;
    return true;
  }
  bool u32(uint32_t &v) {
    uint8_t b[4];
    if (!take(b, 4))
      return false;
    v = 0;
    for (int i = 0; i < 4; ++i)
      v |= uint32_t(b[i]) << (8 * i);
    return true;
  }
  bool u64(uint64_t &v) {
    uint8_t b[8];
    if (!take(b, 8))
      return false;
    v = 0;
    for (int i = 0; i < 8; ++i)
      v |= uint64_t(b[i]) << (8 * i);
    return true;
  }
};

enum class FileRead { Ok, Missing, Failed };

// The whole file, sized by fstat and read in one go (this runs on every disk
// hit). A file shortened meanwhile reads short, and the entry's sizes then
// reject it.
FileRead readWhole(const std::string &path, std::vector<uint8_t> &out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return FileRead::Missing;
  struct stat st;
  bool ok = ::fstat(fd, &st) == 0;
  out.resize(ok ? size_t(st.st_size) : 0);
  size_t done = 0;
  while (ok && done < out.size()) {
    ssize_t n = ::read(fd, out.data() + done, out.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    ok = n >= 0;
    if (n <= 0)
      break;
    done += size_t(n);
  }
  out.resize(done);
  ::close(fd);
  return ok ? FileRead::Ok : FileRead::Failed;
}

} // namespace

DiskCache::Lookup DiskCache::read(const CacheKey &key,
                                  const std::string &partsText,
                                  std::vector<uint8_t> &object,
                                  std::string &why) const {
  std::vector<uint8_t> bytes;
  switch (readWhole(pathOf(key), bytes)) {
  case FileRead::Missing:
    return Lookup::Miss;
  case FileRead::Failed:
    why = "cannot read the entry";
    return Lookup::Rejected;
  case FileRead::Ok:
    break;
  }
  Reader in{bytes};
  char magic[8];
  uint32_t version = 0, headerSize = 0;
  if (!in.take(magic, 8) || std::memcmp(magic, kCacheMagic, 8) != 0) {
    why = "not a Nomos cache entry";
    return Lookup::Rejected;
  }
  if (!in.u32(version)) {
    why = "truncated header";
    return Lookup::Rejected;
  }
  if (version != kCacheFormatVersion) {
    why = "format version " + std::to_string(version) + ", expected " +
          std::to_string(kCacheFormatVersion);
    return Lookup::Rejected;
  }
  if (!in.u32(headerSize) || headerSize > bytes.size() - in.at) {
    why = "truncated header";
    return Lookup::Rejected;
  }
  std::string header(reinterpret_cast<const char *>(bytes.data() + in.at),
                     headerSize);
  in.at += headerSize;
  if (header != partsText) {
    why = "compiled for another configuration";
    return Lookup::Rejected;
  }
  CacheKey storedKey, checksum;
  uint64_t payloadSize = 0;
  if (!in.take(storedKey.data(), 32) || storedKey != key) {
    why = "entry of another key";
    return Lookup::Rejected;
  }
  if (!in.u64(payloadSize) || !in.take(checksum.data(), 32) ||
      payloadSize != bytes.size() - in.at) {
    why = "truncated or oversized payload";
    return Lookup::Rejected;
  }
  llvm::ArrayRef<uint8_t> payload(bytes.data() + in.at, payloadSize);
  if (llvm::BLAKE3::hash<32>(payload) != checksum) {
    why = "checksum mismatch";
    return Lookup::Rejected;
  }
  object.assign(payload.begin(), payload.end());
  return Lookup::Hit;
}

bool DiskCache::write(const CacheKey &key, const std::string &partsText,
                      const std::vector<uint8_t> &object) const {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  std::vector<uint8_t> out(kCacheMagic, kCacheMagic + 8);
  putU32(out, kCacheFormatVersion);
  putU32(out, uint32_t(partsText.size()));
  out.insert(out.end(), partsText.begin(), partsText.end());
  out.insert(out.end(), key.begin(), key.end());
  putU64(out, object.size());
  CacheKey checksum = llvm::BLAKE3::hash<32>(
      llvm::ArrayRef<uint8_t>(object.data(), object.size()));
  out.insert(out.end(), checksum.begin(), checksum.end());
  out.insert(out.end(), object.begin(), object.end());

  // A temporary name of its own per writer: several processes may fill the
  // same directory; rename replaces the entry atomically.
  thread_local std::mt19937_64 random{std::random_device{}()};
  std::string temp = dir_ + "/." + hexOf(key) + ".tmp." +
                     std::to_string(::getpid()) + "." +
                     std::to_string(random());
  FILE *file = std::fopen(temp.c_str(), "wb");
  if (!file)
    return false;
  bool ok = std::fwrite(out.data(), 1, out.size(), file) == out.size();
  ok = std::fflush(file) == 0 && ok;
  ok = std::fclose(file) == 0 && ok;
  if (ok)
    ok = std::rename(temp.c_str(), pathOf(key).c_str()) == 0;
  if (!ok)
    std::remove(temp.c_str());
  return ok;
}

// ---- The directory: last use, eviction, listing ----------------------------

namespace {

namespace fs = std::filesystem;

constexpr std::string_view kEntrySuffix = ".nomos";
constexpr size_t kKeyHexDigits = 64;

// A writer's temporary file left behind by a process that died; older than
// this, no live writer can still own it.
constexpr auto kStaleTemporary = std::chrono::hours(1);

bool isEntryName(const std::string &name) {
  if (name.size() != kKeyHexDigits + kEntrySuffix.size() ||
      !name.ends_with(kEntrySuffix))
    return false;
  return name.find_first_not_of("0123456789abcdef") == kKeyHexDigits;
}

bool isTemporaryName(const std::string &name) {
  return name.starts_with(".") && name.find(".tmp.") != std::string::npos;
}

std::chrono::system_clock::time_point modified(const struct stat &st) {
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::seconds(st.st_mtim.tv_sec) +
          std::chrono::nanoseconds(st.st_mtim.tv_nsec)));
}

// Calls `visit(path, name, stat)` for every regular file of `dir`; files
// that vanish meanwhile (another process evicting) are skipped.
template <class Visit> void forEachFile(const std::string &dir, Visit &&visit) {
  std::error_code ec;
  fs::directory_iterator it(dir, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    struct stat st;
    std::string path = it->path().string();
    if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
      continue;
    visit(path, it->path().filename().string(), st);
  }
}

void removeStaleTemporaries(const std::string &dir) {
  auto now = std::chrono::system_clock::now();
  forEachFile(dir, [&](const std::string &path, const std::string &name,
                       const struct stat &st) {
    if (isTemporaryName(name) && now - modified(st) > kStaleTemporary)
      std::remove(path.c_str());
  });
}

} // namespace

void DiskCache::touch(const CacheKey &key) const {
  // Both times to now; a failure (read-only directory) only makes the entry
  // look older than it is.
  ::utimensat(AT_FDCWD, pathOf(key).c_str(), nullptr, 0);
}

size_t DiskCache::evict(const CacheKey &keep) const {
  removeStaleTemporaries(dir_);
  std::vector<CacheEntryInfo> entries = listCacheEntries(dir_);
  uint64_t total = 0;
  for (const CacheEntryInfo &entry : entries)
    total += entry.bytes;
  std::string kept = hexOf(keep);
  size_t removed = 0;
  // Least recently used first. A file another process removed meanwhile
  // is gone all the same.
  for (const CacheEntryInfo &entry : entries) {
    if (total <= maxBytes_)
      break;
    if (entry.key == kept)
      continue;
    std::error_code ec;
    removed += fs::remove(dir_ + "/" + entry.key + std::string(kEntrySuffix), ec);
    total -= entry.bytes;
  }
  return removed;
}

std::vector<CacheEntryInfo> listCacheEntries(const std::string &dir) {
  std::vector<CacheEntryInfo> entries;
  forEachFile(dir, [&](const std::string &, const std::string &name,
                       const struct stat &st) {
    if (isEntryName(name))
      entries.push_back({name.substr(0, kKeyHexDigits), uint64_t(st.st_size),
                         modified(st)});
  });
  std::sort(entries.begin(), entries.end(),
            [](const CacheEntryInfo &a, const CacheEntryInfo &b) {
              return a.lastUse < b.lastUse;
            });
  return entries;
}

Expected<size_t> clearCache(const std::string &dir) {
  size_t removed = 0;
  std::string failed;
  forEachFile(dir, [&](const std::string &path, const std::string &name,
                       const struct stat &) {
    bool entry = isEntryName(name);
    if (!entry && !isTemporaryName(name))
      return;
    std::error_code ec;
    if (fs::remove(path, ec))
      removed += entry;
    else if (ec && failed.empty())
      failed = path + ": " + ec.message();
  });
  if (!failed.empty())
    return makeError(ErrorKind::IoError, "cannot remove " + failed);
  return removed;
}

} // namespace nomos
