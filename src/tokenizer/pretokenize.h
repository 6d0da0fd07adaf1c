// pretokenize.h — splits text into the words byte-level BPE merges within, by hand-written
// matchers equivalent to the tokenizers' regexes (no regex engine; linear time):
//
//   kLlama3: (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
//            ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//   kGpt2:   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//
// The case-insensitive contractions are ASCII-only, as the JavaScript reference rewrites them.
// Matching runs over code points; a byte that is not valid UTF-8 counts as one U+FFFD (a symbol),
// and the words returned are views of the original bytes, so the split loses nothing.
// Thread safety: pure function.
#pragma once

#include <string_view>
#include <vector>

namespace maas {

enum class PreTokenizer { kLlama3, kGpt2 };

// Appends the words of `text` to *words, in order; their concatenation is `text`.
void pretokenize(PreTokenizer kind, std::string_view text, std::vector<std::string_view>* words);

}  // namespace maas
