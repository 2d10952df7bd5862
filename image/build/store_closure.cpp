#include "image/build/store_closure.h"

namespace strata {

// Interim: the closure library (image/closure) is being written; until it lands no
// store paths are added. Replaced by the scan/graph-based closure.
std::vector<std::string> contents_store_closure(const Spec&) { return {}; }

} // namespace strata
