// migrations.h — the numbered schema migrations of the control-plane database. Each runs once,
// in order, inside a transaction, and is recorded in schema_migrations; a database whose
// recorded version is newer than this binary knows is refused (an old binary must not write
// to a newer schema).
// Thread safety: call from one thread before the Store is shared.
#pragma once

#include "control/database.h"

namespace maas {

int latest_schema_version();
// Applies every migration newer than the database's version. Returns the version reached.
StatusOr<int> migrate(Database& db, int64_t now_ms);

}  // namespace maas
