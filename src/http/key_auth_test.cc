// key_auth_test.cc — which key a request presents (Bearer any case, api-key, never Basic or the
// query) and the constant-time comparison.
#include <gtest/gtest.h>

#include "http/key_auth.h"

namespace maas::http {
namespace {

Request with(std::vector<Header> headers) {
  Request r;
  r.headers = std::move(headers);
  r.query = "api-key=from-query";
  return r;
}

TEST(KeyAuth, PresentedKey) {
  EXPECT_EQ(presented_key(with({{"Authorization", "Bearer k1"}})).value(), "k1");
  EXPECT_EQ(presented_key(with({{"authorization", "bearer k2"}})).value(), "k2");
  EXPECT_EQ(presented_key(with({{"api-key", "k3"}})).value(), "k3");
  EXPECT_FALSE(presented_key(with({{"Authorization", "Basic dXNlcjpwYXNz"}})).has_value());
  EXPECT_EQ(presented_key(with({{"Authorization", "Basic x"}, {"api-key", "k4"}})).value(), "k4");
  EXPECT_FALSE(presented_key(with({})).has_value());  // the query string is never read
  EXPECT_FALSE(presented_key(with({{"Authorization", "Bearer"}})).has_value());
}

TEST(KeyAuth, ConstantTimeEqual) {
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abd", "abc"));
  EXPECT_FALSE(constant_time_equal("ab", "abc"));
  EXPECT_FALSE(constant_time_equal("abcd", "abc"));
  EXPECT_FALSE(constant_time_equal("", "abc"));
  EXPECT_TRUE(constant_time_equal("", ""));
  EXPECT_TRUE(key_in("k2", {"k1", "k2"}));
  EXPECT_FALSE(key_in("k3", {"k1", "k2"}));
  EXPECT_FALSE(key_in("k1", {}));
}

}  // namespace
}  // namespace maas::http
