// json.cpp — the json type (LANGUAGE.md "Precise rules": json): parsing (RFC 8259), compact
// writing, to_json conversion of typed values, indexing and equality.
#include "base/utf8.h"
#include "runtime/runtime.h"
#include "runtime/sched/stack.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <unordered_map>

namespace cfm::rt {

Json *jsonNull() { return new Json(); }
Json *jsonBool(bool b) {
  Json *j = new Json();
  j->j = Json::J::Bool;
  j->b = b;
  return j;
}
Json *jsonInt(int64_t i) {
  Json *j = new Json();
  j->j = Json::J::Int;
  j->i = i;
  return j;
}
Json *jsonFloat(double f) {
  Json *j = new Json();
  j->j = Json::J::Float;
  j->f = f;
  return j;
}
Json *jsonString(std::string_view s) {
  Json *j = new Json();
  j->j = Json::J::String;
  j->s = newStr(s);
  return j;
}

Json *toJson(Slot v, const TypeDesc *t) {
  if (sched::deepStackLow()) [[unlikely]] // values nest without bound (sched/stack.h)
    return sched::deep([&] { return toJson(v, t); });
  switch (t->kind) {
  case Kind::Int: return jsonInt(v.i);
  case Kind::Duration: return jsonInt(v.i); // milliseconds
  case Kind::Float: return jsonFloat(v.f);
  case Kind::Bool: return jsonBool(v.i != 0);
  case Kind::String: return jsonString(static_cast<const Str *>(v.o)->view());
  case Kind::Json: {
    retain(v.o);
    return static_cast<Json *>(v.o);
  }
  case Kind::List: {
    auto *l = static_cast<const List *>(v.o);
    Json *j = new Json();
    j->j = Json::J::Array;
    for (Slot s : l->items) j->items.push_back(toJson(s, t->elem));
    return j;
  }
  case Kind::Map: {
    auto *m = static_cast<const Map *>(v.o);
    Json *j = new Json();
    j->j = Json::J::Object;
    for (const Map::Entry &e : m->entries) {
      if (!e.live) continue;
      // int keys become strings
      j->keys.push_back(t->elem->kind == Kind::String ? (retain(e.key.o), static_cast<Str *>(e.key.o))
                                                      : newStr(std::to_string(e.key.i)));
      j->items.push_back(toJson(e.value, t->value));
    }
    return j;
  }
  case Kind::Record: {
    auto *r = static_cast<const Record *>(v.o);
    Json *j = new Json();
    j->j = Json::J::Object;
    for (size_t i = 0; i < r->fields.size(); ++i) {
      j->keys.push_back(newStr(t->fieldNames[i]));
      j->items.push_back(toJson(r->fields[i], t->fieldTypes[i]));
    }
    return j;
  }
  default: return jsonNull(); // the checker rejects void, tasks and errors
  }
}

void writeJson(std::string &out, const Json *j) {
  if (sched::deepStackLow()) [[unlikely]] // values nest without bound (sched/stack.h)
    return sched::deep([&] { writeJson(out, j); });
  switch (j->j) {
  case Json::J::Null: out += "null"; return;
  case Json::J::Bool: out += j->b ? "true" : "false"; return;
  case Json::J::Int: out += std::to_string(j->i); return;
  case Json::J::Float: out += formatFloat(j->f); return;
  case Json::J::String: out += quote(j->s->view()); return;
  case Json::J::Array:
    out += '[';
    for (size_t i = 0; i < j->items.size(); ++i) {
      if (i) out += ',';
      writeJson(out, j->items[i]);
    }
    out += ']';
    return;
  case Json::J::Object:
    out += '{';
    for (size_t i = 0; i < j->items.size(); ++i) {
      if (i) out += ',';
      out += quote(j->keys[i]->view());
      out += ':';
      writeJson(out, j->items[i]);
    }
    out += '}';
    return;
  }
}

namespace {

/// A strict RFC 8259 parser with a depth limit (hostile input must not exhaust the stack).
class Parser {
public:
  static constexpr int kMaxDepth = 512;
  static constexpr size_t kLinearKeys = 16; // objects up to this many keys are searched in place
  explicit Parser(std::string_view t) : t_(t) {}

