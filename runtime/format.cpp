// format.cpp — how values print (LANGUAGE.md "How values print") and structural equality.
#include "base/text.h"
#include "runtime/collections.h"
#include "runtime/sched/stack.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace cfm::rt {

/// The fewest significant digits that read back to the same double; decimal with at least one
/// digit after the `.` when 1e-4 <= |x| < 1e16, otherwise `d[.ddd]e±XX`.
std::string formatFloat(double f) {
  if (std::isnan(f)) return "nan";
  if (std::isinf(f)) return f > 0 ? "inf" : "-inf";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, f, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  // sci is "[-]d[.ddd]e±XX": split sign, digits and exponent.
  bool neg = sci[0] == '-';
  size_t e = sci.find('e');
  std::string mant = sci.substr(neg ? 1 : 0, e - (neg ? 1 : 0));
  int exp = std::atoi(sci.c_str() + e + 1);
  std::string digits;
  for (char c : mant)
    if (c != '.') digits += c;
  double a = std::fabs(f);
  std::string out = neg ? "-" : "";
  if (a == 0 || (a >= 1e-4 && a < 1e16)) {
    if (a == 0) return neg ? "-0.0" : "0.0";
    // place the decimal point: value = 0.d1d2... * 10^(exp+1)
    int point = exp + 1; // digits before the point
    // (appends one piece at a time: GCC 12 at -O3 warns falsely about `"." + string`, bug 105651)
    if (point <= 0) {
      out.append("0.").append(static_cast<size_t>(-point), '0').append(digits);
    } else if (static_cast<size_t>(point) >= digits.size()) {
      out.append(digits).append(static_cast<size_t>(point) - digits.size(), '0').append(".0");
    } else {
      out.append(digits, 0, static_cast<size_t>(point))
          .append(1, '.')
          .append(digits, static_cast<size_t>(point));
    }
    return out;
  }
  out.append(digits, 0, 1);
  if (digits.size() > 1) out.append(1, '.').append(digits, 1);
  char ebuf[16];
  std::snprintf(ebuf, sizeof ebuf, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
  return out + ebuf;
}

/// Units from `h` down to `ms`, zero units left out; `0ms` for zero; a sign in front if negative.
std::string formatDuration(int64_t ms) {
  if (ms == 0) return "0ms";
  std::string out;
  uint64_t v;
  if (ms < 0) {
    out = "-";
    v = static_cast<uint64_t>(0) - static_cast<uint64_t>(ms);
  } else {
    v = static_cast<uint64_t>(ms);
  }
  uint64_t h = v / 3600000, m = v / 60000 % 60, s = v / 1000 % 60, r = v % 1000;
  if (h) out += std::to_string(h) + "h";
  if (m) out += std::to_string(m) + "m";
  if (s) out += std::to_string(s) + "s";
  if (r) out += std::to_string(r) + "ms";
  return out;
}

std::string quote(std::string_view s) { return base::jsonQuote(s); }

void format(std::string &out, Slot v, const TypeDesc *t, bool nested) {
  if (sched::deepStackLow()) [[unlikely]] // values nest without bound (sched/stack.h)
    return sched::deep([&] { format(out, v, t, nested); });
  switch (t->kind) {
  case Kind::Int: {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v.i);
    out.append(buf, static_cast<size_t>(r.ptr - buf));
    return;
  }
  case Kind::Float: out += formatFloat(v.f); return;
  case Kind::Bool: out += v.i ? "true" : "false"; return;
  case Kind::Duration: out += formatDuration(v.i); return;
  case Kind::Void: return;
  case Kind::String: {
    auto *s = static_cast<const Str *>(v.o);
    if (nested)
      out += quote(s->view());
    else
      out += s->view();
    return;
  }
  case Kind::List: {
    auto *l = static_cast<const List *>(v.o);
    out += '[';
    for (size_t i = 0; i < l->items.size(); ++i) {
      if (i) out += ", ";
      format(out, l->items[i], t->elem, true);
    }
    out += ']';
    return;
  }
  case Kind::Map: {
    auto *m = static_cast<const Map *>(v.o);
    out += '{';
    bool first = true;
    for (const Map::Entry &e : m->entries) {
      if (!e.live) continue;
      if (!first) out += ", ";
      first = false;
      format(out, e.key, t->elem, true);
      out += ": ";
      format(out, e.value, t->value, true);
    }
    out += '}';
    return;
  }
  case Kind::Record: {
    auto *r = static_cast<const Record *>(v.o);
    out += t->name;
    if (t->model && !r->fields.empty()) { // LANGUAGE.md: `VMInstance(i-0001)`
      out += '(';
      format(out, r->fields[0], t->fieldTypes[0], false);
      out += ')';
      return;
    }
    if (r->fields.empty()) {
      out += " {}";
      return;
    }
    out += " { ";
    for (size_t i = 0; i < r->fields.size(); ++i) {
      if (i) out += ", ";
      out += t->fieldNames[i];
      out += ": ";
      format(out, r->fields[i], t->fieldTypes[i], true);
    }
    out += " }";
    return;
  }
  case Kind::Json: {
    auto *j = static_cast<const Json *>(v.o);
    // A JSON string standing alone prints as its text, like a string.
    if (j->j == Json::J::String && !nested)
      out += j->s->view();
    else
      writeJson(out, j);
    return;
  }
  case Kind::Error: {
    auto *e = static_cast<const ErrorVal *>(v.o);
    out += e->errKind->view();
    out += ": ";
    out += e->message->view();
    return;
  }
  case Kind::Task: out += "Task"; return;
  }
}

std::string format(Slot v, const TypeDesc *t) {
  std::string s;
  format(s, v, t);
  return s;
}

bool equal(Slot a, Slot b, const TypeDesc *t) {
  if (sched::deepStackLow()) [[unlikely]] // values nest without bound (sched/stack.h)
    return sched::deep([&] { return equal(a, b, t); });
  switch (t->kind) {
  case Kind::Int:
  case Kind::Bool:
  case Kind::Duration: return a.i == b.i;
  case Kind::Float: return a.f == b.f;
  case Kind::String: return static_cast<const Str *>(a.o)->view() == static_cast<const Str *>(b.o)->view();
  case Kind::List: {
    auto *x = static_cast<const List *>(a.o), *y = static_cast<const List *>(b.o);
    if (x->items.size() != y->items.size()) return false;
    for (size_t i = 0; i < x->items.size(); ++i)
      if (!equal(x->items[i], y->items[i], t->elem)) return false;
    return true;
  }
  case Kind::Map: {
    // LANGUAGE.md: map == ignores order.
    auto *x = static_cast<const Map *>(a.o), *y = static_cast<const Map *>(b.o);
    if (x->count != y->count) return false;
    for (const Map::Entry &e : x->entries) {
      if (!e.live) continue;
      const Map::Entry *f = mapFind(y, e.key);
      if (!f || !equal(e.value, f->value, t->value)) return false;
    }
    return true;
  }
  case Kind::Record: {
    auto *x = static_cast<const Record *>(a.o), *y = static_cast<const Record *>(b.o);
    for (size_t i = 0; i < x->fields.size(); ++i)
      if (!equal(x->fields[i], y->fields[i], t->fieldTypes[i])) return false;
    return true;
  }
  case Kind::Json: return jsonEqual(static_cast<const Json *>(a.o), static_cast<const Json *>(b.o));
  default: return a.o == b.o;
  }
}

Str *concat(const Str *a, const Str *b) {
  std::string s;
  s.reserve(static_cast<size_t>(a->len + b->len));
  s += a->view();
  s += b->view();
  return newStr(s);
}

} // namespace cfm::rt
