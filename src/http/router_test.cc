// router_test.cc — method + path routing: literals, parameters, 405 with the allowed methods,
// HEAD on GET routes, case sensitivity.
#include <gtest/gtest.h>

#include "http/router.h"

namespace maas::http {
namespace {

Router make_router() {
  Router r;
  r.add("GET", "/api/workspaces", 1);
  r.add("POST", "/api/workspaces", 2);
  r.add("GET", "/api/workspaces/{workspace}", 3);
  r.add("DELETE", "/api/workspaces/{workspace}/serverless-endpoints/{name}", 4);
  r.add("GET", "/api/workspaces/{workspace}/serverless-endpoints/{name}", 5);
  r.add("POST", "/api/workspaces/{workspace}/serverless-endpoints/{name}/regenerate-keys", 6);
  return r;
}

TEST(Router, LiteralsAndMethods) {
  Router r = make_router();
  EXPECT_EQ(r.match("GET", "/api/workspaces").route, 1);
  EXPECT_EQ(r.match("POST", "/api/workspaces").route, 2);
  Router::Match m = r.match("PUT", "/api/workspaces");
  EXPECT_EQ(m.kind, Router::Match::kMethodNotAllowed);
  EXPECT_EQ(m.allowed, "GET, POST");
  EXPECT_EQ(r.match("HEAD", "/api/workspaces").route, 1);
}

TEST(Router, Parameters) {
  Router r = make_router();
  Router::Match m = r.match("GET", "/api/workspaces/ws1/serverless-endpoints/ep-a");
  ASSERT_EQ(m.kind, Router::Match::kFound);
  EXPECT_EQ(m.route, 5);
  EXPECT_EQ(m.param("workspace"), "ws1");
  EXPECT_EQ(m.param("name"), "ep-a");
  EXPECT_EQ(m.param("other"), "");
  EXPECT_EQ(r.match("POST", "/api/workspaces/w/serverless-endpoints/e/regenerate-keys").route, 6);
  EXPECT_EQ(r.match("DELETE", "/api/workspaces/w/serverless-endpoints/e").route, 4);
}

TEST(Router, NotFoundAndCase) {
  Router r = make_router();
  EXPECT_EQ(r.match("GET", "/api/Workspaces").kind, Router::Match::kNotFound);
  EXPECT_EQ(r.match("GET", "/api/workspaces/a/b").kind, Router::Match::kNotFound);
  EXPECT_EQ(r.match("GET", "/").kind, Router::Match::kNotFound);
  EXPECT_EQ(r.match("GET", "/api/workspaces/w/serverless-endpoints").kind, Router::Match::kNotFound);
}

}  // namespace
}  // namespace maas::http
