// to_model.cpp — maps a read envelope onto model objects: each VirtualSystem is a VM class, the
// cfm:BusinessSystemSection's elements (or, without it, one element per VirtualSystem) are the
// elements, its templates the config templates (inline or loaded through References), and the
// top-level ProductSections the system's properties.
#include "ovf/to_model.h"

#include "base/files.h"
#include "base/paths.h"
#include "ovf/reader.h"

#include <algorithm>
#include <fcntl.h>
#include <map>

namespace cfm::ovf {

namespace {

std::string q(std::string_view s) { return "`" + std::string(s) + "`"; }

/// Every VirtualSystem under VS, in document order (collections nest at most kMaxCollectionDepth).
void collectSystems(const VirtualSystem &vs, std::vector<const VirtualSystem *> &out) {
  if (!vs.collection) out.push_back(&vs);
  for (const VirtualSystem &c : vs.children) collectSystems(c, out);
}

/// The collection whose ScaleOutSection names ID, and that section.
const ScaleOut *scaleOutFor(const VirtualSystem &vs, const std::string &id) {
  for (const ScaleOut &s : vs.scaleOut)
    if (s.id == id) return &s;
  for (const VirtualSystem &c : vs.children)
    if (const ScaleOut *s = scaleOutFor(c, id)) return s;
  return nullptr;
}

/// A decimal number, or 0 when TEXT is not one (the reader has checked the numbers it keeps).
uint64_t number(std::string_view text) {
  uint64_t v = 0;
  for (char ch : text) {
    if (ch < '0' || ch > '9' || v > UINT64_MAX / 10 - 10) return 0;
    v = v * 10 + static_cast<uint64_t>(ch - '0');
  }
  return v;
}

int64_t toMb(unsigned __int128 bytes) {
  unsigned __int128 mb = (bytes + ((1u << 20) - 1)) >> 20;
  return mb > static_cast<unsigned __int128>(INT64_MAX) ? INT64_MAX : static_cast<int64_t>(mb);
}

std::vector<model::Property> properties(const std::vector<ProductSection> &products) {
  std::vector<model::Property> out;
  for (const ProductSection &ps : products)
    for (const PropertyDesc &pd : ps.properties) {
      model::Property p;
      p.className = ps.className;
      p.key = pd.key;
      p.instance = ps.instance;
      p.type = pd.type;
      p.value = pd.value;
      p.label = pd.label;
      p.description = pd.description;
      p.userConfigurable = pd.userConfigurable;
      out.push_back(std::move(p));
    }
  return out;
}

/// An item counts when it is in every configuration or in the default one, and is not a bound.
bool applies(const HardwareItem &it, const std::string &config) {
  if (it.configuration.empty()) return true;
  size_t pos = 0;
  while (pos <= it.configuration.size()) { // ovf:configuration is a space-separated list
    size_t end = it.configuration.find(' ', pos);
    if (end == std::string::npos) end = it.configuration.size();
    if (it.configuration.compare(pos, end - pos, config) == 0 && end - pos == config.size()) return true;
    pos = end + 1;
  }
  return false;
}

model::VMClass vmClass(const Envelope &env, const VirtualSystem &vs,
                       const std::vector<ProductSection> &outer) {
  model::VMClass c;
  c.name = vs.id;
  c.properties = properties(vs.products);
  if (vs.os) c.osType = !vs.os->osType.empty() ? vs.os->osType : vs.os->description;
  if (vs.hardware.empty()) return c;
  const VirtualHardware &hw = vs.hardware.front(); // later sections are alternatives
  std::string config = env.defaultConfiguration();
  uint64_t cpus = 0;
  bool hasCpu = false;
  auto propertyValue = [&](const std::string &ref) -> uint64_t {
    std::string key = ref.substr(2, ref.size() - 3);
    for (const auto *list : {&vs.products, &outer})
      for (const ProductSection &ps : *list)
        for (const PropertyDesc &pd : ps.properties)
          if (pd.key == key) return number(pd.value);
    return 0;
  };
  // The items that describe the VM in the default configuration: an item of that configuration
  // replaces the general item with the same InstanceID; min/max bounds are not the VM itself.
  std::vector<const HardwareItem *> items;
  for (const HardwareItem &it : hw.items) {
    if (!applies(it, config) || (!it.bound.empty() && it.bound != "normal")) continue;
    bool replaced = false;
    for (const HardwareItem *&prev : items)
      if (prev->instanceId == it.instanceId) {
        if (!it.configuration.empty()) prev = &it;
        replaced = true;
      }
    if (!replaced) items.push_back(&it);
  }
  for (const HardwareItem *itp : items) {
    const HardwareItem &it = *itp;
    switch (it.resourceType) {
    case 3: // processor
      hasCpu = true;
      cpus += it.virtualQuantity.value_or(1);
      break;
    case 4: { // memory
      uint64_t units = byteUnits(it.allocationUnits.empty() ? "byte * 2^20" : it.allocationUnits).value();
      c.memoryMb = toMb(static_cast<unsigned __int128>(it.virtualQuantity.value_or(0)) * units);
      break;
    }
    case 10: // ethernet adapter
      for (const std::string &n : it.connections) c.networks.push_back(n);
      break;
    case 17:   // disk drive
    case 31:   // logical disk
    case 32: { // storage volume
      std::string diskId;
      for (const std::string &h : it.hostResources) {
        std::string_view r = h;
        if (r.substr(0, 4) == "ovf:") r.remove_prefix(4);
        if (r.substr(0, 6) == "/disk/") diskId = std::string(r.substr(6));
      }
      model::Disk d;
      if (const DiskDesc *dd = diskId.empty() ? nullptr : env.disk(diskId)) {
        d.id = dd->diskId;
        uint64_t cap = dd->capacity[0] == '$' ? propertyValue(dd->capacity) : number(dd->capacity);
        uint64_t units = byteUnits(dd->capacityUnits).value();
        d.capacityMb = toMb(static_cast<unsigned __int128>(cap) * units);
        if (const FileRef *f = dd->fileRef.empty() ? nullptr : env.file(dd->fileRef)) d.file = f->href;
      } else if (it.virtualQuantity) {
        auto units = byteUnits(it.allocationUnits);
        d.capacityMb = toMb(static_cast<unsigned __int128>(*it.virtualQuantity) * (units ? *units : 1));
      } else {
        continue; // a drive without a disk
      }
      c.disks.push_back(std::move(d));
      break;
    }
    default: break;
    }
  }
  c.cpus = hasCpu ? static_cast<int>(std::min<uint64_t>(cpus, 4096)) : 1;
  for (const model::Disk &d : c.disks)
    if (!d.file.empty()) {
      c.image = d.file;
      break;
    }
  return c;
}

} // namespace

Result<model::BusinessSystem> toModel(const Envelope &env, const FileLoader &load, const std::string &name) {
  model::BusinessSystem sys;
  const VirtualSystem &top = env.content;
  std::vector<const VirtualSystem *> systems;
  collectSystems(top, systems);
  const std::vector<ProductSection> none;
  const std::vector<ProductSection> &topProducts = top.collection ? top.products : none;
  for (const VirtualSystem *vs : systems) sys.vmClasses.push_back(vmClass(env, *vs, topProducts));
  sys.properties = properties(topProducts);

  auto where = [&](int line) { return SourceLoc{name, line, 0}; };
  if (env.cfm) {
    const CfmSystem &c = *env.cfm;
    sys.id = c.id;
    sys.name = c.name;
    sys.description = c.description;
    std::map<std::string, std::pair<std::string, int>> images; // vm class → (image, line)
    for (const CfmElement &ce : c.elements) {
      model::BusinessSystemElement e;
      e.name = ce.name;
      e.vmClass = ce.virtualSystem;
      e.minInstances = ce.minimum.value_or(1);
      e.instances = ce.initial.value_or(e.minInstances);
      e.maxInstances = ce.maximum.value_or(std::max(e.minInstances, e.instances));
      e.dependsOn = ce.dependsOn;
      for (const CfmVolume &v : ce.volumes) e.volumes.push_back({v.name, v.sizeMb, v.device, v.mountPath});
      for (const CfmAddress &a : ce.addresses) e.addresses.push_back({a.name, a.kind, a.network});
      if (!ce.image.empty()) {
        auto [it, fresh] = images.emplace(ce.virtualSystem, std::make_pair(ce.image, ce.line));
        if (!fresh && it->second.first != ce.image)
          return Error{ErrorKind::Ovf,
                       "element " + q(ce.name) + " gives virtual system " + q(ce.virtualSystem) + " image " +
                           q(ce.image) + ", but line " + std::to_string(it->second.second) + " gave " +
                           q(it->second.first),
                       where(ce.line)};
        for (model::VMClass &vc : sys.vmClasses)
          if (vc.name == ce.virtualSystem) vc.image = ce.image;
      }
      sys.elements.push_back(std::move(e));
    }
    for (const CfmTemplate &ct : c.templates) {
      model::ConfigTemplate t;
      t.name = ct.name;
      t.element = ct.element;
      t.path = ct.path;
      if (!ct.mode.empty()) t.mode = ct.mode;
      if (ct.text) {
        t.text = *ct.text;
      } else {
        const FileRef *f = env.file(ct.fileRef);
        auto text = load(*f);
        if (!text)
          return Error{text.error().kind, "template " + q(ct.name) + ": " + text.error().message,
                       where(ct.line)};
        t.text = std::move(*text);
      }
      sys.templates.push_back(std::move(t));
    }
  } else {
    // Without the extension every VirtualSystem is an element; a ScaleOutSection gives its counts.
    for (const VirtualSystem *vs : systems) {
      model::BusinessSystemElement e;
      e.name = vs->id;
      e.vmClass = vs->id;
      if (const ScaleOut *s = scaleOutFor(top, vs->id)) {
        e.minInstances = s->minimum;
        e.instances = s->initial;
        e.maxInstances = s->maximum < 0 ? kUnboundedInstances : s->maximum;
      }
      sys.elements.push_back(std::move(e));
    }
  }
  if (sys.name.empty()) sys.name = !top.name.empty() ? top.name : top.id;
  if (sys.description.empty() && !top.annotations.empty()) sys.description = top.annotations.front();
  return sys;
}

FileLoader directoryLoader(std::string dir) {
  return [dir = std::move(dir)](const FileRef &f) -> Result<std::string> {
    const std::string &h = f.href;
    bool plain =
        !h.empty() && h[0] != '/' && h.find("://") == std::string::npos && h.find('\\') == std::string::npos;
    for (size_t pos = 0; plain && pos <= h.size();) {
      size_t end = h.find('/', pos);
      if (end == std::string::npos) end = h.size();
      if (h.compare(pos, end - pos, "..") == 0 && end - pos == 2) plain = false;
      pos = end + 1;
    }
    if (!plain)
      return Error{ErrorKind::Ovf, "file " + q(f.id) + " has href " + q(h) +
                                       "; templates are read from plain relative paths"};
    // The text only looks plain: a symbolic link on the way could still lead anywhere. The kernel
    // resolves the href beneath the descriptor's directory (base/paths.h) and the descriptor that
    // is read is the one opened, so nothing outside the directory is ever read.
    std::string shown = dir.empty() ? h : dir + "/" + h;
    auto fd = base::openBeneath(dir, h, O_RDONLY | O_NONBLOCK);
    if (!fd) return fd.error().framed("cannot read " + q(shown) + ": ").inFile(shown);
    auto text = base::readRegularFd(fd->get(), kMaxTemplateBytes);
    if (!text) return text.error().framed("cannot read " + q(shown) + ": ").inFile(shown);
    return text;
  };
}

FileLoader noFiles() {
  return [](const FileRef &f) -> Result<std::string> {
    return Error{ErrorKind::Ovf, "file " + q(f.id) + " cannot be read (the descriptor has no directory)"};
  };
}

Result<model::BusinessSystem> importText(std::string_view text, const std::string &name,
                                         const FileLoader &load) {
  Envelope env = CFM_TRY(read(text, name));
  return toModel(env, load, name);
}

Result<model::BusinessSystem> importFile(const std::string &path) {
  std::string text = CFM_TRY(slurp(path, kMaxDescriptorBytes));
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "" : path.substr(0, slash == 0 ? 1 : slash);
  return importText(text, path, directoryLoader(dir));
}

} // namespace cfm::ovf
