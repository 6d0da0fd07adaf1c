// sessions_test.cc — the studio's sessions: secrets and CSRF tokens, cookies read and written,
// and the Store's session rows (digest only, bound to the token, absolute and idle expiry,
// revocation and sign-out end them).
#include <gtest/gtest.h>

#include "control/secrets.h"
#include "control/sessions.h"
#include "control/store.h"

namespace maas {
namespace {

http::Request with_headers(std::vector<http::Header> headers, std::string method = "GET") {
  http::Request r;
  r.method = std::move(method);
  r.path = "/api/session";
  r.headers = std::move(headers);
  return r;
}

TEST(Sessions, SecretsAreRandomAndStoredAsDigests) {
  const NewSession a = new_session_secret(), b = new_session_secret();
  EXPECT_NE(a.secret, b.secret);
  EXPECT_EQ(a.secret.rfind("maas_s_", 0), 0u);
  EXPECT_EQ(a.secret.size(), 7u + 64u);
  EXPECT_EQ(a.digest, secret_digest(a.secret));
  EXPECT_EQ(a.digest.find(a.secret), std::string::npos);
}

TEST(Sessions, CsrfTokenIsBoundToTheSecret) {
  const NewSession s = new_session_secret();
  const std::string csrf = csrf_token_for(s.secret);
  EXPECT_EQ(csrf.size(), 48u);
  EXPECT_EQ(csrf, csrf_token_for(s.secret));
  EXPECT_NE(csrf, csrf_token_for(new_session_secret().secret));
  EXPECT_NE(csrf, s.digest.substr(0, 48));  // the database's digest does not give it away
  EXPECT_TRUE(csrf_token_matches(with_headers({{"X-CSRF-Token", csrf}}, "POST"), s.secret));
  EXPECT_FALSE(csrf_token_matches(with_headers({{"x-csrf-token", csrf.substr(1)}}, "POST"), s.secret));
  EXPECT_FALSE(csrf_token_matches(with_headers({}, "POST"), s.secret));
  EXPECT_FALSE(csrf_token_matches(with_headers({{"x-csrf-token", ""}}, "POST"), s.secret));
}

TEST(Sessions, CookiesAreReadFromEveryCookieHeader) {
  EXPECT_EQ(cookie_value(with_headers({{"Cookie", "a=1; maas_session=s3cret; b=2"}}), kSessionCookie), "s3cret");
  EXPECT_EQ(cookie_value(with_headers({{"cookie", "a=1"}, {"cookie", "maas_session=\"q\""}}), kSessionCookie), "q");
  EXPECT_EQ(cookie_value(with_headers({{"Cookie", "xmaas_session=1; maas_session_x=2"}}), kSessionCookie),
            std::nullopt);
  EXPECT_EQ(cookie_value(with_headers({}), kSessionCookie), std::nullopt);
  EXPECT_EQ(cookie_value(with_headers({{"Cookie", "maas_session="}}), kSessionCookie), "");
}

TEST(Sessions, CookieAttributes) {
  const std::string c = session_cookie("maas_s_x", 12LL * 3600 * 1000, false);
  EXPECT_EQ(c, "maas_session=maas_s_x; Path=/api; HttpOnly; SameSite=Strict; Max-Age=43200");
  EXPECT_NE(session_cookie("v", 1000, true).find("; Secure"), std::string::npos);
  EXPECT_EQ(cleared_session_cookie(false), "maas_session=; Path=/api; HttpOnly; SameSite=Strict; Max-Age=0");
  EXPECT_TRUE(request_is_https(with_headers({{"X-Forwarded-Proto", "https"}})));
  EXPECT_FALSE(request_is_https(with_headers({{"X-Forwarded-Proto", "http"}})));
}

TEST(Sessions, SafeMethodsAndOrigins) {
  EXPECT_TRUE(is_safe_method("GET"));
  EXPECT_TRUE(is_safe_method("HEAD"));
  EXPECT_FALSE(is_safe_method("POST"));
  EXPECT_FALSE(is_safe_method("DELETE"));
  EXPECT_FALSE(is_safe_method("PATCH"));
  EXPECT_FALSE(cross_origin(with_headers({{"Host", "127.0.0.1:8080"}})));
  EXPECT_FALSE(cross_origin(with_headers({{"Host", "127.0.0.1:8080"}, {"Origin", "http://127.0.0.1:8080"}})));
  EXPECT_TRUE(cross_origin(with_headers({{"Host", "127.0.0.1:8080"}, {"Origin", "http://evil.example"}})));
  EXPECT_TRUE(cross_origin(with_headers({{"Host", "127.0.0.1:8080"}, {"Origin", "null"}})));
  EXPECT_TRUE(cross_origin(with_headers({{"Host", "127.0.0.1:8080"}, {"Origin", "http://127.0.0.1:9090"}})));
}

class SessionStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = open_sqlite({":memory:"});
    ASSERT_TRUE(db.ok());
    auto s = Store::open(std::move(*db), clock_);
    ASSERT_TRUE(s.ok()) << s.status().message();
    store_ = std::move(*s);
    auto p = store_->create_principal("alice", "user", false);
    ASSERT_TRUE(p.ok());
    alice_ = *p;
    auto t = store_->add_token(alice_.id, "studio", token_.digest, token_.prefix, 0);
    ASSERT_TRUE(t.ok());
    token_id_ = t->id;
  }
  int64_t n_sessions() {
    auto rows = store_->database().query("SELECT COUNT(*) FROM sessions");
    return rows.ok() ? rows->at(0).integer(0) : -1;
  }