  Json *document() {
    Ref<Json> v(value(0));
    if (!v) return nullptr;
    ws();
    if (p_ != t_.size()) return fail("unexpected text after the value");
    return v.take();
  }
  std::string error;

private:
  std::string_view t_;
  size_t p_ = 0;

  Json *fail(const std::string &why) {
    if (error.empty()) error = why + " at offset " + std::to_string(p_);
    return nullptr;
  }
  void ws() {
    while (p_ < t_.size() && (t_[p_] == ' ' || t_[p_] == '\t' || t_[p_] == '\n' || t_[p_] == '\r')) ++p_;
  }
  bool lit(std::string_view w) {
    if (t_.substr(p_, w.size()) != w) return false;
    p_ += w.size();
    return true;
  }

  Json *value(int depth) {
    if (sched::deepStackLow()) [[unlikely]] // a task's stack may be small (sched/stack.h)
      return sched::deep([&] { return value(depth); });
    ws();
    if (p_ >= t_.size()) return fail("unexpected end of input");
    char c = t_[p_];
    if (c == '{') return object(depth);
    if (c == '[') return array(depth);
    if (c == '"') {
      std::string s;
      if (!string(s)) return nullptr;
      return jsonString(s);
    }
    if (lit("true")) return jsonBool(true);
    if (lit("false")) return jsonBool(false);
    if (lit("null")) return jsonNull();
    if (c == '-' || (c >= '0' && c <= '9')) return number();
    return fail("unexpected " + charAt(p_));
  }

  /// The character at `i` as a message names it: a whole UTF-8 sequence in backticks (never half
  /// of one), a control character as U+XXXX, a byte that starts no valid sequence by its value.
  std::string charAt(size_t i) const {
    auto u = static_cast<unsigned char>(t_[i]);
    char hex[16];
    if (u < 0x20 || u == 0x7F) {
      std::snprintf(hex, sizeof hex, "U+%04X", u);
      return std::string("character ") + hex;
    }
    size_t n = base::utf8SequenceLength(u);
    bool whole = (u < 0x80 || u >= 0xC2) && u <= 0xF4 && i + n <= t_.size();
    for (size_t k = 1; whole && k < n; ++k) whole = (static_cast<unsigned char>(t_[i + k]) & 0xC0) == 0x80;
    if (!whole) {
      std::snprintf(hex, sizeof hex, "0x%02X", u);
      return std::string("byte ") + hex + " (not UTF-8)";
    }
    return "character `" + std::string(t_.substr(i, n)) + "`";
  }

  /// A container that would be nested deeper than kMaxDepth levels (the outermost is level 1).
  bool tooDeep(int depth) {
    if (depth < kMaxDepth) return false;
    fail("nesting deeper than " + std::to_string(kMaxDepth) + " levels");
    return true;
  }

  Json *number() {
    size_t b = p_;
    if (t_[p_] == '-') ++p_;
    if (p_ >= t_.size() || !isdigit(static_cast<unsigned char>(t_[p_]))) return fail("bad number");
    if (t_[p_] == '0')
      ++p_;
    else
      while (p_ < t_.size() && isdigit(static_cast<unsigned char>(t_[p_]))) ++p_;
    bool isFloat = false;
    if (p_ < t_.size() && t_[p_] == '.') {
      isFloat = true;
      ++p_;
      if (p_ >= t_.size() || !isdigit(static_cast<unsigned char>(t_[p_]))) return fail("bad number");
      while (p_ < t_.size() && isdigit(static_cast<unsigned char>(t_[p_]))) ++p_;
    }
    if (p_ < t_.size() && (t_[p_] == 'e' || t_[p_] == 'E')) {
      isFloat = true;
      ++p_;
      if (p_ < t_.size() && (t_[p_] == '+' || t_[p_] == '-')) ++p_;
      if (p_ >= t_.size() || !isdigit(static_cast<unsigned char>(t_[p_]))) return fail("bad number");
      while (p_ < t_.size() && isdigit(static_cast<unsigned char>(t_[p_]))) ++p_;
    }
    std::string_view num = t_.substr(b, p_ - b);
    if (!isFloat) {
      int64_t i;
      auto r = std::from_chars(num.data(), num.data() + num.size(), i);
      if (r.ec == std::errc()) return jsonInt(i);
      // an integer beyond int64 reads as a float, as JavaScript would
    }
    std::string s(num);
    double f = std::strtod(s.c_str(), nullptr);
    if (std::isinf(f)) return fail("number " + s + " out of range");
    return jsonFloat(f);
  }

