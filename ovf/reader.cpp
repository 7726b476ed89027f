// reader.cpp — the OVF reader: walks the namespace-resolved tree of ovf/xml.h and builds an
// Envelope, checking what DSP0243 requires and what CFM relies on (see ovf/README.md, "Checks").
// References, envelope sections and content are read in that order, whatever the file's order, so
// that every cross-reference (a disk's file, an item's disk, an element's virtual system) is
// checked where it is written.
#include "ovf/reader.h"

#include "base/files.h"
#include "ovf/xml.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <set>

namespace cfm::ovf {

namespace {

using xml::Attr;
using xml::Elem;

bool isOvfNs(std::string_view ns) { return ns == kOvf1Ns || ns == kOvf2Ns || ns == kOvf09Ns; }

std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t' || s[b] == '\n' || s[b] == '\r')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\n' || s[e - 1] == '\r')) --e;
  return std::string(s.substr(b, e - b));
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char &c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string q(std::string_view s) { return "`" + std::string(s) + "`"; }

std::string lowerFirst(std::string s) {
  if (!s.empty() && s[0] >= 'A' && s[0] <= 'Z') s[0] = static_cast<char>(s[0] - 'A' + 'a');
  return s;
}

std::optional<uint64_t> parseU64(std::string_view text) {
  std::string s = trim(text);
  if (s.empty() || s.size() > 20) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

std::optional<int64_t> parseI64(std::string_view text) {
  std::string s = trim(text);
  bool neg = !s.empty() && (s[0] == '-' || s[0] == '+');
  bool minus = neg && s[0] == '-';
  auto u = parseU64(neg ? std::string_view(s).substr(1) : std::string_view(s));
  if (!u) return std::nullopt;
  if (minus) {
    if (*u > static_cast<uint64_t>(INT64_MAX) + 1) return std::nullopt;
    return *u == static_cast<uint64_t>(INT64_MAX) + 1 ? INT64_MIN : -static_cast<int64_t>(*u);
  }
  if (*u > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
  return static_cast<int64_t>(*u);
}

std::optional<bool> parseBool(std::string_view text) {
  std::string s = lower(trim(text));
  if (s == "true" || s == "1") return true;
  if (s == "false" || s == "0") return false;
  return std::nullopt;
}

/// The OVF property types (DSP0243 table 6), read case-insensitively; `int` is a common shorthand.
struct TypeInfo {
  const char *name;
  bool isInt, isSigned;
  int bits;
};
constexpr TypeInfo kPropertyTypes[] = {
    {"uint8", true, false, 8},   {"sint8", true, true, 8},     {"uint16", true, false, 16},
    {"sint16", true, true, 16},  {"uint32", true, false, 32},  {"sint32", true, true, 32},
    {"uint64", true, false, 64}, {"sint64", true, true, 64},   {"boolean", false, false, 0},
    {"string", false, false, 0}, {"real32", false, false, 32}, {"real64", false, false, 64},
};

const TypeInfo *propertyType(std::string_view written) {
  std::string t = lower(trim(written));
  if (t == "int") t = "sint32";
  for (const TypeInfo &ti : kPropertyTypes)
    if (t == ti.name) return &ti;
  return nullptr;
}

/// Whether VALUE is a value of type TI (an empty value always is: it means "not set").
bool valueFits(const TypeInfo &ti, std::string_view value) {
  std::string v = trim(value);
  if (v.empty() || std::string_view(ti.name) == "string") return true;
  if (std::string_view(ti.name) == "boolean") return parseBool(v).has_value();
  if (ti.isInt) {
    if (ti.isSigned) {
      auto n = parseI64(v);
      if (!n) return false;
      if (ti.bits == 64) return true;
      int64_t lim = int64_t(1) << (ti.bits - 1);
      return *n >= -lim && *n < lim;
    }
    auto n = parseU64(v);
    return n && (ti.bits == 64 || *n < (uint64_t(1) << ti.bits));
  }
  char *end = nullptr;
  errno = 0;
  (void)strtod(v.c_str(), &end);
  return end && *end == '\0';
}

/// ResourceType values of CIM_ResourceAllocationSettingData: 1..33 are defined, 0x8000..0xFFFF are
/// vendor values. Beyond those CFM knows VirtualBox's sound card (35), in descriptors that declare
/// VirtualBox's namespace; any other value is an unsupported item unless the item is optional.
bool knownResourceType(int t) { return (t >= 1 && t <= 33) || (t >= 0x8000 && t <= 0xFFFF); }

/// Standard OVF sections CFM has no use for: read as "kept", never an error.
constexpr std::string_view kKeptOvfSections[] = {
    "InstallSection",       "ResourceAllocationSection", "PlacementGroupSection", "PlacementSection",
    "EncryptionSection",    "EnvironmentFilesSection",   "BootDeviceSection",     "SharedDiskSection",
    "ResourceGroupSection", "ScaleOutSection_Type"};

/// Vendor namespaces whose sections CFM understands to be placement, boot and UI hints with no
/// meaning on an EC2-style cloud: kept, never an error even when required.
bool vendorNs(std::string_view ns) { return ns == kVmwareNs || ns == kVboxNs; }

/// Property keys with `.` or `:` are rejected (DSP0243 9.5.1; CFM joins class, key and instance
/// with dots), except VMware's well-known `guestinfo.` and `vami.` keys that real appliances use.
bool vendorDottedKey(std::string_view key) {
  return key.substr(0, 10) == "guestinfo." || key.substr(0, 5) == "vami.";
}

enum class Ctx { Envelope, System, Collection };

class Reader {
public:
  explicit Reader(const xml::Doc &doc) : doc_(doc) {}
  Result<Envelope> run();

private:
  // Naming.
  std::string_view ovfName(const Elem &e) const;
  const Attr *oattr(const Elem &e, std::string_view local) const;
  std::string ostr(const Elem &e, std::string_view local) const {
    const Attr *a = oattr(e, local);
    return a ? std::string(a->value) : std::string();
  }
  std::string childText(const Elem &e, std::string_view ovfLocal) const;
  Result<bool> required(const Elem &e) const;
  Error err(const Elem &e, const std::string &msg) const { return doc_.error(e, msg); }
  int line(const Elem &e) const { return doc_.line(e); }

  // Parts.
  Result<void> readReferences(const Elem &e);
  Result<void> readSection(const Elem &e, Ctx ctx, VirtualSystem *vs, int depth);
  Result<void> readDisks(const Elem &e);
  Result<void> readNetworks(const Elem &e);
  Result<void> readDeploymentOptions(const Elem &e);
  Result<void> readContent(const Elem &e, int depth, VirtualSystem &out);
  Result<void> readProduct(const Elem &e, VirtualSystem &vs);
  Result<void> readHardware(const Elem &e, VirtualSystem &vs);
  Result<HardwareItem> readItem(const Elem &e);
  Result<void> readStartup(const Elem &e, VirtualSystem &vs);
  Result<void> readScaleOut(const Elem &e, VirtualSystem &vs);
  Result<void> readOs(const Elem &e, VirtualSystem &vs);
  Result<void> readCfm(const Elem &e);
  Result<void> checkCfm();
  Result<void> checkChildIds(const VirtualSystem &vs, const Elem &e);

  const xml::Doc &doc_;
  Envelope env_;
  bool v09_ = false;
  std::map<std::string, std::pair<bool, int>> contentIds_; // id → (is collection, line)
  std::set<std::string> propertyIds_;                      // per virtual system, class/key/instance
  // The cfm section's elements and templates, index for index with env_.cfm, for the final checks.
  const Elem *cfmSection_ = nullptr;
  std::vector<const Elem *> cfmElementNodes_, cfmTemplateNodes_;
  std::vector<std::vector<const Elem *>> cfmVolumeNodes_, cfmAddressNodes_;
};

std::string_view Reader::ovfName(const Elem &e) const {
  if (!(isOvfNs(e.ns) || (v09_ && e.ns.empty()))) return {};
  if ((e.local == "Section" || e.local == "Content") && !e.xsiTypeLocal.empty() &&
      (isOvfNs(e.xsiTypeNs) || e.xsiTypeNs.empty())) {
    std::string_view t = e.xsiTypeLocal;
    if (t.size() > 5 && t.substr(t.size() - 5) == "_Type") t = t.substr(0, t.size() - 5);
    return t;
  }
  return e.local;
}

const Attr *Reader::oattr(const Elem &e, std::string_view local) const {
  for (const Attr &a : e.attrs)
    if (a.local == local && isOvfNs(a.ns)) return &a;
  return nullptr;
}

std::string Reader::childText(const Elem &e, std::string_view ovfLocal) const {
  for (const Elem *k : e.kids)
    if (ovfName(*k) == ovfLocal) return trim(k->text);
  return {};
}

Result<bool> Reader::required(const Elem &e) const {
  const Attr *a = oattr(e, "required");
  if (!a) return true;
  auto b = parseBool(a->value);
  if (!b) return err(e, "`ovf:required` must be `true` or `false`, not " + q(a->value));
  return *b;
}

Result<Envelope> Reader::run() {
  const Elem &root = doc_.root();
  if (root.local != "Envelope")
    return err(root, "the root element is " + q(root.qname) + "; an OVF descriptor's root is `Envelope`");
  if (!isOvfNs(root.ns)) {
    if (root.ns.empty() && doc_.firstError()) return *doc_.firstError();
    return err(root, "`Envelope` is in namespace " + q(root.ns.empty() ? "(none)" : root.ns) +
                         ", which is not OVF (expected `" + kOvf1Ns + "` or `" + kOvf2Ns + "`)");
  }
  if (doc_.firstError()) return *doc_.firstError();
  env_.ns = std::string(root.ns);
  v09_ = root.ns == kOvf09Ns;
  env_.version = v09_ ? "0.9" : root.ns == kOvf2Ns ? "2.x" : "1.x";

  const Elem *references = nullptr;
  std::vector<const Elem *> content, sections;
  for (const Elem *k : root.kids) {
    std::string_view n = ovfName(*k);
    if (n == "References") {
      if (references)
        return err(*k,
                   "a second `References` (the first is at line " + std::to_string(line(*references)) + ")");
      references = k;
    } else if (n == "VirtualSystem" || n == "VirtualSystemCollection") {
      content.push_back(k);
    } else if (n == "Strings" || n == "Info") {
      continue; // localised message bundles; CFM reads the descriptor's own text
    } else {
      sections.push_back(k);
    }
  }
  if (!references && content.empty())
    return err(root, "the envelope is empty: it has no `References` and no `VirtualSystem` or "
                     "`VirtualSystemCollection`");
  if (!references) return err(root, "the envelope has no `References` element");
  if (content.empty())
    return err(root,
               "the envelope has no content: a `VirtualSystem` or `VirtualSystemCollection` is required");
  if (content.size() > 1)
    return err(*content[1], "a second content element (the envelope holds one `VirtualSystem` or "
                            "`VirtualSystemCollection`; the first is at line " +
                                std::to_string(line(*content[0])) + ")");
  CFM_CHECK(readReferences(*references));
  for (const Elem *s : sections) CFM_CHECK(readSection(*s, Ctx::Envelope, nullptr, 0));
  CFM_CHECK(readContent(*content[0], 0, env_.content));
  CFM_CHECK(checkCfm());
  return std::move(env_);
}

Result<void> Reader::readReferences(const Elem &e) {
  std::map<std::string, int> seen;
  for (const Elem *k : e.kids) {
    if (ovfName(*k) != "File") {
      if (isOvfNs(k->ns)) return err(*k, "unexpected " + q(k->qname) + " in `References` (only `File`)");
      continue;
    }
    FileRef f;
    f.line = line(*k);
    f.id = ostr(*k, "id");
    f.href = ostr(*k, "href");
    if (f.id.empty()) return err(*k, "`File` has no `ovf:id`");
    if (f.href.empty()) return err(*k, "file " + q(f.id) + " has no `ovf:href`");
    if (const Attr *s = oattr(*k, "size")) {
      f.size = parseU64(s->value);
      if (!f.size) return err(*k, "file " + q(f.id) + ": `ovf:size` is not a number: " + q(s->value));
    }
    f.compression = ostr(*k, "compression");
    if (auto [it, fresh] = seen.emplace(f.id, f.line); !fresh)
      return err(*k, "duplicate file id " + q(f.id) + " in `References` (first at line " +
                         std::to_string(it->second) + ")");
    env_.files.push_back(std::move(f));
  }
  return success();
}

Result<void> Reader::readSection(const Elem &e, Ctx ctx, VirtualSystem *vs, int depth) {
  if (e.ns == kCfmNs) {
    if (e.local != "BusinessSystemSection")
      return err(e,
                 "unknown CFM section " + q(e.qname) + " (CFM's extension has `cfm:BusinessSystemSection`)");
    if (ctx != Ctx::Envelope && depth != 0)
      return err(e, "`cfm:BusinessSystemSection` belongs in the `Envelope` or its top-level content");
    return readCfm(e);
  }
  std::string_view n = ovfName(e);
  bool req = CFM_TRY(required(e));
  auto keep = [&] {
    OtherSection o{std::string(e.ns), std::string(n.empty() ? e.local : n), req, line(e)};
    (vs ? vs->others : env_.others).push_back(std::move(o));
    return success();
  };
  if (n.empty()) {
    if (vendorNs(e.ns) || !req) return keep();
    return err(e,
               "unknown section " + q(e.qname) + " is required (it is not marked `ovf:required=\"false\"`)");
  }
  auto onlyIn = [&](Ctx want, const char *where) -> Result<void> {
    if (ctx == want) return success();
    return err(e, q(n) + " belongs in " + where);
  };
  auto notEnvelope = [&]() -> Result<void> {
    if (ctx != Ctx::Envelope) return success();
    return err(e, q(n) + " belongs in a `VirtualSystem` or `VirtualSystemCollection`, not the `Envelope`");
  };
  if (n == "DiskSection") {
    CFM_CHECK(onlyIn(Ctx::Envelope, "the `Envelope`"));
    return readDisks(e);
  }
  if (n == "NetworkSection") {
    CFM_CHECK(onlyIn(Ctx::Envelope, "the `Envelope`"));
    return readNetworks(e);
  }
  if (n == "DeploymentOptionSection") {
    CFM_CHECK(onlyIn(Ctx::Envelope, "the `Envelope`"));
    return readDeploymentOptions(e);
  }
  if (n == "VirtualHardwareSection") {
    CFM_CHECK(onlyIn(Ctx::System, "a `VirtualSystem`"));
    return readHardware(e, *vs);
  }
  if (n == "ProductSection") {
    CFM_CHECK(notEnvelope());
    return readProduct(e, *vs);
  }
  if (n == "AnnotationSection") {
    CFM_CHECK(notEnvelope());
    vs->annotations.push_back(childText(e, "Annotation"));
    return success();
  }
  if (n == "EulaSection") {
    CFM_CHECK(notEnvelope());
    vs->eulas.push_back(childText(e, "License"));
    return success();
  }
  if (n == "StartupSection") {
    CFM_CHECK(onlyIn(Ctx::Collection, "a `VirtualSystemCollection`"));
    return readStartup(e, *vs);
  }
  if (n == "ScaleOutSection") {
    CFM_CHECK(onlyIn(Ctx::Collection, "a `VirtualSystemCollection`"));
    return readScaleOut(e, *vs);
  }
  if (n == "OperatingSystemSection") {
    CFM_CHECK(onlyIn(Ctx::System, "a `VirtualSystem`"));
    return readOs(e, *vs);
  }
  if (std::find(std::begin(kKeptOvfSections), std::end(kKeptOvfSections), n) != std::end(kKeptOvfSections))
    return keep();
  if (!req) return keep();
  return err(e, "unknown section " + q(e.qname) + " is required (it is not marked `ovf:required=\"false\"`)");
}

Result<void> Reader::readDisks(const Elem &e) {
  std::map<std::string, int> seen;
  for (const Elem *k : e.kids) {
    if (ovfName(*k) != "Disk") continue;
    DiskDesc d;
    d.line = line(*k);
    d.diskId = ostr(*k, "diskId");
    if (d.diskId.empty()) return err(*k, "`Disk` has no `ovf:diskId`");
    if (auto [it, fresh] = seen.emplace(d.diskId, d.line); !fresh)
      return err(*k, "duplicate disk id " + q(d.diskId) + " in `DiskSection` (first at line " +
                         std::to_string(it->second) + ")");
    const Attr *cap = oattr(*k, "capacity");
    if (!cap || trim(cap->value).empty()) return err(*k, "disk " + q(d.diskId) + " has no `ovf:capacity`");
    d.capacity = trim(cap->value);
    bool propertyRef = d.capacity.size() > 3 && d.capacity.substr(0, 2) == "${" && d.capacity.back() == '}';
    if (!propertyRef && !parseU64(d.capacity))
      return err(*k, "disk " + q(d.diskId) +
                         ": `ovf:capacity` is not a number or `${property}`: " + q(d.capacity));
    d.capacityUnits = ostr(*k, "capacityAllocationUnits");
    if (!d.capacityUnits.empty()) {
      auto u = byteUnits(d.capacityUnits);
      if (!u) return err(*k, "disk " + q(d.diskId) + ": " + u.error().message);
    }
    d.fileRef = ostr(*k, "fileRef");
    if (!d.fileRef.empty() && !env_.file(d.fileRef))
      return err(*k, "disk " + q(d.diskId) + " refers to file " + q(d.fileRef) +
                         ", which is not in `References`");
    d.format = ostr(*k, "format");
    if (const Attr *p = oattr(*k, "populatedSize")) {
      d.populatedSize = parseU64(p->value);
      if (!d.populatedSize)
        return err(*k, "disk " + q(d.diskId) + ": `ovf:populatedSize` is not a number: " + q(p->value));
    }
    env_.disks.push_back(std::move(d));
  }
  return success();
}

Result<void> Reader::readNetworks(const Elem &e) {
  std::map<std::string, int> seen;
  for (const Elem *k : e.kids) {
    if (ovfName(*k) != "Network") continue;
    NetworkDesc n;
    n.line = line(*k);
    n.name = ostr(*k, "name");
    if (n.name.empty()) return err(*k, "`Network` has no `ovf:name`");
    if (auto [it, fresh] = seen.emplace(n.name, n.line); !fresh)
      return err(*k,
                 "duplicate network " + q(n.name) + " (first at line " + std::to_string(it->second) + ")");
    n.description = childText(*k, "Description");
    env_.networks.push_back(std::move(n));
  }
  return success();
}

Result<void> Reader::readDeploymentOptions(const Elem &e) {
  std::map<std::string, int> seen;
  for (const Elem *k : e.kids) {
    if (ovfName(*k) != "Configuration") continue;
    DeploymentOption d;
    d.line = line(*k);
    d.id = ostr(*k, "id");
    if (d.id.empty()) return err(*k, "`Configuration` has no `ovf:id`");
    if (auto [it, fresh] = seen.emplace(d.id, d.line); !fresh)
      return err(*k, "duplicate deployment option " + q(d.id) + " (first at line " +
                         std::to_string(it->second) + ")");
    if (const Attr *a = oattr(*k, "default")) {
      auto b = parseBool(a->value);
      if (!b) return err(*k, "`ovf:default` must be `true` or `false`, not " + q(a->value));
      d.isDefault = *b;
    }
    d.label = childText(*k, "Label");
    d.description = childText(*k, "Description");
    env_.deploymentOptions.push_back(std::move(d));
  }
  return success();
}

Result<void> Reader::readContent(const Elem &e, int depth, VirtualSystem &out) {
  std::string_view n = ovfName(e);
  out.collection = n == "VirtualSystemCollection";
  out.line = line(e);
  if (depth > kMaxCollectionDepth)
    return err(e, "virtual system collections nested deeper than " + std::to_string(kMaxCollectionDepth) +
                      " levels");
  out.id = ostr(e, "id");
  if (out.id.empty()) return err(e, q(n) + " has no `ovf:id`");
  if (auto [it, fresh] = contentIds_.emplace(out.id, std::make_pair(out.collection, out.line)); !fresh)
    return err(e, "duplicate content id " + q(out.id) + " (first at line " +
                      std::to_string(it->second.second) + ")");
  propertyIds_.clear();
  std::vector<const Elem *> children;
  for (const Elem *k : e.kids) {
    std::string_view kn = ovfName(*k);
    if (kn == "Info") {
      out.info = trim(k->text);
    } else if (kn == "Name") {
      out.name = trim(k->text);
    } else if (kn == "VirtualSystem" || kn == "VirtualSystemCollection") {
      if (!out.collection) return err(*k, "a `VirtualSystem` cannot contain " + q(kn));
      children.push_back(k);
    } else {
      CFM_CHECK(readSection(*k, out.collection ? Ctx::Collection : Ctx::System, &out, depth));
    }
  }
  if (!out.collection && out.hardware.empty())
    return err(e, "virtual system " + q(out.id) + " has no `VirtualHardwareSection`");
  for (const Elem *k : children) {
    VirtualSystem child;
    CFM_CHECK(readContent(*k, depth + 1, child));
    out.children.push_back(std::move(child));
  }
  if (out.collection) CFM_CHECK(checkChildIds(out, e));
  return success();
}

// StartupSection and ScaleOutSection items name children of their collection.
Result<void> Reader::checkChildIds(const VirtualSystem &vs, const Elem &e) {
  auto isChild = [&](const std::string &id) {
    for (const VirtualSystem &c : vs.children)
      if (c.id == id) return true;
    return false;
  };
  for (const StartupItem &s : vs.startup)
    if (!isChild(s.id))
      return doc_.errorAtLine(s.line,
                              "startup item " + q(s.id) + " names no child of collection " + q(vs.id));
  for (const ScaleOut &s : vs.scaleOut)
    if (!isChild(s.id))
      return doc_.errorAtLine(s.line,
                              "scale-out section " + q(s.id) + " names no child of collection " + q(vs.id));
  (void)e;
  return success();
}

Result<void> Reader::readProduct(const Elem &e, VirtualSystem &vs) {
  ProductSection p;
  p.line = line(e);
  p.required = CFM_TRY(required(e));
  p.className = ostr(e, "class");
  p.instance = ostr(e, "instance");
  for (const Elem *k : e.kids) {
    std::string_view n = ovfName(*k);
    if (n == "Product")
      p.product = trim(k->text);
    else if (n == "Vendor")
      p.vendor = trim(k->text);
    else if (n == "Version")
      p.version = trim(k->text);
    else if (n == "FullVersion")
      p.fullVersion = trim(k->text);
    else if (n == "ProductUrl")
      p.productUrl = trim(k->text);
    else if (n == "VendorUrl")
      p.vendorUrl = trim(k->text);
    else if (n == "AppUrl")
      p.appUrl = trim(k->text);
    if (n != "Property") continue;
    PropertyDesc d;
    d.line = line(*k);
    d.key = ostr(*k, "key");
    if (d.key.empty()) return err(*k, "`Property` has no `ovf:key`");
    if (d.key.find_first_of(".:") != std::string::npos && !vendorDottedKey(d.key))
      return err(*k, "property key " + q(d.key) +
                         " has an invalid character (`.` and `:` are not allowed in "
                         "`ovf:key`, DSP0243 9.5.1)");
    const Attr *t = oattr(*k, "type");
    if (!t) return err(*k, "property " + q(d.key) + " has no `ovf:type`");
    const TypeInfo *ti = propertyType(t->value);
    if (!ti)
      return err(*k, "property " + q(d.key) + " has invalid type " + q(t->value) +
                         " (one of uint8..uint64, sint8..sint64, boolean, string, real32, real64)");
    d.type = ti->name;
    d.value = ostr(*k, "value");
    if (!valueFits(*ti, d.value))
      return err(*k, "property " + q(d.key) + ": value " + q(d.value) + " is not a " + ti->name);
    if (const Attr *u = oattr(*k, "userConfigurable")) {
      auto b = parseBool(u->value);
      if (!b) return err(*k, "`ovf:userConfigurable` must be `true` or `false`, not " + q(u->value));
      d.userConfigurable = *b;
    }
    d.qualifiers = ostr(*k, "qualifiers");
    d.label = childText(*k, "Label");
    d.description = childText(*k, "Description");
    std::string pid = p.className + "\x1f" + d.key + "\x1f" + p.instance;
    if (!propertyIds_.insert(pid).second) {
      int first = 0;
      for (const ProductSection &ps : vs.products)
        if (ps.className == p.className && ps.instance == p.instance)
          for (const PropertyDesc &pd : ps.properties)
            if (pd.key == d.key) first = pd.line;
      for (const PropertyDesc &pd : p.properties)
        if (pd.key == d.key) first = pd.line;
      return err(*k, "duplicate property key " + q(d.key) +
                         (p.className.empty() ? std::string() : " in class " + q(p.className)) +
                         " (first at line " + std::to_string(first) + ")");
    }
    p.properties.push_back(std::move(d));
  }
  vs.products.push_back(std::move(p));
  return success();
}

Result<void> Reader::readHardware(const Elem &e, VirtualSystem &vs) {
  VirtualHardware hw;
  hw.line = line(e);
  hw.transport = ostr(e, "transport");
  std::map<std::string, int> seen;
  for (const Elem *k : e.kids) {
    std::string_view n = ovfName(*k);
    if (n == "System") {
      for (const Elem *s : k->kids)
        if (s->local == "VirtualSystemType") hw.systemType = trim(s->text);
      continue;
    }
    if (n != "Item" && n != "EthernetPortItem" && n != "StorageItem") continue;
    HardwareItem item = CFM_TRY(readItem(*k));
    std::string key = item.instanceId + "\x1f" + item.bound + "\x1f" + item.configuration;
    if (auto [it, fresh] = seen.emplace(key, item.line); !fresh)
      return err(*k, "duplicate `rasd:InstanceID` " + q(item.instanceId) +
                         " in `VirtualHardwareSection` (first at "
                         "line " +
                         std::to_string(it->second) + ")");
    hw.items.push_back(std::move(item));
  }
  vs.hardware.push_back(std::move(hw));
  return success();
}

Result<HardwareItem> Reader::readItem(const Elem &e) {
  HardwareItem it;
  it.element = std::string(ovfName(e));
  it.line = line(e);
  it.required = CFM_TRY(required(e));
  // VMware writes `configuration` and `bound` unqualified as often as with `ovf:`.
  it.configuration = ostr(e, "configuration");
  if (const Attr *a = e.attr("", "configuration"); a && it.configuration.empty())
    it.configuration = std::string(a->value);
  it.bound = ostr(e, "bound");
  if (const Attr *a = e.attr("", "bound"); a && it.bound.empty()) it.bound = std::string(a->value);
  std::string resourceType;
  bool hasType = false;
  for (const Elem *k : e.kids) {
    if (isOvfNs(k->ns) || vendorNs(k->ns) || k->ns == kCfmNs) continue; // vendor settings (vmw:Config, ...)
    std::string_view n = k->local;
    std::string v = trim(k->text);
    if (n == "InstanceID" || n == "InstanceId")
      it.instanceId = v;
    else if (n == "ResourceType")
      resourceType = v, hasType = true;
    else if (n == "ResourceSubType")
      it.resourceSubType = v;
    else if (n == "ElementName" || (n == "Caption" && it.elementName.empty()))
      it.elementName = v;
    else if (n == "Description")
      it.description = v;
    else if (n == "AllocationUnits")
      it.allocationUnits = v;
    else if (n == "HostResource")
      it.hostResources.push_back(v);
    else if (n == "Connection") {
      // DSP0243 (NetworkSection): every network a NIC connects to is declared in NetworkSection,
      // which is read, with every envelope section, before the content.
      bool declared = v.empty();
      for (const NetworkDesc &net : env_.networks) declared = declared || net.name == v;
      if (!declared)
        return err(
            *k, q(k->qname) + " names network " + q(v) + ", which `NetworkSection` does not " +
                    (env_.networks.empty() ? "declare (the envelope has no `NetworkSection`)" : "declare"));
      it.connections.push_back(v);
    } else if (n == "Address")
      it.address = v;
    else if (n == "AddressOnParent")
      it.addressOnParent = v;
    else if (n == "Parent")
      it.parent = v;
    else if (n == "VirtualQuantity") {
      it.virtualQuantity = parseU64(v);
      if (!it.virtualQuantity) return err(*k, "`rasd:VirtualQuantity` is not a number: " + q(v));
    }
  }
  std::string what = q(it.element) + (it.elementName.empty() ? std::string() : " " + q(it.elementName));
  if (it.instanceId.empty()) return err(e, "hardware item " + what + " has no `rasd:InstanceID`");
  what += " (`rasd:InstanceID` " + it.instanceId + ")";
  if (!hasType) return err(e, "hardware item " + what + " has no `rasd:ResourceType`");
  auto rt = parseU64(resourceType);
  if (!rt || *rt > 0xFFFF)
    return err(e, "hardware item " + what + ": `rasd:ResourceType` " + q(resourceType) +
                      " is not a resource type number");
  it.resourceType = static_cast<int>(*rt);
  bool vboxSound = it.resourceType == 35 && doc_.declares(kVboxNs);
  if (!knownResourceType(it.resourceType) && !vboxSound && it.required)
    return err(e, "unsupported resource type " + std::to_string(it.resourceType) + " in hardware item " +
                      what + " (CIM defines 1..33 and vendor values 32768..65535)");
  if (it.resourceType == 4 && !it.allocationUnits.empty()) {
    auto u = byteUnits(it.allocationUnits);
    if (!u) return err(e, "memory item " + what + ": " + u.error().message);
  }
  for (const std::string &h : it.hostResources) {
    std::string_view r = h;
    if (r.substr(0, 4) == "ovf:") r.remove_prefix(4);
    if (r.substr(0, 6) == "/disk/") {
      std::string id(r.substr(6));
      if (!env_.disk(id))
        return err(e,
                   "hardware item " + what + " refers to disk " + q(id) + ", which is not in `DiskSection`");
    } else if (r.substr(0, 6) == "/file/") {
      std::string id(r.substr(6));
      if (!env_.file(id))
        return err(e,
                   "hardware item " + what + " refers to file " + q(id) + ", which is not in `References`");
    }
  }
  return it;
}

Result<void> Reader::readStartup(const Elem &e, VirtualSystem &vs) {
  for (const Elem *k : e.kids) {
    if (ovfName(*k) != "Item") continue;
    StartupItem s;
    s.line = line(*k);
    s.id = ostr(*k, "id");
    if (s.id.empty()) return err(*k, "startup `Item` has no `ovf:id`");
    auto num = [&](const char *attr, int &out) -> Result<void> {
      const Attr *a = oattr(*k, attr);
      if (!a) return success();
      auto v = parseI64(a->value);
      if (!v || *v < INT32_MIN || *v > INT32_MAX)
        return err(*k, "startup item " + q(s.id) + ": `ovf:" + attr + "` is not a number: " + q(a->value));
      out = static_cast<int>(*v);
      return success();
    };
    CFM_CHECK(num("order", s.order));
    CFM_CHECK(num("startDelay", s.startDelay));
    CFM_CHECK(num("stopDelay", s.stopDelay));
    s.startAction = ostr(*k, "startAction");
    s.stopAction = ostr(*k, "stopAction");
    if (const Attr *w = oattr(*k, "waitingForGuest")) s.waitingForGuest = parseBool(w->value).value_or(false);
    vs.startup.push_back(std::move(s));
  }
  return success();
}

Result<void> Reader::readScaleOut(const Elem &e, VirtualSystem &vs) {
  ScaleOut s;
  s.line = line(e);
  s.id = ostr(e, "id");
  if (s.id.empty()) return err(e, "`ScaleOutSection` has no `ovf:id`");
  for (const Elem *k : e.kids) {
    if (ovfName(*k) != "InstanceCount") continue;
    auto num = [&](const char *attr, int &out, bool unboundedOk) -> Result<void> {
      const Attr *a = oattr(*k, attr);
      if (!a) return success();
      if (unboundedOk && trim(a->value) == "unbounded") {
        out = -1;
        return success();
      }
      auto v = parseU64(a->value);
      if (!v || *v > INT32_MAX)
        return err(*k, "scale-out " + q(s.id) + ": `ovf:" + attr + "` is not a count: " + q(a->value));
      out = static_cast<int>(*v);
      return success();
    };
    CFM_CHECK(num("minimum", s.minimum, false));
    CFM_CHECK(num("default", s.initial, false));
    CFM_CHECK(num("maximum", s.maximum, true));
    if (s.initial < s.minimum || (s.maximum >= 0 && s.initial > s.maximum))
      return err(*k, "scale-out " + q(s.id) + ": needs minimum <= default <= maximum");
  }
  vs.scaleOut.push_back(std::move(s));
  return success();
}

Result<void> Reader::readOs(const Elem &e, VirtualSystem &vs) {
  OperatingSystem os;
  os.line = line(e);
  std::string id = ostr(e, "id");
  auto v = parseU64(id);
  if (!v || *v > 65535) return err(e, "`OperatingSystemSection` needs a numeric `ovf:id`, not " + q(id));
  os.id = static_cast<int>(*v);
  os.version = ostr(e, "version");
  if (const Attr *t = e.attr(kVmwareNs, "osType")) os.osType = std::string(t->value);
  os.description = childText(e, "Description");
  vs.os = std::move(os);
  return success();
}

// --- the CFM extension ---------------------------------------------------------------------------

/// Checks that E has only the (unqualified) attributes in ALLOWED besides namespace declarations
/// and ovf:required.
Result<void> onlyAttrs(const xml::Doc &doc, const Elem &e, std::initializer_list<std::string_view> allowed) {
  for (const Attr &a : e.attrs) {
    if (isOvfNs(a.ns) && a.local == "required") continue;
    if (a.ns.empty() && std::find(allowed.begin(), allowed.end(), a.local) != allowed.end()) continue;
    std::string list;
    for (std::string_view s : allowed) list += (list.empty() ? "`" : ", `") + std::string(s) + "`";
    return doc.error(e, "unknown attribute " + q(a.qname) + " on " + q(e.qname) + " (it takes " + list + ")");
  }
  return success();
}

std::string plain(const Elem &e, std::string_view name) {
  const Attr *a = e.attr("", name);
  return a ? std::string(a->value) : std::string();
}

Result<std::optional<int>> count(const xml::Doc &doc, const Elem &e, std::string_view name) {
  const Attr *a = e.attr("", name);
  if (!a) return std::optional<int>();
  auto v = parseU64(a->value);
  if (!v || *v > 1000000) return doc.error(e, q(name) + " must be a count (0..1000000), not " + q(a->value));
  return std::optional<int>(static_cast<int>(*v));
}

Result<void> Reader::readCfm(const Elem &e) {
  if (cfmSection_)
    return err(e, "a second `cfm:BusinessSystemSection` (the first is at line " +
                      std::to_string(line(*cfmSection_)) + ")");
  cfmSection_ = &e;
  CFM_CHECK(onlyAttrs(doc_, e, {"id", "name"}));
  CfmSystem sys;
  sys.line = line(e);
  sys.id = plain(e, "id");
  sys.name = plain(e, "name");
  for (const Elem *k : e.kids) {
    if (ovfName(*k) == "Info") continue;
    if (k->ns != kCfmNs) return err(*k, "unexpected " + q(k->qname) + " in `cfm:BusinessSystemSection`");
    if (k->local == "Description") {
      sys.description = trim(k->text);
    } else if (k->local == "Element") {
      CFM_CHECK(onlyAttrs(doc_, *k, {"name", "virtualSystem", "min", "max", "instances", "image"}));
      CfmElement el;
      el.line = line(*k);
      el.name = plain(*k, "name");
      if (el.name.empty()) return err(*k, "`cfm:Element` has no `name`");
      el.virtualSystem = plain(*k, "virtualSystem");
      if (el.virtualSystem.empty()) el.virtualSystem = el.name;
      el.minimum = CFM_TRY(count(doc_, *k, "min"));
      el.maximum = CFM_TRY(count(doc_, *k, "max"));
      el.initial = CFM_TRY(count(doc_, *k, "instances"));
      el.image = plain(*k, "image");
      std::vector<const Elem *> volumes, addresses;
      for (const Elem *c : k->kids) {
        if (c->ns == kCfmNs && c->local == "DependsOn") {
          CFM_CHECK(onlyAttrs(doc_, *c, {"element"}));
          std::string d = plain(*c, "element");
          if (d.empty()) return err(*c, "`cfm:DependsOn` has no `element`");
          el.dependsOn.push_back(d);
        } else if (c->ns == kCfmNs && c->local == "Volume") {
          CFM_CHECK(onlyAttrs(doc_, *c, {"name", "sizeMb", "device", "mount"}));
          CfmVolume v;
          v.line = line(*c);
          v.name = plain(*c, "name");
          v.device = plain(*c, "device");
          v.mountPath = plain(*c, "mount");
          auto size = parseU64(plain(*c, "sizeMb"));
          if (v.name.empty()) return err(*c, "`cfm:Volume` has no `name`");
          if (!size || *size == 0 || *size > (uint64_t(1) << 40))
            return err(*c, "volume " + q(v.name) + " needs `sizeMb`, a size in MiB (1..2^40)");
          v.sizeMb = static_cast<int64_t>(*size);
          el.volumes.push_back(std::move(v));
          volumes.push_back(c);
        } else if (c->ns == kCfmNs && c->local == "Address") {
          CFM_CHECK(onlyAttrs(doc_, *c, {"name", "kind", "network"}));
          CfmAddress a;
          a.line = line(*c);
          a.name = plain(*c, "name");
          a.kind = plain(*c, "kind");
          a.network = plain(*c, "network");
          if (a.name.empty()) return err(*c, "`cfm:Address` has no `name`");
          if (a.kind.empty()) a.kind = "private";
          if (a.kind != "private" && a.kind != "public")
            return err(*c, "address " + q(a.name) + ": `kind` is `private` or `public`, not " + q(a.kind));
          el.addresses.push_back(std::move(a));
          addresses.push_back(c);
        } else {
          return err(*c, "unexpected " + q(c->qname) +
                             " in `cfm:Element` (it holds `cfm:DependsOn`, "
                             "`cfm:Volume` and `cfm:Address`)");
        }
      }
      sys.elements.push_back(std::move(el));
      cfmElementNodes_.push_back(k);
      cfmVolumeNodes_.push_back(std::move(volumes));
      cfmAddressNodes_.push_back(std::move(addresses));
    } else if (k->local == "Template") {
      CFM_CHECK(onlyAttrs(doc_, *k, {"name", "element", "path", "mode", "fileRef"}));
      CfmTemplate t;
      t.line = line(*k);
      t.name = plain(*k, "name");
      t.element = plain(*k, "element");
      t.path = plain(*k, "path");
      t.mode = plain(*k, "mode");
      t.fileRef = plain(*k, "fileRef");
      if (t.name.empty()) return err(*k, "`cfm:Template` has no `name`");
      for (const Elem *c : k->kids)
        return err(*c, "unexpected " + q(c->qname) + " in template " + q(t.name) +
                           " (put template text in `<![CDATA[ ... ]]>`)");
      // A newline right after the start tag or `<![CDATA[` is layout, not text (as after `"""`).
      std::string text = k->hasCdata ? k->cdata : k->text;
      if (!text.empty() && text[0] == '\n') text.erase(0, 1);
      bool inlineText = k->hasCdata || !trim(k->text).empty();
      if (inlineText && !t.fileRef.empty())
        return err(*k, "template " + q(t.name) + " has both text and `fileRef`");
      if (!inlineText && t.fileRef.empty())
        return err(*k, "template " + q(t.name) + " has no text and no `fileRef`");
      if (inlineText) t.text = std::move(text);
      sys.templates.push_back(std::move(t));
      cfmTemplateNodes_.push_back(k);
    } else {
      return err(*k, "unexpected " + q(k->qname) +
                         " in `cfm:BusinessSystemSection` (it holds `cfm:Description`, "
                         "`cfm:Element` and `cfm:Template`)");
    }
  }
  env_.cfm = std::move(sys);
  return success();
}

// Cross-references of the extension, checked once the whole content is known.
Result<void> Reader::checkCfm() {
  if (!env_.cfm) return success();
  const CfmSystem &sys = *env_.cfm;
  std::map<std::string, size_t> elements;
  for (size_t i = 0; i < sys.elements.size(); ++i) {
    const CfmElement &el = sys.elements[i];
    const Elem &node = *cfmElementNodes_[i];
    if (auto [it, fresh] = elements.emplace(el.name, i); !fresh)
      return err(node, "duplicate element " + q(el.name) + " (first at line " +
                           std::to_string(sys.elements[it->second].line) + ")");
    auto vs = contentIds_.find(el.virtualSystem);
    if (vs == contentIds_.end())
      return err(node, "element " + q(el.name) + " names virtual system " + q(el.virtualSystem) +
                           ", which is not in the envelope");
    if (vs->second.first)
      return err(node, "element " + q(el.name) + " names " + q(el.virtualSystem) +
                           ", a `VirtualSystemCollection`; an element is one `VirtualSystem`");
    int mn = el.minimum.value_or(1), mx = el.maximum.value_or(std::max(mn, el.initial.value_or(mn)));
    int init = el.initial.value_or(mn);
    if (mx < 1 || mn > init || init > mx)
      return err(node, "element " + q(el.name) + ": needs min <= instances <= max and max >= 1 (min " +
                           std::to_string(mn) + ", instances " + std::to_string(init) + ", max " +
                           std::to_string(mx) + ")");
    std::set<std::string> names;
    for (size_t v = 0; v < el.volumes.size(); ++v)
      if (!names.insert("v:" + el.volumes[v].name).second)
        return err(*cfmVolumeNodes_[i][v],
                   "duplicate volume " + q(el.volumes[v].name) + " in element " + q(el.name));
    for (size_t a = 0; a < el.addresses.size(); ++a) {
      const CfmAddress &ad = el.addresses[a];
      if (!names.insert("a:" + ad.name).second)
        return err(*cfmAddressNodes_[i][a], "duplicate address " + q(ad.name) + " in element " + q(el.name));
      if (!ad.network.empty() && !env_.networks.empty()) {
        bool found = false;
        for (const NetworkDesc &n : env_.networks) found = found || n.name == ad.network;
        if (!found)
          return err(*cfmAddressNodes_[i][a], "address " + q(ad.name) + " names network " + q(ad.network) +
                                                  ", which is not in `NetworkSection`");
      }
    }
  }
  // Dependencies: every name exists, and they have no cycle (Kahn's algorithm, no recursion).
  std::vector<int> missing(sys.elements.size(), 0);
  for (size_t i = 0; i < sys.elements.size(); ++i) {
    std::set<std::string> seen;
    for (const std::string &d : sys.elements[i].dependsOn) {
      if (!elements.count(d))
        return err(*cfmElementNodes_[i], "element " + q(sys.elements[i].name) + " depends on " + q(d) +
                                             ", which is not an element");
      if (d == sys.elements[i].name)
        return err(*cfmElementNodes_[i], "element " + q(d) + " depends on itself");
      if (!seen.insert(d).second)
        return err(*cfmElementNodes_[i],
                   "element " + q(sys.elements[i].name) + " depends on " + q(d) + " twice");
      ++missing[i];
    }
  }
  std::vector<size_t> ready;
  for (size_t i = 0; i < missing.size(); ++i)
    if (missing[i] == 0) ready.push_back(i);
  size_t placed = 0;
  while (!ready.empty()) {
    size_t r = ready.back();
    ready.pop_back();
    ++placed;
    for (size_t i = 0; i < sys.elements.size(); ++i)
      for (const std::string &d : sys.elements[i].dependsOn)
        if (d == sys.elements[r].name && --missing[i] == 0) ready.push_back(i);
  }
  if (placed != sys.elements.size()) {
    std::string names;
    size_t first = 0;
    for (size_t i = sys.elements.size(); i-- > 0;)
      if (missing[i] > 0) {
        names = q(sys.elements[i].name) + (names.empty() ? "" : ", ") + names;
        first = i;
      }
    return err(*cfmElementNodes_[first], "dependency cycle among elements " + names);
  }
  std::map<std::string, int> templates;
  for (size_t i = 0; i < sys.templates.size(); ++i) {
    const CfmTemplate &t = sys.templates[i];
    const Elem &node = *cfmTemplateNodes_[i];
    if (auto [it, fresh] = templates.emplace(t.name, t.line); !fresh)
      return err(node,
                 "duplicate template " + q(t.name) + " (first at line " + std::to_string(it->second) + ")");
    if (!t.element.empty() && !elements.count(t.element))
      return err(node,
                 "template " + q(t.name) + " names element " + q(t.element) + ", which is not an element");
    if (t.path.empty() || t.path[0] != '/' || t.path.find('\0') != std::string::npos)
      return err(node, "template " + q(t.name) + " needs `path`, an absolute destination path");
    if (!t.mode.empty()) {
      bool octal = t.mode.size() >= 3 && t.mode.size() <= 4;
      for (char c : t.mode) octal = octal && c >= '0' && c <= '7';
      if (!octal) return err(node, "template " + q(t.name) + ": `mode` is an octal file mode such as `0644`");
    }
    if (!t.fileRef.empty() && !env_.file(t.fileRef))
      return err(node, "template " + q(t.name) + " refers to file " + q(t.fileRef) +
                           ", which is not in `References`");
  }
  return success();
}

} // namespace

const FileRef *Envelope::file(const std::string &id) const {
  for (const FileRef &f : files)
    if (f.id == id) return &f;
  return nullptr;
}

const DiskDesc *Envelope::disk(const std::string &id) const {
  for (const DiskDesc &d : disks)
    if (d.diskId == id) return &d;
  return nullptr;
}

std::string Envelope::defaultConfiguration() const {
  for (const DeploymentOption &d : deploymentOptions)
    if (d.isDefault) return d.id;
  return deploymentOptions.empty() ? std::string() : deploymentOptions.front().id;
}

Result<uint64_t> byteUnits(std::string_view units) {
  std::string u;
  for (char c : units)
    if (c != ' ' && c != '\t') u += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  if (u.empty() || u == "byte" || u == "bytes") return uint64_t(1);
  if (u == "kilobytes" || u == "kb") return uint64_t(1) << 10;
  if (u == "megabytes" || u == "mb") return uint64_t(1) << 20;
  if (u == "gigabytes" || u == "gb") return uint64_t(1) << 30;
  if (u == "terabytes" || u == "tb") return uint64_t(1) << 40;
  for (const char *prefix : {"byte*2^", "bytes*2^", "byte*10^", "bytes*10^"}) {
    std::string_view p = prefix;
    if (u.compare(0, p.size(), p) != 0) continue;
    auto e = parseU64(std::string_view(u).substr(p.size()));
    bool two = p.find("*2^") != std::string_view::npos;
    if (!e || *e > (two ? 60u : 18u)) break;
    uint64_t m = 1;
    for (uint64_t i = 0; i < *e; ++i) m *= two ? 2 : 10;
    return m;
  }
  return Error{ErrorKind::Ovf, "unknown allocation units " + q(units) + " (expected e.g. `byte * 2^20`)"};
}

Result<std::string> slurp(const std::string &path, size_t limit) {
  auto text = base::readRegularFile(path, limit);
  if (!text)
    return Error{text.error().kind, "cannot read `" + path + "`: " + lowerFirst(text.error().message),
                 SourceLoc{path, 0, 0}};
  return text;
}

Result<Envelope> read(std::string_view text, const std::string &name) {
  auto doc = CFM_TRY(xml::Doc::parse(text, name));
  Reader r(*doc);
  return r.run();
}

Result<Envelope> readFile(const std::string &path) {
  std::string text = CFM_TRY(slurp(path, kMaxDescriptorBytes));
  return read(text, path);
}

} // namespace cfm::ovf
