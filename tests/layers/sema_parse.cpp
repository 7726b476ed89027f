// sema_parse.cpp — layer probe: as a source of the checker (cfm_sema), it includes the parse
// adapter beside it. The checker works on the AST only: "parse/parser.h" is not found.
#include "parse/parser.h"
