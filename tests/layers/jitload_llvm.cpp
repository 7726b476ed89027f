// jitload_llvm.cpp — layer probe: as a source of the JIT's loader (cfm_jitload), it includes LLVM.
// cfmc runs cached objects through jitload without loading the engine, so jitload must never see
// LLVM: "llvm/Object/ObjectFile.h" is not found.
#include "llvm/Object/ObjectFile.h"
