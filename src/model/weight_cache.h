// weight_cache.h — the shared weights cache: one re-laid copy of a model's matrices per machine,
// in a file that every process loading the model maps read-only and MAP_SHARED, so the kernel
// keeps one set of pages for all of them (load_options.h says when; weight_cache_format.h draws
// the file).
//
// A load looks for DIR/<sha256>.<variant>.v1.relaid and checks it (header, sizes, the plan's
// matrices, every copy's checksum). Missing or unusable (the reason logged): it takes an flock on
// DIR/<name>.lock, waiting up to LoadOptions::weights_cache_wait_ms while another process holds
// it; looks again (that process may have built it); else builds it: a temporary file in DIR,
// space reserved up front (a full disk is an error, not a SIGBUS), the matrices re-laid into it
// through a shared mapping, the header written last, fsync, rename over the name, fsync of DIR.
// A crash at any point leaves either no file or a whole one, and the lock dies with its process.
// Temporary files left by a crashed builder are removed by the next one.
//
// The file is mapped at a 2 MiB-aligned address and advised MADV_HUGEPAGE, and the builder drops
// the 4 KiB pages its writes left in the page cache: where the file system keeps large folios
// (ext4 and XFS on recent kernels) a reader's faults then read the file back as 2 MiB folios and
// map them with huge pages, so decode keeps the TLB reach of the private copy's huge pages
// (measured, 6.18 on ext4: FilePmdMapped covers the re-laid weights, and decode runs as fast as
// from the private copy). Elsewhere the pages are 4 KiB: shared, but with more TLB misses (before
// the drop, 1B Q4_0 workers on the 4 KiB-mapped file decoded ~15-20% slower, on a busy machine).
// The file must not be truncated or rewritten in place while mapped (a rebuild renames a new
// file over it, which leaves existing mappings intact).
#pragma once

#include <string>

#include "gguf/gguf.h"
#include "model/load_options.h"
#include "model/weight_packing.h"

namespace maas {

// Points the plan's matrices into the cache file for options (found, or built), w.relaid =
// kCacheMapped or kCacheBuilt. False, with the reason logged, when the cache cannot be used (the
// caller then makes a private copy). options must be valid and use the cache.
bool relay_through_cache(LlamaWeights& w, const RelayPlan& plan, const GgufFile& file, const LoadOptions& options);

// DIR/<sha256>.<variant>.v1.relaid for these options on this CPU's kernel variant.
std::string weights_cache_path(const LoadOptions& options);

}  // namespace maas
