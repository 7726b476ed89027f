// writer.cpp — model → OVF 1.x text. One VirtualSystemCollection holds a ProductSection per run of
// system properties, a cfm:BusinessSystemSection (elements and templates, templates as CDATA), and
// one VirtualSystem per VM class with its hardware (CPU, memory, disks, NICs) and properties; the
// envelope lists the disk image files, the disks and the networks.
#include "ovf/writer.h"

#include "ovf/envelope.h"

#include <map>
#include <set>
#include <sstream>

#include <pugixml.hpp>

namespace cfm::ovf {

namespace {

std::string q(std::string_view s) { return "`" + std::string(s) + "`"; }

pugi::xml_node child(pugi::xml_node parent, const char *name, const std::string &text = {}) {
  pugi::xml_node n = parent.append_child(name);
  if (!text.empty()) n.text().set(text.c_str());
  return n;
}

void attr(pugi::xml_node n, const char *name, const std::string &value) {
  n.append_attribute(name).set_value(value.c_str());
}

/// ProductSections for PROPS: one per run of properties with the same class and instance.
void writeProperties(pugi::xml_node parent, const std::vector<model::Property> &props) {
  pugi::xml_node section;
  const model::Property *prev = nullptr;
  for (const model::Property &p : props) {
    if (!prev || prev->className != p.className || prev->instance != p.instance) {
      section = child(parent, "ProductSection");
      if (!p.className.empty()) attr(section, "ovf:class", p.className);
      if (!p.instance.empty()) attr(section, "ovf:instance", p.instance);
      child(section, "Info", "Properties");
    }
    prev = &p;
    pugi::xml_node n = child(section, "Property");
    attr(n, "ovf:key", p.key);
    attr(n, "ovf:type", p.type);
    attr(n, "ovf:value", p.value);
    attr(n, "ovf:userConfigurable", p.userConfigurable ? "true" : "false");
    if (!p.label.empty()) child(n, "Label", p.label);
    if (!p.description.empty()) child(n, "Description", p.description);
  }
}

pugi::xml_node item(pugi::xml_node hw, int &instance, int type, const std::string &name) {
  pugi::xml_node it = child(hw, "Item");
  child(it, "rasd:ElementName", name);
  child(it, "rasd:InstanceID", std::to_string(instance++));
  child(it, "rasd:ResourceType", std::to_string(type));
  return it;
}

} // namespace

Result<std::string> write(const model::BusinessSystem &sys) {
  pugi::xml_document doc;
  pugi::xml_node decl = doc.append_child(pugi::node_declaration);
  attr(decl, "version", "1.0");
  attr(decl, "encoding", "UTF-8");
  doc.append_child(pugi::node_comment).set_value(" exported by cfmc ovf export ");
  pugi::xml_node env = doc.append_child("Envelope");
  attr(env, "xmlns", kOvf1Ns);
  attr(env, "xmlns:ovf", kOvf1Ns);
  attr(env, "xmlns:rasd", kRasdNs);
  attr(env, "xmlns:vssd", kVssdNs);
  attr(env, "xmlns:cfm", kCfmNs);

  // Files and disks, shared between classes by id.
  pugi::xml_node refs = child(env, "References");
  std::map<std::string, std::string> fileIds; // href → id
  std::map<std::string, const model::Disk *> disks;
  std::vector<const model::Disk *> diskOrder;
  std::vector<std::string> networks;
  std::set<std::string> networkSet;
  auto addNetwork = [&](const std::string &n) {
    if (!n.empty() && networkSet.insert(n).second) networks.push_back(n);
  };
  for (const model::VMClass &c : sys.vmClasses) {
    for (const model::Disk &d : c.disks) {
      if (!d.file.empty() && !fileIds.count(d.file)) {
        std::string id = "file" + std::to_string(fileIds.size() + 1);
        fileIds.emplace(d.file, id);
        pugi::xml_node f = child(refs, "File");
        attr(f, "ovf:id", id);
        attr(f, "ovf:href", d.file);
      }
      if (d.id.empty()) continue;
      auto [it, fresh] = disks.emplace(d.id, &d);
      if (fresh)
        diskOrder.push_back(&d);
      else if (!(*it->second == d))
        return Error{ErrorKind::Ovf, "vm class " + q(c.name) + " has disk " + q(d.id) +
                                         " with other contents than another class's disk of that id"};
    }
    for (const std::string &n : c.networks) addNetwork(n);
  }
  for (const model::BusinessSystemElement &e : sys.elements)
    for (const model::Address &a : e.addresses) addNetwork(a.network);
  if (!diskOrder.empty()) {
    pugi::xml_node ds = child(env, "DiskSection");
    child(ds, "Info", "Virtual disks");
    for (const model::Disk *d : diskOrder) {
      pugi::xml_node n = child(ds, "Disk");
      attr(n, "ovf:diskId", d->id);
      attr(n, "ovf:capacity", std::to_string(d->capacityMb));
      attr(n, "ovf:capacityAllocationUnits", "byte * 2^20");
      if (!d->file.empty()) attr(n, "ovf:fileRef", fileIds[d->file]);
    }
  }
  if (!networks.empty()) {
    pugi::xml_node ns = child(env, "NetworkSection");
    child(ns, "Info", "Networks");
    for (const std::string &n : networks) {
      pugi::xml_node net = child(ns, "Network");
      attr(net, "ovf:name", n);
      child(net, "Description", "network " + n);
    }
  }

  // The collection: its id must differ from every VM class's.
  std::string collectionId = sys.name.empty() ? "system" : sys.name;
  for (bool clash = true; clash;) {
    clash = false;
    for (const model::VMClass &c : sys.vmClasses) clash = clash || c.name == collectionId;
    if (clash) collectionId += "-system";
  }
  pugi::xml_node vsc = child(env, "VirtualSystemCollection");
  attr(vsc, "ovf:id", collectionId);
  child(vsc, "Info", "Business system " + sys.name);
  child(vsc, "Name", sys.name);
  writeProperties(vsc, sys.properties);

  pugi::xml_node bs = child(vsc, "cfm:BusinessSystemSection");
  attr(bs, "ovf:required", "false");
  if (!sys.id.empty()) attr(bs, "id", sys.id);
  attr(bs, "name", sys.name);
  child(bs, "Info", "CFM business system: elements and config templates");
  if (!sys.description.empty()) child(bs, "cfm:Description", sys.description);
  std::set<std::string> imageWritten;
  for (const model::BusinessSystemElement &e : sys.elements) {
    pugi::xml_node n = child(bs, "cfm:Element");
    attr(n, "name", e.name);
    attr(n, "virtualSystem", e.vmClass);
    attr(n, "min", std::to_string(e.minInstances));
    attr(n, "max", std::to_string(e.maxInstances));
    attr(n, "instances", std::to_string(e.instances));
    if (const model::VMClass *c = sys.vmClass(e.vmClass)) {
      std::string derived;
      for (const model::Disk &d : c->disks)
        if (!d.file.empty()) {
          derived = d.file;
          break;
        }
      if (c->image != derived && imageWritten.insert(c->name).second) attr(n, "image", c->image);
    }
    for (const std::string &d : e.dependsOn) attr(child(n, "cfm:DependsOn"), "element", d);
    for (const model::Volume &v : e.volumes) {
      pugi::xml_node vn = child(n, "cfm:Volume");
      attr(vn, "name", v.name);
      attr(vn, "sizeMb", std::to_string(v.sizeMb));
      if (!v.device.empty()) attr(vn, "device", v.device);
      if (!v.mountPath.empty()) attr(vn, "mount", v.mountPath);
    }
    for (const model::Address &a : e.addresses) {
      pugi::xml_node an = child(n, "cfm:Address");
      attr(an, "name", a.name);
      attr(an, "kind", a.kind);
      if (!a.network.empty()) attr(an, "network", a.network);
    }
  }
  for (const model::VMClass &c : sys.vmClasses) {
    std::string derived;
    for (const model::Disk &d : c.disks)
      if (!d.file.empty()) {
        derived = d.file;
        break;
      }
    if (c.image != derived && !imageWritten.count(c.name))
      return Error{ErrorKind::Ovf,
                   "vm class " + q(c.name) + " has image " + q(c.image) +
                       ", which OVF carries only through an element of that class (and it has none)"};
  }
  for (const model::ConfigTemplate &t : sys.templates) {
    pugi::xml_node n = child(bs, "cfm:Template");
    attr(n, "name", t.name);
    if (!t.element.empty()) attr(n, "element", t.element);
    attr(n, "path", t.path);
    attr(n, "mode", t.mode);
    // A newline after `<![CDATA[` is dropped by the reader; `]]>` cannot appear inside one section.
    std::string text = "\n" + t.text;
    size_t pos = 0;
    for (size_t cut; (cut = text.find("]]>", pos)) != std::string::npos; pos = cut + 2)
      n.append_child(pugi::node_cdata).set_value(text.substr(pos, cut + 2 - pos).c_str());
    n.append_child(pugi::node_cdata).set_value(text.substr(pos).c_str());
  }

  for (const model::VMClass &c : sys.vmClasses) {
    pugi::xml_node vs = child(vsc, "VirtualSystem");
    attr(vs, "ovf:id", c.name);
    child(vs, "Info", "VM class " + c.name);
    writeProperties(vs, c.properties);
    if (!c.osType.empty()) {
      pugi::xml_node os = child(vs, "OperatingSystemSection");
      attr(os, "ovf:id", "1");
      child(os, "Info", "Guest operating system");
      child(os, "Description", c.osType);
    }
    pugi::xml_node hw = child(vs, "VirtualHardwareSection");
    child(hw, "Info", std::to_string(c.cpus) + " CPU, " + std::to_string(c.memoryMb) + " MB");
    pugi::xml_node system = child(hw, "System");
    child(system, "vssd:ElementName", "Virtual Hardware Family");
    child(system, "vssd:InstanceID", "0");
    child(system, "vssd:VirtualSystemType", "cfm-1");
    int instance = 1;
    child(item(hw, instance, 3, std::to_string(c.cpus) + " virtual CPU(s)"), "rasd:VirtualQuantity",
          std::to_string(c.cpus));
    pugi::xml_node mem = item(hw, instance, 4, std::to_string(c.memoryMb) + " MB of memory");
    child(mem, "rasd:AllocationUnits", "byte * 2^20");
    child(mem, "rasd:VirtualQuantity", std::to_string(c.memoryMb));
    if (!c.disks.empty()) {
      int controller = instance;
      item(hw, instance, 6, "SCSI controller");
      int unit = 0;
      for (const model::Disk &d : c.disks) {
        pugi::xml_node di = item(hw, instance, 17, "disk " + std::to_string(unit));
        child(di, "rasd:AddressOnParent", std::to_string(unit++));
        child(di, "rasd:Parent", std::to_string(controller));
        if (!d.id.empty()) {
          child(di, "rasd:HostResource", "ovf:/disk/" + d.id);
        } else {
          child(di, "rasd:AllocationUnits", "byte * 2^20");
          child(di, "rasd:VirtualQuantity", std::to_string(d.capacityMb));
        }
      }
    }
    for (const std::string &n : c.networks) {
      pugi::xml_node nic = item(hw, instance, 10, "NIC on " + n);
      child(nic, "rasd:AutomaticAllocation", "true");
      child(nic, "rasd:Connection", n);
    }
  }
  std::ostringstream out;
  doc.save(out, "  ", pugi::format_indent, pugi::encoding_utf8);
  return out.str();
}

} // namespace cfm::ovf
