// query.cpp — the EC2 Query protocol's form codec and flattened-list readers (see query.h).
#include "net/query.h"

#include <optional>
#include <utility>

namespace cfm::net {

namespace {

constexpr char kHexDigits[] = "0123456789ABCDEF";

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool isUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

/// Decodes one form component into `out`. Strict (the form decoder): a `%` without two hex digits
/// fails. Lenient (SigV4's canonical query): it stays a literal `%`.
bool percentDecode(std::string_view s, bool plusIsSpace, bool strict, std::string &out) {
  out.clear();
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      int hi = i + 1 < s.size() ? hexValue(s[i + 1]) : -1;
      int lo = i + 2 < s.size() ? hexValue(s[i + 2]) : -1;
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
      if (strict) return false;
      out += c;
    } else if (c == '+' && plusIsSpace) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return true;
}

// --- EC2's flattened lists ---------------------------------------------------------------------

/// A parameter seen through a reader: its full name (for messages), the part of the name still
/// to be matched, and its value.
struct Entry {
  std::string_view name;
  std::string_view rest;
  std::string_view value;
};
using Entries = std::vector<Entry>;
using Groups = std::map<uint32_t, Entries>;

/// Whether `e` belongs to the nested list `member.N...` of its group.
bool isNestedIn(const Entry &e, std::string_view member) {
  return e.rest.size() > member.size() && e.rest.substr(0, member.size()) == member &&
         e.rest[member.size()] == '.';
}

/// The entries whose `rest` is `prefix.N` or `prefix.N.more`, grouped by N in index order, each
/// with `rest` advanced past `prefix.N.` (empty for `prefix.N` itself).
Ec2Result<Groups> groupByIndex(const Entries &entries, std::string_view prefix) {
  Groups groups;
  for (const Entry &e : entries) {
    if (!isNestedIn(e, prefix)) continue;
    std::string_view after = e.rest.substr(prefix.size() + 1);
    size_t dot = after.find('.');
    std::string_view digits = after.substr(0, dot);
    uint64_t index = 0;
    bool valid = !digits.empty() && digits.size() <= 9 && digits[0] != '0';
    for (char c : digits) {
      if (c < '0' || c > '9') {
        valid = false;
        break;
      }
      index = index * 10 + uint64_t(c - '0');
    }
    if (!valid || index > kMaxListIndex)
      return ec2Fail(Ec2Error::InvalidParameterValue,
                     "parameter `" + std::string(e.name) + "` has an invalid index (1 to " +
                         std::to_string(kMaxListIndex) + " without leading zeros)");
    std::string_view rest = dot == std::string_view::npos ? std::string_view() : after.substr(dot + 1);
    groups[uint32_t(index)].push_back(Entry{e.name, rest, e.value});
  }
  return groups;
}

Ec2Failure unknownParameter(const Entry &e) {
  return ec2Fail(Ec2Error::UnknownParameter, "unknown parameter `" + std::string(e.name) + "`");
}

Ec2Failure missingMember(const Entries &group, std::string_view member) {
  // The group's name up to its index, taken from any of its entries: "Tag.2" for "Tag.2.Value".
  std::string_view name = group.front().name;
  name = name.substr(0, name.size() - group.front().rest.size());
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  return ec2Fail(Ec2Error::MissingParameter, "the request must contain the parameter `" + std::string(name) +
                                                 "." + std::string(member) + "`");
}

/// `prefix.N` scalars in index order.
Ec2Result<std::vector<std::string>> scalarsFrom(const Entries &entries, std::string_view prefix) {
  Groups groups = CFM_NET_TRY(groupByIndex(entries, prefix));
  std::vector<std::string> out;
  out.reserve(groups.size());
  for (auto &[index, group] : groups) {
    std::string_view value;
    bool found = false;
    for (const Entry &e : group) {
      if (!e.rest.empty()) return unknownParameter(e);
      value = e.value;
      found = true;
    }
    if (found) out.emplace_back(value);
  }
  return out;
}

/// The entries of `group` in the nested list `member.N...` (Filter.1.Value.N, ...Tag.N.Key).
Entries nested(const Entries &group, std::string_view member) {
  Entries out;
  for (const Entry &e : group)
    if (isNestedIn(e, member)) out.push_back(e);
  return out;
}

Ec2Result<std::vector<Ec2Tag>> tagsFrom(const Entries &entries, std::string_view prefix) {
  Groups groups = CFM_NET_TRY(groupByIndex(entries, prefix));
  std::vector<Ec2Tag> out;
  for (auto &[index, group] : groups) {
    Ec2Tag tag;
    bool hasKey = false;
    for (const Entry &e : group) {
      if (e.rest == "Key") {
        tag.key = e.value;
        hasKey = true;
      } else if (e.rest == "Value") {
        tag.value = e.value;
      } else {
        return unknownParameter(e);
      }
    }
    if (!hasKey) return missingMember(group, "Key");
    out.push_back(std::move(tag));
  }
  return out;
}

} // namespace