  bool hex4(uint32_t &v) {
    if (p_ + 4 > t_.size()) return false;
    v = 0;
    for (int k = 0; k < 4; ++k) {
      char c = t_[p_++];
      v <<= 4;
      if (c >= '0' && c <= '9')
        v |= static_cast<uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f')
        v |= static_cast<uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        v |= static_cast<uint32_t>(c - 'A' + 10);
      else
        return false;
    }
    return true;
  }

  bool string(std::string &out) {
    ++p_; // "
    while (true) {
      if (p_ >= t_.size()) return fail("unterminated string"), false;
      unsigned char c = static_cast<unsigned char>(t_[p_++]);
      if (c == '"') return true;
      if (c < 0x20) return fail("control character in string"), false;
      if (c != '\\') {
        out += static_cast<char>(c);
        continue;
      }
      if (p_ >= t_.size()) return fail("unterminated string"), false;
      char e = t_[p_++];
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
        uint32_t cp;
        if (!hex4(cp)) return fail("bad \\u escape"), false;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          uint32_t lo;
          if (!(lit("\\u") && hex4(lo) && lo >= 0xDC00 && lo <= 0xDFFF))
            return fail("bad surrogate pair"), false;
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          return fail("bad surrogate pair"), false;
        }
        base::appendUtf8(out, cp);
        break;
      }
      default: return fail(std::string("bad escape `\\") + e + "`"), false;
      }
    }
  }

  Json *array(int depth) {
    if (tooDeep(depth)) return nullptr;
    ++p_;
    Ref<Json> j(new Json()); // freed on every failure below
    j->j = Json::J::Array;
    ws();
    if (p_ < t_.size() && t_[p_] == ']') {
      ++p_;
      return j.take();
    }
    while (true) {
      Json *v = value(depth + 1);
      if (!v) return nullptr;
      j->items.push_back(v);
      ws();
      if (p_ < t_.size() && t_[p_] == ',') {
        ++p_;
        continue;
      }
      if (p_ < t_.size() && t_[p_] == ']') {
        ++p_;
        return j.take();
      }
      return fail("expected `,` or `]`");
    }
  }

  Json *object(int depth) {
    if (tooDeep(depth)) return nullptr;
    std::unordered_map<std::string_view, size_t> index; // key -> position, once past kLinearKeys
    ++p_;
    Ref<Json> j(new Json());
    j->j = Json::J::Object;
    ws();
    if (p_ < t_.size() && t_[p_] == '}') {
      ++p_;
      return j.take();
    }
    while (true) {
      ws();
      if (p_ >= t_.size() || t_[p_] != '"') return fail("expected a string key");
      std::string key;
      if (!string(key)) return nullptr;
      ws();
      if (p_ >= t_.size() || t_[p_] != ':') return fail("expected `:`");
      ++p_;
      Json *v = value(depth + 1);
      if (!v) return nullptr;
      // A repeated key keeps its first place and takes the last value. Past a few keys they
      // are found through a hash index, so that a large object parses in linear time.
      size_t k = j->keys.size();
      if (index.empty()) {
        for (size_t i = 0; i < j->keys.size(); ++i)
          if (j->keys[i]->view() == key) k = i;
      } else if (auto it = index.find(key); it != index.end()) {
        k = it->second;
      }
      if (k < j->keys.size()) {
        release(j->items[k]);
        j->items[k] = v;
      } else {
        j->keys.push_back(newStr(key));
        j->items.push_back(v);
        if (!index.empty() || j->keys.size() > kLinearKeys) {
          if (index.empty())
            for (size_t i = 0; i < j->keys.size(); ++i) index.emplace(j->keys[i]->view(), i);
          else
            index.emplace(j->keys.back()->view(), j->keys.size() - 1);
        }
      }
      ws();
      if (p_ < t_.size() && t_[p_] == ',') {
        ++p_;
        continue;
      }
      if (p_ < t_.size() && t_[p_] == '}') {
        ++p_;
        return j.take();
      }
      return fail("expected `,` or `}`");
    }
  }
};

