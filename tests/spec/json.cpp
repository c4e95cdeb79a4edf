#include "json.h"

namespace nomos::spec {
namespace {

class Parser {
public:
  explicit Parser(std::string_view text) : s_(text) {}

  std::optional<Json> parseDocument(std::string &error) {
    std::optional<Json> value = parseValue(0);
    if (value) {
      skipSpace();
      if (pos_ != s_.size())
        fail("trailing characters after the document");
    }
    if (!error_.empty()) {
      error = "offset " + std::to_string(errorPos_) + ": " + error_;
      return std::nullopt;
    }
    return value;
  }

private:
  std::string_view s_;
  size_t pos_ = 0;
  std::string error_;
  size_t errorPos_ = 0;

  std::nullopt_t fail(std::string what) {
    if (error_.empty()) {
      error_ = std::move(what);
      errorPos_ = pos_;
    }
    return std::nullopt;
  }

  void skipSpace() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\n' ||
                                s_[pos_] == '\r' || s_[pos_] == '\t'))
      ++pos_;
  }

  bool consume(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word)
      return false;
    pos_ += word.size();
    return true;
  }

  std::optional<Json> parseValue(int depth) {
    if (depth > 200)
      return fail("nesting too deep");
    skipSpace();
    if (pos_ >= s_.size())
      return fail("unexpected end of input");
    char c = s_[pos_];
    if (c == '{')
      return parseObject(depth);
    if (c == '[')
      return parseArray(depth);
    if (c == '"') {
      std::optional<std::string> text = parseString();
      if (!text)
        return std::nullopt;
      return Json::makeString(std::move(*text));
    }
    if (consume("true"))
      return Json::makeBool(true);
    if (consume("false"))
      return Json::makeBool(false);
    if (consume("null"))
      return Json();
    if (c == '-' || (c >= '0' && c <= '9')) {
      size_t start = pos_++;
      while (pos_ < s_.size() &&
             (std::string_view("0123456789+-.eE").find(s_[pos_]) !=
              std::string_view::npos))
        ++pos_;
      return Json::makeNumber(std::string(s_.substr(start, pos_ - start)));
    }
    return fail(std::string("unexpected character '") + c + "'");
  }

  std::optional<Json> parseObject(int depth) {
    ++pos_; // {
    Json object = Json::makeObject();
    skipSpace();
    if (pos_ < s_.size() && s_[pos_] == '}') {
      ++pos_;
      return object;
    }
    while (true) {
      skipSpace();
      if (pos_ >= s_.size() || s_[pos_] != '"')
        return fail("expected a member name");
      std::optional<std::string> key = parseString();
      if (!key)
        return std::nullopt;
      skipSpace();
      if (pos_ >= s_.size() || s_[pos_] != ':')
        return fail("expected ':'");
      ++pos_;
      std::optional<Json> value = parseValue(depth + 1);
      if (!value)
        return std::nullopt;
      object.members().emplace_back(std::move(*key), std::move(*value));
      skipSpace();
      if (pos_ < s_.size() && s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < s_.size() && s_[pos_] == '}') {
        ++pos_;
        return object;
      }
      return fail("expected ',' or '}'");
    }
  }

  std::optional<Json> parseArray(int depth) {
    ++pos_; // [
    Json array = Json::makeArray();
    skipSpace();
    if (pos_ < s_.size() && s_[pos_] == ']') {
      ++pos_;
      return array;
    }
    while (true) {
      std::optional<Json> value = parseValue(depth + 1);
      if (!value)
        return std::nullopt;
      array.items().push_back(std::move(*value));
      skipSpace();
      if (pos_ < s_.size() && s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < s_.size() && s_[pos_] == ']') {
        ++pos_;
        return array;
      }
      return fail("expected ',' or ']'");
    }
  }

  static void appendUtf8(std::string &out, uint32_t cp) {
    if (cp < 0x80) {
      out += char(cp);
    } else if (cp < 0x800) {
      out += char(0xC0 | (cp >> 6));
      out += char(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += char(0xE0 | (cp >> 12));
      out += char(0x80 | ((cp >> 6) & 0x3F));
      out += char(0x80 | (cp & 0x3F));
    } else {
      out += char(0xF0 | (cp >> 18));
      out += char(0x80 | ((cp >> 12) & 0x3F));
      out += char(0x80 | ((cp >> 6) & 0x3F));
      out += char(0x80 | (cp & 0x3F));
    }
  }

  std::optional<uint32_t> parseHex4() {
    if (pos_ + 4 > s_.size())
      return fail("short \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      char c = s_[pos_++];
      v <<= 4;
      if (c >= '0' && c <= '9')
        v |= uint32_t(c - '0');
      else if (c >= 'a' && c <= 'f')
        v |= uint32_t(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        v |= uint32_t(c - 'A' + 10);
      else
        return fail("bad \\u escape");
    }
    return v;
  }

  std::optional<std::string> parseString() {
    ++pos_; // "
    std::string out;
    while (true) {
      if (pos_ >= s_.size())
        return fail("unterminated string");
      char c = s_[pos_++];
      if (c == '"')
        return out;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= s_.size())
        return fail("unterminated escape");
      char e = s_[pos_++];
      switch (e) {
      case '"': out += '"'; break;
      case '\\': out += '\\'; break;
      case '/': out += '/'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'u': {
        std::optional<uint32_t> cp = parseHex4();
        if (!cp)
          return std::nullopt;
        // A surrogate pair makes one code point.
        if (*cp >= 0xD800 && *cp < 0xDC00 && s_.substr(pos_, 2) == "\\u") {
          size_t save = pos_;
          pos_ += 2;
          std::optional<uint32_t> low = parseHex4();
          if (!low)
            return std::nullopt;
          if (*low >= 0xDC00 && *low < 0xE000)
            *cp = 0x10000 + ((*cp - 0xD800) << 10) + (*low - 0xDC00);
          else
            pos_ = save;
        }
        appendUtf8(out, *cp);
        break;
      }
      default:
        return fail(std::string("bad escape \\") + e);
      }
    }
  }
};

} // namespace

std::optional<Json> parseJson(std::string_view text, std::string &error) {
  Parser parser(text);
  return parser.parseDocument(error);
}

} // namespace nomos::spec
