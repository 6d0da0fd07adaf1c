// serve_bootstrap.cc — first-start setup of the platform.
#include "serve_bootstrap.h"

#include "base/log.h"
#include "control/authorizer.h"
#include "control/catalog.h"
#include "control/secrets.h"

namespace maas {
namespace {

constexpr const char* kBootstrapped = "bootstrap.done";

StatusOr<std::string> issue_admin_token(Store& store, bool create_principal) {
  Principal admin;
  if (create_principal) {
    ASSIGN_OR_RETURN(admin, store.create_principal("admin", "user", true));
  } else {
    ASSIGN_OR_RETURN(admin, store.principal("admin"));
  }
  NewToken t = new_api_token();
  RETURN_IF_ERROR(store.add_token(admin.id, "bootstrap", t.digest, t.prefix, 0).status());
  return t.token;
}

}  // namespace

StatusOr<BootstrapResult> bootstrap(Store& store, Platform& platform, const BootstrapOptions& options) {
  RETURN_IF_ERROR(store.seed_catalog(builtin_models(), builtin_offerings()));
  RETURN_IF_ERROR(store.seed_roles(builtin_roles()));
  BootstrapResult result;
  ASSIGN_OR_RETURN(auto done, store.setting(kBootstrapped));
  if (done.has_value()) {
    if (options.new_admin_token) {
      ASSIGN_OR_RETURN(result.admin_token, issue_admin_token(store, false));
    }
    return result;
  }
  result.first_start = true;
  ASSIGN_OR_RETURN(auto admins, store.database().query("SELECT COUNT(*) FROM principals WHERE name = 'admin'"));
  ASSIGN_OR_RETURN(result.admin_token, issue_admin_token(store, admins[0].integer(0) == 0));
  RETURN_IF_ERROR(store.seed_roles(builtin_roles()));  // the administrator holds Owner at "/"
  auto ws = store.workspace(kDefaultWorkspace);
  if (!ws.ok()) RETURN_IF_ERROR(platform.create_workspace(kDefaultWorkspace, options.region).status());
  if (!options.default_model_path.empty()) {
    auto model = store.model(kDefaultModelName);
    if (!model.ok() || model->weights_path.empty()) {
      // Prices of the demo offering: small, so that cost reports show real arithmetic.
      RETURN_IF_ERROR(platform.register_model(kDefaultModelName, options.default_model_path, true, 100, 200).status());
    }
    ASSIGN_OR_RETURN(Workspace w, store.workspace(kDefaultWorkspace));
    ASSIGN_OR_RETURN(Offering o, store.offering_for_model(kDefaultModelName));
    ASSIGN_OR_RETURN(auto sub, store.subscription_for_offering(w.id, o.id));
    if (!sub) RETURN_IF_ERROR(platform.subscribe(kDefaultWorkspace, "", kDefaultModelName).status());
    auto ep = store.endpoint(w.id, kDefaultEndpoint);
    if (!ep.ok()) RETURN_IF_ERROR(platform.create_endpoint(kDefaultWorkspace, kDefaultEndpoint, kDefaultModelName).status());
  }
  RETURN_IF_ERROR(store.set_setting(kBootstrapped, "1"));
  LOG_INFO("bootstrap: administrator, workspace '%s'%s created", kDefaultWorkspace,
           options.default_model_path.empty() ? "" : ", default model and endpoint");
  return result;
}

}  // namespace maas
