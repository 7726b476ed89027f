// frontend_grammar.cpp — layer probe: as a source of the front end (cfm_frontend), it includes
// ANTLR's generated parser. Only the parse adapter sees it: "CfpParser.h" is not found.
#include "CfpParser.h"
