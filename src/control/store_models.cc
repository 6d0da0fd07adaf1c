// store_models.cc — the model catalog (built-in and custom entries, registered weights, the
// serverless pool size) and the marketplace offerings with their prices.
#include "control/store.h"
#include "control/store_internal.h"

namespace maas {
namespace {

using store_internal::opt;

constexpr const char* kModelColumns =
    "SELECT name, display_name, publisher, family, task, license, parameters, context_length, description, custom, "
    "weights_path, weights_sha256, weights_bytes, weights_registered_at, serverless_instances, created_at FROM models";

Model model_from(const SqlRow& r) {
  Model m;
  m.name = r.text(0);
  m.display_name = r.text(1);
  m.publisher = r.text(2);
  m.family = r.text(3);
  m.task = r.text(4);
  m.license = r.text(5);
  m.parameters = r.integer(6);
  m.context_length = static_cast<int32_t>(r.integer(7));
  m.description = r.text(8);
  m.custom = r.integer(9) != 0;
  m.weights_path = r.text(10);
  m.weights_sha256 = r.text(11);
  m.weights_bytes = r.integer(12);
  m.weights_registered_at = r.integer(13);
  m.serverless_instances = static_cast<int32_t>(r.integer(14));
  m.created_at = r.integer(15);
  return m;
}

constexpr const char* kOfferingColumns =
    "SELECT id, model_name, publisher, offer_id, plan_id, terms, price_input_micro, price_output_micro, updated_at "
    "FROM offerings";

Offering offering_from(const SqlRow& r) {
  return Offering{r.text(0), r.text(1), r.text(2), r.text(3), r.text(4), r.text(5),
                  r.integer(6), r.integer(7), r.integer(8)};
}

std::vector<SqlValue> model_values(const Model& m, int64_t now) {
  return {m.name, m.display_name, m.publisher, m.family, m.task, m.license, m.parameters,
          int64_t{m.context_length}, m.description, int64_t{m.custom ? 1 : 0}, opt(m.weights_path),
          opt(m.weights_sha256), opt(m.weights_bytes), opt(m.weights_registered_at),
          int64_t{m.serverless_instances}, now};
}

constexpr const char* kInsertModel =
    "INSERT INTO models (name, display_name, publisher, family, task, license, parameters, context_length, "
    "description, custom, weights_path, weights_sha256, weights_bytes, weights_registered_at, serverless_instances, "
    "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
constexpr const char* kInsertOffering =
    "INSERT INTO offerings (id, model_name, publisher, offer_id, plan_id, price_input_micro, price_output_micro, terms, "
    "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";

std::vector<SqlValue> offering_values(const Offering& o, int64_t now) {
  return {o.id, o.model_name, o.publisher, o.offer_id, o.plan_id, o.price_input_micro, o.price_output_micro, o.terms,
          now};
}

}  // namespace

Status Store::seed_catalog(const std::vector<Model>& models, const std::vector<Offering>& offerings) {
  return in_transaction([&]() -> StatusOr<int> {
           const int64_t now = now_ms();
           for (const Model& m : models) {
             ASSIGN_OR_RETURN(auto rows, db_->query("SELECT 1 FROM models WHERE name = ?", {m.name}));
             if (rows.empty()) RETURN_IF_ERROR(db_->exec(kInsertModel, model_values(m, now)).status());
           }
           for (const Offering& o : offerings) {
             ASSIGN_OR_RETURN(auto rows, db_->query("SELECT 1 FROM offerings WHERE id = ?", {o.id}));
             if (rows.empty()) RETURN_IF_ERROR(db_->exec(kInsertOffering, offering_values(o, now)).status());
           }
           return 0;
         })
      .status();
}

StatusOr<Model> Store::add_custom_model(const Model& model, const Offering& offering) {
  return in_transaction([&]() -> StatusOr<Model> {
    const int64_t now = now_ms();
    // A removed model of the same name comes back (its row stayed for the ledger).
    ASSIGN_OR_RETURN(auto removed, db_->query("SELECT 1 FROM models WHERE name = ? AND deleted_at IS NOT NULL",
                                              {model.name}));
    if (!removed.empty()) {
      RETURN_IF_ERROR(db_->exec("DELETE FROM offerings WHERE model_name = ? AND NOT EXISTS (SELECT 1 FROM "
                                "marketplace_subscriptions s WHERE s.offering_id = offerings.id)",
                                {model.name})
                          .status());
      RETURN_IF_ERROR(db_->exec("UPDATE models SET display_name = ?, publisher = ?, family = ?, task = ?, license = ?, "
                                "parameters = ?, context_length = ?, description = ?, custom = 1, weights_path = ?, "
                                "weights_sha256 = ?, weights_bytes = ?, weights_registered_at = ?, deleted_at = NULL "
                                "WHERE name = ?",
                                {model.display_name, model.publisher, model.family, model.task, model.license,
                                 model.parameters, int64_t{model.context_length}, model.description,
                                 opt(model.weights_path), opt(model.weights_sha256), opt(model.weights_bytes),
                                 opt(model.weights_registered_at), model.name})
                          .status());
      ASSIGN_OR_RETURN(auto has_offer, db_->query("SELECT 1 FROM offerings WHERE model_name = ?", {model.name}));
      if (has_offer.empty()) RETURN_IF_ERROR(db_->exec(kInsertOffering, offering_values(offering, now)).status());
      Model out = model;
      out.created_at = now;
      return out;
    }
    auto r = db_->exec(kInsertModel, model_values(model, now));
    if (!r.ok() && r.status().code() == StatusCode::kAlreadyExists) {
      return already_exists("a model named '" + model.name + "' already exists");
    }
    RETURN_IF_ERROR(r.status());
    auto o = db_->exec(kInsertOffering, offering_values(offering, now));
    if (!o.ok() && o.status().code() == StatusCode::kAlreadyExists) {
      return already_exists("an offering with id '" + offering.id + "' already exists");
    }
    RETURN_IF_ERROR(o.status());
    Model out = model;
    out.created_at = now;
    return out;
  });
}

StatusOr<std::vector<Model>> Store::list_models() {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(auto rows, db_->query(std::string(kModelColumns) +
                                         " WHERE deleted_at IS NULL ORDER BY custom, family, parameters, name"));
  std::vector<Model> out;
  for (const SqlRow& r : rows) out.push_back(model_from(r));
  return out;
}

StatusOr<Model> Store::model(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(auto rows, db_->query(std::string(kModelColumns) + " WHERE name = ? AND deleted_at IS NULL", {name}));
  if (rows.empty()) return not_found("model '" + name + "' is not in the catalog");
  return model_from(rows[0]);
}

Status Store::set_model_weights(const std::string& name, const std::string& path, const std::string& sha256,
                                int64_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(int64_t n, db_->exec("UPDATE models SET weights_path = ?, weights_sha256 = ?, weights_bytes = ?, "
                                        "weights_registered_at = ? WHERE name = ?",
                                        {path, opt(sha256), bytes, now_ms(), name}));
  if (n == 0) return not_found("model '" + name + "' is not in the catalog");
  return Status::Ok();
}

Status Store::clear_model_weights(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(int64_t n, db_->exec("UPDATE models SET weights_path = NULL, weights_sha256 = NULL, "
                                        "weights_bytes = NULL, weights_registered_at = NULL WHERE name = ?",
                                        {name}));
  if (n == 0) return not_found("model '" + name + "' is not in the catalog");
  return Status::Ok();
}

Status Store::set_serverless_instances(const std::string& name, int32_t instances) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(int64_t n, db_->exec("UPDATE models SET serverless_instances = ? WHERE name = ?",
                                        {int64_t{instances}, name}));
  if (n == 0) return not_found("model '" + name + "' is not in the catalog");
  return Status::Ok();
}

