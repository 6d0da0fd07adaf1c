// authorizer.cc — the administrator-only authorizer of the first platform slice.
#include "control/authorizer.h"

#include <string>

namespace maas {

Status AdminOnlyAuthorizer::check(const Principal& principal, std::string_view action, std::string_view scope) const {
  if (principal.is_admin) return Status::Ok();
  return permission_denied("principal '" + principal.name + "' may not perform '" + std::string(action) + "' on '" +
                           std::string(scope) + "'");
}

}  // namespace maas
