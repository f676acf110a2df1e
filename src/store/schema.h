// Creates or migrates the schema on one connection (schema.cpp).
#pragma once

#include "store/db.h"

namespace wattprint::store {

// Brings the database to SchemaVersion(), in one transaction. NotSupported
// when the database is newer than this build.
Status Migrate(Connection& c);

}  // namespace wattprint::store