const char *typeName(const Json *j) {
  switch (j->j) {
  case Json::J::Null: return "null";
  case Json::J::Bool: return "bool";
  case Json::J::Int: return "int";
  case Json::J::Float: return "float";
  case Json::J::String: return "string";
  case Json::J::Array: return "array";
  case Json::J::Object: return "object";
  }
  return "?";
}

} // namespace

bool parseJson(std::string_view text, Json *&out) {
  Parser p(text);
  out = p.document();
  if (!out) return raise(ErrKind::Conversion, "cannot convert to json: invalid JSON: " + p.error);
  return true;
}

bool jsonEqual(const Json *a, const Json *b) {
  if (sched::deepStackLow()) [[unlikely]] // values nest without bound (sched/stack.h)
    return sched::deep([&] { return jsonEqual(a, b); });
  if (a->j != b->j) {
    // 1 and 1.0 are the same JSON number
    bool na = a->j == Json::J::Int || a->j == Json::J::Float,
         nb = b->j == Json::J::Int || b->j == Json::J::Float;
    if (!(na && nb)) return false;
    double x = a->j == Json::J::Int ? static_cast<double>(a->i) : a->f;
    double y = b->j == Json::J::Int ? static_cast<double>(b->i) : b->f;
    return x == y;
  }
  switch (a->j) {
  case Json::J::Null: return true;
  case Json::J::Bool: return a->b == b->b;
  case Json::J::Int: return a->i == b->i;
  case Json::J::Float: return a->f == b->f;
  case Json::J::String: return a->s->view() == b->s->view();
  case Json::J::Array:
    if (a->items.size() != b->items.size()) return false;
    for (size_t i = 0; i < a->items.size(); ++i)
      if (!jsonEqual(a->items[i], b->items[i])) return false;
    return true;
  case Json::J::Object:
    // json == compares structure: the same keys with equal values, in any order
    if (a->items.size() != b->items.size()) return false;
    if (a->keys.size() <= 16) {
      for (size_t i = 0; i < a->keys.size(); ++i) {
        size_t k = i < b->keys.size() && b->keys[i]->view() == a->keys[i]->view() ? i : 0;
        while (k < b->keys.size() && b->keys[k]->view() != a->keys[i]->view()) ++k;
        if (k == b->keys.size() || !jsonEqual(a->items[i], b->items[k])) return false;
      }
      return true;
    }
    {
      // Larger objects: b's keys through a hash index (linear, not quadratic, in the keys).
      std::unordered_map<std::string_view, size_t> index;
      index.reserve(b->keys.size());
      for (size_t k = 0; k < b->keys.size(); ++k) index.emplace(b->keys[k]->view(), k);
      for (size_t i = 0; i < a->keys.size(); ++i) {
        auto it = index.find(a->keys[i]->view());
        if (it == index.end() || !jsonEqual(a->items[i], b->items[it->second])) return false;
      }
      return true;
    }
  }
  return false;
}

bool jsonIndexKey(const Json *j, std::string_view key, Json *&out) {
  // A value that is not an object has no keys: a missing key (LANGUAGE.md "json").
  if (j->j != Json::J::Object)
    return raise(ErrKind::Key, "key " + quote(key) + " not found (the json value is " + typeName(j) + ")");
  for (size_t k = 0; k < j->keys.size(); ++k) {
    if (j->keys[k]->view() == key) {
      out = j->items[k];
      retain(out);
      return true;
    }
  }
  return raise(ErrKind::Key, "key " + quote(key) + " not found");
}

bool jsonIndexInt(const Json *j, int64_t i, Json *&out) {
  // A value that is not an array has no elements: an index out of range.
  if (j->j != Json::J::Array)
    return raise(ErrKind::Index,
                 "index " + std::to_string(i) + " out of range (the json value is " + typeName(j) + ")");
  if (i < 0 || static_cast<size_t>(i) >= j->items.size())
    return raise(ErrKind::Index, "index " + std::to_string(i) + " out of range (length " +
                                     std::to_string(j->items.size()) + ")");
  out = j->items[static_cast<size_t>(i)];
  retain(out);
  return true;
}

bool jsonLen(const Json *j, int64_t &out) {
  if (j->j != Json::J::Array && j->j != Json::J::Object)
    return raise(ErrKind::Conversion,
                 std::string("cannot convert json ") + typeName(j) + " to array or object for len");
  out = static_cast<int64_t>(j->items.size());
  return true;
}

} // namespace cfm::rt