std::string uriEncode(std::string_view s, bool keepSlash) {
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (isUnreserved(c) || (keepSlash && c == '/')) {
      out += ch;
    } else {
      out += '%';
      out += kHexDigits[c >> 4];
      out += kHexDigits[c & 0xF];
    }
  }
  return out;
}

std::string uriDecodeLenient(std::string_view s) {
  std::string out;
  percentDecode(s, /*plusIsSpace=*/false, /*strict=*/false, out);
  return out;
}

bool isValidUtf8(std::string_view s) {
  // RFC 3629, section 4: the lead byte fixes the length and the range of the second byte.
  size_t i = 0, n = s.size();
  while (i < n) {
    unsigned char b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      ++i;
      continue;
    }
    size_t trail;
    unsigned char secondLo = 0x80, secondHi = 0xBF;
    if (b >= 0xC2 && b <= 0xDF) {
      trail = 1;
    } else if (b == 0xE0) {
      trail = 2, secondLo = 0xA0; // no overlong 3-byte forms
    } else if (b == 0xED) {
      trail = 2, secondHi = 0x9F; // no surrogates
    } else if (b >= 0xE1 && b <= 0xEF) {
      trail = 2;
    } else if (b == 0xF0) {
      trail = 3, secondLo = 0x90; // no overlong 4-byte forms
    } else if (b >= 0xF1 && b <= 0xF3) {
      trail = 3;
    } else if (b == 0xF4) {
      trail = 3, secondHi = 0x8F; // nothing past U+10FFFF
    } else {
      return false; // a continuation byte, C0/C1, or F5..FF
    }
    if (n - i - 1 < trail) return false;
    unsigned char second = static_cast<unsigned char>(s[i + 1]);
    if (second < secondLo || second > secondHi) return false;
    for (size_t k = 2; k <= trail; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += trail + 1;
  }
  return true;
}

void forEachPiece(std::string_view text, char sep, const std::function<bool(std::string_view)> &fn) {
  for (size_t pos = 0;;) {
    size_t end = text.find(sep, pos);
    if (!fn(text.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos))) return;
    if (end == std::string_view::npos) return;
    pos = end + 1;
  }
}

void forEachRawPair(std::string_view text,
                    const std::function<bool(std::string_view, std::string_view)> &fn) {
  forEachPiece(text, '&', [&](std::string_view piece) {
    if (piece.empty()) return true;
    size_t eq = piece.find('=');
    return fn(piece.substr(0, eq), eq == std::string_view::npos ? std::string_view() : piece.substr(eq + 1));
  });
}

Ec2Result<Params> decodeForm(std::string_view text) {
  if (text.size() > kMaxQueryBytes)
    return ec2Fail(Ec2Error::MalformedQueryString, "the request's parameters are larger than the limit of " +
                                                       std::to_string(kMaxQueryBytes >> 20) + " MiB");
  Params out;
  std::optional<Ec2Failure> failure;
  auto fail = [&](std::string what) {
    failure =
        ec2Fail(Ec2Error::MalformedQueryString, "parameter " + std::to_string(out.size() + 1) + " " + what);
    return false;
  };
  forEachRawPair(text, [&](std::string_view rawName, std::string_view rawValue) {
    if (out.size() == kMaxQueryParameters) {
      failure = ec2Fail(Ec2Error::MalformedQueryString,
                        "the request has more than " + std::to_string(kMaxQueryParameters) + " parameters");
      return false;
    }
    Param p;
    if (!percentDecode(rawName, true, true, p.name) || !percentDecode(rawValue, true, true, p.value))
      return fail("has a `%` not followed by two hex digits");
    if (p.name.empty()) return fail("has an empty name");
    if (p.name.size() > kMaxParameterNameBytes)
      return fail("has a name longer than " + std::to_string(kMaxParameterNameBytes) + " bytes");
    if (!isValidUtf8(p.name) || !isValidUtf8(p.value)) return fail("is not valid UTF-8");
    out.push_back(std::move(p));
    return true;
  });
  if (failure) return std::move(*failure);
  return out;
}

std::string encodeForm(const Params &params) {
  std::string out;
  for (const Param &p : params) {
    if (!out.empty()) out += '&';
    out += uriEncode(p.name);
    out += '=';
    out += uriEncode(p.value);
  }
  return out;
}

// --- Ec2Params ---------------------------------------------------------------------------------

Ec2Result<Ec2Params> Ec2Params::from(Params params) {
  Ec2Params out;
  for (Param &p : params) {
    auto [it, inserted] = out.byName_.try_emplace(std::move(p.name), std::move(p.value));
    if (!inserted)
      return ec2Fail(Ec2Error::InvalidParameterValue,
                     "parameter `" + it->first + "` is given more than once");
  }
  return out;
}