  FakeClock clock_;
  std::unique_ptr<Store> store_;
  Principal alice_;
  NewToken token_ = new_api_token();
  std::string token_id_;
};

TEST_F(SessionStoreTest, SignInOpensASessionKeptAsADigest) {
  const NewSession s = new_session_secret();
  auto opened = store_->create_session(token_.digest, s.digest, kSessionLifetimeMs);
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  EXPECT_EQ(opened->principal.name, "alice");
  EXPECT_EQ(opened->token_id, token_id_);
  EXPECT_EQ(opened->expires_at, clock_.now_unix_ms() + kSessionLifetimeMs);
  auto rows = store_->database().query("SELECT secret_hash FROM sessions");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ(rows->at(0).text(0), s.digest);  // never the secret itself
  auto found = store_->session_by_secret_hash(s.digest, kSessionIdleMs);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->principal.id, alice_.id);
}

TEST_F(SessionStoreTest, AWrongTokenOpensNothing) {
  auto r = store_->create_session(new_api_token().digest, new_session_secret().digest, kSessionLifetimeMs);
  EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(n_sessions(), 0);
}

TEST_F(SessionStoreTest, SessionsExpireAbsolutelyAndWhenIdle) {
  const NewSession s = new_session_secret();
  ASSERT_TRUE(store_->create_session(token_.digest, s.digest, kSessionLifetimeMs).ok());
  // Used every hour: alive until the absolute lifetime ends.
  for (int h = 1; h < 12; ++h) {
    clock_.advance_ms(3600 * 1000);
    ASSERT_TRUE(store_->session_by_secret_hash(s.digest, kSessionIdleMs).ok()) << "hour " << h;
  }
  clock_.advance_ms(3600 * 1000);
  EXPECT_EQ(store_->session_by_secret_hash(s.digest, kSessionIdleMs).status().code(), StatusCode::kUnauthenticated);
  // Idle: a session left alone longer than the idle time ends (and its row goes).
  const NewSession idle = new_session_secret();
  ASSERT_TRUE(store_->create_session(token_.digest, idle.digest, kSessionLifetimeMs).ok());
  EXPECT_EQ(n_sessions(), 1);  // the expired one was swept at sign-in
  clock_.advance_ms(kSessionIdleMs);
  EXPECT_EQ(store_->session_by_secret_hash(idle.digest, kSessionIdleMs).status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(n_sessions(), 0);
}

TEST_F(SessionStoreTest, AnExpiringTokenBoundsTheSession) {
  const NewToken shortlived = new_api_token();
  ASSERT_TRUE(
      store_->add_token(alice_.id, "short", shortlived.digest, shortlived.prefix, clock_.now_unix_ms() + 60000).ok());
  const NewSession s = new_session_secret();
  auto opened = store_->create_session(shortlived.digest, s.digest, kSessionLifetimeMs);
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(opened->expires_at, clock_.now_unix_ms() + 60000);
  clock_.advance_ms(60000);
  EXPECT_FALSE(store_->session_by_secret_hash(s.digest, kSessionIdleMs).ok());
}

TEST_F(SessionStoreTest, RevokingTheTokenOrDeletingThePrincipalEndsIt) {
  const NewSession s = new_session_secret();
  ASSERT_TRUE(store_->create_session(token_.digest, s.digest, kSessionLifetimeMs).ok());
  ASSERT_TRUE(store_->revoke_token(token_id_).ok());
  EXPECT_EQ(store_->session_by_secret_hash(s.digest, kSessionIdleMs).status().code(), StatusCode::kUnauthenticated);

  const NewToken other = new_api_token();
  ASSERT_TRUE(store_->add_token(alice_.id, "other", other.digest, other.prefix, 0).ok());
  const NewSession s2 = new_session_secret();
  ASSERT_TRUE(store_->create_session(other.digest, s2.digest, kSessionLifetimeMs).ok());
  ASSERT_TRUE(store_->delete_principal("alice").ok());  // its tokens go, and their sessions with them
  EXPECT_FALSE(store_->session_by_secret_hash(s2.digest, kSessionIdleMs).ok());
  EXPECT_EQ(n_sessions(), 0);
}

TEST_F(SessionStoreTest, SignOutDeletesTheRow) {
  const NewSession s = new_session_secret();
  ASSERT_TRUE(store_->create_session(token_.digest, s.digest, kSessionLifetimeMs).ok());
  ASSERT_TRUE(store_->delete_session(s.digest).ok());
  EXPECT_EQ(n_sessions(), 0);
  EXPECT_FALSE(store_->session_by_secret_hash(s.digest, kSessionIdleMs).ok());
  EXPECT_TRUE(store_->delete_session(s.digest).ok());  // twice is fine
}

}  // namespace
}  // namespace maas
