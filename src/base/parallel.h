// Work spread over the machine's cores, for CPU-bound batches (hashing, sealing, decrypting).
#pragma once

#include <cstddef>
#include <functional>

namespace hokan {

// Calls fn(i) once for every i in [0, n), on up to `max_threads` threads (the caller's
// included; never more than the machine's cores or than n), and returns when all calls have
// returned. Indices are handed out in increasing order, one at a time. `fn` must be safe to
// call concurrently for different indices.
void ParallelFor(std::size_t n, const std::function<void(std::size_t)>& fn,
                 unsigned max_threads = 4);

}  // namespace hokan
