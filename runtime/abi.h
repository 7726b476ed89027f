// abi.h — the runtime's C ABI (abi.def lists it). Opaque object types, one slot type, and
// `cfm_abi_lookup` for the JIT to resolve a name to the function's address.
#pragma once

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
namespace cfm::rt {
struct Obj;
struct Str;
struct List;
struct Map;
struct Json;
struct Record;
struct ErrorVal;
struct TypeDesc;
union Slot;
} // namespace cfm::rt
typedef cfm::rt::Obj cfm_obj;
typedef cfm::rt::Str cfm_str;
typedef cfm::rt::List cfm_list;
typedef cfm::rt::Map cfm_map;
typedef cfm::rt::Json cfm_json;
typedef cfm::rt::Record cfm_record;
typedef cfm::rt::ErrorVal cfm_error;
typedef cfm::rt::TypeDesc cfm_type;
typedef cfm::rt::Slot cfm_slot;
extern "C" {
#endif

#ifndef __cplusplus
#include <stdbool.h>
#endif
typedef int cfm_status;
/// A task's body and the function that frees its environment (sched::TaskEntry, EnvDrop).
typedef bool (*cfm_task_entry)(void *env, cfm_slot *result);
typedef void (*cfm_env_drop)(void *env);

/// A piece of an interpolated string (cfm_str_build): text when `type` is null, else a value.
typedef struct cfm_piece {
  const char *text;
  int64_t len;
  int64_t value; // a cfm_slot's 8 bytes (an int, a float's bits or an object pointer)
  const cfm_type *type;
} cfm_piece;

/// Where JIT'd code reads a record's field and a list's item without a call (cfm_record_get,
/// the loop of `for x in list`): at these byte offsets in the object is the pointer to its
/// array of cfm_slot (the data pointer of Record::fields and List::items, runtime/value.h).
/// tests/unit/runtime_abi_test.cpp checks them against the runtime's types.
#define CFM_RECORD_FIELDS_OFFSET 16
#define CFM_LIST_ITEMS_OFFSET 16
/// Where JIT'd code reads a string's length (an int64_t) and its bytes (runtime/value.h Str: the
/// bytes follow the object, after its cached hash), as a template appends it in place.
#define CFM_STR_LEN_OFFSET 8
#define CFM_STR_CHARS_OFFSET 24

/// A template's output as it is written (cfm_text_*): `len` bytes at `data`, room for `cap`
/// bytes there (and for the NUL the finished string ends with). JIT'd code appends in place while
/// `len + n <= cap` and calls cfm_text_reserve first when not; `data` is the character array of
/// a runtime string under construction, which cfm_text_finish hands over without a copy.
typedef struct cfm_text {
  char *data;
  int64_t len;
  int64_t cap;
} cfm_text;
#define CFM_TEXT_DATA_OFFSET 0
#define CFM_TEXT_LEN_OFFSET 8
#define CFM_TEXT_CAP_OFFSET 16
#define CFM_TEXT_SIZE 24
#ifdef __cplusplus
static_assert(offsetof(cfm_text, data) == CFM_TEXT_DATA_OFFSET &&
                  offsetof(cfm_text, len) == CFM_TEXT_LEN_OFFSET &&
                  offsetof(cfm_text, cap) == CFM_TEXT_CAP_OFFSET && sizeof(cfm_text) == CFM_TEXT_SIZE,
              "cfm_text changed: update the CFM_TEXT_* offsets (the JIT reads them)");
#else
_Static_assert(offsetof(cfm_text, data) == CFM_TEXT_DATA_OFFSET &&
                   offsetof(cfm_text, len) == CFM_TEXT_LEN_OFFSET &&
                   offsetof(cfm_text, cap) == CFM_TEXT_CAP_OFFSET && sizeof(cfm_text) == CFM_TEXT_SIZE,
               "cfm_text changed: update the CFM_TEXT_* offsets (the JIT reads them)");
#endif

// cfm_slot is an 8-byte union of C types; clang warns that C++ gives it C linkage as a return type.
#ifdef __clang__
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wreturn-type-c-linkage"
#endif
#define ABI(ret, name, params) ret name params;
#include "runtime/abi.def"
#undef ABI
#ifdef __clang__
#pragma clang diagnostic pop
#endif

/// The address of the ABI function `name`, or 0 (for the JIT's symbol resolution). Defined in
/// the model floor (runtime/model/abi_model.cpp, library cfm_model), which has the core's
/// functions and its own to list.
void *cfm_abi_lookup(const char *name);

#ifdef __cplusplus
}
#endif
