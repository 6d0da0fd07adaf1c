// names_test.cc — the resource name rule (SPEC §1) and the master secret / key derivation.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "control/names.h"
#include "control/secrets.h"

namespace maas {
namespace {

TEST(Names, EndpointNameRule) {
  for (const char* ok : {"abc", "a-1", "Llama3-chat", "a2345678901234567890123456789012"}) {
    EXPECT_TRUE(validate_resource_name(ok, "name").ok()) << ok;
  }
  struct Bad {
    const char* name;
    const char* why;
  };
  for (Bad b : {Bad{"ab", "3 to 32"}, Bad{"a23456789012345678901234567890123", "3 to 32"}, Bad{"1abc", "letter"},
                Bad{"-abc", "letter"}, Bad{"ab_c", "only letters"}, Bad{"ab c", "only letters"},
                Bad{"ab.c", "only letters"}, Bad{"ab\nc", "only letters"}, Bad{"", "3 to 32"}}) {
    Status s = validate_resource_name(b.name, "serverless endpoint name");
    ASSERT_FALSE(s.ok()) << b.name;
    EXPECT_NE(s.message().find(b.why), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("serverless endpoint name"), std::string::npos);
  }
}

TEST(Secrets, MasterSecretFileAndDerivation) {
  const std::string path = std::filesystem::temp_directory_path() / ("maas-master-" + std::to_string(::getpid()));
  std::filesystem::remove(path);
  auto a = MasterSecret::load_or_create(path);
  ASSERT_TRUE(a.ok()) << a.status().message();
  struct stat st{};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto b = MasterSecret::load_or_create(path);  // the same secret again
  ASSERT_TRUE(b.ok());
  EndpointKey k = new_endpoint_key(*a, "ep-1", KeySlot::kPrimary);
  EXPECT_EQ(endpoint_key_value(*b, "ep-1", KeySlot::kPrimary, k), endpoint_key_value(*a, "ep-1", KeySlot::kPrimary, k));
  EXPECT_EQ(endpoint_key_value(*a, "ep-1", KeySlot::kPrimary, k).size(), 48u);
  EXPECT_NE(endpoint_key_value(*a, "ep-1", KeySlot::kSecondary, k), endpoint_key_value(*a, "ep-1", KeySlot::kPrimary, k));
  EXPECT_NE(endpoint_key_value(*a, "ep-2", KeySlot::kPrimary, k), endpoint_key_value(*a, "ep-1", KeySlot::kPrimary, k));
  EndpointKey k2 = new_endpoint_key(*a, "ep-1", KeySlot::kPrimary);
  EXPECT_NE(k2.hash, k.hash) << "a new nonce gives a new key";
  ::chmod(path.c_str(), 0644);
  EXPECT_FALSE(MasterSecret::load_or_create(path).ok()) << "a world-readable secret is refused";
  std::filesystem::remove(path);
}

TEST(Secrets, ApiTokens) {
  NewToken t = new_api_token();
  EXPECT_EQ(t.token.rfind("maas_", 0), 0u);
  EXPECT_EQ(t.token.size(), 53u);
  EXPECT_EQ(t.digest, secret_digest(t.token));
  EXPECT_EQ(t.token.find(t.prefix), 0u);
  EXPECT_NE(new_api_token().token, t.token);
}

}  // namespace
}  // namespace maas
