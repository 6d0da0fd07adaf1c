// store_test.cc — the Store over an in-memory SQLite database: migrations, the uniqueness rules
// of SPEC §1 held by the schema, failed creates leaving nothing behind, and usage reports whose
// totals equal the sum of the records.
#include <gtest/gtest.h>

#include "control/catalog.h"
#include "control/migrations.h"
#include "control/secrets.h"
#include "control/store.h"

namespace maas {
namespace {

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = open_sqlite({":memory:"});
    ASSERT_TRUE(db.ok()) << db.status().message();
    auto s = Store::open(std::move(*db), clock_);
    ASSERT_TRUE(s.ok()) << s.status().message();
    store_ = std::move(*s);
    ASSERT_TRUE(store_->seed_catalog(builtin_models(), builtin_offerings()).ok());
    auto ws = store_->create_workspace("default", "local");
    ASSERT_TRUE(ws.ok());
    ws_ = *ws;
  }

  ServerlessEndpoint endpoint(const std::string& name, const std::string& model) {
    ServerlessEndpoint e;
    e.id = new_id("ep-");
    e.workspace_id = ws_.id;
    e.name = name;
    e.region = "local";
    e.model_name = model;
    e.offering_id = offering_slug(model) + "-offer";
    e.state = "Creating";
    auto master = MasterSecret::for_tests(std::string(32, 'k'));
    e.primary = new_endpoint_key(master, e.id, KeySlot::kPrimary);
    e.secondary = new_endpoint_key(master, e.id, KeySlot::kSecondary);
    return e;
  }

  int64_t count(const std::string& table) {
    auto rows = store_->database().query("SELECT COUNT(*) FROM " + table);
    return rows.ok() ? rows->at(0).integer(0) : -1;
  }

  FakeClock clock_;
  std::unique_ptr<Store> store_;
  Workspace ws_;
};

TEST_F(StoreTest, MigratesOnceAndSeedsTheCatalog) {
  auto rows = store_->database().query("SELECT MAX(version) FROM schema_migrations");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->at(0).integer(0), latest_schema_version());
  EXPECT_EQ(*migrate(store_->database(), 0), latest_schema_version());  // idempotent
  auto models = store_->list_models();
  ASSERT_TRUE(models.ok());
  EXPECT_EQ(models->size(), 12u);
  auto m = store_->model("Meta-Llama-3.1-405B-Instruct");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->context_length, 131072);
  EXPECT_EQ(m->license, "llama3.1");
  EXPECT_EQ(m->task, "chat-completions");
  EXPECT_EQ(store_->model("Meta-Llama-3-8B")->task, "text-generation");
  auto o = store_->offering_for_model("Llama-2-7b-chat");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->publisher, "Meta");
  EXPECT_GT(o->price_input_micro, 0);
  EXPECT_FALSE(o->terms.empty());
  // Seeding again never overwrites what an administrator changed.
  ASSERT_TRUE(store_->set_offering_prices(o->id, 1, 2).ok());
  ASSERT_TRUE(store_->seed_catalog(builtin_models(), builtin_offerings()).ok());
  EXPECT_EQ(store_->offering(o->id)->price_input_micro, 1);
}

TEST_F(StoreTest, NewerSchemaIsRefused) {
  ASSERT_TRUE(store_->database().exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'x', 0)").ok());
  auto v = migrate(store_->database(), 0);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("newer"), std::string::npos);
}

TEST_F(StoreTest, WorkspaceNamesAreUnique) {
  auto again = store_->create_workspace("default", "local");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(count("workspaces"), 1);
  EXPECT_EQ(store_->workspace("nope").status().code(), StatusCode::kNotFound);
}

TEST_F(StoreTest, OneSubscriptionPerOffering) {
  auto o = *store_->offering_for_model("Meta-Llama-3-8B-Instruct");
  ASSERT_TRUE(store_->create_subscription(ws_.id, "llama3", o).ok());
  auto dup = store_->create_subscription(ws_.id, "other-name", o);
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.status().code(), StatusCode::kAlreadyExists);
  EXPECT_NE(dup.status().message().find("llama3"), std::string::npos);
  EXPECT_EQ(count("marketplace_subscriptions"), 1);
  ASSERT_TRUE(store_->delete_subscription(ws_.id, "llama3").ok());
  EXPECT_EQ(store_->delete_subscription(ws_.id, "llama3").code(), StatusCode::kNotFound);
  EXPECT_FALSE(store_->subscription_for_offering(ws_.id, o.id)->has_value());
}

