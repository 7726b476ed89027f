// frontend_llvm.cpp — layer probe: as a source of the front end (cfm_frontend), it includes LLVM.
// Only the JIT sees LLVM: "llvm/IR/Module.h" is not found.
#include "llvm/IR/Module.h"