Status Store::delete_model(const std::string& name) {
  return in_transaction([&]() -> StatusOr<int> {
           ASSIGN_OR_RETURN(auto rows, db_->query("SELECT custom FROM models WHERE name = ?", {name}));
           if (rows.empty()) return not_found("model '" + name + "' is not in the catalog");
           if (rows[0].integer(0) == 0) {
             return failed_precondition("'" + name + "' is a catalog model: remove its weights instead");
           }
           ASSIGN_OR_RETURN(auto used, db_->query("SELECT name FROM serverless_endpoints WHERE model_name = ? AND "
                                                  "deleted_at IS NULL", {name}));
           if (!used.empty()) {
             return failed_precondition("model '" + name + "' is used by serverless endpoint '" + used[0].text(0) + "'");
           }
           ASSIGN_OR_RETURN(auto subs, db_->query("SELECT s.name FROM marketplace_subscriptions s JOIN offerings o ON "
                                                  "o.id = s.offering_id WHERE o.model_name = ?", {name}));
           if (!subs.empty()) {
             return failed_precondition("model '" + name + "' has marketplace subscription '" + subs[0].text(0) + "'");
           }
           ASSIGN_OR_RETURN(auto ghosts, db_->query("SELECT 1 FROM serverless_endpoints WHERE model_name = ?", {name}));
           if (!ghosts.empty()) {  // deleted endpoints on record still name it: keep the row, hidden
             RETURN_IF_ERROR(db_->exec("UPDATE models SET deleted_at = ?, weights_path = NULL, weights_sha256 = NULL, "
                                       "weights_bytes = NULL WHERE name = ?",
                                       {now_ms(), name})
                                 .status());
             return 0;
           }
           RETURN_IF_ERROR(db_->exec("DELETE FROM offerings WHERE model_name = ?", {name}).status());
           RETURN_IF_ERROR(db_->exec("DELETE FROM models WHERE name = ?", {name}).status());
           return 0;
         })
      .status();
}

StatusOr<std::vector<Offering>> Store::list_offerings() {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(auto rows, db_->query(std::string(kOfferingColumns) + " ORDER BY id"));
  std::vector<Offering> out;
  for (const SqlRow& r : rows) out.push_back(offering_from(r));
  return out;
}

StatusOr<Offering> Store::offering(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(auto rows, db_->query(std::string(kOfferingColumns) + " WHERE id = ?", {id}));
  if (rows.empty()) return not_found("offering '" + id + "' not found");
  return offering_from(rows[0]);
}

StatusOr<Offering> Store::offering_for_model(const std::string& model_name) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(auto rows, db_->query(std::string(kOfferingColumns) + " WHERE model_name = ?", {model_name}));
  if (rows.empty()) return not_found("model '" + model_name + "' has no marketplace offering");
  return offering_from(rows[0]);
}

Status Store::set_offering_prices(const std::string& id, int64_t input_micro, int64_t output_micro) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(int64_t n, db_->exec("UPDATE offerings SET price_input_micro = ?, price_output_micro = ?, "
                                        "updated_at = ? WHERE id = ?",
                                        {input_micro, output_micro, now_ms(), id}));
  if (n == 0) return not_found("offering '" + id + "' not found");
  return Status::Ok();
}

}  // namespace maas