TEST_F(StoreTest, EndpointRules) {
  ASSERT_TRUE(store_->create_endpoint(endpoint("ep-one", "Meta-Llama-3-8B-Instruct")).ok());
  // Same name in the region: refused, nothing written.
  auto same_name = store_->create_endpoint(endpoint("ep-one", "Llama-2-7b-chat"));
  ASSERT_FALSE(same_name.ok());
  EXPECT_NE(same_name.status().message().find("already exists in region"), std::string::npos);
  // Second endpoint for the same model in the workspace: refused.
  auto same_model = store_->create_endpoint(endpoint("ep-two", "Meta-Llama-3-8B-Instruct"));
  ASSERT_FALSE(same_model.ok());
  EXPECT_NE(same_model.status().message().find("one serverless deployment per model"), std::string::npos);
  EXPECT_EQ(count("serverless_endpoints"), 1);
  // After deletion the name and the model are free again; the deleted row stays for the ledger.
  auto e = *store_->endpoint(ws_.id, "ep-one");
  ASSERT_TRUE(store_->mark_endpoint_deleted(e.id).ok());
  EXPECT_EQ(store_->endpoint(ws_.id, "ep-one").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(store_->create_endpoint(endpoint("ep-one", "Meta-Llama-3-8B-Instruct")).ok());
  EXPECT_EQ(count("serverless_endpoints"), 2);
  EXPECT_EQ(store_->list_endpoints(ws_.id)->size(), 1u);
}

TEST_F(StoreTest, KeysAreStoredAsDigestsOnly) {
  auto master = MasterSecret::for_tests(std::string(32, 'k'));
  ServerlessEndpoint e = endpoint("keyed", "Llama-2-7b-chat");
  ASSERT_TRUE(store_->create_endpoint(e).ok());
  const std::string key = endpoint_key_value(master, e.id, KeySlot::kPrimary, e.primary);
  EXPECT_EQ(secret_digest(key), e.primary.hash);
  EXPECT_EQ(key.substr(0, kKeyPrefixChars), e.primary.prefix);
  auto rows = store_->database().query("SELECT * FROM serverless_endpoints");
  ASSERT_TRUE(rows.ok());
  for (const SqlValue& v : rows->at(0).values) {
    if (std::holds_alternative<std::string>(v)) {
      EXPECT_EQ(std::get<std::string>(v).find(key), std::string::npos);
    }
  }
  // Regenerating one slot changes only that slot.
  EndpointKey fresh = new_endpoint_key(master, e.id, KeySlot::kPrimary);
  ASSERT_TRUE(store_->set_endpoint_key(e.id, KeySlot::kPrimary, fresh).ok());
  auto after = *store_->endpoint_by_id(e.id);
  EXPECT_EQ(after.primary.hash, fresh.hash);
  EXPECT_NE(after.primary.hash, e.primary.hash);
  EXPECT_EQ(after.secondary.hash, e.secondary.hash);
}

TEST_F(StoreTest, CustomModelsAndWeights) {
  Model m = default_model_entry(2048, 1000);
  ASSERT_TRUE(store_->add_custom_model(m, custom_offering(m, 100, 200)).ok());
  EXPECT_EQ(store_->add_custom_model(m, custom_offering(m, 1, 1)).status().code(), StatusCode::kAlreadyExists);
  ASSERT_TRUE(store_->set_model_weights(m.name, "/models/x.gguf", "ab", 42).ok());
  EXPECT_EQ(store_->model(m.name)->weights_path, "/models/x.gguf");
  EXPECT_EQ(store_->delete_model("Llama-2-7b-chat").code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(store_->delete_model(m.name).ok());
  EXPECT_EQ(store_->model(m.name).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(count("offerings"), 12);
}

TEST_F(StoreTest, IdempotencyKeys) {
  Store::IdempotentResponse r{"POST", "/api/x", "h", 201, "{}"};
  ASSERT_TRUE(store_->save_idempotent_response("p", "k1", r).ok());
  ASSERT_TRUE(store_->save_idempotent_response("p", "k1", Store::IdempotentResponse{"POST", "/api/y", "h2", 500, "x"}).ok());
  auto got = store_->idempotent_response("p", "k1");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->path, "/api/x");  // the first answer stays
  EXPECT_FALSE(store_->idempotent_response("q", "k1")->has_value());
}

TEST_F(StoreTest, TokensResolveToTheirPrincipal) {
  auto p = store_->create_principal("admin", "user", true);
  ASSERT_TRUE(p.ok());
  NewToken t = new_api_token();
  ASSERT_TRUE(store_->add_token(p->id, "bootstrap", t.digest, t.prefix, 0).ok());
  auto who = store_->principal_by_token_hash(t.digest);
  ASSERT_TRUE(who.ok());
  EXPECT_TRUE(who->is_admin);
  EXPECT_EQ(store_->principal_by_token_hash(secret_digest("maas_wrong")).status().code(), StatusCode::kUnauthenticated);
  NewToken expiring = new_api_token();
  ASSERT_TRUE(store_->add_token(p->id, "short", expiring.digest, expiring.prefix, clock_.now_unix_ms() + 1000).ok());
  EXPECT_TRUE(store_->principal_by_token_hash(expiring.digest).ok());
  clock_.advance_ms(1001);
  EXPECT_FALSE(store_->principal_by_token_hash(expiring.digest).ok());
}

}  // namespace
}  // namespace maas
