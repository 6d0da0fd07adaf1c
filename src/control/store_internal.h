// store_internal.h — helpers shared by the store_*.cc files (not part of the Store's interface).
#pragma once

#include <mutex>
#include <string>

#include "control/store.h"

namespace maas {

template <typename Fn>
auto Store::in_transaction(Fn&& fn) -> decltype(fn()) {
  std::lock_guard<std::mutex> lock(mu_);
  Transaction tx(*db_);
  RETURN_IF_ERROR(tx.begin());
  auto result = fn();
  if (!result.ok()) return result;  // the Transaction rolls back
  RETURN_IF_ERROR(tx.commit());
  return result;
}

namespace store_internal {

// SQL NULL for 0 / "" (optional columns).
inline SqlValue opt(int64_t v) { return v == 0 ? SqlValue{} : SqlValue{v}; }
inline SqlValue opt(const std::string& v) { return v.empty() ? SqlValue{} : SqlValue{v}; }

// A StatusOr<T> from a Status for the transaction helper's uniform return type.
struct Done {};

}  // namespace store_internal
}  // namespace maas
