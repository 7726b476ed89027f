// model.cpp — lookups on the model objects and the text dump `cfmc ovf show` prints.
#include "runtime/model/model.h"

#include <sstream>

namespace cfm::model {

std::string Property::id() const {
  std::string out;
  for (const std::string *part : {&className, &key, &instance}) {
    if (part->empty()) continue;
    if (!out.empty()) out += '.';
    out += *part;
  }
  return out;
}

namespace {
template <typename T> const T *byName(const std::vector<T> &items, std::string_view name) {
  for (const T &item : items)
    if (item.name == name) return &item;
  return nullptr;
}
} // namespace

const BusinessSystemElement *BusinessSystem::element(std::string_view n) const { return byName(elements, n); }
const VMClass *BusinessSystem::vmClass(std::string_view n) const { return byName(vmClasses, n); }
const ConfigTemplate *BusinessSystem::configTemplate(std::string_view n) const {
  return byName(templates, n);
}

const Property *BusinessSystem::property(std::string_view pid) const {
  for (const Property &p : properties)
    if (p.id() == pid) return &p;
  return nullptr;
}

std::string describe(const BusinessSystem &sys) {
  std::ostringstream o;
  o << "system " << sys.name;
  if (!sys.id.empty()) o << " (id " << sys.id << ")";
  o << '\n';
  if (!sys.description.empty()) o << "  description: " << sys.description << '\n';
  for (const BusinessSystemElement &e : sys.elements) {
    o << "  element " << e.name << ": vm class " << e.vmClass << ", instances " << e.instances << " (min "
      << e.minInstances << ", max " << e.maxInstances << ")";
    if (!e.dependsOn.empty()) {
      o << ", depends on";
      for (size_t i = 0; i < e.dependsOn.size(); ++i) o << (i ? ", " : " ") << e.dependsOn[i];
    }
    o << '\n';
    for (const Volume &v : e.volumes)
      o << "    volume " << v.name << ": " << v.sizeMb << " MB" << (v.device.empty() ? "" : " at " + v.device)
        << (v.mountPath.empty() ? "" : " on " + v.mountPath) << '\n';
    for (const Address &a : e.addresses)
      o << "    address " << a.name << ": " << a.kind << (a.network.empty() ? "" : " on " + a.network)
        << '\n';
  }
  for (const VMClass &c : sys.vmClasses) {
    o << "  vm class " << c.name << ": " << c.cpus << " cpu, " << c.memoryMb << " MB";
    if (!c.image.empty()) o << ", image " << c.image;
    if (!c.osType.empty()) o << ", os " << c.osType;
    o << '\n';
    for (const Disk &d : c.disks)
      o << "    disk " << (d.id.empty() ? "(item)" : d.id) << ": " << d.capacityMb << " MB"
        << (d.file.empty() ? "" : " from " + d.file) << '\n';
    for (const std::string &n : c.networks) o << "    network " << n << '\n';
    for (const Property &p : c.properties) o << "    property " << p.id() << " = " << p.value << '\n';
  }
  for (const ConfigTemplate &t : sys.templates) {
    size_t lines = 0;
    for (char ch : t.text) lines += ch == '\n';
    o << "  template " << t.name << ": " << t.path << " (mode " << t.mode << ", "
      << (t.element.empty() ? std::string("system-wide") : "element " + t.element) << ", " << lines
      << " lines)\n";
  }
  for (const Property &p : sys.properties)
    o << "  property " << p.id() << " (" << p.type << ") = " << p.value << '\n';
  return o.str();
}

} // namespace cfm::model
