// authorizer.cc — built-in roles, action matching with wildcards, scope inheritance, and the
// role-based authorizer.
#include "control/authorizer.h"

#include <cctype>

#include "control/store.h"

namespace maas {

std::vector<Role> builtin_roles() {
  // The seed's custom-role list (marketplace agreements, SaaS resources, the workspace's
  // subscriptions and serverless endpoints) is what a Data Scientist holds minus signing.
  return {
      Role{kOwnerRoleId, "Owner", "Everything, including assigning roles.", true, {"*"}, {}, 0},
      Role{"role-contributor", "Contributor", "Everything but access control (roles, assignments, principals).", true,
           {"*"}, {"authorization/*/write", "authorization/*/delete", "authorization/*/action"}, 0},
      Role{"role-reader", "Reader", "Read everything it is assigned on; change nothing (keys are not readable).",
           true, {"*/read"}, {}, 0},
      Role{"role-data-scientist", "Data Scientist",
           "Create and use endpoints and deployments in a workspace; may not sign marketplace agreements, change "
           "quotas, limits or prices, or manage access.",
           true,
           {"workspaces/read", "workspaces/*/read", "workspaces/serverlessEndpoints/*",
            "workspaces/onlineEndpoints/*", "workspaces/marketplaceModelSubscriptions/*",
            "marketplaceOrdering/agreements/offers/plans/read", "models/read", "saas/resources/read"},
           {"marketplaceOrdering/agreements/offers/plans/sign/action"}, 0},
  };
}

std::string normalize_action(std::string_view action) {
  static const std::pair<const char*, const char*> kProviders[] = {
      {"microsoft.machinelearningservices/", ""},
      {"microsoft.marketplaceordering/", "marketplaceordering/"},
      {"microsoft.marketplace/", "marketplace/"},
      {"microsoft.saas/", "saas/"},
  };
  std::string out;
  out.reserve(action.size());
  for (char c : action) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const auto& [from, to] : kProviders) {
    if (out.rfind(from, 0) == 0) return to + out.substr(std::string_view(from).size());
  }
  return out;
}

Status validate_action(std::string_view action) {
  if (action.empty() || action.size() > 200) return invalid_argument("actions must be 1 to 200 characters");
  for (char c : action) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '/' && c != '*' && c != '.' && c != '-' && c != '_') {
      return invalid_argument("actions may contain only letters, digits, '/', '*', '.', '-' and '_'");
    }
  }
  return Status::Ok();
}

bool action_matches(std::string_view p, std::string_view a) {
  // Glob with '*' only, iterative with one backtrack point.
  size_t pi = 0, ai = 0, star = std::string_view::npos, mark = 0;
  while (ai < a.size()) {
    if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = ai;
    } else if (pi < p.size() && p[pi] == a[ai]) {
      ++pi;
      ++ai;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      ai = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

bool role_allows(const Role& role, std::string_view action) {
  const std::string a = normalize_action(action);
  bool allowed = false;
  for (const std::string& p : role.actions) allowed |= action_matches(normalize_action(p), a);
  if (!allowed) return false;
  for (const std::string& p : role.not_actions) {
    if (action_matches(normalize_action(p), a)) return false;
  }
  return true;
}

bool scope_covers(std::string_view assigned, std::string_view scope) {
  if (assigned == "/") return true;
  if (scope.size() < assigned.size() || scope.compare(0, assigned.size(), assigned) != 0) return false;
  return scope.size() == assigned.size() || scope[assigned.size()] == '/';
}

Status validate_scope(std::string_view scope) {
  if (scope == "/") return Status::Ok();
  std::vector<std::string_view> parts;
  size_t i = 1;
  if (scope.empty() || scope[0] != '/') return invalid_argument("scope must start with '/'");
  while (i <= scope.size()) {
    size_t j = scope.find('/', i);
    if (j == std::string_view::npos) j = scope.size();
    if (j == i) return invalid_argument("scope has an empty segment");
    parts.push_back(scope.substr(i, j - i));
    i = j + 1;
  }
  const bool ws = parts.size() >= 2 && parts[0] == "workspaces";
  if (ws && parts.size() == 2) return Status::Ok();
  if (ws && parts.size() == 4 && (parts[2] == "serverlessEndpoints" || parts[2] == "onlineEndpoints")) {
    return Status::Ok();
  }
  return invalid_argument("scope must be '/', '/workspaces/<name>' or '/workspaces/<name>/serverlessEndpoints/<name>'");
}

Status RbacAuthorizer::check(const Principal& principal, std::string_view action, std::string_view scope) const {
  auto grants = store_.grants(principal.id);
  if (!grants.ok()) return grants.status();
  for (const auto& [assignment, role] : *grants) {
    if (scope_covers(assignment.scope, scope) && role_allows(role, action)) return Status::Ok();
  }
  return permission_denied("principal '" + principal.name + "' may not perform '" + std::string(action) +
                           "' at scope '" + std::string(scope) + "'");
}

bool RbacAuthorizer::can_see(const Principal& principal, std::string_view scope) const {
  auto grants = store_.grants(principal.id);
  if (!grants.ok()) return false;
  for (const auto& [assignment, role] : *grants) {
    if (scope_covers(assignment.scope, scope) || scope_covers(scope, assignment.scope)) return true;
  }
  return false;
}

}  // namespace maas
