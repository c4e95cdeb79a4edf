// A tiny JSON reader for the command files wast2json writes: objects,
// arrays, strings (with \uXXXX escapes, written out as UTF-8), numbers,
// true/false/null. Numbers are kept as their text. It is only what the spec
// runner needs (LLVM's JSON lives inside libnomos, out of the tests' reach).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nomos::spec {

class Json {
public:
  enum class Kind { Null, Bool, Number, String, Array, Object };

  Json() = default;
  static Json makeBool(bool b) { Json j; j.kind_ = Kind::Bool; j.bool_ = b; return j; }
  static Json makeNumber(std::string text) { Json j; j.kind_ = Kind::Number; j.text_ = std::move(text); return j; }
  static Json makeString(std::string text) { Json j; j.kind_ = Kind::String; j.text_ = std::move(text); return j; }
  static Json makeArray() { Json j; j.kind_ = Kind::Array; return j; }
  static Json makeObject() { Json j; j.kind_ = Kind::Object; return j; }

  Kind kind() const { return kind_; }
  bool isNull() const { return kind_ == Kind::Null; }
  bool isString() const { return kind_ == Kind::String; }
  bool isArray() const { return kind_ == Kind::Array; }
  bool isObject() const { return kind_ == Kind::Object; }
  bool isNumber() const { return kind_ == Kind::Number; }

  // The text of a string or a number ("" otherwise).
  const std::string &text() const { return text_; }
  bool boolean() const { return bool_; }
  const std::vector<Json> &items() const { return items_; }
  std::vector<Json> &items() { return items_; }
  const std::vector<std::pair<std::string, Json>> &members() const { return members_; }
  std::vector<std::pair<std::string, Json>> &members() { return members_; }

  // Object member, or nullptr when absent (or not an object).
  const Json *find(std::string_view key) const {
    if (kind_ != Kind::Object)
      return nullptr;
    for (const auto &[k, v] : members_)
      if (k == key)
        return &v;
    return nullptr;
  }
  // The member's string (or number) text, or `fallback`.
  std::string str(std::string_view key, std::string fallback = {}) const {
    const Json *v = find(key);
    if (!v || (v->kind_ != Kind::String && v->kind_ != Kind::Number))
      return fallback;
    return v->text_;
  }
  bool has(std::string_view key) const { return find(key) != nullptr; }

private:
  Kind kind_ = Kind::Null;
  bool bool_ = false;
  std::string text_;
  std::vector<Json> items_;
  std::vector<std::pair<std::string, Json>> members_;
};

// Parses `text`; on a syntax error returns nullopt and sets `error`
// ("offset N: what").
std::optional<Json> parseJson(std::string_view text, std::string &error);

} // namespace nomos::spec
