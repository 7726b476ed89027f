// xml.cpp — byte checks, pugixml parsing, namespace resolution and locations (see xml.h).
#include "ovf/xml.h"

#include "ovf/envelope.h"

#include <algorithm>
#include <cstdio>

namespace cfm::ovf::xml {

namespace {

constexpr std::string_view kXmlNs = "http://www.w3.org/XML/1998/namespace";

std::string hexCodePoint(uint32_t cp) {
  char buf[16];
  snprintf(buf, sizeof buf, "U+%04X", static_cast<unsigned>(cp));
  return buf;
}

/// Splits a QName into prefix and local part; false when it is not a valid QName (two colons, an
/// empty part).
bool splitQName(std::string_view q, std::string_view &prefix, std::string_view &local) {
  size_t c = q.find(':');
  if (c == std::string_view::npos) {
    prefix = {};
    local = q;
    return !q.empty();
  }
  prefix = q.substr(0, c);
  local = q.substr(c + 1);
  return !prefix.empty() && !local.empty() && local.find(':') == std::string_view::npos;
}

std::string lowerFirst(std::string s) {
  if (!s.empty() && s[0] >= 'A' && s[0] <= 'Z') s[0] = static_cast<char>(s[0] - 'A' + 'a');
  return s;
}

} // namespace

const Attr *Elem::attr(std::string_view ans, std::string_view alocal) const {
  for (const Attr &a : attrs)
    if (a.local == alocal && a.ns == ans) return &a;
  return nullptr;
}

Location Doc::locate(size_t offset) const {
  if (lineStarts_.empty()) return {1, 1};
  auto it = std::upper_bound(lineStarts_.begin(), lineStarts_.end(), offset);
  size_t lineIndex = static_cast<size_t>(it - lineStarts_.begin()) - 1;
  size_t start = lineStarts_[lineIndex];
  int column = 1;
  for (size_t i = start; i < offset && i < text_.size(); ++i)
    if ((static_cast<unsigned char>(text_[i]) & 0xC0) != 0x80) ++column; // characters, not bytes
  return {static_cast<int>(lineIndex) + 1, column};
}

Error Doc::errorAt(size_t offset, const std::string &message, ErrorKind kind) const {
  Location l = locate(offset);
  return Error{kind, message, SourceLoc{name_, l.line, l.column}};
}

Error Doc::errorAtLine(int line, const std::string &message) const {
  return Error{ErrorKind::Ovf, message, SourceLoc{name_, line, 0}};
}

bool Doc::declares(std::string_view uri) const {
  return std::find(declared_.begin(), declared_.end(), uri) != declared_.end();
}

// The descriptor must be UTF-8 made of XML characters (XML 1.0 "Char") with nothing before the
// first tag but white space: pugixml checks none of this (it would, for example, skip garbage
// before the XML declaration).
Result<void> Doc::checkBytes() {
  const auto *s = reinterpret_cast<const unsigned char *>(text_.data());
  size_t n = text_.size();
  if (n >= 2 && ((s[0] == 0xFE && s[1] == 0xFF) || (s[0] == 0xFF && s[1] == 0xFE)))
    return Error{ErrorKind::Syntax, "the descriptor is UTF-16; CFM reads UTF-8 descriptors",
                 SourceLoc{name_, 1, 1}};
  size_t i = 0;
  if (n >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF) i = 3; // byte order mark
  size_t first = i;
  while (first < n && (s[first] == ' ' || s[first] == '\t' || s[first] == '\n' || s[first] == '\r')) ++first;
  if (first == n) return Error{ErrorKind::Syntax, "the descriptor is empty", SourceLoc{name_, 1, 1}};
  if (s[first] != '<')
    return errorAt(first, "text before the first tag (a descriptor starts with `<?xml` or its root element)");
  while (i < n) {
    uint32_t cp;
    size_t len;
    unsigned char c = s[i];
    if (c < 0x80) {
      cp = c;
      len = 1;
    } else if ((c & 0xE0) == 0xC0) {
      cp = c & 0x1F;
      len = 2;
    } else if ((c & 0xF0) == 0xE0) {
      cp = c & 0x0F;
      len = 3;
    } else if ((c & 0xF8) == 0xF0) {
      cp = c & 0x07;
      len = 4;
    } else {
      return errorAt(i, "invalid UTF-8 (byte 0x" + hexCodePoint(c).substr(2) + ")");
    }
    if (i + len > n) return errorAt(i, "invalid UTF-8 (truncated sequence at the end)");
    for (size_t k = 1; k < len; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) return errorAt(i, "invalid UTF-8 (bad continuation byte)");
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    static constexpr uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMinForLength[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      return errorAt(i, "invalid UTF-8 (overlong or out-of-range sequence)");
    bool isChar =
        cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xFFFD && cp != 0xFFFE) || cp >= 0x10000;
    if (!isChar) return errorAt(i, "invalid XML character " + hexCodePoint(cp));
    i += len;
  }
  return success();
}

// pugixml skips a DOCTYPE and, for a reference it does not know, keeps the text as written (an
// undefined or DTD-declared entity) or drops it (`&#0;`, `&#xD800;`): a descriptor would then
// mean something other than what it says. One pass over the markup (comments, CDATA and
// processing instructions skipped, attribute values looked into) refuses a DTD and every
// reference but the five predefined entities and character references to XML characters.
Result<void> Doc::checkMarkup() {
  std::string_view t = text_;
  size_t n = t.size();
  auto skipTo = [&](size_t from, std::string_view end) {
    size_t e = t.find(end, from);
    return e == std::string_view::npos ? n : e + end.size();
  };
  size_t i = 0;
  while (i < n) {
    if (t[i] == '&') {
      CFM_CHECK(checkReference(i));
      ++i;
    } else if (t[i] != '<') {
      ++i;
    } else if (t.substr(i, 4) == "<!--") {
      i = skipTo(i + 4, "-->");
    } else if (t.substr(i, 9) == "<![CDATA[") {
      i = skipTo(i + 9, "]]>");
    } else if (t.substr(i, 2) == "<?") {
      i = skipTo(i + 2, "?>");
    } else if (t.substr(i, 2) == "<!") {
      return errorAt(i, t.substr(i, 9) == "<!DOCTYPE"
                            ? "a document type declaration (`<!DOCTYPE`) is not allowed: a descriptor "
                              "has no DTD and CFM expands no entities"
                            : "a markup declaration (`<!`) is not allowed outside a DTD");
    } else {
      // A tag: to its `>`, looking for references inside quoted attribute values.
      char quote = 0;
      for (++i; i < n; ++i) {
        char c = t[i];
        if (quote) {
          if (c == quote)
            quote = 0;
          else if (c == '&')
            CFM_CHECK(checkReference(i));
        } else if (c == '"' || c == '\'') {
          quote = c;
        } else if (c == '>') {
          break;
        }
      }
      ++i;
    }
  }
  return success();
}

Result<void> Doc::checkReference(size_t at) const {
  std::string_view t = text_.substr(at);
  size_t semi = t.find(';');
  static constexpr size_t kLongest = 40;
  std::string_view ref =
      semi == std::string_view::npos || semi > kLongest ? std::string_view() : t.substr(0, semi + 1);
  if (ref.size() < 3 || ref.substr(1).find_first_of(" \t\r\n<&\"'") != std::string_view::npos)
    return errorAt(at, "`&` that starts no entity or character reference (write `&amp;` for `&`)");
  std::string_view name = ref.substr(1, ref.size() - 2);
  if (name == "lt" || name == "gt" || name == "amp" || name == "quot" || name == "apos") return success();
  if (name[0] != '#')
    return errorAt(at, "entity reference `" + std::string(ref) +
                           "` is not allowed: only `&lt;`, `&gt;`, `&amp;`, `&quot;`, `&apos;` and character "
                           "references are");
  bool hex = name.size() > 1 && name[1] == 'x';
  std::string_view digits = name.substr(hex ? 2 : 1);
  uint32_t cp = 0;
  bool valid = !digits.empty();
  for (char c : digits) {
    int v = c >= '0' && c <= '9'          ? c - '0'
            : hex && c >= 'a' && c <= 'f' ? c - 'a' + 10
            : hex && c >= 'A' && c <= 'F' ? c - 'A' + 10
                                          : -1;
    if (v < 0) {
      valid = false;
      break;
    }
    cp = cp * (hex ? 16 : 10) + static_cast<uint32_t>(v);
    if (cp > 0x10FFFF) cp = 0x110000; // stays out of range, never wraps
  }
  if (!valid) return errorAt(at, "malformed character reference `" + std::string(ref) + "`");
  bool isChar = cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
                (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF);
  if (!isChar)
    return errorAt(at, "character reference `" + std::string(ref) + "` is not an XML character" +
                           (cp <= 0x10FFFF ? " (" + hexCodePoint(cp) + ")" : std::string(" (out of range)")));
  return success();
}

Result<std::unique_ptr<Doc>> Doc::parse(std::string_view text, std::string name) {
  std::unique_ptr<Doc> d(new Doc());
  d->name_ = std::move(name);
  d->text_ = text;
  if (text.size() > kMaxDescriptorBytes)
    return Error{ErrorKind::Limit,
                 "the descriptor `" + d->name_ + "` is " + std::to_string(text.size()) +
                     " bytes; the limit is " + std::to_string(kMaxDescriptorBytes),
                 SourceLoc{d->name_, 0, 0}};
  d->lineStarts_.push_back(0);
  for (size_t i = 0; i < text.size(); ++i)
    if (text[i] == '\n') d->lineStarts_.push_back(i + 1);
  CFM_CHECK(d->checkBytes());
  pugi::xml_parse_result r = d->doc_.load_buffer(
      text.data(), text.size(), pugi::parse_default | pugi::parse_declaration, pugi::encoding_utf8);
  if (!r) {
    size_t off = r.offset < 0 ? 0 : static_cast<size_t>(r.offset);
    if (off > text.size()) off = text.size();
    return d->errorAt(off, "not well-formed XML: " + lowerFirst(r.description()));
  }
  CFM_CHECK(d->checkMarkup());
  size_t bom = text.substr(0, 3) == "\xEF\xBB\xBF" ? 3 : 0;
  for (pugi::xml_node n : d->doc_.children())
    if (n.type() == pugi::node_declaration && static_cast<size_t>(n.offset_debug()) != bom + 2) // after `<?`
      return d->errorAt(static_cast<size_t>(n.offset_debug()) - 2,
                        "the XML declaration must be at the very start of the descriptor");
  CFM_CHECK(d->build());
  return d;
}

// One pass over the pugixml tree, without recursion (the depth is bounded and reported).
Result<void> Doc::build() {
  pugi::xml_node rootNode = doc_.document_element();
  if (!rootNode) return errorAt(0, "no root element");

  std::vector<std::pair<std::string_view, std::string_view>> bindings; // prefix ("" = default) → URI
  auto record = [&](size_t offset, const std::string &msg) {
    if (!firstError_) firstError_ = errorAt(offset, msg);
  };
  auto resolvePrefix = [&](std::string_view prefix, bool &found) -> std::string_view {
    found = true;
    if (prefix == "xml") return kXmlNs;
    for (auto it = bindings.rbegin(); it != bindings.rend(); ++it)
      if (it->first == prefix) {
        found = !it->second.empty() || prefix.empty();
        return it->second;
      }
    found = prefix.empty();
    return {};
  };

  // Makes the Elem of NODE (namespace declarations pushed on BINDINGS) and reports what is wrong.
  auto makeElem = [&](pugi::xml_node node, int depth) -> Result<Elem *> {
    Elem &e = arena_.emplace_back();
    size_t nameOffset = static_cast<size_t>(node.offset_debug());
    e.offset = nameOffset > 0 ? nameOffset - 1 : 0;
    e.depth = depth;
    if (depth > kMaxXmlDepth)
      return errorAt(e.offset, "elements nested deeper than " + std::to_string(kMaxXmlDepth) + " levels",
                     ErrorKind::Limit);
    std::vector<std::string_view> seen;
    for (pugi::xml_attribute a : node.attributes()) {
      std::string_view q = a.name();
      if (std::find(seen.begin(), seen.end(), q) != seen.end())
        return errorAt(e.offset, "attribute `" + std::string(q) + "` is given twice");
      if (seen.size() < 64) seen.push_back(q); // beyond 64 attributes pugixml's own checks suffice
      if (q == "xmlns") {
        bindings.emplace_back("", a.value());
        declared_.push_back(a.value());
      } else if (q.substr(0, 6) == "xmlns:") {
        if (q.size() == 6) {
          record(e.offset, "empty namespace prefix in `xmlns:`");
          continue;
        }
        bindings.emplace_back(q.substr(6), a.value());
        declared_.push_back(a.value());
      }
    }
    e.qname = node.name();
    std::string_view prefix;
    if (!splitQName(e.qname, prefix, e.local)) {
      record(e.offset, "invalid element name `" + std::string(e.qname) + "`");
    } else {
      bool found;
      e.ns = resolvePrefix(prefix, found);
      if (!found)
        record(e.offset, "undeclared namespace prefix `" + std::string(prefix) + "` in element `" +
                             std::string(e.qname) + "`");
    }
    for (pugi::xml_attribute a : node.attributes()) {
      std::string_view q = a.name();
      if (q == "xmlns" || q.substr(0, 6) == "xmlns:") continue;
      Attr at;
      at.qname = q;
      at.value = a.value();
      if (!splitQName(q, prefix, at.local)) {
        record(e.offset, "invalid attribute name `" + std::string(q) + "`");
        continue;
      }
      if (!prefix.empty()) { // unprefixed attributes are in no namespace
        bool found;
        at.ns = resolvePrefix(prefix, found);
        if (!found)
          record(e.offset, "undeclared namespace prefix `" + std::string(prefix) + "` in attribute `" +
                               std::string(q) + "`");
      }
      e.attrs.push_back(at);
    }
    for (size_t i = 0; i < e.attrs.size(); ++i)
      for (size_t j = i + 1; j < e.attrs.size() && j < 64; ++j)
        if (!e.attrs[i].ns.empty() && e.attrs[i].ns == e.attrs[j].ns && e.attrs[i].local == e.attrs[j].local)
          return errorAt(e.offset, "attributes `" + std::string(e.attrs[i].qname) + "` and `" +
                                       std::string(e.attrs[j].qname) + "` are the same attribute");
    if (const Attr *t = e.attr(ovf::kXsiNs, "type")) {
      std::string_view tprefix, tlocal;
      if (splitQName(t->value, tprefix, tlocal)) {
        bool found;
        std::string_view tns = resolvePrefix(tprefix, found);
        if (!found)
          record(e.offset, "undeclared namespace prefix `" + std::string(tprefix) + "` in xsi:type `" +
                               std::string(t->value) + "`");
        e.xsiTypeNs = tns;
        e.xsiTypeLocal = tlocal;
      }
    }
    return &e;
  };

  struct Frame {
    Elem *elem;
    size_t mark;
    pugi::xml_node next; // the next child to visit
  };
  std::vector<Frame> stack;
  size_t mark = bindings.size();
  Elem *rootElem = CFM_TRY(makeElem(rootNode, 0));
  root_ = rootElem;
  stack.push_back({rootElem, mark, rootNode.first_child()});
  while (!stack.empty()) {
    Frame &f = stack.back();
    pugi::xml_node child = f.next;
    if (!child) {
      bindings.resize(f.mark);
      stack.pop_back();
      continue;
    }
    f.next = child.next_sibling();
    Elem *parent = f.elem;
    switch (child.type()) {
    case pugi::node_element: {
      size_t m = bindings.size();
      Elem *e = CFM_TRY(makeElem(child, parent->depth + 1));
      parent->kids.push_back(e);
      stack.push_back({e, m, child.first_child()});
      break;
    }
    case pugi::node_pcdata: parent->text += child.value(); break;
    case pugi::node_cdata:
      parent->text += child.value();
      parent->cdata += child.value();
      parent->hasCdata = true;
      break;
    default: break; // comments, processing instructions
    }
  }
  return success();
}

} // namespace cfm::ovf::xml
