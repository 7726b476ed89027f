// ec2_error.cpp — the code and HTTP status of each Ec2Error, from ec2_errors.def.
#include "net/ec2_error.h"

namespace cfm::net {

std::string_view ec2ErrorCode(Ec2Error e) {
  switch (e) {
#define X(name, code, status)                                                                                \
  case Ec2Error::name:                                                                                       \
    return code;
#include "net/ec2_errors.def"
#undef X
  }
  return "InternalError";
}

int ec2HttpStatus(Ec2Error e) {
  switch (e) {
#define X(name, code, status)                                                                                \
  case Ec2Error::name:                                                                                       \
    return status;
#include "net/ec2_errors.def"
#undef X
  }
  return 500;
}

} // namespace cfm::net
