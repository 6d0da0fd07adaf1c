// authorizer_test.cc — action wildcards and provider names, scope inheritance, the built-in
// roles' boundaries, and the RBAC authorizer over a real (in-memory) store.
#include <gtest/gtest.h>

#include "control/authorizer.h"
#include "control/store.h"

namespace maas {
namespace {

const Role& builtin(const std::string& name) {
  static const std::vector<Role> roles = builtin_roles();
  for (const Role& r : roles) {
    if (r.name == name) return r;
  }
  ADD_FAILURE() << name;
  return roles[0];
}

TEST(Authorizer, ActionsAndWildcards) {
  EXPECT_EQ(normalize_action("Microsoft.MachineLearningServices/workspaces/serverlessEndpoints/*"),
            "workspaces/serverlessendpoints/*");
  EXPECT_EQ(normalize_action("Microsoft.SaaS/resources/write"), "saas/resources/write");
  EXPECT_EQ(normalize_action("Microsoft.MarketplaceOrdering/agreements/offers/plans/sign/action"),
            "marketplaceordering/agreements/offers/plans/sign/action");
  EXPECT_TRUE(action_matches("*", "anything/at/all"));
  EXPECT_TRUE(action_matches("*/read", "workspaces/serverlessendpoints/read"));
  EXPECT_FALSE(action_matches("*/read", "workspaces/serverlessendpoints/listkeys/action"));
  EXPECT_TRUE(action_matches("workspaces/*/read", "workspaces/usage/read"));
  EXPECT_FALSE(action_matches("workspaces/*/read", "workspaces/read"));
  EXPECT_TRUE(action_matches("a*b*c", "axxbyyc"));
  EXPECT_FALSE(action_matches("a*b*c", "axxbyy"));
  EXPECT_TRUE(validate_action("Microsoft.SaaS/resources/*").ok());
  EXPECT_FALSE(validate_action("bad action").ok());
  EXPECT_FALSE(validate_action("").ok());
}

TEST(Authorizer, Scopes) {
  EXPECT_TRUE(scope_covers("/", "/workspaces/a/serverlessEndpoints/e"));
  EXPECT_TRUE(scope_covers("/workspaces/a", "/workspaces/a"));
  EXPECT_TRUE(scope_covers("/workspaces/a", "/workspaces/a/serverlessEndpoints/e"));
  EXPECT_FALSE(scope_covers("/workspaces/a", "/workspaces/ab"));
  EXPECT_FALSE(scope_covers("/workspaces/a", "/"));
  EXPECT_TRUE(validate_scope("/").ok());
  EXPECT_TRUE(validate_scope("/workspaces/a").ok());
  EXPECT_TRUE(validate_scope("/workspaces/a/serverlessEndpoints/e").ok());
  EXPECT_FALSE(validate_scope("/workspaces").ok());
  EXPECT_FALSE(validate_scope("/workspaces/a/other/e").ok());
  EXPECT_FALSE(validate_scope("workspaces/a").ok());
  EXPECT_FALSE(validate_scope("/workspaces//x").ok());
}

TEST(Authorizer, BuiltinRoles) {
  const Role& owner = builtin("Owner");
  const Role& contributor = builtin("Contributor");
  const Role& reader = builtin("Reader");
  const Role& ds = builtin("Data Scientist");
  EXPECT_TRUE(role_allows(owner, "authorization/roleAssignments/write"));
  EXPECT_FALSE(role_allows(contributor, "authorization/roleAssignments/write"));
  EXPECT_TRUE(role_allows(contributor, "workspaces/serverlessEndpoints/write"));
  EXPECT_TRUE(role_allows(contributor, "quotas/write"));
  EXPECT_TRUE(role_allows(reader, "workspaces/serverlessEndpoints/read"));
  EXPECT_FALSE(role_allows(reader, "workspaces/serverlessEndpoints/listKeys/action"));
  EXPECT_FALSE(role_allows(reader, "workspaces/serverlessEndpoints/write"));
  EXPECT_TRUE(role_allows(ds, "workspaces/serverlessEndpoints/write"));
  EXPECT_TRUE(role_allows(ds, "Microsoft.MachineLearningServices/workspaces/marketplaceModelSubscriptions/write"));
  EXPECT_FALSE(role_allows(ds, "marketplaceOrdering/agreements/offers/plans/sign/action"));
  EXPECT_FALSE(role_allows(ds, "quotas/write"));
  EXPECT_FALSE(role_allows(ds, "platform/endpointLimits/write"));
  EXPECT_FALSE(role_allows(ds, "authorization/roleAssignments/write"));
}

TEST(Authorizer, RbacOverTheStore) {
  FakeClock clock;
  auto db = open_sqlite({":memory:"});
  ASSERT_TRUE(db.ok());
  auto store = Store::open(std::move(*db), clock);
  ASSERT_TRUE(store.ok());
  Store& st = **store;
  auto admin = st.create_principal("admin", "user", true);
  auto dana = st.create_principal("dana", "user", false);
  ASSERT_TRUE(admin.ok() && dana.ok());
  ASSERT_TRUE(st.seed_roles(builtin_roles()).ok());
  ASSERT_TRUE(st.create_assignment(dana->id, "role-data-scientist", "/workspaces/team-a", "admin").ok());
  RbacAuthorizer authz(st);
  EXPECT_TRUE(authz.check(*admin, "anything/write", "/workspaces/x").ok()) << "bootstrap admin holds Owner at /";
  EXPECT_TRUE(authz.check(*dana, "workspaces/serverlessEndpoints/write", "/workspaces/team-a").ok());
  EXPECT_TRUE(authz.check(*dana, "workspaces/serverlessEndpoints/delete", "/workspaces/team-a/serverlessEndpoints/e").ok());
  Status refused = authz.check(*dana, "workspaces/serverlessEndpoints/write", "/workspaces/team-b");
  EXPECT_EQ(refused.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(refused.message().find("'workspaces/serverlessEndpoints/write' at scope '/workspaces/team-b'"), std::string::npos);
  EXPECT_FALSE(authz.check(*dana, "workspaces/write", "/").ok());
  EXPECT_TRUE(authz.can_see(*dana, "/workspaces/team-a"));
  EXPECT_FALSE(authz.can_see(*dana, "/workspaces/team-b"));
  // An assignment on one endpoint makes its workspace visible, nothing more.
  auto eve = st.create_principal("eve", "user", false);
  ASSERT_TRUE(st.create_assignment(eve->id, "role-reader", "/workspaces/team-b/serverlessEndpoints/e", "admin").ok());
  EXPECT_TRUE(authz.can_see(*eve, "/workspaces/team-b"));
  EXPECT_FALSE(authz.check(*eve, "workspaces/serverlessEndpoints/read", "/workspaces/team-b").ok());
  EXPECT_TRUE(authz.check(*eve, "workspaces/serverlessEndpoints/read", "/workspaces/team-b/serverlessEndpoints/e").ok());
  // Deleting the principal removes its assignments; custom roles in use cannot be deleted.
  Role custom;
  custom.name = "narrow";
  custom.actions = {"workspaces/usage/read"};
  auto created = st.create_role(custom);
  ASSERT_TRUE(created.ok());
  ASSERT_TRUE(st.create_assignment(dana->id, created->id, "/", "admin").ok());
  EXPECT_EQ(st.delete_role("narrow").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(st.delete_role("Owner").code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(st.delete_principal("dana").ok());
  EXPECT_TRUE(st.delete_role("narrow").ok());
}

}  // namespace
}  // namespace maas