const std::string *Ec2Params::find(std::string_view name) const {
  auto it = byName_.find(name);
  return it == byName_.end() ? nullptr : &it->second;
}

Ec2Result<std::string> Ec2Params::required(std::string_view name) const {
  if (const std::string *v = find(name)) return *v;
  return ec2Fail(Ec2Error::MissingParameter,
                 "the request must contain the parameter `" + std::string(name) + "`");
}

namespace {
/// The parameters whose names start with `prefix.` (the map is sorted, so they are adjacent).
Entries entriesUnder(const std::map<std::string, std::string, std::less<>> &byName, std::string_view prefix) {
  Entries out;
  std::string start = std::string(prefix) + ".";
  for (auto it = byName.lower_bound(start);
       it != byName.end() && it->first.compare(0, start.size(), start) == 0; ++it)
    out.push_back(Entry{it->first, it->first, it->second});
  return out;
}
} // namespace

Ec2Result<std::vector<std::string>> Ec2Params::list(std::string_view prefix) const {
  return scalarsFrom(entriesUnder(byName_, prefix), prefix);
}

namespace {
/// `prefix.N` structures of one required scalar (`scalarName`, into `scalar`) and one nested list
/// (`listName.M...`, read by `readList` into `list`): Filter.N and TagSpecification.N.
template <typename T, typename Item>
Ec2Result<std::vector<T>>
structsWithList(const Entries &entries, std::string_view prefix, std::string_view scalarName,
                std::string T::*scalar, std::string_view listName, std::vector<Item> T::*list,
                Ec2Result<std::vector<Item>> (*readList)(const Entries &, std::string_view)) {
  Groups groups = CFM_NET_TRY(groupByIndex(entries, prefix));
  std::vector<T> out;
  for (auto &[index, group] : groups) {
    T item{};
    bool hasScalar = false;
    for (const Entry &e : group) {
      if (e.rest == scalarName) {
        item.*scalar = e.value;
        hasScalar = true;
      } else if (!isNestedIn(e, listName)) {
        return unknownParameter(e);
      }
    }
    if (!hasScalar) return missingMember(group, scalarName);
    item.*list = CFM_NET_TRY(readList(nested(group, listName), listName));
    out.push_back(std::move(item));
  }
  return out;
}
} // namespace

Ec2Result<std::vector<Ec2Filter>> Ec2Params::filters(std::string_view prefix) const {
  return structsWithList(entriesUnder(byName_, prefix), prefix, "Name", &Ec2Filter::name, "Value",
                         &Ec2Filter::values, scalarsFrom);
}

Ec2Result<std::vector<Ec2Tag>> Ec2Params::tags(std::string_view prefix) const {
  return tagsFrom(entriesUnder(byName_, prefix), prefix);
}

Ec2Result<std::vector<Ec2TagSpecification>> Ec2Params::tagSpecifications(std::string_view prefix) const {
  return structsWithList(entriesUnder(byName_, prefix), prefix, "ResourceType",
                         &Ec2TagSpecification::resourceType, "Tag", &Ec2TagSpecification::tags, tagsFrom);
}

// --- writers -----------------------------------------------------------------------------------

void appendList(Params &out, std::string_view prefix, const std::vector<std::string> &values) {
  for (size_t i = 0; i < values.size(); ++i)
    out.push_back(Param{std::string(prefix) + "." + std::to_string(i + 1), values[i]});
}

void appendFilters(Params &out, const std::vector<Ec2Filter> &filters, std::string_view prefix) {
  for (size_t i = 0; i < filters.size(); ++i) {
    std::string base = std::string(prefix) + "." + std::to_string(i + 1);
    out.push_back(Param{base + ".Name", filters[i].name});
    appendList(out, base + ".Value", filters[i].values);
  }
}

void appendTags(Params &out, const std::vector<Ec2Tag> &tags, std::string_view prefix) {
  for (size_t i = 0; i < tags.size(); ++i) {
    std::string base = std::string(prefix) + "." + std::to_string(i + 1);
    out.push_back(Param{base + ".Key", tags[i].key});
    out.push_back(Param{base + ".Value", tags[i].value});
  }
}

void appendTagSpecifications(Params &out, const std::vector<Ec2TagSpecification> &specs,
                             std::string_view prefix) {
  for (size_t i = 0; i < specs.size(); ++i) {
    std::string base = std::string(prefix) + "." + std::to_string(i + 1);
    out.push_back(Param{base + ".ResourceType", specs[i].resourceType});
    appendTags(out, specs[i].tags, base + ".Tag");
  }
}

} // namespace cfm::net
