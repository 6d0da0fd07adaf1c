// authorizer.h — the one check every management call passes (SPEC §3 access control): may this
// principal perform this action at this scope?
//
// Actions are named as in the seed's permission list, the resource provider shortened:
//   Microsoft.MachineLearningServices/workspaces/...   -> workspaces/...
//   Microsoft.MarketplaceOrdering/...                  -> marketplaceOrdering/...
//   Microsoft.Marketplace/...                          -> marketplace/...
//   Microsoft.SaaS/...                                 -> saas/...
// and the platform's own: models/..., quotas/..., platform/..., authorization/... (the full list
// is in docs/access-control.md and, per route, in /api/openapi.json as x-maas-action).
// Matching is case-insensitive; '*' in a role's action matches any run of characters.
// Scopes are paths, each inheriting from those above it: "/" (the platform),
// "/workspaces/<w>", "/workspaces/<w>/serverlessEndpoints/<e>".
// A principal may do an action at a scope when one of its role assignments, at that scope or
// above, has a role whose actions match it and whose not-actions do not.
// Thread safety: implementations are called from many threads at once.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "control/resources.h"

namespace maas {

class Store;

class Authorizer {
 public:
  virtual ~Authorizer() = default;
  // Ok, or kPermissionDenied naming the action and the scope.
  virtual Status check(const Principal& principal, std::string_view action, std::string_view scope) const = 0;
  // True when the principal holds a role at, above or below `scope`: it may know the scope
  // exists (a workspace it has no role in answers 404, as if absent).
  virtual bool can_see(const Principal& principal, std::string_view scope) const = 0;
};

// Role-based access control over the Store's roles and assignments.
class RbacAuthorizer final : public Authorizer {
 public:
  explicit RbacAuthorizer(Store& store) : store_(store) {}
  Status check(const Principal& principal, std::string_view action, std::string_view scope) const override;
  bool can_see(const Principal& principal, std::string_view scope) const override;

 private:
  Store& store_;
};

// The built-in roles: Owner, Contributor, Reader, Data Scientist.
std::vector<Role> builtin_roles();
inline constexpr const char* kOwnerRoleId = "role-owner";

// "Microsoft.SaaS/resources/write" -> "saas/resources/write"; lower-cased.
std::string normalize_action(std::string_view action);
// Kept for custom roles: 1-200 characters of letters, digits, '/', '*', '.', '-', '_'.
Status validate_action(std::string_view action);
bool action_matches(std::string_view pattern, std::string_view action);  // both normalized
bool role_allows(const Role& role, std::string_view action);
// True when an assignment at `assigned` covers `scope` ("/" covers all; "/workspaces/a" covers
// "/workspaces/a" and "/workspaces/a/...").
bool scope_covers(std::string_view assigned, std::string_view scope);
// "/", "/workspaces/<w>" or "/workspaces/<w>/serverlessEndpoints/<e>", else kInvalidArgument.
Status validate_scope(std::string_view scope);

}  // namespace maas
