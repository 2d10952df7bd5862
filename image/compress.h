// Layer compression: none, gzip (parallel libdeflate) and zstd (libzstd, multi-threaded).
// Output depends only on the input bytes and the level, never on the thread count.
#pragma once
#include "image/sink.h"

#include <memory>
#include <string>
#include <string_view>

namespace strata {

enum class Compression { None, Gzip, Zstd };

// Accepts "none", "gzip"/"gz", "zstd"/"zst"; throws InputError naming `what` otherwise.
Compression parse_compression(std::string_view name, std::string_view what);
std::string compression_name(Compression c);

// Threads used by compressors: $STRATA_THREADS, else the CPUs this process may use.
unsigned compression_threads();

// A sink that compresses what it is given and writes the result to `out`.
std::unique_ptr<ByteSink> make_compressor(Compression c, ByteSink& out);

// Detects gzip/zstd magic at the start of a buffer.
Compression sniff_compression(const void* data, size_t size);

} // namespace strata
