// model_prelude.h — the model objects of BRIEF.md (the paper's table 1) as language types: every
// compilation loads this text as the file `<model>`, so the six record types are known to every
// program (their methods are built-ins: sema/check_calls.cpp, interp/model.cpp). Values come from
// the SQLite store (`cfmc run --state DB --arg sys=NAME`, runtime/model/values.h) or are written
// as record literals. They print as `Type(key)`, the key being the first field.
// Also the other record types every program knows (API.md "Types every program knows"; the file
// `<types>`): the results of API functions, plain records (printed field by field, no methods),
// whose names a program cannot declare either.
#pragma once

namespace cfm::frontend {

inline constexpr const char *kModelPreludePath = "<model>";

inline constexpr const char *kModelPrelude = R"(record BusinessSystem {
  name: string, id: string, description: string,
  elements: list<BusinessSystemElement>, vm_classes: list<VMClass>, templates: list<ConfigTemplate>,
  properties: map<string, json>,
  element_instances: list<BusinessSystemElementInstance>, vm_instances: list<VMInstance>
}
record BusinessSystemElement {
  name: string, vm_class: string, min_instances: int, max_instances: int, instances: int,
  depends_on: list<string>, volumes: json, addresses: json
}
record BusinessSystemElementInstance { name: string, element: string, index: int, vm_instance: string, state: string }
record ConfigTemplate { name: string, element: string, path: string, mode: string, text: string }
record VMClass {
  name: string, cpus: int, memory_mb: int, image: string, os_type: string, disks: json,
  networks: list<string>, properties: map<string, json>
}
record VMInstance {
  id: string, vm_class: string, cloud: string, state: string, private_address: string,
  public_address: string, volumes: list<string>
}
)";

inline constexpr const char *kTypesPreludePath = "<types>";

inline constexpr const char *kTypesPrelude = R"(record CommandResult {
  exit_code: int, stdout: string, stderr: string, truncated: bool, duration: duration
}
)";

} // namespace cfm::frontend
