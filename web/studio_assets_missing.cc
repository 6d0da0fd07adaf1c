// studio_assets_missing.cc — the studio table when the build had no node or esbuild
// (web/CMakeLists.txt): one page that says how to get the real one.
#include "control/studio.h"

namespace maas {

const std::vector<StudioAsset>& studio_assets() {
  static const std::vector<StudioAsset> kAssets = {
      {"/", "text/html; charset=utf-8",
       "<!doctype html><meta charset=utf-8><title>maas studio</title><p>The studio was not built: this "
       "binary was built without node and the npm packages (run scripts/install-deps.sh, then build "
       "again). The management API is at /api/ and the endpoints at /endpoints/&lt;name&gt;/."},
  };
  return kAssets;
}

}  // namespace maas
