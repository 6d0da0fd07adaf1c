// rng.h — the sampler's random numbers: xoshiro256** seeded through splitmix64.
//
// Small (32 bytes of state), fast (a few shifts per draw) and fully determined by its 64-bit
// seed, so a request with `seed` replays the same tokens on any machine and any build: the
// generator, the seeding and the float conversions below are exact integer arithmetic, never a
// standard-library distribution (whose output differs between library versions).
// Thread safety: a value; one thread uses an Rng at a time.
#pragma once

#include <cstdint>
#include <random>

namespace maas {

class Rng {
 public:
  // Expands the seed into the 256-bit state with splitmix64 (the seeding xoshiro's authors
  // recommend); every seed, 0 included, gives a valid non-zero state.
  explicit Rng(uint64_t seed) {
    uint64_t x = seed;
    for (uint64_t& s : s_) s = splitmix64(x);
  }

  // A generator seeded from std::random_device (for requests without a seed).
  static Rng from_random_device() {
    std::random_device rd;
    uint64_t seed = (static_cast<uint64_t>(rd()) << 32) ^ static_cast<uint64_t>(rd());
    return Rng(seed);
  }

  // The next 64 uniformly distributed bits.
  uint64_t next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, 1) with 24 random bits (every value exactly representable; never 1).
  float uniform() { return static_cast<float>(next() >> 40) * 0x1.0p-24f; }
  // Uniform in [0, 1) with 53 random bits (what the sampler uses to pick a token).
  double uniform_double() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static uint64_t splitmix64(uint64_t& x) {
    uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  uint64_t s_[4];
};

}  // namespace maas
