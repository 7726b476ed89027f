// values.cpp — model objects as language values (values.h).
#include "runtime/model/values.h"

#include "runtime/collections.h"
#include "runtime/runtime.h"

namespace cfm::model {

using namespace rt;

namespace {

/// Builds a record of type t field by field, by name.
class Fields {
public:
  explicit Fields(const TypeDesc *t) : r_(new Record(t)) {}
  Fields &str(std::string_view name, std::string_view v) { return set(name, Slot{.o = newStr(v)}, true); }
  Fields &num(std::string_view name, int64_t v) { return set(name, Slot{.i = v}, false); }
  Fields &obj(std::string_view name, Obj *o) { return set(name, Slot{.o = o}, true); }
  const TypeDesc *typeOf(std::string_view name) const {
    int i = index(name);
    return i < 0 ? nullptr : r_->type->fieldTypes[static_cast<size_t>(i)];
  }
  Record *done() {
    // Fields the model has no value for (none today) stay empty values of their type.
    for (size_t i = 0; i < r_->fields.size(); ++i) {
      const TypeDesc *ft = r_->type->fieldTypes[i];
      if (!ft->boxed() || r_->fields[i].o) continue;
      if (ft->kind == Kind::String)
        r_->fields[i].o = newStr("");
      else if (ft->kind == Kind::List)
        r_->fields[i].o = new List(ft);
      else if (ft->kind == Kind::Map)
        r_->fields[i].o = newMap(ft);
      else if (ft->kind == Kind::Json)
        r_->fields[i].o = jsonNull();
    }
    return r_;
  }

private:
  int index(std::string_view name) const {
    for (size_t i = 0; i < r_->type->fieldNames.size(); ++i)
      if (r_->type->fieldNames[i] == name) return static_cast<int>(i);
    return -1;
  }
  Fields &set(std::string_view name, Slot v, bool boxed) {
    int i = index(name);
    if (i < 0) { // a field the program's type does not have: nothing to keep
      if (boxed) release(v.o);
      return *this;
    }
    releaseSlot(r_->fields[static_cast<size_t>(i)], r_->type->fieldTypes[static_cast<size_t>(i)]);
    r_->fields[static_cast<size_t>(i)] = v;
    return *this;
  }
  Record *r_;
};

List *strings(const std::vector<std::string> &xs, const TypeDesc *t) {
  auto *l = new List(t);
  for (const std::string &x : xs) l->items.push_back(Slot{.o = newStr(x)});
  return l;
}

Map *properties(const std::vector<Property> &ps, const TypeDesc *t) {
  Map *m = newMap(t);
  for (const Property &p : ps) {
    mapSet(m, Slot{.o = newStr(p.id())}, Slot{.o = propertyValue(p)}); // takes both references
  }
  return m;
}

/// A json array of objects, one per item, from (key, value) pairs.
template <typename T, typename F> Json *objects(const std::vector<T> &items, F fields) {
  auto *a = new Json();
  a->j = Json::J::Array;
  for (const T &x : items) {
    auto *o = new Json();
    o->j = Json::J::Object;
    for (auto &[k, v] : fields(x)) {
      o->keys.push_back(newStr(k));
      o->items.push_back(v);
    }
    a->items.push_back(o);
  }
  return a;
}

const TypeDesc *elemOf(const TypeDesc *listType) { return listType ? listType->elem : nullptr; }

Record *element(const BusinessSystemElement &e, const TypeDesc *t) {
  Fields f(t);
  f.str("name", e.name).str("vm_class", e.vmClass).num("min_instances", e.minInstances);
  f.num("max_instances", e.maxInstances).num("instances", e.instances);
  f.obj("depends_on", strings(e.dependsOn, f.typeOf("depends_on")));
  f.obj("volumes", objects(e.volumes, [](const Volume &v) {
          return std::vector<std::pair<std::string, Json *>>{{"name", jsonString(v.name)},
                                                             {"size_mb", jsonInt(v.sizeMb)},
                                                             {"device", jsonString(v.device)},
                                                             {"mount_path", jsonString(v.mountPath)}};
        }));
  f.obj("addresses", objects(e.addresses, [](const Address &a) {
          return std::vector<std::pair<std::string, Json *>>{
              {"name", jsonString(a.name)}, {"kind", jsonString(a.kind)}, {"network", jsonString(a.network)}};
        }));
  return f.done();
}

Record *vmClass(const VMClass &c, const TypeDesc *t) {
  Fields f(t);
  f.str("name", c.name).num("cpus", c.cpus).num("memory_mb", c.memoryMb).str("image", c.image);
  f.str("os_type", c.osType);
  f.obj("disks", objects(c.disks, [](const Disk &d) {
          return std::vector<std::pair<std::string, Json *>>{
              {"id", jsonString(d.id)}, {"capacity_mb", jsonInt(d.capacityMb)}, {"file", jsonString(d.file)}};
        }));
  f.obj("networks", strings(c.networks, f.typeOf("networks")));
  f.obj("properties", properties(c.properties, f.typeOf("properties")));
  return f.done();
}

Record *configTemplate(const ConfigTemplate &c, const TypeDesc *t) {
  Fields f(t);
  f.str("name", c.name).str("element", c.element).str("path", c.path).str("mode", c.mode).str("text", c.text);
  return f.done();
}

Record *elementInstance(const BusinessSystemElementInstance &i, const TypeDesc *t) {
  Fields f(t);
  f.str("name", i.element + "-" + std::to_string(i.index)).str("element", i.element).num("index", i.index);
  f.str("vm_instance", i.vmInstance).str("state", i.state);
  return f.done();
}

Record *vmInstance(const VMInstance &v, const TypeDesc *t) {
  Fields f(t);
  f.str("id", v.id).str("vm_class", v.vmClass).str("cloud", v.cloud).str("state", v.state);
  f.str("private_address", v.privateAddress).str("public_address", v.publicAddress);
  f.obj("volumes", strings(v.volumes, f.typeOf("volumes")));
  return f.done();
}

template <typename T, typename F> List *listOf(const std::vector<T> &xs, const TypeDesc *listType, F make) {
  auto *l = new List(listType);
  for (const T &x : xs) l->items.push_back(Slot{.o = make(x, elemOf(listType))});
  return l;
}

} // namespace

Json *propertyValue(const Property &p) {
  const std::string &t = p.type;
  if (t == "boolean") {
    if (p.value == "true" || p.value == "True") return jsonBool(true);
    if (p.value == "false" || p.value == "False") return jsonBool(false);
  } else if (t.rfind("uint", 0) == 0 || t.rfind("sint", 0) == 0) {
    int64_t i = 0;
    if (intOfString(p.value, i)) return jsonInt(i);
    clearError();
  } else if (t == "real32" || t == "real64") {
    double d = 0;
    if (floatOfString(p.value, d)) return jsonFloat(d);
    clearError();
  }
  return jsonString(p.value);
}

Record *toValue(const VMInstance &vm, const TypeDesc *vmType) { return vmInstance(vm, vmType); }

Record *toValue(const Manager::CommandResult &r, const TypeDesc *resultType) {
  Fields f(resultType);
  f.num("exit_code", r.exitCode).str("stdout", r.stdoutText).str("stderr", r.stderrText);
  f.num("truncated", r.truncated ? 1 : 0).num("duration", r.durationMs);
  return f.done();
}

Record *toValue(const BusinessSystem &sys, const std::vector<BusinessSystemElementInstance> &elementInstances,
                const std::vector<VMInstance> &vmInstances, const TypeDesc *sysType) {
  Fields f(sysType);
  f.str("name", sys.name).str("id", sys.id).str("description", sys.description);
  f.obj("elements", listOf(sys.elements, f.typeOf("elements"), element));
  f.obj("vm_classes", listOf(sys.vmClasses, f.typeOf("vm_classes"), vmClass));
  f.obj("templates", listOf(sys.templates, f.typeOf("templates"), configTemplate));
  f.obj("properties", properties(sys.properties, f.typeOf("properties")));
  f.obj("element_instances", listOf(elementInstances, f.typeOf("element_instances"), elementInstance));
  f.obj("vm_instances", listOf(vmInstances, f.typeOf("vm_instances"), vmInstance));
  return f.done();
}

} // namespace cfm::model
