// authorizer.h — the one check every management call passes (SPEC §3 access control): may this
// principal perform this action at this scope?
//
// Actions are named as in the seed's permission list, without the resource-provider prefix:
// "workspaces/serverlessEndpoints/write", "workspaces/marketplaceModelSubscriptions/delete",
// "marketplaceOrdering/agreements/offers/plans/sign/action", ... (the full list is
// management_actions() in management_api.h). Scopes are paths: "/" (the platform),
// "/workspaces/<name>", "/workspaces/<name>/serverlessEndpoints/<endpoint>".
// Today only the administrator (the bootstrap principal) may do anything; role-based access
// (Owner, Contributor, Reader, Data Scientist, custom roles with wildcards) replaces this
// implementation in the access-control issue without changing any caller.
// Thread safety: implementations are called from many threads at once.
#pragma once

#include <string_view>

#include "base/status.h"
#include "control/resources.h"

namespace maas {

class Authorizer {
 public:
  virtual ~Authorizer() = default;
  // Ok, or kPermissionDenied naming the action and the scope.
  virtual Status check(const Principal& principal, std::string_view action, std::string_view scope) const = 0;
};

class AdminOnlyAuthorizer final : public Authorizer {
 public:
  Status check(const Principal& principal, std::string_view action, std::string_view scope) const override;
};

}  // namespace maas
